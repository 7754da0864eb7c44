//! The raw PJRT C API: the function table's slots, the `#[repr(C)]`
//! argument structs, and loading the plugin ([`Api`]).

use std::ffi::c_void;
use std::path::Path;
use std::sync::Arc;

#[cfg(doc)] // for doc links
use super::Client;
use super::{PjrtError, Result};

pub(super) type P = *mut c_void;

// Slots of the PJRT_Api function table (its declaration order, stable
// across minor versions), after the 40-byte header.
pub(super) mod slot {
    pub const ERROR_DESTROY: usize = 0;
    pub const ERROR_MESSAGE: usize = 1;
    pub const PLUGIN_INITIALIZE: usize = 3;
    pub const EVENT_DESTROY: usize = 5;
    pub const EVENT_AWAIT: usize = 8;
    pub const EVENT_ON_READY: usize = 9;
    pub const CLIENT_CREATE: usize = 10;
    pub const CLIENT_DESTROY: usize = 11;
    pub const CLIENT_ADDRESSABLE_DEVICES: usize = 16;
    pub const CLIENT_COMPILE: usize = 20;
    pub const CLIENT_BUFFER_FROM_HOST: usize = 22;
    pub const EXECUTABLE_DESTROY: usize = 40;
    pub const EXECUTABLE_NUM_OUTPUTS: usize = 44;
    pub const EXECUTABLE_SERIALIZE: usize = 49;
    pub const LOADED_EXECUTABLE_DESTROY: usize = 50;
    pub const LOADED_EXECUTABLE_GET_EXECUTABLE: usize = 51;
    pub const LOADED_EXECUTABLE_EXECUTE: usize = 55;
    pub const EXECUTABLE_DESERIALIZE_AND_LOAD: usize = 56;
    pub const BUFFER_DESTROY: usize = 58;
    pub const BUFFER_GET_MEMORY_LAYOUT: usize = 63;
    pub const BUFFER_TO_HOST: usize = 70;
    pub const BUFFER_READY_EVENT: usize = 72;
    pub const BUFFER_IS_ON_CPU: usize = 71;
    pub const BUFFER_UNSAFE_POINTER: usize = 73;
    pub const BUFFER_INCREASE_EXTERNAL_REF: usize = 74;
    pub const BUFFER_DECREASE_EXTERNAL_REF: usize = 75;
}

#[repr(C)]
pub(super) struct ErrorDestroyArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) error: P,
}
#[repr(C)]
pub(super) struct ErrorMessageArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) error: P,
    pub(super) message: *const u8,
    pub(super) message_size: usize,
}
#[repr(C)]
pub(super) struct PluginInitializeArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
}
/// The shape of every `*_Destroy` and `Event_Await` call: one handle.
#[repr(C)]
pub(super) struct HandleArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) handle: P,
}
#[repr(C)]
pub(super) struct ClientCreateArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) create_options: P,
    pub(super) num_options: usize,
    pub(super) kv_get_callback: P,
    pub(super) kv_get_user_arg: P,
    pub(super) kv_put_callback: P,
    pub(super) kv_put_user_arg: P,
    pub(super) client: P,
    pub(super) kv_try_get_callback: P,
    pub(super) kv_try_get_user_arg: P,
}
#[repr(C)]
pub(super) struct AddressableDevicesArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) client: P,
    pub(super) devices: *const P,
    pub(super) num_devices: usize,
}
#[repr(C)]
pub(super) struct Program {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) code: *const u8,
    pub(super) code_size: usize,
    pub(super) format: *const u8,
    pub(super) format_size: usize,
}
#[repr(C)]
pub(super) struct CompileArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) client: P,
    pub(super) program: *const Program,
    pub(super) compile_options: *const u8,
    pub(super) compile_options_size: usize,
    pub(super) executable: P,
}
#[repr(C)]
pub(super) struct BufferFromHostArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) client: P,
    pub(super) data: *const c_void,
    pub(super) element_type: i32,
    pub(super) dims: *const i64,
    pub(super) num_dims: usize,
    pub(super) byte_strides: *const i64,
    pub(super) num_byte_strides: usize,
    pub(super) host_buffer_semantics: i32,
    pub(super) device: P,
    pub(super) memory: P,
    pub(super) device_layout: P,
    pub(super) done_with_host_buffer: P,
    pub(super) buffer: P,
}
#[repr(C)]
pub(super) struct ExecuteOptions {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) send_callbacks: P,
    pub(super) recv_callbacks: P,
    pub(super) num_send_ops: usize,
    pub(super) num_recv_ops: usize,
    pub(super) launch_id: i32,
    pub(super) non_donatable_input_indices: *const i64,
    pub(super) num_non_donatable_input_indices: usize,
    pub(super) context: P,
    pub(super) call_location: *const u8,
    pub(super) num_tasks: usize,
    pub(super) task_ids: P,
    pub(super) incarnation_ids: P,
    pub(super) multi_slice_config: P,
    pub(super) use_major_to_minor_data_layout_for_callbacks: bool,
    pub(super) hlo_output_callbacks: P,
    pub(super) num_hlo_output_callbacks: usize,
}
#[repr(C)]
pub(super) struct ExecuteArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) executable: P,
    pub(super) options: *mut ExecuteOptions,
    pub(super) argument_lists: *const *const P,
    pub(super) num_devices: usize,
    pub(super) num_args: usize,
    pub(super) output_lists: *const *mut P,
    pub(super) device_complete_events: *mut P,
    pub(super) execute_device: P,
}
#[repr(C)]
pub(super) struct ToHostArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) src: P,
    pub(super) host_layout: P,
    pub(super) dst: *mut c_void,
    pub(super) dst_size: usize,
    pub(super) event: P,
}
/// `PJRT_Buffer_ReadyEvent` and `PJRT_Buffer_UnsafePointer`: a buffer in,
/// an event or an address out.
#[repr(C)]
pub(super) struct BufferOutArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) buffer: P,
    pub(super) out: usize,
}
/// `PJRT_Event_OnReady`: a callback to run once the event is ready.
#[repr(C)]
pub(super) struct OnReadyArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) event: P,
    pub(super) callback: Option<unsafe extern "C" fn(P, *mut c_void)>,
    pub(super) user_arg: *mut c_void,
}
/// `PJRT_Buffer_IsOnCpu`.
#[repr(C)]
pub(super) struct IsOnCpuArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) buffer: P,
    pub(super) is_on_cpu: bool,
}
/// `PJRT_Buffer_MemoryLayout`: a union of the tiled layout (below, the
/// larger member) and the strided one (`byte_strides`, `num_byte_strides`
/// in the first two words after the header), then the kind (0 tiled, 1
/// strides).
#[repr(C)]
pub(super) struct MemoryLayout {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) tiled_struct_size: usize,
    pub(super) tiled_ext: P,
    /// Tiled: `minor_to_major`; strides: `byte_strides`.
    pub(super) minor_to_major: *const i64,
    /// Tiled: `minor_to_major_size`; strides: `num_byte_strides`.
    pub(super) minor_to_major_size: usize,
    pub(super) tile_dims: *const i64,
    pub(super) tile_dim_sizes: *const usize,
    pub(super) num_tiles: usize,
    pub(super) kind: i32,
}
/// `PJRT_Buffer_GetMemoryLayout`.
#[repr(C)]
pub(super) struct GetMemoryLayoutArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) buffer: P,
    pub(super) layout: MemoryLayout,
}
#[repr(C)]
pub(super) struct GetExecutableArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) loaded_executable: P,
    pub(super) executable: P,
}
#[repr(C)]
pub(super) struct NumOutputsArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) executable: P,
    pub(super) num_outputs: usize,
}

#[repr(C)]
pub(super) struct SerializeArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) executable: P,
    pub(super) serialized_bytes: *const u8,
    pub(super) serialized_bytes_size: usize,
    pub(super) serialized_executable: P,
    pub(super) serialized_executable_deleter: Option<unsafe extern "C" fn(P)>,
}
#[repr(C)]
pub(super) struct DeserializeArgs {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) client: P,
    pub(super) serialized_executable: *const u8,
    pub(super) serialized_executable_size: usize,
    pub(super) loaded_executable: P,
    pub(super) overridden_serialized_compile_options: *const u8,
    pub(super) overridden_serialized_compile_options_size: usize,
}

pub(super) fn args<T>() -> T {
    // SAFETY: every argument struct above is plain data (pointers, integers,
    // a bool) for which all-zero bytes are a valid "unset" value.
    let mut a: T = unsafe { std::mem::zeroed() };
    // SAFETY: every struct starts with `struct_size: usize`.
    unsafe { *(&mut a as *mut T as *mut usize) = std::mem::size_of::<T>() };
    a
}

/// A loaded plugin: the `PJRT_Api` function table.
pub struct Api {
    _lib: libloading::Library,
    table: *const u8,
    table_size: usize,
    /// The plugin's PJRT C API version (major, minor).
    pub version: (i32, i32),
}

// SAFETY: the PJRT C API is thread-safe: clients, buffers and executables
// may be used from any thread (JAX does). The table itself is read-only.
unsafe impl Send for Api {}
unsafe impl Sync for Api {}

#[repr(C)]
pub(super) struct NamedValue {
    pub(super) struct_size: usize,
    pub(super) ext: P,
    pub(super) name: *const u8,
    pub(super) name_size: usize,
    pub(super) kind: i32,
    pub(super) value: u64,
    pub(super) value_size: usize,
}

impl Api {
    /// Loads the plugin at `path` and initializes it.
    pub fn load(path: &Path) -> Result<Arc<Api>> {
        // SAFETY: loading a shared library runs its initializers; the PJRT
        // plugin is a self-contained library meant to be dlopen'ed this way.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| {
            PjrtError(format!(
                "cannot load the PJRT plugin {}: {e}",
                path.display()
            ))
        })?;
        // SAFETY: `GetPjrtApi` is the plugin's one exported entry point, of this type.
        let table = unsafe {
            let get: libloading::Symbol<unsafe extern "C" fn() -> *const u8> = lib
                .get(b"GetPjrtApi")
                .map_err(|e| PjrtError(format!("{} is not a PJRT plugin: {e}", path.display())))?;
            get()
        };
        if table.is_null() {
            return Err(PjrtError("GetPjrtApi returned null".into()));
        }
        // SAFETY: PJRT_Api starts with struct_size, extension_start, then the
        // version struct {struct_size, extension_start, major, minor}.
        let (table_size, version) = unsafe {
            (
                *(table as *const usize),
                (
                    *(table.add(32) as *const i32),
                    *(table.add(36) as *const i32),
                ),
            )
        };
        let api = Api {
            _lib: lib,
            table,
            table_size,
            version,
        };
        let mut a: PluginInitializeArgs = args();
        api.call(slot::PLUGIN_INITIALIZE, &mut a)?;
        Ok(Arc::new(api))
    }

    fn func(&self, slot: usize) -> Result<unsafe extern "C" fn(P) -> P> {
        let off = 40 + slot * 8;
        if off + 8 > self.table_size {
            return Err(PjrtError(format!(
                "the plugin's API table has no slot {slot}"
            )));
        }
        // SAFETY: the offset is inside the table; each slot holds a function pointer.
        let f = unsafe { *(self.table.add(off) as *const usize) };
        if f == 0 {
            return Err(PjrtError(format!(
                "the plugin does not implement slot {slot}"
            )));
        }
        // SAFETY: every PJRT function takes one pointer to its args struct and
        // returns a PJRT_Error* (null on success).
        Ok(unsafe { std::mem::transmute::<usize, unsafe extern "C" fn(P) -> P>(f) })
    }

    /// Calls slot `slot` with `args` and turns a returned PJRT_Error into `Err`.
    pub(super) fn call<T>(&self, slot: usize, a: &mut T) -> Result<()> {
        let f = self.func(slot)?;
        // SAFETY: `a` is the #[repr(C)] struct this slot expects.
        let err = unsafe { f(a as *mut T as P) };
        if err.is_null() {
            return Ok(());
        }
        let mut m: ErrorMessageArgs = args_for_error(err);
        let msg = match self.func(slot::ERROR_MESSAGE) {
            Ok(fm) => {
                // SAFETY: as above; the message stays valid until the error is destroyed.
                unsafe { fm(&mut m as *mut _ as P) };
                if m.message.is_null() {
                    String::from("unknown PJRT error")
                } else {
                    // SAFETY: the plugin returned a pointer and a length.
                    String::from_utf8_lossy(unsafe {
                        std::slice::from_raw_parts(m.message, m.message_size)
                    })
                    .into_owned()
                }
            }
            Err(e) => e.0,
        };
        if let Ok(fd) = self.func(slot::ERROR_DESTROY) {
            let mut d: ErrorDestroyArgs = args();
            d.error = err;
            // SAFETY: destroys the error we own.
            unsafe { fd(&mut d as *mut _ as P) };
        }
        Err(PjrtError(msg))
    }

    pub(super) fn destroy(&self, slot: usize, handle: P) {
        if handle.is_null() {
            return;
        }
        let mut a: HandleArgs = args();
        a.handle = handle;
        let _ = self.call(slot, &mut a);
    }

    /// Waits for an event and frees it.
    pub(super) fn await_event(&self, event: P) -> Result<()> {
        if event.is_null() {
            return Ok(());
        }
        let mut a: HandleArgs = args();
        a.handle = event;
        let r = self.call(slot::EVENT_AWAIT, &mut a);
        self.destroy(slot::EVENT_DESTROY, event);
        r
    }

    /// Runs `done` once `event` is ready (at once when it is already; on a
    /// thread of the plugin otherwise) and frees the event. On an error
    /// `done` comes back unrun and the event is still alive.
    pub(super) fn on_ready(
        &self,
        event: P,
        done: OnDone,
    ) -> std::result::Result<(), (PjrtError, OnDone)> {
        let error_destroy = self.func(slot::ERROR_DESTROY).ok();
        let user_arg = Box::into_raw(Box::new(Done {
            done,
            error_destroy,
        }));
        let mut a: OnReadyArgs = args();
        a.event = event;
        a.callback = Some(done_callback);
        a.user_arg = user_arg as *mut c_void;
        match self.call(slot::EVENT_ON_READY, &mut a) {
            Ok(()) => {
                // The plugin keeps the callback with the event's state, not
                // with this handle (PJRT's own C++ client frees the handle
                // the same way right after registering).
                self.destroy(slot::EVENT_DESTROY, event);
                Ok(())
            }
            Err(e) => {
                // SAFETY: the registration failed, so the plugin never saw
                // `user_arg`: it is still ours, from `Box::into_raw` above.
                let d = unsafe { Box::from_raw(user_arg) };
                Err((e, d.done))
            }
        }
    }
}

/// What runs when PJRT no longer uses host memory it was handed (see
/// [`Client::buffer_sharing`]): typically it drops whatever keeps that
/// memory alive. It may run on a thread of the plugin, and must not call
/// into PJRT.
pub type OnDone = Box<dyn FnOnce() + Send>;

/// The `user_arg` of [`done_callback`].
struct Done {
    done: OnDone,
    error_destroy: Option<unsafe extern "C" fn(P) -> P>,
}

/// The `PJRT_Event_OnReady` callback: frees the event's error (ours to
/// free), then runs the [`OnDone`]. A panic stays inside (unwinding into
/// the plugin would abort).
unsafe extern "C" fn done_callback(error: P, user_arg: *mut c_void) {
    // SAFETY: `user_arg` is the `Box<Done>` that `Api::on_ready` leaked for
    // this registration; the plugin calls the callback exactly once.
    let d = unsafe { Box::from_raw(user_arg as *mut Done) };
    let Done {
        done,
        error_destroy,
    } = *d;
    if !error.is_null() {
        if let Some(f) = error_destroy {
            let mut e: ErrorDestroyArgs = args();
            e.error = error;
            // SAFETY: the callback owns `error` and frees it once, with the
            // plugin's own `PJRT_Error_Destroy`.
            unsafe { f(&mut e as *mut _ as P) };
        }
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(done));
}

fn args_for_error(err: P) -> ErrorMessageArgs {
    let mut m: ErrorMessageArgs = args();
    m.error = err;
    m
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pjrt::Api(version {}.{})",
            self.version.0, self.version.1
        )
    }
}
