// SPDX-License-Identifier: GPL-2.0

//! The `spectest` host module, for conformance testing only.
//!
//! The scripts of the WebAssembly specification testsuite import these objects. With
//! `CONFIG_WASM_SPECTEST` the driver provides them, exactly as the reference interpreter does,
//! to every link group that imports from `MODULE` without having registered that name
//! itself; each link group gets its own copy, created when one of its instances first imports
//! from it. Without the option, such an import is unknown like any other and fails to link.
//!
//! Shared by the driver and by `wasmctl --local`, which build this file as a module next to
//! their `protocol`.

use super::protocol::{ValType, Value};

/// The module name the imports use.
pub const MODULE: &str = "spectest";

/// The functions: names and parameter types. None has results; all do nothing.
pub const FUNCS: [(&str, &[ValType]); 7] = [
    ("print", &[]),
    ("print_i32", &[ValType::I32]),
    ("print_i64", &[ValType::I64]),
    ("print_f32", &[ValType::F32]),
    ("print_f64", &[ValType::F64]),
    ("print_i32_f32", &[ValType::I32, ValType::F32]),
    ("print_f64_f64", &[ValType::F64, ValType::F64]),
];

/// The globals, all immutable: names and values (666, 666, 666.6 and 666.6).
pub const GLOBALS: [(&str, Value); 4] = [
    ("global_i32", Value::I32(666)),
    ("global_i64", Value::I64(666)),
    ("global_f32", Value::F32(0x4426_a666)),
    ("global_f64", Value::F64(0x4084_d4cc_cccc_cccd)),
];

/// The table: its name and its minimum and maximum number of `funcref` elements, all null.
pub const TABLE: (&str, u32, u32) = ("table", 10, 20);

/// The memory: its name and its minimum and maximum number of 64 KiB pages, zeroed.
pub const MEMORY: (&str, u32, u32) = ("memory", 1, 2);
