//! Compiled programs: compiling, (de)serializing and executing.

use std::ptr::null_mut;
use std::sync::Arc;

use super::buffer::{Buffer, ElementType};
use super::client::Client;
use super::ffi::{
    args, slot, CompileArgs, DeserializeArgs, ExecuteArgs, ExecuteOptions, GetExecutableArgs,
    NumOutputsArgs, Program, SerializeArgs, P,
};
use super::{PjrtError, Result};

/// CompileOptionsProto { executable_build_options { num_replicas: 1, num_partitions: 1 } }
const COMPILE_OPTIONS: &[u8] = &[0x1A, 0x04, 0x20, 0x01, 0x28, 0x01];

impl Client {
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

impl std::fmt::Debug for Executable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pjrt::Executable({} outputs)", self.num_outputs)
    }
}
