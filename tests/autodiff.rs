//! Gradients beyond the per-backend finite-difference suite (which is
//! `tests/suites/gradients.rs`, run by each backend crate: `cargo test -p
//! eager-torch gradients`): native autograd against the tape, EagerPy's own
//! checks, and the tape's guarantees (threads, repeats, nesting, errors).

use eager_tensor::{self as ep, Backend, DType, EagerTensor};

// Its per-backend run (`run`) is the backend crates' to call.
#[allow(dead_code)]
#[path = "suites/gradients.rs"]
mod gradients;
use gradients::*;

/// On backends with a native autograd (torch), it and the tape agree on every
/// gradient-check function.
#[test]
fn native_autograd_agrees_with_the_tape() {
    let mut compared = 0;
    for b in Backend::enabled() {
        for (name, f, xs) in all_cases(b) {
            let refs: Vec<&EagerTensor> = xs.iter().collect();
            let (va, ga) = ep::value_and_grads_with(ep::Engine::Auto, |t| f(t), &refs).unwrap();
            let (vt, gt) = ep::value_and_grads_with(ep::Engine::Tape, |t| f(t), &refs).unwrap();
            let close = |a: f64, t: f64| (a - t).abs() <= 1e-9 * (1.0 + t.abs());
            assert!(
                close(va.item::<f64>().unwrap(), vt.item::<f64>().unwrap()),
                "[{b}] {name}: values differ"
            );
            for (i, (a, t)) in ga.iter().zip(&gt).enumerate() {
                let (a, t) = (a.to_vec::<f64>().unwrap(), t.to_vec::<f64>().unwrap());
                for (j, (x, y)) in a.iter().zip(&t).enumerate() {
                    assert!(
                        close(*x, *y),
                        "[{b}] {name}: d/dx{i}[{j}]: native {x}, tape {y}"
                    );
                }
            }
            compared += 1;
        }
    }
    println!("native autograd vs tape: {compared} functions agree");
}

#[path = "autodiff/api.rs"]
mod api;
#[path = "autodiff/engines.rs"]
mod engines;
