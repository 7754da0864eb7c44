//! Allocations per op on the ndarray backend (issue 16): a plain binary op
//! allocates what its result needs and nothing else.
//!
//! What an ndarray result needs: **2 allocations** — the `Vec` of its
//! elements and the `Arc` that `ArcArray` (the backend's storage, shared on
//! clone) keeps that `Vec` in. Shape and strides live inline in the array
//! for up to 4 dimensions (`IxDyn`'s inline storage). The facade itself
//! (validation, broadcasting, dtype promotion, routing) allocates nothing
//! on this path.
//!
//! The counting allocator counts per thread, so tests running in parallel
//! do not disturb each other's counts.
#![cfg(feature = "ndarray")]

use eager_tensor::{self as ep, Backend, EagerTensor};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations, CountingAlloc};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// `f`'s result and the allocations this thread made while computing it.
fn counted<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = allocations();
    let r = f();
    (r, allocations() - before)
}

/// What an ndarray result of up to 4 dimensions needs: its `Vec` and the
/// `Arc` around it.
const RESULT: u64 = 2;

fn t(v: &[f32], shape: &[usize]) -> EagerTensor {
    EagerTensor::from_vec(Backend::NdArray, v.to_vec(), shape).expect("tensor")
}

#[test]
fn the_counter_counts() {
    let (v, n) = counted(|| std::hint::black_box(vec![1u8; 3]));
    assert_eq!((v.len(), n), (3, 1));
}

#[test]
fn same_shape_f32_binary_ops_allocate_only_the_result() {
    let a = t(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let b = t(&[10.0, 20.0, 30.0, 40.0], &[4]);
    // Warm-up: process-wide lazy state (the memory limit) is set once.
    (&a + &b).expect("warm-up");
    let (c, n) = counted(|| (&a + &b).expect("add"));
    assert_eq!(n, RESULT, "a + b on 4 f32 allocated {n} times");
    assert_eq!(c.to_vec::<f32>().unwrap(), vec![11.0, 22.0, 33.0, 44.0]);
    let (c, n) = counted(|| a.mul(&b).expect("mul"));
    assert_eq!(n, RESULT, "a * b allocated {n} times");
    assert_eq!(c.to_vec::<f32>().unwrap(), vec![10.0, 40.0, 90.0, 160.0]);
    let (c, n) = counted(|| a.lt(&b).expect("lt"));
    assert_eq!(n, RESULT, "a < b allocated {n} times");
    assert_eq!(c.to_vec::<bool>().unwrap(), vec![true; 4]);

    let a = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let b = t(&[6.0, 5.0, 4.0, 3.0, 2.0, 1.0], &[2, 3]);
    let (c, n) = counted(|| (&a - &b).expect("sub"));
    assert_eq!(n, RESULT, "a - b on [2, 3] allocated {n} times");
    assert_eq!(
        c.to_vec::<f32>().unwrap(),
        vec![-5.0, -3.0, -1.0, 1.0, 3.0, 5.0]
    );
    assert_eq!(c.shape(), vec![2, 3]);
}

#[test]
fn broadcast_binary_ops_allocate_only_the_result() {
    let x = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let row = t(&[10.0, 20.0, 30.0], &[3]);
    let col = t(&[100.0, 200.0], &[2, 1]);
    (&x + &row).expect("warm-up");
    let (c, n) = counted(|| (&x + &row).expect("add"));
    assert_eq!(n, RESULT, "[2, 3] + [3] allocated {n} times");
    assert_eq!(
        c.to_vec::<f32>().unwrap(),
        vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]
    );
    let (c, n) = counted(|| (&row - &x).expect("sub"));
    assert_eq!(n, RESULT, "[3] - [2, 3] allocated {n} times");
    assert_eq!(
        c.to_vec::<f32>().unwrap(),
        vec![9.0, 18.0, 27.0, 6.0, 15.0, 24.0]
    );
    let (c, n) = counted(|| (&x + &col).expect("add"));
    assert_eq!(n, RESULT, "[2, 3] + [2, 1] allocated {n} times");
    assert_eq!(
        c.to_vec::<f32>().unwrap(),
        vec![101.0, 102.0, 103.0, 204.0, 205.0, 206.0]
    );
}

#[test]
fn astensor_and_into_raw_allocate_only_the_arc() {
    let a = ndarray::ArrayD::from_shape_vec(vec![2, 2], vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
    let ptr = a.as_ptr();
    // The backend stores an `ArcArray`: wrapping an `ArrayD` puts its
    // `Vec` into an `Arc` (one allocation, no copy of the data).
    let (t, n) = counted(|| ep::astensor(a));
    assert_eq!(n, 1, "astensor(ArrayD) allocated {n} times");
    let (back, n) = counted(|| t.into_raw::<ndarray::ArrayD<f32>>().expect("into_raw"));
    assert_eq!(n, 0, "into_raw::<ArrayD> allocated {n} times");
    assert_eq!(back.as_ptr(), ptr, "the data was copied");
    assert_eq!(back.as_slice().unwrap(), &[1.0, 2.0, 3.0, 4.0]);

    let arc = back.into_shared();
    let (t, n) = counted(|| ep::astensor(arc.clone()));
    assert_eq!(n, 0, "astensor(ArcArray) allocated {n} times");
    let (raw, n) = counted(|| {
        t.into_raw::<ndarray::ArcArray<f32, ndarray::IxDyn>>()
            .expect("into_raw")
    });
    assert_eq!(n, 0, "into_raw::<ArcArray> allocated {n} times");
    assert_eq!(raw.as_ptr(), ptr);
    // Fixed-dimension types: the rank check formats nothing on success.
    let (m, n) = counted(|| {
        ep::astensor(raw)
            .into_raw::<ndarray::ArcArray<f32, ndarray::Ix2>>()
            .expect("into_raw")
    });
    assert_eq!(n, 0, "into_raw::<ArcArray<_, Ix2>> allocated {n} times");
    assert_eq!(m[[1, 0]], 3.0);
}
