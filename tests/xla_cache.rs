//! The xla backend's executable cache is bounded: a program per new shape
//! no longer grows the process without end. Distinct shapes through a
//! cache of 64 programs leave the resident memory where the first tenth of
//! them put it. CI runs 2,000 shapes (unbounded, 2,000 took the process
//! from 291 MiB to 1.27 GiB); `EAGER_XLA_CACHE_SHAPES=10000` runs more
//! (each new shape compiles a program, ~30 ms).
#![cfg(feature = "xla")]

use eager_tensor::{self as ep, backends::xla, Backend, EagerTensor};

/// Resident set size in bytes (Linux), from /proc/self/statm.
fn rss() -> Option<usize> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn memory_stays_flat_over_thousands_of_distinct_shapes() -> ep::Result<()> {
    let shapes: usize = std::env::var("EAGER_XLA_CACHE_SHAPES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let before = xla::set_cache_capacity(64);
    assert_eq!(xla::cache_capacity(), 64);
    let run = |n: usize| -> ep::Result<Vec<f32>> {
        // A new shape each time: one new `add` program.
        let x = EagerTensor::from_vec(Backend::Xla, vec![1.0f32; n], [n])?;
        let y = EagerTensor::from_vec(Backend::Xla, vec![2.0f32], [1])?;
        x.add(&y)?.to_vec::<f32>()
    };
    let mut at_tenth = 0;
    for n in 1..=shapes {
        assert_eq!(run(n)?, vec![3.0; n]);
        assert!(xla::cache_len() <= 64);
        if n == shapes / 10 {
            at_tenth = rss().unwrap_or(0);
        }
    }
    let at_end = rss().unwrap_or(0);
    xla::set_cache_capacity(before);
    let grown = at_end.saturating_sub(at_tenth);
    println!(
        "xla cache: {} MiB resident after {} shapes, {} MiB after {shapes} (cache of 64 programs)",
        at_tenth >> 20,
        shapes / 10,
        at_end >> 20
    );
    // Unbounded, each program kept ~0.5 MiB; bounded, the other nine tenths
    // of the shapes may only add allocator noise.
    assert!(
        grown < 64 << 20,
        "resident memory grew by {} MiB",
        grown >> 20
    );
    Ok(())
}
