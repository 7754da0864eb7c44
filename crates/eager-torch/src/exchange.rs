//! Zero-copy exchange of host memory with libtorch (see
//! [`eager_core::exchange`]).
//!
//! Lending: a CPU tensor that is row-major contiguous lends its memory,
//! kept alive by a detached handle to the same storage.
//!
//! Adopting: libtorch wraps the foreign memory in a tensor whose storage
//! calls back into Rust to drop the buffer's owner when libtorch frees it,
//! that is when the last tensor or view sharing that storage is gone
//! (including tensors handed out by `into_raw`). tch's `from_blob` has no
//! such deleter, so `src/adopt.cpp` (compiled by build.rs) calls
//! `at::for_blob(..).context(owner, release)`.
//!
//! The emulated `u16` and `u32` live in wider signed storage (`i32`,
//! `i64`), so their bytes differ from the buffer's: they are neither lent
//! nor adopted, but widened in one copy. `u64` lives in `i64` bit for bit
//! and is exchanged like the others.

use crate::{dtype_of, error, kind, tag, TorchTensor};
use eager_core::exchange::Owner;
use eager_core::{Backend, DType, Error, HostBuffer, HostData, Result};
use std::ffi::{c_char, c_int, c_void, CStr};
use tch::{Kind, Tensor};

type ReleaseFn = unsafe extern "C" fn(*mut c_void);

extern "C" {
    /// src/adopt.cpp: a heap `at::Tensor*` (tch's handle) over `ndims`
    /// sizes at `dims` of `scalar_type` at `data`; `release(ctx)` runs
    /// exactly once, when libtorch frees the storage or, on an error (null
    /// returned, `*err` set), before it returns.
    fn eager_torch_adopt(
        data: *mut c_void,
        dims: *const i64,
        ndims: usize,
        scalar_type: c_int,
        release: ReleaseFn,
        ctx: *mut c_void,
        err: *mut *mut c_char,
    ) -> *mut torch_sys::C_tensor;
    /// Frees an error message of `eager_torch_adopt`.
    fn eager_torch_free_error(err: *mut c_char);
}

/// The storage's deleter: drops the owner boxed by [`adopt_parts`]. libtorch
/// may call it on any thread (the owner is `Send`).
unsafe extern "C" fn release_owner(ctx: *mut c_void) {
    // SAFETY: `ctx` is the `Box<Owner>` leaked by `adopt_parts`, and the
    // shim calls this exactly once for it.
    let owner = unsafe { Box::from_raw(ctx.cast::<Owner>()) };
    // A panicking `Drop` must not unwind into libtorch; its payload is
    // forgotten, not dropped, since dropping it could panic again.
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(owner))) {
        std::mem::forget(payload);
    }
}

/// c10's `ScalarType` number of a storage kind (c10/core/ScalarType.h).
fn scalar_type(k: Kind) -> Option<c_int> {
    Some(match k {
        Kind::Uint8 => 0,
        Kind::Int8 => 1,
        Kind::Int16 => 2,
        Kind::Int => 3,
        Kind::Int64 => 4,
        Kind::Half => 5,
        Kind::Float => 6,
        Kind::Double => 7,
        Kind::Bool => 11,
        Kind::BFloat16 => 15,
        _ => return None,
    })
}

/// Calls the shim (src/adopt.cpp) to make a libtorch tensor over `ptr`
/// whose storage drops `owner` when libtorch frees it; the shim's message
/// on an error (`None` if even that failed), the owner then released.
///
/// # Safety
/// `ptr` must address the bytes of the `dims` sizes of scalar type `st`,
/// aligned for it and valid while `owner` lives.
unsafe fn shim_adopt(
    ptr: *const u8,
    dims: &[i64],
    st: c_int,
    owner: Owner,
) -> std::result::Result<Tensor, Option<String>> {
    let ctx = Box::into_raw(Box::new(owner)).cast::<c_void>();
    let mut err: *mut c_char = std::ptr::null_mut();
    // SAFETY: the caller's promise for `ptr`; the owner (boxed at `ctx`)
    // now belongs to the shim, which drops it through `release_owner`
    // exactly once, when libtorch frees the storage or on an error before
    // returning, so this function never touches `ctx` again. The shim
    // catches every C++ exception.
    let raw = unsafe {
        eager_torch_adopt(
            ptr.cast_mut().cast(),
            dims.as_ptr(),
            dims.len(),
            st,
            release_owner,
            ctx,
            &mut err,
        )
    };
    if raw.is_null() {
        if err.is_null() {
            return Err(None);
        }
        // SAFETY: a NUL-terminated string from `strdup`, freed once here
        // after it is copied.
        return Err(Some(unsafe {
            let s = CStr::from_ptr(err).to_string_lossy().into_owned();
            eager_torch_free_error(err);
            s
        }));
    }
    // SAFETY: a fresh heap `at::Tensor*`, tch's C handle type
    // (torch_api.h: `typedef torch::Tensor *tensor`); the returned `Tensor`
    // owns it and frees it (`at_free`) when dropped.
    Ok(unsafe { Tensor::from_ptr(raw) })
}

/// The dtype of a c10 `ScalarType` number, the inverse of [`scalar_type`]
/// (`None` for the types eager-tensor lacks).
pub(crate) fn dtype_of_scalar_type(st: c_int) -> Option<DType> {
    Some(match st {
        0 => DType::U8,
        1 => DType::I8,
        2 => DType::I16,
        3 => DType::I32,
        4 => DType::I64,
        5 => DType::F16,
        6 => DType::F32,
        7 => DType::F64,
        11 => DType::Bool,
        15 => DType::BF16,
        _ => return None,
    })
}

/// libtorch's refusal, as [`crate::error`] words it.
fn framework(op: &'static str, msg: String) -> Error {
    Error::Framework {
        op,
        backend: Backend::Torch,
        msg,
    }
}

/// The shape as libtorch's sizes, and the element count, or an error when
/// either does not fit.
fn sizes(op: &'static str, shape: &[usize]) -> Result<(Vec<i64>, usize)> {
    let too_big = || Error::shape(op, format!("shape {shape:?} is too large for libtorch"));
    let dims = shape
        .iter()
        .map(|&d| i64::try_from(d).map_err(|_| too_big()))
        .collect::<Result<Vec<_>>>()?;
    let n = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| i64::try_from(n).is_ok())
        .ok_or_else(too_big)?;
    Ok((dims, n))
}

/// Lends `t`'s memory: `None` for device memory, strided views, sparse or
/// mkldnn layouts, negated views, empty tensors, kinds eager-tensor lacks,
/// and the widened `u16`/`u32`.
pub(crate) fn lend(t: &TorchTensor) -> Result<Option<HostBuffer>> {
    let x = &t.tensor;
    if !x.defined() || x.device() != tch::Device::Cpu || x.is_sparse() || x.is_mkldnn() {
        return Ok(None);
    }
    let dtype = match t.unsigned {
        Some(DType::U64) => DType::U64,
        Some(_) => return Ok(None),
        None => match dtype_of(x.kind()) {
            Some(d) => d,
            None => return Ok(None),
        },
    };
    if x.numel() == 0 || !x.is_contiguous() || x.f_is_neg().map_err(|e| error("lend_host", e))? {
        return Ok(None);
    }
    // Same storage and offset, no autograd history to keep alive.
    let owner = x.f_detach().map_err(|e| error("lend_host", e))?;
    let ptr = owner.data_ptr().cast::<u8>().cast_const();
    if ptr.is_null() || (ptr as usize) % dtype.size_of() != 0 {
        return Ok(None);
    }
    let shape = x.size().iter().map(|&d| d as usize).collect();
    // SAFETY: `owner` shares `x`'s storage (detach is a view), which stays
    // allocated while `owner` lives; the tensor is contiguous on the CPU and
    // non-empty, so `ptr` addresses `numel * element_size` readable bytes of
    // `dtype`'s layout (u64 in i64 bit for bit; torch bools are 0 or 1),
    // and the alignment was checked above. tch tensors are `Send`.
    Ok(Some(unsafe {
        HostBuffer::new(ptr, dtype, shape, Box::new(owner))
    }))
}

/// Adopts `buf` (any dtype; `u16`/`u32` are widened in one copy).
pub(crate) fn adopt(buf: HostBuffer) -> Result<TorchTensor> {
    let (ptr, dtype, shape, owner) = buf.into_parts();
    adopt_parts("adopt_host", ptr, dtype, &shape, owner)
}

/// A tensor that owns `data` without a copy (`u16`/`u32` widened).
pub(crate) fn from_host(data: HostData, shape: &[usize]) -> Result<TorchTensor> {
    crate::threads_at_start("from_vec")?;
    let (_, n) = sizes("from_vec", shape)?;
    if data.len() != n {
        return Err(Error::shape(
            "from_vec",
            format!("{} elements cannot have shape {shape:?}", data.len()),
        ));
    }
    adopt_vec("from_vec", data, shape)
}

/// Adopts a host vector whose length matches `shape`.
fn adopt_vec(op: &'static str, data: HostData, shape: &[usize]) -> Result<TorchTensor> {
    let (ptr, dtype, shape, owner) = HostBuffer::from_host_data(data, shape)?.into_parts();
    adopt_parts(op, ptr, dtype, &shape, owner)
}

fn adopt_parts(
    op: &'static str,
    ptr: *const u8,
    dtype: DType,
    shape: &[usize],
    owner: Owner,
) -> Result<TorchTensor> {
    let (dims, n) = sizes(op, shape)?;
    let nbytes = n
        .checked_mul(dtype.size_of())
        .ok_or_else(|| Error::shape(op, format!("shape {shape:?} is too large")))?;
    // A host vector's buffer is built by a safe constructor that does not
    // check its shape (only in debug builds): never read past the vector.
    if let Some(data) = owner.downcast_ref::<HostData>() {
        if data.as_bytes().as_ptr() == ptr && data.as_bytes().len() < nbytes {
            return Err(Error::shape(
                op,
                format!("{} elements cannot have shape {shape:?}", data.len()),
            ));
        }
    }
    if n > 0 && ptr.is_null() {
        return Err(Error::InvalidArgument {
            op,
            msg: "the buffer's pointer is null".into(),
        });
    }
    let bytes = || {
        if nbytes == 0 {
            return &[][..];
        }
        // SAFETY: `HostBuffer::new`'s contract (or a live host vector,
        // checked above): `nbytes` readable bytes at `ptr` while `owner`
        // lives, and it lives until the end of this function.
        unsafe { std::slice::from_raw_parts(ptr, nbytes) }
    };
    // The widened dtypes: one copy into the storage kind.
    let widened = match dtype {
        DType::U16 => Some(HostData::I32(
            bytes()
                .chunks_exact(2)
                .map(|c| i32::from(u16::from_ne_bytes([c[0], c[1]])))
                .collect(),
        )),
        DType::U32 => Some(HostData::I64(
            bytes()
                .chunks_exact(4)
                .map(|c| i64::from(u32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
        )),
        _ => None,
    };
    if let Some(data) = widened {
        drop(owner);
        let mut t = adopt_vec(op, data, shape)?;
        t.unsigned = tag(dtype);
        return Ok(t);
    }
    let k = kind(dtype);
    if n == 0 {
        drop(owner);
        let t =
            Tensor::f_empty(dims.as_slice(), (k, tch::Device::Cpu)).map_err(|e| error(op, e))?;
        return Ok(TorchTensor::new(t, tag(dtype)));
    }
    if (ptr as usize) % dtype.size_of() != 0 {
        // Misaligned for its elements (outside `HostBuffer::new`'s
        // contract): one copy into an aligned vector, which is adopted.
        let data = HostData::from_ne_bytes(dtype, bytes().to_vec());
        drop(owner);
        return adopt_vec(op, data, shape);
    }
    let st = scalar_type(k)
        .ok_or_else(|| framework(op, format!("no libtorch scalar type for {dtype}")))?;
    // SAFETY: `ptr` addresses `nbytes` bytes of `dtype`, aligned, valid
    // while the owner lives; `dims` outlives the call.
    let t = unsafe { shim_adopt(ptr, &dims, st, owner) }.map_err(|msg| {
        let msg = msg.unwrap_or_else(|| "libtorch could not adopt the memory".to_string());
        let msg = msg
            .split("\nException raised from")
            .next()
            .unwrap_or(&msg)
            .trim();
        framework(op, msg.to_string())
    })?;
    if t.kind() != k || t.data_ptr().cast_const().cast::<u8>() != ptr {
        return Err(framework(
            op,
            format!(
                "libtorch made a {:?} tensor at {:?} of {k:?} memory at {ptr:?}",
                t.kind(),
                t.data_ptr()
            ),
        ));
    }
    Ok(TorchTensor::new(t, tag(dtype)))
}

#[cfg(test)]
mod tests {
    //! The shim's error paths, which the public API never reaches (it
    //! validates shapes and dtypes first): a C++ exception, or an argument
    //! libtorch would abort on, must come back as an error message, with the
    //! owner released exactly once.
    use super::*;

    #[test]
    fn scalar_type_numbers_map_back_to_the_dtypes() {
        use tch::Kind::*;
        for k in [
            Uint8, Int8, Int16, Int, Int64, Half, Float, Double, Bool, BFloat16,
        ] {
            let st = super::scalar_type(k).unwrap();
            assert_eq!(super::dtype_of_scalar_type(st), crate::dtype_of(k), "{k:?}");
            // The number libtorch itself reports for a tensor of that kind.
            let t = tch::Tensor::zeros([1], (k, tch::Device::Cpu));
            assert_eq!(
                eager_core::TensorBase::dtype(&crate::TorchTensor::wrap(t)),
                crate::dtype_of(k).unwrap(),
                "{k:?}"
            );
        }
        assert_eq!(super::dtype_of_scalar_type(9), None); // ComplexFloat
        assert_eq!(super::dtype_of_scalar_type(-1), None);
    }
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Calls the shim with an owner that counts its drops; the error message.
    fn failing_call(dims: &[i64], st: c_int) -> (String, usize) {
        let drops = Arc::new(AtomicUsize::new(0));
        let data = [0f32; 4];
        let owner: Owner = Box::new(Counted(drops.clone()));
        // SAFETY: `data` outlives the call and no tensor is made (the
        // arguments make libtorch throw).
        let msg = match unsafe { shim_adopt(data.as_ptr().cast(), dims, st, owner) } {
            Ok(_) => panic!("the shim returned a tensor for {dims:?}, {st}"),
            Err(msg) => msg.expect("the shim's message"),
        };
        (msg, drops.load(Ordering::SeqCst))
    }

    #[test]
    fn an_unknown_scalar_type_is_an_error_and_releases_once() {
        // (libtorch would terminate: TensorOptions::dtype is noexcept.)
        for st in [-1, 99] {
            let (msg, drops) = failing_call(&[4], st);
            assert!(msg.contains("unknown scalar type"), "{msg}");
            assert_eq!(drops, 1, "{msg}");
        }
    }

    #[test]
    fn an_exception_inside_make_tensor_is_an_error_and_releases_once() {
        // A negative size throws inside make_tensor, which owns the context.
        let (msg, drops) = failing_call(&[-4], 6);
        assert!(msg.contains("negative"), "{msg}");
        assert_eq!(drops, 1, "{msg}");
    }

    #[test]
    fn a_panicking_owner_does_not_unwind_into_libtorch() {
        struct Panics(Arc<AtomicUsize>);
        impl Drop for Panics {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
                panic!("owner drop panics");
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let data: Vec<f32> = vec![1.0, 2.0, 3.0];
        let ptr = data.as_ptr().cast::<u8>();
        struct Both(#[allow(dead_code)] Vec<f32>, #[allow(dead_code)] Panics);
        let owner: Owner = Box::new(Both(data, Panics(drops.clone())));
        let t = adopt_parts("adopt_host", ptr, DType::F32, &[3], owner).unwrap();
        assert_eq!(t.tensor.data_ptr().cast_const().cast::<u8>(), ptr);
        assert_eq!(Vec::<f32>::try_from(&t.tensor).unwrap(), [1.0, 2.0, 3.0]);
        drop(t);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_scalar_types_are_libtorchs() {
        // c10's numbering, read back through a tensor libtorch makes.
        for k in [
            Kind::Uint8,
            Kind::Int8,
            Kind::Int16,
            Kind::Int,
            Kind::Int64,
            Kind::Half,
            Kind::Float,
            Kind::Double,
            Kind::Bool,
            Kind::BFloat16,
        ] {
            let data = [0u64; 2];
            let drops = Arc::new(AtomicUsize::new(0));
            let owner: Owner = Box::new(Counted(drops.clone()));
            let st = scalar_type(k).unwrap();
            // SAFETY: 16 bytes at `data`, aligned for every kind, outlive the
            // tensor (dropped below).
            let t = unsafe { shim_adopt(data.as_ptr().cast(), &[1], st, owner) }
                .expect("the shim adopts");
            assert_eq!(t.kind(), k);
            assert_eq!(drops.load(Ordering::SeqCst), 0);
            drop(t);
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        }
    }
}
