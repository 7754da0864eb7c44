//! Foolbox-style adversarial attacks, written once against `EagerTensor`,
//! run on any enabled backend:
//!
//! ```sh
//! cargo run --example attack -- --backend ndarray
//! cargo run --features torch --example attack -- --backend torch
//! ```
//!
//! It trains a 4-16-3 MLP on Fisher's Iris data (features scaled to
//! [0, 1], the held-out third of the flowers kept for the attacks), then
//! attacks it with ports of three of Foolbox's attacks
//! (`bethgelab/foolbox`, `foolbox/attacks/`):
//!
//! - FGSM, the L∞ fast gradient sign method (`LinfFastGradientAttack`);
//! - FGM, the L2 fast gradient method (`L2FastGradientAttack`): one step
//!   along the gradient normalized per sample;
//! - L∞ PGD with a random start (`LinfProjectedGradientDescentAttack`).
//!
//! Each attack is a generic function over `T: ep::Native`, as in Foolbox
//! (which takes and gives back the caller's tensor type through EagerPy):
//! an `ndarray::ArrayD<f32>` in gives an `ArrayD<f32>` out, a
//! `tch::Tensor` a `tch::Tensor`. The labels are a second generic type
//! `L`, because they are `i64` and `ArrayD<f32>` cannot hold them.
//!
//! It prints the clean accuracy and, for each attack, the accuracy and the
//! mean loss on the adversarial examples and their largest perturbation.

use eager_tensor::{self as ep, Backend, DType, EagerTensor};

#[path = "common/cli.rs"]
mod cli;
#[path = "common/iris.rs"]
mod iris;

// ---------------------------------------------------------------------------
// Foolbox's helpers (foolbox/devutils.py) and distances (foolbox/distances.py)
// ---------------------------------------------------------------------------

/// `x` with every axis from `keep` on merged into one (Foolbox's
/// `flatten(x, keep=1)`): a batch `[n, ...]` becomes `[n, features]`.
fn flatten<T: ep::Native>(x: T, keep: usize) -> ep::Result<T> {
    let x = ep::astensor(x);
    let shape = x.shape();
    let Some(kept) = shape.get(..keep) else {
        return Err(ep::Error::invalid(
            "flatten",
            format!("cannot keep {keep} axes of a tensor of shape {shape:?}"),
        ));
    };
    let mut new_shape: Vec<isize> = kept.iter().map(|&d| d as isize).collect();
    new_shape.push(-1);
    x.reshape(new_shape)?.into_raw()
}

/// `x` with size-1 axes appended up to `k` dimensions (Foolbox's
/// `atleast_kd`), so that a per-sample value broadcasts against the batch.
fn atleast_kd<T: ep::Native>(x: T, k: usize) -> ep::Result<T> {
    let x = ep::astensor(x);
    let mut shape = x.shape();
    if shape.len() < k {
        shape.resize(k, 1);
    }
    x.reshape(shape)?.into_raw()
}

/// The norm an attack measures its perturbation with (Foolbox's
/// `distances.linf` and `distances.l2`), with what the gradient-descent
/// attacks need of it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Norm {
    Linf,
    L2,
}

impl Norm {
    /// Per-sample distance between two batches: a 1-D tensor of the batch
    /// length (Foolbox's `LpDistance.__call__`).
    fn distance<T: ep::Native>(self, reference: T, perturbed: T) -> ep::Result<T> {
        let delta = ep::astensor(perturbed).sub(&ep::astensor(reference))?;
        let flat: EagerTensor = flatten(delta, 1)?;
        match self {
            Norm::Linf => ep::norms::linf(&flat, -1, false),
            Norm::L2 => ep::norms::l2(&flat, -1, false),
        }?
        .into_raw()
    }

    /// The gradient normalized per sample: its sign for L∞, the gradient
    /// over its L2 norm for L2 (Foolbox's `normalize`,
    /// `normalize_lp_norms`).
    fn normalize(self, grad: &EagerTensor) -> ep::Result<EagerTensor> {
        match self {
            Norm::Linf => grad.sign(),
            Norm::L2 => {
                let flat: EagerTensor = flatten(grad.clone(), 1)?;
                // Zero gradients stay zero instead of dividing by zero.
                let norms = ep::norms::l2(&flat, -1, false)?.maximum(1e-12)?;
                grad.mul(&atleast_kd((1.0 / &norms)?, grad.ndim())?)
            }
        }
    }

    /// `x` moved back into the ε-ball around `x0` (Foolbox's `project`;
    /// `clip_lp_norms` for L2, which shrinks but never grows).
    fn project(self, x: &EagerTensor, x0: &EagerTensor, eps: f64) -> ep::Result<EagerTensor> {
        let delta = x.sub(x0)?;
        let delta = match self {
            Norm::Linf => ep::clip(&delta, -eps, eps)?,
            Norm::L2 => {
                let flat: EagerTensor = flatten(delta.clone(), 1)?;
                let norms = ep::norms::l2(&flat, -1, false)?.maximum(1e-12)?;
                let factor = ep::minimum(&(eps / &norms)?, 1.0)?;
                delta.mul(&atleast_kd(factor, delta.ndim())?)?
            }
        };
        x0.add(&delta)
    }
}

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

/// A classifier of inputs in `bounds` (Foolbox's `Model`): a 2-layer MLP
/// behind a fixed preprocessing `(x - mean) / std`, as Foolbox's
/// `preprocessing=dict(mean=..., std=...)`.
#[derive(Clone)]
struct Model {
    bounds: (f64, f64),
    mean: EagerTensor,
    std: EagerTensor,
    /// `[W1, b1, W2, b2]`.
    params: Vec<EagerTensor>,
}

/// logits = tanh(x W1 + b1) W2 + b2
fn mlp(p: &[EagerTensor], x: &EagerTensor) -> ep::Result<EagerTensor> {
    x.matmul(&p[0])?
        .add(&p[1])?
        .tanh()?
        .matmul(&p[2])?
        .add(&p[3])
}

impl Model {
    fn logits_with(&self, params: &[EagerTensor], x: &EagerTensor) -> ep::Result<EagerTensor> {
        mlp(params, &x.sub(&self.mean)?.div(&self.std)?)
    }
    fn logits(&self, x: &EagerTensor) -> ep::Result<EagerTensor> {
        self.logits_with(&self.params, x)
    }
    /// Per-sample cross-entropy.
    fn losses(&self, x: &EagerTensor, labels: &EagerTensor) -> ep::Result<EagerTensor> {
        self.logits(x)?.crossentropy(labels)
    }
    fn accuracy(&self, x: &EagerTensor, labels: &EagerTensor) -> ep::Result<f64> {
        self.logits(x)?
            .argmax_axis(-1)?
            .eq(labels)?
            .astype(DType::F64)?
            .mean()?
            .item::<f64>()
    }
    /// The same model on another backend (one copy of each tensor).
    #[cfg_attr(not(test), allow(dead_code))] // the tests move one model around
    fn to_backend(&self, backend: Backend) -> ep::Result<Model> {
        Ok(Model {
            bounds: self.bounds,
            mean: self.mean.to_backend(backend)?,
            std: self.std.to_backend(backend)?,
            params: self
                .params
                .iter()
                .map(|p| p.to_backend(backend))
                .collect::<ep::Result<_>>()?,
        })
    }
}

// ---------------------------------------------------------------------------
// The attacks (foolbox/attacks/gradient_descent_base.py and friends)
// ---------------------------------------------------------------------------

/// Foolbox's `BaseGradientDescent.run` for an untargeted attack: from
/// `start`, `steps` steps of `stepsize` along the normalized gradient of
/// the summed cross-entropy, each projected onto the ε-ball around `x0` and
/// clipped to the model's bounds.
#[allow(clippy::too_many_arguments)]
fn gradient_descent(
    model: &Model,
    x0: &EagerTensor,
    labels: &EagerTensor,
    norm: Norm,
    eps: f64,
    stepsize: f64,
    steps: usize,
    start: EagerTensor,
) -> ep::Result<EagerTensor> {
    let (low, high) = model.bounds;
    let mut x = start.clip(low, high)?;
    for _ in 0..steps {
        let (_, grad) = ep::value_and_grad(|x| model.losses(x, labels)?.sum(), &x)?;
        let x_new = x.add(&norm.normalize(&grad)?.mul(stepsize)?)?;
        x = norm.project(&x_new, x0, eps)?.clip(low, high)?;
    }
    Ok(x)
}

/// FGSM, the fast gradient sign method: one step of `eps` along the sign of
/// the gradient (Foolbox's `LinfFastGradientAttack`, `FGSM`).
fn fgsm<T: ep::Native, L: ep::Native>(model: &Model, x: &T, labels: &L, eps: f64) -> ep::Result<T> {
    let (x0, labels) = (ep::astensor(x), ep::astensor(labels));
    gradient_descent(model, &x0, &labels, Norm::Linf, eps, eps, 1, x0.clone())?.into_raw()
}

/// FGM, the fast gradient method: one step of L2 length `eps` along the
/// gradient (Foolbox's `L2FastGradientAttack`, `FGM`).
fn fgm<T: ep::Native, L: ep::Native>(model: &Model, x: &T, labels: &L, eps: f64) -> ep::Result<T> {
    let (x0, labels) = (ep::astensor(x), ep::astensor(labels));
    gradient_descent(model, &x0, &labels, Norm::L2, eps, eps, 1, x0.clone())?.into_raw()
}

/// The settings of [`pgd`]. Foolbox's defaults are `rel_stepsize: 0.01 /
/// 0.3, steps: 40`.
#[derive(Debug, Clone, Copy)]
struct PgdOptions {
    /// Step size relative to ε.
    rel_stepsize: f64,
    steps: usize,
}

/// A uniform random point of the L∞ ε-ball around `x` (Foolbox's
/// `LinfBaseGradientDescent.get_random_start`; seed with `ep::seed`).
fn linf_random_start<T: ep::Native>(x: &T, eps: f64) -> ep::Result<T> {
    let x = ep::astensor(x);
    x.add(&ep::uniform(&x, x.shape(), -eps, eps)?)?.into_raw()
}

/// L∞ projected gradient descent (Foolbox's
/// `LinfProjectedGradientDescentAttack`, `PGD`): from a random start in
/// the ε-ball, steps of `rel_stepsize · eps` along the sign of the
/// gradient, each projected back onto the ε-ball and the bounds. `start`
/// overrides the random start (so that runs can be repeated exactly, on
/// any backend); `None` draws one with [`linf_random_start`].
fn pgd<T: ep::Native, L: ep::Native>(
    model: &Model,
    x: &T,
    labels: &L,
    eps: f64,
    options: PgdOptions,
    start: Option<&T>,
) -> ep::Result<T> {
    let (x0, labels) = (ep::astensor(x), ep::astensor(labels));
    let start = match start {
        Some(s) => ep::astensor(s),
        None => linf_random_start(&x0, eps)?,
    };
    let stepsize = options.rel_stepsize * eps;
    gradient_descent(
        model,
        &x0,
        &labels,
        Norm::Linf,
        eps,
        stepsize,
        options.steps,
        start,
    )?
    .into_raw()
}

// ---------------------------------------------------------------------------
// Data, training, the report
// ---------------------------------------------------------------------------

/// Features (150 x 4, f32, each scaled to [0, 1]) and labels (150, i64) of
/// the Iris table.
fn load(backend: Backend) -> ep::Result<(EagerTensor, EagerTensor)> {
    let (x, y) = iris::load(backend)?;
    let (lo, hi) = (x.min_axes([0], true)?, x.max_axes([0], true)?);
    Ok((x.sub(&lo)?.div(&hi.sub(&lo)?)?, y))
}

/// The data split: every third flower held out (the table is sorted by
/// class) for the attacks.
struct Data {
    x_train: EagerTensor,
    y_train: EagerTensor,
    x_test: EagerTensor,
    y_test: EagerTensor,
}

fn data(backend: Backend) -> ep::Result<Data> {
    let (x, y) = load(backend)?;
    let n = x.len() as i64;
    let test_idx = ep::arange(&y, 0, n, 3)?;
    let train_mask = ep::arange(&y, 0, n, 1)?.rem(3i64)?.ne(0i64)?;
    Ok(Data {
        x_train: x.index(ep::s![&train_mask])?,
        y_train: y.index(ep::s![&train_mask])?,
        x_test: x.index(ep::s![&test_idx])?,
        y_test: y.index(ep::s![&test_idx])?,
    })
}

/// Trains the MLP with full-batch gradient descent on `data`'s backend.
/// The initial weights are drawn on ndarray (seed 0) and moved, so every
/// backend starts from the same ones.
fn train(data: &Data, epochs: usize, lr: f64) -> ep::Result<Model> {
    let backend = data.x_train.backend();
    let x = &data.x_train;
    let hidden = 16;
    ep::seed(0);
    let like = EagerTensor::zeros(Backend::NdArray, [], DType::F32)?;
    let init = [
        ep::normal(&like, [4, hidden], 0.0, 0.5)?,
        ep::zeros(&like, [hidden])?,
        ep::normal(&like, [hidden, 3], 0.0, 0.5)?,
        ep::zeros(&like, [3])?,
    ];
    let mut model = Model {
        bounds: (0.0, 1.0),
        mean: x.mean_axes([0], true)?,
        std: x
            .sub(&x.mean_axes([0], true)?)?
            .square()?
            .mean_axes([0], true)?
            .sqrt()?,
        params: init
            .iter()
            .map(|p| p.to_backend(backend))
            .collect::<ep::Result<_>>()?,
    };
    for _ in 0..epochs {
        let refs: Vec<&EagerTensor> = model.params.iter().collect();
        let (_, grads) = ep::value_and_grads(
            |p| model.logits_with(p, x)?.crossentropy(&data.y_train)?.mean(),
            &refs,
        )?;
        model.params = model
            .params
            .iter()
            .zip(&grads)
            .map(|(p, g)| p.sub(&g.mul(lr)?))
            .collect::<ep::Result<_>>()?;
    }
    Ok(model)
}

/// The attack budgets of the example.
const EPS_LINF: f64 = 0.1;
const EPS_L2: f64 = 0.15;
/// PGD's settings here: Foolbox's defaults (40 steps of ε/30, made for
/// MNIST) travel 1.33 ε, too little to reach the corners of the ball from
/// a random start on these 4 features; 20 steps of ε/10 do.
const PGD: PgdOptions = PgdOptions {
    rel_stepsize: 0.1,
    steps: 20,
};

/// One attack's result.
struct Outcome {
    name: &'static str,
    norm: Norm,
    eps: f64,
    adv: EagerTensor,
}

/// Runs the three attacks on `model` (all on the backend of `x`).
/// `pgd_start`: see [`pgd`].
fn attack_all(
    model: &Model,
    x: &EagerTensor,
    y: &EagerTensor,
    pgd_start: Option<EagerTensor>,
) -> ep::Result<Vec<Outcome>> {
    Ok(vec![
        Outcome {
            name: "FGSM",
            norm: Norm::Linf,
            eps: EPS_LINF,
            adv: fgsm(model, x, y, EPS_LINF)?,
        },
        Outcome {
            name: "FGM",
            norm: Norm::L2,
            eps: EPS_L2,
            adv: fgm(model, x, y, EPS_L2)?,
        },
        Outcome {
            name: "PGD",
            norm: Norm::Linf,
            eps: EPS_LINF,
            adv: pgd(model, x, y, EPS_LINF, PGD, pgd_start.as_ref())?,
        },
    ])
}

/// Mean cross-entropy.
fn mean_loss(model: &Model, x: &EagerTensor, y: &EagerTensor) -> ep::Result<f64> {
    model.losses(x, y)?.mean()?.item::<f64>()
}

/// The largest per-sample distance.
fn max_distance(norm: Norm, x: &EagerTensor, adv: &EagerTensor) -> ep::Result<f64> {
    let d: EagerTensor = norm.distance(x.clone(), adv.clone())?;
    d.max()?.item::<f64>()
}

struct Args {
    backend: Backend,
    epochs: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        backend: Backend::NdArray,
        epochs: 200,
    };
    args.backend = cli::parse(
        "usage: attack [--backend ndarray|torch|tensorflow|xla|candle] [--epochs N]",
        |flag, value| {
            match flag {
                "--epochs" => args.epochs = cli::number(flag, value()?)?,
                _ => return Ok(false),
            }
            Ok(true)
        },
    )?;
    Ok(args)
}

fn main() {
    if let Err(e) = parse_args().and_then(|args| report(&args).map_err(|e| e.to_string())) {
        eprintln!("{e}");
        std::process::exit(2);
    }
}

fn report(args: &Args) -> ep::Result<()> {
    let data = data(args.backend)?;
    let model = train(&data, args.epochs, 0.5)?;
    let (x, y) = (&data.x_test, &data.y_test);
    println!(
        "4-16-3 MLP trained on {} iris flowers for {} epochs, backend {}; attacking the {} held out",
        data.x_train.len(),
        args.epochs,
        args.backend,
        x.len()
    );
    println!(
        "clean: accuracy {:.3}, loss {:.4}",
        model.accuracy(x, y)?,
        mean_loss(&model, x, y)?
    );
    ep::seed(1);
    for o in attack_all(&model, x, y, None)? {
        println!(
            "{:<11}  {:>4} eps {:<4}  accuracy {:.3}, loss {:.4}, max perturbation: Linf {:.4}, L2 {:.4}",
            o.name,
            format!("{:?}", o.norm),
            o.eps,
            model.accuracy(&o.adv, y)?,
            mean_loss(&model, &o.adv, y)?,
            max_distance(Norm::Linf, x, &o.adv)?,
            max_distance(Norm::L2, x, &o.adv)?,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack for float rounding in the ε and bounds checks.
    const SLACK: f64 = 1e-5;
    /// How far a backend's adversarial examples may lie from ndarray's.
    const AGREE: f64 = 1e-4;

    /// The model trained on ndarray, the held-out data, and a PGD start
    /// drawn on ndarray: the same inputs for every backend.
    fn setup() -> (Model, EagerTensor, EagerTensor, EagerTensor) {
        let data = data(Backend::NdArray).unwrap();
        let model = train(&data, 100, 0.5).unwrap();
        ep::seed(1);
        let start = linf_random_start(&data.x_test, EPS_LINF).unwrap();
        (model, data.x_test, data.y_test, start)
    }

    fn max_abs_diff(a: &EagerTensor, b: &EagerTensor) -> f64 {
        let (a, b) = (a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
        a.iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs() as f64)
            .fold(0.0, f64::max)
    }

    /// Asserts what every attack must do on the backend of `xb`: raise
    /// the mean loss above `clean`, stay within ε of `xb` and inside the
    /// [0, 1] bounds. Returns the loss and the largest distance.
    fn check_outcome(
        what: &str,
        m: &Model,
        xb: &EagerTensor,
        yb: &EagerTensor,
        clean: f64,
        o: &Outcome,
    ) -> (f64, f64) {
        assert_eq!(o.adv.backend(), xb.backend(), "{what}");
        assert_eq!(o.adv.shape(), xb.shape(), "{what}");
        let loss = mean_loss(m, &o.adv, yb).unwrap();
        assert!(loss > clean, "{what}: loss {loss} <= clean {clean}");
        let dist = max_distance(o.norm, xb, &o.adv).unwrap();
        assert!(dist <= o.eps + SLACK, "{what}: distance {dist} > {}", o.eps);
        let (lo, hi) = (
            o.adv.min().unwrap().item::<f32>().unwrap(),
            o.adv.max().unwrap().item::<f32>().unwrap(),
        );
        assert!(lo >= 0.0 && hi <= 1.0, "{what}: values in [{lo}, {hi}]");
        (loss, dist)
    }

    /// On every backend, each attack raises the loss, stays within ε and
    /// the bounds, and agrees with ndarray.
    #[test]
    fn attacks_on_every_backend() {
        let (model, x, y, start) = setup();
        assert!(model.accuracy(&x, &y).unwrap() > 0.9);
        let reference = attack_all(&model, &x, &y, Some(start.clone())).unwrap();
        for backend in Backend::enabled() {
            let t0 = std::time::Instant::now();
            let m = model.to_backend(backend).unwrap();
            let (xb, yb) = (
                x.to_backend(backend).unwrap(),
                y.to_backend(backend).unwrap(),
            );
            let sb = start.to_backend(backend).unwrap();
            let clean = mean_loss(&m, &xb, &yb).unwrap();
            let outcomes = attack_all(&m, &xb, &yb, Some(sb)).unwrap();
            for (o, r) in outcomes.iter().zip(&reference) {
                let what = format!("{backend} {}", o.name);
                let (loss, dist) = check_outcome(&what, &m, &xb, &yb, clean, o);
                let diff = max_abs_diff(&o.adv, &r.adv);
                assert!(diff <= AGREE, "{what}: differs from ndarray by {diff}");
                eprintln!(
                    "{what}: loss {clean:.4} -> {loss:.4}, max {:?} distance {dist:.5}, vs ndarray {diff:.2e}",
                    o.norm
                );
            }
            eprintln!("{backend}: {:.2?}", t0.elapsed());
        }
    }

    /// PGD with its random start drawn on each backend itself (`None`: the
    /// backend's own `uniform`, not a start passed in from ndarray): the
    /// start lies inside the ε-ball, and the attack from it raises the loss
    /// within ε and the bounds. (No agreement check: each backend draws
    /// its own numbers.)
    #[test]
    fn pgd_random_start_on_every_backend() {
        let (model, x, y, _) = setup();
        for backend in Backend::enabled() {
            let m = model.to_backend(backend).unwrap();
            let (xb, yb) = (
                x.to_backend(backend).unwrap(),
                y.to_backend(backend).unwrap(),
            );
            ep::seed(2);
            let start = linf_random_start(&xb, EPS_LINF).unwrap();
            assert_eq!(start.backend(), backend);
            let moved = max_distance(Norm::Linf, &xb, &start).unwrap();
            assert!(
                moved > 0.0 && moved <= EPS_LINF + SLACK,
                "{backend}: random start {moved} from x"
            );
            let clean = mean_loss(&m, &xb, &yb).unwrap();
            let o = Outcome {
                name: "PGD",
                norm: Norm::Linf,
                eps: EPS_LINF,
                adv: pgd(&m, &xb, &yb, EPS_LINF, PGD, None).unwrap(),
            };
            let what = format!("{backend} PGD, own random start");
            let (loss, dist) = check_outcome(&what, &m, &xb, &yb, clean, &o);
            eprintln!("{what}: loss {clean:.4} -> {loss:.4}, max Linf distance {dist:.5}");
        }
    }

    /// Foolbox's pattern, one input and several epsilons, on every
    /// backend's own tensor type: the attacks borrow the caller's native
    /// tensor (`ep::astensor(&x)` shares its storage), so FGSM runs twice on
    /// it, each result as ndarray's, and the input is unchanged.
    #[test]
    fn one_native_input_attacked_twice_on_every_backend() {
        let (model, x, y, _) = setup();
        let half = fgsm(&model, &x, &y, EPS_LINF / 2.0).unwrap();
        let full = fgsm(&model, &x, &y, EPS_LINF).unwrap();
        // Both attacks on one native input; what the input holds after.
        fn twice<T: ep::Native>(m: &Model, x: &T, y: &EagerTensor) -> [EagerTensor; 3] {
            let a: T = fgsm(m, x, y, EPS_LINF / 2.0).unwrap();
            let b: T = fgsm(m, x, y, EPS_LINF).unwrap();
            [ep::astensor(a), ep::astensor(b), ep::astensor(x)]
        }
        for backend in Backend::enabled() {
            let m = model.to_backend(backend).unwrap();
            let (xb, yb) = (
                x.to_backend(backend).unwrap(),
                y.to_backend(backend).unwrap(),
            );
            let outs = match backend {
                Backend::NdArray => {
                    let xn: ep::ndarray::ArrayD<f32> = xb.into_raw().unwrap();
                    twice(&m, &xn, &yb)
                }
                #[cfg(feature = "torch")]
                Backend::Torch => twice(&m, &xb.into_raw::<ep::tch::Tensor>().unwrap(), &yb),
                #[cfg(feature = "tensorflow")]
                Backend::TensorFlow => {
                    use ep::tensorflow::eager::TensorHandle;
                    twice(&m, &xb.into_raw::<TensorHandle<'static>>().unwrap(), &yb)
                }
                #[cfg(feature = "xla")]
                Backend::Xla => twice(&m, &xb.into_raw::<ep::XlaTensor>().unwrap(), &yb),
                #[cfg(feature = "candle")]
                Backend::Candle => {
                    twice(&m, &xb.into_raw::<ep::candle_core::Tensor>().unwrap(), &yb)
                }
                #[allow(unreachable_patterns)]
                _ => unreachable!("every enabled backend has an arm"),
            };
            let host = |t: &EagerTensor| t.to_backend(Backend::NdArray).unwrap();
            let [a, b, input] = outs.each_ref().map(host);
            assert_eq!(
                max_abs_diff(&input, &x),
                0.0,
                "{backend}: the input changed"
            );
            for (got, want, what) in [(&a, &half, "eps/2"), (&b, &full, "eps")] {
                let diff = max_abs_diff(got, want);
                assert!(diff <= AGREE, "{backend} FGSM {what} differs by {diff}");
            }
            assert!(
                max_abs_diff(&a, &b) > 0.0,
                "{backend}: both epsilons gave one result"
            );
        }
    }

    /// The attacks hand back the caller's native type.
    #[test]
    fn native_types_come_back() {
        let (model, x, y, start) = setup();
        let reference = attack_all(&model, &x, &y, Some(start.clone())).unwrap();

        let xa: ep::ndarray::ArrayD<f32> = x.clone().into_raw().unwrap();
        let ya: ep::ndarray::ArrayD<i64> = y.clone().into_raw().unwrap();
        let xa_copy = xa.clone();
        let adv: ep::ndarray::ArrayD<f32> = fgsm(&model, &xa, &ya, EPS_LINF).unwrap();
        assert_eq!(adv.shape(), xa.shape());
        assert_eq!(max_abs_diff(&ep::astensor(adv), &reference[0].adv), 0.0);
        let sa: ep::ndarray::ArrayD<f32> = start.clone().into_raw().unwrap();
        let adv: ep::ndarray::ArrayD<f32> =
            pgd(&model, &xa, &ya, EPS_LINF, PGD, Some(&sa)).unwrap();
        assert_eq!(max_abs_diff(&ep::astensor(adv), &reference[2].adv), 0.0);
        let adv: ep::ndarray::ArrayD<f32> = reference[2].adv.clone().into_raw().unwrap();
        let d: ep::ndarray::ArrayD<f32> = Norm::Linf.distance(xa_copy, adv).unwrap();
        assert_eq!(d.shape(), &[x.len()]);
        assert!(d.iter().all(|&d| f64::from(d) <= EPS_LINF + SLACK));

        #[cfg(feature = "torch")]
        {
            use ep::tch;
            let m = model.to_backend(Backend::Torch).unwrap();
            let xt: tch::Tensor = x.to_backend(Backend::Torch).unwrap().into_raw().unwrap();
            let yt: tch::Tensor = y.to_backend(Backend::Torch).unwrap().into_raw().unwrap();
            let adv: tch::Tensor = fgm(&m, &xt, &yt, EPS_L2).unwrap();
            assert_eq!(adv.size(), vec![x.len() as i64, 4]);
            let diff = max_abs_diff(
                &ep::astensor(adv).to_backend(Backend::NdArray).unwrap(),
                &reference[1].adv,
            );
            assert!(diff <= AGREE, "torch FGM differs by {diff}");
        }
    }

    #[test]
    fn helpers() {
        let t = EagerTensor::zeros(Backend::NdArray, [2, 3, 4], DType::F32).unwrap();
        assert_eq!(flatten(t.clone(), 1).unwrap().shape(), vec![2, 12]);
        assert_eq!(flatten(t.clone(), 0).unwrap().shape(), vec![24]);
        assert_eq!(flatten(t.clone(), 3).unwrap().shape(), vec![2, 3, 4, 1]);
        assert!(flatten(t.clone(), 4).is_err());
        let v = EagerTensor::zeros(Backend::NdArray, [2], DType::F32).unwrap();
        assert_eq!(atleast_kd(v.clone(), 3).unwrap().shape(), vec![2, 1, 1]);
        assert_eq!(atleast_kd(t, 2).unwrap().shape(), vec![2, 3, 4]);
        let x =
            EagerTensor::from_vec(Backend::NdArray, vec![0.0f32, 0.0, 0.5, 0.5], [2, 2]).unwrap();
        let p =
            EagerTensor::from_vec(Backend::NdArray, vec![0.3f32, 0.4, 0.5, 0.0], [2, 2]).unwrap();
        let l2: EagerTensor = Norm::L2.distance(x.clone(), p.clone()).unwrap();
        let linf: EagerTensor = Norm::Linf.distance(x, p).unwrap();
        let close = |t: &EagerTensor, want: [f32; 2]| {
            let got = t.to_vec::<f32>().unwrap();
            got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6)
        };
        assert!(close(&l2, [0.5, 0.5]), "{l2}");
        assert!(close(&linf, [0.4, 0.5]), "{linf}");
    }
}
