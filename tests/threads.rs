//! `ep::set_num_threads` and `EAGER_TENSOR_NUM_THREADS` reach every
//! framework: in a child process per backend and setting, a few matmuls
//! run and the process's threads are counted (`/proc/self/task`); more
//! threads requested must start more threads. A backend that fixes its
//! pools at start-up refuses a later, different count with an error naming
//! `set_num_threads`, and a malformed variable is an error, not a default.

use eager_tensor::{self as ep, Backend, DType, EagerTensor};
use std::process::Command;

/// The number of threads of this process.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// A few 256×256 matmuls on `b` (enough for every framework to use its
/// pools).
fn work(b: Backend) -> ep::Result<()> {
    let x = EagerTensor::ones(b, [256, 256], DType::F32)?;
    for _ in 0..3 {
        x.matmul(&x)?.sum()?.item::<f32>()?;
    }
    Ok(())
}

/// The child processes' entry point: `EAGER_THREADS_CHILD=<backend>:<how>`
/// with `how` one of `call:<n>` (set_num_threads(n) first), `env` (the
/// variable is set by the parent), `late:<n>` (set_num_threads(n) after
/// the first tensor). Prints `threads <count>` or `error <message>`.
#[test]
#[ignore = "the entry point of the thread-count child processes"]
fn threads_child() {
    let Ok(spec) = std::env::var("EAGER_THREADS_CHILD") else {
        return;
    };
    let (backend, how) = spec.split_once(':').expect("backend:how");
    let b: Backend = backend.parse().expect("a backend");
    let result = (|| {
        match how.split_once(':') {
            Some(("call", n)) => ep::set_num_threads(n.parse().unwrap())?,
            Some(("late", n)) => {
                work(b)?;
                ep::set_num_threads(n.parse().unwrap())?;
            }
            Some(("lateall", n)) => {
                for b in Backend::enabled() {
                    work(b)?;
                }
                ep::set_num_threads(n.parse().unwrap())?;
            }
            _ => {}
        }
        work(b)
    })();
    match result {
        Ok(()) => println!("\n@@threads {}", threads()),
        Err(e) => println!("\n@@error {e}"),
    }
}

/// Runs the child for `backend` with `how` (and `env`: the variable's
/// value, if any); its one line of output.
fn child(backend: Backend, how: &str, env: Option<&str>) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "threads_child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("EAGER_THREADS_CHILD", format!("{backend}:{how}"))
    .env_remove("EAGER_TENSOR_NUM_THREADS")
    .env_remove("RAYON_NUM_THREADS")
    .env_remove("CANDLE_NUM_THREADS")
    .env_remove("OMP_NUM_THREADS");
    if let Some(v) = env {
        cmd.env("EAGER_TENSOR_NUM_THREADS", v);
    }
    let out = cmd.output().expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("@@").map(|(_, r)| r.to_string()))
        .unwrap_or_else(|| {
            panic!(
                "{backend} {how}: no result; status {}, stderr {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

fn count(backend: Backend, how: &str, env: Option<&str>) -> usize {
    let line = child(backend, how, env);
    line.strip_prefix("threads ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{backend} {how} {env:?}: {line}"))
}

/// Every backend that starts threads starts more for 4 than for 1, by
/// `set_num_threads` and by the environment variable alike.
#[test]
fn the_thread_count_reaches_every_framework() {
    for b in Backend::enabled() {
        let (one, four) = (count(b, "call:1", None), count(b, "call:4", None));
        let (env_one, env_four) = (count(b, "env", Some("1")), count(b, "env", Some("4")));
        println!(
            "threads [{b}]: set_num_threads(1) {one}, (4) {four}; env 1 {env_one}, 4 {env_four}"
        );
        if b == Backend::NdArray {
            // Computes on the calling thread whatever the count. (Through
            // set_num_threads, libtorch's pool, when compiled in, starts
            // at once: only the variable's count is ndarray's alone.)
            assert_eq!(env_one, env_four, "{b}");
            continue;
        }
        assert!(
            four > one,
            "[{b}] 4 threads started no more threads than 1: {four} vs {one}"
        );
        assert!(
            env_four > env_one,
            "[{b}] EAGER_TENSOR_NUM_THREADS=4 started no more threads than 1: {env_four} vs {env_one}"
        );
    }
}

/// Every backend that refuses a later count is named in the one error.
#[test]
fn a_late_count_names_every_backend_that_refuses() {
    let line = child(Backend::NdArray, "lateall:3", None);
    let refusing = [
        ("tensorflow", "TensorFlow"),
        ("xla", "XLA"),
        ("candle", "Candle"),
    ];
    let enabled: Vec<_> = refusing
        .iter()
        .filter(|(name, _)| Backend::enabled().iter().any(|b| b.name() == *name))
        .collect();
    if enabled.is_empty() {
        assert!(line.starts_with("threads "), "{line}");
        return;
    }
    assert!(
        line.starts_with("error set_num_threads: invalid argument"),
        "{line}"
    );
    for (_, framework) in enabled {
        assert!(line.contains(framework), "{framework} not named: {line}");
    }
    assert!(!line.contains("1 threads"), "{line}");
}

/// A later, different count: torch takes it; TensorFlow, xla and Candle,
/// whose pools are sized at start-up, refuse it naming the call. A
/// malformed variable is an error naming it on every backend that starts
/// threads.
#[test]
fn late_counts_and_malformed_variables_are_errors() {
    for b in Backend::enabled() {
        let late = child(b, "late:3", None);
        match b {
            Backend::NdArray | Backend::Torch => {
                assert!(late.starts_with("threads "), "[{b}] {late}")
            }
            _ => {
                assert!(
                    late.starts_with("error set_num_threads: invalid argument"),
                    "[{b}] {late}"
                );
                assert!(late.contains("EAGER_TENSOR_NUM_THREADS"), "[{b}] {late}");
            }
        }
        if b != Backend::NdArray {
            for value in ["lots", "0", "100000", "-1"] {
                let bad = child(b, "env", Some(value));
                assert!(bad.starts_with("error "), "[{b}] {value}: {bad}");
                let named = format!("EAGER_TENSOR_NUM_THREADS=\"{value}\"");
                assert!(bad.contains(&named), "[{b}] {value}: {bad}");
            }
        }
        // Too many threads by the call: an error before any pool starts.
        let huge = child(b, "call:100000", None);
        assert!(
            huge.starts_with("error set_num_threads: invalid argument"),
            "[{b}] {huge}"
        );
    }
}
