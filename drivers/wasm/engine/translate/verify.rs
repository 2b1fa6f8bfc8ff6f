// SPDX-License-Identifier: GPL-2.0

//! The verifier: checks every translated function against what the interpreter's unchecked
//! accesses rely on, before the function can run (see `exec::interp`).

use super::forms::{branch_offset, short_branch_offset};
use super::internal;
use crate::error::Error;
use crate::ir::{FuncCode, Op};

/// Checks what the interpreter relies on to access slots and fetch instructions without
/// bounds checks (see `exec::interp`): every slot an instruction names is inside the frame,
/// every branch lands on an instruction of the function, `br_table` entries and `Aux` words
/// are where their instruction expects them, and the last instruction does not fall through.
/// A translator bug therefore becomes a load error, never an out-of-bounds access.
pub(crate) fn verify(code: &FuncCode) -> Result<(), Error> {
    let bad = |what: &'static str| internal(what);
    let n = code.ops.len();
    let slots = u32::from(code.num_slots);
    if code.offsets.len() != n
        || code.num_params > code.num_locals
        || code.num_locals > code.num_slots
        || usize::from(code.num_locals) + code.consts.len() > usize::from(code.num_slots)
        || code.num_results > code.num_slots.max(1)
    {
        return Err(bad("frame layout"));
    }
    match code.ops.last() {
        Some(Op::Return0 | Op::Return1 { .. } | Op::ReturnImm32 { .. } | Op::ReturnN { .. })
        | Some(Op::Unreachable | Op::Br { .. }) => {}
        _ => return Err(bad("last instruction falls through")),
    }
    let mut ok = true;
    let mut check = |s: u32| ok &= s < slots;
    let mut i = 0usize;
    while i < n {
        let op = *code.ops.get(i).ok_or_else(|| bad("instruction index"))?;
        let target = |offset: i32| -> Result<(), Error> {
            let t = i as i64 + i64::from(offset);
            if t < 0 || t >= n as i64 {
                return Err(bad("branch target"));
            }
            Ok(())
        };
        let mut copy = op;
        if let Some(offset) = branch_offset(&mut copy) {
            target(*offset)?;
        }
        if let Some(offset) = short_branch_offset(&mut copy) {
            target(i32::from(*offset))?;
        }
        if !op.shape_slots(&mut check) {
            match op {
                Op::Return1 { s } => check(s.into()),
                Op::ReturnN { first, n: count } => {
                    if u32::from(first) + u32::from(count) > slots {
                        return Err(bad("return values"));
                    }
                }
                // A callee's frame starts at `base` and is checked against the stack when
                // the call is made.
                Op::Call { base, .. } | Op::CallImport { base, .. } => {
                    if u32::from(base) > slots {
                        return Err(bad("call frame"));
                    }
                }
                Op::CallIndirect { base, index, .. } => {
                    if u32::from(base) > slots {
                        return Err(bad("call frame"));
                    }
                    check(index.into());
                }
                Op::CallIndirectTable { base, index, .. } => {
                    if u32::from(base) > slots {
                        return Err(bad("call frame"));
                    }
                    check(index.into());
                    if !matches!(code.ops.get(i + 1), Some(Op::Aux { .. })) {
                        return Err(bad("missing table operand"));
                    }
                }
                Op::Const32 { d, .. } | Op::Const64 { d, .. } => check(d.into()),
                Op::I32LoadAdv { d, p, .. } | Op::I64LoadAdv { d, p, .. } => {
                    check(d.into());
                    check(p.into());
                }
                Op::I32StoreAbs { v, .. } | Op::I64StoreAbs { v, .. } => check(v.into()),
                Op::I32AddImmCopy { d, d2, a, .. } => {
                    check(d.into());
                    check(d2.into());
                    check(a.into());
                }
                Op::Copy2 { d1, s1, d2, s2 } => {
                    check(d1.into());
                    check(s1.into());
                    check(d2.into());
                    check(s2.into());
                }
                Op::Select { d, c, a, b }
                | Op::Select64 { d, c, a, b }
                | Op::SelectAndImm { d, c, a, b, .. } => {
                    check(d.into());
                    check(c.into());
                    check(a.into());
                    check(b.into());
                }
                Op::GlobalGet { d, .. } | Op::TableSize { d, .. } | Op::RefFunc { d, .. } => {
                    check(d.into())
                }
                Op::MemorySize { d } => check(d.into()),
                Op::GlobalSet { s, .. } => check(s.into()),
                Op::TableGet { d, i, .. } => {
                    check(d.into());
                    check(i.into());
                }
                Op::TableSet { i, v, .. } => {
                    check(i.into());
                    check(v.into());
                }
                Op::TableGrow { d, base, .. } => {
                    check(d.into());
                    check(u32::from(base) + 1);
                }
                Op::TableFill { base, .. }
                | Op::TableCopy { base, .. }
                | Op::TableInit { base, .. }
                | Op::MemoryFill { base }
                | Op::MemoryCopy { base }
                | Op::MemoryInit { base, .. } => check(u32::from(base) + 2),
                Op::BrTable { s, len } => {
                    check(s.into());
                    let entries = (len as usize)
                        .checked_add(1)
                        .ok_or_else(|| bad("br_table"))?;
                    for k in 1..=entries {
                        if !matches!(code.ops.get(i + k), Some(Op::Br { .. })) {
                            return Err(bad("br_table entries"));
                        }
                    }
                }
                Op::BrI32AddImmNe { a, b, .. }
                | Op::BrI32AddImmLtU { a, b, .. }
                | Op::BrI32AddImmLtS { a, b, .. } => {
                    check(a.into());
                    check(b.into());
                }
                Op::BrI32AddImmNez { a, .. } => check(a.into()),
                Op::BrI32AddNe { a, x, b, .. }
                | Op::BrI32AddLtU { a, x, b, .. }
                | Op::BrI32AddLtS { a, x, b, .. } => {
                    check(a.into());
                    check(x.into());
                    check(b.into());
                }
                Op::Unreachable
                | Op::Aux { .. }
                | Op::Fuel { .. }
                | Op::Br { .. }
                | Op::Return0
                | Op::ReturnImm32 { .. }
                | Op::ElemDrop { .. }
                | Op::DataDrop { .. } => {}
                _ => return Err(bad("unverified instruction")),
            }
        }
        i += 1;
    }
    if !ok {
        return Err(bad("slot outside the frame"));
    }
    Ok(())
}
