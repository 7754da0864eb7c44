//! The PJRT client: finding the plugin, creating the client with its
//! options.

use std::path::PathBuf;
use std::ptr::null_mut;
use std::sync::Arc;

use super::ffi::{args, slot, AddressableDevicesArgs, Api, ClientCreateArgs, NamedValue, P};
use super::{PjrtError, Result};

/// The plugin path: `$EAGER_TENSOR_PJRT_PLUGIN`, else the cache folder that
/// `scripts/setup-xla.sh` fills.
pub fn plugin_path() -> std::result::Result<PathBuf, String> {
    let cache = std::env::var_os("EAGER_TENSOR_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/eager-tensor")));
    plugin_in(std::env::var_os("EAGER_TENSOR_PJRT_PLUGIN"), cache)
}

/// [`plugin_path`] given the variable's value and the cache folder.
fn plugin_in(
    plugin: Option<std::ffi::OsString>,
    cache: Option<PathBuf>,
) -> std::result::Result<PathBuf, String> {
    if let Some(p) = plugin {
        return Ok(PathBuf::from(p));
    }
    let cache =
        cache.ok_or_else(|| "neither EAGER_TENSOR_PJRT_PLUGIN nor HOME is set".to_string())?;
    let p = cache.join("pjrt-cpu-0.11.2/pjrt_c_api_cpu_plugin.so");
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "no PJRT plugin: EAGER_TENSOR_PJRT_PLUGIN is not set and {} does not exist; set it \
             up once with `eval \"$(bash {}/scripts/native-env.sh xla)\"` (downloads the plugin \
             into the cache folder; writes nothing into that checkout)",
            p.display(),
            checkout().display()
        ))
    }
}

/// The eager-tensor checkout this crate was built from (its scripts are
/// there).
fn checkout() -> PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// A PJRT client with its first addressable device.
pub struct Client {
    pub(super) api: Arc<Api>,
    pub(super) client: P,
    pub(super) device: P,
}

// SAFETY: see `Api`.
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

impl Drop for Client {
    fn drop(&mut self) {
        self.api.destroy(slot::CLIENT_DESTROY, self.client);
    }
}

/// An option for [`Client::with_options`]: an integer or a string.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// An integer option.
    Int(i64),
    /// A string option.
    Str(String),
}

impl Client {
    /// Creates a client on the loaded plugin.
    pub fn new(api: Arc<Api>) -> Result<Client> {
        Client::with_options(api, &[])
    }

    /// Creates a client with the plugin's create options (`PJRT_NamedValue`s:
    /// for the CPU plugin, e.g. `cpu_device_count`); the plugin refuses
    /// options it does not know.
    pub fn with_options(api: Arc<Api>, options: &[(&str, OptionValue)]) -> Result<Client> {
        let values: Vec<NamedValue> = options
            .iter()
            .map(|(name, v)| {
                let mut n: NamedValue = args();
                n.name = name.as_ptr();
                n.name_size = name.len();
                match v {
                    OptionValue::Int(i) => {
                        n.kind = 1;
                        n.value = *i as u64;
                        n.value_size = 1;
                    }
                    OptionValue::Str(s) => {
                        n.kind = 0;
                        n.value = s.as_ptr() as u64;
                        n.value_size = s.len();
                    }
                }
                n
            })
            .collect();
        let mut a: ClientCreateArgs = args();
        a.create_options = values.as_ptr() as P;
        a.num_options = values.len();
        api.call(slot::CLIENT_CREATE, &mut a)?;
        let mut client = Client {
            api,
            client: a.client,
            device: null_mut(),
        };
        let mut d: AddressableDevicesArgs = args();
        d.client = client.client;
        client.api.call(slot::CLIENT_ADDRESSABLE_DEVICES, &mut d)?;
        if d.num_devices == 0 || d.devices.is_null() {
            return Err(PjrtError(
                "the PJRT client has no addressable device".into(),
            ));
        }
        // SAFETY: the plugin returned an array of `num_devices` device pointers.
        client.device = unsafe { *d.devices };
        Ok(client)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pjrt::Client({:?})", self.api)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without the plugin, the error names the one command that installs
    /// it, with the path of this checkout's script.
    #[test]
    fn a_missing_plugin_names_the_set_up_command() {
        let empty = std::env::temp_dir().join("eager-xla-no-cache");
        let e = plugin_in(None, Some(empty)).unwrap_err();
        let script = checkout().join("scripts/native-env.sh");
        assert!(script.is_file(), "{}", script.display());
        assert!(
            e.contains(&format!(
                "bash {}/scripts/native-env.sh xla",
                checkout().display()
            )),
            "{e}"
        );
        let given = plugin_in(Some("/x/p.so".into()), None).unwrap();
        assert_eq!(given, PathBuf::from("/x/p.so"));
    }
}
