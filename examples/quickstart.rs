//! eager-tensor in one page: EagerPy's norm example, a generic function over
//! native tensors, and a tour of the chainable API.
//!
//! Run it with `cargo run --example quickstart` (default backend: ndarray).

use eager_tensor as ep;
use ndarray::{ArrayD, IxDyn};

/// EagerPy's first example: the L2 norm of any framework's tensor, written
/// once. `T` is a native type (here `ndarray::ArrayD<f32>`; with the other
/// features also `tch::Tensor`, ...) and the result has the same type.
fn norm<T: ep::Native>(x: T) -> ep::Result<T> {
    let x = ep::astensor(x);
    let result = x.square()?.sum()?.sqrt()?;
    result.into_raw()
}

/// A generic function with more going on: a numerically stable
/// cross-entropy of logits against integer labels, averaged, plus the
/// accuracy. Takes and returns native tensors.
fn loss_and_accuracy<T: ep::Native, L: ep::Native>(logits: T, labels: L) -> ep::Result<(T, f64)> {
    let (logits, labels) = (ep::astensor(logits), ep::astensor(labels));
    let loss = logits.crossentropy(&labels)?.mean()?;
    let predicted = logits.argmax_axis(-1)?;
    let accuracy = predicted.eq(&labels)?.float64()?.mean()?.item::<f64>()?;
    Ok((loss.into_raw()?, accuracy))
}

fn main() -> ep::Result<()> {
    // 1. EagerPy's norm example on a native ndarray array.
    let x = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])
        .map_err(|e| ep::Error::invalid("quickstart", e.to_string()))?;
    let n: ArrayD<f32> = norm(x.clone())?;
    println!("norm of {:?} = {}", x.as_slice().unwrap_or_default(), n[[]]);

    // 2. The same tensor wrapped once and used through the chainable API.
    let t = ep::astensor(x);
    println!("{t}");
    println!(
        "backend = {}, dtype = {}, shape = {:?}",
        t.backend(),
        t.dtype(),
        t.shape()
    );
    let y = ((&t * 2.0)? - 1.0)?; // operators return Result
    println!("2x - 1 = {:?}", y.to_vec::<f32>()?);
    println!(
        "row 1, every other column: {:?}",
        t.index(ep::s![1, ..;2])?.to_vec::<f32>()?
    );
    println!(
        "L1 norms of the rows: {:?}",
        ep::norms::l1(&t, [1], false)?.to_vec::<f32>()?
    );
    println!("softmax of the rows:\n{}", t.softmax(-1)?);

    // 3. A generic function over native tensors.
    let logits = ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![2.0f64, 0.0, 0.0, 3.0, 1.0, 1.5])
        .map_err(|e| ep::Error::invalid("quickstart", e.to_string()))?;
    let labels = ArrayD::from_shape_vec(IxDyn(&[3]), vec![0i64, 1, 0])
        .map_err(|e| ep::Error::invalid("quickstart", e.to_string()))?;
    let (loss, acc): (ArrayD<f64>, f64) = loss_and_accuracy(logits, labels)?;
    println!("cross-entropy = {:.4}, accuracy = {acc:.3}", loss[[]]);

    // 4. Mistakes are errors that name the op, never panics.
    match t.reshape([4, -1]) {
        Ok(_) => println!("unexpected"),
        Err(e) => println!("error, as expected: {e}"),
    }
    Ok(())
}
