//! Gives this package's test binaries the native libraries' run-time paths:
//! the shared suites (tests/suites.rs) link the facade, which links
//! libtorch and libtensorflow under `--all-features`.

#[path = "../../build/rpath.rs"]
mod rpath;

fn main() {
    rpath::libtorch();
    rpath::libtensorflow();
}
