//! `.safetensors`, `.npy` and `.npz` files (issue 14): files written by
//! the Python `safetensors` package and by NumPy (tests/gen/gen_files.py)
//! load with the
//! right dtype, shape and values on every backend; every dtype round-trips
//! through eager-tensor's own files; malformed files are errors, never a
//! panic or an allocation of a declared size; files written here load in
//! Python when it has `safetensors`.

use eager_tensor::{self as ep, Backend, DType, EagerTensor, HostData, Scalar};
use serde_json::Value;
use std::path::PathBuf;

fn files() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/files")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ep-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// One expected element against the loaded one, exactly (NaN, ±inf, -0.0).
fn same(want: &Value, got: Scalar) -> bool {
    match want {
        Value::Null => got.to_f64().is_nan(),
        Value::String(s) if s == "inf" => got.to_f64() == f64::INFINITY,
        Value::String(s) if s == "-inf" => got.to_f64() == f64::NEG_INFINITY,
        Value::Bool(b) => got == Scalar::Bool(*b),
        v if got.dtype().is_float() => {
            let w = v.as_f64().unwrap();
            got.to_f64() == w && got.to_f64().is_sign_negative() == w.is_sign_negative()
        }
        v => {
            let w = v
                .as_i64()
                .map(i128::from)
                .or(v.as_u64().map(i128::from))
                .unwrap();
            got.to_i128() == Some(w)
        }
    }
}

#[test]
fn numpy_written_safetensors_load_with_dtype_shape_values_on_every_backend() {
    let expect: Value = serde_json::from_str(
        &std::fs::read_to_string(files().join("numpy.safetensors.json")).unwrap(),
    )
    .unwrap();
    for b in Backend::enabled() {
        let loaded = ep::load_safetensors(files().join("numpy.safetensors"), b).unwrap();
        assert_eq!(loaded.len(), expect.as_object().unwrap().len());
        for (name, t) in &loaded {
            let w = &expect[name.as_str()];
            let d: DType = w["dtype"].as_str().unwrap().parse().unwrap();
            let shape: Vec<usize> = w["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect();
            assert_eq!((t.backend(), t.dtype(), t.shape()), (b, d, shape), "{name}");
            let h = t.to_host_data().unwrap();
            for (i, v) in w["data"].as_array().unwrap().iter().enumerate() {
                assert!(
                    same(v, h.get(i).unwrap()),
                    "[{b}] {name}[{i}]: {:?} vs {v}",
                    h.get(i)
                );
            }
        }
    }
}

fn every_dtype(b: Backend) -> Vec<(String, EagerTensor)> {
    DType::ALL
        .into_iter()
        .map(|d| {
            let v: Vec<f64> = vec![0.0, 1.0, 2.5, -3.0, 100.0, 7.0];
            let h = if d == DType::Bool {
                HostData::Bool(vec![true, false, true, true, false, false])
            } else {
                HostData::from_f64s(d, &v)
            };
            (
                format!("t_{d}"),
                EagerTensor::from_host(b, h, [2, 3]).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_dtype_round_trips_on_every_backend() {
    for b in Backend::enabled() {
        let ts = every_dtype(b);
        let refs: Vec<(&str, &EagerTensor)> = ts.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let path = tmp(&format!("all_{b}.safetensors"));
        ep::save_safetensors(&path, &refs).unwrap();
        for to in Backend::enabled() {
            let back = ep::load_safetensors(&path, to).unwrap();
            assert_eq!(back.len(), ts.len());
            for (name, t) in &back {
                let orig = &ts.iter().find(|(n, _)| n == name).unwrap().1;
                assert_eq!(
                    (t.dtype(), t.shape()),
                    (orig.dtype(), orig.shape()),
                    "{name}"
                );
                assert_eq!(
                    t.to_host_data().unwrap(),
                    orig.to_host_data().unwrap(),
                    "[{b} -> {to}] {name}"
                );
            }
        }
    }
}

#[test]
fn malformed_files_are_errors_naming_the_file() {
    for entry in std::fs::read_dir(files()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("bad_") || !name.ends_with(".safetensors") {
            continue;
        }
        let e = ep::load_safetensors(&path, Backend::NdArray).unwrap_err();
        assert_eq!(
            (e.kind(), e.op()),
            ("invalid", "load_safetensors"),
            "{name}: {e}"
        );
        assert!(e.to_string().contains(&name), "{name}: {e}");
    }
    let e = ep::load_safetensors(files().join("no_such_file.safetensors"), Backend::NdArray)
        .unwrap_err();
    assert_eq!(e.op(), "load_safetensors");
}

/// The Python to check files with (`EAGER_TENSOR_TEST_PYTHON`, else
/// `python3`) if it can import `modules`; `None` (the caller skips) if not.
fn python_with(modules: &str) -> Option<String> {
    let python = std::env::var("EAGER_TENSOR_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = std::process::Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        eprintln!("skipping: {python} cannot import {modules}");
    }
    has.then_some(python)
}

/// Files written here load in Python's `safetensors` (NumPy), where a
/// Python with it is present (`EAGER_TENSOR_TEST_PYTHON`, else `python3`).
#[test]
fn written_files_load_in_python_when_present() {
    let Some(python) = python_with("safetensors.numpy, numpy") else {
        return;
    };
    let ts: Vec<(String, EagerTensor)> = every_dtype(Backend::NdArray)
        .into_iter()
        .filter(|(n, _)| n != "t_bf16")
        .collect();
    let refs: Vec<(&str, &EagerTensor)> = ts.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let path = tmp("for_python.safetensors");
    ep::save_safetensors(&path, &refs).unwrap();
    let script = format!(
        "from safetensors.numpy import load_file\nd = load_file({:?})\nprint(';'.join(f'{{k}}:{{v.dtype}}:{{list(v.shape)}}:{{v.ravel().tolist()}}' for k, v in sorted(d.items())))",
        path.to_string_lossy()
    );
    let out = std::process::Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("t_f32:float32:[2, 3]:[0.0, 1.0, 2.5, -3.0, 100.0, 7.0]"),
        "{text}"
    );
    assert!(
        text.contains("t_u64:uint64:[2, 3]:[0, 1, 2, 18446744073709551613, 100, 7]"),
        "{text}"
    );
    assert!(
        text.contains("t_bool:bool:[2, 3]:[True, False, True, True, False, False]"),
        "{text}"
    );
    // And a .npy written here, in NumPy.
    let npy = tmp("for_python.npy");
    ep::save_npy(&npy, &ts.iter().find(|(n, _)| n == "t_i16").unwrap().1).unwrap();
    let script = format!(
        "import numpy as np\na = np.load({:?})\nprint(a.dtype, list(a.shape), a.ravel().tolist())",
        npy.to_string_lossy()
    );
    let out = std::process::Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.trim(), "int16 [2, 3] [0, 1, 2, -3, 100, 7]");
}

#[test]
fn numpy_saved_npy_files_load_on_every_backend() {
    let expect: Value = serde_json::from_str(
        &std::fs::read_to_string(files().join("numpy.safetensors.json")).unwrap(),
    )
    .unwrap();
    for b in Backend::enabled() {
        for d in DType::ALL.into_iter().filter(|&d| d != DType::BF16) {
            let t = ep::load_npy(files().join(format!("np_{d}.npy")), b).unwrap();
            let w = &expect[d.to_string().as_str()];
            assert_eq!((t.dtype(), t.shape()), (d, vec![2, 3]), "[{b}] {d}");
            let h = t.to_host_data().unwrap();
            for (i, v) in w["data"].as_array().unwrap().iter().enumerate() {
                assert!(
                    same(v, h.get(i).unwrap()),
                    "[{b}] {d}[{i}]: {:?} vs {v}",
                    h.get(i)
                );
            }
        }
        let f = ep::load_npy(files().join("np_fortran.npy"), b).unwrap();
        assert_eq!(f.shape(), vec![2, 3]);
        assert_eq!(
            f.to_vec::<f32>().unwrap(),
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
        let be = ep::load_npy(files().join("np_bigendian.npy"), b).unwrap();
        assert_eq!(be.to_vec::<i32>().unwrap(), vec![0, 1, 2, 3]);
        let s = ep::load_npy(files().join("np_scalar.npy"), b).unwrap();
        assert_eq!((s.shape(), s.item::<f64>().unwrap()), (vec![], 2.5));
    }
}

#[test]
fn npy_round_trips_every_numpy_dtype_and_refuses_bf16() {
    for b in Backend::enabled() {
        for (name, t) in every_dtype(b) {
            let path = tmp(&format!("{name}_{b}.npy"));
            if t.dtype() == DType::BF16 {
                let e = ep::save_npy(&path, &t).unwrap_err();
                assert_eq!((e.kind(), e.op()), ("dtype", "save_npy"));
                continue;
            }
            ep::save_npy(&path, &t).unwrap();
            for to in Backend::enabled() {
                let back = ep::load_npy(&path, to).unwrap();
                assert_eq!(
                    back.to_host_data().unwrap(),
                    t.to_host_data().unwrap(),
                    "[{b} -> {to}] {name}"
                );
                assert_eq!(back.shape(), t.shape());
            }
        }
    }
}

#[test]
fn malformed_npy_files_are_errors_naming_the_file() {
    for (file, kind) in [
        ("bad_np_truncated.npy", "invalid"),
        ("bad_np_bad_magic.npy", "invalid"),
        ("bad_np_header_cut.npy", "invalid"),
        ("bad_np_shape_lies.npy", "invalid"),
        ("bad_np_huge_shape.npy", "invalid"),
        ("bad_np_complex.npy", "dtype"),
    ] {
        let e = ep::load_npy(files().join(file), Backend::NdArray).unwrap_err();
        assert_eq!((e.kind(), e.op()), (kind, "load_npy"), "{file}: {e}");
        assert!(e.to_string().contains(file), "{file}: {e}");
    }
    // A header whose shape passes the header check but is too large for
    // memory (2^61 f4 values): the size check's `shape` error names the file.
    let mut h =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2305843009213693952,), }".to_string();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((h.len() as u16).to_le_bytes());
    bytes.extend(h.as_bytes());
    let path = tmp("huge_shape_in_header.npy");
    std::fs::write(&path, bytes).unwrap();
    let e = ep::load_npy(&path, Backend::NdArray).unwrap_err();
    assert_eq!(e.op(), "load_npy", "{e}");
    assert!(e.to_string().contains("huge_shape_in_header.npy"), "{e}");
}

/// Every array of a loaded map against the generator's expectations.
fn check_against_expect(b: Backend, what: &str, loaded: &[(String, EagerTensor)]) {
    let expect: Value = serde_json::from_str(
        &std::fs::read_to_string(files().join("numpy.safetensors.json")).unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = loaded.iter().map(|(n, _)| n.as_str()).collect();
    let mut want: Vec<&str> = expect
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    want.sort();
    assert_eq!(names, want, "[{b}] {what}: names, sorted");
    for (name, t) in loaded {
        let w = &expect[name.as_str()];
        let d: DType = w["dtype"].as_str().unwrap().parse().unwrap();
        let shape: Vec<usize> = w["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(
            (t.backend(), t.dtype(), t.shape()),
            (b, d, shape),
            "{what} {name}"
        );
        let h = t.to_host_data().unwrap();
        for (i, v) in w["data"].as_array().unwrap().iter().enumerate() {
            assert!(
                same(v, h.get(i).unwrap()),
                "[{b}] {what} {name}[{i}]: {:?} vs {v}",
                h.get(i)
            );
        }
    }
}

#[test]
fn numpy_savez_archives_load_on_every_backend() {
    for b in Backend::enabled() {
        for file in ["np_savez.npz", "np_savez_compressed.npz"] {
            let loaded = ep::load_npz(files().join(file), b).unwrap();
            check_against_expect(b, file, &loaded);
        }
    }
}

#[test]
fn npz_round_trips_every_numpy_dtype_refuses_bf16_and_duplicate_names() {
    for b in Backend::enabled() {
        let ts = every_dtype(b);
        let path = tmp(&format!("all_{b}.npz"));
        let refs: Vec<(&str, &EagerTensor)> = ts.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let e = ep::save_npz(&path, &refs).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("dtype", "save_npz"), "{e}");
        assert!(e.to_string().contains("t_bf16"), "{e}");
        let mut refs: Vec<(&str, &EagerTensor)> =
            refs.into_iter().filter(|(n, _)| *n != "t_bf16").collect();
        refs.sort_by_key(|(n, _)| *n); // loaded maps come sorted by name
        ep::save_npz(&path, &refs).unwrap();
        for to in Backend::enabled() {
            let back = ep::load_npz(&path, to).unwrap();
            assert_eq!(back.len(), refs.len());
            for ((n, t), (m, u)) in back.iter().zip(&refs) {
                assert_eq!(n, m);
                assert_eq!((t.backend(), t.shape()), (to, u.shape()), "{n}");
                assert_eq!(
                    t.to_host_data().unwrap(),
                    u.to_host_data().unwrap(),
                    "[{b} -> {to}] {n}"
                );
            }
        }
        let e = ep::save_npz(&path, &[("a", refs[0].1), ("a", refs[1].1)]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("invalid", "save_npz"), "{e}");
    }
}

#[test]
fn malformed_npz_archives_are_errors_naming_the_file() {
    for (file, kind) in [
        ("bad_npz_truncated.npz", "invalid"),
        ("bad_npz_not_zip.npz", "invalid"),
        ("bad_npz_entry_lies.npz", "invalid"),
    ] {
        let e = ep::load_npz(files().join(file), Backend::NdArray).unwrap_err();
        assert_eq!((e.kind(), e.op()), (kind, "load_npz"), "{file}: {e}");
        assert!(e.to_string().contains(file), "{file}: {e}");
    }
}

/// An `.npz` written here loads in NumPy, where a Python with it is present.
#[test]
fn written_npz_loads_in_numpy_when_present() {
    let Some(python) = python_with("numpy") else {
        return;
    };
    let ts = every_dtype(Backend::NdArray);
    let get = |n: &str| &ts.iter().find(|(m, _)| m == n).unwrap().1;
    let path = tmp("for_numpy.npz");
    ep::save_npz(&path, &[("w", get("t_f64")), ("i", get("t_u8"))]).unwrap();
    let script = format!(
        "import numpy as np\nd = np.load({:?})\nprint(';'.join(f'{{k}}:{{d[k].dtype}}:{{list(d[k].shape)}}:{{d[k].ravel().tolist()}}' for k in sorted(d.files)))",
        path.to_string_lossy()
    );
    let out = std::process::Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "i:uint8:[2, 3]:[0, 1, 2, 253, 100, 7];w:float64:[2, 3]:[0.0, 1.0, 2.5, -3.0, 100.0, 7.0]"
    );
}
