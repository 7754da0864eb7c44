//! File headers checked with overflow-safe arithmetic before a third-party
//! parser reads them, and those parsers run so that a panic inside one
//! becomes an error naming the file.
//!
//! The parsers (`npyz`, `safetensors`) validate most of a header, but
//! multiply a shape's dimensions, or add an offset to a length, unchecked:
//! a header declaring `(4294967296, 4294967296)` or offsets near 2⁶⁴
//! overflowed inside them. The checks here refuse such headers first; the
//! call is isolated as well, for whatever a future version of a parser
//! might do.

use crate::{Error, Result};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs a third-party parser's call: a panic inside it is an `invalid`
/// error of `op` naming `what` (the file, or the file and array).
pub(super) fn isolated<T>(
    op: &'static str,
    what: &dyn std::fmt::Display,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("a malformed header");
        Err(Error::invalid(
            op,
            format!("{what}: the file could not be parsed ({msg})"),
        ))
    })
}

/// The first bytes of a `.npy` stream that hold its header: magic, version,
/// length, and up to this many bytes of the header text.
pub(super) const NPY_PREFIX: usize = 10 + 64 * 1024;

/// Checks the shape a `.npy` header declares (the first bytes of the
/// stream): the product of its non-zero dimensions must fit in 64 bits
/// (so every partial product the parser forms does too). A header this
/// cannot read is left to the parser, which reports it.
pub(super) fn check_npy(prefix: &[u8]) -> std::result::Result<(), String> {
    let Some(shape) = npy_shape(prefix) else {
        return Ok(());
    };
    let mut n: u64 = 1;
    for &d in shape.iter().filter(|&&d| d != 0) {
        n = n.checked_mul(d).ok_or_else(|| {
            format!("the header declares shape {shape:?}, whose number of elements overflows")
        })?;
    }
    Ok(())
}

/// The dimensions of the `'shape': (...)` entry of a `.npy` header, if the
/// header is well-formed enough to find them.
fn npy_shape(prefix: &[u8]) -> Option<Vec<u64>> {
    let rest = prefix.strip_prefix(b"\x93NUMPY")?;
    let (&major, rest) = rest.split_first()?;
    let rest = rest.get(1..)?;
    let (len, text) = match major {
        1 => (
            u16::from_le_bytes(rest.get(..2)?.try_into().ok()?) as usize,
            &rest[2..],
        ),
        _ => (
            u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize,
            rest.get(4..)?,
        ),
    };
    let text = std::str::from_utf8(text.get(..len.min(text.len()))?).ok()?;
    let at = text.find("'shape'").or_else(|| text.find("\"shape\""))?;
    let after = &text[at + 7..];
    let open = after.find('(')?;
    let close = after[open..].find(')')? + open;
    after[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<u64>().ok())
        .collect()
}

/// Checks the data offsets a `.safetensors` header declares against the
/// file's length, before the format's crate adds them up: every offset
/// must lie within the file. `bytes` is the whole file (mapped).
pub(super) fn check_safetensors(bytes: &[u8]) -> std::result::Result<(), String> {
    let Some(len) = bytes.get(..8) else {
        return Ok(());
    };
    let n = u64::from_le_bytes(len.try_into().unwrap_or_default());
    let Some(header) = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_add(8))
        .and_then(|end| bytes.get(8..end))
    else {
        return Ok(());
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(header)
    else {
        return Ok(());
    };
    let data = (bytes.len() - 8 - header.len()) as u64;
    for (name, info) in map.iter().filter(|(k, _)| *k != "__metadata__") {
        let Some(offsets) = info.get("data_offsets").and_then(|o| o.as_array()) else {
            continue;
        };
        for o in offsets {
            if let Some(o) = o.as_u64().filter(|&o| o > data) {
                return Err(format!(
                    "tensor {name:?}: data offset {o} lies beyond the {data} bytes of data"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str) -> Vec<u8> {
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((header.len() as u16).to_le_bytes());
        b.extend(header.as_bytes());
        b
    }

    #[test]
    fn npy_shapes_whose_size_overflows_are_refused() {
        let ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
        assert_eq!(npy_shape(&npy(ok)), Some(vec![3, 4]));
        assert!(check_npy(&npy(ok)).is_ok());
        let big = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
        assert!(check_npy(&npy(big)).unwrap_err().contains("overflows"));
        // A zero dimension after two large ones: the parser's running
        // product overflows before it reaches the zero.
        let zero =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 0), }";
        assert!(check_npy(&npy(zero)).is_err());
        let scalar = "{'descr': '<f4', 'fortran_order': False, 'shape': (), }";
        assert_eq!(npy_shape(&npy(scalar)), Some(vec![]));
        assert!(check_npy(b"not a npy file").is_ok(), "left to the parser");
    }

    #[test]
    fn safetensors_offsets_beyond_the_file_are_refused() {
        let file = |h: &str, data: usize| {
            let mut b = (h.len() as u64).to_le_bytes().to_vec();
            b.extend(h.as_bytes());
            b.extend(vec![0u8; data]);
            b
        };
        let ok = r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#;
        assert!(check_safetensors(&file(ok, 4)).is_ok());
        let far = r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,18446744073709551615]}}"#;
        assert!(check_safetensors(&file(far, 4))
            .unwrap_err()
            .contains("beyond"));
    }

    #[test]
    fn a_panicking_parser_is_an_error_naming_the_file() {
        let e = isolated("load_npy", &"w.npy", || -> Result<()> { panic!("boom") }).unwrap_err();
        assert_eq!(e.kind(), "invalid");
        assert!(e.to_string().contains("w.npy") && e.to_string().contains("boom"));
    }
}
