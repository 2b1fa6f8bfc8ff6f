// SPDX-License-Identifier: GPL-2.0

//! Translation of validated function bodies into the internal form ([`crate::ir`]).
//!
//! One pass over the operators, with the control stack on the heap: each block records the
//! operand height at its start, and forward branches to it are chained through their
//! `target` fields until its `end` patches them. Code after an unconditional branch is
//! unreachable and not emitted; only its block structure is followed.
//!
//! The body must have been validated: the translator relies on the validator for operand
//! types and stack discipline and only reports an error, never panics, if that does not
//! hold.

use crate::error::Error;
use crate::ir::{FuncCode, Op};
use crate::value::FuncType;
use alloc::format;
use alloc::vec::Vec;
use wasmparser::{BlockType, FunctionBody, Operator};

/// End of a chain of unpatched forward branches.
const NO_PATCH: u32 = u32::MAX;

/// What the translator needs to know about the module.
pub struct ModuleContext<'m> {
    /// The module's function types.
    pub types: &'m [FuncType],
    /// The type index of every function, imported ones first.
    pub func_types: &'m [u32],
}

impl ModuleContext<'_> {
    fn func_type(&self, type_index: u32) -> Result<&FuncType, Error> {
        self.types
            .get(type_index as usize)
            .ok_or_else(|| Error::Unsupported(format!("type index {type_index}")))
    }

    /// Parameter and result counts of a block type.
    fn block_arity(&self, ty: BlockType) -> Result<(u32, u32), Error> {
        Ok(match ty {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(index) => {
                let ty = self.func_type(index)?;
                (count(ty.params().len())?, count(ty.results().len())?)
            }
        })
    }
}

fn count(n: usize) -> Result<u32, Error> {
    u32::try_from(n).map_err(|_| Error::Limit("too many values".into()))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Block,
    Loop,
    If,
    Else,
    Function,
}

/// A block being translated.
#[derive(Clone, Copy)]
struct Ctrl {
    kind: BlockKind,
    /// Operand height below the block's parameters.
    height: u32,
    params: u32,
    results: u32,
    /// Index of the loop's first op (the branch target of a loop).
    start: u32,
    /// Head of the chain of forward branches to this block's end.
    patches: u32,
    /// For `if`: the `BrIfEqz` that jumps to the `else` arm or the end.
    else_patch: u32,
}

struct Translator<'c, 'm> {
    ctx: &'c ModuleContext<'m>,
    code: FuncCode,
    ctrl: Vec<Ctrl>,
    height: u32,
    /// The current code is unreachable: after `br`, `br_table`, `return` or `unreachable`.
    unreachable: bool,
    /// Depth of blocks opened inside unreachable code (skipped entirely).
    dead_depth: u32,
    offset: u32,
}

/// Translates the body of the function with index `func_index` and type `ty`.
pub fn translate_function(
    ctx: &ModuleContext<'_>,
    func_index: u32,
    ty: &FuncType,
    body: &FunctionBody<'_>,
) -> Result<FuncCode, Error> {
    let num_params = count(ty.params().len())?;
    let num_results = count(ty.results().len())?;
    let mut num_locals: u32 = 0;
    let mut locals = body.get_locals_reader().map_err(parse_error)?;
    for _ in 0..locals.get_count() {
        let (n, _) = locals.read().map_err(parse_error)?;
        num_locals = num_locals
            .checked_add(n)
            .ok_or_else(|| Error::Limit("too many locals".into()))?;
    }
    let base = num_params
        .checked_add(num_locals)
        .ok_or_else(|| Error::Limit("too many locals".into()))?;
    let mut t = Translator {
        ctx,
        code: FuncCode {
            func_index,
            num_params,
            num_locals,
            num_results,
            max_height: base,
            ..FuncCode::default()
        },
        ctrl: Vec::new(),
        height: base,
        unreachable: false,
        dead_depth: 0,
        offset: 0,
    };
    t.push_ctrl(Ctrl {
        kind: BlockKind::Function,
        height: base,
        params: 0,
        results: num_results,
        start: 0,
        patches: NO_PATCH,
        else_patch: NO_PATCH,
    })?;
    let mut reader = body.get_operators_reader().map_err(parse_error)?;
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset().map_err(parse_error)?;
        t.offset = u32::try_from(offset).unwrap_or(u32::MAX);
        t.operator(op)?;
    }
    if !t.ctrl.is_empty() {
        return Err(internal("function body does not end its blocks"));
    }
    t.code.ops.shrink_to_fit();
    t.code.offsets.shrink_to_fit();
    Ok(t.code)
}

fn parse_error(err: wasmparser::BinaryReaderError) -> Error {
    Error::Validation {
        offset: usize::try_from(err.offset()).unwrap_or(usize::MAX),
        message: alloc::string::String::from(err.message()),
    }
}

fn internal(what: &str) -> Error {
    Error::Unsupported(format!("translator invariant: {what}"))
}

impl Translator<'_, '_> {
    fn push_ctrl(&mut self, ctrl: Ctrl) -> Result<(), Error> {
        self.ctrl.try_reserve(1)?;
        self.ctrl.push(ctrl);
        Ok(())
    }

    fn pc(&self) -> Result<u32, Error> {
        u32::try_from(self.code.ops.len()).map_err(|_| Error::Limit("function too large".into()))
    }

    fn emit(&mut self, op: Op) -> Result<(), Error> {
        self.code.ops.try_reserve(1)?;
        self.code.offsets.try_reserve(1)?;
        self.code.ops.push(op);
        self.code.offsets.push(self.offset);
        Ok(())
    }

    fn pop(&mut self, n: u32) -> Result<(), Error> {
        self.height = self
            .height
            .checked_sub(n)
            .ok_or_else(|| internal("operand stack underflow"))?;
        Ok(())
    }

    fn push(&mut self, n: u32) -> Result<(), Error> {
        self.height = self
            .height
            .checked_add(n)
            .ok_or_else(|| internal("operand stack overflow"))?;
        self.code.max_height = self.code.max_height.max(self.height);
        Ok(())
    }

    /// Emits `op`, which pops `pops` operands and pushes `pushes`.
    fn simple(&mut self, op: Op, pops: u32, pushes: u32) -> Result<(), Error> {
        self.pop(pops)?;
        self.push(pushes)?;
        self.emit(op)
    }

    fn frame(&self, depth: u32) -> Result<Ctrl, Error> {
        let index = self
            .ctrl
            .len()
            .checked_sub(1 + depth as usize)
            .ok_or_else(|| internal("branch depth"))?;
        self.ctrl
            .get(index)
            .copied()
            .ok_or_else(|| internal("branch depth"))
    }

    fn frame_mut(&mut self, depth: u32) -> Result<&mut Ctrl, Error> {
        let index = self
            .ctrl
            .len()
            .checked_sub(1 + depth as usize)
            .ok_or_else(|| internal("branch depth"))?;
        self.ctrl
            .get_mut(index)
            .ok_or_else(|| internal("branch depth"))
    }

    /// Builds a branch to the label `depth` levels up, emitted as `make(target, drop,
    /// keep)` at the current height. Forward branches are chained for patching.
    fn branch(&mut self, depth: u32, make: fn(u32, u32, u32) -> Op) -> Result<(), Error> {
        let frame = self.frame(depth)?;
        let keep = if frame.kind == BlockKind::Loop {
            frame.params
        } else {
            frame.results
        };
        let drop = self
            .height
            .checked_sub(frame.height)
            .and_then(|h| h.checked_sub(keep))
            .ok_or_else(|| internal("branch height"))?;
        let pc = self.pc()?;
        if frame.kind == BlockKind::Loop {
            self.emit(make(frame.start, drop, keep))
        } else if frame.kind == BlockKind::Function {
            self.emit(Op::Return { keep })
        } else {
            self.emit(make(frame.patches, drop, keep))?;
            self.frame_mut(depth)?.patches = pc;
            Ok(())
        }
    }

    /// Points every branch in the chain starting at `head` to `target`.
    fn patch_chain(&mut self, mut head: u32, target: u32) -> Result<(), Error> {
        while head != NO_PATCH {
            let op = self
                .code
                .ops
                .get_mut(head as usize)
                .ok_or_else(|| internal("patch index"))?;
            head = match op {
                Op::Br { target: t, .. }
                | Op::BrIfNez { target: t, .. }
                | Op::BrIfEqz { target: t } => core::mem::replace(t, target),
                _ => return Err(internal("patching a non-branch")),
            };
        }
        Ok(())
    }

    fn block(&mut self, kind: BlockKind, ty: BlockType) -> Result<(), Error> {
        let (params, results) = self.ctx.block_arity(ty)?;
        let height = self
            .height
            .checked_sub(params)
            .ok_or_else(|| internal("block parameters"))?;
        let start = self.pc()?;
        self.push_ctrl(Ctrl {
            kind,
            height,
            params,
            results,
            start,
            patches: NO_PATCH,
            else_patch: NO_PATCH,
        })
    }

    fn end(&mut self) -> Result<(), Error> {
        let frame = self.ctrl.pop().ok_or_else(|| internal("unbalanced end"))?;
        let end = self.pc()?;
        if frame.kind == BlockKind::Function {
            if !self.unreachable {
                self.emit(Op::Return {
                    keep: frame.results,
                })?;
            }
            self.patch_chain(frame.patches, end)?;
            return Ok(());
        }
        self.patch_chain(frame.patches, end)?;
        self.patch_chain(frame.else_patch, end)?;
        self.unreachable = false;
        self.height = frame.height;
        self.push(frame.results)
    }

    fn operator(&mut self, op: Operator<'_>) -> Result<(), Error> {
        if self.unreachable {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    self.dead_depth = self
                        .dead_depth
                        .checked_add(1)
                        .ok_or_else(|| internal("nesting"))?;
                    return Ok(());
                }
                Operator::End if self.dead_depth > 0 => {
                    self.dead_depth -= 1;
                    return Ok(());
                }
                Operator::Else if self.dead_depth > 0 => return Ok(()),
                Operator::End | Operator::Else => {}
                _ => return Ok(()),
            }
        }
        macro_rules! simple {
            ($($name:ident: $pops:literal -> $pushes:literal,)*) => {
                match op {
                    $(Operator::$name => return self.simple(Op::$name, $pops, $pushes),)*
                    _ => {}
                }
            };
        }
        simple! {
            I32Eqz: 1 -> 1, I32Eq: 2 -> 1, I32Ne: 2 -> 1, I32LtS: 2 -> 1, I32LtU: 2 -> 1,
            I32GtS: 2 -> 1, I32GtU: 2 -> 1, I32LeS: 2 -> 1, I32LeU: 2 -> 1, I32GeS: 2 -> 1,
            I32GeU: 2 -> 1,
            I64Eqz: 1 -> 1, I64Eq: 2 -> 1, I64Ne: 2 -> 1, I64LtS: 2 -> 1, I64LtU: 2 -> 1,
            I64GtS: 2 -> 1, I64GtU: 2 -> 1, I64LeS: 2 -> 1, I64LeU: 2 -> 1, I64GeS: 2 -> 1,
            I64GeU: 2 -> 1,
            F32Eq: 2 -> 1, F32Ne: 2 -> 1, F32Lt: 2 -> 1, F32Gt: 2 -> 1, F32Le: 2 -> 1,
            F32Ge: 2 -> 1,
            F64Eq: 2 -> 1, F64Ne: 2 -> 1, F64Lt: 2 -> 1, F64Gt: 2 -> 1, F64Le: 2 -> 1,
            F64Ge: 2 -> 1,
            I32Clz: 1 -> 1, I32Ctz: 1 -> 1, I32Popcnt: 1 -> 1, I32Add: 2 -> 1, I32Sub: 2 -> 1,
            I32Mul: 2 -> 1, I32DivS: 2 -> 1, I32DivU: 2 -> 1, I32RemS: 2 -> 1, I32RemU: 2 -> 1,
            I32And: 2 -> 1, I32Or: 2 -> 1, I32Xor: 2 -> 1, I32Shl: 2 -> 1, I32ShrS: 2 -> 1,
            I32ShrU: 2 -> 1, I32Rotl: 2 -> 1, I32Rotr: 2 -> 1,
            I64Clz: 1 -> 1, I64Ctz: 1 -> 1, I64Popcnt: 1 -> 1, I64Add: 2 -> 1, I64Sub: 2 -> 1,
            I64Mul: 2 -> 1, I64DivS: 2 -> 1, I64DivU: 2 -> 1, I64RemS: 2 -> 1, I64RemU: 2 -> 1,
            I64And: 2 -> 1, I64Or: 2 -> 1, I64Xor: 2 -> 1, I64Shl: 2 -> 1, I64ShrS: 2 -> 1,
            I64ShrU: 2 -> 1, I64Rotl: 2 -> 1, I64Rotr: 2 -> 1,
            F32Abs: 1 -> 1, F32Neg: 1 -> 1, F32Ceil: 1 -> 1, F32Floor: 1 -> 1,
            F32Trunc: 1 -> 1, F32Nearest: 1 -> 1, F32Sqrt: 1 -> 1, F32Add: 2 -> 1,
            F32Sub: 2 -> 1, F32Mul: 2 -> 1, F32Div: 2 -> 1, F32Min: 2 -> 1, F32Max: 2 -> 1,
            F32Copysign: 2 -> 1,
            F64Abs: 1 -> 1, F64Neg: 1 -> 1, F64Ceil: 1 -> 1, F64Floor: 1 -> 1,
            F64Trunc: 1 -> 1, F64Nearest: 1 -> 1, F64Sqrt: 1 -> 1, F64Add: 2 -> 1,
            F64Sub: 2 -> 1, F64Mul: 2 -> 1, F64Div: 2 -> 1, F64Min: 2 -> 1, F64Max: 2 -> 1,
            F64Copysign: 2 -> 1,
            I32WrapI64: 1 -> 1, I32TruncF32S: 1 -> 1, I32TruncF32U: 1 -> 1,
            I32TruncF64S: 1 -> 1, I32TruncF64U: 1 -> 1, I64ExtendI32S: 1 -> 1,
            I64TruncF32S: 1 -> 1, I64TruncF32U: 1 -> 1, I64TruncF64S: 1 -> 1,
            I64TruncF64U: 1 -> 1, F32ConvertI32S: 1 -> 1, F32ConvertI32U: 1 -> 1,
            F32ConvertI64S: 1 -> 1, F32ConvertI64U: 1 -> 1, F32DemoteF64: 1 -> 1,
            F64ConvertI32S: 1 -> 1, F64ConvertI32U: 1 -> 1, F64ConvertI64S: 1 -> 1,
            F64ConvertI64U: 1 -> 1, F64PromoteF32: 1 -> 1,
            I32Extend8S: 1 -> 1, I32Extend16S: 1 -> 1, I64Extend8S: 1 -> 1,
            I64Extend16S: 1 -> 1, I64Extend32S: 1 -> 1,
            I32TruncSatF32S: 1 -> 1, I32TruncSatF32U: 1 -> 1, I32TruncSatF64S: 1 -> 1,
            I32TruncSatF64U: 1 -> 1, I64TruncSatF32S: 1 -> 1, I64TruncSatF32U: 1 -> 1,
            I64TruncSatF64S: 1 -> 1, I64TruncSatF64U: 1 -> 1,
            Drop: 1 -> 0, Select: 3 -> 1, RefIsNull: 1 -> 1,
        }
        macro_rules! memarg {
            ($memarg:expr) => {
                u32::try_from($memarg.offset)
                    .map_err(|_| Error::Unsupported("64-bit memory offset".into()))?
            };
        }
        match op {
            Operator::Unreachable => {
                self.emit(Op::Unreachable)?;
                self.set_unreachable();
            }
            Operator::Nop
            | Operator::I32ReinterpretF32
            | Operator::F32ReinterpretI32
            | Operator::I64ReinterpretF64
            | Operator::F64ReinterpretI64
            | Operator::I64ExtendI32U => {}
            Operator::Block { blockty } => self.block(BlockKind::Block, blockty)?,
            Operator::Loop { blockty } => {
                self.block(BlockKind::Loop, blockty)?;
                self.emit(Op::Check)?;
            }
            Operator::If { blockty } => {
                self.pop(1)?;
                let pc = self.pc()?;
                self.emit(Op::BrIfEqz { target: NO_PATCH })?;
                self.block(BlockKind::If, blockty)?;
                self.frame_mut(0)?.else_patch = pc;
            }
            Operator::Else => {
                let frame = self.frame(0)?;
                if !self.unreachable {
                    self.branch(0, |target, drop, keep| Op::Br { target, drop, keep })?;
                }
                let pc = self.pc()?;
                self.patch_chain(frame.else_patch, pc)?;
                let f = self.frame_mut(0)?;
                f.kind = BlockKind::Else;
                f.else_patch = NO_PATCH;
                self.unreachable = false;
                self.height = frame.height;
                self.push(frame.params)?;
            }
            Operator::End => self.end()?,
            Operator::Br { relative_depth } => {
                self.branch(relative_depth, |target, drop, keep| Op::Br {
                    target,
                    drop,
                    keep,
                })?;
                self.set_unreachable();
            }
            Operator::BrIf { relative_depth } => {
                self.pop(1)?;
                let frame = self.frame(relative_depth)?;
                if frame.kind == BlockKind::Function {
                    // A conditional return: skip it when the condition is zero.
                    let skip = self.pc()?;
                    self.emit(Op::BrIfEqz { target: NO_PATCH })?;
                    self.branch(relative_depth, |_, _, _| Op::Unreachable)?;
                    let after = self.pc()?;
                    self.patch_chain(skip, after)?;
                } else {
                    self.branch(relative_depth, |target, drop, keep| Op::BrIfNez {
                        target,
                        drop,
                        keep,
                    })?;
                }
            }
            Operator::BrTable { targets } => {
                self.pop(1)?;
                let len = targets.len();
                self.emit(Op::BrTable { len })?;
                for depth in targets.targets() {
                    let depth = depth.map_err(parse_error)?;
                    self.branch(depth, |target, drop, keep| Op::Br { target, drop, keep })?;
                }
                self.branch(targets.default(), |target, drop, keep| Op::Br {
                    target,
                    drop,
                    keep,
                })?;
                self.set_unreachable();
            }
            Operator::Return => {
                let depth = count(self.ctrl.len())?
                    .checked_sub(1)
                    .ok_or_else(|| internal("return outside a function"))?;
                self.branch(depth, |_, _, _| Op::Unreachable)?;
                self.set_unreachable();
            }
            Operator::Call { function_index } => {
                let type_index = *self
                    .ctx
                    .func_types
                    .get(function_index as usize)
                    .ok_or_else(|| internal("function index"))?;
                let ty = self.ctx.func_type(type_index)?;
                let (params, results) = (count(ty.params().len())?, count(ty.results().len())?);
                self.simple(
                    Op::Call {
                        func: function_index,
                    },
                    params,
                    results,
                )?;
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                let ty = self.ctx.func_type(type_index)?;
                let (params, results) = (count(ty.params().len())?, count(ty.results().len())?);
                self.pop(1)?;
                self.simple(
                    Op::CallIndirect {
                        type_id: type_index,
                        table: table_index,
                    },
                    params,
                    results,
                )?;
            }
            Operator::TypedSelect { .. } => self.simple(Op::Select, 3, 1)?,
            Operator::LocalGet { local_index } => self.simple(Op::LocalGet(local_index), 0, 1)?,
            Operator::LocalSet { local_index } => self.simple(Op::LocalSet(local_index), 1, 0)?,
            Operator::LocalTee { local_index } => self.simple(Op::LocalTee(local_index), 1, 1)?,
            Operator::GlobalGet { global_index } => {
                self.simple(Op::GlobalGet(global_index), 0, 1)?
            }
            Operator::GlobalSet { global_index } => {
                self.simple(Op::GlobalSet(global_index), 1, 0)?
            }
            Operator::TableGet { table } => self.simple(Op::TableGet(table), 1, 1)?,
            Operator::TableSet { table } => self.simple(Op::TableSet(table), 2, 0)?,
            Operator::TableSize { table } => self.simple(Op::TableSize(table), 0, 1)?,
            Operator::TableGrow { table } => self.simple(Op::TableGrow(table), 2, 1)?,
            Operator::TableFill { table } => self.simple(Op::TableFill(table), 3, 0)?,
            Operator::TableCopy {
                dst_table,
                src_table,
            } => self.simple(
                Op::TableCopy {
                    dst: dst_table,
                    src: src_table,
                },
                3,
                0,
            )?,
            Operator::TableInit { elem_index, table } => self.simple(
                Op::TableInit {
                    table,
                    elem: elem_index,
                },
                3,
                0,
            )?,
            Operator::ElemDrop { elem_index } => self.simple(Op::ElemDrop(elem_index), 0, 0)?,
            Operator::I32Load { memarg } | Operator::F32Load { memarg } => {
                self.simple(Op::I32Load(memarg!(memarg)), 1, 1)?
            }
            Operator::I64Load { memarg } | Operator::F64Load { memarg } => {
                self.simple(Op::I64Load(memarg!(memarg)), 1, 1)?
            }
            Operator::I32Load8S { memarg } => self.simple(Op::I32Load8S(memarg!(memarg)), 1, 1)?,
            Operator::I32Load8U { memarg } | Operator::I64Load8U { memarg } => {
                self.simple(Op::I32Load8U(memarg!(memarg)), 1, 1)?
            }
            Operator::I32Load16S { memarg } => {
                self.simple(Op::I32Load16S(memarg!(memarg)), 1, 1)?
            }
            Operator::I32Load16U { memarg } | Operator::I64Load16U { memarg } => {
                self.simple(Op::I32Load16U(memarg!(memarg)), 1, 1)?
            }
            Operator::I64Load8S { memarg } => self.simple(Op::I64Load8S(memarg!(memarg)), 1, 1)?,
            Operator::I64Load16S { memarg } => {
                self.simple(Op::I64Load16S(memarg!(memarg)), 1, 1)?
            }
            Operator::I64Load32S { memarg } => {
                self.simple(Op::I64Load32S(memarg!(memarg)), 1, 1)?
            }
            Operator::I64Load32U { memarg } => self.simple(Op::I32Load(memarg!(memarg)), 1, 1)?,
            Operator::I32Store { memarg }
            | Operator::F32Store { memarg }
            | Operator::I64Store32 { memarg } => {
                self.simple(Op::I32Store(memarg!(memarg)), 2, 0)?
            }
            Operator::I64Store { memarg } | Operator::F64Store { memarg } => {
                self.simple(Op::I64Store(memarg!(memarg)), 2, 0)?
            }
            Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => {
                self.simple(Op::I32Store8(memarg!(memarg)), 2, 0)?
            }
            Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => {
                self.simple(Op::I32Store16(memarg!(memarg)), 2, 0)?
            }
            Operator::MemoryCopy { .. } => self.simple(Op::MemoryCopy, 3, 0)?,
            Operator::MemoryFill { .. } => self.simple(Op::MemoryFill, 3, 0)?,
            Operator::MemorySize { .. } => self.simple(Op::MemorySize, 0, 1)?,
            Operator::MemoryGrow { .. } => self.simple(Op::MemoryGrow, 1, 1)?,
            Operator::MemoryInit { data_index, .. } => {
                self.simple(Op::MemoryInit(data_index), 3, 0)?
            }
            Operator::DataDrop { data_index } => self.simple(Op::DataDrop(data_index), 0, 0)?,
            Operator::I32Const { value } => self.simple(Op::I32Const(value), 0, 1)?,
            Operator::I64Const { value } => self.simple(Op::I64Const(value), 0, 1)?,
            Operator::F32Const { value } => self.simple(Op::Const32(value.bits()), 0, 1)?,
            Operator::F64Const { value } => self.simple(Op::Const64(value.bits()), 0, 1)?,
            Operator::RefNull { .. } => self.simple(Op::RefNull, 0, 1)?,
            Operator::RefFunc { function_index } => {
                self.simple(Op::RefFunc(function_index), 0, 1)?
            }
            other => {
                return Err(Error::Validation {
                    offset: self.offset as usize,
                    message: format!("unsupported instruction {other:?}"),
                })
            }
        }
        Ok(())
    }

    fn set_unreachable(&mut self) {
        self.unreachable = true;
        if let Some(frame) = self.ctrl.last() {
            self.height = frame.height;
        }
    }
}
