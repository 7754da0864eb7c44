//! `BackendTensor` for XLA: each op is a small StableHLO program, compiled
//! once per (op, attributes, shapes, dtypes) and executed on device buffers
//! that stay on the device. The cache key is that compact tuple; the program
//! text is built only on a miss (debug builds rebuild it on every hit and
//! check it is the same program, so a key that misses an attribute fails the
//! tests instead of running the wrong program).

use crate::pjrt::{Buffer, Client, ElementType, Lend, PjrtError, ZERO_COPY_ALIGN};
use crate::{client, Compiled, ExecutableCache};
use eager_core::exchange::Owner;
use eager_core::ops::prelude::*;
use eager_core::shape::SliceRange;
use eager_core::{
    ArgReduceOp, Backend, BinaryOp, DType, Distribution, Error, HostBuffer, HostData, ReduceOp,
    Result, Scalar, UnaryOp,
};
use std::cell::RefCell;
use std::sync::{Arc, Mutex, OnceLock};

use emit::{compute_dtype, et, max_of, min_of, ty, without, Out, Prog};

mod cast;
mod create;
mod elementwise;
mod emit;
mod exec;
use exec::*;
pub use exec::{cache_capacity, cache_len, set_cache_capacity};
mod index;
pub mod jit;
mod linalg;
mod random;
mod reduce;
mod shape;

pub use random::seed;

/// The native tensor of the XLA backend: a device buffer of the backend's
/// PJRT client, with its dtype and shape; shared on clone. Inside a
/// [`jit`] trace it is a value of the program being traced instead.
#[derive(Clone)]
pub struct XlaTensor {
    val: Val,
    dtype: DType,
    shape: Shape,
    /// The executable that computed `buf` (none for uploads): kept alive as
    /// long as its result, so evicting it from the bounded cache never
    /// frees a program whose result may still be computing. Declared after
    /// `buf`, so the buffer (whose drop waits for the computation) goes
    /// first.
    _exe: Option<Arc<Compiled<Meta>>>,
}

impl std::fmt::Debug for XlaTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "XlaTensor({}, {:?})", self.dtype, self.shape)
    }
}

/// A tensor's dimensions, inline up to four (no allocation per result).
type Shape = smallvec::SmallVec<[usize; 4]>;

/// What an [`XlaTensor`] holds: a device buffer, or a value (SSA name) of
/// a program being traced by [`jit`].
#[derive(Clone)]
enum Val {
    Buf(Arc<Buffer>),
    Sym(Arc<jit::TraceInner>, String),
}

impl XlaTensor {
    /// The device buffer; an error for a value inside a [`jit`] trace,
    /// which has none until the program runs.
    pub fn buffer(&self) -> Result<&Arc<Buffer>> {
        match &self.val {
            Val::Buf(b) => Ok(b),
            Val::Sym(..) => Err(jit::not_inside("buffer")),
        }
    }
    /// Whether this is a value of a program being traced by [`jit`].
    pub fn is_traced_by_jit(&self) -> bool {
        matches!(self.val, Val::Sym(..))
    }
    /// The host copy, for `op` (an error naming `op` inside a [`jit`]
    /// trace).
    fn host(&self, op: &'static str) -> Result<HostData> {
        Ok(HostData::from_ne_bytes(self.dtype, self.host_value(op)?))
    }
    /// The host copy of the value, for `op`; inside a [`jit`] trace an
    /// error naming `op` (the value is not computed yet).
    fn host_value(&self, op: &'static str) -> Result<Vec<u8>> {
        match &self.val {
            Val::Buf(b) => b.to_host().map_err(fw(op)),
            Val::Sym(..) => Err(jit::not_inside(op)),
        }
    }
}

fn fw(op: &'static str) -> impl Fn(PjrtError) -> Error {
    move |e| Error::Framework {
        op,
        backend: Backend::Xla,
        msg: e.0,
    }
}

fn rt(op: &'static str) -> Result<Arc<Client>> {
    client().map_err(fw(op))
}

fn upload(op: &'static str, data: &HostData, shape: &[usize]) -> Result<XlaTensor> {
    upload_bytes(op, data.as_bytes(), data.dtype(), shape)
}

/// A copy of row-major `bytes` of `d` on the device.
fn upload_bytes(op: &'static str, bytes: &[u8], d: DType, shape: &[usize]) -> Result<XlaTensor> {
    let c = rt(op)?;
    let dims: Vec<i64> = shape.iter().map(|&x| x as i64).collect();
    let buf = c.buffer(bytes, et(d), &dims).map_err(fw(op))?;
    Ok(XlaTensor::on(Arc::new(buf), d, shape))
}

/// A tensor over `buf`'s memory without a copy where PJRT can share it
/// (see `adopt_host`), else a copy.
fn adopt(op: &'static str, buf: HostBuffer) -> Result<XlaTensor> {
    let (d, shape) = (buf.dtype(), buf.shape().to_vec());
    let dims: Vec<i64> = shape.iter().map(|&x| x as i64).collect();
    if buf.is_empty() || !buf.is_aligned(ZERO_COPY_ALIGN) {
        // Nothing to share, or memory PJRT would copy anyway: one copy,
        // and the owner goes at once.
        return upload_bytes(op, buf.as_bytes(), d, &shape);
    }
    let c = rt(op)?;
    let (ptr, d, shape, owner) = buf.into_parts();
    let owner = match owner.downcast::<Lend>() {
        // Memory an xla tensor lent: that tensor's own buffer, shared.
        Ok(lend)
            if lend.address() == ptr as usize
                && lend.buffer().element_type() == et(d)
                && lend.buffer().dims() == dims.as_slice() =>
        {
            return Ok(XlaTensor::on(lend.buffer().clone(), d, &shape));
        }
        // The same memory seen as another dtype or shape: copied, so
        // that the loan (whose drop calls into PJRT) is never dropped
        // inside a PJRT callback.
        Ok(lend) => {
            // SAFETY: the parts `into_parts` just gave, the loan alive.
            let buf = unsafe { HostBuffer::new(ptr, d, shape, lend as Owner) };
            return upload_bytes(op, buf.as_bytes(), d, buf.shape());
        }
        Err(other) => other,
    };
    // A host vector the buffer owns is nobody else's: PJRT may write a
    // result into it (donation). Anything else is the lender's, read-only.
    let mutable = owner
        .downcast_ref::<HostData>()
        .is_some_and(|h| h.as_bytes().as_ptr() == ptr && h.dtype() == d);
    // SAFETY: `HostBuffer::new`'s contract: `ptr` holds the elements of
    // `shape` and `d` for as long as `owner` lives, and the closure keeps
    // `owner` until PJRT is done with the memory. Nobody writes it
    // meanwhile: eager-tensor never writes in place, and a lender that did
    // would break the exchange contract. With `mutable`, the memory is a
    // `HostData` only the closure holds: no one reads it but PJRT, and
    // Rust only frees it afterwards (PJRT's writes are whole elements of
    // the same dtype, so even a bool vector keeps valid values).
    let buf =
        unsafe { c.buffer_sharing(ptr, et(d), &dims, mutable, Box::new(move || drop(owner))) }
            .map_err(fw(op))?;
    Ok(XlaTensor::on(Arc::new(buf), d, &shape))
}

/// How many 0-d scalar buffers [`scalar`] keeps.
const SCALAR_CACHE: usize = 64;

/// `value` as a 0-d tensor of `d`: the bits [`full`](CreateOps::full)
/// uploads, from a small per-(dtype, bits) cache of device buffers.
fn scalar(value: Scalar, d: DType) -> Result<XlaTensor> {
    type Scalars = Mutex<lru::LruCache<(DType, u64), Arc<Buffer>>>;
    static SCALARS: OnceLock<Scalars> = OnceLock::new();
    let v = value.cast("full", d)?;
    let bits = match v {
        Scalar::Bool(x) => x as u64,
        Scalar::U8(x) => x as u64,
        Scalar::I8(x) => x as u8 as u64,
        Scalar::I16(x) => x as u16 as u64,
        Scalar::U16(x) => x as u64,
        Scalar::I32(x) => x as u32 as u64,
        Scalar::U32(x) => x as u64,
        Scalar::I64(x) => x as u64,
        Scalar::U64(x) => x,
        Scalar::F16(x) => x.to_bits() as u64,
        Scalar::BF16(x) => x.to_bits() as u64,
        Scalar::F32(x) => x.to_bits() as u64,
        Scalar::F64(x) => x.to_bits(),
    };
    let cache = SCALARS.get_or_init(|| {
        Mutex::new(lru::LruCache::new(
            std::num::NonZeroUsize::new(SCALAR_CACHE).unwrap_or(std::num::NonZeroUsize::MIN),
        ))
    });
    // A poisoned lock only costs the cache: the value is uploaded.
    if let Some(b) = cache
        .lock()
        .ok()
        .and_then(|mut c| c.get(&(d, bits)).cloned())
    {
        return Ok(XlaTensor::on(b, d, &[]));
    }
    let t = upload("full", &HostData::filled("full", v, d, 1)?, &[])?;
    if let (Ok(mut c), Val::Buf(b)) = (cache.lock(), &t.val) {
        // The evicted buffer (if any) is dropped after the lock.
        let evicted = c.push((d, bits), b.clone());
        drop(c);
        drop(evicted);
    }
    Ok(t)
}

impl XlaTensor {
    /// A tensor over a buffer of the backend (no executable to keep).
    fn on(buf: Arc<Buffer>, dtype: DType, shape: &[usize]) -> XlaTensor {
        XlaTensor {
            val: Val::Buf(buf),
            dtype,
            shape: Shape::from_slice(shape),
            _exe: None,
        }
    }

    fn unary_prog(&self, op: UnaryOp) -> Result<XlaTensor> {
        use UnaryOp::*;
        let (d0, s) = (self.dtype, &self.shape);
        let float = d0.is_float();
        if (op == Abs && d0.is_unsigned()) || (matches!(op, Round | Ceil | Floor) && !float) {
            return Ok(self.clone());
        }
        exec1(op.name(), &[op as i64], &[self], |p, a| {
            let (x, d) = p.widen(&a[0], d0, s);
            let x = &x;
            let mut out_d = d;
            let r = match op {
                Abs => p.un("abs", x, d, s),
                Neg if d.is_unsigned() => {
                    let z = p.full(d, 0.0, s);
                    p.bin("subtract", &z, x, d, s)
                }
                Neg => p.un("negate", x, d, s),
                Sign if d.is_unsigned() => {
                    let z = p.full(d, 0.0, s);
                    let one = p.full(d, 1.0, s);
                    let pos = p.cmp("GT", x, &z, d, s);
                    p.select(&pos, &one, &z, d, s)
                }
                // stablehlo.sign(-0.0) is -0.0; NumPy (and every other
                // backend) gives 0.0. (`+ 0.0` would do, but XLA folds it
                // away.)
                Sign if float => {
                    let sg = p.un("sign", x, d, s);
                    let z = p.full(d, 0.0, s);
                    let zero = p.cmp("EQ", x, &z, d, s);
                    p.select(&zero, &z, &sg, d, s)
                }
                Sign => p.un("sign", x, d, s),
                Sqrt => p.un("sqrt", x, d, s),
                Square => p.bin("multiply", x, x, d, s),
                Exp => p.un("exponential", x, d, s),
                Log => p.un("log", x, d, s),
                Log2 | Log10 => {
                    let l = p.un("log", x, d, s);
                    let base = if op == Log2 {
                        std::f64::consts::LN_2
                    } else {
                        std::f64::consts::LN_10
                    };
                    let b = p.full(d, base, s);
                    p.bin("divide", &l, &b, d, s)
                }
                Log1p => p.un("log_plus_one", x, d, s),
                Sin => p.un("sine", x, d, s),
                Cos => p.un("cosine", x, d, s),
                Tan => p.un("tan", x, d, s),
                Sinh => p.chlo("sinh", x, d, s),
                Cosh => p.chlo("cosh", x, d, s),
                Tanh => p.un("tanh", x, d, s),
                Arcsin => p.chlo("asin", x, d, s),
                Arccos => p.chlo("acos", x, d, s),
                Arctan => p.chlo("atan", x, d, s),
                Arcsinh => p.chlo("asinh", x, d, s),
                Arccosh => p.chlo("acosh", x, d, s),
                Arctanh => p.chlo("atanh", x, d, s),
                // XLA's round_nearest_even is NumPy's half-to-even rounding.
                Round => p.un("round_nearest_even", x, d, s),
                Ceil => p.un("ceil", x, d, s),
                Floor => p.un("floor", x, d, s),
                IsNan => {
                    out_d = DType::Bool;
                    p.cmp("NE", x, x, d, s)
                }
                IsInf => {
                    out_d = DType::Bool;
                    let a = p.un("abs", x, d, s);
                    let inf = p.full(d, f64::INFINITY, s);
                    p.cmp("EQ", &a, &inf, d, s)
                }
                LogicalNot => p.un("not", x, d, s),
                Sigmoid => p.un("logistic", x, d, s),
                // NumPy's maximum(x, 0): NaN stays, -0.0 becomes 0.0.
                Relu if float => {
                    let z = p.full(d, 0.0, s);
                    let pos = p.cmp("GT", x, &z, d, s);
                    let nan = p.cmp("NE", x, x, d, s);
                    let keep = p.bin("or", &pos, &nan, DType::Bool, s);
                    p.select(&keep, x, &z, d, s)
                }
                Relu => {
                    let z = p.full(d, 0.0, s);
                    p.bin("maximum", x, &z, d, s)
                }
            };
            let (r, out_d) = p.narrow(&r, out_d, d0, s);
            Ok((r, out_d, s.to_vec()))
        })
    }

    /// Sorts along `axis`; with `indices`, the stable sort's permutation
    /// (`i64`) is the result instead of the values.
    fn sort_prog(&self, axis: usize, descending: bool, indices: bool) -> Result<XlaTensor> {
        let (d, s) = (self.dtype, &self.shape);
        if s[axis] <= 1 && !indices {
            return Ok(self.clone());
        }
        let attrs = [axis as i64, descending as i64, indices as i64];
        exec1("sort", &attrs, &[self], |p, a| {
            let x = &a[0];
            if !indices {
                let cmp = p.region(&[d, d], |p, v| {
                    vec![(p.sorts_before(&v[0], &v[1], d, descending), DType::Bool)]
                });
                return Ok((p.sort(x, &cmp, axis, d, s), d, s.to_vec()));
            }
            let iota = p.iota(axis, DType::I64, s);
            let cmp = p.region(&[d, d, DType::I64, DType::I64], |p, v| {
                vec![(p.sorts_before(&v[0], &v[1], d, descending), DType::Bool)]
            });
            Ok((
                p.sort_positions(x, &iota, &cmp, axis, d, s),
                DType::I64,
                s.to_vec(),
            ))
        })
    }
}

impl TensorBase for XlaTensor {
    const BACKEND: Backend = Backend::Xla;
    fn shape(&self) -> Vec<usize> {
        self.shape.to_vec()
    }
    fn shape_ref(&self) -> Option<&[usize]> {
        Some(&self.shape)
    }
    fn dtype(&self) -> DType {
        self.dtype
    }
    /// Without a copy when the vector's memory is aligned for PJRT (see
    /// [`adopt_host`](Self::adopt_host)): the buffer then owns the vector,
    /// and stays donatable.
    fn from_host(data: HostData, shape: &[usize]) -> Result<Self> {
        if data.len() != eager_core::shape::numel(shape) {
            // PJRT's error names the mismatch.
            return upload("from_vec", &data, shape);
        }
        adopt("from_vec", HostBuffer::from_host_data(data, shape)?)
    }
    fn to_host(&self) -> Result<HostData> {
        self.host("to_vec")
    }
    /// The buffer's own memory, once it is computed (the CPU plugin keeps
    /// dense row-major host memory; anything else is `None`). The owner
    /// keeps the buffer alive and tells PJRT of the external reference, and
    /// while it lives the buffer is never donated
    /// ([`pjrt::Buffer::lend`](crate::pjrt::Buffer::lend)). An error inside
    /// a [`jit`] trace.
    fn lend_host(&self) -> Result<Option<HostBuffer>> {
        let op = "lend_host";
        let b = match &self.val {
            Val::Buf(b) => b,
            Val::Sym(..) => return Err(jit::not_inside(op)),
        };
        let Some(lend) = b.lend().map_err(fw(op))? else {
            return Ok(None);
        };
        let ptr = if eager_core::shape::numel(&self.shape) == 0 {
            std::ptr::NonNull::<u64>::dangling().as_ptr() as *const u8
        } else {
            lend.address() as *const u8
        };
        // SAFETY: the lend keeps the buffer, ready, alive and unchanged
        // (never donated, never deleted) until the owner is dropped; its
        // memory holds the shape's elements of the dtype, dense row-major
        // (checked by `lend`), aligned by PJRT (64 bytes on the CPU), and
        // PRED bytes are 0 or 1. An empty tensor lends a dangling aligned
        // pointer, never read.
        Ok(Some(unsafe {
            HostBuffer::new(ptr, self.dtype, self.shape.to_vec(), Box::new(lend))
        }))
    }
    /// A buffer over the memory without a copy when it is aligned to
    /// [`ZERO_COPY_ALIGN`] (64 bytes: the CPU plugin copies anything
    /// less aligned, so this copies it at once instead): the owner is
    /// dropped when PJRT frees the last buffer over the memory (possibly on
    /// a thread of the plugin). Foreign memory is never written: such a
    /// buffer is never donated (a donating [`jit`] call copies it). Memory
    /// an xla tensor lent is that tensor's buffer again.
    fn adopt_host(buf: HostBuffer) -> Result<Self> {
        adopt("adopt_host", buf)
    }
}
