//! The memory limit on one tensor.
//!
//! Frameworks and Rust's allocator abort the process when an allocation
//! fails, so eager-tensor checks every size a caller can choose before any
//! backend allocates: a tensor larger than this limit is a `shape` error on
//! every backend. The default is the machine's physical memory (read from
//! `/proc/meminfo`; `isize::MAX` where it cannot be read); the environment
//! variable `EAGER_TENSOR_MAX_BYTES` (read once, at the first check) or
//! [`set_max_tensor_bytes`] change it.

use std::sync::atomic::{AtomicUsize, Ordering};

/// 0 means "not read yet".
static LIMIT: AtomicUsize = AtomicUsize::new(0);

/// The environment variable that sets the limit (bytes, a plain integer).
pub const MAX_BYTES_ENV: &str = "EAGER_TENSOR_MAX_BYTES";

/// The largest tensor, in bytes, that an operation may create.
///
/// ```
/// assert!(eager_core::limits::max_tensor_bytes() > 0);
/// ```
pub fn max_tensor_bytes() -> usize {
    match LIMIT.load(Ordering::Relaxed) {
        0 => {
            let v = default_limit();
            // Another thread may have set it meanwhile: keep theirs.
            match LIMIT.compare_exchange(0, v, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => v,
                Err(set) => set,
            }
        }
        v => v,
    }
}

/// Sets the limit (process-wide, all threads, all backends); `0` restores
/// the default. Returns the previous limit.
///
/// ```
/// use eager_core::limits::{max_tensor_bytes, set_max_tensor_bytes};
/// let before = set_max_tensor_bytes(1 << 20);
/// assert_eq!(max_tensor_bytes(), 1 << 20);
/// set_max_tensor_bytes(before);
/// ```
pub fn set_max_tensor_bytes(bytes: usize) -> usize {
    let before = max_tensor_bytes();
    let v = if bytes == 0 { default_limit() } else { bytes };
    LIMIT.store(v.min(isize::MAX as usize), Ordering::Relaxed);
    before
}

fn default_limit() -> usize {
    if let Some(v) = std::env::var(MAX_BYTES_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&v| v > 0)
    {
        return v.min(isize::MAX as usize);
    }
    physical_memory().unwrap_or(isize::MAX as usize)
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn physical_memory() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}
