//! The examples' command line, in one place: `--backend NAME`, `-h`/`--help`
//! and the example's own flags.

use eager_tensor::{self as ep, Backend};

/// The value of the argument after `flag`, or an error naming `flag`.
pub type Value<'a> = &'a mut dyn FnMut() -> Result<String, String>;

/// Parses the arguments: `--backend` (which must be compiled in) and
/// `-h`/`--help` (`usage` as the error) here, any other argument through
/// `flag(name, value)`, which returns `Ok(false)` for one it does not know.
pub fn parse(
    usage: &str,
    mut flag: impl FnMut(&str, Value) -> Result<bool, String>,
) -> Result<Backend, String> {
    let mut backend = Backend::NdArray;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--backend" => backend = value()?.parse().map_err(|e: ep::Error| e.to_string())?,
            "-h" | "--help" => return Err(usage.into()),
            other => {
                if !flag(other, &mut value)? {
                    return Err(format!("unknown argument {other:?} (try --help)"));
                }
            }
        }
    }
    if !backend.is_enabled() {
        return Err(format!(
            "the {backend} backend is not compiled in; enabled: {:?} (build with --features {backend})",
            Backend::enabled(),
        ));
    }
    Ok(backend)
}

/// `v` parsed as a number, or an error naming `flag`.
pub fn number<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    v.parse().map_err(|e| format!("{flag}: {e}"))
}
