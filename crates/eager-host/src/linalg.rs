//! Small dense linear algebra in f64 (LU with partial pivoting), enough for
//! `inv` and `slogdet` without a LAPACK dependency.

/// Inverse of the row-major `n x n` matrix `a`; `None` when it is singular.
pub fn inv(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let piv =
            (col..n).max_by(|&x, &y| m[x * n + col].abs().total_cmp(&m[y * n + col].abs()))?;
        let p = m[piv * n + col];
        if p == 0.0 || p.is_nan() {
            return None;
        }
        if piv != col {
            for k in 0..n {
                m.swap(piv * n + k, col * n + k);
                inv.swap(piv * n + k, col * n + k);
            }
        }
        for k in 0..n {
            m[col * n + k] /= p;
            inv[col * n + k] /= p;
        }
        for r in 0..n {
            if r != col {
                let f = m[r * n + col];
                if f != 0.0 {
                    for k in 0..n {
                        m[r * n + k] -= f * m[col * n + k];
                        inv[r * n + k] -= f * inv[col * n + k];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// `(sign, log|det|)` of the row-major `n x n` matrix `a`; a singular
/// matrix gives `(0, -inf)` as in NumPy.
pub fn slogdet(a: &[f64], n: usize) -> (f64, f64) {
    let mut m = a.to_vec();
    let mut sign = 1.0;
    let mut logdet = 0.0;
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&x, &y| m[x * n + col].abs().total_cmp(&m[y * n + col].abs()))
            .unwrap_or(col);
        let p = m[piv * n + col];
        if p == 0.0 {
            return (0.0, f64::NEG_INFINITY);
        }
        if p.is_nan() {
            return (f64::NAN, f64::NAN);
        }
        if piv != col {
            for k in 0..n {
                m.swap(piv * n + k, col * n + k);
            }
            sign = -sign;
        }
        if p < 0.0 {
            sign = -sign;
        }
        logdet += p.abs().ln();
        for r in col + 1..n {
            let f = m[r * n + col] / p;
            if f != 0.0 {
                for k in col..n {
                    m[r * n + k] -= f * m[col * n + k];
                }
            }
        }
    }
    (sign, logdet)
}
