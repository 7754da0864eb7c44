//! Trains a 2-layer MLP on Fisher's Iris data with plain gradient descent,
//! written once against `EagerTensor`, on any enabled backend:
//!
//! ```sh
//! cargo run --release --example train -- --backend ndarray --epochs 100
//! cargo run --release --features xla --example train -- --backend xla --jit
//! ```
//!
//! Prints the loss of every epoch and the final accuracy on a held-out
//! third of the data. Gradients come from `ep::value_and_grads`.

use eager_tensor::{self as ep, Backend, DType, EagerTensor};

#[path = "common/cli.rs"]
mod cli;
#[path = "common/iris.rs"]
mod iris;

struct Args {
    backend: Backend,
    epochs: usize,
    lr: f64,
    /// The whole step (loss, gradients, update) as one `ep::jit` program,
    /// the parameters donated (one launch per epoch on xla).
    jit: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        backend: Backend::NdArray,
        epochs: 100,
        lr: 0.5,
        jit: false,
    };
    args.backend = cli::parse(
        "usage: train [--backend ndarray|torch|tensorflow|xla|candle] [--epochs N] [--lr X] [--jit]",
        |flag, value| {
            match flag {
                "--epochs" => args.epochs = cli::number(flag, value()?)?,
                "--lr" => args.lr = cli::number(flag, value()?)?,
                "--jit" => args.jit = true,
                _ => return Ok(false),
            }
            Ok(true)
        },
    )?;
    Ok(args)
}

/// logits = tanh(x W1 + b1) W2 + b2
fn forward(p: &[EagerTensor], x: &EagerTensor) -> ep::Result<EagerTensor> {
    x.matmul(&p[0])?
        .add(&p[1])?
        .tanh()?
        .matmul(&p[2])?
        .add(&p[3])
}

fn accuracy(p: &[EagerTensor], x: &EagerTensor, y: &EagerTensor) -> ep::Result<f64> {
    forward(p, x)?
        .argmax_axis(-1)?
        .eq(y)?
        .astype(DType::F64)?
        .mean()?
        .item::<f64>()
}

fn main() {
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    train(&args).map(|_| ()).map_err(|e| e.to_string())
}

/// Trains and returns `(final loss, train accuracy, test accuracy)`.
fn train(args: &Args) -> ep::Result<(f64, f64, f64)> {
    let (x, y) = iris::load(args.backend)?;
    // Standardize the features.
    let x = x.sub(&x.mean_axes([0], true)?)?;
    let x = x.div(&x.square()?.mean_axes([0], true)?.sqrt()?)?;
    // Every third flower is held out for testing (the table is sorted by class).
    let n = x.len() as i64;
    let test_idx = ep::arange(&y, 0, n, 3)?;
    let train_mask = ep::arange(&y, 0, n, 1)?.rem(3i64)?.ne(0i64)?;
    let (x_train, y_train) = (x.index(ep::s![&train_mask])?, y.index(ep::s![&train_mask])?);
    let (x_test, y_test) = (x.index(ep::s![&test_idx])?, y.index(ep::s![&test_idx])?);

    ep::seed(0);
    let hidden = 16;
    let mut params = vec![
        ep::normal(&x, [4, hidden], 0.0, 0.5)?,
        ep::zeros(&x, [hidden])?,
        ep::normal(&x, [hidden, 3], 0.0, 0.5)?,
        ep::zeros(&x, [3])?,
    ];
    println!(
        "training a 4-{hidden}-3 MLP on {} iris flowers ({} held out), backend {}, lr {}",
        x_train.len(),
        x_test.len(),
        args.backend,
        args.lr
    );
    let mut last = f64::NAN;
    // The jitted step: loss, gradients and the update in one program on xla
    // (the parameters' buffers donated to the updated ones); eager elsewhere.
    let lr = args.lr;
    let step = ep::jit(|xs: &[EagerTensor]| {
        let (xt, yt) = (&xs[0], &xs[1]);
        let p: Vec<&EagerTensor> = xs[2..].iter().collect();
        let (loss, grads) = ep::value_and_grads(|p| forward(p, xt)?.crossentropy(yt)?.mean(), &p)?;
        let mut out = vec![loss];
        for (p, g) in xs[2..].iter().zip(&grads) {
            out.push(p.sub(&g.mul(lr)?)?);
        }
        Ok(out)
    })
    .donate(&[2, 3, 4, 5]);
    for epoch in 1..=args.epochs {
        if args.jit {
            let mut inputs = vec![x_train.clone(), y_train.clone()];
            inputs.append(&mut params);
            let mut out = step.call_donating(inputs)?;
            params = out.split_off(1);
            last = out[0].item::<f32>()? as f64;
            println!("epoch {epoch:4}  loss {last:.4}");
            continue;
        }
        let refs: Vec<&EagerTensor> = params.iter().collect();
        let (loss, grads) = ep::value_and_grads(
            |p| forward(p, &x_train)?.crossentropy(&y_train)?.mean(),
            &refs,
        )?;
        params = params
            .iter()
            .zip(&grads)
            .map(|(p, g)| p.sub(&g.mul(args.lr)?))
            .collect::<ep::Result<_>>()?;
        last = loss.item::<f32>()? as f64;
        println!("epoch {epoch:4}  loss {last:.4}");
    }
    let (train_acc, test_acc) = (
        accuracy(&params, &x_train, &y_train)?,
        accuracy(&params, &x_test, &y_test)?,
    );
    println!("final accuracy: train {train_acc:.3}, test {test_acc:.3}");
    Ok((last, train_acc, test_acc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example really learns, on every enabled backend, eager and
    /// jitted alike (the jitted loop follows the eager one).
    #[test]
    fn learns_iris_on_every_backend() {
        for backend in Backend::enabled() {
            let mut losses = Vec::new();
            for jit in [false, true] {
                let (loss, train_acc, test_acc) = train(&Args {
                    backend,
                    epochs: 60,
                    lr: 0.5,
                    jit,
                })
                .unwrap();
                assert!(loss < 0.2, "{backend} jit {jit}: loss {loss}");
                assert!(
                    train_acc > 0.9 && test_acc > 0.9,
                    "{backend} jit {jit}: accuracy {train_acc} / {test_acc}"
                );
                losses.push(loss);
            }
            assert!(
                (losses[0] - losses[1]).abs() <= 1e-4 * losses[0].max(1e-3),
                "{backend}: eager {} vs jit {}",
                losses[0],
                losses[1]
            );
        }
    }
}
