//! Hand-written StableHLO programs, for tests and benchmarks that run
//! PJRT directly (a floor to compare the backend against). The backend's
//! own lowering of every op is in `tensor/emit/`, not here; it uses
//! `ty` and `tensor`. Public with the `bench-internals` feature only.

use super::ElementType;

/// The MLIR spelling of an element type.
pub fn ty(t: ElementType) -> &'static str {
    use ElementType::*;
    match t {
        Pred => "i1",
        S8 => "i8",
        S16 => "i16",
        S32 => "i32",
        S64 => "i64",
        U8 => "ui8",
        U16 => "ui16",
        U32 => "ui32",
        U64 => "ui64",
        F16 => "f16",
        BF16 => "bf16",
        F32 => "f32",
        F64 => "f64",
    }
}

/// `tensor<2x3xf32>` (or `tensor<f32>` for a scalar).
pub fn tensor(t: ElementType, dims: &[i64]) -> String {
    let mut s = String::from("tensor<");
    for d in dims {
        s.push_str(&format!("{d}x"));
    }
    s.push_str(ty(t));
    s.push('>');
    s
}

/// An element-wise op of two operands of one type and shape, e.g.
/// `stablehlo.add`.
pub fn binary(op: &str, t: ElementType, dims: &[i64]) -> String {
    let tt = tensor(t, dims);
    format!(
        "func.func @main(%a: {tt}, %b: {tt}) -> {tt} {{\n  %0 = stablehlo.{op} %a, %b : {tt}\n  return %0 : {tt}\n}}\n"
    )
}

/// An element-wise op of one operand, e.g. `stablehlo.exponential`.
pub fn unary(op: &str, t: ElementType, dims: &[i64]) -> String {
    let tt = tensor(t, dims);
    format!("func.func @main(%a: {tt}) -> {tt} {{\n  %0 = stablehlo.{op} %a : {tt}\n  return %0 : {tt}\n}}\n")
}

/// `[m, k] x [k, n]`.
pub fn matmul(t: ElementType, m: i64, k: i64, n: i64) -> String {
    let (a, b, c) = (tensor(t, &[m, k]), tensor(t, &[k, n]), tensor(t, &[m, n]));
    format!(
        "func.func @main(%a: {a}, %b: {b}) -> {c} {{\n  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : ({a}, {b}) -> {c}\n  return %0 : {c}\n}}\n"
    )
}

/// One training step of a 2-layer MLP, written by hand as a single
/// program: the mean squared error of `tanh(x w1 + b1) w2 + b2`
/// against `y` and its gradients, f32, `x: [batch, din]`,
/// `y: [batch, 1]`, `w1: [din, dh]`, `b1: [dh]`, `w2: [dh, 1]`,
/// `b2: [1]` → `(loss, dw1, db1, dw2, db2)`. The backward pass is the
/// chain rule spelled out (no autodiff), so a benchmark can compare
/// `ep::jit(value_and_grads(..))` with what a person would write.
pub fn mlp_step(batch: i64, din: i64, dh: i64) -> String {
    let f = ElementType::F32;
    let t = |d: &[i64]| tensor(f, d);
    let (x, y, w1, b1, w2, b2) = (
        t(&[batch, din]),
        t(&[batch, 1]),
        t(&[din, dh]),
        t(&[dh]),
        t(&[dh, 1]),
        t(&[1]),
    );
    let (hid, out, s) = (t(&[batch, dh]), t(&[batch, 1]), t(&[]));
    // d(mean((o - y)^2))/do = 2 (o - y) / n, n = batch outputs.
    let (n, two_over_n) = (batch as f32, 2.0 / batch as f32);
    format!(
        "func.func @main(%x: {x}, %y: {y}, %w1: {w1}, %b1: {b1}, %w2: {w2}, %b2: {b2}) -> ({s}, {w1}, {b1}, {w2}, {b2}) {{
  %xw = stablehlo.dot_general %x, %w1, contracting_dims = [1] x [0] : ({x}, {w1}) -> {hid}
  %bb1 = stablehlo.broadcast_in_dim %b1, dims = [1] : ({b1}) -> {hid}
  %z = stablehlo.add %xw, %bb1 : {hid}
  %h = stablehlo.tanh %z : {hid}
  %hw = stablehlo.dot_general %h, %w2, contracting_dims = [1] x [0] : ({hid}, {w2}) -> {out}
  %bb2 = stablehlo.broadcast_in_dim %b2, dims = [1] : ({b2}) -> {out}
  %o = stablehlo.add %hw, %bb2 : {out}
  %d = stablehlo.subtract %o, %y : {out}
  %sq = stablehlo.multiply %d, %d : {out}
  %zero = stablehlo.constant dense<0.000000e+00> : {s}
  %sum = stablehlo.reduce(%sq init: %zero) applies stablehlo.add across dimensions = [0, 1] : ({out}, {s}) -> {s}
  %n = stablehlo.constant dense<{n:.6e}> : {s}
  %loss = stablehlo.divide %sum, %n : {s}
  %c = stablehlo.constant dense<{two_over_n:.6e}> : {out}
  %go = stablehlo.multiply %d, %c : {out}
  %db2 = stablehlo.reduce(%go init: %zero) applies stablehlo.add across dimensions = [0] : ({out}, {s}) -> {b2}
  %dw2 = stablehlo.dot_general %h, %go, contracting_dims = [0] x [0] : ({hid}, {out}) -> {w2}
  %gh = stablehlo.dot_general %go, %w2, contracting_dims = [1] x [1] : ({out}, {w2}) -> {hid}
  %h2 = stablehlo.multiply %h, %h : {hid}
  %one = stablehlo.constant dense<1.000000e+00> : {hid}
  %dt = stablehlo.subtract %one, %h2 : {hid}
  %gz = stablehlo.multiply %gh, %dt : {hid}
  %db1 = stablehlo.reduce(%gz init: %zero) applies stablehlo.add across dimensions = [0] : ({hid}, {s}) -> {b1}
  %dw1 = stablehlo.dot_general %x, %gz, contracting_dims = [0] x [0] : ({x}, {hid}) -> {w1}
  return %loss, %dw1, %db1, %dw2, %db2 : {s}, {w1}, {b1}, {w2}, {b2}
}}
"
    )
}
