//! The checks of the conformance table beside its per-backend runs (which
//! are the shared suites of `tests/suites/`, run by each backend crate:
//! `cargo test -p eager-torch conformance`): exact cases compare bitwise,
//! the table covers the API, promotion matches NumPy and JAX, and the
//! table holds under `ep::jit` on xla.

#[path = "conformance/checks.rs"]
mod checks;
// Its per-backend run (`table`) is the backend crates' to call.
#[allow(dead_code)]
#[path = "suites/conformance.rs"]
mod suite;
