//! `files/…`: malformed `.npy`, `.npz` and `.safetensors` files (shapes
//! whose size overflows, shapes larger than the data, truncated files, bad
//! magic, header lengths beyond the file, unsupported dtypes, bool bytes of
//! 2, offsets that overflow, overlap or lie beyond the file, non-UTF-8
//! headers), each written to a fresh file in the temp dir and loaded with
//! the format's loader and with `ep::load`. Every one is a clear error; a
//! valid file of each format is the control, and a valid 9-D tensor loads
//! on every backend that holds 9 dimensions (a `shape` error on the others:
//! candle, tensorflow).

use super::{Add, Expect};
use crate::common::Out;
use eager_tensor::{self as ep, Backend};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A path in the temp dir no other case (or process) uses.
fn fresh(ext: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("ep-hostile-{}-{n}.{ext}", std::process::id()))
}

/// `bytes` as a `.npy` file: magic, version 1.0, the header dict padded to
/// a multiple of 64 bytes, the data.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((h.len() as u16).to_le_bytes());
    v.extend(h.as_bytes());
    v.extend(data);
    v
}

/// A zip archive of stored entries, as `numpy.savez` writes.
fn npz(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        w.start_file(*name, options).expect("a zip entry");
        w.write_all(bytes).expect("a zip entry's bytes");
    }
    w.finish().expect("a zip archive").into_inner()
}

/// A `.safetensors` file: the header's length (u64, little-endian), the
/// header, the data.
fn safetensors(header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend(header);
    v.extend(data);
    v
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A loader of named tensors: `ep::load` and the loaders of each format.
type Loader = fn(&Path, Backend) -> ep::Result<Vec<(String, ep::EagerTensor)>>;

/// Writes `bytes` to a fresh file with extension `ext`, loads it on `b`
/// with `load`, removes it.
fn loaded(ext: &str, bytes: &[u8], b: Backend, load: Loader) -> Out {
    let path = fresh(ext);
    std::fs::write(&path, bytes).expect("write a temp file");
    let r = load(&path, b);
    std::fs::remove_file(&path).ok();
    r.map(|named| named.into_iter().map(|(_, t)| t).collect())
}

const LOAD_NPY: (&str, Loader) = ("load_npy", |p, b| {
    ep::load_npy(p, b).map(|t| vec![(String::new(), t)])
});
const LOAD_NPZ: (&str, Loader) = ("load_npz", |p, b| ep::load_npz(p, b));
const LOAD_ST: (&str, Loader) = ("load_safetensors", |p, b| ep::load_safetensors(p, b));
const LOAD: (&str, Loader) = ("load", |p, b| ep::load(p, b));

pub fn cases(add: &mut Add) {
    let overflowing = npy("<f4", "(4294967296, 4294967296)", &[0; 16]);
    let valid_npy = npy("<f4", "(2, 2)", &f32_bytes(&[1.0, -2.0, 0.5, 3.0]));
    let mut truncated_data = npy("<f4", "(4,)", &f32_bytes(&[1.0, 2.0, 3.0, 4.0]));
    truncated_data.truncate(truncated_data.len() - 1);
    let mut header_beyond = npy("<f4", "(2,)", &f32_bytes(&[1.0, 2.0]));
    header_beyond[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
    let mut v2_header_u32_max = b"\x93NUMPY\x02\x00".to_vec();
    v2_header_u32_max.extend(u32::MAX.to_le_bytes());
    v2_header_u32_max.extend(b"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n");
    let mut bad_magic = valid_npy.clone();
    bad_magic[1..6].copy_from_slice(b"NUMPX");

    let invalid = Expect::Err("invalid");
    let npys: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("valid", valid_npy.clone(), Expect::Ok),
        ("shape_2^32_squared", overflowing.clone(), invalid),
        (
            "shape_2^32_squared_and_0",
            npy("<f4", "(4294967296, 4294967296, 0)", &[]),
            Expect::Same,
        ),
        (
            "shape_beyond_data",
            npy("<f4", "(1000,)", &[0; 16]),
            invalid,
        ),
        ("truncated_header", valid_npy[..30].to_vec(), invalid),
        ("truncated_data", truncated_data, invalid),
        ("empty_file", Vec::new(), invalid),
        ("bad_magic", bad_magic, invalid),
        ("header_len_beyond_file", header_beyond, invalid),
        ("v2_header_len_u32_max", v2_header_u32_max, invalid),
        (
            "descr_c8",
            npy("<c8", "(2,)", &[0; 16]),
            Expect::Err("dtype"),
        ),
        ("bool_byte_2", npy("|b1", "(3,)", &[0, 1, 2]), invalid),
    ];
    for (what, bytes, expect) in npys {
        for (via, load) in [LOAD_NPY, LOAD] {
            let bytes = bytes.clone();
            add(
                format!("files/npy_{what}_{via}"),
                expect,
                Box::new(move |b| loaded("npy", &bytes, b, load)),
            );
        }
    }

    let npzs: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("valid", npz(&[("x.npy", valid_npy.clone())]), Expect::Ok),
        (
            "shape_2^32_squared",
            npz(&[("x.npy", overflowing.clone())]),
            invalid,
        ),
        (
            "second_entry_shape_2^32_squared",
            npz(&[("a.npy", valid_npy.clone()), ("x.npy", overflowing)]),
            invalid,
        ),
        ("not_a_zip", valid_npy, invalid),
    ];
    for (what, bytes, expect) in npzs {
        for (via, load) in [LOAD_NPZ, LOAD] {
            let bytes = bytes.clone();
            add(
                format!("files/npz_{what}_{via}"),
                expect,
                Box::new(move |b| loaded("npz", &bytes, b, load)),
            );
        }
    }

    let st = |header: &str, data: &[u8]| safetensors(header.as_bytes(), data);
    let two = f32_bytes(&[1.5, -2.0]);
    let mut header_u64_max = u64::MAX.to_le_bytes().to_vec();
    header_u64_max.extend(b"{}");
    let mut header_beyond = 1000u64.to_le_bytes().to_vec();
    header_beyond.extend(b"{\"x\":");
    let sts: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "valid",
            st(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}"#,
                &[two.clone(), (-7i64).to_le_bytes().to_vec()].concat(),
            ),
            Expect::Ok,
        ),
        (
            "offsets_to_u64_max",
            st(
                r#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}}"#,
                &two,
            ),
            invalid,
        ),
        (
            "offsets_from_u64_max",
            st(
                r#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551615,7]}}"#,
                &two,
            ),
            invalid,
        ),
        (
            "offsets_overlap",
            st(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                &[0; 12],
            ),
            invalid,
        ),
        (
            "offsets_beyond_file",
            st(
                r#"{"x":{"dtype":"F32","shape":[16],"data_offsets":[0,64]}}"#,
                &two,
            ),
            invalid,
        ),
        ("header_len_u64_max", header_u64_max, invalid),
        ("header_len_beyond_file", header_beyond, invalid),
        (
            "header_not_utf8",
            safetensors(
                b"{\"\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                &two,
            ),
            invalid,
        ),
        (
            "shape_2^32_squared",
            st(
                r#"{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
                &two,
            ),
            invalid,
        ),
        (
            "shape_2^32_squared_and_0",
            st(
                r#"{"x":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}"#,
                &[],
            ),
            Expect::Same,
        ),
        (
            "dtype_f8_e4m3",
            st(
                r#"{"x":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#,
                &[0x38, 0x40],
            ),
            Expect::Err("dtype"),
        ),
        (
            "bool_byte_2",
            st(
                r#"{"x":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}"#,
                &[1, 2],
            ),
            invalid,
        ),
        (
            "rank_9",
            st(
                r#"{"x":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}}"#,
                &f32_bytes(&[2.5]),
            ),
            Expect::Rank(9),
        ),
    ];
    for (what, bytes, expect) in sts {
        for (via, load) in [LOAD_ST, LOAD] {
            let bytes = bytes.clone();
            add(
                format!("files/safetensors_{what}_{via}"),
                expect,
                Box::new(move |b| loaded("safetensors", &bytes, b, load)),
            );
        }
    }
}
