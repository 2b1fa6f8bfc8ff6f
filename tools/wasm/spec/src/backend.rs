// SPDX-License-Identifier: GPL-2.0

//! The execution side of the runner: what a backend must do to run a `.wast` script.
//!
//! Everything that crosses the [`Backend`] trait is plain data ([`Value`], [`InstanceId`],
//! [`Error`]), so that a backend can live in another address space: the in-process
//! [`LocalBackend`](crate::local::LocalBackend) runs the engine directly, and
//! [`ProtocolBackend`](crate::protocol::ProtocolBackend) serialises the same calls into the wasm
//! connector protocol, for the kernel's driver or its in-process twin.

use std::fmt;

/// A WebAssembly value as it crosses the backend boundary.
///
/// Floats are carried as their bit patterns so that NaN payloads and signed zeros survive any
/// transport unchanged. References carry only what a spec script can observe: whether they are
/// null and, for `externref`, the host value they wrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// The bits of an `f32`.
    F32(u32),
    /// The bits of an `f64`.
    F64(u64),
    /// A `funcref`: `None` is `ref.null func`; `Some(id)` is a non-null reference whose `id` is
    /// an opaque identity chosen by the backend (scripts cannot name it, so it is never
    /// compared).
    FuncRef(Option<u32>),
    /// An `externref`: `None` is `ref.null extern`, `Some(n)` is the script's `ref.extern n`.
    ExternRef(Option<u32>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(bits) => write!(f, "f32:{} (0x{bits:08x})", f32::from_bits(bits)),
            Value::F64(bits) => write!(f, "f64:{} (0x{bits:016x})", f64::from_bits(bits)),
            Value::FuncRef(None) => f.write_str("ref.null func"),
            Value::FuncRef(Some(_)) => f.write_str("ref.func"),
            Value::ExternRef(None) => f.write_str("ref.null extern"),
            Value::ExternRef(Some(n)) => write!(f, "ref.extern {n}"),
        }
    }
}

/// Formats a list of values as `[v1, v2]`, for failure reports.
pub fn display_values(values: &[Value]) -> String {
    let items: Vec<String> = values.iter().map(Value::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// A live module instance inside a backend.
///
/// The number is the backend's own handle; it is meaningful only to the backend that issued it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId(pub u32);

/// Why a backend operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The bytes were rejected when decoding or validating the module (`Module::new`).
    Compile(String),
    /// The module is valid but its imports could not be satisfied.
    Link(String),
    /// Execution trapped: in a call, in the start function or while initialising segments.
    ///
    /// The message is the engine's `TrapKind::message()`, which uses the spec's wording;
    /// exhausting the call stack is a trap too ("call stack exhausted").
    Trap(String),
    /// Anything else: an unknown instance or export, arguments of the wrong type, a transport
    /// failure, or a panic inside the engine.
    Other(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Compile(msg) => write!(f, "module rejected: {msg}"),
            Error::Link(msg) => write!(f, "link error: {msg}"),
            Error::Trap(msg) => write!(f, "trap: {msg}"),
            Error::Other(msg) => write!(f, "error: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// Runs modules for a `.wast` script.
///
/// One backend serves one script: it starts with only the `spectest` host module available for
/// imports, and it must provide that module exactly as the reference interpreter does —
/// functions `print`, `print_i32`, `print_i64`, `print_f32`, `print_f64`, `print_i32_f32` and
/// `print_f64_f64` (which do nothing), globals `global_i32` = 666, `global_i64` = 666,
/// `global_f32` = 666.6 and `global_f64` = 666.6 (all immutable), `table` (10..20 `funcref`)
/// and `memory` (1..2 pages).
pub trait Backend {
    /// Decodes and validates `bytes` without instantiating them.
    ///
    /// Used for `assert_invalid` and `assert_malformed`; any [`Error::Compile`] counts as a
    /// rejection.
    fn validate(&mut self, bytes: &[u8]) -> Result<(), Error>;

    /// Decodes, validates, links and instantiates `bytes`, running its start function.
    ///
    /// Imports are resolved by module name against `spectest` and the instances passed to
    /// [`Backend::register`]. Errors are [`Error::Compile`] for invalid bytes,
    /// [`Error::Link`] for unsatisfiable imports and [`Error::Trap`] when segment
    /// initialisation or the start function traps; in the last case, effects on imported
    /// memories and tables that happened before the trap stay visible, as the spec requires.
    fn instantiate(&mut self, bytes: &[u8]) -> Result<InstanceId, Error>;

    /// Makes the exports of `instance` importable under the module name `name`.
    fn register(&mut self, name: &str, instance: InstanceId) -> Result<(), Error>;

    /// Calls the exported function `export` of `instance` with `args`.
    fn invoke(
        &mut self,
        instance: InstanceId,
        export: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, Error>;

    /// Reads the exported global `export` of `instance`.
    fn get(&mut self, instance: InstanceId, export: &str) -> Result<Value, Error>;

    /// Releases what the script created, after its last directive. A failure counts as a
    /// failure of the script.
    fn finish(&mut self) -> Result<(), Error> {
        Ok(())
    }
}
