//! The run-time search path of a package's own binaries (tests, examples,
//! benches) to the native libraries, so they run without LD_LIBRARY_PATH.
//! Included by the build scripts of the facade and of every backend crate
//! (`#[path = ".../build/rpath.rs"] mod rpath;`): a backend crate's suites
//! (`tests/suites.rs`) link the facade, which under `--all-features` links
//! libtorch and libtensorflow whatever the crate's own backend is.
//! `cargo:rustc-link-arg` reaches only the package's own linked targets.

use std::ffi::OsString;
use std::path::Path;

fn add(dir: OsString) {
    // The real path: libraries find their neighbours relative to themselves.
    let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.into());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
}

/// libtorch's `lib/` under `LIBTORCH` (set by `.cargo/config.toml` in the
/// clone and by `scripts/native-env.sh` outside it), when set.
pub fn libtorch() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Some(dir) = std::env::var_os("LIBTORCH") {
        // libtorch_cpu.so finds its CUDA stubs relative to its real path.
        add(Path::new(&dir).join("lib").into_os_string());
    }
}

/// libtensorflow's folder `EAGER_TENSOR_TF_LIB` (set as `LIBTORCH` is),
/// when set.
pub fn libtensorflow() {
    println!("cargo:rerun-if-env-changed=EAGER_TENSOR_TF_LIB");
    if let Some(dir) = std::env::var_os("EAGER_TENSOR_TF_LIB") {
        add(dir);
    }
}
