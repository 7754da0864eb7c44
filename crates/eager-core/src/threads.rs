//! One thread count for every backend's computations: what
//! `ep::set_num_threads(n)` records, or else the environment variable
//! [`NUM_THREADS_ENV`], read once. Each backend applies it to its framework
//! (libtorch's intra-op pool at once; TensorFlow's context, XLA's client
//! and Candle's pools when they are created, on first use).

use crate::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The environment variable with the thread count (a positive integer),
/// read once, the first time a backend asks.
pub const NUM_THREADS_ENV: &str = "EAGER_TENSOR_NUM_THREADS";

/// The most threads a count may ask for: a pool of millions of threads
/// would abort or exhaust the process (libtorch, TensorFlow and XLA start
/// their pools eagerly), so a larger count is an error, the same on every
/// machine.
pub const MAX_THREADS: usize = 1024;

/// Set by [`request`]; 0 while unset.
static REQUESTED: AtomicUsize = AtomicUsize::new(0);
/// The environment's count, parsed once (`Err` for a malformed value).
static FROM_ENV: OnceLock<std::result::Result<Option<usize>, String>> = OnceLock::new();

/// Records `n` (at least 1) as the thread count every backend is to use.
pub fn request(op: &'static str, n: usize) -> Result<()> {
    if n == 0 || n > MAX_THREADS {
        return Err(Error::invalid(
            op,
            format!("the thread count must be 1 to {MAX_THREADS}, not {n}"),
        ));
    }
    REQUESTED.store(n, Ordering::Relaxed);
    Ok(())
}

/// The thread count requested: by [`request`], else by [`NUM_THREADS_ENV`];
/// `None` for the frameworks' own defaults. A malformed environment value
/// is an `invalid` error naming `op` and the variable.
pub fn requested(op: &'static str) -> Result<Option<usize>> {
    match REQUESTED.load(Ordering::Relaxed) {
        0 => FROM_ENV
            .get_or_init(|| match std::env::var(NUM_THREADS_ENV) {
                Err(_) => Ok(None),
                Ok(v) => match v.trim().parse::<usize>() {
                    Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(Some(n)),
                    _ => Err(format!(
                        "{NUM_THREADS_ENV}={v:?} is not a thread count (an integer from 1 to \
                         {MAX_THREADS})"
                    )),
                },
            })
            .clone()
            .map_err(|msg| Error::invalid(op, msg)),
        n => Ok(Some(n)),
    }
}

/// `set_num_threads(n)` on a backend whose thread pools are sized when it
/// starts (TensorFlow's context, XLA's client, Candle's pools): fine before
/// it has started (`started` is `None`) or when it started with `n`
/// (`Some(0)`: the framework's default); otherwise an `invalid` error
/// naming `op`, saying `what` has started (`"XLA's PJRT client exists
/// already"`) and how to set the count in time for `backend`'s tensors.
pub fn fixed_at_start(
    op: &'static str,
    what: &str,
    backend: &str,
    started: Option<usize>,
    n: usize,
) -> Result<()> {
    match started {
        None => Ok(()),
        Some(k) if k == n => Ok(()),
        Some(k) => Err(Error::invalid(
            op,
            format!(
                "{what} with {} (its thread pools are sized when it starts): call \
                 set_num_threads before the first {backend} tensor, or set {NUM_THREADS_ENV}",
                if k == 0 {
                    "its default thread count".to_string()
                } else {
                    count(k)
                }
            ),
        )),
    }
}

/// `n` threads, in words ("1 thread", "4 threads"), for messages.
fn count(n: usize) -> String {
    if n == 1 {
        "1 thread".into()
    } else {
        format!("{n} threads")
    }
}
