//! Host buffers: the row-major data that crosses between a backend and
//! the user, and between backends.

use crate::{DType, Element, Result, Scalar};
use half::{bf16, f16};

/// A row-major host buffer of one dtype: what crosses between a backend and
/// the user (`to_vec`, `from_vec`) and between backends.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum HostData {
    Bool(Vec<bool>),
    U8(Vec<u8>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    U16(Vec<u16>),
    I32(Vec<i32>),
    U32(Vec<u32>),
    I64(Vec<i64>),
    U64(Vec<u64>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// Runs `$body` with `$v` bound to the vector of whichever variant the
/// [`HostData`] `$h` is.
#[macro_export]
macro_rules! each_host {
    ($h:expr, $v:ident => $body:expr) => {
        match $h {
            $crate::HostData::Bool($v) => $body,
            $crate::HostData::U8($v) => $body,
            $crate::HostData::I8($v) => $body,
            $crate::HostData::I16($v) => $body,
            $crate::HostData::U16($v) => $body,
            $crate::HostData::I32($v) => $body,
            $crate::HostData::U32($v) => $body,
            $crate::HostData::I64($v) => $body,
            $crate::HostData::U64($v) => $body,
            $crate::HostData::F16($v) => $body,
            $crate::HostData::BF16($v) => $body,
            $crate::HostData::F32($v) => $body,
            $crate::HostData::F64($v) => $body,
        }
    };
}

impl HostData {
    /// The buffer's dtype.
    pub fn dtype(&self) -> DType {
        each_host!(self, v => elem_dtype(v.as_slice()))
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        each_host!(self, v => v.len())
    }
    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `n` copies of `value` (converted to `dtype` with [`Scalar::cast`]).
    pub fn filled(op: &'static str, value: Scalar, dtype: DType, n: usize) -> Result<HostData> {
        Ok(match value.cast(op, dtype)? {
            Scalar::Bool(v) => HostData::Bool(vec![v; n]),
            Scalar::U8(v) => HostData::U8(vec![v; n]),
            Scalar::I8(v) => HostData::I8(vec![v; n]),
            Scalar::I16(v) => HostData::I16(vec![v; n]),
            Scalar::U16(v) => HostData::U16(vec![v; n]),
            Scalar::I32(v) => HostData::I32(vec![v; n]),
            Scalar::U32(v) => HostData::U32(vec![v; n]),
            Scalar::I64(v) => HostData::I64(vec![v; n]),
            Scalar::U64(v) => HostData::U64(vec![v; n]),
            Scalar::F16(v) => HostData::F16(vec![v; n]),
            Scalar::BF16(v) => HostData::BF16(vec![v; n]),
            Scalar::F32(v) => HostData::F32(vec![v; n]),
            Scalar::F64(v) => HostData::F64(vec![v; n]),
        })
    }
    /// The element at `i` as a [`Scalar`], if there is one.
    pub fn get(&self, i: usize) -> Option<Scalar> {
        each_host!(self, v => v.get(i).map(|x| x.to_scalar()))
    }
    /// The values converted to `f64` (for printing and comparing).
    pub fn to_f64s(&self) -> Vec<f64> {
        each_host!(self, v => v.iter().map(|x| x.to_f64()).collect())
    }
    /// The values from `f64`s rounded (floats) or truncated with wrapping
    /// (integers) to `dtype`: how test data and fixtures are built.
    pub fn from_f64s(dtype: DType, v: &[f64]) -> HostData {
        fn conv<T: Element>(v: &[f64]) -> Vec<T> {
            v.iter().map(|&x| T::from_f64_lossy(x)).collect()
        }
        match dtype {
            DType::Bool => HostData::Bool(conv(v)),
            DType::U8 => HostData::U8(conv(v)),
            DType::I8 => HostData::I8(conv(v)),
            DType::I16 => HostData::I16(conv(v)),
            DType::U16 => HostData::U16(conv(v)),
            DType::I32 => HostData::I32(conv(v)),
            DType::U32 => HostData::U32(conv(v)),
            DType::I64 => HostData::I64(conv(v)),
            DType::U64 => HostData::U64(conv(v)),
            DType::F16 => HostData::F16(conv(v)),
            DType::BF16 => HostData::BF16(conv(v)),
            DType::F32 => HostData::F32(conv(v)),
            DType::F64 => HostData::F64(conv(v)),
        }
    }
    /// The buffer of `dtype` whose raw bytes (native endianness, as
    /// [`as_bytes`](Self::as_bytes) gives them) are `bytes`; a bool is any
    /// non-zero byte. A trailing partial element is dropped: callers pass
    /// whole elements.
    ///
    /// ```
    /// use eager_core::{DType, HostData};
    /// let h = HostData::I16(vec![-2, 300]);
    /// assert_eq!(HostData::from_ne_bytes(DType::I16, h.as_bytes().to_vec()), h);
    /// ```
    pub fn from_ne_bytes(dtype: DType, bytes: Vec<u8>) -> HostData {
        fn chunks<const N: usize, T>(b: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N)
                .map(|c| f(c.try_into().unwrap_or([0; N])))
                .collect()
        }
        let b = &bytes;
        match dtype {
            DType::Bool => HostData::Bool(b.iter().map(|&x| x != 0).collect()),
            DType::U8 => HostData::U8(bytes),
            DType::I8 => HostData::I8(chunks(b, i8::from_ne_bytes)),
            DType::I16 => HostData::I16(chunks(b, i16::from_ne_bytes)),
            DType::U16 => HostData::U16(chunks(b, u16::from_ne_bytes)),
            DType::I32 => HostData::I32(chunks(b, i32::from_ne_bytes)),
            DType::U32 => HostData::U32(chunks(b, u32::from_ne_bytes)),
            DType::I64 => HostData::I64(chunks(b, i64::from_ne_bytes)),
            DType::U64 => HostData::U64(chunks(b, u64::from_ne_bytes)),
            DType::F16 => HostData::F16(chunks(b, f16::from_ne_bytes)),
            DType::BF16 => HostData::BF16(chunks(b, bf16::from_ne_bytes)),
            DType::F32 => HostData::F32(chunks(b, f32::from_ne_bytes)),
            DType::F64 => HostData::F64(chunks(b, f64::from_ne_bytes)),
        }
    }
    /// `n` zeros of `dtype` (allocated zeroed: pages the OS hands out
    /// zeroed are not touched until written).
    pub fn zeroed(dtype: DType, n: usize) -> HostData {
        match dtype {
            DType::Bool => HostData::Bool(vec![false; n]),
            DType::U8 => HostData::U8(vec![0; n]),
            DType::I8 => HostData::I8(vec![0; n]),
            DType::I16 => HostData::I16(vec![0; n]),
            DType::U16 => HostData::U16(vec![0; n]),
            DType::I32 => HostData::I32(vec![0; n]),
            DType::U32 => HostData::U32(vec![0; n]),
            DType::I64 => HostData::I64(vec![0; n]),
            DType::U64 => HostData::U64(vec![0; n]),
            DType::F16 => HostData::F16(vec![f16::ZERO; n]),
            DType::BF16 => HostData::BF16(vec![bf16::ZERO; n]),
            DType::F32 => HostData::F32(vec![0.0; n]),
            DType::F64 => HostData::F64(vec![0.0; n]),
        }
    }
    /// The raw bytes, writable, for filling the buffer from a file or a
    /// foreign buffer; `None` for bool, whose bytes must stay 0 or 1.
    pub fn as_bytes_mut(&mut self) -> Option<&mut [u8]> {
        if let HostData::Bool(_) = self {
            return None;
        }
        Some(each_host!(self, v => {
            let n = std::mem::size_of_val(v.as_slice());
            // SAFETY: every element type but bool is plain old data for
            // which every bit pattern is valid (bool is excluded above).
            unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), n) }
        }))
    }
    /// Reinterprets the buffer as its raw bytes (native endianness).
    pub fn as_bytes(&self) -> &[u8] {
        each_host!(self, v => {
            let n = std::mem::size_of_val(v.as_slice());
            // SAFETY: every element type is plain old data without padding
            // (bool is one byte, 0 or 1), so its bytes may be read.
            unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), n) }
        })
    }
}

fn elem_dtype<T: Element>(_: &[T]) -> DType {
    T::DTYPE
}
