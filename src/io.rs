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
use eager_core::exchange::AlignedBytes;
use safetensors::tensor::{Dtype as St, TensorView};
use std::path::Path;

mod header;
use header::isolated;

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

fn io_err(op: &'static str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::invalid(op, format!("{}: {e}", path.display()))
}

/// Writes named tensors (any backends, any dtypes) to a `.safetensors`
/// file. Names must be unique.
pub fn save_safetensors(path: impl AsRef<Path>, tensors: &[(&str, &EagerTensor)]) -> Result<()> {
    let op = "save_safetensors";
    let path = path.as_ref();
    check_names(op, tensors)?;
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
///
/// Memory: about the file's size once. The file is memory-mapped only so
/// that the format's crate can validate the header against the file's
/// length without reading it; each tensor is then read from the file
/// straight into the memory its tensor keeps: a vector on ndarray and
/// candle, 64-byte-aligned memory that torch, TensorFlow and xla adopt
/// without a copy (see [`EagerTensor::to_backend`]).
pub fn load_safetensors(
    path: impl AsRef<Path>,
    backend: Backend,
) -> Result<Vec<(String, EagerTensor)>> {
    let op = "load_safetensors";
    let path = path.as_ref();
    let mut file = std::fs::File::open(path).map_err(|e| io_err(op, path, e))?;
    // SAFETY: the map is read only here, by `read_metadata`, before any
    // other use of the file; a file truncated meanwhile by another process
    // is the one thing a map cannot guard against (SIGBUS), as for every
    // mmap-based reader (the safetensors crate documents the same use).
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| io_err(op, path, e))?;
    header::check_safetensors(&map).map_err(|e| io_err(op, path, e))?;
    let (header_len, meta) = isolated(op, &path.display(), || {
        safetensors::SafeTensors::read_metadata(&map).map_err(|e| io_err(op, path, e))
    })?;
    drop(map);
    let data_start = (8 + header_len) as u64;
    let mut infos: Vec<(String, &safetensors::tensor::TensorInfo)> =
        meta.tensors().into_iter().collect();
    infos.sort_by(|a, b| a.0.cmp(&b.0));
    infos
        .into_iter()
        .map(|(name, info)| {
            let d = dtype_of(op, info.dtype)?;
            let n = eager_core::shape::check_size(op, &info.shape, d)?;
            // `read_metadata` checked that the offsets tile the data and
            // fit the file, and that each length is shape × dtype.
            let offset = data_start + info.data_offsets.0 as u64;
            let err = |e: &dyn std::fmt::Display| io_err(op, path, format!("tensor {name:?}: {e}"));
            let not_bool = || err(&"a bool byte is not 0 or 1");
            let aligned = with_backend!(op, backend, |B| Ok(
                <B as eager_core::Capabilities>::ADOPTS_ALIGNED_HOST
            ))?;
            let t = if !aligned {
                // A backend that does not adopt aligned memory (ndarray,
                // Candle) keeps the vector itself.
                let host = read_host(&mut file, offset, d, n).map_err(|e| err(&e))?;
                EagerTensor::from_host(backend, host.ok_or_else(not_bool)?, &info.shape)?
            } else {
                // 64-byte-aligned memory, which the backend adopts without
                // a copy (torch, TensorFlow, xla).
                let mut bytes =
                    AlignedBytes::zeroed(n * d.size_of()).ok_or_else(|| err(&"out of memory"))?;
                read_at(&mut file, offset, bytes.as_mut_bytes()).map_err(|e| err(&e))?;
                let buf = bytes
                    .into_host_buffer(d, &info.shape)
                    .ok_or_else(not_bool)?;
                EagerTensor::adopt_host(backend, buf)?
            };
            Ok((name, t))
        })
        .collect()
}

/// `n` little-endian elements of `d` at `offset`, read straight into
/// their vector (`None` for a bool byte other than 0 or 1).
fn read_host(
    file: &mut std::fs::File,
    offset: u64,
    d: DType,
    n: usize,
) -> std::io::Result<Option<HostData>> {
    if d == DType::Bool {
        // Read as bytes and checked: a bool of any other value would be
        // undefined behaviour.
        let mut bytes = vec![0u8; n];
        read_at(file, offset, &mut bytes)?;
        if bytes.iter().any(|&b| b > 1) {
            return Ok(None);
        }
        return Ok(Some(HostData::Bool(
            bytes.into_iter().map(|b| b != 0).collect(),
        )));
    }
    let mut host = HostData::zeroed(d, n);
    match host.as_bytes_mut() {
        Some(bytes) => read_at(file, offset, bytes)?,
        None => return Ok(None),
    }
    Ok(Some(host))
}

/// Fills `buf` from `offset` of the file (little-endian data: checked).
fn read_at(file: &mut std::fs::File, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    if !cfg!(target_endian = "little") {
        return Err(std::io::Error::other("reading needs a little-endian host"));
    }
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// The format of a path, from its extension.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    Safetensors,
    Npy,
    Npz,
}

fn format_of(op: &'static str, path: &Path) -> Result<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("safetensors") => Ok(Format::Safetensors),
        Some("npy") => Ok(Format::Npy),
        Some("npz") => Ok(Format::Npz),
        _ => Err(Error::invalid(
            op,
            format!(
                "{}: the extension must be .safetensors, .npz or .npy",
                path.display()
            ),
        )),
    }
}

/// Writes named tensors to `path` in the format its extension names:
/// `.safetensors` ([`save_safetensors`]), `.npz` ([`save_npz`]) or `.npy`
/// ([`save_npy`], which holds exactly one tensor, whose name is not kept).
///
/// ```
/// use eager_tensor as ep;
/// let dir = std::env::temp_dir().join(format!("ep-save-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let w = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1.0f32, 2.0], &[2])?;
/// for file in ["w.safetensors", "w.npz", "w.npy"] {
///     ep::save(dir.join(file), &[("w", &w)])?;
///     let back = ep::load(dir.join(file), ep::Backend::NdArray)?;
///     assert_eq!((back[0].0.as_str(), back[0].1.to_vec::<f32>()?), ("w", vec![1.0, 2.0]));
/// }
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), ep::Error>(())
/// ```
pub fn save(path: impl AsRef<Path>, tensors: &[(&str, &EagerTensor)]) -> Result<()> {
    let path = path.as_ref();
    match format_of("save", path)? {
        Format::Safetensors => save_safetensors(path, tensors),
        Format::Npz => save_npz(path, tensors),
        Format::Npy => match tensors {
            [(_, t)] => save_npy(path, t),
            _ => Err(Error::invalid(
                "save",
                format!(
                    "{}: a .npy file holds one tensor, not {}",
                    path.display(),
                    tensors.len()
                ),
            )),
        },
    }
}

/// Reads every tensor of `path` onto `backend`, sorted by name, in the
/// format its extension names (see [`save`]); a `.npy` file gives one
/// tensor named after the file's stem.
///
/// ```
/// use eager_tensor as ep;
/// let path = std::env::temp_dir().join(format!("ep-load-{}.npz", std::process::id()));
/// let a = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![1i32, 2, 3], &[3])?;
/// let b = ep::EagerTensor::from_vec(ep::Backend::NdArray, vec![0.5f64], &[])?;
/// ep::save(&path, &[("b", &b), ("a", &a)])?;
/// let back = ep::load(&path, ep::Backend::NdArray)?; // sorted by name
/// assert_eq!((back[0].0.as_str(), back[0].1.to_vec::<i32>()?), ("a", vec![1, 2, 3]));
/// assert_eq!((back[1].0.as_str(), back[1].1.item::<f64>()?), ("b", 0.5));
/// # std::fs::remove_file(&path).unwrap();
/// assert_eq!(ep::load("weights.txt", ep::Backend::NdArray).unwrap_err().op(), "load");
/// # Ok::<(), ep::Error>(())
/// ```
pub fn load(path: impl AsRef<Path>, backend: Backend) -> Result<Vec<(String, EagerTensor)>> {
    let path = path.as_ref();
    match format_of("load", path)? {
        Format::Safetensors => load_safetensors(path, backend),
        Format::Npz => load_npz(path, backend),
        Format::Npy => {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(vec![(name, load_npy(path, backend)?)])
        }
    }
}

/// One tensor as `.npy` bytes into an npyz writer (the same for a file
/// and for an entry of an `.npz` archive).
fn write_npy<W: std::io::Write>(
    op: &'static str,
    t: &EagerTensor,
    builder: impl NpyBuilder<W>,
) -> Result<std::io::Result<()>> {
    let shape: Vec<u64> = t.shape().iter().map(|&d| d as u64).collect();
    fn write<T: npyz::AutoSerialize, W: std::io::Write>(
        b: npyz::write_options::WithWriter<W, npyz::WriteOptions<T>>,
        shape: &[u64],
        v: Vec<T>,
    ) -> std::io::Result<()> {
        use npyz::WriterBuilder;
        let mut w = b.default_dtype().shape(shape).begin_nd()?;
        w.extend(v)?;
        w.finish()
    }
    let host = t.to_host_data()?;
    macro_rules! go {
        ($v:expr) => {
            match builder.builder() {
                Ok(b) => write(b, &shape, $v),
                Err(e) => Err(e),
            }
        };
    }
    Ok(match host {
        HostData::Bool(v) => go!(v),
        HostData::U8(v) => go!(v),
        HostData::I8(v) => go!(v),
        HostData::I16(v) => go!(v),
        HostData::U16(v) => go!(v),
        HostData::I32(v) => go!(v),
        HostData::U32(v) => go!(v),
        HostData::I64(v) => go!(v),
        HostData::U64(v) => go!(v),
        HostData::F16(v) => go!(v),
        HostData::F32(v) => go!(v),
        HostData::F64(v) => go!(v),
        HostData::BF16(_) => return Err(bf16_refused(op, None)),
    })
}

/// Makes the npyz writer of one element type: a `.npy` file, or the next
/// entry of an `.npz` archive.
trait NpyBuilder<W> {
    fn builder<T: npyz::Serialize>(
        self,
    ) -> std::io::Result<npyz::write_options::WithWriter<W, npyz::WriteOptions<T>>>;
}

struct NpyFileBuilder(std::fs::File);
impl NpyBuilder<std::io::BufWriter<std::fs::File>> for NpyFileBuilder {
    fn builder<T: npyz::Serialize>(
        self,
    ) -> std::io::Result<
        npyz::write_options::WithWriter<std::io::BufWriter<std::fs::File>, npyz::WriteOptions<T>>,
    > {
        use npyz::WriterBuilder;
        Ok(npyz::WriteOptions::new().writer(std::io::BufWriter::new(self.0)))
    }
}

type NpzFile = npyz::npz::NpzWriter<std::io::BufWriter<std::fs::File>>;
struct NpzEntryBuilder<'a>(&'a mut NpzFile, &'a str, usize);
impl<'a> NpyBuilder<&'a mut zip::ZipWriter<std::io::BufWriter<std::fs::File>>>
    for NpzEntryBuilder<'a>
{
    fn builder<T: npyz::Serialize>(
        self,
    ) -> std::io::Result<
        npyz::write_options::WithWriter<
            &'a mut zip::ZipWriter<std::io::BufWriter<std::fs::File>>,
            npyz::WriteOptions<T>,
        >,
    > {
        // Stored, like numpy.savez; ZIP64 entries past 4 GiB.
        let options = zip::write::FileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(self.2 >= u32::MAX as usize - 1024);
        self.0.array::<T>(self.1, options)
    }
}

/// Writes one tensor to a NumPy `.npy` file (C order, little-endian). bf16
/// is not a NumPy dtype: a `dtype` error (cast to f32 first).
pub fn save_npy(path: impl AsRef<Path>, t: &EagerTensor) -> Result<()> {
    let op = "save_npy";
    let path = path.as_ref();
    if t.dtype() == DType::BF16 {
        // Before the file is created.
        return Err(bf16_refused(op, None));
    }
    let file = std::fs::File::create(path).map_err(|e| io_err(op, path, e))?;
    write_npy(op, t, NpyFileBuilder(file))?.map_err(|e| io_err(op, path, e))
}

/// Writes named tensors to a NumPy `.npz` archive (what `numpy.savez`
/// writes: one `.npy` per name, stored uncompressed; `numpy.load` reads
/// it). Names must be unique; bf16 is a `dtype` error as for
/// [`save_npy`].
pub fn save_npz(path: impl AsRef<Path>, tensors: &[(&str, &EagerTensor)]) -> Result<()> {
    let op = "save_npz";
    let path = path.as_ref();
    check_names(op, tensors)?;
    if let Some((n, _)) = tensors.iter().find(|(_, t)| t.dtype() == DType::BF16) {
        return Err(bf16_refused(op, Some(n)));
    }
    let mut npz = NpzFile::create(path).map_err(|e| io_err(op, path, e))?;
    for (name, t) in tensors {
        let bytes = t.shape().iter().product::<usize>() * t.dtype().size_of();
        write_npy(op, t, NpzEntryBuilder(&mut npz, name, bytes))?
            .map_err(|e| io_err(op, path, format!("tensor {name:?}: {e}")))?;
    }
    npz.zip_writer()
        .finish()
        .map(drop)
        .map_err(|e| io_err(op, path, e))
}

/// Reads a NumPy `.npy` file onto `backend` (C or Fortran order, either
/// endianness). A malformed or truncated file, or a header whose shape
/// does not fit the data, is an `invalid` error naming the file; a dtype
/// eager-tensor lacks (complex, strings, records) a `dtype` error.
pub fn load_npy(path: impl AsRef<Path>, backend: Backend) -> Result<EagerTensor> {
    let op = "load_npy";
    let path = path.as_ref();
    let mut file = std::fs::File::open(path).map_err(|e| io_err(op, path, e))?;
    let len = file.metadata().map_err(|e| io_err(op, path, e))?.len();
    check_npy_prefix(&mut file).map_err(|e| io_err(op, path, e))?;
    use std::io::Seek;
    file.rewind().map_err(|e| io_err(op, path, e))?;
    let what = path.display().to_string();
    isolated(op, &what, || {
        let npy =
            npyz::NpyFile::new(std::io::BufReader::new(file)).map_err(|e| io_err(op, path, e))?;
        read_npy(op, &what, npy, len, backend)
    })
}

/// Reads every array of a NumPy `.npz` archive (`numpy.savez` or
/// `numpy.savez_compressed`) onto `backend`, sorted by name. Errors as for
/// [`load_npy`], naming the file and the array.
pub fn load_npz(path: impl AsRef<Path>, backend: Backend) -> Result<Vec<(String, EagerTensor)>> {
    let op = "load_npz";
    let path = path.as_ref();
    let mut npz = npyz::npz::NpzArchive::open(path).map_err(|e| io_err(op, path, e))?;
    let mut names: Vec<String> = npz.array_names().map(str::to_string).collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let what = format!("{} (array {name:?})", path.display());
            let file = npyz::npz::file_name_from_array_name(&name);
            let bad = |e: &dyn std::fmt::Display| Error::invalid(op, format!("{what}: {e}"));
            let mut entry = npz.zip_archive().by_name(&file).map_err(|e| bad(&e))?;
            let size = entry.size();
            check_npy_prefix(&mut entry).map_err(|e| bad(&e))?;
            drop(entry);
            isolated(op, &what, || {
                let npy = npz
                    .by_name(&name)
                    .map_err(|e| bad(&e))?
                    .ok_or_else(|| bad(&"missing"))?;
                read_npy(op, &what, npy, size, backend)
            })
            .map(|t| (name, t))
        })
        .collect()
}

/// Reads the first bytes of a `.npy` stream and checks its header's shape
/// ([`header::check_npy`]) before the parser sees it.
fn check_npy_prefix(r: &mut impl std::io::Read) -> std::result::Result<(), String> {
    use std::io::Read;
    let mut prefix = Vec::new();
    r.take(header::NPY_PREFIX as u64)
        .read_to_end(&mut prefix)
        .map_err(|e| e.to_string())?;
    header::check_npy(&prefix)
}

/// One `.npy` stream onto `backend`; `available` bounds the bytes the
/// stream can hold, so a header declaring more is an error before anything
/// of its size is allocated.
fn read_npy<R: std::io::Read>(
    op: &'static str,
    what: &str,
    npy: npyz::NpyFile<R>,
    available: u64,
    backend: Backend,
) -> Result<EagerTensor> {
    let bad = |e: &dyn std::fmt::Display| Error::invalid(op, format!("{what}: {e}"));
    let shape: Vec<usize> = npy
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| bad(&"a dimension does not fit")))
        .collect::<Result<_>>()?;
    let fortran = npy.order() == npyz::Order::Fortran;
    let npyz::DType::Plain(ts) = npy.dtype() else {
        return Err(Error::dtype(
            op,
            format!("{what}: structured dtypes are not supported"),
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
                format!("{what}: NumPy dtype {ts} is not supported"),
            ))
        }
    };
    // A header claiming a huge shape: the size check's error, naming the file.
    let n = eager_core::shape::check_size(op, &shape, d).map_err(|e| match e {
        Error::Shape { op, msg } => Error::shape(op, format!("{what}: {msg}")),
        other => other,
    })?;
    if (n as u64).saturating_mul(d.size_of() as u64) > available {
        return Err(bad(&format_args!(
            "the header declares shape {shape:?} of {d} ({} bytes), more than the {available} bytes there are",
            n * d.size_of()
        )));
    }
    fn read<T: npyz::Deserialize, R: std::io::Read>(
        npy: npyz::NpyFile<R>,
    ) -> std::io::Result<Vec<T>> {
        npy.into_vec()
    }
    let e = |err: std::io::Error| bad(&err);
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
        return Err(bad(&format_args!(
            "{} values for shape {shape:?}",
            host.len()
        )));
    }
    if fortran && shape.len() > 1 {
        // Column-major data: the reversed shape in C order, transposed.
        let rev: Vec<usize> = shape.iter().rev().copied().collect();
        return EagerTensor::from_host(backend, host, &rev)?.transpose();
    }
    EagerTensor::from_host(backend, host, &shape)
}

fn bf16_refused(op: &'static str, name: Option<&str>) -> Error {
    let what = name.map(|n| format!("tensor {n:?}: ")).unwrap_or_default();
    Error::dtype(
        op,
        format!("{what}bf16 is not a NumPy dtype; cast to f32 first (or save as .safetensors)"),
    )
}

/// Unique names, for the writers of named maps.
fn check_names(op: &'static str, tensors: &[(&str, &EagerTensor)]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    match tensors.iter().find(|(n, _)| !seen.insert(*n)) {
        Some((n, _)) => Err(Error::invalid(op, format!("the name {n:?} is given twice"))),
        None => Ok(()),
    }
}
