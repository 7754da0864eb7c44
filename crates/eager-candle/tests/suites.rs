//! The workspace's shared suites (`tests/suites/` at the root:
//! conformance, gradients, hostile inputs, properties) on this crate's
//! backend: `cargo test` here runs them, `cargo test conformance::candle`
//! one of them.

#[path = "../../../tests/common/mod.rs"]
mod common;
#[macro_use]
#[path = "../../../tests/suites/mod.rs"]
mod suites;

suites!(candle, Candle);
