//! `uniform` and `normal`: seeded, in range, and each backend's own
//! generator.

use super::*;

#[test]
fn uniform_and_normal_are_seeded_and_in_range() {
    for backend in Backend::enabled() {
        uniform_and_normal_on(backend);
    }
}

/// Each backend that draws on the host (ndarray, TensorFlow, Candle) has
/// its own generator: `ep::seed` gives them the same numbers, and drawing
/// on or seeding one never moves another's sequence (they shared
/// ndarray's generator, so a draw on one shifted the other).
#[test]
fn each_backend_draws_from_its_own_generator() {
    let host = [Backend::NdArray, Backend::TensorFlow, Backend::Candle];
    let host: Vec<Backend> = host.into_iter().filter(|b| b.is_enabled()).collect();
    let draw = |b: Backend| {
        let like = EagerTensor::zeros(b, [], DType::F64).unwrap();
        like.uniform([8], 0.0, 1.0)
            .unwrap()
            .to_vec::<f64>()
            .unwrap()
    };
    ep::seed(7);
    let first: Vec<Vec<f64>> = host.iter().map(|&b| draw(b)).collect();
    for (b, v) in host.iter().zip(&first) {
        assert_eq!(v, &first[0], "{b}: the same seed, the same numbers");
    }
    // One backend reseeded alone and drawn from: every other one still
    // gives its first draw after `ep::seed`.
    let seed_only = |b: Backend| match b {
        #[cfg(feature = "ndarray")]
        Backend::NdArray => ep::backends::ndarray::seed(99),
        #[cfg(feature = "tensorflow")]
        Backend::TensorFlow => ep::backends::tensorflow::seed(99),
        #[cfg(feature = "candle")]
        Backend::Candle => ep::backends::candle::seed(99),
        _ => unreachable!("not a host-drawing backend"),
    };
    for (i, &a) in host.iter().enumerate() {
        for (j, &b) in host.iter().enumerate().filter(|&(j, _)| j != i) {
            ep::seed(7);
            seed_only(a);
            assert_ne!(draw(a), first[i], "{a} reseeded");
            assert_eq!(draw(b), first[j], "{b} after {a} was reseeded");
        }
    }
}

fn uniform_and_normal_on(backend: Backend) {
    let like = EagerTensor::zeros(backend, [], DType::F32).unwrap();
    ep::seed(42);
    let a = ep::uniform(&like, [1000], -1.0, 2.0).unwrap();
    ep::seed(42);
    let b = like.uniform([1000], -1.0, 2.0).unwrap();
    assert_eq!(a.dtype(), DType::F32);
    assert_eq!(a.backend(), backend);
    assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
    // The generator moves on: the next draw differs, as does another seed's.
    let c = like.uniform([1000], -1.0, 2.0).unwrap();
    assert_ne!(a.to_vec::<f32>().unwrap(), c.to_vec::<f32>().unwrap());
    ep::seed(43);
    let d = like.uniform([1000], -1.0, 2.0).unwrap();
    assert_ne!(a.to_vec::<f32>().unwrap(), d.to_vec::<f32>().unwrap());
    let v = a.to_vec::<f32>().unwrap();
    assert!(v.iter().all(|&x| (-1.0..2.0).contains(&x)), "{backend}");
    let mean = v.iter().sum::<f32>() / 1000.0;
    assert!((mean - 0.5).abs() < 0.15, "{backend}: {mean}");
    // Spread over the range: each of 10 bins holds 5-15% of the draws.
    for bin in 0..10 {
        let lo = -1.0 + 0.3 * bin as f32;
        let k = v.iter().filter(|&&x| x >= lo && x < lo + 0.3).count();
        assert!((50..=150).contains(&k), "{backend}: bin {bin} has {k}");
    }

    let n = ep::normal(&like.float64().unwrap(), [20000], 3.0, 2.0).unwrap();
    assert_eq!(n.dtype(), DType::F64);
    let m = n.mean().unwrap().item::<f64>().unwrap();
    let sd = n
        .sub(m)
        .unwrap()
        .square()
        .unwrap()
        .mean()
        .unwrap()
        .sqrt()
        .unwrap()
        .item::<f64>()
        .unwrap();
    assert!(
        (m - 3.0).abs() < 0.1 && (sd - 2.0).abs() < 0.1,
        "{backend}: {m} {sd}"
    );
    // The tails: about 4.55% of normal draws lie beyond 2 sigma.
    let beyond = n
        .sub(3.0)
        .unwrap()
        .abs()
        .unwrap()
        .gt(4.0)
        .unwrap()
        .astype(DType::F64)
        .unwrap()
        .mean()
        .unwrap()
        .item::<f64>()
        .unwrap();
    assert!((0.035..0.056).contains(&beyond), "{backend}: {beyond}");
    let ints = EagerTensor::zeros(backend, [], DType::I64).unwrap();
    assert_eq!(
        ep::uniform(&ints, [2], 0.0, 1.0).unwrap().dtype(),
        DType::F64
    );

    assert_eq!(
        ep::uniform(&like, [2], 1.0, 1.0).unwrap_err().kind(),
        "invalid"
    );
    assert_eq!(
        ep::uniform(&like, [2], f64::NAN, 1.0).unwrap_err().kind(),
        "invalid"
    );
    assert_eq!(
        ep::normal(&like, [2], 0.0, -1.0).unwrap_err().kind(),
        "invalid"
    );
}
