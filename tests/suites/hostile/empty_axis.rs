//! `empty_axis/…` and `u64_index/…`.
//!
//! `empty_axis`: reductions of a `[0, 2⁴⁰]` tensor along its empty axis
//! (`sum`, `prod`, `mean`, `max`, the l2 norm) would make 2⁴⁰ elements
//! (4 TiB): each is a `shape` error, not an allocation; `slogdet` of a
//! `[2⁴⁰, 0, 0]` batch likewise, while its `inv` is empty and returns at
//! once. Each case runs under a deadline (the child aborts, and the case
//! is reported as a crash, if it does not return in time), its results
//! read back inside it.
//!
//! `u64_index`: indices of dtype u64 equal to `u64::MAX`, `u64::MAX - 1`
//! and `2⁶³` (−1, −2 and `i64::MIN` to a backend that keeps u64 in an i64)
//! in a tensor `index`, `take_along_axis`, `onehot_like`, `crossentropy`
//! labels and `index_update`: each an `index` error.

use super::{t, Add, Expect};
use eager_tensor::{self as ep, Backend, DType, EagerTensor, HostData};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::Duration;

/// Seconds a case here may take; each should return at once.
const DEADLINE: u64 = 30;

/// Runs `f`, aborting the process (a crash the suite names) if it has not
/// returned within [`DEADLINE`] seconds; its tensors are read back inside.
fn in_time(f: impl FnOnce() -> ep::Result<Vec<EagerTensor>>) -> ep::Result<Vec<EagerTensor>> {
    let (done, wait) = channel::<()>();
    std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(Duration::from_secs(DEADLINE)) {
            eprintln!("still running after {DEADLINE} s");
            std::process::abort();
        }
    });
    let r = f().and_then(|ts| {
        for t in &ts {
            t.to_host_data()?;
        }
        Ok(ts)
    });
    drop(done);
    r
}

fn wide(b: Backend) -> ep::Result<EagerTensor> {
    EagerTensor::zeros(b, [0, 1usize << 40], DType::F32)
}

fn batch(b: Backend) -> ep::Result<EagerTensor> {
    EagerTensor::zeros(b, [1usize << 40, 0, 0], DType::F32)
}

pub fn cases(add: &mut Add) {
    type Case = fn(Backend) -> ep::Result<Vec<EagerTensor>>;
    let shape = Expect::Err("shape");
    let huge: Vec<(&str, Expect, Case)> = vec![
        ("sum_axes_0", shape, |b| {
            Ok(vec![wide(b)?.sum_axes([0], false)?])
        }),
        ("sum_axes_0_keepdims", shape, |b| {
            Ok(vec![wide(b)?.sum_axes([0], true)?])
        }),
        ("prod_axes_0", shape, |b| {
            Ok(vec![wide(b)?.prod_axes([0], false)?])
        }),
        ("mean_axes_0", shape, |b| {
            Ok(vec![wide(b)?.mean_axes([0], false)?])
        }),
        ("max_axes_0", shape, |b| {
            Ok(vec![wide(b)?.max_axes([0], false)?])
        }),
        ("l2_axis_0", shape, |b| {
            Ok(vec![ep::norms::l2(&wide(b)?, &[0][..], false)?])
        }),
        ("slogdet_2^40_batch", shape, |b| {
            let (s, l) = batch(b)?.slogdet()?;
            Ok(vec![s, l])
        }),
        ("inv_2^40_batch", Expect::Ok, |b| Ok(vec![batch(b)?.inv()?])),
        // Controls: reductions that leave nothing, or one element.
        ("sum_axes_1", Expect::Ok, |b| {
            Ok(vec![wide(b)?.sum_axes([1], false)?])
        }),
        ("sum_all", Expect::Ok, |b| Ok(vec![wide(b)?.sum()?])),
    ];
    for (what, expect, run) in huge {
        add(
            format!("empty_axis/{what}"),
            expect,
            Box::new(move |b| in_time(|| run(b))),
        );
    }

    type IndexOp = fn(&EagerTensor, u64) -> ep::Result<EagerTensor>;
    let ops: Vec<(&str, IndexOp)> = vec![
        ("index", |x, i| {
            let i = x.from_host_like(HostData::U64(vec![i]), [1])?;
            x.index(ep::s![&i])
        }),
        ("index_second_axis", |x, i| {
            let i = x.from_host_like(HostData::U64(vec![0, i]), [2])?;
            x.index(ep::s![.., &i])
        }),
        ("take_along_axis", |x, i| {
            let i = x.from_host_like(HostData::U64(vec![i, 0]), [2, 1])?;
            x.take_along_axis(&i, 1)
        }),
        ("onehot_like", |x, i| {
            let i = x.from_host_like(HostData::U64(vec![0, i]), [2])?;
            x.onehot_like(&i, 1.0)
        }),
        ("crossentropy", |x, i| {
            let l = x.from_host_like(HostData::U64(vec![0, i]), [2])?;
            x.crossentropy(&l)
        }),
        ("index_update", |x, i| {
            let i = x.from_host_like(HostData::U64(vec![i]), [1])?;
            x.index_update(ep::s![&i], 9.0)
        }),
    ];
    for (what, op) in ops {
        for (vn, v) in [
            ("u64_max", u64::MAX),
            ("u64_max_minus_1", u64::MAX - 1),
            ("2^63", 1u64 << 63),
        ] {
            add(
                format!("u64_index/{what}_{vn}"),
                Expect::Err("index"),
                Box::new(move |b| Ok(vec![op(&t(b, vec![1f32, 2.0, 3.0, 4.0], &[2, 2])?, v)?])),
            );
        }
    }
}
