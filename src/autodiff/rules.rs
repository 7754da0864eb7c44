//! The backward rule of every primitive of the op contract that is not a
//! single-tensor method (binary ops, `where`, `matmul`, joins, gathers and
//! scatters), each recorded beside its forward computation.

use super::*;

/// `t` with its last two axes swapped (recorded when `t` is traced).
pub(crate) fn swap_last2(t: &EagerTensor) -> Result<EagerTensor> {
    let n = t.ndim();
    let mut p: Vec<usize> = (0..n).collect();
    p.swap(n - 2, n - 1);
    t.dyn_permute(&p)
}

/// `f(g)` for the single input.
pub(super) fn one(
    f: impl Fn(&EagerTensor) -> Result<EagerTensor> + Send + Sync + 'static,
) -> Backward {
    Box::new(move |g| Ok(vec![Some(f(g)?)]))
}

pub(super) fn none() -> Backward {
    Box::new(|_| Ok(vec![None]))
}

pub(super) fn float_scalar(like: &EagerTensor, v: f64) -> Scalar {
    match like.dtype() {
        DType::F32 => Scalar::F32(v as f32),
        _ => Scalar::F64(v),
    }
}

pub(super) fn unary_backward(op: UnaryOp, x: EagerTensor, y: EagerTensor) -> Backward {
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
pub(super) fn chooser(a: &EagerTensor, b: &EagerTensor, wins: BinaryOp) -> Result<EagerTensor> {
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
pub(super) fn along_axis(index: &EagerTensor, axis: usize, shape: &[usize]) -> Result<EagerTensor> {
    let mut s = vec![1; shape.len()];
    s[axis] = index.numel();
    index.reshape_exact(&s)?.broadcast_to(shape)
}

/// [`prim::pick`] on the tape: the gradient scatters back into zeros of
/// `x`'s shape, at `index` broadcast along `axis` for a 1-D index.
pub(crate) fn pick(
    op: &'static str,
    kind: prim::Pick,
    x: &EagerTensor,
    axis: usize,
    index: &EagerTensor,
) -> Result<EagerTensor> {
    let (xv, iv) = (x.plain(), index.plain());
    let out = prim::pick(op, kind, &xv, axis, &iv)?;
    let backward: Backward = Box::new(move |g| {
        let idx = match kind {
            prim::Pick::Select => along_axis(&iv, axis, &g.shape())?,
            prim::Pick::Gather => iv.clone(),
        };
        Ok(vec![
            Some(prim::scatter_add(&xv.zeros_like()?, axis, &idx, g)?),
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
        let gv = prim::pick(op, crate::prim::Pick::Select, g, 0, &pv)?;
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
            Some(prim::pick(
                "scatter_add",
                crate::prim::Pick::Gather,
                g,
                axis,
                &iv,
            )?),
        ])
    });
    record("scatter_add", &[x, index, src], out, backward)
}
