//! The frameworks pick their CPU kernels by instruction set at run time;
//! CI reruns the conformance table and the property test with each held to
//! a smaller one (`scripts/test.sh`). These tests show that each setting
//! takes effect, in child processes (each framework reads its variable once
//! per process):
//!
//! - `ATEN_CPU_CAPABILITY` (libtorch): ATen reports the capability it
//!   dispatches to;
//! - `ONEDNN_MAX_CPU_ISA` (oneDNN inside TensorFlow): oneDNN's verbose log
//!   names the instruction set its kernels were generated for;
//! - `XLA_FLAGS=--xla_cpu_max_isa=…` (the PJRT CPU plugin): the machine
//!   code XLA compiles (dumped with `--xla_dump_to`, read with `objdump`)
//!   uses no register above the limit;
//!
//! and that the xla disk cache never hands a program compiled under one
//! `XLA_FLAGS` to a process with another.

use std::path::PathBuf;
use std::process::Command;

#[cfg(any(feature = "torch", feature = "tensorflow", feature = "xla"))]
/// Runs the child entry point `name` of this test binary with `env`;
/// returns its stdout, after checking it succeeded.
fn child(name: &str, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--ignored",
        "--exact",
        name,
        "--nocapture",
        "--test-threads=1",
    ]);
    // The parent's own settings (CI reruns this suite under them) must not
    // leak into a child that sets its own.
    for var in [
        "ATEN_CPU_CAPABILITY",
        "ONEDNN_MAX_CPU_ISA",
        "XLA_FLAGS",
        "ONEDNN_VERBOSE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("EAGER_ISA_CHILD", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("start a child");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child {name} {env:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[cfg(feature = "xla")]
fn temp_dir(what: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ep-isa-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temp dir");
    d
}

#[cfg(feature = "torch")]
mod torch {
    use super::child;

    /// Child: prints the capability ATen dispatches to.
    #[test]
    #[ignore = "a child process of aten_cpu_capability_takes_effect"]
    fn aten_child() {
        if std::env::var("EAGER_ISA_CHILD").is_err() {
            return;
        }
        let cap = eager_torch::cpu_capability().expect("ATen's capability");
        println!("@@aten {cap}");
    }

    fn capability(setting: Option<&str>) -> String {
        let env: Vec<(&str, &str)> = setting
            .map(|s| vec![("ATEN_CPU_CAPABILITY", s)])
            .unwrap_or_default();
        let out = child("torch::aten_child", &env);
        // The libtest harness prints its "test ... " prefix on the same line.
        out.split("@@aten ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no capability in {out}"))
            .to_string()
    }

    #[test]
    fn aten_cpu_capability_takes_effect() {
        assert_eq!(capability(Some("default")), "DEFAULT");
        if std::arch::is_x86_feature_detected!("avx2") {
            assert_eq!(capability(Some("avx2")), "AVX2");
        }
        let best = capability(None);
        println!("ATen's own choice on this CPU: {best}");
        if std::arch::is_x86_feature_detected!("avx512f") {
            assert_ne!(best, "AVX2", "the setting, not the CPU, gave AVX2 above");
        }
    }
}

#[cfg(feature = "tensorflow")]
mod tensorflow {
    use super::child;
    use eager_tensor::{self as ep, Backend, DType};

    /// Child: one f32 matmul on TensorFlow (oneDNN's kernel), with
    /// oneDNN's verbose log on stdout.
    #[test]
    #[ignore = "a child process of onednn_max_cpu_isa_takes_effect"]
    fn onednn_child() {
        if std::env::var("EAGER_ISA_CHILD").is_err() {
            return;
        }
        let a = ep::EagerTensor::ones(Backend::TensorFlow, [64, 64], DType::F32).unwrap();
        let c = a.matmul(&a).unwrap();
        assert_eq!(c.sum().unwrap().item::<f32>().unwrap(), 64.0 * 64.0 * 64.0);
    }

    /// The instruction set oneDNN's log names (`isa:...` on its info line).
    fn isa(setting: Option<&str>) -> String {
        let mut env = vec![("ONEDNN_VERBOSE", "1")];
        if let Some(s) = setting {
            env.push(("ONEDNN_MAX_CPU_ISA", s));
        }
        let out = child("tensorflow::onednn_child", &env);
        out.lines()
            .find_map(|l| l.split(",isa:").nth(1))
            .map(|s| s.split(',').next().unwrap_or(s).to_string())
            .unwrap_or_else(|| panic!("oneDNN printed no isa line (is it used?): {out}"))
    }

    #[test]
    fn onednn_max_cpu_isa_takes_effect() {
        let best = isa(None);
        println!("oneDNN's own choice on this CPU: {best}");
        let avx2 = isa(Some("AVX2"));
        assert!(
            avx2.contains("AVX2") && !avx2.contains("512"),
            "ONEDNN_MAX_CPU_ISA=AVX2 gave {avx2}"
        );
        let sse = isa(Some("SSE41"));
        assert!(
            sse.contains("SSE4.1") && !sse.contains("AVX"),
            "ONEDNN_MAX_CPU_ISA=SSE41 gave {sse}"
        );
    }
}

#[cfg(feature = "xla")]
mod xla {
    use super::{child, temp_dir};
    use eager_tensor::{self as ep, Backend, DType};
    use std::path::Path;

    /// Child: one program compiled on xla (an f32 add).
    #[test]
    #[ignore = "a child process of the xla tests of this file"]
    fn xla_child() {
        if std::env::var("EAGER_ISA_CHILD").is_err() {
            return;
        }
        let a = ep::EagerTensor::ones(Backend::Xla, [8], DType::F32).unwrap();
        let s = a.add(&a).unwrap().sum().unwrap();
        assert_eq!(s.item::<f32>().unwrap(), 16.0);
    }

    /// The vector registers the machine code XLA dumped to `dir` uses:
    /// (`ymm` instructions, `zmm` instructions), read with `objdump -d`.
    fn registers(dir: &Path) -> (usize, usize) {
        let (mut ymm, mut zmm, mut objects) = (0, 0, 0);
        for e in std::fs::read_dir(dir).expect("the dump folder").flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "o") {
                objects += 1;
                let out = std::process::Command::new("objdump")
                    .arg("-d")
                    .arg(&p)
                    .output()
                    .expect("objdump (binutils) disassembles XLA's object files");
                let text = String::from_utf8_lossy(&out.stdout);
                ymm += text.lines().filter(|l| l.contains("%ymm")).count();
                zmm += text.lines().filter(|l| l.contains("%zmm")).count();
            }
        }
        assert!(
            objects > 0,
            "XLA dumped no object files to {}",
            dir.display()
        );
        (ymm, zmm)
    }

    /// Compiles an f32 add in a child with `--xla_cpu_max_isa=isa` and the
    /// machine code dumped; the registers it uses.
    fn compiled_for(isa: &str) -> (usize, usize) {
        let dir = temp_dir(&format!("xla-dump-{isa}"));
        let flags = format!("--xla_cpu_max_isa={isa} --xla_dump_to={}", dir.display());
        // Compile for real: a program from the disk cache is not dumped.
        child(
            "xla::xla_child",
            &[("XLA_FLAGS", &flags), ("EAGER_TENSOR_XLA_DISK_CACHE", "0")],
        );
        let r = registers(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        r
    }

    #[test]
    fn xla_cpu_max_isa_takes_effect() {
        // An 8-wide f32 add: one ymm register where AVX is allowed.
        let avx2 = compiled_for("AVX2");
        let sse = compiled_for("SSE4_2");
        println!("xla: (ymm, zmm) instructions under AVX2 {avx2:?}, SSE4_2 {sse:?}");
        assert_eq!(avx2.1, 0, "AVX-512 registers under an AVX2 limit");
        assert_eq!(sse, (0, 0), "AVX registers under an SSE4_2 limit");
        if std::arch::is_x86_feature_detected!("avx2") {
            assert!(
                avx2.0 > 0,
                "no AVX code though the CPU and the limit allow it"
            );
        }
    }

    /// Two settings of `XLA_FLAGS`, one cache folder: each compiles its own
    /// program and keeps it apart (a program compiled for AVX-512 would
    /// crash, or round otherwise, on a CPU limited to AVX2).
    #[test]
    fn the_disk_cache_keeps_programs_of_different_settings_apart() {
        let cache = temp_dir("xla-disk");
        let c = cache.to_string_lossy().to_string();
        // The plugin is found where it is; only the cache folder moves.
        let plugin = ep::backends::xla::pjrt::plugin_path().expect("the PJRT plugin");
        let plugin = plugin.to_string_lossy().to_string();
        let run = |flags: &str| {
            child(
                "xla::xla_child",
                &[
                    ("XLA_FLAGS", flags),
                    ("EAGER_TENSOR_CACHE", &c),
                    ("EAGER_TENSOR_PJRT_PLUGIN", &plugin),
                ],
            )
        };
        let folders = |p: &Path| -> Vec<String> {
            std::fs::read_dir(p.join("xla-executables"))
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        run("--xla_cpu_max_isa=AVX2");
        let one = folders(&cache);
        assert_eq!(one.len(), 1, "{one:?}");
        let files = |f: &str| {
            std::fs::read_dir(cache.join("xla-executables").join(f))
                .map(|d| d.count())
                .unwrap_or(0)
        };
        let n = files(&one[0]);
        assert!(n > 0, "the first run stored its programs");
        // The same setting again: loaded, nothing new stored.
        run("--xla_cpu_max_isa=AVX2");
        assert_eq!(folders(&cache), one);
        assert_eq!(files(&one[0]), n);
        // Another setting: a folder of its own, the first one untouched.
        run("--xla_cpu_max_isa=AVX");
        let two = folders(&cache);
        assert_eq!(two.len(), 2, "{two:?}");
        assert_eq!(files(&one[0]), n);
        let _ = std::fs::remove_dir_all(&cache);
    }
}
