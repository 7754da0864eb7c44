//! Random numbers: one generator per thread, so tests running in parallel
//! threads do not disturb each other's seeded sequences.

use eager_core::{DType, Distribution, Error, HostData, Result};
use rand::distributions::Distribution as _;
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

/// `n` samples of `dist` from this thread's generator, as a host buffer of
/// the float `dtype` (drawn in f64, rounded). The TensorFlow and XLA backends draw
/// their random numbers here too and upload them, so one `seed` repeats all
/// three.
pub fn sample(dist: Distribution, n: usize, dtype: DType) -> Result<HostData> {
    let v: Vec<f64> = RNG.with(|r| -> Result<Vec<f64>> {
        let rng = &mut *r.borrow_mut();
        Ok(match dist {
            Distribution::Uniform { low, high } => {
                let d = rand::distributions::Uniform::new(low, high);
                (0..n).map(|_| d.sample(rng)).collect()
            }
            Distribution::Normal { mean, std } => {
                let d = rand_distr::Normal::new(mean, std)
                    .map_err(|e| Error::invalid("normal", e.to_string()))?;
                (0..n).map(|_| d.sample(rng)).collect()
            }
        })
    })?;
    match dtype {
        DType::F64 => Ok(HostData::F64(v)),
        d if d.is_float() => Ok(HostData::from_f64s(d, &v)),
        other => Err(Error::dtype(
            "random",
            format!("random numbers are floats, not {other}"),
        )),
    }
}
