//! Creating tensors: from a "like" tensor (same backend and device), or
//! from a backend and a dtype.

use crate::args::{dims, IntoShape};
use crate::tensor::DynOps;
use crate::{Backend, DType, Distribution, EagerTensor, Error, HostData, Result, Scalar};

fn fill(like: &EagerTensor, shape: &[usize], value: Scalar, dtype: DType) -> Result<EagerTensor> {
    eager_core::shape::check_size("full", shape, dtype)?;
    like.dyn_full(shape, value.cast("full", dtype)?, dtype)
}

/// Zeros of `shape` with the backend, device and dtype of `like`.
///
/// ```
/// # use eager_tensor as ep;
/// let x = ep::EagerTensor::ones(ep::Backend::NdArray, [3], ep::DType::F64)?;
/// let z = ep::zeros(&x, [2, 2])?;
/// assert_eq!((z.dtype(), z.shape()), (ep::DType::F64, vec![2, 2]));
/// assert_eq!(z.to_vec::<f64>()?, vec![0.0; 4]);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn zeros(like: &EagerTensor, shape: impl IntoShape) -> Result<EagerTensor> {
    fill(like, &dims("zeros", shape)?, Scalar::I64(0), like.dtype())
}
/// Ones of `shape` like `like`.
pub fn ones(like: &EagerTensor, shape: impl IntoShape) -> Result<EagerTensor> {
    fill(like, &dims("ones", shape)?, Scalar::I64(1), like.dtype())
}
/// `value` (in the dtype of `like`; a value it cannot hold is an error)
/// everywhere in `shape`.
pub fn full(
    like: &EagerTensor,
    shape: impl IntoShape,
    value: impl Into<Scalar>,
) -> Result<EagerTensor> {
    fill(like, &dims("full", shape)?, value.into(), like.dtype())
}
/// Zeros of the shape and dtype of `like`.
pub fn zeros_like(like: &EagerTensor) -> Result<EagerTensor> {
    zeros(like, like.shape())
}
/// Ones of the shape and dtype of `like`.
///
/// ```
/// # use eager_tensor as ep;
/// let x = ep::EagerTensor::zeros(ep::Backend::NdArray, [2, 3], ep::DType::I32)?;
/// let o = ep::ones_like(&x)?;
/// assert_eq!((o.dtype(), o.shape()), (ep::DType::I32, vec![2, 3]));
/// assert_eq!(o.sum()?.item::<i64>()?, 6);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn ones_like(like: &EagerTensor) -> Result<EagerTensor> {
    ones(like, like.shape())
}
/// `value` in the shape and dtype of `like` (a value the dtype cannot hold
/// is an error).
///
/// ```
/// # use eager_tensor as ep;
/// let x = ep::EagerTensor::zeros(ep::Backend::NdArray, [2], ep::DType::U8)?;
/// assert_eq!(ep::full_like(&x, 7)?.to_vec::<u8>()?, vec![7, 7]);
/// assert_eq!(ep::full_like(&x, 0.5).unwrap_err().op(), "full");
/// # Ok::<(), ep::Error>(())
/// ```
pub fn full_like(like: &EagerTensor, value: impl Into<Scalar>) -> Result<EagerTensor> {
    full(like, like.shape(), value)
}
/// `start, start + step, ...` below `stop` (above it for a negative step),
/// as `i64` on the backend of `like`; a zero step is an error.
///
/// ```
/// # use eager_tensor as ep;
/// let like = ep::EagerTensor::zeros(ep::Backend::NdArray, &[], ep::DType::F32)?;
/// assert_eq!(ep::arange(&like, 0, 7, 3)?.to_vec::<i64>()?, vec![0, 3, 6]);
/// assert_eq!(ep::arange(&like, 3, 0, -1)?.to_vec::<i64>()?, vec![3, 2, 1]);
/// assert_eq!(ep::arange(&like, 0, 3, 0).unwrap_err().op(), "arange");
/// # Ok::<(), ep::Error>(())
/// ```
pub fn arange(like: &EagerTensor, start: i64, stop: i64, step: i64) -> Result<EagerTensor> {
    if step == 0 {
        return Err(Error::invalid("arange", "step cannot be zero"));
    }
    let span = stop as i128 - start as i128;
    let len = if (step > 0 && span > 0) || (step < 0 && span < 0) {
        span.unsigned_abs().div_ceil(step.unsigned_abs() as u128)
    } else {
        0
    };
    let len = usize::try_from(len)
        .map_err(|_| Error::invalid("arange", format!("{len} elements are too many")))?;
    eager_core::shape::check_size("arange", &[len], DType::I64)?;
    let mut v: Vec<i64> = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| Error::invalid("arange", format!("{len} elements do not fit in memory")))?;
    // In i128: `start + i * step` may overflow i64 on the way, never at the
    // end (every value lies between start and stop).
    v.extend((0..len as i128).map(|i| (start as i128 + i * step as i128) as i64));
    like.host_like("arange", HostData::I64(v), &[len])
}

fn random_dtype(like: &EagerTensor) -> DType {
    like.dtype().to_float()
}

/// Uniform samples on `[low, high)`, in the dtype of `like` if it is a
/// float, else `f64`. Seed with [`seed`](crate::seed).
///
/// ```
/// # use eager_tensor as ep;
/// let like = ep::EagerTensor::zeros(ep::Backend::NdArray, &[], ep::DType::F32)?;
/// ep::seed(0);
/// let u = ep::uniform(&like, [1000], -1.0, 1.0)?;
/// assert_eq!(u.dtype(), ep::DType::F32);
/// assert!(u.min()?.item::<f32>()? >= -1.0 && u.max()?.item::<f32>()? < 1.0);
/// assert!(u.mean()?.item::<f32>()?.abs() < 0.1);
/// assert_eq!(ep::uniform(&like, [2], 1.0, 1.0).unwrap_err().op(), "uniform");
/// # Ok::<(), ep::Error>(())
/// ```
pub fn uniform(
    like: &EagerTensor,
    shape: impl IntoShape,
    low: f64,
    high: f64,
) -> Result<EagerTensor> {
    let shape = &dims("uniform", shape)?;
    // Written so that NaN bounds fail too.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(low < high) || !(high - low).is_finite() {
        return Err(Error::invalid(
            "uniform",
            format!("needs finite low < high with a finite high - low, got [{low}, {high})"),
        ));
    }
    random(like, "uniform", shape, Distribution::Uniform { low, high })
}
/// Normal samples, in the dtype of `like` if it is a float, else `f64`.
pub fn normal(
    like: &EagerTensor,
    shape: impl IntoShape,
    mean: f64,
    std: f64,
) -> Result<EagerTensor> {
    let shape = &dims("normal", shape)?;
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(std >= 0.0) || !std.is_finite() || !mean.is_finite() {
        return Err(Error::invalid(
            "normal",
            format!("needs a finite mean and std >= 0, got {mean}, {std}"),
        ));
    }
    random(like, "normal", shape, Distribution::Normal { mean, std })
}

/// Samples of `dist` (checked) of `shape`, in the dtype of `like` if it is
/// a float, else `f64`.
fn random(
    like: &EagerTensor,
    op: &'static str,
    shape: &[usize],
    dist: Distribution,
) -> Result<EagerTensor> {
    eager_core::shape::check_size(op, shape, random_dtype(like))?;
    like.dyn_random(dist, shape, random_dtype(like))
}

/// Seeds each enabled backend's own random generator with `seed`, so
/// `uniform` and `normal` repeat: ndarray, TensorFlow and Candle each keep
/// their own generator per thread (drawn on the host, seeded alike: the same
/// seed gives them the same numbers), torch seeds libtorch's generator
/// (`torch.manual_seed`) and xla its device key. Seeding one backend never
/// moves another's sequence.
pub fn seed(seed: u64) {
    each_enabled!(|B| <B as eager_core::Capabilities>::seed(seed));
}

/// Sets how many threads every enabled backend computes with (EagerPy
/// has no such call; each framework has its own knob, and this sets them
/// all). The environment variable `EAGER_TENSOR_NUM_THREADS` does the same
/// for a program that does not call it.
///
/// What each framework does with `n`:
/// - torch: libtorch's intra-op pool (`torch.set_num_threads(n)`), at once.
/// - TensorFlow: the eager context's intra-op and inter-op pools, `n` each,
///   fixed when the context is created (the first tensorflow tensor).
/// - xla: the PJRT CPU client's compute threads, fixed when the client is
///   created (the first xla tensor).
/// - Candle: its thread pools and rayon's global pool, through
///   `RAYON_NUM_THREADS` and `CANDLE_NUM_THREADS`, fixed when they start
///   (the first candle tensor). Setting environment variables is not
///   thread-safe with C code reading them, so call this at the start of
///   `main`, before other threads.
/// - ndarray computes on the calling thread: nothing to set.
///
/// Without it every framework starts one thread per core (TensorFlow two
/// pools of that size), which on a small or busy machine makes small
/// tensors much slower: the threads wait for each other and for cores.
/// For tensors of a few thousand elements, `set_num_threads(1)` is fastest.
///
/// ```
/// # use eager_tensor as ep;
/// ep::set_num_threads(1)?; // at the start of main
/// assert_eq!(ep::set_num_threads(0).unwrap_err().kind(), "invalid");
/// assert_eq!(ep::set_num_threads(usize::MAX).unwrap_err().kind(), "invalid");
/// # Ok::<(), ep::Error>(())
/// ```
///
/// # Errors
/// `n` not from 1 to 1024 (a pool of millions of threads would abort the
/// process); a backend that has started with another count already
/// (TensorFlow, xla, Candle: the error says which), which keeps its count
/// while the others take `n`.
pub fn set_num_threads(n: usize) -> Result<()> {
    let op = "set_num_threads";
    eager_core::threads::request(op, n)?;
    let mut refused: Vec<Error> = Vec::new();
    each_enabled!(
        |B| if let Err(e) = <B as eager_core::Capabilities>::set_num_threads(op, n) {
            refused.push(e);
        }
    );
    match refused.len() {
        0 => Ok(()),
        1 => Err(refused.remove(0)),
        // One error naming every backend that refused, each with its reason.
        _ => Err(Error::invalid(
            op,
            refused
                .iter()
                .map(|e| match e {
                    Error::InvalidArgument { msg, .. } => msg.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}

/// The most dimensions a tensor of `backend` may have: 8 on Candle and
/// TensorFlow, 64 on torch, no limit (`usize::MAX`) on ndarray and xla.
/// A shape with more is a `shape` error naming the op.
///
/// ```
/// # use eager_tensor as ep;
/// assert_eq!(ep::max_rank(ep::Backend::NdArray)?, usize::MAX);
/// # Ok::<(), ep::Error>(())
/// ```
///
/// # Errors
/// `backend` not compiled in.
pub fn max_rank(backend: Backend) -> Result<usize> {
    with_backend!("max_rank", backend, |B| Ok(
        <B as eager_core::TensorBase>::MAX_RANK
    ))
}

impl EagerTensor {
    /// `value` everywhere, on `backend`, with `dtype`; `shape` is any
    /// [`IntoShape`].
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let t = ep::EagerTensor::full_on(ep::Backend::NdArray, [2, 2], 7, ep::DType::I32)?;
    /// assert_eq!(t.to_vec::<i32>()?, vec![7; 4]);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn full_on(
        backend: Backend,
        shape: impl IntoShape,
        value: impl Into<Scalar>,
        dtype: DType,
    ) -> Result<EagerTensor> {
        Self::full_dims(backend, &dims("full", shape)?, value.into(), dtype)
    }
    fn full_dims(
        backend: Backend,
        shape: &[usize],
        v: Scalar,
        dtype: DType,
    ) -> Result<EagerTensor> {
        let v = v.cast("full", dtype)?;
        eager_core::shape::check_size("full", shape, dtype)?;
        let seed = on_backend!("full", backend, |B| {
            <B as eager_core::TensorBase>::from_host(HostData::filled("full", v, dtype, 1)?, &[])
        })?;
        seed.dyn_full(shape, v, dtype)
    }
    /// Zeros on `backend`. For zeros *like* an existing tensor (its
    /// backend, device and dtype) use [`ep::zeros(&x, shape)`](zeros), or
    /// `x.zeros(shape)` with `use eager_tensor::prelude::*` (the
    /// [`CreateLike`] trait: the method cannot be inherent, this function
    /// has its name).
    ///
    /// ```
    /// use eager_tensor::{self as ep, prelude::*};
    /// let t = ep::EagerTensor::zeros(ep::Backend::NdArray, [2, 3], ep::DType::F32)?;
    /// assert_eq!(t.zeros([4])?.shape(), vec![4]); // like `t`: f32 on ndarray
    /// assert_eq!(ep::zeros(&t, [4])?.dtype(), ep::DType::F32);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn zeros(backend: Backend, shape: impl IntoShape, dtype: DType) -> Result<EagerTensor> {
        Self::full_dims(backend, &dims("zeros", shape)?, Scalar::I64(0), dtype)
    }
    /// Ones on `backend`.
    pub fn ones(backend: Backend, shape: impl IntoShape, dtype: DType) -> Result<EagerTensor> {
        Self::full_dims(backend, &dims("ones", shape)?, Scalar::I64(1), dtype)
    }
}

/// `t.zeros(&shape)`, `t.ones(&shape)`, `t.full(&shape, v)`: the creation
/// functions as methods. They live in a trait because `EagerTensor::zeros`
/// (with a backend and a dtype) is taken by the start-from-nothing form;
/// bring it in with `use eager_tensor::prelude::*`.
///
/// ```
/// use eager_tensor::{self as ep, prelude::*};
/// let t = ep::EagerTensor::ones(ep::Backend::NdArray, &[2], ep::DType::F32)?;
/// assert_eq!(t.zeros(&[3])?.to_vec::<f32>()?, vec![0.0; 3]);
/// # Ok::<(), ep::Error>(())
/// ```
pub trait CreateLike {
    /// [`zeros`] like `self`.
    fn zeros(&self, shape: impl IntoShape) -> Result<EagerTensor>;
    /// [`ones`] like `self`.
    fn ones(&self, shape: impl IntoShape) -> Result<EagerTensor>;
    /// [`full`] like `self`.
    fn full(&self, shape: impl IntoShape, value: impl Into<Scalar>) -> Result<EagerTensor>;
}

impl CreateLike for EagerTensor {
    fn zeros(&self, shape: impl IntoShape) -> Result<EagerTensor> {
        zeros(self, shape)
    }
    fn ones(&self, shape: impl IntoShape) -> Result<EagerTensor> {
        ones(self, shape)
    }
    fn full(&self, shape: impl IntoShape, value: impl Into<Scalar>) -> Result<EagerTensor> {
        full(self, shape, value)
    }
}

impl EagerTensor {
    /// [`zeros_like`] of `self`.
    pub fn zeros_like(&self) -> Result<EagerTensor> {
        zeros_like(self)
    }
    /// [`ones_like`] of `self`.
    pub fn ones_like(&self) -> Result<EagerTensor> {
        ones_like(self)
    }
    /// [`full_like`] of `self`.
    pub fn full_like(&self, value: impl Into<Scalar>) -> Result<EagerTensor> {
        full_like(self, value)
    }
    /// [`arange`] on the backend of `self`.
    pub fn arange(&self, start: i64, stop: i64, step: i64) -> Result<EagerTensor> {
        arange(self, start, stop, step)
    }
    /// [`uniform`] like `self`.
    pub fn uniform(&self, shape: impl IntoShape, low: f64, high: f64) -> Result<EagerTensor> {
        uniform(self, shape, low, high)
    }
    /// [`normal`] like `self`.
    pub fn normal(&self, shape: impl IntoShape, mean: f64, std: f64) -> Result<EagerTensor> {
        normal(self, shape, mean, std)
    }
}

/// A tensor on the backend and device of `like` from an `ndarray` array
/// (EagerPy's `from_numpy`); any layout is read in logical order.
///
/// ```
/// # use eager_tensor as ep;
/// let like = ep::EagerTensor::zeros(ep::Backend::NdArray, &[], ep::DType::F32)?;
/// let a = ep::ndarray::arr2(&[[1.0f64, 2.0], [3.0, 4.0]]).into_dyn();
/// let t = ep::from_ndarray(&like, a.t().to_owned())?; // transposed layout
/// assert_eq!((t.dtype(), t.shape()), (ep::DType::F64, vec![2, 2]));
/// assert_eq!(t.to_vec::<f64>()?, vec![1.0, 3.0, 2.0, 4.0]);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn from_ndarray<E: eager_core::Element>(
    like: &EagerTensor,
    a: ndarray::ArrayD<E>,
) -> Result<EagerTensor> {
    let shape = a.shape().to_vec();
    let v = if a.is_standard_layout() {
        a.into_raw_vec_and_offset().0
    } else {
        a.iter().copied().collect()
    };
    like.host_like("from_ndarray", E::into_host(v), &shape)
}
/// A tensor on the backend and device of `like` from row-major data (its
/// dtype is `E`'s, not `like`'s); `shape` is any [`IntoShape`].
///
/// ```
/// # use eager_tensor as ep;
/// let like = ep::EagerTensor::zeros(ep::Backend::NdArray, &[], ep::DType::F32)?;
/// let t = ep::from_vec(&like, vec![1u8, 2, 3, 4, 5, 6], [2, 3])?;
/// assert_eq!((t.backend(), t.dtype(), t.shape()), (ep::Backend::NdArray, ep::DType::U8, vec![2, 3]));
/// assert_eq!(t.sum_axes(0, false)?.to_vec::<u64>()?, vec![5, 7, 9]);
/// let e = ep::from_vec(&like, vec![1u8; 5], [2, 3]).unwrap_err();
/// assert_eq!((e.kind(), e.op()), ("shape", "from_vec"));
/// # Ok::<(), ep::Error>(())
/// ```
pub fn from_vec<E: eager_core::Element>(
    like: &EagerTensor,
    data: Vec<E>,
    shape: impl IntoShape,
) -> Result<EagerTensor> {
    let shape = dims("from_vec", shape)?;
    like.host_like("from_vec", E::into_host(data), &shape)
}
