//! `rank/…`: tensors of 9, 16, 64 and 300 dimensions (all ones, or 2 and
//! ones) through every way of making one — `zeros`, `from_vec`, `reshape`
//! of a 1-D tensor, `expand_dims` from 8 dimensions, `broadcast_to`,
//! indexing with a new axis, `stack`, `tile`, `to_backend` and
//! `from_dlpack` of an ndarray tensor — and `add`, `sum`, `index` with a
//! slice on every axis. A backend holds at most
//! its `MAX_RANK` dimensions (candle's kernels index 8, most of
//! TensorFlow's 8, libtorch's 64): past it each is a `shape` error; up to
//! it, ndarray's values.

use super::{t, Add, Expect};
use eager_tensor::{self as ep, Backend, DType, EagerTensor, IndexItem};

/// `r` dimensions: 2 and then ones.
fn lead2(r: usize) -> Vec<usize> {
    let mut s = vec![1; r];
    s[0] = 2;
    s
}

fn lead2_isize(r: usize) -> Vec<isize> {
    lead2(r).into_iter().map(|d| d as isize).collect()
}

/// `[1.5, -2.0]` in `r` dimensions (`lead2`).
fn pair(b: Backend, r: usize) -> ep::Result<EagerTensor> {
    t(b, vec![1.5f32, -2.0], &lead2(r))
}

pub fn cases(add: &mut Add) {
    for r in [9usize, 16, 64, 300] {
        type Op = fn(Backend, usize) -> ep::Result<Vec<EagerTensor>>;
        let ops: Vec<(&str, Op)> = vec![
            ("zeros", |b, r| {
                Ok(vec![EagerTensor::zeros(b, vec![1; r], DType::F32)?])
            }),
            ("zeros_i64", |b, r| {
                Ok(vec![EagerTensor::zeros(b, lead2(r), DType::I64)?])
            }),
            ("from_vec", |b, r| Ok(vec![pair(b, r)?])),
            ("reshape", |b, r| {
                Ok(vec![
                    t(b, vec![1.5f32, -2.0], &[2])?.reshape(lead2_isize(r))?
                ])
            }),
            ("expand_dims", |b, r| {
                let mut x = pair(b, 8)?;
                for _ in 8..r {
                    x = x.expand_dims(-1)?;
                }
                Ok(vec![x])
            }),
            ("broadcast_to", |b, r| {
                Ok(vec![t(b, vec![3.0f32], &[1])?.broadcast_to(lead2(r))?])
            }),
            ("add", |b, r| {
                let y = t(b, vec![10.0f32], &vec![1; r])?;
                Ok(vec![pair(b, r)?.add(&y)?])
            }),
            ("sum", |b, r| {
                let x = pair(b, r)?;
                Ok(vec![x.sum()?, x.sum_axes([0], false)?])
            }),
            ("index_slices", |b, r| {
                // A reversing slice on the first axis, `0..1` on the others.
                let mut items = vec![IndexItem::stepped(.., -1)];
                items.extend((1..r).map(|_| IndexItem::from(0..1)));
                Ok(vec![pair(b, r)?.index(items)?])
            }),
            ("index_down_to_1d", |b, r| {
                // Integers on every axis but the first: back to 1-D.
                let mut items = vec![IndexItem::from(..)];
                items.extend((1..r).map(|_| IndexItem::from(0)));
                Ok(vec![pair(b, r)?.index(items)?])
            }),
            // Ways to reach `r` dimensions from fewer.
            ("index_newaxis", |b, r| {
                let mut items = vec![IndexItem::from(..); r - 1];
                items.push(IndexItem::NewAxis);
                Ok(vec![pair(b, r - 1)?.index(items)?])
            }),
            ("stack", |b, r| {
                let x = pair(b, r - 1)?;
                Ok(vec![ep::stack(&[&x, &x], -1)?])
            }),
            ("tile", |b, r| Ok(vec![pair(b, r)?.tile(lead2(r))?])),
            // A tensor of `r` dimensions made elsewhere, brought to `b`.
            ("to_backend_from_ndarray", |b, r| {
                Ok(vec![pair(Backend::NdArray, r)?.to_backend(b)?])
            }),
            ("from_dlpack_of_ndarray", |b, r| {
                let m = pair(Backend::NdArray, r)?.to_dlpack()?;
                Ok(vec![ep::from_dlpack(m, b)?])
            }),
        ];
        for (what, op) in ops {
            add(
                format!("rank/{what}_{r}"),
                Expect::Rank(r),
                Box::new(move |b| op(b, r)),
            );
        }
    }
    // At the limit: `tile` of an 8-D tensor stays within 8 dimensions on
    // the way, so it works on every backend.
    add(
        "rank/tile_8".into(),
        Expect::Ok,
        Box::new(|b| {
            Ok(vec![pair(b, 8)?
                .tile(vec![2; 8])?
                .sum_axes([0, 7], false)?])
        }),
    );
}
