// SPDX-License-Identifier: GPL-2.0

//! The ABI the WebAssembly runtime offers programs: the `kernel` import module and WASI
//! preview1 (`wasi_snapshot_preview1`).
//!
//! This crate is the one definition of that ABI: the functions' names and signatures, their
//! error numbers, the context each may be called from, and their behaviour, written once
//! over a [`Platform`] that supplies what differs between environments (clocks, the calling
//! task, where output goes). The kernel driver builds it with Kbuild and implements
//! [`Platform`] with the `kernel` crate; `wasmctl --local` builds the same files with cargo
//! and implements it with `std`, so a program behaves alike in both.
//!
//! Like the engine, it depends on `core`, `alloc` and the engine only.
//!
//! # Context rules
//!
//! Every import has a [`Context`]: [`Context::Atomic`] functions neither sleep nor allocate,
//! so a program running where the kernel must not sleep (attached to a kernel event) may call
//! them; [`Context::Process`] functions may sleep (writing output to the invoking client
//! waits for it to read) and are refused, with a trap, in atomic context. The rule of each
//! import is in its table entry ([`kernel::IMPORTS`], [`wasi::IMPORTS`]), the one place it is
//! recorded.
//!
//! # Pointers
//!
//! Every pointer and length a program passes is checked against its linear memory before it
//! is used: a range outside it is a [`TrapKind::MemoryOutOfBounds`] trap, and the platform is
//! told which import and which range ([`Fault`]) so that the error message can say so. No
//! host function does more than [`MAX_BYTES_PER_CALL`] bytes of work in one call, and each
//! pays fuel for the bytes it moves, so calling them cannot stretch the time between two
//! interrupt checks.
//!
//! # Examples
//!
//! ```
//! use wasm_abi::{lookup, Context};
//!
//! let cpu_id = lookup("kernel", "cpu_id").unwrap();
//! assert_eq!(cpu_id.import().context, Context::Atomic);
//! let fd_write = lookup("wasi_snapshot_preview1", "fd_write").unwrap();
//! assert_eq!(fd_write.import().context, Context::Process);
//! assert!(lookup("kernel", "no_such_function").is_none());
//! ```

#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

// The kernel build passes `--extern alloc`, which already puts `alloc` in scope; cargo does
// not for a `no_std` crate.
#[allow(unused_extern_crates)]
extern crate alloc;

pub mod guest;
pub mod kernel;
pub mod wasi;

use wasm_engine::{
    exec::BULK_BYTES_PER_FUEL, Caller, Error, FuncAddr, FuncType, ModuleRef, Store, Trap, TrapKind,
    ValType, Value,
};

/// The most bytes one host call reads, writes or generates: output is written in pieces of at
/// most this many bytes (a short write, which callers of `write` handle), and a request for
/// more random bytes than this fails. 64 KiB, the engine's bulk step.
pub const MAX_BYTES_PER_CALL: u32 = 64 * 1024;

/// Where an import may be called from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// Anywhere, atomic context included: the function neither sleeps nor allocates.
    Atomic,
    /// Process context only: the function may sleep.
    Process,
}

impl Context {
    /// The context's name, as the documentation spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Atomic => "atomic-safe",
            Self::Process => "may sleep",
        }
    }
}

/// Whether an import does what its specification says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Implemented.
    Yes,
    /// Present so that programs importing it instantiate, but it always fails with this
    /// error number (for example `ENOSYS` for file systems, which the runtime does not
    /// offer).
    Fails(u16),
}

/// One function the runtime offers for import.
#[derive(Debug, PartialEq, Eq)]
pub struct Import {
    /// The module name programs import it from.
    pub module: &'static str,
    /// The function's name.
    pub name: &'static str,
    /// Its parameter types.
    pub params: &'static [ValType],
    /// Its result types.
    pub results: &'static [ValType],
    /// Where it may be called from.
    pub context: Context,
    /// Whether it is implemented.
    pub support: Support,
}

/// A function of [`kernel::IMPORTS`] or [`wasi::IMPORTS`].
#[derive(Clone, Copy, Debug)]
pub struct ImportId {
    wasi: bool,
    index: u16,
    import: &'static Import,
}

impl ImportId {
    /// The import.
    pub fn import(self) -> &'static Import {
        self.import
    }

    /// The import's function type.
    pub fn func_type(self) -> Result<FuncType, Error> {
        FuncType::new(
            self.import.params.iter().copied(),
            self.import.results.iter().copied(),
        )
    }

    /// A number that tells imports apart (for caching what [`define`] made).
    pub fn key(self) -> u32 {
        (u32::from(self.wasi) << 16) | u32::from(self.index)
    }

    /// What the engine passes back to the host function ([`Caller::func_data`]).
    fn to_func_data(self) -> u64 {
        (u64::from(self.wasi) << 16) | u64::from(self.index)
    }

    /// The inverse of [`ImportId::to_func_data`].
    fn from_func_data(data: u64) -> Option<Self> {
        let wasi = data >> 16 == 1;
        let index = u16::try_from(data & 0xffff).ok()?;
        let table = if wasi { wasi::IMPORTS } else { kernel::IMPORTS };
        Some(Self {
            wasi,
            index,
            import: table.get(usize::from(index))?,
        })
    }
}

/// Finds the import `module`.`name`, if the runtime offers it.
pub fn lookup(module: &str, name: &str) -> Option<ImportId> {
    let (table, wasi) = match module {
        kernel::MODULE => (kernel::IMPORTS, false),
        wasi::MODULE => (wasi::IMPORTS, true),
        _ => return None,
    };
    let index = table.iter().position(|f| f.name == name)?;
    Some(ImportId {
        wasi,
        index: u16::try_from(index).ok()?,
        import: table.get(index)?,
    })
}

/// Whether programs import `module` from this crate.
pub fn is_abi_module(module: &str) -> bool {
    module == kernel::MODULE || module == wasi::MODULE
}

/// Every import, the `kernel` module's then WASI's.
pub fn imports() -> impl Iterator<Item = &'static Import> {
    kernel::IMPORTS.iter().chain(wasi::IMPORTS.iter())
}

/// Adds the host function of import `id` to `store`.
pub fn define<P: Platform, M: ModuleRef>(
    store: &mut Store<P, M>,
    id: ImportId,
) -> Result<FuncAddr, Error> {
    store.add_host_func_with(id.func_type()?, dispatch::<P>, id.to_func_data())
}

/// The clocks of [`Platform::time_ns`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Time since boot, not counting suspend (`CLOCK_MONOTONIC`).
    Monotonic,
    /// Time since boot, counting suspend (`CLOCK_BOOTTIME`).
    Boot,
    /// Wall-clock time since the Unix epoch (`CLOCK_REALTIME`).
    Real,
}

/// Why a host function trapped, for the error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The import that trapped.
    pub import: &'static Import,
    /// What was wrong.
    pub kind: FaultKind,
}

/// What was wrong with a host call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The range `[ptr, ptr + len)` is not inside the caller's linear memory of `memory`
    /// bytes (0 when it has none).
    OutOfBounds {
        /// Start of the range.
        ptr: u32,
        /// Its length.
        len: u64,
        /// The memory's size in bytes.
        memory: u64,
    },
    /// A function that may sleep was called in atomic context.
    Context,
}

impl core::fmt::Display for Fault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (module, name) = (self.import.module, self.import.name);
        match self.kind {
            FaultKind::OutOfBounds { ptr, len, memory } => write!(
                f,
                "{module}.{name}: bytes {ptr:#x}..{:#x} are outside the linear memory \
                 ({memory} bytes)",
                u64::from(ptr) + len
            ),
            FaultKind::Context => write!(
                f,
                "{module}.{name} may sleep and cannot be called in atomic context"
            ),
        }
    }
}

/// What the environment supplies to the host functions: the running program's context, its
/// calling task, clocks, randomness and where its output goes.
///
/// The kernel driver implements it with the `kernel` crate, `wasmctl --local` with `std`.
/// It is the engine store's data: each host function gets it through [`Caller::data_mut`].
pub trait Platform: Sized + 'static {
    /// Where the running call runs.
    fn context(&self) -> Context;

    /// Records why the last host call trapped.
    fn set_fault(&mut self, fault: Fault);

    /// The time of `clock`, in nanoseconds.
    fn time_ns(&self, clock: Clock) -> u64;

    /// The resolution of `clock`, in nanoseconds.
    fn resolution_ns(&self, clock: Clock) -> u64;

    /// The tick counter (`jiffies` in the kernel).
    fn jiffies(&self) -> u64;

    /// The CPU the program runs on.
    fn cpu_id(&self) -> u32;

    /// How many CPUs are online.
    fn cpus_online(&self) -> u32;

    /// The NUMA node of the CPU the program runs on (0 without NUMA).
    fn numa_node(&self) -> u32;

    /// Fills `buf` with cryptographically secure random bytes; at most
    /// [`MAX_BYTES_PER_CALL`] of them.
    fn random_fill(&mut self, buf: &mut [u8]);

    /// The process id (thread-group id) of the task the call runs for.
    fn tgid(&self) -> u32;

    /// The thread id of the task the call runs for.
    fn pid(&self) -> u32;

    /// The real user id of the task the call runs for, in the caller's user namespace.
    fn uid(&self) -> u32;

    /// The command name of the task the call runs for, NUL-padded (`TASK_COMM_LEN`).
    fn comm(&self) -> [u8; 16];

    /// Logs `message` at syslog `level` (0..=7), on the program's behalf: the platform adds
    /// who logs and limits the rate.
    fn log(&mut self, level: u32, message: &[u8]);

    /// Writes `data` (at most [`MAX_BYTES_PER_CALL`] bytes) to the program's standard output
    /// (`fd` 1) or standard error (`fd` 2). May sleep: only called in process context.
    fn write(&mut self, fd: u32, data: &[u8]) -> Result<(), wasi::Errno>;

    /// The program's arguments, each followed by a NUL byte.
    fn args(&self) -> &[u8];

    /// The program's environment (`NAME=value`), each followed by a NUL byte.
    fn environ(&self) -> &[u8];

    /// Lets other tasks run.
    fn sched_yield(&mut self);

    /// The record of the kernel event the program handles now (a packet's first bytes, a
    /// tracepoint's fields); empty outside an event.
    fn event(&self) -> &[u8];

    /// Sends `record` (at most [`kernel::MAX_EMIT_LEN`] bytes) to the userspace listeners
    /// of the program's events, without sleeping: 0 when sent, `-EAGAIN` when dropped
    /// (nobody listens, or their buffers are full), `-ENODEV` when the program is not
    /// attached to an event source.
    fn emit(&mut self, record: &[u8]) -> i32;
}

/// Every host function of this crate: finds the import by the id the engine passes back,
/// checks its context rule, and calls it.
fn dispatch<P: Platform>(
    caller: &mut Caller<'_, P>,
    args: &[Value],
    results: &mut [Value],
) -> Result<(), Trap> {
    let id = ImportId::from_func_data(caller.func_data()).ok_or(Trap::new(TrapKind::Internal))?;
    let import = id.import;
    if import.context == Context::Process && caller.data().context() == Context::Atomic {
        caller.data_mut().set_fault(Fault {
            import,
            kind: FaultKind::Context,
        });
        return Err(Trap::new(TrapKind::Host(-1)));
    }
    let mut call = Call {
        caller,
        import,
        args,
    };
    let index = usize::from(id.index);
    if id.wasi {
        wasi::call(&mut call, index, results)
    } else {
        kernel::call(&mut call, index, results)
    }
}

/// One host call: the caller, the import and its arguments, with checked accessors.
pub(crate) struct Call<'c, 'a, P> {
    pub(crate) caller: &'c mut Caller<'a, P>,
    pub(crate) import: &'static Import,
    pub(crate) args: &'c [Value],
}

impl<P: Platform> Call<'_, '_, P> {
    /// Argument `i` as a `u32` (an `i32` parameter: a pointer, a length, a file descriptor).
    pub(crate) fn u32(&self, i: usize) -> Result<u32, Trap> {
        match self.args.get(i) {
            Some(Value::I32(v)) => Ok(*v as u32),
            _ => Err(Trap::new(TrapKind::Internal)),
        }
    }

    /// The platform.
    pub(crate) fn platform(&mut self) -> &mut P {
        self.caller.data_mut()
    }

    /// Pays for moving `bytes` bytes, at the engine's bulk rate.
    pub(crate) fn pay_bytes(&mut self, bytes: usize) {
        self.caller
            .consume_fuel((bytes / BULK_BYTES_PER_FUEL) as u64);
    }

    /// The trap for a range outside the caller's memory, recorded as the call's fault.
    pub(crate) fn out_of_bounds(&mut self, ptr: u32, len: u64) -> Trap {
        let memory = self.caller.memory().map_or(0, |m| m.len() as u64);
        let import = self.import;
        self.caller.data_mut().set_fault(Fault {
            import,
            kind: FaultKind::OutOfBounds { ptr, len, memory },
        });
        Trap::new(TrapKind::MemoryOutOfBounds)
    }

    /// The caller's memory and the platform at once, or the out-of-bounds trap for
    /// `[ptr, ptr + len)` if there is no memory.
    pub(crate) fn memory_and_platform(
        &mut self,
        ptr: u32,
        len: u64,
    ) -> Result<(&mut [u8], &mut P), Trap> {
        if self.caller.memory().is_none() {
            return Err(self.out_of_bounds(ptr, len));
        }
        let (platform, memory) = self.caller.data_and_memory();
        match memory {
            Some(memory) => Ok((memory, platform)),
            None => Err(Trap::new(TrapKind::Internal)),
        }
    }

    /// Copies `bytes` into the caller's memory at `ptr`.
    pub(crate) fn store(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Trap> {
        let len = bytes.len() as u64;
        let ok = self
            .caller
            .memory()
            .and_then(|m| guest::slice_mut(m, ptr, len))
            .map(|dst| dst.copy_from_slice(bytes))
            .is_some();
        if !ok {
            return Err(self.out_of_bounds(ptr, len));
        }
        self.pay_bytes(bytes.len());
        Ok(())
    }

    /// Stores a little-endian `u32` at `ptr`.
    pub(crate) fn store_u32(&mut self, ptr: u32, v: u32) -> Result<(), Trap> {
        self.store(ptr, &v.to_le_bytes())
    }

    /// Stores a little-endian `u64` at `ptr`.
    pub(crate) fn store_u64(&mut self, ptr: u32, v: u64) -> Result<(), Trap> {
        self.store(ptr, &v.to_le_bytes())
    }

    /// Loads a little-endian `u32` from `ptr`.
    pub(crate) fn load_u32(&mut self, ptr: u32) -> Result<u32, Trap> {
        let mut bytes = [0u8; 4];
        let ok = self
            .caller
            .memory()
            .and_then(|m| guest::slice(m, ptr, 4))
            .map(|src| bytes.copy_from_slice(src))
            .is_some();
        if !ok {
            return Err(self.out_of_bounds(ptr, 4));
        }
        Ok(u32::from_le_bytes(bytes))
    }
}

/// Writes result `i`.
pub(crate) fn set(results: &mut [Value], i: usize, v: Value) -> Result<(), Trap> {
    let slot = results.get_mut(i).ok_or(Trap::new(TrapKind::Internal))?;
    *slot = v;
    Ok(())
}
