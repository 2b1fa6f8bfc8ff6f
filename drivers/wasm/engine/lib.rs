// SPDX-License-Identifier: GPL-2.0

//! The WebAssembly engine of the kernel's WebAssembly runtime.
//!
//! The engine depends on `core`, `alloc` and the vendored `wasmparser` only, never on the
//! `kernel` crate, so the same source builds with Kbuild inside the kernel and with cargo on
//! the host (`tools/wasm/engine`), where the spec runner, fuzzers and benchmarks use it.
//!
//! Its modules follow the structure of the WebAssembly specification:
//!
//! - binary format and validation: `wasmparser` (see [`module`]);
//! - translation of validated function bodies into the engine's internal form: [`ir`],
//!   [`translate`];
//! - execution: [`exec`] (the interpreter), [`float`] (bit-exact floating point without an
//!   FPU), [`store`] (instances and their runtime objects);
//! - the embedder's side: [`host`] (host functions, the interrupt hook and where float
//!   arithmetic runs).
//!
//! # Ring-0 rules
//!
//! Nothing here recurses on input: the translator keeps its control stack on the heap and
//! the interpreter keeps wasm frames and values on heap stacks whose limits are in
//! [`Config`]; exhausting them is a trap. Sizes controlled by a module (memories, tables,
//! segments, stacks) are allocated fallibly, against the budgets of [`Config`]. Fuel bounds
//! work, and the interrupt hook runs at bounded intervals of it, during validation,
//! translation and instantiation too. The only `unsafe` code is the interpreter's core,
//! `exec::interp`, which documents what it relies on and checks it before running.
//!
//! # Examples
//!
//! ```
//! use wasm_engine::{Config, Module, Store, Value};
//!
//! // (module (func (export "add") (param i32 i32) (result i32)
//! //   local.get 0 local.get 1 i32.add))
//! let bytes = [
//!     0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7f,
//!     0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64,
//!     0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
//! ];
//! let config = Config::default();
//! // Modules are shared by the instances made from them.
//! let module = std::sync::Arc::new(Module::new(&config, &bytes)?);
//! let mut store = Store::new(config, ());
//! let instance = store.instantiate(&module, &[])?;
//! let add = store.get_export(instance, "add").and_then(|e| e.func());
//! let add = add.ok_or(wasm_engine::Error::Link("no export add".into()))?;
//! assert_eq!(store.invoke(add, &[Value::I32(2), Value::I32(3)])?, [Value::I32(5)]);
//! # Ok::<(), wasm_engine::Error>(())
//! ```

#![no_std]
// `unsafe` is denied everywhere but in the interpreter's core (`exec::interp`), which
// documents what it relies on.
#![deny(unsafe_code)]
#![deny(missing_docs)]

// The kernel build passes `--extern alloc`, which already puts `alloc` in scope; cargo does
// not for a `no_std` crate.
#[allow(unused_extern_crates)]
extern crate alloc;
// Host builds only: hardware square roots (see `exec::numeric`).
#[cfg(feature = "std")]
extern crate std;

pub mod config;
pub mod error;
pub mod exec;
pub mod float;
pub mod host;
pub mod ir;
pub mod module;
pub mod store;
pub mod translate;
pub mod value;

pub use config::{Config, Dispatch};
pub use error::{format_message, Error, Message, Trap, TrapKind};
pub use host::{Caller, FloatUnit, HostFn, InterruptHook, SoftFloat};
pub use module::{ExternKind, Module};
pub use store::{
    Extern, FuncAddr, GlobalAddr, InstanceAddr, MemoryAddr, ModuleRef, Store, TableAddr,
};
pub use value::{ExternType, FuncType, GlobalType, Limits, MemoryType, TableType, ValType, Value};
