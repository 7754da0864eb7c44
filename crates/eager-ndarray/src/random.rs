//! Random numbers: one generator per thread, so tests running in parallel
//! threads do not disturb each other's seeded sequences.

use rand::rngs::StdRng;
use rand::SeedableRng;
use std::cell::RefCell;

thread_local! {
    static RNG: RefCell<StdRng> = RefCell::new(StdRng::from_entropy());
}

/// Seeds this thread's generator: the same seed gives the same
/// `uniform`/`normal` values on the same thread.
pub fn seed(seed: u64) {
    RNG.with(|r| *r.borrow_mut() = StdRng::seed_from_u64(seed));
}

/// Runs `f` with this thread's generator.
pub(crate) fn with_rng<R>(f: impl FnOnce(&mut StdRng) -> R) -> R {
    RNG.with(|r| f(&mut r.borrow_mut()))
}
