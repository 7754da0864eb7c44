//! The suites every backend passes, each run by the backend's own crate on
//! that backend: its `tests/suites.rs` includes this folder and declares
//! the tests with [`suites!`], so `cargo test` in `crates/eager-torch`
//! runs them on torch, and `cargo test --workspace` on every backend.
//!
//! - [`conformance`]: the NumPy-generated table (`tests/data/conformance.json`);
//! - [`gradients`]: every differentiable op against finite differences;
//! - [`hostile`]: bad inputs in child processes, answers compared with ndarray's;
//! - [`properties`]: random shapes, dtypes and values compared with ndarray's.
//!
//! The hostile and property suites compare with ndarray, so the crate's
//! dev-dependency on the facade keeps ndarray (its default feature). The
//! including crate declares `tests/common/mod.rs` as `crate::common`.

pub mod conformance;
pub mod gradients;
pub mod hostile;
pub mod properties;

/// The suites' tests for one backend, each named `<suite>::<backend>`
/// (`conformance::torch`, `hostile::xla`, `binary_ops::candle`, ...), so
/// `cargo test conformance::torch` selects one; plus `hostile_child`, the
/// entry point of the hostile suite's child processes. `$module` is the
/// backend's module name and `$variant` its [`Backend`] variant; the
/// including crate declares this folder as `mod suites`.
///
/// [`Backend`]: eager_tensor::Backend
macro_rules! suites {
    ($module:ident, $variant:ident) => {
        suites!(@one conformance, $module, conformance::table, $variant);
        suites!(@one gradients, $module, gradients::run, $variant);
        suites!(@one hostile, $module, hostile::run, $variant);
        suites!(@one unary_ops_and_casts, $module, properties::unary_ops_and_casts_agree, $variant);
        suites!(@one binary_ops, $module, properties::binary_ops_agree_with_broadcasting, $variant);
        suites!(@one reductions, $module, properties::reductions_sorts_and_axes_agree, $variant);

        /// The entry point of the hostile suite's child processes.
        #[test]
        #[ignore = "the entry point of the hostile-input child processes"]
        fn hostile_child() {
            crate::suites::hostile::child()
        }
    };
    (@one $suite:ident, $module:ident, $($run:ident)::+, $variant:ident) => {
        mod $suite {
            #[test]
            fn $module() {
                crate::suites::$($run)::+(eager_tensor::Backend::$variant)
            }
        }
    };
}
