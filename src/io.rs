//! Files: reading and writing tensors in the formats people already have.
//!
//! `.safetensors` (Hugging Face's format, what PyTorch and JAX checkpoints
//! are shared in): a named map of tensors, any backend, every dtype, through
//! the format's own crate (`safetensors`), which validates the header —
//! offsets inside the file, no overlaps, shape × dtype = byte length —
//! before any tensor is read. Data is little-endian (the format's, and this
//! host's).
//!
//! ```
//! use eager_tensor as ep;
//! let dir = std::env::temp_dir().join(format!("ep-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("weights.safetensors");
//! let w = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.5f32, -2.0, 3.0, 4.0], &[2, 2])?;
//! let b = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![7i64], &[1])?;
//! ep::save_safetensors(&path, &[("w", &w), ("b", &b)])?;
//! let back = ep::load_safetensors(&path, ep::Backend::NdArray)?;
//! assert_eq!(back[0].0, "b"); // sorted by name
//! assert_eq!(back[1].1.to_vec::<f32>()?, vec![1.5, -2.0, 3.0, 4.0]);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), ep::Error>(())
//! ```

use crate::{Backend, DType, EagerTensor, Error, HostData, Result};
use safetensors::tensor::{Dtype as St, TensorView};
use std::path::Path;

fn st_dtype(d: DType) -> St {
    match d {
        DType::Bool => St::BOOL,
        DType::U8 => St::U8,
        DType::I8 => St::I8,
        DType::I16 => St::I16,
        DType::U16 => St::U16,
        DType::I32 => St::I32,
        DType::U32 => St::U32,
        DType::I64 => St::I64,
        DType::U64 => St::U64,
        DType::F16 => St::F16,
        DType::BF16 => St::BF16,
        DType::F32 => St::F32,
        DType::F64 => St::F64,
    }
}

fn dtype_of(op: &'static str, d: St) -> Result<DType> {
    DType::ALL
        .into_iter()
        .find(|&x| st_dtype(x) == d)
        .ok_or_else(|| Error::dtype(op, format!("safetensors dtype {d:?} is not supported")))
}

/// Row-major little-endian bytes of one dtype as [`HostData`] (the
/// format's byte order; this host's, checked). Bool bytes must be 0 or 1.
fn host_from_le(op: &'static str, d: DType, bytes: &[u8]) -> Result<HostData> {
    if !cfg!(target_endian = "little") {
        return Err(Error::invalid(op, "reading needs a little-endian host"));
    }
    if d == DType::Bool {
        if let Some(v) = bytes.iter().find(|&&b| b > 1) {
            return Err(Error::invalid(
                op,
                format!("a bool byte is {v}, not 0 or 1"),
            ));
        }
    }
    Ok(HostData::from_ne_bytes(d, bytes.to_vec()))
}

fn io_err(op: &'static str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::invalid(op, format!("{}: {e}", path.display()))
}

/// Writes named tensors (any backends, any dtypes) to a `.safetensors`
/// file. Names must be unique.
pub fn save_safetensors(path: impl AsRef<Path>, tensors: &[(&str, &EagerTensor)]) -> Result<()> {
    let op = "save_safetensors";
    let path = path.as_ref();
    if !cfg!(target_endian = "little") {
        return Err(Error::invalid(op, "writing needs a little-endian host"));
    }
    let hosts = tensors
        .iter()
        .map(|(n, t)| Ok((*n, t.to_host_data()?, t.shape())))
        .collect::<Result<Vec<_>>>()?;
    let views = hosts
        .iter()
        .map(|(n, h, s)| {
            TensorView::new(st_dtype(h.dtype()), s.clone(), h.as_bytes())
                .map(|v| (n.to_string(), v))
                .map_err(|e| Error::invalid(op, format!("tensor {n:?}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize_to_file(views, None, path).map_err(|e| io_err(op, path, e))
}

/// Reads every tensor of a `.safetensors` file onto `backend`, sorted by
/// name. A malformed, truncated or lying file (a header that does not fit
/// the file, offsets outside the data, shape × dtype ≠ length) is an
/// `invalid` error naming the file; an unsupported dtype (float8, ...) a
/// `dtype` error naming it.
pub fn load_safetensors(
    path: impl AsRef<Path>,
    backend: Backend,
) -> Result<Vec<(String, EagerTensor)>> {
    let op = "load_safetensors";
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| io_err(op, path, e))?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| io_err(op, path, e))?;
    let mut names: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let view = st.tensor(&name).map_err(|e| io_err(op, path, e))?;
            let d = dtype_of(op, view.dtype())?;
            eager_core::shape::check_size(op, view.shape(), d)?;
            let host = host_from_le(op, d, view.data())?;
            let t = EagerTensor::from_host(backend, host, view.shape())?;
            Ok((name, t))
        })
        .collect()
}

/// Writes one tensor to a NumPy `.npy` file (C order, little-endian). bf16
/// is not a NumPy dtype: a `dtype` error (cast to f32 first).
pub fn save_npy(path: impl AsRef<Path>, t: &EagerTensor) -> Result<()> {
    let op = "save_npy";
    let path = path.as_ref();
    let shape: Vec<u64> = t.shape().iter().map(|&d| d as u64).collect();
    fn write<T: npyz::AutoSerialize>(path: &Path, shape: &[u64], v: Vec<T>) -> std::io::Result<()> {
        use npyz::WriterBuilder;
        let file = std::io::BufWriter::new(std::fs::File::create(path)?);
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .writer(file)
            .begin_nd()?;
        w.extend(v)?;
        w.finish()
    }
    let r = match t.to_host_data()? {
        HostData::Bool(v) => write(path, &shape, v),
        HostData::U8(v) => write(path, &shape, v),
        HostData::I8(v) => write(path, &shape, v),
        HostData::I16(v) => write(path, &shape, v),
        HostData::U16(v) => write(path, &shape, v),
        HostData::I32(v) => write(path, &shape, v),
        HostData::U32(v) => write(path, &shape, v),
        HostData::I64(v) => write(path, &shape, v),
        HostData::U64(v) => write(path, &shape, v),
        HostData::F16(v) => write(path, &shape, v),
        HostData::F32(v) => write(path, &shape, v),
        HostData::F64(v) => write(path, &shape, v),
        HostData::BF16(_) => {
            return Err(Error::dtype(
                op,
                "bf16 is not a NumPy dtype; cast to f32 first (or save as .safetensors)",
            ))
        }
    };
    r.map_err(|e| io_err(op, path, e))
}

/// Reads a NumPy `.npy` file onto `backend` (C or Fortran order, either
/// endianness). A malformed or truncated file, or a header whose shape
/// does not fit the data, is an `invalid` error naming the file; a dtype
/// eager-tensor lacks (complex, strings, records) a `dtype` error.
pub fn load_npy(path: impl AsRef<Path>, backend: Backend) -> Result<EagerTensor> {
    let op = "load_npy";
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| io_err(op, path, e))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| io_err(op, path, e))?;
    let shape: Vec<usize> = npy
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| io_err(op, path, "a dimension does not fit")))
        .collect::<Result<_>>()?;
    let fortran = npy.order() == npyz::Order::Fortran;
    let npyz::DType::Plain(ts) = npy.dtype() else {
        return Err(Error::dtype(
            op,
            format!("{}: structured dtypes are not supported", path.display()),
        ));
    };
    let d = match (ts.type_char(), ts.size_field()) {
        (npyz::TypeChar::Bool, 1) => DType::Bool,
        (npyz::TypeChar::Uint, 1) => DType::U8,
        (npyz::TypeChar::Int, 1) => DType::I8,
        (npyz::TypeChar::Int, 2) => DType::I16,
        (npyz::TypeChar::Uint, 2) => DType::U16,
        (npyz::TypeChar::Int, 4) => DType::I32,
        (npyz::TypeChar::Uint, 4) => DType::U32,
        (npyz::TypeChar::Int, 8) => DType::I64,
        (npyz::TypeChar::Uint, 8) => DType::U64,
        (npyz::TypeChar::Float, 2) => DType::F16,
        (npyz::TypeChar::Float, 4) => DType::F32,
        (npyz::TypeChar::Float, 8) => DType::F64,
        _ => {
            return Err(Error::dtype(
                op,
                format!("{}: NumPy dtype {ts} is not supported", path.display()),
            ))
        }
    };
    eager_core::shape::check_size(op, &shape, d)?;
    let n: usize = shape.iter().product();
    fn read<T: npyz::Deserialize>(npy: npyz::NpyFile<&[u8]>) -> std::io::Result<Vec<T>> {
        npy.into_vec()
    }
    let e = |err: std::io::Error| io_err(op, path, err);
    let host = match d {
        DType::Bool => HostData::Bool(read(npy).map_err(e)?),
        DType::U8 => HostData::U8(read(npy).map_err(e)?),
        DType::I8 => HostData::I8(read(npy).map_err(e)?),
        DType::I16 => HostData::I16(read(npy).map_err(e)?),
        DType::U16 => HostData::U16(read(npy).map_err(e)?),
        DType::I32 => HostData::I32(read(npy).map_err(e)?),
        DType::U32 => HostData::U32(read(npy).map_err(e)?),
        DType::I64 => HostData::I64(read(npy).map_err(e)?),
        DType::U64 => HostData::U64(read(npy).map_err(e)?),
        DType::F16 => HostData::F16(read(npy).map_err(e)?),
        DType::F32 => HostData::F32(read(npy).map_err(e)?),
        _ => HostData::F64(read(npy).map_err(e)?),
    };
    if host.len() != n {
        return Err(io_err(
            op,
            path,
            format!("{} values for shape {shape:?}", host.len()),
        ));
    }
    if fortran && shape.len() > 1 {
        // Column-major data: the reversed shape in C order, transposed.
        let rev: Vec<usize> = shape.iter().rev().copied().collect();
        return EagerTensor::from_host(backend, host, &rev)?.transpose();
    }
    EagerTensor::from_host(backend, host, &shape)
}
