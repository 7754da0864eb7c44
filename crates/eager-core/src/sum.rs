//! Float summation for the backends that sum on the host (ndarray's
//! reductions, Candle's full f32 sums), in one place so the two give the
//! same bits.

use std::ops::Add;

/// Values summed in one block before blocks are combined pairwise.
pub const BLOCK: usize = 4096;

/// The blocked pairwise sum of `s`: blocks of [`BLOCK`] values, each summed
/// by [`block_sum`], combined pairwise (`pairwise(s[..mid]) +
/// pairwise(s[mid..])`, `mid` the block boundary nearest above half the
/// length). For 10⁵ values of `0.01f32` (exact sum 999.99998) a naive loop
/// gives 1000.665, this 1000.0043 (4·10⁻⁶ relative) and NumPy, whose
/// pairwise leaves are 128 values, 999.99994; NumPy's exact order measured
/// 1.4× slower than this (docs/semantics.md).
///
/// ```
/// let v = vec![0.01f32; 100_000];
/// let s = eager_core::sum::pairwise(&v);
/// assert!((f64::from(s) - 999.99998).abs() / 1e3 < 1e-5);
/// assert_eq!(eager_core::sum::pairwise(&[1.5f64; 17]), 25.5);
/// ```
pub fn pairwise<T: Summand>(s: &[T]) -> T {
    if s.len() <= BLOCK {
        return block_sum(s);
    }
    // The leaves of the tree are the blocks in order: sum them all first,
    // then combine them in the tree's order.
    let n = s.len().div_ceil(BLOCK);
    let mut on_stack = [T::default(); 64];
    let mut on_heap = Vec::new();
    let leaves = if n <= on_stack.len() {
        &mut on_stack[..n]
    } else {
        on_heap.resize(n, T::default());
        &mut on_heap[..]
    };
    T::block_sums(s, leaves);
    combine(leaves, s.len())
}

/// The tree of [`pairwise`] over the sums of its blocks; `len` is the
/// number of values the leaves cover.
fn combine<T: Copy + Add<Output = T>>(leaves: &[T], len: usize) -> T {
    if len <= BLOCK {
        leaves[0]
    } else {
        let mid = (len / 2).div_ceil(BLOCK) * BLOCK;
        let (lo, hi) = leaves.split_at(mid / BLOCK);
        combine(lo, mid) + combine(hi, len - mid)
    }
}

/// An element type [`pairwise`] sums.
pub trait Summand: Copy + Default + Add<Output = Self> {
    /// The [`block_sum`] of each [`BLOCK`] of `s` (the last one may be
    /// shorter), one per element of `out`. The default sums one block
    /// after the other; f32 and f64 on x86-64 sum several side by side
    /// (each accumulator of a block is one chain of dependent additions,
    /// so one block at a time waits on the adder's latency), with the same
    /// bits.
    fn block_sums(s: &[Self], out: &mut [Self]) {
        for (block, sum) in s.chunks(BLOCK).zip(out) {
            *sum = block_sum(block);
        }
    }
}

impl Summand for half::f16 {}
impl Summand for half::bf16 {}

#[cfg(not(target_arch = "x86_64"))]
impl Summand for f32 {}
#[cfg(not(target_arch = "x86_64"))]
impl Summand for f64 {}

#[cfg(target_arch = "x86_64")]
impl Summand for f32 {
    fn block_sums(s: &[f32], out: &mut [f32]) {
        side_by_side(s, out, sse::f32_blocks)
    }
}

#[cfg(target_arch = "x86_64")]
impl Summand for f64 {
    fn block_sums(s: &[f64], out: &mut [f64]) {
        side_by_side(s, out, sse::f64_blocks)
    }
}

/// [`Summand::block_sums`] with `L` whole blocks at a time summed by
/// `blocks`, and the rest one by one.
#[cfg(target_arch = "x86_64")]
fn side_by_side<T: Summand, const L: usize>(s: &[T], out: &mut [T], blocks: fn(&[T]) -> [T; L]) {
    let groups = s.chunks_exact(L * BLOCK);
    let (full, rest) = out.split_at_mut(s.len() / (L * BLOCK) * L);
    for (block, sum) in groups.remainder().chunks(BLOCK).zip(rest) {
        *sum = block_sum(block);
    }
    for (group, sums) in groups.zip(full.chunks_exact_mut(L)) {
        sums.copy_from_slice(&blocks(group));
    }
}

/// [`block_sum`] of whole blocks side by side in SSE2 registers (part of
/// every x86-64 CPU): a block's eight accumulators are two `f32x4` (or
/// four `f64x2`) registers, added to in the order of the scalar loop.
#[cfg(target_arch = "x86_64")]
mod sse {
    use super::BLOCK;
    use std::arch::x86_64::*;

    /// Four f32 blocks: eight independent chains of additions.
    pub(super) fn f32_blocks(g: &[f32]) -> [f32; 4] {
        assert_eq!(g.len(), 4 * BLOCK);
        let p = g.as_ptr();
        // SAFETY: SSE2 is part of x86-64; every load reads 4 values at
        // `lane * BLOCK + i (+ 4)`, `i + 8 <= BLOCK`, inside `g`.
        unsafe {
            let mut acc = [[_mm_setzero_ps(); 2]; 4];
            for i in (0..BLOCK).step_by(8) {
                for (lane, a) in acc.iter_mut().enumerate() {
                    let q = p.add(lane * BLOCK + i);
                    a[0] = _mm_add_ps(a[0], _mm_loadu_ps(q));
                    a[1] = _mm_add_ps(a[1], _mm_loadu_ps(q.add(4)));
                }
            }
            acc.map(|[lo, hi]| {
                // [p0 + p4, p1 + p5, p2 + p6, p3 + p7]
                let mut q = [0f32; 4];
                _mm_storeu_ps(q.as_mut_ptr(), _mm_add_ps(lo, hi));
                0.0 + q[0] + q[1] + q[2] + q[3]
            })
        }
    }

    /// Two f64 blocks: eight independent chains of additions.
    pub(super) fn f64_blocks(g: &[f64]) -> [f64; 2] {
        assert_eq!(g.len(), 2 * BLOCK);
        let p = g.as_ptr();
        // SAFETY: as in `f32_blocks`, loads of 2 values at
        // `lane * BLOCK + i + {0, 2, 4, 6}`, `i + 8 <= BLOCK`.
        unsafe {
            let mut acc = [[_mm_setzero_pd(); 4]; 2];
            for i in (0..BLOCK).step_by(8) {
                for (lane, a) in acc.iter_mut().enumerate() {
                    let q = p.add(lane * BLOCK + i);
                    for (k, r) in a.iter_mut().enumerate() {
                        *r = _mm_add_pd(*r, _mm_loadu_pd(q.add(2 * k)));
                    }
                }
            }
            acc.map(|[a01, a23, a45, a67]| {
                // [p0 + p4, p1 + p5], [p2 + p6, p3 + p7]
                let mut q = [0f64; 4];
                _mm_storeu_pd(q.as_mut_ptr(), _mm_add_pd(a01, a45));
                _mm_storeu_pd(q.as_mut_ptr().add(2), _mm_add_pd(a23, a67));
                0.0 + q[0] + q[1] + q[2] + q[3]
            })
        }
    }
}

/// Eight accumulators, each adding every eighth value in sequence, combined
/// as `(p0 + p4) + (p1 + p5) + (p2 + p6) + (p3 + p7)` and then the tail: the
/// order of ndarray's own contiguous `sum` (its `unrolled_fold`), which
/// vectorizes under strict floating-point semantics.
pub fn block_sum<T: Copy + Default + Add<Output = T>>(mut s: &[T]) -> T {
    // Eight named accumulators, not an array: so the loop compiles to
    // vector adds as ndarray's does (an array with a zip measured 1.4x
    // slower at 10^6).
    let z = T::default();
    let (mut p0, mut p1, mut p2, mut p3, mut p4, mut p5, mut p6, mut p7) = (z, z, z, z, z, z, z, z);
    while s.len() >= 8 {
        p0 = p0 + s[0];
        p1 = p1 + s[1];
        p2 = p2 + s[2];
        p3 = p3 + s[3];
        p4 = p4 + s[4];
        p5 = p5 + s[5];
        p6 = p6 + s[6];
        p7 = p7 + s[7];
        s = &s[8..];
    }
    let acc = z + (p0 + p4);
    let acc = acc + (p1 + p5);
    let acc = acc + (p2 + p6);
    let acc = acc + (p3 + p7);
    s.iter().fold(acc, |a, &x| a + x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree written as a recursion over the values, as it was before
    /// the blocks were summed side by side.
    fn recursive<T: Summand>(s: &[T]) -> T {
        if s.len() <= BLOCK {
            block_sum(s)
        } else {
            let mid = (s.len() / 2).div_ceil(BLOCK) * BLOCK;
            recursive(&s[..mid]) + recursive(&s[mid..])
        }
    }

    #[test]
    fn block_sum_is_ndarrays_order_and_pairwise_beats_a_loop() {
        let v: Vec<f32> = (0..1_000_003)
            .map(|i| ((i % 97) as f32) * 0.01 - 0.3)
            .collect();
        for n in [0, 1, 7, 8, 9, 100, 4095, 4096] {
            let s = &v[..n];
            let nd = ndarray::ArrayView1::from(s).sum();
            assert_eq!(block_sum(s).to_bits(), nd.to_bits(), "n = {n}");
        }
        let exact: f64 = v.iter().map(|&x| f64::from(x)).sum();
        let naive: f32 = v.iter().sum();
        let err = |x: f32| (f64::from(x) - exact).abs() / exact.abs();
        assert!(err(pairwise(&v)) < 1e-6, "{}", pairwise(&v));
        assert!(err(naive) > 10.0 * err(pairwise(&v)));
    }

    #[test]
    fn blocks_side_by_side_give_the_recursions_bits() {
        let v: Vec<f32> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 8) as f32 * 1e-7 - 0.5)
            .collect();
        let w: Vec<f64> = v.iter().map(|&x| f64::from(x) * 1.000_000_1).collect();
        let b = BLOCK;
        for n in [
            b + 1,
            2 * b,
            2 * b + 5,
            3 * b,
            4 * b - 1,
            4 * b,
            4 * b + 1,
            5 * b + 7,
            8 * b,
            9 * b + 3,
            17 * b,
            64 * b,
            64 * b + 1,
            65 * b + 100,
            300_000,
        ] {
            assert_eq!(
                pairwise(&v[..n]).to_bits(),
                recursive(&v[..n]).to_bits(),
                "f32 n = {n}"
            );
            assert_eq!(
                pairwise(&w[..n]).to_bits(),
                recursive(&w[..n]).to_bits(),
                "f64 n = {n}"
            );
        }
    }
}
