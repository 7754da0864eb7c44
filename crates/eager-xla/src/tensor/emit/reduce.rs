//! Reductions, sorting comparators, gathers and scatters along an axis,
//! and arg-reductions.

use super::*;

impl Prog {
    /// `stablehlo.reduce` of `x` (dtype `d`, shape `s`) over `axes` with a
    /// named body op (`add`, `maximum`, ...) and an initial value.
    pub(in crate::tensor) fn reduce_by(
        &mut self,
        x: &str,
        body: &str,
        init: f64,
        d: DType,
        s: &[usize],
        axes: &[usize],
    ) -> String {
        let out: Vec<usize> = (0..s.len())
            .filter(|i| !axes.contains(i))
            .map(|i| s[i])
            .collect();
        let i = self.full(d, init, &[]);
        self.let_(format!(
            "stablehlo.reduce({x} init: {i}) applies stablehlo.{body} across dimensions = [{}] : ({}, {}) -> {}",
            dims_list(axes.iter().copied()),
            ty(d, s),
            ty(d, &[]),
            ty(d, &out)
        ))
    }

    /// The comparator "`a` sorts before `b`" on 0-d values of `d`: NaN is
    /// the largest value, -0.0 equals 0.0 (as in the ndarray kernels).
    pub(in crate::tensor) fn sorts_before(
        &mut self,
        a: &str,
        b: &str,
        d: DType,
        descending: bool,
    ) -> String {
        let (a, b) = if descending { (b, a) } else { (a, b) };
        let lt = self.cmp("LT", a, b, d, &[]);
        if !d.is_float() {
            return lt;
        }
        let b_nan = self.cmp("NE", b, b, d, &[]);
        let a_num = self.cmp("EQ", a, a, d, &[]);
        let nan_after = self.bin("and", &b_nan, &a_num, DType::Bool, &[]);
        self.bin("or", &lt, &nan_after, DType::Bool, &[])
    }

    /// Row-major coordinates of shape `s`'s positions `0..`: for an `i64`
    /// tensor `idx` of shape `is`, an `is + [ndim]` tensor whose last axis
    /// holds, at each position, the full coordinates into a tensor of
    /// shape `s`, where axis `axis` takes its value from `idx` and every
    /// other axis is the position's own coordinate (a `take_along_axis`).
    pub(in crate::tensor) fn along_axis_coords(
        &mut self,
        idx: &str,
        is: &[usize],
        axis: usize,
    ) -> String {
        let nd = is.len();
        let mut one = is.to_vec();
        one.push(1);
        let parts: Vec<String> = (0..nd)
            .map(|j| {
                if j == axis {
                    self.reshape(idx, DType::I64, is, &one)
                } else {
                    self.iota(j, DType::I64, &one)
                }
            })
            .collect();
        let mut all = is.to_vec();
        all.push(nd);
        self.let_(format!(
            "stablehlo.concatenate {}, dim = {nd} : ({}) -> {}",
            parts.join(", "),
            vec![ty(DType::I64, &one); nd].join(", "),
            ty(DType::I64, &all)
        ))
    }

    /// Gathers single elements of `x` (`d`, shape `s`) at the coordinates
    /// `coords` (`i64`, shape `cs + [ndim]`); the result has shape `cs`.
    pub(in crate::tensor) fn gather_points(
        &mut self,
        x: &str,
        d: DType,
        s: &[usize],
        coords: &str,
        cs: &[usize],
    ) -> String {
        let nd = s.len();
        let mut full_cs = cs.to_vec();
        full_cs.push(nd);
        self.let_(format!(
            "\"stablehlo.gather\"({x}, {coords}) {{dimension_numbers = #stablehlo.gather<offset_dims = [], collapsed_slice_dims = [{all}], start_index_map = [{all}], index_vector_dim = {idv}>, slice_sizes = array<i64: {ones}>, indices_are_sorted = false}} : ({}, {}) -> {}",
            ty(d, s),
            ty(DType::I64, &full_cs),
            ty(d, cs),
            all = dims_list(0..nd),
            idv = cs.len(),
            ones = vec!["1"; nd].join(", "),
        ))
    }

    /// Combines `updates` (shape `cs`) into `x` (`d`, shape `s`) at
    /// `coords` (`cs + [ndim]`) with `combine` (`add`, `maximum`).
    #[allow(clippy::too_many_arguments)]
    pub(in crate::tensor) fn scatter_points(
        &mut self,
        x: &str,
        d: DType,
        s: &[usize],
        coords: &str,
        cs: &[usize],
        updates: &str,
        combine: &str,
    ) -> String {
        let nd = s.len();
        let mut full_cs = cs.to_vec();
        full_cs.push(nd);
        let body = self.region(&[d, d], |p, a| {
            vec![(p.bin(combine, &a[0], &a[1], d, &[]), d)]
        });
        self.let_(format!(
            "\"stablehlo.scatter\"({x}, {coords}, {updates}) {body} {{scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [], inserted_window_dims = [{all}], scatter_dims_to_operand_dims = [{all}], index_vector_dim = {idv}>, indices_are_sorted = false, unique_indices = false}} : ({}, {}, {}) -> {}",
            ty(d, s),
            ty(DType::I64, &full_cs),
            ty(d, cs),
            ty(d, s),
            all = dims_list(0..nd),
            idv = cs.len(),
        ))
    }
}

impl Prog {
    /// The index (`i64`) of the first largest (`max`) or smallest value of
    /// `x` along `axis`; NaN counts as the extreme both ways.
    pub(in crate::tensor) fn arg_best(
        &mut self,
        x: &str,
        d: DType,
        s: &[usize],
        axis: usize,
        max: bool,
    ) -> String {
        let out = without(s, axis);
        let iota = self.iota(axis, DType::I64, s);
        // The identity: the far end of the range at index 0 (a slice whose
        // best value is that end is all that value, so 0 is right).
        let iv = self.full(d, if max { min_of(d) } else { max_of(d) }, &[]);
        let ii = self.full(DType::I64, 0.0, &[]);
        let body = self.region(&[d, DType::I64, d, DType::I64], |p, v| {
            let (av, ai, bv, bi) = (&v[0], &v[1], &v[2], &v[3]);
            let better = p.cmp(if max { "GT" } else { "LT" }, av, bv, d, &[]);
            let eq = p.cmp("EQ", av, bv, d, &[]);
            let first = p.cmp("LT", ai, bi, DType::I64, &[]);
            let tie = p.bin("and", &eq, &first, DType::Bool, &[]);
            let mut pick = p.bin("or", &better, &tie, DType::Bool, &[]);
            if d.is_float() {
                // The first NaN wins.
                let an = p.cmp("NE", av, av, d, &[]);
                let bn = p.cmp("NE", bv, bv, d, &[]);
                let b_num = p.un("not", &bn, DType::Bool, &[]);
                let a_num = p.un("not", &an, DType::Bool, &[]);
                let nums = p.bin("and", &pick, &b_num, DType::Bool, &[]);
                let nums = p.bin("and", &nums, &a_num, DType::Bool, &[]);
                let b_or_first = p.bin("or", &b_num, &first, DType::Bool, &[]);
                let nan_pick = p.bin("and", &an, &b_or_first, DType::Bool, &[]);
                pick = p.bin("or", &nums, &nan_pick, DType::Bool, &[]);
            }
            let v = p.select(&pick, av, bv, d, &[]);
            let i = p.select(&pick, ai, bi, DType::I64, &[]);
            vec![(v, d), (i, DType::I64)]
        });
        let r = self.let_n(
            format!(
                "\"stablehlo.reduce\"({x}, {iota}, {iv}, {ii}) {body} {{dimensions = array<i64: {axis}>}} : ({}, {}, {}, {}) -> ({}, {})",
                ty(d, s),
                ty(DType::I64, s),
                ty(d, &[]),
                ty(DType::I64, &[]),
                ty(d, &out),
                ty(DType::I64, &out)
            ),
            2,
        );
        r[1].clone()
    }
}
