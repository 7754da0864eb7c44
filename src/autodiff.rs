//! Reverse-mode automatic differentiation on every backend: JAX-style
//! `value_and_grad` over ordinary Rust closures.
//!
//! `value_and_grad(f, &x)` wraps `x` as a *traced* tensor
//! ([`EagerTensor::Traced`]) that belongs to a fresh tape. Every operation of
//! the op contract that receives a traced operand computes its value with the
//! backend as usual and records a node with its backward rule on that tape
//! (the way Burn's autodiff decorates a backend, or JAX wraps values in
//! tracers). Everything the facade composes from those operations —
//! `softmax`, `crossentropy`, norms, indexing, padding, `mean`, ... — is
//! differentiable for free. The backward pass runs the rules in reverse
//! order with plain (untraced) tensors of the same backend.
//!
//! Rules worth knowing (also in `docs/semantics.md`):
//! - Only float tensors are traced. Operations whose result is an integer or
//!   bool (comparisons, `argmax`, `argsort`, `isnan`, casts to integers) pass
//!   no gradient; `sign`, `round`, `ceil`, `floor` and `floor_div` have a zero
//!   gradient, as in JAX.
//! - `min`/`max` reductions and `minimum`/`maximum` split the gradient evenly
//!   between tied elements (JAX's rule).
//! - Tensors captured by `f` from outside are constants.
//! - There is no global state: each call has its own tape, so calls in
//!   parallel threads and repeated calls are independent. A nested
//!   `value_and_grad` inside `f` works when it differentiates its own
//!   inputs; differentiating *through* it (a tensor traced by an outer call
//!   reaching an inner tape, i.e. higher-order derivatives) is an error.

use crate::tensor::DynOps;
use crate::{prim, BinaryOp, DType, EagerTensor, Error, HostBuffer, Result, Scalar, UnaryOp};
use eager_core::ops::{ArgReduceOp, Device, Distribution, ReduceOp};
use eager_core::shape::SliceRange;
use eager_core::HostData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

type Grads = Vec<Option<EagerTensor>>;
type Backward = Box<dyn Fn(&EagerTensor) -> Result<Grads> + Send + Sync>;
/// A gradient computed only if it is needed.
type Lazy<'a> = &'a dyn Fn() -> Result<EagerTensor>;

struct Node {
    /// The node of each input, `None` for constants.
    inputs: Vec<Option<usize>>,
    /// Maps the output's gradient to one gradient per input; `None` for leaves.
    backward: Option<Backward>,
}

struct Tape {
    id: u64,
    nodes: Mutex<Vec<Node>>,
}

static NEXT_TAPE: AtomicU64 = AtomicU64::new(1);

impl Tape {
    fn new() -> Arc<Tape> {
        Arc::new(Tape {
            id: NEXT_TAPE.fetch_add(1, Ordering::Relaxed),
            nodes: Mutex::new(Vec::new()),
        })
    }
    fn push(&self, node: Node) -> Result<usize> {
        let mut nodes = self
            .nodes
            .lock()
            .map_err(|_| Error::invalid("value_and_grad", "the tape was poisoned"))?;
        nodes.push(node);
        Ok(nodes.len() - 1)
    }
}

/// A tensor being differentiated: its value and its place on a tape.
///
/// Appears only inside a function passed to [`value_and_grad`] and friends;
/// every operation accepts it like any tensor. [`EagerTensor::detach`] gives
/// the plain value.
#[derive(Clone)]
pub struct Traced(Arc<TracedInner>);

struct TracedInner {
    value: EagerTensor,
    tape: Arc<Tape>,
    node: usize,
}

impl Traced {
    /// The plain value.
    pub fn value(&self) -> &EagerTensor {
        &self.0.value
    }
}

impl EagerTensor {
    /// The tensor without autodiff tracing: the value of a traced tensor,
    /// and for torch and candle tensors also cut from libtorch's autograd
    /// graph or Candle's backprop graph (a cheap clone otherwise).
    ///
    /// ```
    /// # use eager_tensor as ep;
    /// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![3.0f64], &[])?;
    /// // d/dx (x * stop_gradient(x)) = x: the detached factor is a constant.
    /// let (_, g) = ep::value_and_grad(|x| x.mul(&x.detach()), &x)?;
    /// assert_eq!(g.item::<f64>()?, 3.0);
    /// # Ok::<(), ep::Error>(())
    /// ```
    pub fn detach(&self) -> EagerTensor {
        let plain = self.plain();
        #[cfg(feature = "candle")]
        if let EagerTensor::Candle(t) = &plain {
            return EagerTensor::Candle(t.detach());
        }
        #[cfg(feature = "torch")]
        if let EagerTensor::Torch(t) = &plain {
            if let Ok(d) = t.detach() {
                return EagerTensor::Torch(d);
            }
        }
        plain
    }
    /// The value of a traced tensor, the tensor itself otherwise.
    pub(crate) fn plain(&self) -> EagerTensor {
        match self {
            EagerTensor::Traced(t) => t.value().clone(),
            other => other.clone(),
        }
    }
    /// Whether this tensor is being differentiated (inside `value_and_grad`).
    pub fn is_traced(&self) -> bool {
        matches!(self, EagerTensor::Traced(_))
    }
    /// Whether this tensor is a placeholder of a function being compiled by
    /// [`jit`](crate::jit) (xla): it has no value yet, so checks that read
    /// values are left to the program (see the `jit` module docs).
    pub fn in_jit(&self) -> bool {
        match self {
            EagerTensor::Traced(t) => t.value().in_jit(),
            #[cfg(feature = "xla")]
            EagerTensor::Xla(x) => x.is_traced_by_jit(),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
    fn traced(&self) -> Option<&Traced> {
        match self {
            EagerTensor::Traced(t) => Some(t),
            _ => None,
        }
    }
}

/// Records `out` (computed from the plain values of `inputs`) as the result
/// of an op with the given backward rule. Integer and bool results are not
/// traced.
fn record(
    op: &'static str,
    inputs: &[&EagerTensor],
    out: EagerTensor,
    backward: Backward,
) -> Result<EagerTensor> {
    if !out.dtype().is_float() {
        return Ok(out);
    }
    let mut tape: Option<&Arc<Tape>> = None;
    for t in inputs.iter().filter_map(|t| t.traced()) {
        match tape {
            Some(tp) if tp.id != t.0.tape.id => {
                return Err(Error::invalid(
                    op,
                    "tensors traced by two different value_and_grad calls meet here; \
                     differentiating through a nested value_and_grad is not supported",
                ))
            }
            _ => tape = Some(&t.0.tape),
        }
    }
    let Some(tape) = tape else { return Ok(out) };
    let inputs = inputs
        .iter()
        .map(|t| t.traced().map(|t| t.0.node))
        .collect();
    let node = tape.push(Node {
        inputs,
        backward: Some(backward),
    })?;
    Ok(EagerTensor::Traced(Traced(Arc::new(TracedInner {
        value: out,
        tape: tape.clone(),
        node,
    }))))
}

fn leaf(tape: &Arc<Tape>, value: EagerTensor) -> Result<EagerTensor> {
    let node = tape.push(Node {
        inputs: Vec::new(),
        backward: None,
    })?;
    Ok(EagerTensor::Traced(Traced(Arc::new(TracedInner {
        value,
        tape: tape.clone(),
        node,
    }))))
}

/// Sums `g` down to `shape` (the inverse of broadcasting).
fn unbroadcast(g: EagerTensor, shape: &[usize]) -> Result<EagerTensor> {
    let gs = g.shape();
    if gs == shape {
        return Ok(g);
    }
    let lead = gs.len() - shape.len();
    let mut axes: Vec<isize> = (0..lead as isize).collect();
    for (i, &d) in shape.iter().enumerate() {
        if d == 1 && gs[lead + i] != 1 {
            axes.push((lead + i) as isize);
        }
    }
    // Summing the leading axes away already gives `shape`; kept size-1
    // axes need a reshape (an op of its own on xla and tensorflow).
    let summed = g.sum_axes(&axes, false)?;
    if summed.shape() == shape {
        return Ok(summed);
    }
    summed.reshape_exact(shape)
}

/// `t` with its last two axes swapped (recorded when `t` is traced).
pub(crate) fn swap_last2(t: &EagerTensor) -> Result<EagerTensor> {
    let n = t.ndim();
    let mut p: Vec<usize> = (0..n).collect();
    p.swap(n - 2, n - 1);
    t.dyn_permute(&p)
}

/// `f(g)` for the single input.
fn one(f: impl Fn(&EagerTensor) -> Result<EagerTensor> + Send + Sync + 'static) -> Backward {
    Box::new(move |g| Ok(vec![Some(f(g)?)]))
}

fn none() -> Backward {
    Box::new(|_| Ok(vec![None]))
}

fn float_scalar(like: &EagerTensor, v: f64) -> Scalar {
    match like.dtype() {
        DType::F32 => Scalar::F32(v as f32),
        _ => Scalar::F64(v),
    }
}

fn unary_backward(op: UnaryOp, x: EagerTensor, y: EagerTensor) -> Backward {
    use UnaryOp::*;
    let dtype = x.dtype();
    let c = move |v: f64| {
        if dtype == DType::F32 {
            Scalar::F32(v as f32)
        } else {
            Scalar::F64(v)
        }
    };
    match op {
        Abs => one(move |g| g.mul(&x.sign()?)),
        Neg => one(|g| g.neg()),
        Sign | Round | Ceil | Floor | IsNan | IsInf | LogicalNot => none(),
        Sqrt => one(move |g| g.div(&y.mul(c(2.0))?)),
        Square => one(move |g| g.mul(&x.mul(c(2.0))?)),
        Exp => one(move |g| g.mul(&y)),
        Log => one(move |g| g.div(&x)),
        Log2 => one(move |g| g.div(&x.mul(c(std::f64::consts::LN_2))?)),
        Log10 => one(move |g| g.div(&x.mul(c(std::f64::consts::LN_10))?)),
        Log1p => one(move |g| g.div(&x.add(c(1.0))?)),
        Sin => one(move |g| g.mul(&x.cos()?)),
        Cos => one(move |g| g.mul(&x.sin()?.neg()?)),
        Tan => one(move |g| g.mul(&y.square()?.add(c(1.0))?)),
        Sinh => one(move |g| g.mul(&x.cosh()?)),
        Cosh => one(move |g| g.mul(&x.sinh()?)),
        // g (1 - y²) as g - g y²: one op fewer.
        Tanh => one(move |g| g.sub(&g.mul(&y.square()?)?)),
        Arcsin => one(move |g| g.div(&x.square()?.neg()?.add(c(1.0))?.sqrt()?)),
        Arccos => one(move |g| g.div(&x.square()?.neg()?.add(c(1.0))?.sqrt()?)?.neg()),
        Arctan => one(move |g| g.div(&x.square()?.add(c(1.0))?)),
        Arcsinh => one(move |g| g.div(&x.square()?.add(c(1.0))?.sqrt()?)),
        Arccosh => one(move |g| g.div(&x.square()?.sub(c(1.0))?.sqrt()?)),
        Arctanh => one(move |g| g.div(&x.square()?.neg()?.add(c(1.0))?)),
        Sigmoid => one(move |g| g.mul(&y.mul(&y.neg()?.add(c(1.0))?)?)),
        Relu => one(move |g| g.mul(&x.gt(c(0.0))?.astype(x.dtype())?)),
    }
}

/// Gradient share of `a` in `minimum`/`maximum`: 1 where it wins, ½ on ties.
fn chooser(a: &EagerTensor, b: &EagerTensor, wins: BinaryOp) -> Result<EagerTensor> {
    let d = a.dtype();
    let win = a.binary(wins, b)?.astype(d)?;
    let tie = a.eq(b)?.astype(d)?.mul(float_scalar(a, 0.5))?;
    win.add(&tie)
}

pub(crate) fn binary(op: BinaryOp, a: &EagerTensor, b: &EagerTensor) -> Result<EagerTensor> {
    use BinaryOp::*;
    let (x, y) = (a.plain(), b.plain());
    let out = prim::binary(op, &x, &y)?;
    let (sa, sb) = (x.shape(), y.shape());
    // A gradient is computed only for an input that is traced: the rules
    // hand `two` closures, and a constant's is never called.
    let need = [a.traced().is_some(), b.traced().is_some()];
    let two = move |ga: Lazy, gb: Lazy| -> Result<Grads> {
        Ok(vec![
            if need[0] {
                Some(unbroadcast(ga()?, &sa)?)
            } else {
                None
            },
            if need[1] {
                Some(unbroadcast(gb()?, &sb)?)
            } else {
                None
            },
        ])
    };
    let o = out.clone();
    let backward: Backward = match op {
        Add => Box::new(move |g| two(&|| Ok(g.clone()), &|| Ok(g.clone()))),
        Sub => Box::new(move |g| two(&|| Ok(g.clone()), &|| g.neg())),
        Mul => Box::new(move |g| two(&|| g.mul(&y), &|| g.mul(&x))),
        Div => Box::new(move |g| two(&|| g.div(&y), &|| g.mul(&x)?.div(&y.square()?)?.neg())),
        Rem => Box::new(move |g| two(&|| Ok(g.clone()), &|| g.mul(&x.floor_div(&y)?)?.neg())),
        Pow => Box::new(move |g| {
            let one = float_scalar(&x, 1.0);
            two(&|| g.mul(&y)?.mul(&x.pow(&y.sub(one)?)?), &|| {
                // d/db a^b = a^b ln a, with a = 0 contributing 0 (JAX's rule).
                let safe = x.eq(float_scalar(&x, 0.0))?.where_cond(one, &x)?;
                g.mul(&o)?.mul(&safe.log()?)
            })
        }),
        Minimum => Box::new(move |g| {
            two(&|| g.mul(&chooser(&x, &y, Lt)?), &|| {
                g.mul(&chooser(&y, &x, Lt)?)
            })
        }),
        Maximum => Box::new(move |g| {
            two(&|| g.mul(&chooser(&x, &y, Gt)?), &|| {
                g.mul(&chooser(&y, &x, Gt)?)
            })
        }),
        FloorDiv | LogicalAnd | LogicalOr | Lt | Le | Gt | Ge | Eq | Ne => {
            Box::new(move |_| Ok(vec![None, None]))
        }
    };
    record(op.name(), &[a, b], out, backward)
}

pub(crate) fn where_cond(c: &EagerTensor, x: &EagerTensor, y: &EagerTensor) -> Result<EagerTensor> {
    let (cv, xv, yv) = (c.plain(), x.plain(), y.plain());
    let out = prim::where_cond(&cv, &xv, &yv)?;
    let (sx, sy) = (xv.shape(), yv.shape());
    let need = [x.traced().is_some(), y.traced().is_some()];
    let backward: Backward = Box::new(move |g| {
        let zero = g.zeros_like()?;
        let c = cv.broadcast_to(g.shape())?;
        let gx = if need[0] {
            Some(unbroadcast(prim::where_cond(&c, g, &zero)?, &sx)?)
        } else {
            None
        };
        let gy = if need[1] {
            Some(unbroadcast(prim::where_cond(&c, &zero, g)?, &sy)?)
        } else {
            None
        };
        Ok(vec![None, gx, gy])
    });
    record("where_cond", &[c, x, y], out, backward)
}

pub(crate) fn matmul(a: &EagerTensor, b: &EagerTensor) -> Result<EagerTensor> {
    let (x, y) = (a.plain(), b.plain());
    let out = prim::matmul(&x, &y)?;
    let need = [a.traced().is_some(), b.traced().is_some()];
    let backward: Backward = Box::new(move |g| {
        Ok(vec![
            if need[0] {
                Some(prim::matmul_t(g, &y, false, true)?)
            } else {
                None
            },
            if need[1] {
                Some(prim::matmul_t(&x, g, true, false)?)
            } else {
                None
            },
        ])
    });
    record("matmul", &[a, b], out, backward)
}

pub(crate) fn concat(op: &'static str, ts: &[&EagerTensor], axis: usize) -> Result<EagerTensor> {
    let values: Vec<EagerTensor> = ts.iter().map(|t| t.plain()).collect();
    let out = prim::concat(op, &values.iter().collect::<Vec<_>>(), axis)?;
    let sizes: Vec<usize> = values.iter().map(|t| t.shape()[axis]).collect();
    let backward: Backward = Box::new(move |g| {
        let gs = g.shape();
        let mut start = 0;
        let mut grads = Vec::with_capacity(sizes.len());
        for &n in &sizes {
            let mut r: Vec<SliceRange> = gs.iter().map(|&d| SliceRange::full(d)).collect();
            r[axis] = SliceRange {
                start,
                len: n,
                step: 1,
            };
            grads.push(Some(g.dyn_slice(&r)?));
            start += n;
        }
        Ok(grads)
    });
    record(op, ts, out, backward)
}

/// `index` broadcast to `g`'s shape along `axis` (for index_select's backward).
fn along_axis(index: &EagerTensor, axis: usize, shape: &[usize]) -> Result<EagerTensor> {
    let mut s = vec![1; shape.len()];
    s[axis] = index.numel();
    index.reshape_exact(&s)?.broadcast_to(shape)
}

pub(crate) fn index_select(
    op: &'static str,
    x: &EagerTensor,
    axis: usize,
    index: &EagerTensor,
) -> Result<EagerTensor> {
    let (xv, iv) = (x.plain(), index.plain());
    let out = prim::index_select(op, &xv, axis, &iv)?;
    let backward: Backward = Box::new(move |g| {
        let idx = along_axis(&iv, axis, &g.shape())?;
        Ok(vec![
            Some(prim::scatter_add(&xv.zeros_like()?, axis, &idx, g)?),
            None,
        ])
    });
    record(op, &[x, index], out, backward)
}

pub(crate) fn gather(
    op: &'static str,
    x: &EagerTensor,
    axis: usize,
    index: &EagerTensor,
) -> Result<EagerTensor> {
    let (xv, iv) = (x.plain(), index.plain());
    let out = prim::gather(op, &xv, axis, &iv)?;
    let backward: Backward = Box::new(move |g| {
        Ok(vec![
            Some(prim::scatter_add(&xv.zeros_like()?, axis, &iv, g)?),
            None,
        ])
    });
    record(op, &[x, index], out, backward)
}

pub(crate) fn scatter(
    op: &'static str,
    x: &EagerTensor,
    positions: &EagerTensor,
    values: &EagerTensor,
) -> Result<EagerTensor> {
    let (xv, pv, vv) = (x.plain(), positions.plain(), values.plain());
    let out = prim::scatter(op, &xv, &pv, &vv)?;
    let backward: Backward = Box::new(move |g| {
        let gx = prim::scatter(op, g, &pv, &vv.zeros_like()?)?;
        let gv = prim::index_select(op, g, 0, &pv)?;
        Ok(vec![Some(gx), None, Some(gv)])
    });
    record(op, &[x, positions, values], out, backward)
}

pub(crate) fn scatter_add(
    x: &EagerTensor,
    axis: usize,
    index: &EagerTensor,
    src: &EagerTensor,
) -> Result<EagerTensor> {
    let (xv, iv, sv) = (x.plain(), index.plain(), src.plain());
    let out = prim::scatter_add(&xv, axis, &iv, &sv)?;
    let backward: Backward = Box::new(move |g| {
        Ok(vec![
            Some(g.clone()),
            None,
            Some(prim::gather("scatter_add", g, axis, &iv)?),
        ])
    });
    record("scatter_add", &[x, index, src], out, backward)
}

/// The traced tensor as an `EagerTensor` again.
fn wrap(t: &Traced) -> EagerTensor {
    EagerTensor::Traced(t.clone())
}

/// Re-inserts reduced axes (size 1) so that `g` broadcasts against the input.
fn keep(
    g: &EagerTensor,
    axes: &[usize],
    keepdims: bool,
    in_shape: &[usize],
) -> Result<EagerTensor> {
    // Without the leading axes `g` already broadcasts against the input.
    if keepdims || axes.iter().enumerate().all(|(i, &a)| i == a) {
        return Ok(g.clone());
    }
    let mut s = in_shape.to_vec();
    for &a in axes {
        s[a] = 1;
    }
    g.reshape_exact(&s)
}

impl DynOps for Traced {
    fn dyn_backend(&self) -> crate::Backend {
        self.value().backend()
    }
    fn dyn_native_dtype_ok(&self) -> Result<()> {
        self.value().dyn_native_dtype_ok()
    }
    fn dyn_shape(&self) -> Vec<usize> {
        self.value().shape()
    }
    fn dyn_dtype(&self) -> DType {
        self.value().dtype()
    }
    fn dyn_device(&self) -> Device {
        self.value().device()
    }
    fn dyn_to_device(&self, device: Device) -> Result<EagerTensor> {
        let from = self.value().device();
        let out = self.value().dyn_to_device(device)?;
        record(
            "to_device",
            &[&wrap(self)],
            out,
            one(move |g| g.to_device(from)),
        )
    }
    fn dyn_to_host(&self) -> Result<HostData> {
        self.value().dyn_to_host()
    }
    fn dyn_lend_host(&self) -> Result<Option<HostBuffer>> {
        self.value().dyn_lend_host()
    }
    fn dyn_from_host_like(&self, data: HostData, shape: &[usize]) -> Result<EagerTensor> {
        self.value().dyn_from_host_like(data, shape)
    }
    fn dyn_full(&self, shape: &[usize], value: Scalar, dtype: DType) -> Result<EagerTensor> {
        self.value().dyn_full(shape, value, dtype)
    }
    fn dyn_random(&self, dist: Distribution, shape: &[usize], dtype: DType) -> Result<EagerTensor> {
        self.value().dyn_random(dist, shape, dtype)
    }
    fn dyn_unary(&self, op: UnaryOp) -> Result<EagerTensor> {
        let x = self.value().clone();
        let y = x.dyn_unary(op)?;
        record(
            op.name(),
            &[&wrap(self)],
            y.clone(),
            unary_backward(op, x, y),
        )
    }
    fn dyn_binary_scalar(&self, op: BinaryOp, value: Scalar) -> Result<EagerTensor> {
        let s = self.value().dyn_full(&[], value, self.value().dtype())?;
        prim::binary(op, &wrap(self), &s)
    }
    fn dyn_cast(&self, dtype: DType) -> Result<EagerTensor> {
        let from = self.value().dtype();
        let out = self.value().dyn_cast(dtype)?;
        record("astype", &[&wrap(self)], out, one(move |g| g.cast_to(from)))
    }
    fn dyn_reduce(&self, op: ReduceOp, axes: &[usize], keepdims: bool) -> Result<EagerTensor> {
        let x = self.value().clone();
        let y = x.dyn_reduce(op, axes, keepdims)?;
        let shape = x.shape();
        let axes = axes.to_vec();
        let yv = y.clone();
        let backward: Backward = match op {
            ReduceOp::Sum => one(move |g| keep(g, &axes, keepdims, &shape)?.broadcast_to(&shape)),
            ReduceOp::Mean => one(move |g| {
                let count: usize = axes.iter().map(|&a| shape[a]).product();
                keep(
                    &g.div(float_scalar(g, count as f64))?,
                    &axes,
                    keepdims,
                    &shape,
                )?
                .broadcast_to(&shape)
            }),
            ReduceOp::Min | ReduceOp::Max => one(move |g| {
                // Ties share the gradient evenly (JAX's rule).
                let yk = keep(&yv, &axes, keepdims, &shape)?;
                let hit = x.eq(&yk)?.astype(x.dtype())?;
                let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
                let count = hit.sum_axes(&ax, true)?;
                keep(g, &axes, keepdims, &shape)?.mul(&hit)?.div(&count)
            }),
            ReduceOp::Prod => one(move |g| {
                // The product of the other elements, also where x has zeros.
                let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
                let zero = x.eq(float_scalar(&x, 0.0))?;
                let zeros = zero.astype(DType::I64)?.sum_axes(&ax, true)?;
                let nonzero_prod = zero
                    .where_cond(float_scalar(&x, 1.0), &x)?
                    .prod_axes(&ax, true)?;
                let no_zero = nonzero_prod.div(&x)?;
                let one_zero = zero.where_cond(&nonzero_prod, float_scalar(&x, 0.0))?;
                let share = zeros.eq(0i64)?.where_cond(
                    &no_zero,
                    &zeros
                        .eq(1i64)?
                        .where_cond(&one_zero, float_scalar(&x, 0.0))?,
                )?;
                keep(g, &axes, keepdims, &shape)?.mul(&share)
            }),
            ReduceOp::All | ReduceOp::Any => none(),
        };
        record("reduce", &[&wrap(self)], y, backward)
    }
    fn dyn_arg_reduce(&self, op: ArgReduceOp, axis: usize) -> Result<EagerTensor> {
        self.value().dyn_arg_reduce(op, axis)
    }
    fn dyn_sort(&self, axis: usize, descending: bool) -> Result<EagerTensor> {
        let idx = self.value().dyn_argsort(axis, descending)?;
        prim::gather("sort", &wrap(self), axis, &idx)
    }
    fn dyn_argsort(&self, axis: usize, descending: bool) -> Result<EagerTensor> {
        self.value().dyn_argsort(axis, descending)
    }
    fn dyn_cumsum(&self, axis: usize) -> Result<EagerTensor> {
        let out = self.value().dyn_cumsum(axis)?;
        record(
            "cumsum",
            &[&wrap(self)],
            out,
            one(move |g| g.dyn_flip(&[axis])?.dyn_cumsum(axis)?.dyn_flip(&[axis])),
        )
    }
    fn dyn_reshape(&self, shape: &[usize]) -> Result<EagerTensor> {
        let from = self.value().shape();
        let out = self.value().dyn_reshape(shape)?;
        record(
            "reshape",
            &[&wrap(self)],
            out,
            one(move |g| g.reshape_exact(&from)),
        )
    }
    fn dyn_permute(&self, axes: &[usize]) -> Result<EagerTensor> {
        let mut inverse = vec![0; axes.len()];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        let out = self.value().dyn_permute(axes)?;
        record(
            "permute",
            &[&wrap(self)],
            out,
            one(move |g| g.dyn_permute(&inverse)),
        )
    }
    fn dyn_broadcast_to(&self, shape: &[usize]) -> Result<EagerTensor> {
        let from = self.value().shape();
        let out = self.value().dyn_broadcast_to(shape)?;
        record(
            "broadcast_to",
            &[&wrap(self)],
            out,
            one(move |g| unbroadcast(g.clone(), &from)),
        )
    }
    fn dyn_slice(&self, ranges: &[SliceRange]) -> Result<EagerTensor> {
        let x = self.value().clone();
        let out = x.dyn_slice(ranges)?;
        let ranges = ranges.to_vec();
        let backward = one(move |g| {
            // Scatter the gradient back through the flat positions of the slice.
            let shape = x.shape();
            let n = x.numel();
            let pos = crate::arange(&x, 0, n as i64, 1)?
                .reshape_exact(&shape)?
                .dyn_slice(&ranges)?;
            let m = pos.numel();
            let flat = x.zeros_like()?.reshape_exact(&[n])?;
            prim::scatter_add(&flat, 0, &pos.reshape_exact(&[m])?, &g.reshape_exact(&[m])?)?
                .reshape_exact(&shape)
        });
        record("slice", &[&wrap(self)], out, backward)
    }
    fn dyn_flip(&self, axes: &[usize]) -> Result<EagerTensor> {
        let out = self.value().dyn_flip(axes)?;
        let axes = axes.to_vec();
        record("flip", &[&wrap(self)], out, one(move |g| g.dyn_flip(&axes)))
    }
    fn dyn_nonzero(&self) -> Result<EagerTensor> {
        self.value().dyn_nonzero()
    }
    fn dyn_inv(&self) -> Result<EagerTensor> {
        let y = self.value().dyn_inv()?;
        let yv = y.clone();
        // -Yᵀ g Yᵀ, the transposes folded into the products.
        let backward = one(move |g| {
            prim::matmul_t(&prim::matmul_t(&yv, g, true, false)?, &yv, false, true)?.neg()
        });
        record("inv", &[&wrap(self)], y, backward)
    }
    fn dyn_slogdet(&self) -> Result<(EagerTensor, EagerTensor)> {
        let x = self.value().clone();
        let (sign, logdet) = x.dyn_slogdet()?;
        let backward = one(move |g| {
            let mut s = g.shape();
            s.extend([1, 1]);
            g.reshape_exact(&s)?.mul(&swap_last2(&x.dyn_inv()?)?)
        });
        Ok((sign, record("slogdet", &[&wrap(self)], logdet, backward)?))
    }
}

/// Runs the backward pass from `out` and returns the gradient of each leaf.
fn backward(
    out: &EagerTensor,
    leaves: &[EagerTensor],
    inputs: &[&EagerTensor],
) -> Result<Vec<EagerTensor>> {
    let zeros = || {
        inputs
            .iter()
            .map(|x| x.zeros_like())
            .collect::<Result<Vec<_>>>()
    };
    let Some(o) = out.traced() else {
        return zeros();
    };
    let leaf_tape = match leaves.first().and_then(|l| l.traced()) {
        Some(l) => l.0.tape.clone(),
        None => return zeros(),
    };
    if o.0.tape.id != leaf_tape.id {
        // The result does not depend on these inputs at all.
        return zeros();
    }
    let nodes = leaf_tape
        .nodes
        .lock()
        .map_err(|_| Error::invalid("value_and_grad", "the tape was poisoned"))?;
    let mut grads: Vec<Option<EagerTensor>> = vec![None; nodes.len()];
    grads[o.0.node] = Some(o.value().ones_like()?);
    for i in (0..=o.0.node).rev() {
        let Some(g) = grads[i].take() else { continue };
        let node = &nodes[i];
        let Some(bw) = &node.backward else {
            grads[i] = Some(g);
            continue;
        };
        let gs = bw(&g)?;
        for (input, gi) in node.inputs.iter().zip(gs) {
            if let (Some(j), Some(gi)) = (input, gi) {
                grads[*j] = Some(match grads[*j].take() {
                    Some(acc) => acc.add(&gi)?,
                    None => gi,
                });
            }
        }
    }
    leaves
        .iter()
        .zip(inputs)
        .map(
            |(l, x)| match l.traced().and_then(|t| grads[t.0.node].take()) {
                Some(g) => g.cast_to(x.dtype()),
                None => x.zeros_like(),
            },
        )
        .collect()
}

fn check_input(op: &'static str, x: &EagerTensor) -> Result<()> {
    if x.is_traced() || native::requires_grad(x) {
        return Err(Error::invalid(
            op,
            "the input is already being differentiated (by an outer value_and_grad, or a torch \
             tensor with requires_grad); higher-order derivatives are not supported: detach() it",
        ));
    }
    if !x.dtype().is_float() {
        return Err(Error::dtype(
            op,
            format!("gradients need float inputs, got {}", x.dtype()),
        ));
    }
    Ok(())
}

fn check_loss(op: &'static str, loss: &EagerTensor) -> Result<()> {
    if loss.ndim() != 0 {
        return Err(Error::shape(
            op,
            format!(
                "the function must return a scalar (0-d) tensor, got shape {:?}",
                loss.shape()
            ),
        ));
    }
    if !loss.dtype().is_float() {
        return Err(Error::dtype(
            op,
            format!(
                "the function must return a float tensor, got {}",
                loss.dtype()
            ),
        ));
    }
    Ok(())
}

/// Which reverse-mode engine computes gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The framework's own autograd where it has one (torch; candle where
    /// Candle's backprop covers the function's ops), else the tape.
    Auto,
    /// Always eager-tensor's tape over the op contract.
    Tape,
}

/// The core of all the entry points: traces `f` at `inputs`.
fn trace<A>(
    op: &'static str,
    engine: Engine,
    inputs: &[&EagerTensor],
    f: impl FnOnce(&[EagerTensor]) -> Result<(EagerTensor, A)>,
) -> Result<(EagerTensor, A, Vec<EagerTensor>)> {
    for x in inputs {
        check_input(op, x)?;
    }
    if engine == Engine::Auto && native::applies(inputs) {
        return native::trace(op, inputs, f);
    }
    #[cfg(feature = "candle")]
    if engine == Engine::Auto && candle_native::applies(inputs) {
        return candle_native::trace(op, inputs, f);
    }
    let tape = Tape::new();
    let leaves = inputs
        .iter()
        .map(|x| leaf(&tape, (*x).clone()))
        .collect::<Result<Vec<_>>>()?;
    let (loss, aux) = f(&leaves)?;
    check_loss(op, &loss)?;
    let grads = backward(&loss, &leaves, inputs)?;
    Ok((loss.plain(), aux, grads))
}

/// The value of `f(x)` and its gradient with respect to `x` (JAX's
/// `value_and_grad`, EagerPy's `ep.value_and_grad`).
///
/// `f` is an ordinary closure over `&EagerTensor` that returns a scalar
/// (0-d) float tensor; anything else is an error. Tensors `f` captures are
/// constants.
///
/// ```
/// use eager_tensor as ep;
/// let like = ep::EagerTensor::zeros(ep::Backend::NdArray, &[], ep::DType::F32)?;
/// let x = ep::arange(&like, 0, 8, 1)?.float32()?.reshape(&[2, 4])?;
/// let (v, g) = ep::value_and_grad(|x| x.square()?.sum(), &x)?;
/// assert_eq!(v.item::<f32>()?, 140.0);
/// assert_eq!(g.to_vec::<f32>()?, (&x * 2.0)?.to_vec::<f32>()?);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_and_grad<F>(f: F, x: &EagerTensor) -> Result<(EagerTensor, EagerTensor)>
where
    F: FnOnce(&EagerTensor) -> Result<EagerTensor>,
{
    let (v, (), mut g) = trace("value_and_grad", Engine::Auto, &[x], |xs| {
        Ok((f(&xs[0])?, ()))
    })?;
    Ok((v, g.remove(0)))
}

/// Like [`value_and_grad`] for a function that returns `(loss, aux)`;
/// `aux` is passed through (EagerPy's `has_aux=True`). Tensors in `aux` may
/// still be traced: [`EagerTensor::detach`] them to keep only the value.
///
/// ```
/// use eager_tensor as ep;
/// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32, 2.0], &[2])?;
/// let (loss, pred, g) = ep::value_aux_and_grad(
///     |x| {
///         let y = x.square()?;
///         Ok((y.sum()?, y.argmax()?.detach()))
///     },
///     &x,
/// )?;
/// assert_eq!(loss.item::<f32>()?, 5.0);
/// assert_eq!(pred.item::<i64>()?, 1);
/// assert_eq!(g.to_vec::<f32>()?, vec![2.0, 4.0]);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_aux_and_grad<F, A>(f: F, x: &EagerTensor) -> Result<(EagerTensor, A, EagerTensor)>
where
    F: FnOnce(&EagerTensor) -> Result<(EagerTensor, A)>,
{
    let (v, aux, mut g) = trace("value_aux_and_grad", Engine::Auto, &[x], |xs| f(&xs[0]))?;
    Ok((v, aux, g.remove(0)))
}

/// A reusable function computing `value_and_grad(f, x)` (EagerPy's
/// `value_and_grad_fn`).
///
/// ```
/// use eager_tensor as ep;
/// let vg = ep::value_and_grad_fn(|x: &ep::EagerTensor| x.sin()?.sum());
/// let x = ep::EagerTensor::zeros(ep::Backend::NdArray, &[3], ep::DType::F64)?;
/// let (v, g) = vg(&x)?;
/// assert_eq!((v.item::<f64>()?, g.to_vec::<f64>()?), (0.0, vec![1.0; 3]));
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_and_grad_fn<F>(f: F) -> impl Fn(&EagerTensor) -> Result<(EagerTensor, EagerTensor)>
where
    F: Fn(&EagerTensor) -> Result<EagerTensor>,
{
    move |x| value_and_grad(&f, x)
}

/// The value of `f(xs)` and its gradients with respect to every input
/// (JAX's `argnums=(0, 1, ...)`): `f` receives the inputs as a slice.
///
/// ```
/// use eager_tensor as ep;
/// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f64, 2.0], &[1, 2])?;
/// let w = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![3.0f64, 4.0], &[2, 1])?;
/// let (v, g) = ep::value_and_grads(|t| t[0].matmul(&t[1])?.sum(), &[&x, &w])?;
/// assert_eq!(v.item::<f64>()?, 11.0);
/// assert_eq!(g[0].to_vec::<f64>()?, vec![3.0, 4.0]);
/// assert_eq!(g[1].to_vec::<f64>()?, vec![1.0, 2.0]);
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_and_grads<F>(f: F, xs: &[&EagerTensor]) -> Result<(EagerTensor, Vec<EagerTensor>)>
where
    F: FnOnce(&[EagerTensor]) -> Result<EagerTensor>,
{
    value_and_grads_with(Engine::Auto, f, xs)
}

/// [`value_and_grads`] with a chosen [`Engine`]: `Engine::Tape` forces
/// eager-tensor's own tape on backends that have a native autograd (used to
/// test that both agree).
///
/// ```
/// use eager_tensor as ep;
/// let x = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f64, 2.0], &[2])?;
/// let w = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![3.0f64, 4.0], &[2])?;
/// for engine in [ep::Engine::Auto, ep::Engine::Tape] {
///     let (v, g) = ep::value_and_grads_with(engine, |t| t[0].mul(&t[1])?.sum(), &[&x, &w])?;
///     assert_eq!(v.item::<f64>()?, 11.0);
///     assert_eq!((g[0].to_vec::<f64>()?, g[1].to_vec::<f64>()?), (vec![3.0, 4.0], vec![1.0, 2.0]));
/// }
/// let e = ep::value_and_grads_with(ep::Engine::Tape, |t| t[0].sum(), &[]).unwrap_err();
/// assert_eq!(e.op(), "value_and_grads");
/// # Ok::<(), ep::Error>(())
/// ```
pub fn value_and_grads_with<F>(
    engine: Engine,
    f: F,
    xs: &[&EagerTensor],
) -> Result<(EagerTensor, Vec<EagerTensor>)>
where
    F: FnOnce(&[EagerTensor]) -> Result<EagerTensor>,
{
    if xs.is_empty() {
        return Err(Error::invalid(
            "value_and_grads",
            "needs at least one input",
        ));
    }
    let (v, (), g) = trace("value_and_grads", engine, xs, |ts| Ok((f(ts)?, ())))?;
    Ok((v, g))
}

/// While alive, one level deeper in a framework's native-autograd traces
/// on this thread (the counter is the framework's own thread-local).
#[cfg(any(feature = "torch", feature = "candle"))]
struct Enter(&'static std::thread::LocalKey<std::cell::Cell<usize>>);

#[cfg(any(feature = "torch", feature = "candle"))]
impl Enter {
    fn new(depth: &'static std::thread::LocalKey<std::cell::Cell<usize>>) -> Enter {
        depth.with(|d| d.set(d.get() + 1));
        Enter(depth)
    }
}

#[cfg(any(feature = "torch", feature = "candle"))]
impl Drop for Enter {
    fn drop(&mut self) {
        self.0.with(|d| d.set(d.get() - 1));
    }
}

/// libtorch's own autograd for torch tensors.
#[cfg(feature = "torch")]
mod native {
    use super::*;
    use crate::TorchTensor;
    use eager_torch::tch::Tensor;
    use std::cell::Cell;

    thread_local! {
        /// How many native traces this thread is inside: a nested call uses
        /// the tape, so that libtorch's graph keeps the outer dependency.
        static DEPTH: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn requires_grad(x: &EagerTensor) -> bool {
        matches!(x, EagerTensor::Torch(t) if t.tensor().requires_grad())
    }

    pub(super) fn applies(inputs: &[&EagerTensor]) -> bool {
        DEPTH.with(|d| d.get()) == 0 && inputs.iter().all(|x| matches!(x, EagerTensor::Torch(_)))
    }

    fn fw(e: eager_torch::tch::TchError) -> Error {
        eager_torch::error("value_and_grad", e)
    }

    pub(super) fn trace<A>(
        op: &'static str,
        inputs: &[&EagerTensor],
        f: impl FnOnce(&[EagerTensor]) -> Result<(EagerTensor, A)>,
    ) -> Result<(EagerTensor, A, Vec<EagerTensor>)> {
        let mut leaves: Vec<Tensor> = Vec::with_capacity(inputs.len());
        for x in inputs {
            let EagerTensor::Torch(t) = x else {
                return Err(Error::invalid(
                    op,
                    "native autograd got a tensor of another backend",
                ));
            };
            leaves.push(
                t.tensor()
                    .f_detach()
                    .map_err(fw)?
                    .f_requires_grad_(true)
                    .map_err(fw)?,
            );
        }
        let wrapped: Vec<EagerTensor> = leaves
            .iter()
            .map(|l| EagerTensor::Torch(TorchTensor::wrap(l.shallow_clone())))
            .collect();
        let (loss, aux) = {
            let _inside = Enter::new(&DEPTH);
            f(&wrapped)?
        };
        check_loss(op, &loss)?;
        let EagerTensor::Torch(lt) = &loss else {
            return Err(crate::tensor::mismatch(op, &[inputs[0], &loss]));
        };
        let grads = if lt.tensor().requires_grad() {
            Tensor::f_run_backward(&[lt.tensor()], &leaves, false, false).map_err(fw)?
        } else {
            Vec::new()
        };
        // Without `create_graph` the gradients libtorch returns are outside
        // any graph already (no `detach`, which would cost a tensor each).
        let grads = inputs
            .iter()
            .zip(
                grads
                    .into_iter()
                    .map(Some)
                    .chain(std::iter::repeat_with(|| None)),
            )
            .map(|(x, g)| match g {
                Some(g) if g.defined() => Ok(EagerTensor::Torch(TorchTensor::wrap(g))),
                _ => x.zeros_like(),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((loss.detach(), aux, grads))
    }
}

/// Backends without a native autograd: always the tape.
#[cfg(not(feature = "torch"))]
mod native {
    use super::*;

    pub(super) fn requires_grad(_: &EagerTensor) -> bool {
        false
    }
    pub(super) fn applies(_: &[&EagerTensor]) -> bool {
        false
    }
    pub(super) fn trace<A>(
        _: &'static str,
        _: &[&EagerTensor],
        _: impl FnOnce(&[EagerTensor]) -> Result<(EagerTensor, A)>,
    ) -> Result<(EagerTensor, A, Vec<EagerTensor>)> {
        Err(Error::invalid(
            "value_and_grad",
            "no native autograd in this build",
        ))
    }
}

/// Candle's own backprop (`Var`, `Tensor::backward`, `GradStore`) for
/// f32/f64 candle tensors, with the tape recorded alongside as the fallback.
///
/// The inputs become Candle variables and `f` runs on tape leaves holding
/// them, so Candle records its graph while the tape records its own. After
/// `f`, if every op stayed in Candle's graph with eager-tensor's gradient
/// rules (`eager_candle::backprop::Watch`: no tracked float tensor went
/// through a host copy or an op whose Candle rule differs), the gradients
/// come from `loss.backward()`; otherwise, or if Candle's backward returns
/// an error, from the tape. `f` runs once either way.
#[cfg(feature = "candle")]
mod candle_native {
    use super::*;
    use crate::CandleTensor;
    use eager_candle::candle_core::{self, Tensor, Var};
    use std::cell::Cell;

    thread_local! {
        /// How many candle native traces this thread is inside: a nested
        /// call uses the tape only.
        static DEPTH: Cell<usize> = const { Cell::new(0) };
    }

    /// All inputs candle f32/f64 tensors, and not inside another candle
    /// native trace. f16/bf16 use the tape: the backend computes them in f32
    /// and rounds once per op, which the tape's rules (run through the
    /// backend) keep and Candle's half-precision backward would not.
    pub(super) fn applies(inputs: &[&EagerTensor]) -> bool {
        DEPTH.with(|d| d.get()) == 0
            && inputs.iter().all(|x| {
                matches!(x, EagerTensor::Candle(_)) && matches!(x.dtype(), DType::F32 | DType::F64)
            })
    }

    fn fw(e: candle_core::Error) -> Error {
        eager_candle::error("value_and_grad", e)
    }

    fn candle(op: &'static str, x: &EagerTensor) -> Result<Tensor> {
        match x {
            EagerTensor::Candle(t) => Ok(t.as_candle()?.clone()),
            _ => Err(Error::invalid(
                op,
                "candle's backprop got a tensor of another backend",
            )),
        }
    }

    pub(super) fn trace<A>(
        op: &'static str,
        inputs: &[&EagerTensor],
        f: impl FnOnce(&[EagerTensor]) -> Result<(EagerTensor, A)>,
    ) -> Result<(EagerTensor, A, Vec<EagerTensor>)> {
        let mut vars: Vec<Var> = Vec::with_capacity(inputs.len());
        for x in inputs {
            // A copy of the input (Candle's variables own their storage).
            let t = candle(op, x)?;
            vars.push(Var::from_tensor(&t.detach()).map_err(fw)?);
        }
        let tape = Tape::new();
        let leaves = vars
            .iter()
            .map(|v| {
                leaf(
                    &tape,
                    EagerTensor::Candle(CandleTensor::wrap(v.as_tensor().clone())),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let watch = eager_candle::backprop::watch();
        let (loss, aux) = {
            let _inside = Enter::new(&DEPTH);
            f(&leaves)?
        };
        let covered = watch.covered();
        check_loss(op, &loss)?;
        let value = loss.detach();
        if covered {
            if let Some(grads) = native_grads(&loss, &vars, inputs)? {
                return Ok((value, aux, grads));
            }
        }
        let grads = backward(&loss, &leaves, inputs)?
            .iter()
            .map(EagerTensor::detach)
            .collect();
        Ok((value, aux, grads))
    }

    /// The gradients from Candle's backward pass; `None` when the loss is
    /// not a candle tensor or Candle's backward fails (the tape then runs).
    fn native_grads(
        loss: &EagerTensor,
        vars: &[Var],
        inputs: &[&EagerTensor],
    ) -> Result<Option<Vec<EagerTensor>>> {
        let EagerTensor::Candle(l) = loss.plain() else {
            return Ok(None);
        };
        let Ok(store) = l.0.backward() else {
            return Ok(None);
        };
        vars.iter()
            .zip(inputs)
            .map(|(v, x)| match store.get(v.as_tensor()) {
                Some(g) if g.dims() == x.shape().as_slice() && g.dtype() == v.dtype() => {
                    Ok(Some(EagerTensor::Candle(CandleTensor::wrap(g.detach()))))
                }
                Some(_) => Ok(None),
                None => x.zeros_like().map(Some),
            })
            .collect::<Result<Option<Vec<_>>>>()
    }
}
