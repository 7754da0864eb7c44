//! Sets the run-time search path of this package's binaries (tests, examples,
//! benches) to the native libraries of the enabled backends, so they run
//! without LD_LIBRARY_PATH. Nothing happens for ndarray alone.

#[path = "build/rpath.rs"]
mod rpath;

fn main() {
    if std::env::var_os("CARGO_FEATURE_TENSORFLOW").is_some() {
        rpath::libtensorflow();
    }
    if std::env::var_os("CARGO_FEATURE_TORCH").is_some() {
        rpath::libtorch();
    }
}
