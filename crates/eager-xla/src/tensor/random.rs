//! Random numbers drawn on the device, as JAX draws them: XLA's
//! `rng_bit_generator` with the Threefry algorithm and a per-thread key that
//! each draw advances (the new key stays on the device).

use super::{exec, ty, upload, Prog, XlaTensor};
use eager_core::{DType, Distribution, Error, HostData, Result};
use std::cell::RefCell;

enum State {
    /// Seeded from the OS on first use.
    Fresh,
    /// `seed(s)` was called; the key is uploaded on the next draw.
    Seed(u64),
    /// The device key (`i64[2]`, Threefry's `u64[2]` state bit for bit).
    Key(XlaTensor),
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State::Fresh) };
}

/// Seeds this thread's generator: the same seed repeats the same draws.
pub fn seed(seed: u64) {
    STATE.with(|s| *s.borrow_mut() = State::Seed(seed));
}

fn key_from(seed: u64) -> Result<XlaTensor> {
    upload("random", &HostData::I64(vec![seed as i64, 0]), &[2])
}

/// Values of `dist` of a float `dtype`, drawn on the device.
pub(super) fn draw(dist: Distribution, shape: &[usize], dtype: DType) -> Result<XlaTensor> {
    if !dtype.is_float() {
        return Err(Error::dtype(
            "random",
            format!("needs a float dtype, not {dtype}"),
        ));
    }
    let (a, b, normal) = match dist {
        Distribution::Uniform { low, high } => (low, high, false),
        Distribution::Normal { mean, std } => (mean, std, true),
    };
    let params = match dtype {
        DType::F32 => upload("random", &HostData::F32(vec![a as f32, b as f32]), &[2])?,
        _ => upload("random", &HostData::F64(vec![a, b]), &[2])?,
    };
    let key = STATE.with(|s| -> Result<XlaTensor> {
        let mut s = s.borrow_mut();
        let k = match &*s {
            State::Key(k) => k.clone(),
            State::Seed(v) => key_from(*v)?,
            State::Fresh => {
                use std::hash::{BuildHasher, Hasher};
                let h = std::collections::hash_map::RandomState::new().build_hasher();
                key_from(h.finish())?
            }
        };
        *s = State::Key(k.clone());
        Ok(k)
    })?;
    let mut attrs = vec![normal as i64];
    attrs.extend(shape.iter().map(|&n| n as i64));
    let mut out = exec("random", &attrs, &[&key, &params], |p, x| {
        let (k, v) = program(p, &x[0], &x[1], dtype, shape, normal);
        Ok(vec![(k, DType::I64, vec![2]), (v, dtype, shape.to_vec())])
    })?;
    let vals = out.pop();
    let new_key = out.pop();
    match (new_key, vals) {
        (Some(k), Some(v)) => {
            STATE.with(|s| *s.borrow_mut() = State::Key(k));
            Ok(v)
        }
        _ => Err(Error::invalid("random", "the program gave no result")),
    }
}

/// The draw: bits from the key, mantissa bits to `[0, 1)`, then the
/// distribution (normal by the inverse error function, as JAX does).
fn program(
    p: &mut Prog,
    key: &str,
    params: &str,
    d: DType,
    s: &[usize],
    normal: bool,
) -> (String, String) {
    let (uint, shift, one) = if d == DType::F32 {
        ("ui32", 9, "0x3F800000")
    } else {
        ("ui64", 12, "0x3FF0000000000000")
    };
    let ut = |s: &[usize]| {
        let mut t = String::from("tensor<");
        for n in s {
            t.push_str(&format!("{n}x"));
        }
        format!("{t}{uint}>")
    };
    let k = p.let_(format!(
        "stablehlo.bitcast_convert {key} : ({}) -> tensor<2xui64>",
        ty(DType::I64, &[2])
    ));
    let r = p.let_n(
        format!(
            "stablehlo.rng_bit_generator {k}, algorithm = THREE_FRY : (tensor<2xui64>) -> (tensor<2xui64>, {})",
            ut(s)
        ),
        2,
    );
    let new_key = p.let_(format!(
        "stablehlo.bitcast_convert {} : (tensor<2xui64>) -> {}",
        r[0],
        ty(DType::I64, &[2])
    ));
    let c_shift = p.let_(format!("stablehlo.constant dense<{shift}> : {}", ut(&[])));
    let c_one = p.let_(format!("stablehlo.constant dense<{one}> : {}", ut(&[])));
    let bc = |p: &mut Prog, c: &str| {
        p.let_(format!(
            "stablehlo.broadcast_in_dim {c}, dims = [] : ({}) -> {}",
            ut(&[]),
            ut(s)
        ))
    };
    let (c_shift, c_one) = (bc(p, &c_shift), bc(p, &c_one));
    let m = p.let_(format!(
        "stablehlo.shift_right_logical {}, {c_shift} : {}",
        r[1],
        ut(s)
    ));
    let m = p.let_(format!("stablehlo.or {m}, {c_one} : {}", ut(s)));
    let f = p.let_(format!(
        "stablehlo.bitcast_convert {m} : ({}) -> {}",
        ut(s),
        ty(d, s)
    ));
    let one = p.full(d, 1.0, s);
    let u = p.bin("subtract", &f, &one, d, s);
    let param = |p: &mut Prog, i: usize| {
        let v = p.let_(format!(
            "stablehlo.slice {params} [{i}:{}] : ({}) -> {}",
            i + 1,
            ty(d, &[2]),
            ty(d, &[1])
        ));
        let v = p.reshape(&v, d, &[1], &[]);
        p.bcast(&v, d, &[], s)
    };
    let (a, b) = (param(p, 0), param(p, 1));
    let vals = if normal {
        // u in [0, 1) -> (-1, 1) -> sqrt(2) erfinv(.)
        let two = p.full(d, 2.0, s);
        let v = p.bin("multiply", &u, &two, d, s);
        let v = p.bin("subtract", &v, &one, d, s);
        let eps = if d == DType::F32 {
            f32::EPSILON as f64
        } else {
            f64::EPSILON
        };
        let lo = p.full(d, -1.0 + eps / 2.0, s);
        let v = p.bin("maximum", &v, &lo, d, s);
        let e = p.chlo("erf_inv", &v, d, s);
        let r2 = p.full(d, std::f64::consts::SQRT_2, s);
        let z = p.bin("multiply", &e, &r2, d, s);
        let z = p.bin("multiply", &z, &b, d, s);
        p.bin("add", &z, &a, d, s)
    } else {
        let w = p.bin("subtract", &b, &a, d, s);
        let x = p.bin("multiply", &u, &w, d, s);
        p.bin("add", &x, &a, d, s)
    };
    (new_key, vals)
}
