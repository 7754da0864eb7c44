//! What a hostile case must give on each backend beyond agreeing with
//! ndarray ([`Expect`], checked on its own), the names outcomes are
//! compared under, and the per-family counts the summary prints.

use crate::common::flushes_subnormals;
use eager_tensor::{self as ep, Backend};

/// What a case must give on each backend, checked on its own besides the
/// comparison with ndarray's outcome.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// Only what ndarray gives.
    Same,
    /// `Ok` on every backend (and what ndarray gives).
    Ok,
    /// An error on every backend whose outcome line starts with
    /// `err <pattern>` (`"shape"`, `"invalid jit"`; `""` is any error),
    /// and the kind and op ndarray's has.
    Err(&'static str),
    /// On the listed backends an error starting `err <pattern>`; on every
    /// other one `Ok`, and what ndarray gives.
    ErrOn(&'static [Backend], &'static str),
    /// A tensor of this many dimensions: a `shape` error on the backends
    /// that hold fewer ([`max_rank`]); elsewhere `Ok`, and what ndarray
    /// gives.
    Rank(usize),
    /// Inputs with subnormal floats: on the backends that read them as zero
    /// ([`flushes_subnormals`]) the case compares itself with
    /// ndarray's answer for the input so flushed (and is not compared with
    /// ndarray's answer for the input itself); elsewhere what ndarray
    /// gives. With `ok`, `Ok` on every backend.
    Flushes { ok: bool },
    /// A float `cumsum` of extremes: `Ok` on every backend; what ndarray
    /// gives, as for `Flushes`, except on xla, whose running sums are a
    /// parallel scan (the additions associate differently, so where partial
    /// sums overflow, `MAX` then `MIN`, the answers differ:
    /// docs/semantics.md, "Reductions").
    Scan,
}

impl Expect {
    /// The error pattern `outcome` must start with on `backend` (after
    /// `err `); `None` where it must be `Ok` or anything.
    pub fn error_on(self, backend: Backend) -> Option<&'static str> {
        match self {
            Expect::Err(p) => Some(p),
            Expect::ErrOn(on, p) if on.contains(&backend) => Some(p),
            Expect::Rank(r) if r > max_rank(backend) => Some("shape"),
            _ => None,
        }
    }

    /// Whether `outcome` on `backend` is compared with ndarray's.
    pub fn compared(self, backend: Backend) -> bool {
        match self {
            Expect::Same | Expect::Ok | Expect::Err(_) => true,
            Expect::Flushes { .. } => !flushes_subnormals(backend),
            Expect::Scan => backend != Backend::Xla && !flushes_subnormals(backend),
            Expect::ErrOn(..) | Expect::Rank(_) => self.error_on(backend).is_none(),
        }
    }

    /// What is wrong with `outcome` on `backend`, if anything.
    pub fn unmet(self, backend: Backend, outcome: &str) -> Option<String> {
        if matches!(self, Expect::Same | Expect::Flushes { ok: false }) {
            return None;
        }
        let pattern = self.error_on(backend);
        match pattern {
            Some(p) if !outcome.starts_with(&format!("err {p}")) => {
                Some(format!("expected an error `{p}`, got: {outcome}"))
            }
            None if !outcome.starts_with("ok") => Some(format!("expected Ok, got: {outcome}")),
            _ => None,
        }
    }
}

/// The most dimensions a tensor of `backend` may have (its `MAX_RANK`:
/// 8 on candle and tensorflow, 64 on torch, no limit on ndarray and xla).
pub fn max_rank(backend: Backend) -> usize {
    ep::max_rank(backend).expect("an enabled backend")
}

/// The name `disagreement` compares a case's outcomes under: the sums
/// and cumulative sums of `dtype_extremes` as the `value/` family's (within
/// a few ulps: float sums follow each framework's own reduction order,
/// docs/semantics.md), everything else as it is (bit for bit).
pub fn compared_as(name: &str) -> std::borrow::Cow<'_, str> {
    match name.strip_prefix("dtype_extremes/") {
        Some(op) if op.starts_with("sum_") || op.starts_with("cumsum_") => {
            format!("value/{op}").into()
        }
        _ => name.into(),
    }
}

/// How many cases each family (the part of a name before `/`) has, in the
/// order the families first appear.
pub fn families(names: &[String]) -> Vec<(&str, usize)> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for name in names {
        let family = name.split('/').next().unwrap_or(name);
        match counts.iter_mut().find(|(f, _)| *f == family) {
            Some((_, n)) => *n += 1,
            None => counts.push((family, 1)),
        }
    }
    counts
}
