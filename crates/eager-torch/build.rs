//! Compiles `src/adopt.cpp`, the shim that lets libtorch adopt foreign host
//! memory with a deleter (`at::for_blob(..).context(..)`, which tch does not
//! expose), against the same libtorch headers and with the same flags that
//! torch-sys compiles tch's own C++ wrapper with, and gives this package's
//! test binaries libtorch's run-time path.
//!
//! libtorch is found the way torch-sys finds it, so the two always agree:
//! `LIBTORCH_INCLUDE` or `LIBTORCH` (set by `.cargo/config.toml` inside the
//! clone and by `scripts/native-env.sh` for a crate outside it), otherwise
//! the library folder torch-sys reports (`cargo:libtorch_lib`, seen here as
//! `DEP_TCH_LIBTORCH_LIB` because torch-sys has `links = "tch"`; it also
//! covers `LIBTORCH_USE_PYTORCH`), otherwise the system install
//! torch-sys accepts (`/usr/lib/libtorch.so`).

// Only libtensorflow's path is taken from here: libtorch's comes from
// torch-sys, as below.
#[allow(dead_code)]
#[path = "../../build/rpath.rs"]
mod rpath;

use std::env;
use std::path::{Path, PathBuf};

fn var(name: &str) -> Option<String> {
    println!("cargo:rerun-if-env-changed={name}");
    env::var(name).ok().filter(|v| !v.is_empty())
}

fn main() {
    println!("cargo:rerun-if-changed=src/adopt.cpp");
    println!("cargo:rerun-if-changed=build.rs");
    // The library folder torch-sys links against (it always prints it on
    // Linux and macOS).
    let lib_dir = env::var_os("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from);
    // The root whose `include/` has ATen's headers.
    // torch-sys's order: a PyTorch install (whose folders it reports)
    // first, then LIBTORCH_INCLUDE, LIBTORCH, the system install.
    let reported = lib_dir
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    println!("cargo:rerun-if-env-changed=LIBTORCH_USE_PYTORCH");
    let use_pytorch = env::var_os("LIBTORCH_USE_PYTORCH").is_some();
    let root = if use_pytorch { reported.clone() } else { None }
        .or_else(|| var("LIBTORCH_INCLUDE").map(PathBuf::from))
        .or_else(|| var("LIBTORCH").map(PathBuf::from))
        .or(reported)
        .unwrap_or_else(|| PathBuf::from("/usr"));
    let include = root.join("include");
    if !include.join("ATen/ops/from_blob.h").exists() {
        eprintln!(
            "eager-torch: libtorch's headers (ATen/ops/from_blob.h) are not under {}; set \
             LIBTORCH to the libtorch folder, as for torch-sys (see docs/native.md)",
            include.display()
        );
        std::process::exit(1);
    }
    // The C++ ABI must match libtorch's: torch-sys's default (with
    // LIBTORCH_USE_PYTORCH it asks Python, and PyTorch 2.13's wheels use
    // the new ABI, 1, too).
    let cxx11_abi = var("LIBTORCH_CXX11_ABI").unwrap_or_else(|| "1".to_owned());
    let target = env::var("TARGET").unwrap_or_default();
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(&include)
        .file("src/adopt.cpp");
    if target.contains("msvc") {
        build.flag("/std:c++17");
    } else {
        build
            .flag("-std=c++17")
            .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={cxx11_abi}"))
            .flag("-DGLOG_USE_GLOG_EXPORT")
            // libtorch 2.13's headers use a C++20 extension that g++ warns
            // about in C++17 (torch-sys compiles with the same standard).
            .flag_if_supported("-Wno-c++20-extensions");
    }
    build.compile("eager_torch_adopt");

    // This package's own test binaries (rustc-link-arg reaches only this
    // package's linked targets, not its dependents) run without
    // LD_LIBRARY_PATH, as the facade's build.rs does for its binaries. The
    // real path: libtorch_cpu finds its neighbours relative to itself.
    let lib_dir = lib_dir.unwrap_or_else(|| root.join("lib"));
    let lib_dir = std::fs::canonicalize(&lib_dir).unwrap_or(lib_dir);
    if !target.contains("msvc") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());
        // The shared suites (tests/suites.rs) link the facade, which links
        // libtensorflow too under `--all-features`.
        rpath::libtensorflow();
    }
}
