//! Gives this package's test binaries the native libraries' run-time paths:
//! libtensorflow for tests/exchange.rs, and libtorch too for the shared
//! suites (tests/suites.rs), which link the facade with every backend under
//! `--all-features`.

#[path = "../../build/rpath.rs"]
mod rpath;

fn main() {
    rpath::libtensorflow();
    rpath::libtorch();
}
