//! Random numbers drawn on the device, as JAX draws them: XLA's
//! `rng_bit_generator` with the Threefry algorithm. Each draw gets its own
//! key, derived on the host from this thread's seed and a draw counter, so
//! the thread state is two integers and no device buffer (a device handle
//! in a thread-local would be freed during process exit, racing the
//! plugin's own teardown).

use super::{compute_dtype, exec1, ty, upload, Prog, XlaTensor};
use eager_core::{DType, Distribution, Error, HostData, Result};
use std::cell::Cell;

thread_local! {
    /// (seed, draws so far); the seed comes from the OS on first use.
    static STATE: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
}

/// Seeds this thread's generator: the same seed repeats the same draws.
pub fn seed(seed: u64) {
    STATE.with(|s| s.set(Some((seed, 0))));
}

/// SplitMix64's finalizer: a bijective mix, so distinct inputs give
/// distinct, well-spread keys.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The next draw's Threefry state (key, counter): a key per draw, distinct
/// for distinct draw numbers (`mix` is a bijection), counter 0.
fn next_key() -> [i64; 2] {
    STATE.with(|s| {
        let (seed, n) = s.get().unwrap_or_else(|| {
            use std::hash::{BuildHasher, Hasher};
            let h = std::collections::hash_map::RandomState::new().build_hasher();
            (h.finish(), 0)
        });
        s.set(Some((seed, n.wrapping_add(1))));
        [mix(mix(seed) ^ n) as i64, 0]
    })
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
    // 16-bit floats draw in f32 and round.
    let cd = compute_dtype(dtype);
    let params = match cd {
        DType::F32 => upload("random", &HostData::F32(vec![a as f32, b as f32]), &[2])?,
        _ => upload("random", &HostData::F64(vec![a, b]), &[2])?,
    };
    let key = upload("random", &HostData::I64(next_key().to_vec()), &[2])?;
    let mut attrs = vec![normal as i64];
    attrs.extend(shape.iter().map(|&n| n as i64));
    exec1("random", &attrs, &[&key, &params], |p, x| {
        let v = program(p, &x[0], &x[1], cd, shape, normal);
        let (v, d) = p.narrow(&v, cd, dtype, shape);
        Ok((v, d, shape.to_vec()))
    })
}

/// The draw: bits from the key, mantissa bits to `[0, 1)`, then the
/// distribution (normal by the inverse error function, as JAX does).
fn program(p: &mut Prog, key: &str, params: &str, d: DType, s: &[usize], normal: bool) -> String {
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
    if normal {
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
    }
}
