//! Float summation for the backends that sum on the host (ndarray's
//! reductions, Candle's full f32 sums), in one place so the two give the
//! same bits.

use std::ops::Add;

/// Values summed in one block before blocks are combined pairwise.
pub const BLOCK: usize = 4096;

/// The blocked pairwise sum of `s`: blocks of [`BLOCK`] values, each summed
/// by [`block_sum`], combined pairwise. For 10⁵ values of `0.01f32` (exact
/// sum 999.99998) a naive loop gives 1000.665, this 1000.0043 (4·10⁻⁶
/// relative) and NumPy, whose pairwise leaves are 128 values, 999.99994;
/// NumPy's exact order measured 1.4× slower than this (docs/semantics.md).
///
/// ```
/// let v = vec![0.01f32; 100_000];
/// let s = eager_core::sum::pairwise(&v);
/// assert!((f64::from(s) - 999.99998).abs() / 1e3 < 1e-5);
/// assert_eq!(eager_core::sum::pairwise(&[1.5f64; 17]), 25.5);
/// ```
pub fn pairwise<T: Copy + Default + Add<Output = T>>(s: &[T]) -> T {
    if s.len() <= BLOCK {
        block_sum(s)
    } else {
        let mid = (s.len() / 2).div_ceil(BLOCK) * BLOCK;
        pairwise(&s[..mid]) + pairwise(&s[mid..])
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
}
