//! The tensorflow cases: TensorFlow's eager raw ops called directly
//! against the same through `EagerTensor`.

use super::*;

/// The tensorflow cases against the same raw ops called directly through
/// `tensorflow::eager` (one context, as the backend's).
#[cfg(feature = "tensorflow")]
pub(super) fn tf_cases() -> Vec<Case> {
    use eager_tensor::tensorflow::{eager::raw_ops as ops, eager::TensorHandle, Tensor};
    let ctx = eager_tensor::backends::tensorflow::context().expect("context");
    let h = move |n: usize, dims: &[u64], scale: f32| -> TensorHandle<'static> {
        let v: Vec<f32> = data(n).iter().map(|x| x * scale).collect();
        Tensor::<f32>::new(dims)
            .with_values(&v)
            .expect("values")
            .into_handle(ctx)
            .expect("handle")
    };
    let mut cases = Vec::new();
    {
        let (a, b) = (h(4, &[4], 1.0), h(4, &[4], 1.0));
        let (ta, tb) = (ep::astensor(h(4, &[4], 1.0)), ep::astensor(h(4, &[4], 1.0)));
        cases.push(case(
            "tf_add_4",
            move || {
                drop(black_box(
                    ops::add_v2(ctx, black_box(&a), black_box(&b)).expect("add"),
                ))
            },
            move || drop(black_box(black_box(&ta).add(black_box(&tb)).expect("add"))),
        ));
    }
    // Wrapping and unwrapping: both sides make the same new handle on the
    // same buffer (`copy_sharing_tensor`).
    cases.extend(wrap_cases(
        "tf_astensor_4",
        "tf_into_raw_4",
        h(4, &[4], 1.0),
        |x| x.copy_sharing_tensor().expect("copy"),
    ));
    {
        // The floor of `astensor` with the backend's storage: the handle in
        // an `Arc` (so clones share it without an FFI call) and its dtype
        // read once. Its eager column is that, not eager-tensor.
        let (a, b) = (h(4, &[4], 1.0), h(4, &[4], 1.0));
        cases.push(case(
            "floor_tf_astensor_4",
            move || {
                drop(black_box(
                    black_box(&a).copy_sharing_tensor().expect("copy"),
                ))
            },
            move || {
                let h = black_box(&b).copy_sharing_tensor().expect("copy");
                let d = h.data_type();
                // The backend's `Handle` is Send + Sync (see its SAFETY note).
                #[allow(clippy::arc_with_non_send_sync)]
                let held = std::sync::Arc::new(h);
                drop(black_box((held, d)))
            },
        ));
    }
    for n in [1_000usize, 1_000_000] {
        let a = h(n, &[n as u64], 1.0);
        let ta = ep::astensor(h(n, &[n as u64], 1.0));
        cases.push(case(
            format!("tf_l2_chain_{n}"),
            move || {
                let sq = ops::square(ctx, black_box(&a)).expect("square");
                let s = ops::sum(ctx, &sq, &[0i32]).expect("sum");
                drop(black_box(ops::sqrt(ctx, &s).expect("sqrt")))
            },
            move || drop(black_box(l2(black_box(&ta)))),
        ));
    }
    {
        let (a, b) = (
            h(256 * 256, &[256, 256], 1.0),
            h(256 * 256, &[256, 256], 1.0),
        );
        let (ta, tb) = (
            ep::astensor(h(256 * 256, &[256, 256], 1.0)),
            ep::astensor(h(256 * 256, &[256, 256], 1.0)),
        );
        cases.push(case(
            "tf_matmul_256",
            move || {
                drop(black_box(
                    ops::mat_mul(ctx, black_box(&a), black_box(&b)).expect("mm"),
                ))
            },
            move || {
                drop(black_box(
                    black_box(&ta).matmul(black_box(&tb)).expect("mm"),
                ))
            },
        ));
    }
    {
        // The MLP forward of benches/autodiff.rs, 8 raw ops.
        let shapes: [(usize, &[u64], f32); 6] = [
            (64 * 32, &[64, 32], 3.0),
            (64, &[64, 1], 3.0),
            (32 * 64, &[32, 64], 0.6),
            (64, &[64], 0.01),
            (64, &[64, 1], 0.6),
            (1, &[1], 0.02),
        ];
        let [x, y, w1, b1, w2, b2] = shapes.map(|(n, d, s)| h(n, d, s));
        let e = |t: &TensorHandle<'static>| ep::astensor(t.copy_sharing_tensor().expect("copy"));
        let p = vec![e(&w1), e(&b1), e(&w2), e(&b2)];
        let (ex, ey) = (e(&x), e(&y));
        cases.push(case(
            "tf_mlp_forward",
            move || {
                let h1 = ops::mat_mul(ctx, black_box(&x), &w1).expect("mm");
                let h2 = ops::add_v2(ctx, &h1, &b1).expect("add");
                let h3 = ops::tanh(ctx, &h2).expect("tanh");
                let o1 = ops::mat_mul(ctx, &h3, &w2).expect("mm");
                let o2 = ops::add_v2(ctx, &o1, &b2).expect("add");
                let d = ops::sub(ctx, &o2, &y).expect("sub");
                let s = ops::square(ctx, &d).expect("square");
                drop(black_box(ops::mean(ctx, &s, &[0i32, 1]).expect("mean")))
            },
            move || drop(black_box(mlp_loss(black_box(&p), &ex, &ey).expect("mlp"))),
        ));
    }
    cases
}
