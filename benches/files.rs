//! Peak memory of loading a 1 GiB `.safetensors` file, per backend.
//!
//! `cargo bench --bench files [--features ...]` writes a 1 GiB file (four
//! 256 MiB f32 tensors) to the temp folder once, then loads it in a fresh
//! child process per backend and reports how far the process's peak
//! resident memory rose during the load (Linux `VmHWM`, reset just before
//! through `/proc/self/clear_refs`), as a multiple of the file size, next to
//! the naive reader (read the whole file, then copy each tensor out), and
//! the load time next to a plain `std::fs::read` of the same file. Memory,
//! not speed, is the point, so this is a plain program, not criterion.
//! `EAGER_TENSOR_BENCH_FILE_MIB` changes the size.

use eager_tensor::{self as ep, Backend, EagerTensor, HostData};
use std::time::Instant;

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Child: load `path` with `mode` and print "peak_bytes seconds".
fn child(mode: &str, path: &str) {
    // Start the backend first: its libraries and thread pools are not the
    // load's memory.
    let backend: Option<Backend> = mode.parse().ok();
    if let Some(b) = backend {
        let t = EagerTensor::from_host(b, HostData::F32(vec![1.0; 16]), [16]).unwrap();
        std::hint::black_box(t.sum().unwrap().item::<f32>().unwrap());
    }
    // Reset the peak to the present resident size.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let base = status_kib("VmRSS:");
    let start = Instant::now();
    let kept: usize = match (mode, backend) {
        ("naive", _) => {
            // The reader before: the whole file, then a copy per tensor.
            let bytes = std::fs::read(path).unwrap();
            let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            let copies: Vec<Vec<u8>> = st
                .tensors()
                .iter()
                .map(|(_, v)| v.data().to_vec())
                .collect();
            drop(bytes);
            copies.len()
        }
        ("read", _) => std::fs::read(path).unwrap().len(),
        (_, Some(b)) => {
            let loaded = ep::load_safetensors(path, b).unwrap();
            // Touch the results so they are resident, as a user's would be.
            for (_, t) in &loaded {
                std::hint::black_box(t.shape());
            }
            loaded.len()
        }
        _ => panic!("unknown mode {mode}"),
    };
    let secs = start.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM:").saturating_sub(base) * 1024;
    std::hint::black_box(kept);
    println!("{peak} {secs}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let (Ok(mode), Ok(path)) = (
        std::env::var("EP_FILES_CHILD"),
        std::env::var("EP_FILES_PATH"),
    ) {
        return child(&mode, &path);
    }
    if args.iter().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and test discovery
    }
    let mib: usize = std::env::var("EAGER_TENSOR_BENCH_FILE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let path = std::env::temp_dir().join(format!("eager-tensor-bench-{mib}mib.safetensors"));
    let size = (mib as u64) << 20;
    if std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) < size {
        eprintln!("writing {} ...", path.display());
        let per = mib / 4 * (1 << 20) / 4; // four f32 tensors
        let ts: Vec<EagerTensor> = (0..4)
            .map(|i| {
                EagerTensor::from_host(
                    Backend::NdArray,
                    HostData::F32((0..per).map(|j| (i * per + j) as f32).collect()),
                    [per / 1024, 1024],
                )
                .unwrap()
            })
            .collect();
        let names = ["a", "b", "c", "d"];
        let refs: Vec<(&str, &EagerTensor)> = names.iter().copied().zip(ts.iter()).collect();
        ep::save_safetensors(&path, &refs).unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len() as f64;
    let exe = std::env::current_exe().unwrap();
    let mut modes = vec!["read".to_string(), "naive".to_string()];
    modes.extend(Backend::enabled().iter().map(|b| b.to_string()));
    println!(
        "\nload {:.0} MiB .safetensors: peak memory rise / file size, time",
        size / 1048576.0
    );
    println!(
        "{:<12} {:>10} {:>10} {:>10}",
        "mode", "peak/size", "seconds", "vs read"
    );
    let mut read_secs = f64::NAN;
    for mode in modes {
        // The file is in the page cache after the first run; each mode
        // runs twice and keeps its second (warm) run.
        let mut last = (0.0, 0.0);
        for _ in 0..2 {
            let out = std::process::Command::new(&exe)
                .env("EP_FILES_CHILD", &mode)
                .env("EP_FILES_PATH", &path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{mode}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            let mut it = text.split_whitespace().map(|v| v.parse::<f64>().unwrap());
            last = (it.next().unwrap(), it.next().unwrap());
        }
        if mode == "read" {
            read_secs = last.1;
        }
        println!(
            "{:<12} {:>10.3} {:>10.3} {:>10.2}",
            mode,
            last.0 / size,
            last.1,
            last.1 / read_secs
        );
    }
}
