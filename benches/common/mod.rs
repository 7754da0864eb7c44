//! Shared by the benches: criterion's estimates and the ratio table.

use std::path::PathBuf;

/// Reads criterion's point estimate (mean, ns) of one benchmark of this run.
pub fn estimate(group: &str, id: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    let path = target
        .join("criterion")
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let key = "\"mean\":{\"confidence_interval\":";
    let rest = &text[text.find(key)?..];
    let pe = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let num: String = rest[pe..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '-'))
        .collect();
    num.parse().ok()
}

/// Prints `ratio = b / a` for each group of two benchmarks `a` and `b`.
pub fn ratio_table(groups: &[&str], a: &str, b: &str) {
    println!(
        "\n{:<22} {:>14} {:>14} {:>8} {:>14}",
        "benchmark", a, b, "ratio", "difference"
    );
    for g in groups {
        if let (Some(x), Some(y)) = (estimate(g, a), estimate(g, b)) {
            println!(
                "{g:<22} {:>11.1} ns {:>11.1} ns {:>8.3} {:>11.1} ns",
                x,
                y,
                y / x,
                y - x
            );
        }
    }
}

/// Waits until `t` is computed. Only xla runs asynchronously (results come
/// back before the work is done, as in JAX); the other backends return
/// finished tensors, so this is a no-op for them.
#[allow(dead_code)]
pub fn ready(t: &eager_tensor::EagerTensor) {
    #[cfg(feature = "xla")]
    if let Ok(x) = t.as_raw::<eager_tensor::XlaTensor>() {
        x.buffer().block_until_ready().expect("xla result");
    }
    let _ = t;
}
