//! A downstream program: one generic function, written once over
//! `T: ep::Native`, run on the native tensor type of every backend; each
//! call gets back the type it passed in. Exits non-zero on a wrong value.

use eager_tensor::{self as ep, candle_core, tch, tensorflow as tf, Backend, EagerTensor, XlaTensor};
use std::process::ExitCode;

/// EagerPy's L2 norm, for any framework's native tensor.
fn l2<T: ep::Native>(x: T) -> ep::Result<T> {
    ep::astensor(x).square()?.sum()?.sqrt()?.into_raw()
}

const VALUES: [f32; 3] = [3.0, 4.0, 12.0];
const EXPECTED: f32 = 13.0;

fn run() -> Result<Vec<(&'static str, f32)>, Box<dyn std::error::Error>> {
    // ndarray
    let a = ep::ndarray::arr1(&VALUES).into_dyn();
    let n: ep::ndarray::ArrayD<f32> = l2(a)?;
    let nd = n[[]];

    // PyTorch: a tch::Tensor in, a tch::Tensor out.
    let t: tch::Tensor = l2(tch::Tensor::from_slice(&VALUES))?;
    let torch = t.double_value(&[]) as f32;

    // TensorFlow: an eager handle of the backend's context.
    let ctx = ep::backends::tensorflow::context()?;
    let h = tf::Tensor::<f32>::new(&[VALUES.len() as u64])
        .with_values(&VALUES)?
        .into_handle(ctx)?;
    let h: tf::eager::TensorHandle<'static> = l2(h)?;
    let tensorflow = h.resolve::<f32>()?[0];

    // XLA through the PJRT plugin: an XlaTensor in, an XlaTensor out.
    let x: XlaTensor =
        EagerTensor::from_vec(Backend::Xla, VALUES.to_vec(), &[VALUES.len()])?.into_raw()?;
    let x: XlaTensor = l2(x)?;
    let xla = ep::astensor(x).item::<f32>()?;

    // Candle (pure Rust, nothing to set up): a candle_core::Tensor in and out.
    let c = candle_core::Tensor::new(&VALUES, &candle_core::Device::Cpu)?;
    let c: candle_core::Tensor = l2(c)?;
    let candle = c.to_scalar::<f32>()?;

    Ok(vec![
        ("ndarray", nd),
        ("torch", torch),
        ("tensorflow", tensorflow),
        ("xla", xla),
        ("candle", candle),
    ])
}

fn main() -> ExitCode {
    let results = match run() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("downstream: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut ok = true;
    for (backend, value) in results {
        let good = (value - EXPECTED).abs() <= 1e-5;
        ok &= good;
        println!(
            "l2({VALUES:?}) on {backend:<10} = {value} {}",
            if good { "ok" } else { "MISMATCH, expected 13" }
        );
    }
    if ok {
        println!("downstream: all backends agree");
        ExitCode::SUCCESS
    } else {
        eprintln!("downstream: mismatch");
        ExitCode::FAILURE
    }
}
