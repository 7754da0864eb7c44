//! Compiled programs kept across processes: a restart loads an executable
//! (under a millisecond) instead of compiling it again (≈ 20–30 ms each).
//!
//! Each program is a file `<cache>/xla-executables/<plugin>/<hash>.pjrt`:
//! the program text's length, the text, then the plugin's serialization of
//! the executable (`PJRT_Executable_Serialize`). `<plugin>` names the
//! plugin build (its path, size and modification time), so another build
//! never loads it; a load compares the stored text with the program, so a
//! hash collision compiles instead. Writes go to a temporary file renamed
//! into place, so concurrent processes never read a half-written file. Any
//! failure to read, load or write falls back to compiling: the disk cache
//! only ever saves time.
//!
//! `<cache>` is `$EAGER_TENSOR_CACHE` or `~/.cache/eager-tensor`;
//! `EAGER_TENSOR_XLA_DISK_CACHE=0` turns it off. Files are not evicted;
//! delete the folder to reclaim the space (a few KB a program).

use crate::pjrt::{plugin_path, Client, Executable, PjrtError};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The environment variable that turns the disk cache off (`0`).
pub const DISK_CACHE_ENV: &str = "EAGER_TENSOR_XLA_DISK_CACHE";

/// FNV-1a, 64 bits: a stable hash (Rust's `DefaultHasher` may change
/// between releases, which would orphan every file).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// The folder of this plugin build's executables, or `None` when the disk
/// cache is off or has no place.
fn folder() -> Option<&'static PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        if std::env::var(DISK_CACHE_ENV).is_ok_and(|v| v.trim() == "0") {
            return None;
        }
        let cache = std::env::var_os("EAGER_TENSOR_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/eager-tensor"))
            })?;
        let plugin = plugin_path().ok()?;
        let meta = std::fs::metadata(&plugin).ok()?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let id = format!("{}:{}:{mtime}", plugin.display(), meta.len());
        let dir = cache
            .join("xla-executables")
            .join(format!("{:016x}", fnv(id.as_bytes())));
        std::fs::create_dir_all(&dir).ok()?;
        Some(dir)
    })
    .as_ref()
}

/// Where `program`'s executable is kept (`None` when the disk cache is off).
pub fn path_of(program: &str) -> Option<PathBuf> {
    Some(folder()?.join(format!("{:016x}.pjrt", fnv(program.as_bytes()))))
}

/// The executable for `program`: loaded from the disk cache when this
/// plugin build compiled it before, else compiled (and stored).
pub fn compile(client: &Arc<Client>, program: &str) -> Result<Executable, PjrtError> {
    let Some(path) = path_of(program) else {
        return client.compile(program);
    };
    if let Some(exe) = load(client, &path, program) {
        return Ok(exe);
    }
    let exe = client.compile(program)?;
    store(&exe, &path, program);
    Ok(exe)
}

fn load(client: &Arc<Client>, path: &std::path::Path, program: &str) -> Option<Executable> {
    let bytes = std::fs::read(path).ok()?;
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let text = bytes.get(8..8usize.checked_add(n)?)?;
    if text != program.as_bytes() {
        return None;
    }
    client.deserialize(&bytes[8 + n..]).ok()
}

fn store(exe: &Executable, path: &std::path::Path, program: &str) {
    let Ok(serialized) = exe.serialize() else {
        return;
    };
    let mut bytes = Vec::with_capacity(8 + program.len() + serialized.len());
    bytes.extend((program.len() as u64).to_le_bytes());
    bytes.extend(program.as_bytes());
    bytes.extend(serialized);
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = path.with_extension(format!(
        "tmp{}.{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    if std::fs::write(&tmp, &bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}
