//! Random numbers drawn on the host: a [`Generator`], and [`generator!`]
//! to give a backend crate its own generator per thread.
//!
//! Each backend that draws on the host (ndarray; TensorFlow and Candle,
//! which upload what they draw) keeps its **own** generator, one per
//! thread, so that tests running in parallel threads do not disturb each
//! other's seeded sequences and seeding one backend never moves another's.
//! `ep::seed` seeds them all with the same seed; with the same algorithm,
//! the same seed gives the same numbers on each.

use eager_core::{DType, Distribution, Error, HostData, Result};
use rand::distributions::Distribution as _;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A seedable generator of `uniform`/`normal` samples (`StdRng`).
#[derive(Debug, Clone)]
pub struct Generator(StdRng);

impl Generator {
    /// Seeded from the operating system's entropy.
    pub fn from_entropy() -> Generator {
        Generator(StdRng::from_entropy())
    }
    /// Seeded with `seed`: the same seed gives the same samples.
    pub fn seeded(seed: u64) -> Generator {
        Generator(StdRng::seed_from_u64(seed))
    }
    /// `n` samples of `dist` as a host buffer of the float `dtype` (drawn
    /// in f64, rounded).
    ///
    /// ```
    /// use eager_core::{DType, Distribution};
    /// let mut a = eager_host::Generator::seeded(7);
    /// let mut b = eager_host::Generator::seeded(7);
    /// let u = Distribution::Uniform { low: 0.0, high: 1.0 };
    /// assert_eq!(a.sample(u, 3, DType::F32)?, b.sample(u, 3, DType::F32)?);
    /// # Ok::<(), eager_core::Error>(())
    /// ```
    pub fn sample(&mut self, dist: Distribution, n: usize, dtype: DType) -> Result<HostData> {
        let rng = &mut self.0;
        let v: Vec<f64> = match dist {
            Distribution::Uniform { low, high } => {
                let d = rand::distributions::Uniform::new(low, high);
                (0..n).map(|_| d.sample(rng)).collect()
            }
            Distribution::Normal { mean, std } => {
                let d = rand_distr::Normal::new(mean, std)
                    .map_err(|e| Error::invalid("normal", e.to_string()))?;
                (0..n).map(|_| d.sample(rng)).collect()
            }
        };
        match dtype {
            DType::F64 => Ok(HostData::F64(v)),
            d if d.is_float() => Ok(HostData::from_f64s(d, &v)),
            other => Err(Error::dtype(
                "random",
                format!("random numbers are floats, not {other}"),
            )),
        }
    }
}

/// Declares, in the module it is used in, a [`Generator`] per thread and
/// two functions over it: `pub fn seed(seed: u64)` (seeds this thread's
/// generator) and `pub fn sample(dist, n, dtype) -> Result<HostData>`.
/// Each backend crate that draws on the host uses it once, so its
/// generator is its own.
#[macro_export]
macro_rules! generator {
    ($backend:literal) => {
        thread_local! {
            static GENERATOR: ::std::cell::RefCell<$crate::Generator> =
                ::std::cell::RefCell::new($crate::Generator::from_entropy());
        }

        #[doc = concat!("Seeds the ", $backend, " backend's generator on this thread: the same")]
        /// seed gives the same `uniform`/`normal` values on the same thread.
        pub fn seed(seed: u64) {
            GENERATOR.with(|g| *g.borrow_mut() = $crate::Generator::seeded(seed));
        }

        #[doc = concat!("`n` samples of `dist` from the ", $backend, " backend's generator on this")]
        /// thread, as a host buffer of the float `dtype`.
        pub fn sample(
            dist: ::eager_core::Distribution,
            n: usize,
            dtype: ::eager_core::DType,
        ) -> ::eager_core::Result<::eager_core::HostData> {
            GENERATOR.with(|g| g.borrow_mut().sample(dist, n, dtype))
        }
    };
}
