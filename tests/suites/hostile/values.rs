//! `value/…`: special values (NaN, ±inf, ±0, each dtype's extremes, the
//! smallest normal, values past every integer range) through every op
//! family in every dtype: every unary op, every binary op against every
//! other special value (a 16 × 16 grid), casts to every dtype, reductions,
//! sorts, and NaN/inf matrices in the linear algebra. Each answer must be
//! ndarray's.

use super::{one, t, Add, Expect, Run};
use crate::common;
use eager_tensor::{self as ep, Backend, DType, EagerTensor, HostData, PadMode};

/// Special values of each dtype: NaN, ±inf, ±0, extremes, the smallest
/// normal, ±1, a half, and a value past every integer range.
fn specials(b: Backend, d: DType) -> ep::Result<EagerTensor> {
    let f64s = vec![
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -2.5,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        1e20,
        -1e20,
        2147483648.0,
        9.3e18,
    ];
    let data = match d {
        DType::F64 => HostData::F64(f64s),
        DType::F32 => HostData::F32({
            let mut v: Vec<f32> = f64s.iter().map(|&x| x as f32).collect();
            v[9] = f32::MAX;
            v[10] = f32::MIN;
            v[11] = f32::MIN_POSITIVE;
            v
        }),
        DType::F16 | DType::BF16 => {
            let (max, min_pos) = if d == DType::F16 {
                (65504.0, 6.103515625e-5)
            } else {
                (3.3895313892515355e38, 1.1754943508222875e-38)
            };
            let mut v = f64s.clone();
            v[9] = max;
            v[10] = -max;
            v[11] = min_pos;
            HostData::from_f64s(d, &v)
        }
        DType::I64 => HostData::I64(vec![
            i64::MIN,
            i64::MAX,
            0,
            1,
            -1,
            2,
            -2,
            7,
            i64::MIN + 1,
            i32::MAX as i64 + 1,
            -3,
            100,
            255,
            256,
            63,
            -7,
        ]),
        DType::U8 => HostData::U8(vec![
            0, 255, 1, 2, 128, 127, 7, 3, 254, 100, 16, 9, 64, 5, 8, 200,
        ]),
        DType::Bool => HostData::Bool((0..16).map(|i| i % 3 == 0).collect()),
        d => {
            // The same pattern as i32's, for any width: the extremes, small
            // values, one past the next narrower type, the bit count.
            let (lo, hi) = d.int_range().expect("an integer dtype");
            let bits = 8 * d.size_of() as i128;
            common::host_ints(
                d,
                &[
                    lo,
                    hi,
                    0,
                    1,
                    -1,
                    2,
                    -2,
                    7,
                    lo + 1,
                    hi / 2 + 1,
                    -3,
                    100,
                    255,
                    256,
                    bits - 1,
                    -7,
                ],
            )
        }
    };
    EagerTensor::from_host(b, data, [16])
}

/// A second operand for binary ops: every special value against every
/// other one (a 16 × 16 grid through broadcasting).
fn grid(b: Backend, d: DType) -> ep::Result<(EagerTensor, EagerTensor)> {
    let x = specials(b, d)?;
    Ok((x.reshape([16, 1])?, x.reshape([1, 16])?))
}

pub fn cases(add_expecting: &mut Add) {
    let mut add = |name: String, run: Run| add_expecting(name, Expect::Same, run);
    let dtypes = DType::ALL;
    for d in dtypes {
        for op in ep::UnaryOp::ALL {
            add(
                format!("value/{}_{d}", op.name()),
                Box::new(move |b| one(specials(b, d)?.unary(op))),
            );
        }
        for op in ep::BinaryOp::ALL {
            add(
                format!("value/{}_{d}", op.name()),
                Box::new(move |b| {
                    let (x, y) = grid(b, d)?;
                    one(x.binary(op, &y))
                }),
            );
        }
        for to in dtypes {
            add(
                format!("value/astype_{d}_to_{to}"),
                Box::new(move |b| one(specials(b, d)?.astype(to))),
            );
        }
        type Reduce = fn(&EagerTensor) -> ep::Result<EagerTensor>;
        let reductions: Vec<(&str, Reduce)> = vec![
            ("sum", |x| x.sum()),
            ("prod", |x| x.prod()),
            ("mean", |x| x.mean()),
            ("min", |x| x.min()),
            ("max", |x| x.max()),
            ("all", |x| x.all()),
            ("any", |x| x.any()),
            ("argmin", |x| x.argmin()),
            ("argmax", |x| x.argmax()),
            ("sort", |x| x.sort(-1)),
            ("argsort", |x| x.argsort(-1)),
            ("cumsum", |x| x.cumsum()),
            ("topk", |x| x.topk(5, true).map(|r| r.0)),
            ("clip_inf", |x| x.clip(f64::NEG_INFINITY, f64::INFINITY)),
            ("softmax", |x| x.softmax(-1)),
            ("l1", |x| ep::norms::l1(x, None, false)),
            ("nonzero", |x| x.index(ep::s![&x.ne(0i64)?])),
            ("concatenate_single", |x| ep::concatenate(&[x], 0)),
            ("stack_single", |x| ep::stack(&[x], 0)),
            ("pad_nan", |x| x.pad(&[(1, 1)], PadMode::Constant(f64::NAN))),
            ("pad_reflect", |x| x.pad(&[(3, 2)], PadMode::Reflect)),
            ("add_scalar_300", |x| x.add(300i64)),
            ("mul_scalar_big_float", |x| x.mul(1e300)),
            ("pow_scalar_neg", |x| x.pow(-1i64)),
            ("pow_scalar_big", |x| x.pow(1000i64)),
            // libtorch's scalar `** ±0.5` is (r)sqrt: -inf and -0.0 differ.
            ("pow_scalar_half", |x| x.pow(0.5)),
            ("pow_scalar_neg_half", |x| x.pow(-0.5)),
            ("floor_div_scalar_zero", |x| x.floor_div(0i64)),
            ("rem_scalar_neg_one", |x| x.rem(-1i64)),
            ("floor_div_scalar_neg_one", |x| x.floor_div(-1i64)),
            ("full_like_1e20", |x| x.full_like(1e20)),
            ("full_like_nan", |x| x.full_like(f64::NAN)),
            ("index_update_nan", |x| x.index_update(ep::s![0], f64::NAN)),
            ("where_nan", |x| x.ne(0i64)?.where_cond(x, f64::NAN)),
        ];
        for (name, f) in reductions {
            add(
                format!("value/{name}_{d}"),
                Box::new(move |b| one(f(&specials(b, d)?))),
            );
        }
    }
    // Float // and % at the edges (`-1e30 // inf` is -1, `inf // 1` NaN).
    for d in [DType::F32, DType::F64] {
        for (a, bv) in [
            (-1e30, f64::INFINITY),
            (f64::INFINITY, 1.0),
            (1e30, f64::NEG_INFINITY),
            (-0.0, 3.0),
            (5.0, -0.0),
            (-7.5, 2.0),
        ] {
            add(
                format!("value/floor_div_rem_{a}_{bv}_{d}"),
                Box::new(move |b| {
                    let x = EagerTensor::full_on(b, [1], a, d)?;
                    let y = EagerTensor::full_on(b, [1], bv, d)?;
                    Ok(vec![x.floor_div(&y)?, x.rem(&y)?])
                }),
            );
        }
    }
    // Random numbers with bounds whose span overflows, or NaN.
    for (name, lo, hi) in [
        ("uniform_full_f64_range", -f64::MAX, f64::MAX),
        ("uniform_nan", f64::NAN, 1.0),
        ("uniform_inf", 0.0, f64::INFINITY),
        ("uniform_reversed", 1.0, 0.0),
    ] {
        add(
            format!("value/{name}"),
            Box::new(move |b| one(t(b, vec![1f64], &[1])?.uniform([3], lo, hi))),
        );
    }
    for (name, mean, std) in [
        ("normal_inf_std", 0.0, f64::INFINITY),
        ("normal_neg_std", 0.0, -1.0),
        ("normal_nan_mean", f64::NAN, 1.0),
    ] {
        add(
            format!("value/{name}"),
            Box::new(move |b| one(t(b, vec![1f32], &[1])?.normal([3], mean, std))),
        );
    }
    // Linear algebra on matrices with NaN, inf, zeros.
    for (name, m) in [
        ("nan", vec![f64::NAN, 1.0, 1.0, 1.0]),
        ("inf", vec![f64::INFINITY, 0.0, 0.0, 1.0]),
        ("zero", vec![0.0; 4]),
        ("max", vec![f64::MAX, f64::MAX, 0.0, f64::MAX]),
    ] {
        let m2 = m.clone();
        add(
            format!("linalg/inv_{name}"),
            Box::new(move |b| one(t(b, m2.clone(), &[2, 2])?.inv())),
        );
        add(
            format!("linalg/slogdet_{name}"),
            Box::new(move |b| {
                let (s, l) = t(b, m.clone(), &[2, 2])?.slogdet()?;
                Ok(vec![s, l])
            }),
        );
    }
    add(
        "linalg/inv_batch_one_nan".into(),
        Box::new(|b| {
            one(t(
                b,
                vec![f64::NAN, 1.0, 1.0, 1.0, 2.0, 0.0, 0.0, 4.0],
                &[2, 2, 2],
            )?
            .inv())
        }),
    );
}
