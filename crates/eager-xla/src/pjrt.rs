//! A small, safe layer over the PJRT C API (the plugin interface XLA and
//! JAX use), loaded at run time with `libloading`: no headers, no bindgen.
//!
//! Only what eager-tensor needs: plugin loading, one client and its first
//! device, host↔device buffers, compiling StableHLO text, executing, events
//! and errors. Every handle has a `Drop`. The `#[repr(C)]` argument structs
//! follow PJRT C API 0.114/0.115; each call passes its `struct_size`, and a
//! plugin accepts structs at least as new as its own.

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The alignment the CPU plugin needs to share host memory instead of
/// copying it ([`Client::buffer_sharing`]; measured with this plugin:
/// XLA's CPU `MinAlign`).
pub const ZERO_COPY_ALIGN: usize = 64;

type P = *mut c_void;

/// An error from the plugin (or from loading it).
#[derive(Debug, Clone, PartialEq)]
pub struct PjrtError(pub String);

impl std::fmt::Display for PjrtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, PjrtError>;

// Slots of the PJRT_Api function table (its declaration order, stable
// across minor versions), after the 40-byte header.
mod slot {
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
struct ErrorDestroyArgs {
    struct_size: usize,
    ext: P,
    error: P,
}
#[repr(C)]
struct ErrorMessageArgs {
    struct_size: usize,
    ext: P,
    error: P,
    message: *const u8,
    message_size: usize,
}
#[repr(C)]
struct PluginInitializeArgs {
    struct_size: usize,
    ext: P,
}
/// The shape of every `*_Destroy` and `Event_Await` call: one handle.
#[repr(C)]
struct HandleArgs {
    struct_size: usize,
    ext: P,
    handle: P,
}
#[repr(C)]
struct ClientCreateArgs {
    struct_size: usize,
    ext: P,
    create_options: P,
    num_options: usize,
    kv_get_callback: P,
    kv_get_user_arg: P,
    kv_put_callback: P,
    kv_put_user_arg: P,
    client: P,
    kv_try_get_callback: P,
    kv_try_get_user_arg: P,
}
#[repr(C)]
struct AddressableDevicesArgs {
    struct_size: usize,
    ext: P,
    client: P,
    devices: *const P,
    num_devices: usize,
}
#[repr(C)]
struct Program {
    struct_size: usize,
    ext: P,
    code: *const u8,
    code_size: usize,
    format: *const u8,
    format_size: usize,
}
#[repr(C)]
struct CompileArgs {
    struct_size: usize,
    ext: P,
    client: P,
    program: *const Program,
    compile_options: *const u8,
    compile_options_size: usize,
    executable: P,
}
#[repr(C)]
struct BufferFromHostArgs {
    struct_size: usize,
    ext: P,
    client: P,
    data: *const c_void,
    element_type: i32,
    dims: *const i64,
    num_dims: usize,
    byte_strides: *const i64,
    num_byte_strides: usize,
    host_buffer_semantics: i32,
    device: P,
    memory: P,
    device_layout: P,
    done_with_host_buffer: P,
    buffer: P,
}
#[repr(C)]
struct ExecuteOptions {
    struct_size: usize,
    ext: P,
    send_callbacks: P,
    recv_callbacks: P,
    num_send_ops: usize,
    num_recv_ops: usize,
    launch_id: i32,
    non_donatable_input_indices: *const i64,
    num_non_donatable_input_indices: usize,
    context: P,
    call_location: *const u8,
    num_tasks: usize,
    task_ids: P,
    incarnation_ids: P,
    multi_slice_config: P,
    use_major_to_minor_data_layout_for_callbacks: bool,
    hlo_output_callbacks: P,
    num_hlo_output_callbacks: usize,
}
#[repr(C)]
struct ExecuteArgs {
    struct_size: usize,
    ext: P,
    executable: P,
    options: *mut ExecuteOptions,
    argument_lists: *const *const P,
    num_devices: usize,
    num_args: usize,
    output_lists: *const *mut P,
    device_complete_events: *mut P,
    execute_device: P,
}
#[repr(C)]
struct ToHostArgs {
    struct_size: usize,
    ext: P,
    src: P,
    host_layout: P,
    dst: *mut c_void,
    dst_size: usize,
    event: P,
}
/// `PJRT_Buffer_ReadyEvent` and `PJRT_Buffer_UnsafePointer`: a buffer in,
/// an event or an address out.
#[repr(C)]
struct BufferOutArgs {
    struct_size: usize,
    ext: P,
    buffer: P,
    out: usize,
}
/// `PJRT_Event_OnReady`: a callback to run once the event is ready.
#[repr(C)]
struct OnReadyArgs {
    struct_size: usize,
    ext: P,
    event: P,
    callback: Option<unsafe extern "C" fn(P, *mut c_void)>,
    user_arg: *mut c_void,
}
/// `PJRT_Buffer_IsOnCpu`.
#[repr(C)]
struct IsOnCpuArgs {
    struct_size: usize,
    ext: P,
    buffer: P,
    is_on_cpu: bool,
}
/// `PJRT_Buffer_MemoryLayout`: a union of the tiled layout (below, the
/// larger member) and the strided one (`byte_strides`, `num_byte_strides`
/// in the first two words after the header), then the kind (0 tiled, 1
/// strides).
#[repr(C)]
struct MemoryLayout {
    struct_size: usize,
    ext: P,
    tiled_struct_size: usize,
    tiled_ext: P,
    /// Tiled: `minor_to_major`; strides: `byte_strides`.
    minor_to_major: *const i64,
    /// Tiled: `minor_to_major_size`; strides: `num_byte_strides`.
    minor_to_major_size: usize,
    tile_dims: *const i64,
    tile_dim_sizes: *const usize,
    num_tiles: usize,
    kind: i32,
}
/// `PJRT_Buffer_GetMemoryLayout`.
#[repr(C)]
struct GetMemoryLayoutArgs {
    struct_size: usize,
    ext: P,
    buffer: P,
    layout: MemoryLayout,
}
#[repr(C)]
struct GetExecutableArgs {
    struct_size: usize,
    ext: P,
    loaded_executable: P,
    executable: P,
}
#[repr(C)]
struct NumOutputsArgs {
    struct_size: usize,
    ext: P,
    executable: P,
    num_outputs: usize,
}

#[repr(C)]
struct SerializeArgs {
    struct_size: usize,
    ext: P,
    executable: P,
    serialized_bytes: *const u8,
    serialized_bytes_size: usize,
    serialized_executable: P,
    serialized_executable_deleter: Option<unsafe extern "C" fn(P)>,
}
#[repr(C)]
struct DeserializeArgs {
    struct_size: usize,
    ext: P,
    client: P,
    serialized_executable: *const u8,
    serialized_executable_size: usize,
    loaded_executable: P,
    overridden_serialized_compile_options: *const u8,
    overridden_serialized_compile_options_size: usize,
}

fn args<T>() -> T {
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

/// The element types eager-tensor uses, as PJRT numbers them
/// (`PJRT_Buffer_Type` in `pjrt_c_api.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ElementType {
    Pred = 1,
    S8 = 2,
    S16 = 3,
    S32 = 4,
    S64 = 5,
    U8 = 6,
    U16 = 7,
    U32 = 8,
    U64 = 9,
    F16 = 10,
    F32 = 11,
    F64 = 12,
    BF16 = 13,
}

impl ElementType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        use ElementType::*;
        match self {
            Pred | S8 | U8 => 1,
            S16 | U16 | F16 | BF16 => 2,
            S32 | U32 | F32 => 4,
            S64 | U64 | F64 => 8,
        }
    }
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
    fn call<T>(&self, slot: usize, a: &mut T) -> Result<()> {
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

    fn destroy(&self, slot: usize, handle: P) {
        if handle.is_null() {
            return;
        }
        let mut a: HandleArgs = args();
        a.handle = handle;
        let _ = self.call(slot, &mut a);
    }

    /// Waits for an event and frees it.
    fn await_event(&self, event: P) -> Result<()> {
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
    fn on_ready(&self, event: P, done: OnDone) -> std::result::Result<(), (PjrtError, OnDone)> {
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

/// The plugin path: `$EAGER_TENSOR_PJRT_PLUGIN`, else the cache folder that
/// `scripts/setup-xla.sh` fills.
pub fn plugin_path() -> std::result::Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("EAGER_TENSOR_PJRT_PLUGIN") {
        return Ok(PathBuf::from(p));
    }
    let cache = std::env::var_os("EAGER_TENSOR_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/eager-tensor")))
        .ok_or_else(|| "neither EAGER_TENSOR_PJRT_PLUGIN nor HOME is set".to_string())?;
    let p = cache.join("pjrt-cpu-0.11.2/pjrt_c_api_cpu_plugin.so");
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "no PJRT plugin: EAGER_TENSOR_PJRT_PLUGIN is not set and {} does not exist (run scripts/setup-xla.sh)",
            p.display()
        ))
    }
}

/// A PJRT client with its first addressable device.
pub struct Client {
    api: Arc<Api>,
    client: P,
    device: P,
}

// SAFETY: see `Api`.
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

impl Drop for Client {
    fn drop(&mut self) {
        self.api.destroy(slot::CLIENT_DESTROY, self.client);
    }
}

/// CompileOptionsProto { executable_build_options { num_replicas: 1, num_partitions: 1 } }
const COMPILE_OPTIONS: &[u8] = &[0x1A, 0x04, 0x20, 0x01, 0x28, 0x01];

/// An option for [`Client::with_options`]: an integer or a string.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// An integer option.
    Int(i64),
    /// A string option.
    Str(String),
}

#[repr(C)]
struct NamedValue {
    struct_size: usize,
    ext: P,
    name: *const u8,
    name_size: usize,
    kind: i32,
    value: u64,
    value_size: usize,
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

    /// Compiles a StableHLO (MLIR text) program.
    pub fn compile(self: &Arc<Self>, mlir: &str) -> Result<Executable> {
        let format = "mlir";
        let mut prog: Program = args();
        prog.code = mlir.as_ptr();
        prog.code_size = mlir.len();
        prog.format = format.as_ptr();
        prog.format_size = format.len();
        let mut a: CompileArgs = args();
        a.client = self.client;
        a.program = &prog;
        a.compile_options = COMPILE_OPTIONS.as_ptr();
        a.compile_options_size = COMPILE_OPTIONS.len();
        self.api.call(slot::CLIENT_COMPILE, &mut a)?;
        self.loaded(a.executable)
    }

    /// Loads an executable serialized by [`Executable::serialize`] (by this
    /// plugin build: a program compiled by another build is refused).
    pub fn deserialize(self: &Arc<Self>, bytes: &[u8]) -> Result<Executable> {
        let mut a: DeserializeArgs = args();
        a.client = self.client;
        a.serialized_executable = bytes.as_ptr();
        a.serialized_executable_size = bytes.len();
        self.api
            .call(slot::EXECUTABLE_DESERIALIZE_AND_LOAD, &mut a)?;
        self.loaded(a.loaded_executable)
    }

    /// Wraps a loaded executable, reading its number of outputs.
    fn loaded(self: &Arc<Self>, loaded: P) -> Result<Executable> {
        let mut exe = Executable {
            client: self.clone(),
            exe: loaded,
            num_outputs: 0,
        };
        let mut g: GetExecutableArgs = args();
        g.loaded_executable = exe.exe;
        self.api
            .call(slot::LOADED_EXECUTABLE_GET_EXECUTABLE, &mut g)?;
        let mut n: NumOutputsArgs = args();
        n.executable = g.executable;
        let r = self.api.call(slot::EXECUTABLE_NUM_OUTPUTS, &mut n);
        self.api.destroy(slot::EXECUTABLE_DESTROY, g.executable);
        r?;
        exe.num_outputs = n.num_outputs;
        Ok(exe)
    }

    /// Copies host data (row-major, `dims`) to the device.
    pub fn buffer(self: &Arc<Self>, data: &[u8], ty: ElementType, dims: &[i64]) -> Result<Buffer> {
        let n: i64 = dims.iter().product();
        if data.len() != n as usize * ty.size() {
            return Err(PjrtError(format!(
                "{} bytes do not fill {dims:?} of {ty:?}",
                data.len()
            )));
        }
        let mut a: BufferFromHostArgs = args();
        a.client = self.client;
        a.data = data.as_ptr() as *const c_void;
        a.element_type = ty as i32;
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        a.host_buffer_semantics = 0; // kImmutableOnlyDuringCall: copied before returning
        a.device = self.device;
        self.api.call(slot::CLIENT_BUFFER_FROM_HOST, &mut a)?;
        let buf = self.wrap(a.buffer, ty, dims, true);
        self.api.await_event(a.done_with_host_buffer)?;
        Ok(buf)
    }

    fn wrap(self: &Arc<Self>, buf: P, ty: ElementType, dims: &[i64], donatable: bool) -> Buffer {
        Buffer {
            client: self.clone(),
            buf,
            ty,
            dims: dims.to_vec(),
            donatable,
            lends: AtomicUsize::new(0),
        }
    }

    /// A buffer over host memory **without a copy** where the plugin can
    /// share it (`PJRT_Client_BufferFromHostBuffer` with
    /// `kImmutableZeroCopy`, or `kMutableZeroCopy` when `mutable`): the
    /// CPU plugin shares memory aligned to [`ZERO_COPY_ALIGN`] bytes and
    /// copies anything else. `done` runs once PJRT no longer uses the
    /// memory: when the last buffer over it is freed (a donated buffer's
    /// memory lives on in the result), or right after the copy.
    ///
    /// An immutable buffer is never donated ([`Buffer::is_donatable`]):
    /// PJRT promises not to write it, and [`Executable::execute_donating`]
    /// copies it instead. A mutable one may be donated, and the result
    /// written into the memory.
    ///
    /// # Safety
    /// `data` must be valid for reads of the bytes `dims` of `ty` take,
    /// and must not be written by anyone else, until `done` runs; with
    /// `mutable` it must also be valid for writes and not be read by
    /// anyone else meanwhile (PJRT may write a result into it).
    pub unsafe fn buffer_sharing(
        self: &Arc<Self>,
        data: *const u8,
        ty: ElementType,
        dims: &[i64],
        mutable: bool,
        done: OnDone,
    ) -> Result<Buffer> {
        byte_len(ty, dims)?;
        let mut a: BufferFromHostArgs = args();
        a.client = self.client;
        a.data = data as *const c_void;
        a.element_type = ty as i32;
        a.dims = dims.as_ptr();
        a.num_dims = dims.len();
        // kImmutableZeroCopy = 2, kMutableZeroCopy = 3.
        a.host_buffer_semantics = if mutable { 3 } else { 2 };
        a.device = self.device;
        // On an error no buffer exists and PJRT keeps nothing: `done` is
        // dropped unrun, which releases the memory at once.
        self.api.call(slot::CLIENT_BUFFER_FROM_HOST, &mut a)?;
        let buf = self.wrap(a.buffer, ty, dims, mutable);
        if a.done_with_host_buffer.is_null() {
            // No way to learn when the memory is free: keep it for ever (a
            // leak, never a use after free). The CPU plugin always gives
            // the event.
            std::mem::forget(done);
            return Ok(buf);
        }
        let event = a.done_with_host_buffer;
        match self.api.on_ready(event, done) {
            Ok(()) => Ok(buf),
            Err((e, done)) => {
                // Free the buffer, wait until PJRT lets go of the memory,
                // and only then release it.
                drop(buf);
                match self.api.await_event(event) {
                    Ok(()) => drop(done),
                    Err(_) => std::mem::forget(done),
                }
                Err(e)
            }
        }
    }
}

/// A compiled, loaded executable.
pub struct Executable {
    client: Arc<Client>,
    exe: P,
    num_outputs: usize,
}

// SAFETY: see `Api`.
unsafe impl Send for Executable {}
unsafe impl Sync for Executable {}

impl Drop for Executable {
    fn drop(&mut self) {
        self.client
            .api
            .destroy(slot::LOADED_EXECUTABLE_DESTROY, self.exe);
    }
}

impl Executable {
    /// Number of results.
    pub fn num_outputs(&self) -> usize {
        self.num_outputs
    }

    /// The compiled program as bytes ([`Client::deserialize`] loads them
    /// back without compiling), for a cache across processes.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let api = &self.client.api;
        let mut g: GetExecutableArgs = args();
        g.loaded_executable = self.exe;
        api.call(slot::LOADED_EXECUTABLE_GET_EXECUTABLE, &mut g)?;
        let mut a: SerializeArgs = args();
        a.executable = g.executable;
        let r = api.call(slot::EXECUTABLE_SERIALIZE, &mut a);
        let bytes = if r.is_ok() && !a.serialized_bytes.is_null() {
            // SAFETY: the plugin returned this many bytes at this address,
            // alive until the deleter runs below.
            unsafe { std::slice::from_raw_parts(a.serialized_bytes, a.serialized_bytes_size) }
                .to_vec()
        } else {
            Vec::new()
        };
        if let Some(delete) = a.serialized_executable_deleter {
            if !a.serialized_executable.is_null() {
                // SAFETY: the plugin's own deleter for the memory it returned, once.
                unsafe { delete(a.serialized_executable) };
            }
        }
        api.destroy(slot::EXECUTABLE_DESTROY, g.executable);
        r?;
        Ok(bytes)
    }

    /// Queues a run on the client's device and returns its results at once
    /// (as JAX dispatches): they become ready when the run completes, and
    /// reading them waits for that ([`Buffer::block_until_ready`]). Inputs
    /// may be dropped meanwhile: PJRT frees a buffer's memory only after
    /// the work that uses it. `outputs` gives each result's element type
    /// and dims (known from the program).
    pub fn execute(
        &self,
        inputs: &[&Buffer],
        outputs: &[(ElementType, Vec<i64>)],
    ) -> Result<Vec<Buffer>> {
        self.execute_donating(inputs, outputs, &[])
    }

    /// [`execute`](Self::execute) of a program whose parameters alias
    /// results (`tf.aliasing_output`): the inputs at `non_donatable` keep
    /// their buffers (PJRT copies them), and so does every input that is
    /// not [`donatable`](Buffer::is_donatable) (lent, or over foreign
    /// memory); every other aliased input is **donated** — its buffer
    /// becomes the result's and is invalid after this call ("deleted or
    /// donated buffer" on any later use).
    pub fn execute_donating(
        &self,
        inputs: &[&Buffer],
        outputs: &[(ElementType, Vec<i64>)],
        non_donatable: &[i64],
    ) -> Result<Vec<Buffer>> {
        if outputs.len() != self.num_outputs {
            return Err(PjrtError(format!(
                "the program has {} outputs, {} described",
                self.num_outputs,
                outputs.len()
            )));
        }
        let api = &self.client.api;
        // A buffer that must keep its memory (lent, or over foreign memory
        // PJRT may not write) is never donated: PJRT copies it instead.
        let mut keep: Vec<i64> = non_donatable.to_vec();
        keep.extend(
            inputs
                .iter()
                .enumerate()
                .filter(|(_, b)| !b.is_donatable())
                .map(|(i, _)| i as i64),
        );
        keep.sort_unstable();
        keep.dedup();
        let mut opts: ExecuteOptions = args();
        opts.non_donatable_input_indices = keep.as_ptr();
        opts.num_non_donatable_input_indices = keep.len();
        // Up to four arguments and results (nearly every program) live on
        // the stack: no vector per call.
        let mut arg_small: [P; 4] = [null_mut(); 4];
        let arg_vec: Vec<P>;
        let arg_ptrs: &[P] = if inputs.len() <= arg_small.len() {
            for (slot, b) in arg_small.iter_mut().zip(inputs) {
                *slot = b.buf;
            }
            &arg_small[..inputs.len()]
        } else {
            arg_vec = inputs.iter().map(|b| b.buf).collect();
            &arg_vec
        };
        let arg_lists: [*const P; 1] = [arg_ptrs.as_ptr()];
        let mut out_small: [P; 4] = [null_mut(); 4];
        let mut out_vec: Vec<P>;
        let outs: &mut [P] = if self.num_outputs <= out_small.len() {
            &mut out_small[..self.num_outputs]
        } else {
            out_vec = vec![null_mut(); self.num_outputs];
            &mut out_vec
        };
        let out_lists: [*mut P; 1] = [outs.as_mut_ptr()];
        let mut a: ExecuteArgs = args();
        a.executable = self.exe;
        a.options = &mut opts;
        a.argument_lists = arg_lists.as_ptr();
        a.num_devices = 1;
        a.num_args = inputs.len();
        a.output_lists = out_lists.as_ptr();
        // No completion event: the call returns once the work is queued
        // and the results' buffers carry its readiness (and any error).
        a.device_complete_events = null_mut();
        api.call(slot::LOADED_EXECUTABLE_EXECUTE, &mut a)?;
        let bufs: Vec<Buffer> = outs
            .iter()
            .copied()
            .zip(outputs)
            .map(|(buf, (ty, dims))| self.client.wrap(buf, *ty, dims, true))
            .collect();
        Ok(bufs)
    }
}

/// A device buffer (freed on drop).
pub struct Buffer {
    client: Arc<Client>,
    buf: P,
    ty: ElementType,
    dims: Vec<i64>,
    /// False over foreign memory PJRT must not write.
    donatable: bool,
    /// Live [`Lend`]s of the memory.
    lends: AtomicUsize,
}

// SAFETY: see `Api`; a buffer is immutable once created.
unsafe impl Send for Buffer {}
unsafe impl Sync for Buffer {}

impl Drop for Buffer {
    fn drop(&mut self) {
        // Work still computing this buffer finishes first: then nothing we
        // queued is left running when the process exits (the plugin's
        // teardown under a running computation crashes).
        let _ = self.block_until_ready();
        self.client.api.destroy(slot::BUFFER_DESTROY, self.buf);
    }
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pjrt::Buffer({:?}, {:?})", self.ty, self.dims)
    }
}

impl Buffer {
    /// Element type.
    pub fn element_type(&self) -> ElementType {
        self.ty
    }
    /// Dimensions.
    pub fn dims(&self) -> &[i64] {
        &self.dims
    }
    /// Copies the contents to the host (row-major bytes). On a CPU client
    /// the buffer is read in place once it is ready (a `memcpy` instead of
    /// PJRT's `ToHostBuffer`); anything else falls back to `ToHostBuffer`.
    pub fn to_host(&self) -> Result<Vec<u8>> {
        // The error of the computation that made this buffer (an allocation
        // that failed, say) surfaces here, before any host memory is taken.
        self.block_until_ready()?;
        if let Some(v) = self.read_in_place() {
            return v;
        }
        self.to_host_buffer()
    }

    /// Waits until the buffer's contents are computed (JAX's
    /// `block_until_ready`): executions are asynchronous, and an error of
    /// the computation that produces the buffer surfaces here.
    pub fn block_until_ready(&self) -> Result<()> {
        let api = &self.client.api;
        let mut e: BufferOutArgs = args();
        e.buffer = self.buf;
        api.call(slot::BUFFER_READY_EVENT, &mut e)?;
        api.await_event(e.out as P)
    }

    /// The buffer's device address (host memory on the CPU plugin), once
    /// it is ready: shows whether two buffers share memory (donation).
    pub fn device_address(&self) -> Result<usize> {
        self.block_until_ready()?;
        let mut a: BufferOutArgs = args();
        a.buffer = self.buf;
        self.client.api.call(slot::BUFFER_UNSAFE_POINTER, &mut a)?;
        Ok(a.out)
    }

    /// The in-place read: `ReadyEvent`, then `UnsafePointer`. Buffers this
    /// layer creates and executables return on the CPU plugin use the
    /// default dense row-major layout, so the bytes are the result.
    pub(crate) fn read_in_place(&self) -> Option<Result<Vec<u8>>> {
        let api = &self.client.api;
        self.block_until_ready().ok()?;
        let mut a: BufferOutArgs = args();
        a.buffer = self.buf;
        api.call(slot::BUFFER_UNSAFE_POINTER, &mut a).ok()?;
        let len = match self.byte_len() {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        if len == 0 {
            return Some(Ok(Vec::new()));
        }
        if a.out == 0 {
            return None;
        }
        let mut v = match host_vec(len) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        // SAFETY: the buffer is ready, lives as long as `self`, and holds
        // `len` bytes at this host address (CPU device memory).
        v.extend_from_slice(unsafe { std::slice::from_raw_parts(a.out as *const u8, len) });
        Some(Ok(v))
    }

    /// The buffer's size in bytes, checked.
    fn byte_len(&self) -> Result<usize> {
        byte_len(self.ty, &self.dims)
    }

    /// Whether [`Executable::execute_donating`] may donate this buffer:
    /// not while it is lent ([`lend`](Self::lend)), never over foreign
    /// memory PJRT must not write ([`Client::buffer_sharing`]).
    pub fn is_donatable(&self) -> bool {
        self.donatable && self.lends.load(Ordering::SeqCst) == 0
    }

    /// Whether the buffer is on the host (`PJRT_Buffer_IsOnCpu`).
    pub fn is_on_cpu(&self) -> Result<bool> {
        let mut a: IsOnCpuArgs = args();
        a.buffer = self.buf;
        self.client.api.call(slot::BUFFER_IS_ON_CPU, &mut a)?;
        Ok(a.is_on_cpu)
    }

    /// Whether the buffer's memory layout is dense and row-major (PJRT's
    /// default: `minor_to_major` = `[n-1, ..., 0]`, no tiles; or strides
    /// that say the same), from `PJRT_Buffer_GetMemoryLayout`.
    pub fn is_dense_row_major(&self) -> Result<bool> {
        let mut a: GetMemoryLayoutArgs = args();
        a.buffer = self.buf;
        self.client
            .api
            .call(slot::BUFFER_GET_MEMORY_LAYOUT, &mut a)?;
        let l = &a.layout;
        let n = self.dims.len();
        if l.minor_to_major_size != n || (n > 0 && l.minor_to_major.is_null()) {
            return Ok(false);
        }
        let v: &[i64] = if n == 0 {
            &[]
        } else {
            // SAFETY: the plugin returned `n` values at this address, alive
            // as long as the buffer.
            unsafe { std::slice::from_raw_parts(l.minor_to_major, n) }
        };
        Ok(match l.kind {
            0 => l.num_tiles == 0 && v.iter().enumerate().all(|(i, &d)| d == (n - 1 - i) as i64),
            1 => {
                // Strides of a row-major dense array (any stride of a
                // dimension of size 1 is as good).
                let mut want = self.ty.size() as i64;
                let mut ok = true;
                for k in (0..n).rev() {
                    ok &= self.dims[k] <= 1 || v[k] == want;
                    want = want.saturating_mul(self.dims[k]);
                }
                ok
            }
            _ => false,
        })
    }

    /// Lends the buffer's host memory without a copy: `None` when it is
    /// not dense row-major memory on the host. While the [`Lend`] lives,
    /// the memory stays valid and unchanged: the buffer is kept alive, PJRT
    /// is told of the external reference
    /// (`PJRT_Buffer_IncreaseExternalReferenceCount`, so it neither moves
    /// nor donates the memory), and [`Executable::execute_donating`] copies
    /// the buffer instead of donating it.
    pub fn lend(self: &Arc<Self>) -> Result<Option<Lend>> {
        self.block_until_ready()?;
        if !self.is_on_cpu().unwrap_or(false) || !self.is_dense_row_major().unwrap_or(false) {
            return Ok(None);
        }
        let mut h: HandleArgs = args();
        h.handle = self.buf;
        // Where the plugin lacks external references, the count of lends
        // still keeps this layer from donating the memory.
        let external = self
            .client
            .api
            .call(slot::BUFFER_INCREASE_EXTERNAL_REF, &mut h)
            .is_ok();
        self.lends.fetch_add(1, Ordering::SeqCst);
        let mut lend = Lend {
            buf: self.clone(),
            address: 0,
            external,
        };
        let mut a: BufferOutArgs = args();
        a.buffer = self.buf;
        self.client.api.call(slot::BUFFER_UNSAFE_POINTER, &mut a)?;
        if a.out == 0 && self.byte_len()? > 0 {
            return Ok(None);
        }
        lend.address = a.out;
        Ok(Some(lend))
    }

    /// `PJRT_Buffer_ToHostBuffer` (works for every device).
    pub fn to_host_buffer(&self) -> Result<Vec<u8>> {
        let len = self.byte_len()?;
        let mut v = host_vec(len)?;
        v.resize(len, 0);
        let mut a: ToHostArgs = args();
        a.src = self.buf;
        a.host_layout = null_mut();
        a.dst = v.as_mut_ptr() as *mut c_void;
        a.dst_size = v.len();
        self.client.api.call(slot::BUFFER_TO_HOST, &mut a)?;
        self.client.api.await_event(a.event)?;
        Ok(v)
    }
}

/// A loan of a [`Buffer`]'s host memory ([`Buffer::lend`]): the memory at
/// [`address`](Self::address) stays valid and unchanged until this is
/// dropped.
pub struct Lend {
    buf: Arc<Buffer>,
    address: usize,
    external: bool,
}

impl Lend {
    /// The first byte of the lent memory.
    pub fn address(&self) -> usize {
        self.address
    }
    /// The lent buffer.
    pub fn buffer(&self) -> &Arc<Buffer> {
        &self.buf
    }
}

impl Drop for Lend {
    fn drop(&mut self) {
        if self.external {
            let mut h: HandleArgs = args();
            h.handle = self.buf.buf;
            let _ = self
                .buf
                .client
                .api
                .call(slot::BUFFER_DECREASE_EXTERNAL_REF, &mut h);
        }
        self.buf.lends.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for Lend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pjrt::Lend({:?} at {:#x})", self.buf, self.address)
    }
}

/// The size in bytes of `dims` of `ty`, checked.
fn byte_len(ty: ElementType, dims: &[i64]) -> Result<usize> {
    dims.iter()
        .try_fold(ty.size(), |acc, &d| {
            usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
        })
        .ok_or_else(|| PjrtError(format!("a buffer of shape {dims:?} is too large")))
}

/// An empty vector with room for `len` bytes, or an error where the
/// allocator has none (instead of the abort of `vec![0; len]`).
fn host_vec(len: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| PjrtError(format!("{len} bytes of host memory could not be allocated")))?;
    Ok(v)
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

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pjrt::Client({:?})", self.api)
    }
}

impl std::fmt::Debug for Executable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pjrt::Executable({} outputs)", self.num_outputs)
    }
}
