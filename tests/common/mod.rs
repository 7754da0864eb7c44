//! Shared by the hostile-input suite and the agreement property test (how
//! an outcome is written down, and when two backends' outcomes agree), and
//! by the per-backend tests of native dtypes eager-tensor lacks.
#![allow(dead_code)]

use eager_tensor::{self as ep, Backend, DType, EagerTensor, HostData};

/// Integers wrapped into an integer (or bool: non-zero) dtype, as `as` does;
/// floats rounded.
pub fn host_ints(d: DType, v: &[i128]) -> HostData {
    macro_rules! wrap {
        ($($var:ident $t:ty),*) => {
            match d {
                DType::Bool => HostData::Bool(v.iter().map(|&x| x != 0).collect()),
                $(DType::$var => HostData::$var(v.iter().map(|&x| x as $t).collect()),)*
                f => HostData::from_f64s(f, &v.iter().map(|&x| x as f64).collect::<Vec<_>>()),
            }
        };
    }
    wrap!(U8 u8, I8 i8, I16 i16, U16 u16, I32 i32, U32 u32, I64 i64, U64 u64)
}

/// What an operation gave: tensors, or an error.
pub type Out = ep::Result<Vec<EagerTensor>>;

/// What a case gave, as one line: `ok <dtype> <dims> <values>;...` or
/// `err <kind> <op> <message>`.
pub fn outcome(r: Out) -> String {
    match r {
        Err(e) => format!(
            "err {} {} {}",
            e.kind(),
            e.op(),
            e.to_string().replace('\n', " ")
        ),
        Ok(ts) => {
            let mut parts = Vec::new();
            for t in ts {
                let dims: Vec<String> = t.shape().iter().map(|d| d.to_string()).collect();
                let vals: Vec<String> = match t.to_host() {
                    Err(e) => return format!("err {} {} {}", e.kind(), e.op(), e),
                    Ok(h) => host_strings(&h),
                };
                parts.push(format!(
                    "{} [{}] {}",
                    t.dtype(),
                    dims.join(","),
                    vals.join(" ")
                ));
            }
            format!("ok {}", parts.join(";"))
        }
    }
}

pub fn host_strings(h: &HostData) -> Vec<String> {
    if h.dtype().is_float() {
        // Floats in scientific notation, at the dtype's own precision.
        (0..h.len())
            .map(|i| match h.get(i) {
                Some(ep::Scalar::F32(x)) => format!("{x:e}"),
                Some(s) => format!("{:e}", s.to_f64()),
                None => String::new(),
            })
            .collect()
    } else {
        (0..h.len())
            .map(|i| h.get(i).map(|s| s.to_string()).unwrap_or_default())
            .collect()
    }
}

trait ToHost {
    fn to_host(&self) -> ep::Result<HostData>;
}
impl ToHost for EagerTensor {
    fn to_host(&self) -> ep::Result<HostData> {
        self.to_host_data()
    }
}

/// Parsed values of one outcome line.
#[derive(Debug)]
pub enum Parsed {
    Ok(Vec<(String, String, Vec<String>)>),
    Err(String, String),
    Bad,
}

pub fn parse(line: &str) -> Parsed {
    if let Some(rest) = line.strip_prefix("ok ") {
        let mut ts = Vec::new();
        for part in rest.split(';') {
            let mut it = part.splitn(3, ' ');
            let d = it.next().unwrap_or("").to_string();
            let s = it.next().unwrap_or("").to_string();
            let v = it
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_string)
                .collect();
            ts.push((d, s, v));
        }
        Parsed::Ok(ts)
    } else if let Some(rest) = line.strip_prefix("err ") {
        let mut it = rest.splitn(3, ' ');
        Parsed::Err(
            it.next().unwrap_or("").to_string(),
            it.next().unwrap_or("").to_string(),
        )
    } else {
        Parsed::Bad
    }
}

/// Backends whose CPU kernels flush subnormal floats to zero (inputs and
/// results: TensorFlow's and XLA's thread pools set FTZ/DAZ), a documented
/// difference (docs/semantics.md, "Subnormal floats").
pub fn flushes_subnormals(b: Backend) -> bool {
    matches!(b, Backend::TensorFlow | Backend::Xla)
}

/// A known difference: on `backend`, in the case named `case`, the listed
/// elements (row-major positions of the case's first result) may differ
/// from ndarray's, for `reason`. Everything else in the case is compared.
pub struct Known {
    pub backend: Backend,
    pub case: &'static str,
    pub elements: &'static [usize],
    pub reason: &'static str,
}

/// Known differences, each with its reason (docs/semantics.md lists them
/// too). Keep this list short: empty since torch's float `%` computes the
/// elements whose quotient overflows on the host.
pub const KNOWN: &[Known] = &[];

/// Whether two printed elements agree: integers and bools exactly; floats
/// exactly (NaN = NaN, signed zeros differ) or within `rel` relative; with
/// `flush`, a value below twice the smallest normal equals a zero.
pub fn same_value(a: &str, b: &str, float: bool, rel: f64, flush: Option<f64>) -> bool {
    if a == b {
        return true;
    }
    if !float {
        return false;
    }
    let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) else {
        return false;
    };
    if let Some(tiny) = flush {
        if (x == 0.0 && y.abs() < tiny) || (y == 0.0 && x.abs() < tiny) {
            return true;
        }
    }
    if x.is_nan() || y.is_nan() || x.is_infinite() || y.is_infinite() || x == 0.0 || y == 0.0 {
        return x.is_nan() && y.is_nan()
            || (x == y && x.is_sign_negative() == y.is_sign_negative());
    }
    (x - y).abs() <= rel * x.abs().max(y.abs())
}

/// Where two backends' outcomes differ, a description.
pub fn disagreement(backend: Backend, name: &str, reference: &str, other: &str) -> Option<String> {
    let known: &[usize] = KNOWN
        .iter()
        .find(|k| k.backend == backend && k.case == name)
        .map_or(&[], |k| k.elements);
    // Transcendental functions of huge arguments differ by a few ulps
    // between libm and the frameworks' vectorized kernels.
    let (rel32, rel64) = if name.starts_with("value/") {
        (4e-6, 1e-13)
    } else {
        (0.0, 0.0)
    };
    match (parse(reference), parse(other)) {
        (Parsed::Err(k1, op1), Parsed::Err(k2, op2)) if k1 == k2 && op1 == op2 => None,
        (Parsed::Ok(a), Parsed::Ok(b)) if a.len() == b.len() => {
            for ((d1, s1, v1), (d2, s2, v2)) in a.iter().zip(&b) {
                if d1 != d2 || s1 != s2 || v1.len() != v2.len() {
                    return Some(format!("{d1} {s1} vs {d2} {s2}"));
                }
                let float = d1.parse::<DType>().is_ok_and(|d| d.is_float());
                let rel = if d1 == "f32" { rel32 } else { rel64 };
                // bf16 has f32's exponent range: its subnormals are f32's.
                let tiny = if d1 == "f32" || d1 == "bf16" {
                    2.0 * f32::MIN_POSITIVE as f64
                } else {
                    2.0 * f64::MIN_POSITIVE
                };
                // libtorch's vectorized sigmoid gives 0 where the result is
                // subnormal (f32 x < -87.3): documented with the flushes.
                let torch_sigmoid = backend == Backend::Torch && name.starts_with("value/sigmoid");
                let flush = (flushes_subnormals(backend) || torch_sigmoid).then_some(tiny);
                let bad: Vec<String> = v1
                    .iter()
                    .zip(v2)
                    .enumerate()
                    .filter(|(i, (x, y))| {
                        !known.contains(i) && !same_value(x, y, float, rel, flush)
                    })
                    .map(|(i, (x, y))| format!("element {i}: {x} vs {y}"))
                    .collect();
                if !bad.is_empty() {
                    return Some(bad.join(", "));
                }
            }
            None
        }
        _ => Some(format!("{reference}  <>  {other}")),
    }
}

/// The contract for a native tensor of a dtype eager-tensor lacks, `name`
/// as the framework spells it: `try_astensor` (`tried`) is a `dtype` error
/// naming it; `astensor` wraps it anyway (`wrapped`, of `len` elements),
/// `dtype()` then reads f32 (documented as meaningless), and every op, a
/// cast to that f32 included, is a `dtype` error naming it, never a result.
pub fn assert_unsupported_native(
    tried: ep::Result<EagerTensor>,
    wrapped: EagerTensor,
    len: usize,
    name: &str,
) {
    let e = tried.unwrap_err();
    assert_eq!((e.kind(), e.op()), ("dtype", "astensor"), "[{name}]");
    assert!(e.to_string().contains(name), "{e}");
    let t = wrapped;
    assert_eq!(t.dtype(), DType::F32, "[{name}] what dtype() documents");
    assert_eq!(t.shape(), vec![len], "[{name}]");
    let results = [
        t.sum(),
        t.exp(),
        t.add(&t),
        t.add(1.0),
        t.mul(2.0),
        t.astype(DType::F32),
        t.astype(DType::F64),
        t.reshape([len as isize, 1]),
        ep::concatenate(&[&t, &t], 0),
        t.to_vec::<f32>().map(|_| t.clone()),
    ];
    for r in results {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), "dtype", "[{name}] {e}");
        assert!(e.to_string().contains(name), "[{name}] {e}");
    }
}
