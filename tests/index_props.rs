//! Property test: basic indexing (integers, ranges with any step, NewAxis,
//! Ellipsis) never panics, and when it succeeds it agrees with a brute-force
//! reference written from Python's slice rules; when it fails, the error is
//! an `index` error the reference also predicts.

use eager_tensor::{self as ep, Backend, EagerTensor, IndexItem};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Item {
    Int(isize),
    Slice(Option<isize>, Option<isize>, isize),
    NewAxis,
    Ellipsis,
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        (-6isize..6).prop_map(Item::Int),
        (
            proptest::option::of(-6isize..6),
            proptest::option::of(-6isize..6),
            -3isize..=3
        )
            .prop_map(|(a, b, s)| Item::Slice(a, b, s)),
        Just(Item::NewAxis),
        Just(Item::Ellipsis),
    ]
}

/// Python's `range(*slice(a, b, s).indices(n))`.
fn py_slice(a: Option<isize>, b: Option<isize>, s: isize, n: usize) -> Vec<usize> {
    let n = n as isize;
    let norm = |v: isize, lo: isize, hi: isize| (if v < 0 { v + n } else { v }).clamp(lo, hi);
    let (start, stop) = if s > 0 {
        (
            a.map_or(0, |v| norm(v, 0, n)),
            b.map_or(n, |v| norm(v, 0, n)),
        )
    } else {
        (
            a.map_or(n - 1, |v| norm(v, -1, n - 1)),
            b.map_or(-1, |v| norm(v, -1, n - 1)),
        )
    };
    let mut out = Vec::new();
    let mut i = start;
    while (s > 0 && i < stop) || (s < 0 && i > stop) {
        out.push(i as usize);
        i += s;
    }
    out
}

enum Axis {
    Pick(usize),
    Range(Vec<usize>),
    New,
}

/// The reference: `None` when NumPy would raise IndexError.
fn reference(shape: &[usize], data: &[i64], items: &[Item]) -> Option<(Vec<usize>, Vec<i64>)> {
    let used = items
        .iter()
        .filter(|i| matches!(i, Item::Int(_) | Item::Slice(..)))
        .count();
    let ellipses = items.iter().filter(|i| matches!(i, Item::Ellipsis)).count();
    if ellipses > 1 || used > shape.len() {
        return None;
    }
    let mut expanded = Vec::new();
    for it in items {
        match it {
            Item::Ellipsis => {
                expanded.extend((0..shape.len() - used).map(|_| Item::Slice(None, None, 1)))
            }
            other => expanded.push(other.clone()),
        }
    }
    if ellipses == 0 {
        expanded.extend((0..shape.len() - used).map(|_| Item::Slice(None, None, 1)));
    }
    let mut axes = Vec::new();
    let mut ax = 0;
    for it in &expanded {
        match it {
            Item::Int(i) => {
                let n = shape[ax] as isize;
                if *i < -n || *i >= n {
                    return None;
                }
                axes.push(Axis::Pick(if *i < 0 { i + n } else { *i } as usize));
                ax += 1;
            }
            Item::Slice(a, b, s) => {
                if *s == 0 {
                    return None;
                }
                axes.push(Axis::Range(py_slice(*a, *b, *s, shape[ax])));
                ax += 1;
            }
            Item::NewAxis => axes.push(Axis::New),
            Item::Ellipsis => unreachable!(),
        }
    }
    let out_shape: Vec<usize> = axes
        .iter()
        .filter_map(|a| match a {
            Axis::Pick(_) => None,
            Axis::Range(r) => Some(r.len()),
            Axis::New => Some(1),
        })
        .collect();
    // Walk the output in row-major order.
    let strides: Vec<usize> = (0..shape.len())
        .map(|i| shape[i + 1..].iter().product())
        .collect();
    let mut values = Vec::new();
    let total: usize = out_shape.iter().product();
    for flat in 0..total {
        let mut rem = flat;
        let mut coord = vec![0; out_shape.len()];
        for k in (0..out_shape.len()).rev() {
            coord[k] = rem % out_shape[k];
            rem /= out_shape[k];
        }
        let (mut src, mut k, mut dim) = (0, 0, 0);
        for a in &axes {
            match a {
                Axis::Pick(p) => {
                    src += p * strides[dim];
                    dim += 1;
                }
                Axis::Range(r) => {
                    src += r[coord[k]] * strides[dim];
                    dim += 1;
                    k += 1;
                }
                Axis::New => k += 1,
            }
        }
        values.push(data[src]);
    }
    Some((out_shape, values))
}

fn to_items(items: &[Item]) -> Vec<IndexItem> {
    items
        .iter()
        .map(|i| match i {
            Item::Int(v) => IndexItem::Int(*v as i128),
            Item::Slice(a, b, s) => IndexItem::Slice {
                start: *a,
                stop: *b,
                step: *s,
            },
            Item::NewAxis => IndexItem::NewAxis,
            Item::Ellipsis => IndexItem::Ellipsis,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn basic_indexing_matches_python(shape in proptest::collection::vec(0usize..4, 0..4),
                                     items in proptest::collection::vec(item(), 0..5)) {
        let n: usize = shape.iter().product();
        let data: Vec<i64> = (0..n as i64).collect();
        for backend in Backend::enabled() {
            let t = EagerTensor::from_vec(backend, data.clone(), &shape).unwrap();
            let got = t.index(to_items(&items));
            match reference(&shape, &data, &items) {
                None => {
                    let e = got.expect_err("the reference raises");
                    prop_assert_eq!(e.kind(), "index");
                }
                Some((s, v)) => {
                    let got = got.unwrap();
                    prop_assert_eq!(got.shape(), s);
                    prop_assert_eq!(got.to_vec::<i64>().unwrap(), v);
                    // index_update over the same index writes exactly there.
                    let upd = t.index_update(to_items(&items), -1i64).unwrap();
                    let back = upd.index(to_items(&items)).unwrap().to_vec::<i64>().unwrap();
                    prop_assert!(back.iter().all(|&x| x == -1));
                    let changed = upd.to_vec::<i64>().unwrap().iter().filter(|&&x| x == -1).count();
                    let mut distinct = got.to_vec::<i64>().unwrap();
                    distinct.sort_unstable();
                    distinct.dedup();
                    prop_assert_eq!(changed, distinct.len());
                }
            }
        }
    }
}

#[test]
fn ellipsis_and_newaxis_compose() {
    let t = ep::arange(
        &EagerTensor::zeros(Backend::NdArray, [], ep::DType::I64).unwrap(),
        0,
        6,
        1,
    )
    .unwrap()
    .reshape([2, 3])
    .unwrap();
    let r = t
        .index(ep::s![ep::NewAxis, ep::Ellipsis, ep::NewAxis])
        .unwrap();
    assert_eq!(r.shape(), vec![1, 2, 3, 1]);
}
