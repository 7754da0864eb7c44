//! Sets the run-time search path of this package's binaries (tests,
//! examples, benches) to the native libraries of the enabled backends, so
//! they run without LD_LIBRARY_PATH. Nothing happens for ndarray alone.

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if std::env::var_os("CARGO_FEATURE_TORCH").is_some() {
        if let Some(dir) = std::env::var_os("LIBTORCH") {
            // The real path: libtorch_cpu.so finds its CUDA stubs relative to itself.
            let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.into());
            println!(
                "cargo:rustc-link-arg=-Wl,-rpath,{}",
                dir.join("lib").display()
            );
        }
    }
}
