// SPDX-License-Identifier: GPL-2.0

//! The engine's internal instruction set.
//!
//! [`crate::translate`] turns each validated function body into a flat array of [`Op`]s:
//! a stack machine over untyped 64-bit slots, in which
//!
//! - every branch carries its resolved target index and how many slots to keep and drop,
//!   so blocks, loops and labels cost nothing at run time;
//! - instructions that only change a value's static type (`i32.reinterpret_f32`,
//!   `i64.extend_i32_u`, `nop`, …) are gone, and loads and stores that move the same bits
//!   share one operation (`f32.load` is `I32Load`);
//! - loop headers carry a [`Op::Check`] for fuel and the interrupt hook.
//!
//! Slot encoding: `i32` and `f32` are zero-extended to 64 bits, floats are bit patterns,
//! references are their address plus one with 0 for null.
//!
//! Function, table, memory, global, type, element and data indices are module-relative
//! when translated and rewritten to store addresses when an instance is created, so that
//! the interpreter needs no per-instance lookup for them.

/// One instruction of the internal form. 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Op {
    /// Trap with "unreachable".
    Unreachable,
    /// Fuel and interrupt check, at every loop header.
    Check,
    /// Jump to `target`, keeping the top `keep` slots and dropping the `drop` below them.
    Br {
        target: u32,
        drop: u32,
        keep: u32,
    },
    /// Pop an `i32`; if non-zero, branch like [`Op::Br`].
    BrIfNez {
        target: u32,
        drop: u32,
        keep: u32,
    },
    /// Pop an `i32`; if zero, jump to `target` (no stack change: used by `if`).
    BrIfEqz {
        target: u32,
    },
    /// Pop an index; execute the `Br` at `index + 1` after this op, or the one at
    /// `len + 1` (the default) if `index >= len`.
    BrTable {
        len: u32,
    },
    /// Return the top `keep` slots to the caller.
    Return {
        keep: u32,
    },
    /// Call a function (module index, then store address).
    Call {
        func: u32,
    },
    /// Pop a table index and call through the table (type and table rewritten to store
    /// addresses).
    CallIndirect {
        type_id: u32,
        table: u32,
    },

    Drop,
    Select,
    LocalGet(u32),
    LocalSet(u32),
    LocalTee(u32),
    GlobalGet(u32),
    GlobalSet(u32),

    TableGet(u32),
    TableSet(u32),
    TableSize(u32),
    TableGrow(u32),
    TableFill(u32),
    TableCopy {
        dst: u32,
        src: u32,
    },
    TableInit {
        table: u32,
        elem: u32,
    },
    ElemDrop(u32),

    I32Load(u32),
    I64Load(u32),
    I32Load8S(u32),
    I32Load8U(u32),
    I32Load16S(u32),
    I32Load16U(u32),
    I64Load8S(u32),
    I64Load16S(u32),
    I64Load32S(u32),
    I32Store(u32),
    I64Store(u32),
    I32Store8(u32),
    I32Store16(u32),
    MemorySize,
    MemoryGrow,
    MemoryInit(u32),
    DataDrop(u32),
    MemoryCopy,
    MemoryFill,

    I32Const(i32),
    I64Const(i64),
    Const32(u32),
    Const64(u64),
    RefNull,
    RefIsNull,
    RefFunc(u32),

    I32Eqz,
    I32Eq,
    I32Ne,
    I32LtS,
    I32LtU,
    I32GtS,
    I32GtU,
    I32LeS,
    I32LeU,
    I32GeS,
    I32GeU,
    I64Eqz,
    I64Eq,
    I64Ne,
    I64LtS,
    I64LtU,
    I64GtS,
    I64GtU,
    I64LeS,
    I64LeU,
    I64GeS,
    I64GeU,
    F32Eq,
    F32Ne,
    F32Lt,
    F32Gt,
    F32Le,
    F32Ge,
    F64Eq,
    F64Ne,
    F64Lt,
    F64Gt,
    F64Le,
    F64Ge,

    I32Clz,
    I32Ctz,
    I32Popcnt,
    I32Add,
    I32Sub,
    I32Mul,
    I32DivS,
    I32DivU,
    I32RemS,
    I32RemU,
    I32And,
    I32Or,
    I32Xor,
    I32Shl,
    I32ShrS,
    I32ShrU,
    I32Rotl,
    I32Rotr,
    I64Clz,
    I64Ctz,
    I64Popcnt,
    I64Add,
    I64Sub,
    I64Mul,
    I64DivS,
    I64DivU,
    I64RemS,
    I64RemU,
    I64And,
    I64Or,
    I64Xor,
    I64Shl,
    I64ShrS,
    I64ShrU,
    I64Rotl,
    I64Rotr,

    F32Abs,
    F32Neg,
    F32Ceil,
    F32Floor,
    F32Trunc,
    F32Nearest,
    F32Sqrt,
    F32Add,
    F32Sub,
    F32Mul,
    F32Div,
    F32Min,
    F32Max,
    F32Copysign,
    F64Abs,
    F64Neg,
    F64Ceil,
    F64Floor,
    F64Trunc,
    F64Nearest,
    F64Sqrt,
    F64Add,
    F64Sub,
    F64Mul,
    F64Div,
    F64Min,
    F64Max,
    F64Copysign,

    I32WrapI64,
    I32TruncF32S,
    I32TruncF32U,
    I32TruncF64S,
    I32TruncF64U,
    I64ExtendI32S,
    I64TruncF32S,
    I64TruncF32U,
    I64TruncF64S,
    I64TruncF64U,
    F32ConvertI32S,
    F32ConvertI32U,
    F32ConvertI64S,
    F32ConvertI64U,
    F32DemoteF64,
    F64ConvertI32S,
    F64ConvertI32U,
    F64ConvertI64S,
    F64ConvertI64U,
    F64PromoteF32,
    I32Extend8S,
    I32Extend16S,
    I64Extend8S,
    I64Extend16S,
    I64Extend32S,
    I32TruncSatF32S,
    I32TruncSatF32U,
    I32TruncSatF64S,
    I32TruncSatF64U,
    I64TruncSatF32S,
    I64TruncSatF32U,
    I64TruncSatF64S,
    I64TruncSatF64U,
}

/// A translated function body.
#[derive(Debug, Default)]
pub struct FuncCode {
    /// The instructions; the last one is a `Return`.
    pub ops: alloc::vec::Vec<Op>,
    /// For each op, the byte offset in the module of the instruction it came from.
    pub offsets: alloc::vec::Vec<u32>,
    /// Index of the function in its module's function index space.
    pub func_index: u32,
    /// Number of parameters.
    pub num_params: u32,
    /// Number of declared locals besides the parameters (zeroed on entry).
    pub num_locals: u32,
    /// Number of results.
    pub num_results: u32,
    /// Maximum number of slots the function uses above its frame pointer: parameters,
    /// locals and operands. Checked once on entry, so the body itself cannot overflow.
    pub max_height: u32,
}
