//! Sets the run-time search path of this package's binaries (tests,
//! examples, benches) to the native libraries of the enabled backends, so
//! they run without LD_LIBRARY_PATH. Nothing happens for ndarray alone.

fn rpath(dir: std::ffi::OsString) {
    // The real path: libraries find their neighbours relative to themselves.
    let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.into());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
}

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=EAGER_TENSOR_TF_LIB");
    if std::env::var_os("CARGO_FEATURE_TENSORFLOW").is_some() {
        if let Some(dir) = std::env::var_os("EAGER_TENSOR_TF_LIB") {
            rpath(dir);
        }
    }
    if std::env::var_os("CARGO_FEATURE_TORCH").is_some() {
        if let Some(dir) = std::env::var_os("LIBTORCH") {
            // libtorch_cpu.so finds its CUDA stubs relative to its real path.
            rpath(std::path::Path::new(&dir).join("lib").into_os_string());
        }
    }
}
