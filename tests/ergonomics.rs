//! What a library author writing generic code leans on (issue 12): reading
//! numbers with lossless widening, one argument type for shapes and one for
//! axes, EagerPy's free functions, printing, `allclose`, iteration, and
//! errors that name the op that failed. On every enabled backend.

use eager_tensor::{self as ep, Backend, DType, EagerTensor};

fn f32s(b: Backend, v: &[f32], shape: &[usize]) -> EagerTensor {
    EagerTensor::from_vec(b, v.to_vec(), shape).unwrap()
}

#[test]
fn numbers_widen_without_loss_and_refuse_loss_naming_the_op() {
    for b in Backend::enabled() {
        let x = f32s(b, &[0.5], &[]);
        assert_eq!(x.item::<f32>().unwrap(), 0.5);
        assert_eq!(x.item::<f64>().unwrap(), 0.5);
        let e = x.item::<i64>().unwrap_err();
        assert_eq!((e.kind(), e.op()), ("dtype", "item"), "[{b}] {e}");
        let i = EagerTensor::from_vec(b, vec![3i32, -4], [2]).unwrap();
        assert_eq!(i.to_vec::<i64>().unwrap(), vec![3, -4]);
        assert_eq!(i.to_vec::<f64>().unwrap(), vec![3.0, -4.0]);
        let e = i.to_vec::<f32>().unwrap_err();
        assert_eq!((e.kind(), e.op()), ("dtype", "to_vec"), "[{b}] {e}");
        let h = x.astype(DType::F16).unwrap();
        assert_eq!(h.item::<f32>().unwrap(), 0.5);
        assert!(h.item::<ep::bf16>().is_err(), "f16 → bf16 loses bits");
    }
}

#[test]
fn to_backend_errors_name_to_backend() {
    let x = f32s(Backend::NdArray, &[1.0], &[1]);
    for b in Backend::ALL {
        if !b.is_enabled() {
            let e = x.to_backend(b).unwrap_err();
            assert_eq!((e.kind(), e.op()), ("unsupported", "to_backend"), "{e}");
        }
    }
    // Reachable in every build: a traced tensor may not change framework.
    for b in Backend::enabled() {
        let x = f32s(b, &[1.0], &[1]);
        let other = if b == Backend::NdArray {
            b
        } else {
            Backend::NdArray
        };
        let e = ep::value_and_grad(|t| t.to_backend(other)?.sum(), &x).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("invalid", "to_backend"), "[{b}] {e}");
    }
}

#[test]
fn host_conversions_name_themselves() {
    for b in Backend::enabled() {
        let i = EagerTensor::from_vec(b, vec![1i32, 2], [2]).unwrap();
        let e = i.to_ndarray::<f32>().unwrap_err();
        assert_eq!((e.kind(), e.op()), ("dtype", "to_ndarray"), "[{b}] {e}");
        assert_eq!(
            i.to_ndarray::<i64>().unwrap().into_raw_vec_and_offset().0,
            vec![1, 2]
        );
        let e = EagerTensor::from_vec(b, vec![1i32; 3], [2, 2]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("shape", "from_vec"), "[{b}] {e}");
        let e = ep::from_vec(&i, vec![1i32; 3], [2, 2]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("shape", "from_vec"), "[{b}] {e}");
        let data = || ep::HostData::I32(vec![1; 3]);
        let e = EagerTensor::from_host(b, data(), [2, 2]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("shape", "from_host"), "[{b}] {e}");
        let e = i.from_host_like(data(), [2, 2]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("shape", "from_host_like"), "[{b}] {e}");
        let e = EagerTensor::from_vec(b, vec![1i32], vec![-1]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("shape", "from_vec"), "[{b}] {e}");
        // Shapes as any `IntoShape`, as for the creating functions.
        let t = EagerTensor::from_host(b, data(), vec![3i64]).unwrap();
        assert_eq!(t.shape(), vec![3]);
        let f = EagerTensor::full_on(b, t.shape(), 2, DType::I32).unwrap();
        assert_eq!(f.to_vec::<i32>().unwrap(), vec![2; 3]);
    }
}

#[test]
fn shapes_and_axes_take_any_integer_list() {
    for b in Backend::enabled() {
        let x = ep::arange(&EagerTensor::zeros(b, [], DType::I64).unwrap(), 0, 6, 1).unwrap();
        let y = x.reshape([2, -1]).unwrap();
        assert_eq!(y.shape(), vec![2, 3]);
        // The shape of one tensor is a shape argument of another.
        assert_eq!(x.reshape(y.shape()).unwrap().shape(), vec![2, 3]);
        assert_eq!(
            x.zeros_like()
                .unwrap()
                .reshape(vec![3isize, 2])
                .unwrap()
                .shape(),
            vec![3, 2]
        );
        let n = 3usize;
        assert_eq!(ep::zeros(&x, [n, 1]).unwrap().shape(), vec![3, 1]);
        assert_eq!(
            EagerTensor::ones(b, vec![2usize, 2], DType::F32)
                .unwrap()
                .numel(),
            4
        );
        // Negative axes wherever an axis is taken.
        assert_eq!(y.permute([-1, 0]).unwrap().shape(), vec![3, 2]);
        assert_eq!(
            y.sum_axes(-1, false).unwrap().to_vec::<i64>().unwrap(),
            vec![3, 12]
        );
        assert_eq!(y.sum_axes([0, 1], true).unwrap().shape(), vec![1, 1]);
        assert_eq!(
            y.sum_axes(vec![0usize], false)
                .unwrap()
                .to_vec::<i64>()
                .unwrap(),
            vec![3, 5, 7]
        );
        let f = y.astype(DType::F64).unwrap();
        assert_eq!(
            ep::norms::l1(&f, -1, false)
                .unwrap()
                .to_vec::<f64>()
                .unwrap(),
            vec![3.0, 12.0]
        );
        assert_eq!(y.expand_dims(-1).unwrap().shape(), vec![2, 3, 1]);
        assert_eq!(y.broadcast_to([2, 2, 3]).unwrap().shape(), vec![2, 2, 3]);
        assert_eq!(y.tile([1, 2]).unwrap().shape(), vec![2, 6]);
        let e = y.permute([0, 0]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("invalid", "permute"));
        let e = y.permute([0, 2]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("axis", "permute"));
        let e = ep::zeros(&x, vec![-1isize]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("shape", "zeros"));
        // One integer is a 1-D shape (EagerPy's `ShapeOrScalar`).
        assert_eq!(ep::zeros(&x, 5).unwrap().shape(), vec![5]);
        assert_eq!(ep::CreateLike::ones(&x, n).unwrap().shape(), vec![3]);
        assert_eq!(
            ep::full(&x, 2usize, 7).unwrap().to_vec::<i64>().unwrap(),
            vec![7, 7]
        );
        assert_eq!(ep::uniform(&f, 4, 0.0, 1.0).unwrap().shape(), vec![4]);
        let e = ep::zeros(&x, -3).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("shape", "zeros"));
        // An index error names the index as written, however large.
        let e = x.index(ep::s![usize::MAX]).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("index", "index"), "{e}");
        assert!(e.to_string().contains("index 18446744073709551615 "), "{e}");
        let e = x.index(ep::s![i64::MIN]).unwrap_err();
        assert!(e.to_string().contains("index -9223372036854775808 "), "{e}");
    }
}

#[test]
fn eagerpy_free_functions() {
    for b in Backend::enabled() {
        let x = f32s(b, &[-0.5, 0.25, 2.0], &[3]);
        assert_eq!(
            ep::clip(&x, 0.0, 1.0).unwrap().to_vec::<f32>().unwrap(),
            vec![0.0, 0.25, 1.0]
        );
        // Scalars of any type on either side.
        let eps = 0.5f32;
        assert_eq!(
            ep::mul(eps, &x).unwrap().to_vec::<f32>().unwrap(),
            vec![-0.25, 0.125, 1.0]
        );
        assert_eq!(
            ep::sub(1u8, &x).unwrap().to_vec::<f32>().unwrap(),
            vec![1.5, 0.75, -1.0]
        );
        assert_eq!(ep::minimum(1, &x).unwrap().dtype(), DType::F32);
        assert_eq!(
            ep::maximum(&x, 0.0).unwrap().to_vec::<f32>().unwrap(),
            vec![0.0, 0.25, 2.0]
        );
        assert_eq!(
            ep::abs(&x).unwrap().to_vec::<f32>().unwrap(),
            vec![0.5, 0.25, 2.0]
        );
        assert_eq!(ep::sum(&x).unwrap().item::<f32>().unwrap(), 1.75);
        assert_eq!(
            ep::max_axes(&x, 0, true).unwrap().to_vec::<f32>().unwrap(),
            vec![2.0]
        );
        let c = ep::gt(&x, 0.0).unwrap();
        assert_eq!(
            ep::where_(&c, &x, -1.0).unwrap().to_vec::<f32>().unwrap(),
            vec![-1.0, 0.25, 2.0]
        );
        assert_eq!(ep::reshape(&x, [1, -1]).unwrap().shape(), vec![1, 3]);
        assert_eq!(ep::argmax(&x).unwrap().item::<i64>().unwrap(), 2);
        let [a, z] = ep::astensors([x.clone(), x.zeros_like().unwrap()]);
        assert!(ep::allclose(&ep::add(&a, &z).unwrap(), &x, 0.0, 0.0).unwrap());
        assert!(ep::istensor(&a) && !ep::istensor(&1.0f32));
        // Two scalars: there is no tensor to say which backend.
        assert!(ep::add(1.0, 2.0).is_err());
    }
}

#[test]
fn allclose_follows_numpy() {
    for b in Backend::enabled() {
        let a = f32s(b, &[1.0, f32::INFINITY, 0.0], &[3]);
        let c = EagerTensor::from_vec(b, vec![1.0f64 + 1e-7, f64::INFINITY, 1e-9], [3]).unwrap();
        assert!(a.allclose(&c, 1e-5, 1e-8).unwrap());
        assert!(!a.allclose(&c, 1e-9, 0.0).unwrap());
        let n = f32s(b, &[f32::NAN], &[1]);
        assert!(
            !n.allclose(&n, 1.0, 1.0).unwrap(),
            "NaN is close to nothing"
        );
        // Broadcasting.
        assert!(f32s(b, &[2.0, 2.0], &[2])
            .allclose(&f32s(b, &[2.0], &[]), 0.0, 0.0)
            .unwrap());
    }
}

#[test]
fn printing_and_iterating() {
    for b in Backend::enabled() {
        let x = f32s(b, &[1.0, 2.5, 3.0, 4.0], &[2, 2]);
        assert_eq!(
            format!("{x:?}"),
            format!("EagerTensor({b}, f32, [2, 2], [[1, 2.5],\n [3, 4]])")
        );
        assert!(format!("{x:.1}").ends_with("[[1.0, 2.5],\n [3.0, 4.0]]"));
        let mut rows = Vec::new();
        for row in &x {
            rows.push(row.to_vec::<f32>().unwrap());
        }
        assert_eq!(rows, vec![vec![1.0, 2.5], vec![3.0, 4.0]]);
        assert_eq!(x.iter().len(), 2);
    }
}
