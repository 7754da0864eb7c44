//! The checks beside the per-backend run: exact cases compare bitwise,
//! the table covers the API, promotion matches NumPy and JAX, and the
//! table holds under `ep::jit` on xla.

use crate::suite::*;
use eager_tensor::{self as ep, Backend, DType, EagerTensor, HostData};
use serde_json::Value;

/// The exact comparison is bitwise: one unit in the last place of an f16 or
/// bf16 value, or -0.0 for 0.0, fails it (the tolerance would pass both),
/// and the generator marks the casts and the single element-wise ops on the
/// 16-bit floats, including its ties-to-even and subnormal cases, as exact.
#[test]
fn exact_cases_compare_bitwise() {
    let want =
        |dtype: &str, data: Value| serde_json::json!({"dtype": dtype, "shape": [2], "data": data});
    for dtype in [DType::F16, DType::BF16] {
        let w = want(&dtype.to_string(), serde_json::json!([1.0, 0.0]));
        let same = EagerTensor::from_host(
            Backend::enabled()[0],
            HostData::from_f64s(dtype, &[1.0, 0.0]),
            [2],
        )
        .unwrap();
        assert_eq!(compare(&same, &w, None, true), Ok(()));
        let ulp = if dtype == DType::F16 {
            2f64.powi(-10)
        } else {
            2f64.powi(-7)
        };
        let off = EagerTensor::from_host(
            Backend::enabled()[0],
            HostData::from_f64s(dtype, &[1.0 + ulp, 0.0]),
            [2],
        )
        .unwrap();
        assert_eq!(
            compare(&off, &w, None, false),
            Ok(()),
            "within the tolerance"
        );
        assert!(compare(&off, &w, None, true)
            .unwrap_err()
            .contains("element 0"));
        let neg0 = EagerTensor::from_host(
            Backend::enabled()[0],
            HostData::from_f64s(dtype, &[1.0, -0.0]),
            [2],
        )
        .unwrap();
        assert!(compare(&neg0, &w, None, true)
            .unwrap_err()
            .contains("element 1"));
        let nan = want(&dtype.to_string(), serde_json::json!(["nan", 0.0]));
        let got = EagerTensor::from_host(
            Backend::enabled()[0],
            HostData::from_f64s(dtype, &[-f64::NAN, 0.0]),
            [2],
        )
        .unwrap();
        assert_eq!(
            compare(&got, &nan, None, true),
            Ok(()),
            "any NaN matches NaN"
        );
    }
    let data = data();
    let exact: std::collections::BTreeSet<&str> = data["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["exact"].as_bool() == Some(true))
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    for name in [
        "astype_f32_f16",
        "astype_bf16_f16",
        "astype_round_f64_f16",
        "astype_ties_f32_f16",
        "astype_ties_f32_bf16",
        "astype_ties_f16_bf16",
        "astype_ties_bf16_f16",
        "add_f16",
        "sub_bf16",
        "mul_f16",
        "div_bf16",
        "neg_f16",
        "abs_bf16",
        "lt_f16",
        "add_ties_bf16",
        "mul_subnormal_f16",
        "add_promote_u8_f16",
    ] {
        assert!(exact.contains(name), "{name} is not compared exactly");
    }
    for name in ["sum_f16", "exp_bf16", "matmul_f16", "mean_bf16"] {
        assert!(!exact.contains(name), "{name} keeps its tolerance");
    }
}

/// Every op name the generator uses is known to the runner, and the table
/// covers every op of API.md but autodiff and to_backend (tests/autodiff.rs
/// and tests/api.rs test those on every backend).
#[test]
fn conformance_table_covers_the_api() {
    let data = data();
    let ops: std::collections::BTreeSet<&str> = data["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c["op"].as_str().expect("op"))
        .collect();
    let api = [
        "abs",
        "neg",
        "sign",
        "sqrt",
        "square",
        "exp",
        "log",
        "log2",
        "log10",
        "log1p",
        "sin",
        "cos",
        "tan",
        "sinh",
        "cosh",
        "tanh",
        "arcsin",
        "arccos",
        "arctan",
        "arcsinh",
        "arccosh",
        "arctanh",
        "round",
        "ceil",
        "floor",
        "isnan",
        "isinf",
        "logical_not",
        "sigmoid",
        "relu",
        "add",
        "sub",
        "mul",
        "div",
        "floor_div",
        "rem",
        "pow",
        "minimum",
        "maximum",
        "logical_and",
        "logical_or",
        "lt",
        "le",
        "gt",
        "ge",
        "eq",
        "ne",
        "matmul",
        "where_cond",
        "astype",
        "sum",
        "prod",
        "mean",
        "min",
        "max",
        "all",
        "any",
        "argmin",
        "argmax",
        "argsort",
        "sort",
        "topk",
        "cumsum",
        "reshape",
        "flatten",
        "transpose",
        "permute",
        "t",
        "expand_dims",
        "squeeze",
        "tile",
        "flip",
        "pad",
        "broadcast_to",
        "concatenate",
        "stack",
        "meshgrid",
        "iter",
        "take_along_axis",
        "onehot_like",
        "softmax",
        "log_softmax",
        "crossentropy",
        "clip",
        "inv",
        "slogdet",
        "zeros",
        "ones",
        "full",
        "zeros_like",
        "ones_like",
        "full_like",
        "arange",
        "l0",
        "l1",
        "l2",
        "linf",
        "lp",
        "index",
        "index_update",
    ];
    let missing: Vec<&str> = api.iter().copied().filter(|op| !ops.contains(op)).collect();
    assert!(
        missing.is_empty(),
        "ops without conformance cases: {missing:?}"
    );
}

/// `DType::promote` is the generator's table: NumPy 2's `result_type` for
/// the NumPy dtypes, `jax.numpy.promote_types` for pairs with bf16 — every
/// one of the 13 × 13 pairs.
#[test]
fn promotion_table_matches_numpy_and_jax() {
    let data = data();
    let table = data["promotion"].as_array().expect("promotion table");
    assert_eq!(table.len(), DType::ALL.len() * DType::ALL.len());
    for row in table {
        let d = |i: usize| -> DType { row[i].as_str().expect("dtype").parse().expect("dtype") };
        assert_eq!(d(0).promote(d(1)), d(2), "promote({}, {})", d(0), d(1));
    }
}

/// The conformance table under `ep::jit` on xla: every case that expects a
/// result runs its op inside a jitted function (one program per case) and
/// must give the eager answer. Ops that need values on the host while
/// tracing are refused with an "inside jit" error and listed; only the ops
/// whose result shape depends on values may be among them.
#[test]
#[cfg(feature = "xla")]
fn conformance_under_jit_on_xla() {
    let data = data();
    let cases = data["cases"].as_array().expect("cases");
    let (mut passed, mut refused) = (0, std::collections::BTreeSet::new());
    let mut failures = Vec::new();
    for case in cases {
        if case.get("error").is_some() {
            continue;
        }
        let name = case["name"].as_str().expect("name");
        let op = case["op"].as_str().expect("op");
        let ins = case["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .map(|v| EagerTensor::from_host(Backend::Xla, host_of(v), shape_of(v)))
            .collect::<ep::Result<Vec<_>>>()
            .expect("inputs");
        if ins.is_empty() {
            continue;
        }
        let args = case["args"].clone();
        let f = ep::jit(move |xs: &[EagerTensor]| run(op, xs, &args));
        let refs: Vec<&EagerTensor> = ins.iter().collect();
        match f.call(&refs) {
            Err(e) if e.to_string().contains("inside jit") => {
                refused.insert(format!("{op} ({})", e.op()));
            }
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(outs) => {
                let want = case["expect"].as_array().expect("expect");
                let rtol = case["rtol"].as_f64();
                let exact = case["exact"].as_bool().unwrap_or(false);
                let r = if outs.len() != want.len() {
                    Err(format!("{} outputs, expected {}", outs.len(), want.len()))
                } else {
                    outs.iter()
                        .zip(want)
                        .try_for_each(|(g, w)| compare(g, w, rtol, exact))
                };
                match r {
                    Ok(()) => passed += 1,
                    Err(e) => failures.push(format!("{name}: {e}")),
                }
            }
        }
    }
    println!("conformance under jit [xla]: {passed} passed, refused inside jit: {refused:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Value-dependent shapes only: boolean masks (index, index_update) and
    // nonzero; `iter` reads the length, which is static, so it passes.
    for r in &refused {
        assert!(
            r.starts_with("index (") || r.starts_with("index_update (") || r.starts_with("nonzero"),
            "{r} should be traceable"
        );
    }
    assert!(passed > 1000, "only {passed} cases ran under jit");
}
