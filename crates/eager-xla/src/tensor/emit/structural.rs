//! Structural ops: sort, transpose, slice, reverse, concatenate, gather,
//! matmul's `dot_general`, pad as a shift, clamp, barrier.

use super::*;

/// Structural ops: the program text of the per-op lowerings in `tensor.rs`
/// (sort, transpose, slice, reverse, concatenate, gather along an axis,
/// matmul's `dot_general`, pad as a shift, clamp, barrier), so no program
/// text is written outside this module.
impl Prog {
    /// A stable sort of `x` (dtype `d`, shape `s`) along `axis` by the
    /// comparator region `cmp`.
    pub(in crate::tensor) fn sort(
        &mut self,
        x: &str,
        cmp: &str,
        axis: usize,
        d: DType,
        s: &[usize],
    ) -> String {
        let t = ty(d, s);
        self.let_(format!(
            "\"stablehlo.sort\"({x}) {cmp} {{dimension = {axis} : i64, is_stable = true}} : ({t}) -> {t}"
        ))
    }
    /// A stable sort of `x` with the i64 positions `iota` along `axis` by
    /// `cmp` (a region over both pairs): the positions in sorted order.
    pub(in crate::tensor) fn sort_positions(
        &mut self,
        x: &str,
        iota: &str,
        cmp: &str,
        axis: usize,
        d: DType,
        s: &[usize],
    ) -> String {
        let (t, ti) = (ty(d, s), ty(DType::I64, s));
        let r = self.let_n(
            format!(
                "\"stablehlo.sort\"({x}, {iota}) {cmp} {{dimension = {axis} : i64, is_stable = true}} : ({t}, {ti}) -> ({t}, {ti})"
            ),
            2,
        );
        r[1].clone()
    }
    /// `x` made opaque to XLA's algebraic rewrites.
    pub(in crate::tensor) fn barrier(&mut self, x: &str, d: DType, s: &[usize]) -> String {
        self.let_(format!("stablehlo.optimization_barrier {x} : {}", ty(d, s)))
    }
    /// `x` clamped to `[lo, hi]` (all of dtype `d`, shape `s`).
    pub(in crate::tensor) fn clamp(
        &mut self,
        lo: &str,
        x: &str,
        hi: &str,
        d: DType,
        s: &[usize],
    ) -> String {
        self.let_(format!("stablehlo.clamp {lo}, {x}, {hi} : {}", ty(d, s)))
    }
    /// `x` shifted by `k` places along `axis`, the 0-d `fill` coming in at
    /// the start (a pad with negative high padding); same shape.
    pub(in crate::tensor) fn shift(
        &mut self,
        x: &str,
        fill: &str,
        axis: usize,
        k: usize,
        d: DType,
        s: &[usize],
    ) -> String {
        let low = dims_list((0..s.len()).map(|i| if i == axis { k } else { 0 }));
        let high: Vec<String> = (0..s.len())
            .map(|i| {
                if i == axis {
                    format!("-{k}")
                } else {
                    "0".into()
                }
            })
            .collect();
        let t = ty(d, s);
        self.let_(format!(
            "stablehlo.pad {x}, {fill}, low = [{low}], high = [{}], interior = [{}] : ({t}, {}) -> {t}",
            high.join(", "),
            dims_list(vec![0; s.len()]),
            ty(d, &[])
        ))
    }
    /// `dot_general` of `x` and `y` (shapes `shapes`, rank `n` each): the
    /// leading `n - 2` axes are batch axes, axis `k.0` of `x` contracts
    /// with axis `k.1` of `y`; the result has shape `out`.
    pub(in crate::tensor) fn dot(
        &mut self,
        x: &str,
        y: &str,
        k: (usize, usize),
        d: DType,
        shapes: (&[usize], &[usize]),
        out: &[usize],
    ) -> String {
        let nd = shapes.0.len();
        let batching = if nd == 2 {
            String::new()
        } else {
            format!("batching_dims = [{0}] x [{0}], ", dims_list(0..nd - 2))
        };
        self.let_(format!(
            "stablehlo.dot_general {x}, {y}, {batching}contracting_dims = [{}] x [{}] : ({}, {}) -> {}",
            k.0,
            k.1,
            ty(d, shapes.0),
            ty(d, shapes.1),
            ty(d, out)
        ))
    }
    /// `x` (shape `s`) with its axes in the order `axes`.
    pub(in crate::tensor) fn transpose(
        &mut self,
        x: &str,
        axes: &[usize],
        d: DType,
        s: &[usize],
    ) -> String {
        let to: Vec<usize> = axes.iter().map(|&a| s[a]).collect();
        self.let_(format!(
            "stablehlo.transpose {x}, dims = [{}] : ({}) -> {}",
            dims_list(axes.iter().copied()),
            ty(d, s),
            ty(d, &to)
        ))
    }
    /// The strided `ranges` of `x` (shape `s`), one per axis.
    pub(in crate::tensor) fn slice(
        &mut self,
        x: &str,
        ranges: &[eager_core::shape::SliceRange],
        d: DType,
        s: &[usize],
    ) -> String {
        let spec: Vec<String> = ranges
            .iter()
            .map(|r| {
                let end = r.start + r.len.saturating_sub(1) * r.step + usize::from(r.len > 0);
                format!("{}:{end}:{}", r.start, r.step)
            })
            .collect();
        let to: Vec<usize> = ranges.iter().map(|r| r.len).collect();
        self.let_(format!(
            "stablehlo.slice {x} [{}] : ({}) -> {}",
            spec.join(", "),
            ty(d, s),
            ty(d, &to)
        ))
    }
    /// `x` (shape `s`) reversed along `axes`.
    pub(in crate::tensor) fn reverse(
        &mut self,
        x: &str,
        axes: &[usize],
        d: DType,
        s: &[usize],
    ) -> String {
        self.let_(format!(
            "stablehlo.reverse {x}, dims = [{}] : {}",
            dims_list(axes.iter().copied()),
            ty(d, s)
        ))
    }
    /// `xs` (of `shapes`) joined along `axis`.
    pub(in crate::tensor) fn concatenate(
        &mut self,
        xs: &[String],
        axis: usize,
        d: DType,
        shapes: &[&[usize]],
    ) -> String {
        let mut out = shapes[0].to_vec();
        out[axis] = shapes.iter().map(|s| s[axis]).sum();
        let tys: Vec<String> = shapes.iter().map(|s| ty(d, s)).collect();
        self.let_(format!(
            "stablehlo.concatenate {}, dim = {axis} : ({}) -> {}",
            xs.join(", "),
            tys.join(", "),
            ty(d, &out)
        ))
    }
    /// The entries `idx` (`m` i64 positions) of `x` (shape `s`) along
    /// `axis`: a gather whose result has `m` at `axis`.
    pub(in crate::tensor) fn take(
        &mut self,
        x: &str,
        idx: &str,
        axis: usize,
        m: usize,
        d: DType,
        s: &[usize],
    ) -> String {
        let idx = self.reshape(idx, DType::I64, &[m], &[m, 1]);
        let offset: Vec<usize> = (0..s.len()).filter(|&i| i != axis).collect();
        let sizes: Vec<usize> = (0..s.len())
            .map(|i| if i == axis { 1 } else { s[i] })
            .collect();
        let mut out = s.to_vec();
        out[axis] = m;
        self.let_(format!(
            "\"stablehlo.gather\"({x}, {idx}) {{dimension_numbers = #stablehlo.gather<offset_dims = [{}], collapsed_slice_dims = [{axis}], start_index_map = [{axis}], index_vector_dim = 1>, slice_sizes = array<i64: {}>, indices_are_sorted = false}} : ({}, {}) -> {}",
            dims_list(offset),
            dims_list(sizes),
            ty(d, s),
            ty(DType::I64, &[m, 1]),
            ty(d, &out)
        ))
    }
}
