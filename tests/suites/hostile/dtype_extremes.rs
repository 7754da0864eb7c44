//! `dtype_extremes/…`: each of the 13 dtypes at its extremes — the
//! minimum, the maximum, 0 and their neighbours; for floats also NaN, ±inf,
//! -0.0, the smallest subnormal and normal, and values at (or a hair off)
//! a rounding tie of the narrower floats (f16, bf16, f32), which double
//! rounding through f32 gets wrong — cast to every dtype with `astype`, and
//! through `sum`, `max`, `sort` and `cumsum` along axis 0. NaN comes last
//! so that the cumulative sum shows every step before it. Every backend
//! must give ndarray's answer (sums within a few ulps); TensorFlow and XLA
//! read subnormal inputs as zero (docs/semantics.md, "Subnormal floats"),
//! so there the answer must be ndarray's for the input so flushed.

use super::{compared_as, Add, Expect};
use crate::common::{disagreement, flushes_subnormals, outcome, Out};
use eager_tensor::{self as ep, bf16, f16, Backend, DType, EagerTensor, HostData};

/// The extremes of `d` (see the module docs).
fn extremes(d: DType) -> HostData {
    let p = |e: i32| 2f64.powi(e);
    match d {
        DType::Bool => HostData::Bool(vec![false, true, true, false]),
        DType::F16 => HostData::F16(
            [
                0x0000u16, // 0
                0x8000,    // -0
                0x0001,    // smallest subnormal
                0x8001, 0x0400, // smallest normal
                0x3C04, // 1 + 2^-8: a tie of bf16 (to 1)
                0x3C0C, // 1 + 3·2^-8: a tie of bf16 (to 1 + 2^-6)
                0x4100, // 2.5: truncates to 2
                0xC100, // -2.5
                0x7BFF, // max
                0xFBFF, // min
                0x7C00, 0xFC00, 0x7E00, // NaN
            ]
            .iter()
            .map(|&x| f16::from_bits(x))
            .collect(),
        ),
        DType::BF16 => HostData::BF16(
            [
                0x0000u16, // 0
                0x8000,    // -0
                0x0001,    // smallest subnormal (2^-133)
                0x8001, 0x0080, // smallest normal
                0x3300, // 2^-25: an f16 tie (to 0)
                0x33C0, // 3·2^-25: an f16 tie (to 2^-23)
                0x477F, // 65280: f16 holds it
                0x4780, // 65536: past f16's max
                0x4020, // 2.5
                0x7F7F, // max
                0xFF7F, // min
                0x7F80, 0xFF80, 0x7FC0, // NaN
            ]
            .iter()
            .map(|&x| bf16::from_bits(x))
            .collect(),
        ),
        DType::F32 => HostData::F32(vec![
            0.0,
            -0.0,
            f32::from_bits(1),
            -f32::from_bits(1),
            f32::MIN_POSITIVE,
            (1.0 + p(-11)) as f32,       // f16 tie: 1
            (1.0 + 3.0 * p(-11)) as f32, // f16 tie: 1 + 2^-9
            (1.0 + p(-8)) as f32,        // bf16 tie: 1
            (1.0 + 3.0 * p(-8)) as f32,  // bf16 tie: 1 + 2^-6
            65520.0,                     // f16 tie at the top: inf
            p(-25) as f32,               // f16 subnormal tie: 0
            2.5,
            -2.5,
            2147483520.0, // the largest f32 below 2^31
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ]),
        DType::F64 => HostData::F64(vec![
            0.0,
            -0.0,
            f64::from_bits(1),
            -f64::from_bits(1),
            f64::MIN_POSITIVE,
            1.0 + p(-11),               // f16 tie: 1
            1.0 + p(-11) + p(-40),      // a hair above: 1 + 2^-10 (through f32: 1)
            1.0 + p(-8),                // bf16 tie: 1
            1.0 + 3.0 * p(-8) - p(-30), // bf16 through f32: 1 + 2^-6
            p(24) + p(16) + 1.0,        // bf16: 2^24
            1.0 + p(-24),               // f32 tie: 1
            p(-150),                    // f32 subnormal tie: 0
            3.0 * p(-150),              // f32 subnormal tie: 2^-148
            65520.0,
            2.5,
            -2.5,
            9.3e18, // past i64::MAX
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ]),
        d => {
            let (lo, hi) = d.int_range().expect("an integer dtype");
            crate::common::host_ints(d, &[0, lo, hi, 1, hi - 1, lo + 1, hi / 2 + 1])
        }
    }
}

/// The extremes of `d` on `b`; with `flush`, their subnormals read as
/// zeros of the same sign, as TensorFlow's and XLA's kernels read them.
fn tensor(b: Backend, d: DType, flush: bool) -> ep::Result<EagerTensor> {
    let mut h = extremes(d);
    let n = h.len();
    if flush {
        match &mut h {
            HostData::F32(v) => v.iter_mut().for_each(|x| {
                if x.is_subnormal() {
                    *x = 0.0f32.copysign(*x)
                }
            }),
            HostData::F64(v) => v.iter_mut().for_each(|x| {
                if x.is_subnormal() {
                    *x = 0.0f64.copysign(*x)
                }
            }),
            HostData::BF16(v) => v.iter_mut().for_each(|x| {
                if x.to_f32().is_subnormal() {
                    *x = bf16::from_bits(x.to_bits() & 0x8000)
                }
            }),
            _ => {}
        }
    }
    EagerTensor::from_host(b, h, [n])
}

/// Whether `d`'s extremes hold subnormals that a flushing backend reads
/// as zero (f16's are normal f32 numbers, in which f16 computes).
fn flushable(d: DType) -> bool {
    matches!(d, DType::F32 | DType::F64 | DType::BF16)
}

type Op = fn(&EagerTensor) -> ep::Result<EagerTensor>;

/// `op` of `d`'s extremes on `b`. On a backend that flushes subnormals,
/// the answer must also be ndarray's for the flushed input (the documented
/// difference, and nothing else); a mismatch there fails the case.
fn run(name: &str, b: Backend, d: DType, op: &dyn Fn(&EagerTensor) -> Out) -> Out {
    let got = op(&tensor(b, d, false)?);
    let scan = name.contains("/cumsum_") && b == Backend::Xla;
    if flushable(d) && flushes_subnormals(b) && !scan && Backend::NdArray.is_enabled() {
        let want = outcome(op(&tensor(Backend::NdArray, d, true)?));
        let have = outcome(got.clone());
        if let Some(diff) = disagreement(b, &compared_as(name), &want, &have) {
            panic!("differs from ndarray's answer for the flushed input: {diff}");
        }
    }
    got
}

pub fn cases(add: &mut Add) {
    for d in DType::ALL {
        let expect = |ok| match flushable(d) {
            true => Expect::Flushes { ok },
            false if ok => Expect::Ok,
            false => Expect::Same,
        };
        for to in DType::ALL {
            let name = format!("dtype_extremes/astype_{d}_to_{to}");
            add(
                name.clone(),
                expect(true),
                Box::new(move |b| run(&name, b, d, &|x| Ok(vec![x.astype(to)?]))),
            );
        }
        let ops: Vec<(&str, Op)> = vec![
            ("sum", |x| x.sum()),
            ("max", |x| x.max()),
            ("sort", |x| x.sort(0)),
            ("cumsum", |x| x.cumsum_axis(0)),
        ];
        for (what, op) in ops {
            let name = format!("dtype_extremes/{what}_{d}");
            let e = match what == "cumsum" && d.is_float() {
                true => Expect::Scan,
                false => expect(false),
            };
            add(
                name.clone(),
                e,
                Box::new(move |b| run(&name, b, d, &|x| Ok(vec![op(x)?]))),
            );
        }
    }
}
