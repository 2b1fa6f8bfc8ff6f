// SPDX-License-Identifier: GPL-2.0

//! Between the engine and the protocol: values, types, trap codes and the replies to engine
//! errors.
//!
//! Shared by the driver and by `wasmctl --local` (which builds this file as a module next to
//! its own `protocol`), so that the kernel and the host report the same thing the same way.

use super::protocol::{
    Command, ProtoError, ReplyWriter, Status, TrapCode, TrapInfo, ValType, Value,
};
use core::fmt::Write;
use wasm_engine::{Error as EngineError, TrapKind};

/// Converts an engine value to the protocol's. Function references are opaque outside the
/// engine: a non-null one is sent as reference 0.
pub fn to_wire(value: wasm_engine::Value) -> Value {
    match value {
        wasm_engine::Value::I32(v) => Value::I32(v),
        wasm_engine::Value::I64(v) => Value::I64(v),
        wasm_engine::Value::F32(v) => Value::F32(v),
        wasm_engine::Value::F64(v) => Value::F64(v),
        wasm_engine::Value::FuncRef(f) => Value::FuncRef(f.map(|_| 0)),
        wasm_engine::Value::ExternRef(r) => Value::ExternRef(r),
    }
}

/// Converts a protocol value to the engine's; `None` for a non-null function reference,
/// which cannot come from outside.
pub fn from_wire(value: Value) -> Option<wasm_engine::Value> {
    Some(match value {
        Value::I32(v) => wasm_engine::Value::I32(v),
        Value::I64(v) => wasm_engine::Value::I64(v),
        Value::F32(v) => wasm_engine::Value::F32(v),
        Value::F64(v) => wasm_engine::Value::F64(v),
        Value::FuncRef(None) => wasm_engine::Value::FuncRef(None),
        Value::FuncRef(Some(_)) => return None,
        Value::ExternRef(r) => wasm_engine::Value::ExternRef(r),
    })
}

/// The engine's value type for a protocol one.
pub fn engine_type(ty: ValType) -> wasm_engine::ValType {
    match ty {
        ValType::I32 => wasm_engine::ValType::I32,
        ValType::I64 => wasm_engine::ValType::I64,
        ValType::F32 => wasm_engine::ValType::F32,
        ValType::F64 => wasm_engine::ValType::F64,
        ValType::FuncRef => wasm_engine::ValType::FuncRef,
        ValType::ExternRef => wasm_engine::ValType::ExternRef,
    }
}

/// The protocol's value type for an engine one.
pub fn wire_type(ty: wasm_engine::ValType) -> ValType {
    match ty {
        wasm_engine::ValType::I32 => ValType::I32,
        wasm_engine::ValType::I64 => ValType::I64,
        wasm_engine::ValType::F32 => ValType::F32,
        wasm_engine::ValType::F64 => ValType::F64,
        wasm_engine::ValType::FuncRef => ValType::FuncRef,
        wasm_engine::ValType::ExternRef => ValType::ExternRef,
    }
}

/// The protocol's trap code for an engine trap kind.
pub fn trap_code(kind: TrapKind) -> TrapCode {
    match kind {
        TrapKind::Unreachable => TrapCode::Unreachable,
        TrapKind::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds => TrapCode::TableOutOfBounds,
        TrapKind::UninitializedElement => TrapCode::UninitializedElement,
        TrapKind::IndirectCallTypeMismatch => TrapCode::IndirectCallTypeMismatch,
        TrapKind::UndefinedElement => TrapCode::UndefinedElement,
        TrapKind::IntegerDivideByZero => TrapCode::IntegerDivideByZero,
        TrapKind::IntegerOverflow => TrapCode::IntegerOverflow,
        TrapKind::InvalidConversionToInteger => TrapCode::InvalidConversionToInteger,
        TrapKind::CallStackExhausted => TrapCode::CallStackExhausted,
        TrapKind::ValueStackExhausted => TrapCode::ValueStackExhausted,
        TrapKind::OutOfFuel => TrapCode::OutOfFuel,
        TrapKind::Interrupted => TrapCode::Interrupted,
        TrapKind::Host(_) => TrapCode::Host,
        TrapKind::Exit(_) => TrapCode::Exit,
        _ => TrapCode::Internal,
    }
}

/// The status that reports an engine error.
pub fn error_status(error: &EngineError) -> Status {
    match error {
        EngineError::Validation { .. } => Status::InvalidModule,
        EngineError::Unsupported(_) => Status::Unsupported,
        EngineError::Link(_) => Status::LinkError,
        EngineError::Trap(_) => Status::Trap,
        EngineError::Invoke(_) => Status::SignatureMismatch,
        EngineError::Limit(_) => Status::LimitExceeded,
        EngineError::OutOfMemory => Status::OutOfMemory,
        _ => Status::Internal,
    }
}

/// Writes the whole reply to `command` for an engine error: its status, the byte offset of
/// a validation error or the code and place of a trap, and a message.
pub fn engine_error<'b>(
    buf: &'b mut [u8],
    command: Command,
    error: &EngineError,
) -> Result<&'b [u8], ProtoError> {
    engine_error_with(buf, command, error, None)
}

/// As [`engine_error`], adding `detail` to a trap's message: what a host function found
/// wrong (which import, which range of memory).
pub fn engine_error_with<'b>(
    buf: &'b mut [u8],
    command: Command,
    error: &EngineError,
    detail: Option<&dyn core::fmt::Display>,
) -> Result<&'b [u8], ProtoError> {
    let mut w = ReplyWriter::new(buf, command.code(), error_status(error))?;
    match error {
        EngineError::Validation { offset, message } => {
            w.invalid_module(*offset as u64)?;
            let _ = write!(w, "{message} (at offset {offset:#x})");
        }
        EngineError::Trap(trap) => {
            w.trap(&TrapInfo {
                code: trap_code(trap.kind),
                func: trap.func,
                offset: trap.offset,
                host_code: match trap.kind {
                    TrapKind::Host(code) | TrapKind::Exit(code) => code,
                    _ => 0,
                },
            })?;
            let _ = match detail {
                Some(detail) => write!(w, "{trap}: {detail}"),
                None => write!(w, "{trap}"),
            };
        }
        EngineError::Unsupported(what)
        | EngineError::Link(what)
        | EngineError::Invoke(what)
        | EngineError::Limit(what) => {
            w.message(what);
        }
        other => {
            let _ = write!(w, "{other}");
        }
    }
    w.finish()
}
