//! The XLA backend of eager-tensor (issue 6): [`XlaTensor`] holds a device
//! buffer of a PJRT client; every op runs as a cached, compiled StableHLO
//! program (`docs/semantics.md` lists how each maps onto XLA).
//!
//! Each op runs as a compiled XLA executable, the way JAX dispatches eager
//! ops: a StableHLO program is generated per (op, attributes, shapes,
//! dtypes), compiled once by the PJRT plugin, cached, then executed on
//! device buffers.
#![warn(missing_docs)]

pub mod disk;
pub mod pjrt;
mod tensor;

pub use tensor::{cache_capacity, cache_len, jit, seed, set_cache_capacity, XlaTensor};

use pjrt::{Api, Client, ElementType, Executable, OptionValue, PjrtError};
use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock};

/// The process-wide client on the plugin found by [`pjrt::plugin_path`].
pub fn client() -> Result<Arc<Client>, PjrtError> {
    CLIENT
        .get_or_init(|| {
            let path = pjrt::plugin_path().map_err(PjrtError)?;
            let mut options = client_options()?;
            let threads = eager_core::threads::requested("xla client")
                .map_err(|e| PjrtError(e.to_string()))?;
            if let Some(n) = threads {
                thread_options(n, &mut options);
                CLIENT_THREADS.store(n, std::sync::atomic::Ordering::Relaxed);
            }
            let named: Vec<(&str, OptionValue)> = options
                .iter()
                .map(|(n, v)| (n.as_str(), v.clone()))
                .collect();
            Ok(Arc::new(Client::with_options(Api::load(&path)?, &named)?))
        })
        .clone()
}

static CLIENT: OnceLock<Result<Arc<Client>, PjrtError>> = OnceLock::new();
static OPTIONS: OnceLock<Vec<(String, OptionValue)>> = OnceLock::new();
/// The thread count the client was created with (0: the plugin's default).
static CLIENT_THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Sizes the CPU client's two pools (XLA's intra-op Eigen pool and the
/// pool that runs executions) to `n` threads. The plugin sizes both as the
/// larger of `PJRT_NPROC` (else the CPUs) and its device count (4 unless
/// `cpu_device_count` says otherwise), and reads `PJRT_NPROC` when the
/// client is created; so it gets `PJRT_NPROC=n` and one device, unless
/// the options name a device count already.
fn thread_options(n: usize, options: &mut Vec<(String, OptionValue)>) {
    std::env::set_var("PJRT_NPROC", n.to_string());
    if !options.iter().any(|(name, _)| name == "cpu_device_count") {
        options.push(("cpu_device_count".into(), OptionValue::Int(1)));
    }
}

/// `ep::set_num_threads` on xla: the count applies when the client is
/// created, so it is an error once the client exists with another.
pub fn set_num_threads(op: &'static str, n: usize) -> eager_core::Result<()> {
    let started = CLIENT
        .get()
        .map(|_| CLIENT_THREADS.load(std::sync::atomic::Ordering::Relaxed));
    eager_core::threads::fixed_at_start(op, "XLA's PJRT client exists already", "xla", started, n)
}

/// The environment variable with the PJRT client's create options:
/// `name=value` pairs separated by commas (`cpu_device_count=1`); integers
/// are passed as integers, anything else as strings.
pub const CLIENT_OPTIONS_ENV: &str = "EAGER_TENSOR_XLA_CLIENT_OPTIONS";

/// Sets the PJRT client's create options (`PJRT_NamedValue`s) before the
/// backend's first use; an error once the client exists (options apply at
/// creation) or when they were set already. The CPU plugin of this project
/// (0.11.2) knows `cpu_device_count`, `process_id` and `asynchronous` (a
/// bool, which [`OptionValue`] cannot pass) and refuses any other name at
/// creation with "Unexpected option name". It has no option for its thread
/// count: `ep::set_num_threads` sizes its pools through `PJRT_NPROC` and
/// the device count (see [`set_num_threads`]).
///
/// ```no_run
/// use eager_xla::pjrt::OptionValue;
/// eager_xla::set_client_options(vec![("cpu_device_count".into(), OptionValue::Int(1))])?;
/// # Ok::<(), eager_xla::pjrt::PjrtError>(())
/// ```
pub fn set_client_options(options: Vec<(String, OptionValue)>) -> Result<(), PjrtError> {
    if CLIENT.get().is_some() {
        return Err(PjrtError(
            "the PJRT client exists already: set its options before the first xla tensor".into(),
        ));
    }
    OPTIONS
        .set(options)
        .map_err(|_| PjrtError("the PJRT client options are set already".into()))
}

/// The options: those set by [`set_client_options`], else the environment's.
pub(crate) fn client_options() -> Result<Vec<(String, OptionValue)>, PjrtError> {
    if let Some(o) = OPTIONS.get() {
        return Ok(o.clone());
    }
    let Ok(text) = std::env::var(CLIENT_OPTIONS_ENV) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').ok_or_else(|| {
                PjrtError(format!("{CLIENT_OPTIONS_ENV}: {pair:?} is not name=value"))
            })?;
            let value = match value.trim().parse::<i64>() {
                Ok(i) => OptionValue::Int(i),
                Err(_) => OptionValue::Str(value.trim().to_string()),
            };
            Ok((name.trim().to_string(), value))
        })
        .collect()
}

/// A compiled executable and what its cache keeps beside it (`M`: the
/// backend keeps each result's dtype and shape, so a cache hit needs no
/// program text). Dereferences to the [`Executable`].
pub struct Compiled<M = ()> {
    /// The executable.
    pub exe: Executable,
    /// What the cache's user stored with it.
    pub meta: M,
}

impl<M> std::ops::Deref for Compiled<M> {
    type Target = Executable;
    fn deref(&self) -> &Executable {
        &self.exe
    }
}

/// Compiled executables by key: compile once per key, then reuse. The
/// default key is the program text; the backend keys on a compact
/// (op, attributes, shapes, dtypes) value and builds the text only on a
/// miss. Safe to share between threads (one mutex around a map of `Arc`s;
/// the compile runs outside the lock, so two threads may both compile a new
/// key once and one result is kept).
///
/// The cache is **bounded**: it keeps at most [`capacity`](Self::capacity)
/// executables and drops the least recently used one when a new one comes
/// (each compiled program holds a few hundred KB of machine code, so an
/// unbounded cache grows without end when shapes keep changing). An
/// executable still in use (a tensor computed by it is alive, or it is
/// running) stays alive through its `Arc` until that use ends.
pub struct ExecutableCache<K: Hash + Eq = String, M = ()> {
    map: Mutex<Map<K, M>>,
}

type Map<K, M> = lru::LruCache<K, Arc<Compiled<M>>>;

/// The number of executables a cache keeps unless told otherwise.
pub const DEFAULT_CACHE_CAPACITY: usize = 512;

/// The environment variable that sets the backend's cache capacity (a
/// positive integer; read when the cache is created).
pub const CACHE_CAPACITY_ENV: &str = "EAGER_TENSOR_XLA_CACHE";

fn nonzero(n: usize) -> std::num::NonZeroUsize {
    std::num::NonZeroUsize::new(n.max(1)).unwrap_or(std::num::NonZeroUsize::MIN)
}

impl<K: Hash + Eq, M> Default for ExecutableCache<K, M> {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CACHE_CAPACITY)
    }
}

impl ExecutableCache {
    /// The executable for `program`, compiling it on first use.
    pub fn get(&self, client: &Arc<Client>, program: &str) -> Result<Arc<Compiled>, PjrtError> {
        self.get_or_compile(
            || Ok(client.clone()),
            program,
            || Ok((program.to_string(), ())),
            |e| e,
        )
    }
}

impl<K: Hash + Eq, M> ExecutableCache<K, M> {
    /// An empty cache that keeps at most `capacity` executables (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        ExecutableCache {
            map: Mutex::new(lru::LruCache::new(nonzero(capacity))),
        }
    }
    /// The executable for `key`; on a miss `build` gives the program text
    /// and the value kept with it, and the program is compiled with the
    /// client `client` gives (asked for only then: a hit needs none);
    /// `err` converts PJRT's errors to the caller's.
    pub fn get_or_compile<Q, E>(
        &self,
        client: impl FnOnce() -> Result<Arc<Client>, E>,
        key: &Q,
        build: impl FnOnce() -> Result<(String, M), E>,
        err: impl Fn(PjrtError) -> E,
    ) -> Result<Arc<Compiled<M>>, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(e) = self.lock().map_err(&err)?.get(key) {
            return Ok(e.clone());
        }
        let client = client()?;
        let (program, meta) = build()?;
        let exe = Arc::new(Compiled {
            exe: disk::compile(&client, &program).map_err(&err)?,
            meta,
        });
        let mut map = self.lock().map_err(&err)?;
        if let Some(e) = map.get(key) {
            return Ok(e.clone());
        }
        // The evicted executable (if any) is dropped after the lock.
        let evicted = map.push(key.to_owned(), exe.clone());
        drop(map);
        drop(evicted);
        Ok(exe)
    }
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Map<K, M>>, PjrtError> {
        self.map
            .lock()
            .map_err(|_| PjrtError("the executable cache was poisoned".into()))
    }
    /// Number of compiled programs kept.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }
    /// True when nothing is compiled yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The most executables kept.
    pub fn capacity(&self) -> usize {
        self.map.lock().map(|m| m.cap().get()).unwrap_or(0)
    }
    /// Changes the most executables kept (at least 1), dropping the least
    /// recently used ones beyond it; returns the previous capacity.
    pub fn set_capacity(&self, capacity: usize) -> usize {
        match self.map.lock() {
            Ok(mut m) => {
                let before = m.cap().get();
                m.resize(nonzero(capacity));
                before
            }
            Err(_) => 0,
        }
    }
}

/// Hand-written StableHLO programs for the benches and tests (public with
/// the `bench-internals` feature; the backend itself uses `hlo::ty` and
/// `hlo::tensor`).
#[cfg(feature = "bench-internals")]
pub mod hlo;
#[cfg(not(feature = "bench-internals"))]
#[allow(dead_code)]
mod hlo;

/// Host `f32` data to a device buffer (tests and benches: the
/// `bench-internals` feature).
#[cfg(any(test, feature = "bench-internals"))]
pub fn f32_buffer(
    client: &Arc<Client>,
    data: &[f32],
    dims: &[i64],
) -> Result<pjrt::Buffer, PjrtError> {
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_ne_bytes()).collect();
    client.buffer(&bytes, ElementType::F32, dims)
}

/// A device buffer's `f32` contents (tests and benches: the
/// `bench-internals` feature).
#[cfg(any(test, feature = "bench-internals"))]
pub fn f32_values(b: &pjrt::Buffer) -> Result<Vec<f32>, PjrtError> {
    Ok(b.to_host()?
        .chunks_exact(4)
        .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plugin is installed by scripts/setup-xla.sh (CI runs it); a
    /// machine without it skips these tests with a message, never silently.
    fn client_or_skip() -> Option<Arc<Client>> {
        match client() {
            Ok(c) => Some(c),
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("skipping: {e}");
                None
            }
            Err(e) => panic!("CI must have the PJRT plugin: {e}"),
        }
    }

    #[test]
    fn compile_execute_and_read_back() {
        let Some(c) = client_or_skip() else { return };
        let cache = ExecutableCache::default();
        let add = cache
            .get(&c, &hlo::binary("add", ElementType::F32, &[4]))
            .unwrap();
        assert_eq!(add.num_outputs(), 1);
        let a = f32_buffer(&c, &[1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
        let b = f32_buffer(&c, &[10.0, 20.0, 30.0, 40.0], &[4]).unwrap();
        let out = add
            .execute(&[&a, &b], &[(ElementType::F32, vec![4])])
            .unwrap();
        assert_eq!(f32_values(&out[0]).unwrap(), vec![11.0, 22.0, 33.0, 44.0]);
        // The CPU plugin lets us read results in place, and they agree with
        // PJRT's own copy to the host.
        assert_eq!(
            out[0].read_in_place().map(|r| r.unwrap()),
            Some(out[0].to_host_buffer().unwrap())
        );
        // Results stay on the device and chain.
        let exp = cache
            .get(&c, &hlo::unary("exponential", ElementType::F32, &[4]))
            .unwrap();
        let e = exp
            .execute(&[&out[0]], &[(ElementType::F32, vec![4])])
            .unwrap();
        let want: Vec<f32> = [11.0f32, 22.0, 33.0, 44.0]
            .iter()
            .map(|v| v.exp())
            .collect();
        for (g, w) in f32_values(&e[0]).unwrap().iter().zip(want) {
            assert!((g - w).abs() <= 1e-6 * w.abs());
        }
        // The same program is compiled once.
        let again = cache
            .get(&c, &hlo::binary("add", ElementType::F32, &[4]))
            .unwrap();
        assert!(Arc::ptr_eq(&add, &again));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn matmul_matches_the_host() {
        let Some(c) = client_or_skip() else { return };
        let exe = c.compile(&hlo::matmul(ElementType::F32, 2, 3, 2)).unwrap();
        let x = f32_buffer(&c, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
        let y = f32_buffer(&c, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]).unwrap();
        let out = exe
            .execute(&[&x, &y], &[(ElementType::F32, vec![2, 2])])
            .unwrap();
        assert_eq!(f32_values(&out[0]).unwrap(), vec![4.0, 5.0, 10.0, 11.0]);
    }

    /// An executable serialized and loaded back runs like the original,
    /// without compiling again.
    #[test]
    fn serialized_executables_load_without_compiling() {
        let Some(c) = client_or_skip() else { return };
        let program = hlo::matmul(ElementType::F32, 2, 3, 2);
        let t = std::time::Instant::now();
        let exe = c.compile(&program).unwrap();
        let compiled = t.elapsed();
        let bytes = exe.serialize().unwrap();
        assert!(!bytes.is_empty());
        let t = std::time::Instant::now();
        let back = c.deserialize(&bytes).unwrap();
        let loaded = t.elapsed();
        eprintln!(
            "compile {compiled:?}, load {loaded:?}, {} bytes",
            bytes.len()
        );
        assert_eq!(back.num_outputs(), 1);
        let a = f32_buffer(&c, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
        let b = f32_buffer(&c, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]).unwrap();
        let outs = [(ElementType::F32, vec![2i64, 2])];
        let r1 = f32_values(&exe.execute(&[&a, &b], &outs).unwrap()[0]).unwrap();
        let r2 = f32_values(&back.execute(&[&a, &b], &outs).unwrap()[0]).unwrap();
        assert_eq!(r1, vec![4.0, 5.0, 10.0, 11.0]);
        assert_eq!(r1, r2);
        assert!(c.deserialize(b"not an executable").is_err());
    }

    /// A program compiled once is on disk for the next process; a damaged
    /// file is compiled again, never trusted.
    #[test]
    fn the_disk_cache_keeps_programs_and_survives_damage() {
        let Some(c) = client_or_skip() else { return };
        // A program no other test compiles: a unique constant.
        let k = std::process::id();
        let program = format!(
            "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {{\n  %c = stablehlo.constant dense<{k}.0> : tensor<2xf32>\n  %0 = stablehlo.add %a, %c : tensor<2xf32>\n  return %0 : tensor<2xf32>\n}}\n"
        );
        let Some(path) = disk::path_of(&program) else {
            eprintln!("skipping: the disk cache is off");
            return;
        };
        let _ = std::fs::remove_file(&path);
        let run = |exe: &Executable| {
            let a = f32_buffer(&c, &[1.0, 2.0], &[2]).unwrap();
            f32_values(&exe.execute(&[&a], &[(ElementType::F32, vec![2])]).unwrap()[0]).unwrap()
        };
        let want = vec![1.0 + k as f32, 2.0 + k as f32];
        assert_eq!(run(&disk::compile(&c, &program).unwrap()), want);
        assert!(path.exists(), "stored at {}", path.display());
        assert_eq!(run(&disk::compile(&c, &program).unwrap()), want, "loaded");
        std::fs::write(&path, b"damaged").unwrap();
        assert_eq!(
            run(&disk::compile(&c, &program).unwrap()),
            want,
            "recompiled"
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn plugin_errors_are_errors() {
        let Some(c) = client_or_skip() else { return };
        let e = c
            .compile("func.func @main( this is not MLIR")
            .expect_err("a bad program fails");
        assert!(!e.0.is_empty());
        let e = c
            .buffer(&[0u8; 3], ElementType::F32, &[1])
            .expect_err("size mismatch");
        assert!(e.0.contains("bytes"), "{e}");
        let exe = c
            .compile(&hlo::unary("negate", ElementType::F32, &[2]))
            .unwrap();
        let a = f32_buffer(&c, &[1.0, 2.0], &[2]).unwrap();
        assert!(exe.execute(&[&a], &[]).is_err());
    }

    #[test]
    fn a_missing_plugin_names_both_places() {
        let e =
            Api::load(std::path::Path::new("/nonexistent/plugin.so")).expect_err("no such file");
        assert!(e.0.contains("/nonexistent/plugin.so"), "{e}");
        if std::env::var_os("EAGER_TENSOR_PJRT_PLUGIN").is_none() {
            if let Err(msg) = pjrt::plugin_path() {
                assert!(
                    msg.contains("EAGER_TENSOR_PJRT_PLUGIN") && msg.contains("setup-xla"),
                    "{msg}"
                );
            }
        }
    }

    #[test]
    fn the_cache_is_shared_between_threads() {
        let Some(c) = client_or_skip() else { return };
        let cache = Arc::new(ExecutableCache::default());
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (c, cache) = (c.clone(), cache.clone());
                std::thread::spawn(move || {
                    let exe = cache
                        .get(&c, &hlo::binary("multiply", ElementType::F32, &[2]))
                        .unwrap();
                    let a = f32_buffer(&c, &[i as f32, 2.0], &[2]).unwrap();
                    let out = exe
                        .execute(&[&a, &a], &[(ElementType::F32, vec![2])])
                        .unwrap();
                    assert_eq!(f32_values(&out[0]).unwrap(), vec![(i * i) as f32, 4.0]);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(cache.len(), 1);
    }
}
