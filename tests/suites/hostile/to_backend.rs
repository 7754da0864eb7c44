//! `to_backend/…`: a tensor of each layout — contiguous, transposed,
//! permuted, a sliced view, a view with a negative step, 0-d, empty — and
//! of the dtypes whose storage differs between frameworks (bool, u64 with
//! its top bit set, bf16, f16), made on one backend and moved to every
//! enabled backend with `to_backend`, then read back (and reshaped there,
//! which reads the moved tensor's layout). Every pair must give ndarray's
//! values.

use super::{t, Add, Expect};
use eager_tensor::{self as ep, bf16, f16, Backend, DType, EagerTensor, HostData};

type Make = fn(Backend) -> ep::Result<EagerTensor>;

fn f32s(n: usize) -> Vec<f32> {
    (0..n).map(|i| i as f32 * 1.5 - 4.0).collect()
}

pub fn cases(add: &mut Add) {
    let layouts: Vec<(&str, Make)> = vec![
        ("contiguous_f32", |b| t(b, f32s(6), &[2, 3])),
        ("transposed_f32", |b| t(b, f32s(6), &[2, 3])?.t()),
        ("permuted_f64", |b| {
            let v: Vec<f64> = (0..24).map(|i| i as f64 / 3.0).collect();
            t(b, v, &[2, 3, 4])?.permute([2, 0, 1])
        }),
        ("sliced_i32", |b| {
            t(b, (0..12).collect::<Vec<i32>>(), &[3, 4])?.index(ep::s![.., 1..])
        }),
        ("flipped_step_i8", |b| {
            let v: Vec<i8> = vec![i8::MIN, -1, 0, 1, i8::MAX, 7];
            t(b, v, &[2, 3])?.index(ep::s![..;-1, ..;-2])
        }),
        ("scalar_f64", |b| t(b, vec![-0.0f64], &[])),
        ("empty_f32", |b| EagerTensor::zeros(b, [0, 3], DType::F32)),
        ("empty_transposed_i64", |b| {
            EagerTensor::zeros(b, [3, 0], DType::I64)?.t()
        }),
        ("bool_transposed", |b| {
            t(b, vec![true, false, false, true, true, false], &[2, 3])?.t()
        }),
        ("u64_sliced", |b| {
            let v = vec![u64::MAX, 1 << 63, 0, 1, u64::MAX - 1, (1 << 63) - 1];
            t(b, v, &[2, 3])?.index(ep::s![.., 1..])
        }),
        ("bf16_transposed", |b| {
            let bits = [0x7F7F, 0xFF7F, 0x0001, 0x8000, 0x7FC0, 0x3F80];
            let v: Vec<bf16> = bits.iter().map(|&x| bf16::from_bits(x)).collect();
            EagerTensor::from_host(b, HostData::BF16(v), [2, 3])?.t()
        }),
        ("f16_permuted", |b| {
            let bits = [0x7BFF, 0xFBFF, 0x0001, 0x8000, 0x7C00, 0x3C01];
            let v: Vec<f16> = bits.iter().map(|&x| f16::from_bits(x)).collect();
            EagerTensor::from_host(b, HostData::F16(v), [1, 2, 3])?.permute([2, 0, 1])
        }),
    ];
    for (what, make) in layouts {
        for to in Backend::enabled() {
            add(
                format!("to_backend/{what}_to_{to}"),
                Expect::Ok,
                Box::new(move |b| {
                    let y = make(b)?.to_backend(to)?;
                    assert_eq!(y.backend(), to, "to_backend's result is on {to}");
                    let flat = y.reshape([-1])?;
                    Ok(vec![y, flat])
                }),
            );
        }
    }
}
