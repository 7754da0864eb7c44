//! Sets the run-time search path of this crate's own test binaries
//! (tests/exchange.rs) to libtensorflow, as the facade's build.rs does for
//! its binaries, so they run without LD_LIBRARY_PATH.

fn main() {
    println!("cargo:rerun-if-env-changed=EAGER_TENSOR_TF_LIB");
    if let Some(dir) = std::env::var_os("EAGER_TENSOR_TF_LIB") {
        // The real path: libraries find their neighbours relative to themselves.
        let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.into());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
