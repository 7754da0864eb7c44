//! Integer arithmetic lowerings NumPy's rules need.

use super::*;

/// Integer arithmetic lowerings NumPy's rules need.
impl Prog {
    /// Integer `a ** b` (b >= 0, checked by the facade) wrapping like
    /// NumPy's: square-and-multiply over every bit of the exponent. XLA's
    /// own integer `power` looks at the low 6 bits of the exponent only
    /// (`7 ** 1000` and `0 ** 128` came out wrong).
    pub(in crate::tensor) fn int_pow(&mut self, a: &str, b: &str, d: DType, s: &[usize]) -> String {
        let p = self;
        // Every bit a non-negative exponent can have set.
        let bits = 8 * d.size_of() - usize::from(!d.is_unsigned());
        let one = p.full(d, 1.0, s);
        let zero = p.full(d, 0.0, s);
        let mut acc = one.clone();
        let mut base = a.to_string();
        for k in 0..bits {
            let kk = p.full(d, k as f64, s);
            let shifted = p.bin("shift_right_logical", b, &kk, d, s);
            let bit = p.bin("and", &shifted, &one, d, s);
            let set = p.cmp("NE", &bit, &zero, d, s);
            let prod = p.bin("multiply", &acc, &base, d, s);
            acc = p.select(&set, &prod, &acc, d, s);
            if k + 1 < bits {
                base = p.bin("multiply", &base, &base, d, s);
            }
        }
        acc
    }

    /// Floor division and Python's remainder with NumPy's edge cases.
    pub(in crate::tensor) fn divmod(
        &mut self,
        a: &str,
        b: &str,
        d: DType,
        s: &[usize],
        floor_div: bool,
    ) -> String {
        let p = self;
        let zero = p.full(d, 0.0, s);
        let one = p.full(d, 1.0, s);
        if d.is_int() {
            let b0 = p.cmp("EQ", b, &zero, d, s);
            let sb = p.select(&b0, &one, b, d, s);
            let q = p.bin("divide", a, &sb, d, s);
            let r = p.bin("remainder", a, &sb, d, s);
            let res = if d.is_unsigned() {
                if floor_div {
                    q
                } else {
                    r
                }
            } else {
                let rnz = p.cmp("NE", &r, &zero, d, s);
                let rneg = p.cmp("LT", &r, &zero, d, s);
                let bneg = p.cmp("LT", &sb, &zero, d, s);
                let differ = p.cmp("NE", &rneg, &bneg, DType::Bool, s);
                let adj = p.bin("and", &rnz, &differ, DType::Bool, s);
                if floor_div {
                    let q1 = p.bin("subtract", &q, &one, d, s);
                    p.select(&adj, &q1, &q, d, s)
                } else {
                    let r1 = p.bin("add", &r, &sb, d, s);
                    p.select(&adj, &r1, &r, d, s)
                }
            };
            return p.select(&b0, &zero, &res, d, s);
        }
        // Floats: NumPy's npy_divmod.
        let m = p.bin("remainder", a, b, d, s);
        let mnz = p.cmp("NE", &m, &zero, d, s);
        let mneg = p.cmp("LT", &m, &zero, d, s);
        let bneg = p.cmp("LT", b, &zero, d, s);
        let differ = p.cmp("NE", &mneg, &bneg, DType::Bool, s);
        let adj = p.bin("and", &mnz, &differ, DType::Bool, s);
        if !floor_div {
            let mb = p.bin("add", &m, b, d, s);
            let r = p.select(&adj, &mb, &m, d, s);
            // A zero remainder takes the divisor's sign.
            let sb = p.un("sign", b, d, s);
            let signed_zero = p.bin("multiply", &sb, &zero, d, s);
            let rz = p.cmp("EQ", &r, &zero, d, s);
            return p.select(&rz, &signed_zero, &r, d, s);
        }
        let am = p.bin("subtract", a, &m, d, s);
        let div = p.bin("divide", &am, b, d, s);
        let div1 = p.bin("subtract", &div, &one, d, s);
        let div = p.select(&adj, &div1, &div, d, s);
        let fl = p.un("floor", &div, d, s);
        let frac = p.bin("subtract", &div, &fl, d, s);
        let half = p.full(d, 0.5, s);
        let up = p.cmp("GT", &frac, &half, d, s);
        let fl1 = p.bin("add", &fl, &one, d, s);
        let fl = p.select(&up, &fl1, &fl, d, s);
        let q = p.bin("divide", a, b, d, s);
        let sq = p.un("sign", &q, d, s);
        let signed_zero = p.bin("multiply", &sq, &zero, d, s);
        let dz = p.cmp("EQ", &div, &zero, d, s);
        let res = p.select(&dz, &signed_zero, &fl, d, s);
        let b0 = p.cmp("EQ", b, &zero, d, s);
        p.select(&b0, &q, &res, d, s)
    }
}
