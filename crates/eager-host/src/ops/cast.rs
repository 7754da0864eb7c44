//! The dtype conversion of [`HostTensor`].

use super::*;

fn cast_arr<T: Elem, U: HostElem>(a: &Arr<T>) -> HostTensor {
    map(a, U::cast_from)
}

fn cast_to<T: Elem>(a: &Arr<T>, dtype: DType) -> HostTensor {
    use eager_core::{bf16, f16};
    match dtype {
        DType::Bool => cast_arr::<T, bool>(a),
        DType::U8 => cast_arr::<T, u8>(a),
        DType::I8 => cast_arr::<T, i8>(a),
        DType::I16 => cast_arr::<T, i16>(a),
        DType::U16 => cast_arr::<T, u16>(a),
        DType::I32 => cast_arr::<T, i32>(a),
        DType::U32 => cast_arr::<T, u32>(a),
        DType::I64 => cast_arr::<T, i64>(a),
        DType::U64 => cast_arr::<T, u64>(a),
        DType::F16 => cast_arr::<T, f16>(a),
        DType::BF16 => cast_arr::<T, bf16>(a),
        DType::F32 => cast_arr::<T, f32>(a),
        DType::F64 => cast_arr::<T, f64>(a),
    }
}

/// The ops of the contract ([`BackendTensor`](eager_core::BackendTensor)),
/// with its names and meanings, for the backends that run them on the host.
impl HostTensor {
    /// [`CastOps::cast`](eager_core::CastOps::cast) on the host.
    pub fn cast(&self, dtype: DType) -> Result<Self> {
        if self.dtype() == dtype {
            return Ok(self.clone());
        }
        Ok(each!(self, a => cast_to(a, dtype)))
    }
}
