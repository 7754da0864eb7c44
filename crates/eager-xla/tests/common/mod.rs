//! Shared by eager-xla's integration tests.

/// Whether the PJRT plugin loads (scripts/setup-xla.sh installs it; CI
/// runs that): false with a message on a machine without it, a failure
/// under `CI`, so CI never skips silently.
pub fn plugin() -> bool {
    match eager_xla::client() {
        Ok(_) => true,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping: {e}");
            false
        }
        Err(e) => panic!("CI must have the PJRT plugin: {e}"),
    }
}
