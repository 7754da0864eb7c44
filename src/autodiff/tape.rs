//! The tape: nodes with their backward rules, traced tensors (a value and
//! its place on a tape), and recording an op's result.

use super::*;

pub(super) type Grads = Vec<Option<EagerTensor>>;
pub(super) type Backward = Box<dyn Fn(&EagerTensor) -> Result<Grads> + Send + Sync>;
/// A gradient computed only if it is needed.
pub(super) type Lazy<'a> = &'a dyn Fn() -> Result<EagerTensor>;

pub(super) struct Node {
    /// The node of each input, `None` for constants.
    pub(super) inputs: Vec<Option<usize>>,
    /// Maps the output's gradient to one gradient per input; `None` for leaves.
    pub(super) backward: Option<Backward>,
}

pub(super) struct Tape {
    pub(super) id: u64,
    pub(super) nodes: Mutex<Vec<Node>>,
}

pub(super) static NEXT_TAPE: AtomicU64 = AtomicU64::new(1);

impl Tape {
    pub(super) fn new() -> Arc<Tape> {
        Arc::new(Tape {
            id: NEXT_TAPE.fetch_add(1, Ordering::Relaxed),
            nodes: Mutex::new(Vec::new()),
        })
    }
    pub(super) fn push(&self, node: Node) -> Result<usize> {
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
pub struct Traced(pub(super) Arc<TracedInner>);

pub(super) struct TracedInner {
    pub(super) value: EagerTensor,
    pub(super) tape: Arc<Tape>,
    pub(super) node: usize,
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
        plain.dyn_detach().unwrap_or(plain)
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
            plain => plain.dyn_in_jit(),
        }
    }
    pub(super) fn traced(&self) -> Option<&Traced> {
        match self {
            EagerTensor::Traced(t) => Some(t),
            _ => None,
        }
    }
}

/// Records `out` (computed from the plain values of `inputs`) as the result
/// of an op with the given backward rule. Integer and bool results are not
/// traced.
pub(super) fn record(
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

pub(super) fn leaf(tape: &Arc<Tape>, value: EagerTensor) -> Result<EagerTensor> {
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
pub(super) fn unbroadcast(g: EagerTensor, shape: &[usize]) -> Result<EagerTensor> {
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
