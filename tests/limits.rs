//! The memory limit on one tensor (its own test binary: the limit is
//! process-wide, and other tests run in parallel threads).

use eager_tensor::{self as ep, Backend, DType, EagerTensor};

#[test]
fn the_memory_limit_is_an_error_on_every_backend_and_can_be_changed() {
    let default = ep::max_tensor_bytes();
    assert!(default > 0);
    let before = ep::set_max_tensor_bytes(1 << 20);
    assert_eq!(before, default);
    for b in Backend::enabled() {
        // 1 MiB fits, 1 MiB + 4 bytes does not: a `shape` error naming the op.
        let ok = EagerTensor::zeros(b, [1 << 18], DType::F32).unwrap();
        assert_eq!(ok.numel(), 1 << 18);
        let e = EagerTensor::zeros(b, [(1 << 18) + 1], DType::F32).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("shape", "full"), "{b}: {e}");
        assert!(e.to_string().contains("EAGER_TENSOR_MAX_BYTES"), "{e}");
        // Through broadcasting too, before any backend allocates.
        let x = EagerTensor::zeros(b, [1024, 1], DType::F32).unwrap();
        let y = EagerTensor::zeros(b, [1, 1024], DType::F64).unwrap();
        let e = x.add(&y).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("shape", "add"), "{b}: {e}");
        let e = x.matmul(&x.transpose().unwrap()).unwrap_err();
        assert_eq!((e.kind(), e.op()), ("shape", "matmul"), "{b}: {e}");
    }
    // 0 restores the default.
    ep::set_max_tensor_bytes(0);
    assert_eq!(ep::max_tensor_bytes(), default);
}
