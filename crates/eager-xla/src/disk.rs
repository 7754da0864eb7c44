//! Compiled programs kept across processes: a restart loads an executable
//! (under a millisecond) instead of compiling it again (≈ 20–30 ms each).
//!
//! Each program is a file `<cache>/xla-executables/<plugin>/<hash>.pjrt`:
//! the program text's length, the text, then the plugin's serialization of
//! the executable (`PJRT_Executable_Serialize`). `<plugin>` is a hash of
//! everything besides the program text that changes the compiled code
//! ([`Key`]): the plugin build (its path, size and modification time),
//! `XLA_FLAGS`, the client's create options and the host CPU (model name
//! and feature flags: XLA's CPU compiler targets the host's instruction
//! set), so a program compiled under any other of them is never loaded; a
//! load compares the stored text with the program, so a hash collision
//! compiles instead. Writes go to a temporary file renamed
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

/// What besides the program text makes the compiled code: a different
/// value of any part is a different cache folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The plugin build: its path, size and modification time.
    pub plugin: String,
    /// `XLA_FLAGS` (compiler flags read by the plugin), empty when unset.
    pub xla_flags: String,
    /// The PJRT client's create options ([`set_client_options`](crate::set_client_options)
    /// or `EAGER_TENSOR_XLA_CLIENT_OPTIONS`).
    pub client_options: String,
    /// The host CPU: architecture, model name and feature flags.
    pub cpu: String,
}

impl Key {
    /// The key of this process: its plugin, environment, client options
    /// and CPU; `None` when the plugin cannot be found.
    pub fn current() -> Option<Key> {
        let plugin = plugin_path().ok()?;
        let meta = std::fs::metadata(&plugin).ok()?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Some(Key {
            plugin: format!("{}:{}:{mtime}", plugin.display(), meta.len()),
            xla_flags: std::env::var("XLA_FLAGS").unwrap_or_default(),
            client_options: format!("{:?}", crate::client_options().ok()?),
            cpu: cpu_id(),
        })
    }

    /// The cache folder's name for this key.
    pub fn folder_name(&self) -> String {
        let id = format!(
            "{}\0{}\0{}\0{}",
            self.plugin, self.xla_flags, self.client_options, self.cpu
        );
        format!("{:016x}", fnv(id.as_bytes()))
    }
}

/// The host CPU as the compiler sees it: the architecture, then Linux's
/// `/proc/cpuinfo` model name and feature flags of the first processor
/// (elsewhere, on x86-64, the features `std::arch` detects).
fn cpu_id() -> String {
    let mut id = std::env::consts::ARCH.to_string();
    if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") {
        for key in ["model name", "flags", "Features", "CPU part"] {
            let line = info
                .lines()
                .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key));
            if let Some(v) = line.and_then(|l| l.split_once(':')) {
                id.push('|');
                id.push_str(v.1.trim());
            }
        }
        return id;
    }
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! features {
            ($($f:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($f) {
                    id.push('|');
                    id.push_str($f);
                }
            )*};
        }
        features!(
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "f16c",
            "bmi2",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512dq",
            "avx512vnni",
            "avx512bf16"
        );
    }
    id
}

/// The folder of this process's executables ([`Key`]), or `None` when the
/// disk cache is off or has no place.
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
        let dir = cache
            .join("xla-executables")
            .join(Key::current()?.folder_name());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each part of the key changes the folder, so a program compiled under
    /// other flags, options, plugin or CPU is a different cache entry.
    #[test]
    fn every_key_part_makes_a_different_cache_entry() {
        let base = Key {
            plugin: "/p/pjrt_c_api_cpu_plugin.so:123:456".into(),
            xla_flags: String::new(),
            client_options: "[]".into(),
            cpu: "x86_64|AMD EPYC|fpu avx2".into(),
        };
        let name = base.folder_name();
        assert_eq!(name, base.clone().folder_name(), "stable");
        assert_eq!(name.len(), 16);
        let variants = [
            Key {
                plugin: "/p/pjrt_c_api_cpu_plugin.so:123:457".into(),
                ..base.clone()
            },
            Key {
                xla_flags: "--xla_cpu_multi_thread_eigen=false".into(),
                ..base.clone()
            },
            Key {
                client_options: "[(\"cpu_device_count\", Int(1))]".into(),
                ..base.clone()
            },
            Key {
                cpu: "x86_64|Intel Xeon|fpu avx2 avx512f".into(),
                ..base.clone()
            },
        ];
        for v in &variants {
            assert_ne!(v.folder_name(), name, "{v:?}");
        }
        // Parts are separated: moving text between them is another key.
        let moved = Key {
            xla_flags: "a".into(),
            client_options: "[]".into(),
            ..base.clone()
        };
        let moved2 = Key {
            xla_flags: String::new(),
            client_options: "a[]".into(),
            ..base.clone()
        };
        assert_ne!(moved.folder_name(), moved2.folder_name());
    }

    /// This process's key names this CPU and the plugin it found.
    #[test]
    fn the_current_key_names_the_cpu() {
        let Some(k) = Key::current() else {
            return; // no plugin installed
        };
        assert!(k.cpu.starts_with(std::env::consts::ARCH), "{k:?}");
        #[cfg(target_os = "linux")]
        assert!(k.cpu.contains('|'), "model name and flags read: {k:?}");
        assert!(!k.plugin.is_empty(), "{k:?}");
    }
}
