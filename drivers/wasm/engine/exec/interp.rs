// SPDX-License-Identifier: GPL-2.0

//! The interpreter: one loop dispatching the instructions of [`crate::ir`].
//!
//! This is the engine's only `unsafe` code. It buys the interpreter's speed: instructions are
//! fetched, slots read and written, and linear memory accessed through raw pointers, without
//! the bounds check (and the panic path) a slice index would add to every instruction. Each
//! access rests on one of three invariants, established outside the hot loop:
//!
//! 1. **Instructions.** `ip` always points into the running function's instruction array:
//!    [`crate::translate::verify`] checked when the function was loaded that every branch
//!    lands inside it, that `br_table` entries and `Aux` words follow their instructions, and
//!    that the last instruction does not fall through. The array is owned by the module, which
//!    the instance keeps alive, and is never changed after loading.
//! 2. **Slots.** `fp` points to the running function's frame in the value stack, which holds
//!    at least `num_slots` slots from `fp` on: checked on entry to every function (and the stack
//!    is re-derived after it grows, which happens only at calls). The verifier checked that
//!    every slot an instruction names is below `num_slots`.
//! 3. **Memory.** `mem`/`mem_len` are memory 0 of the running instance, re-derived after
//!    anything that may move or resize it (calls, `memory.grow`, host calls, bulk operations).
//!    Every access is bounds-checked against `mem_len` first; the index is then clamped so
//!    that even a mispredicted check cannot be used to read out of bounds speculatively
//!    (Spectre v1), see [`nospec_index`].
//!
//! Everything else (globals, tables, calls, traps) goes through safe, checked code.

use super::numeric::{self as num, b, i32s, w32};
use super::{GrowBudget, Meter};
use crate::error::{Trap, TrapKind};
use crate::float;
use crate::host::InterruptHook;
use crate::ir::{FuncCode, Op};
use crate::module::Module;
use crate::store::{Frame, FuncKind, InstanceInst, ModuleRef, Store, PAGE_SIZE};
use core::ptr;

/// The fuel a host call pays, on top of what the host function asks for.
pub(crate) const HOST_CALL_COST: u32 = 16;

/// Returns `index` if it is at most `max`, else 0, in a way the compiler cannot turn into a
/// branch: after a bounds check, this keeps a mispredicted check from steering a load out of
/// bounds (the `array_index_nospec()` idea).
#[inline(always)]
pub(crate) fn nospec_index(index: usize, max: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        let mut r = index;
        // SAFETY: a compare and a conditional move between registers: no memory access, no
        // stack use, flags clobbered (the default).
        unsafe {
            core::arch::asm!(
                "cmp {r}, {max}",
                "cmova {r}, {zero}",
                r = inout(reg) r,
                max = in(reg) max,
                zero = in(reg) 0usize,
                options(pure, nomem, nostack),
            );
        }
        r
    }
    #[cfg(all(target_arch = "aarch64", not(miri)))]
    {
        let mut r = index;
        // SAFETY: a compare, a conditional select and the speculation barrier `csdb`, on
        // registers only.
        unsafe {
            core::arch::asm!(
                "cmp {r}, {max}",
                "csel {r}, xzr, {r}, hi",
                "csdb",
                r = inout(reg) r,
                max = in(reg) max,
                options(pure, nomem, nostack),
            );
        }
        r
    }
    #[cfg(any(miri, not(any(target_arch = "x86_64", target_arch = "aarch64"))))]
    {
        if index <= max {
            index
        } else {
            0
        }
    }
}

fn trap_at(code: &FuncCode, pc: usize, kind: TrapKind) -> Trap {
    Trap {
        kind,
        func: Some(code.func_index),
        offset: code.offsets.get(pc).copied(),
    }
}

/// Runs defined function `func` of instance `instance`, whose arguments are at the bottom of
/// the value stack (which [`super::invoke`] made large enough for its frame); leaves its
/// results there. `entry_cost` is the fuel of its first region.
pub(crate) fn run<T: 'static, M: ModuleRef>(
    store: &mut Store<T, M>,
    instance: u32,
    func: u32,
    entry_cost: u32,
) -> Result<(), Trap> {
    let Store {
        config,
        types,
        funcs,
        host_funcs,
        tables,
        memories,
        globals,
        instances,
        data,
        stack,
        frames,
        host_args,
        host_results,
        interrupt,
        fuel_left,
        fuel_used,
        charged,
        no_alloc,
        ..
    } = store;
    let internal = || Trap::new(TrapKind::Internal);
    let max_value_stack = config.max_value_stack;
    let max_call_depth = config.max_call_depth;
    let store_max = config.max_store_bytes;
    let no_alloc = *no_alloc;
    let mut meter = Meter {
        slice: 0,
        left: fuel_left,
        used: fuel_used,
        interval: u64::from(config.interrupt_interval.max(1)),
        hook: interrupt
            .as_deref_mut()
            .map(|h| h as &mut dyn InterruptHook),
    };
    let mut countdown = meter.start();

    let mut inst_id = instance;
    let mut inst: &InstanceInst<M> = instances.get(inst_id).ok_or_else(internal)?;
    let mut module: &Module = inst.module.as_deref().ok_or_else(internal)?;
    let mut cur = func;
    let mut code: &FuncCode = module.code.get(cur as usize).ok_or_else(internal)?;
    if stack.len() < usize::from(code.num_slots) {
        return Err(internal());
    }
    let mut code_base: *const Op = code.ops.as_ptr();
    let mut ip: *const Op = code_base;
    let mut stack_base: *mut u64 = stack.as_mut_ptr();
    let mut fp: *mut u64 = stack_base;
    let mut depth: usize = 0;
    let mut mem: *mut u8;
    let mut mem_len: usize;

    // Slot access: see invariant 2 of the module documentation.
    macro_rules! r {
        ($s:expr) => {{
            let s = usize::from($s);
            // SAFETY: `s` is below the running function's `num_slots` (verified), and the frame
            // at `fp` has that many slots (invariant 2).
            unsafe { *fp.add(s) }
        }};
    }
    macro_rules! w {
        ($s:expr, $v:expr) => {{
            let v: u64 = $v;
            let s = usize::from($s);
            // SAFETY: as for `r!`.
            unsafe { *fp.add(s) = v }
        }};
    }
    macro_rules! reload_mem {
        () => {{
            match super::memory0(inst, memories) {
                Some(m) => {
                    mem = m.data.as_mut_ptr();
                    mem_len = m.data.len();
                }
                None => {
                    mem = ptr::NonNull::dangling().as_ptr();
                    mem_len = 0;
                }
            }
        }};
    }
    reload_mem!();
    for i in code.num_params..code.num_locals {
        w!(i, 0);
    }

    let result: Result<(), Trap> = 'run: {
        macro_rules! pc {
            () => {{
                // SAFETY: `ip` and `code_base` point into the same instruction array
                // (invariant 1), `ip` past the instruction being executed.
                let pc = unsafe { ip.offset_from(code_base) };
                (pc as usize).wrapping_sub(1)
            }};
        }
        macro_rules! trap {
            ($kind:expr) => {{
                let kind = $kind;
                break 'run Err(trap_at(code, pc!(), kind));
            }};
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(kind) => trap!(kind),
                }
            };
        }
        macro_rules! charge {
            ($cost:expr) => {{
                countdown -= i64::from($cost);
                if countdown < 0 {
                    countdown = tri!(meter.refuel(countdown));
                }
            }};
        }
        macro_rules! jump {
            ($offset:expr) => {{
                // SAFETY: the verified branch target is inside the function (invariant 1);
                // `ip` is one past the branch.
                ip = unsafe { ip.offset($offset as isize - 1) };
            }};
        }
        macro_rules! br_if {
            ($cond:expr, $cost:expr, $offset:expr) => {{
                if $cond {
                    charge!($cost);
                    jump!($offset);
                }
            }};
        }
        // Memory access: see invariant 3.
        macro_rules! ea {
            ($addr:expr, $offset:expr, $n:expr) => {{
                let ea = u64::from($addr as u32) + u64::from($offset);
                if ea + $n as u64 > mem_len as u64 {
                    trap!(TrapKind::MemoryOutOfBounds);
                }
                nospec_index(ea as usize, mem_len - $n)
            }};
        }
        // The wrapping form: `addr + offset` modulo 2^32 (see `Op`).
        macro_rules! eaw {
            ($addr:expr, $offset:expr, $n:expr) => {{
                ea!(($addr as u32).wrapping_add($offset), 0u32, $n)
            }};
        }
        macro_rules! ldw {
            ($addr:expr, $offset:expr, $n:literal) => {{
                let ea = eaw!($addr, $offset, $n);
                // SAFETY: as for `ld!`.
                unsafe { ptr::read_unaligned(mem.add(ea).cast::<[u8; $n]>()) }
            }};
        }
        macro_rules! stw {
            ($addr:expr, $offset:expr, $bytes:expr) => {{
                let bytes = $bytes;
                let ea = eaw!($addr, $offset, bytes.len());
                // SAFETY: as for `ld!`.
                unsafe { ptr::write_unaligned(mem.add(ea).cast(), bytes) }
            }};
        }
        // The indexed form: `a + b` modulo 2^32, then `+ offset` (see `Op`).
        macro_rules! ldx {
            ($a:expr, $b:expr, $offset:expr, $n:literal) => {{
                ld!(($a as u32).wrapping_add($b as u32), $offset, $n)
            }};
        }
        macro_rules! stx {
            ($a:expr, $b:expr, $offset:expr, $bytes:expr) => {{
                st!(($a as u32).wrapping_add($b as u32), $offset, $bytes)
            }};
        }
        macro_rules! ld {
            ($addr:expr, $offset:expr, $n:literal) => {{
                let ea = ea!($addr, $offset, $n);
                // SAFETY: `ea + N <= mem_len`, checked just above, and `mem` points to
                // `mem_len` bytes of memory 0 (invariant 3).
                unsafe { ptr::read_unaligned(mem.add(ea).cast::<[u8; $n]>()) }
            }};
        }
        macro_rules! st {
            ($addr:expr, $offset:expr, $bytes:expr) => {{
                let bytes = $bytes;
                let ea = ea!($addr, $offset, bytes.len());
                // SAFETY: as for `ld!`.
                unsafe { ptr::write_unaligned(mem.add(ea).cast(), bytes) }
            }};
        }
        macro_rules! enter {
            ($callee:expr, $index:expr, $base:expr) => {{
                let callee: &FuncCode = $callee;
                // SAFETY: `fp` and `stack_base` point into the value stack.
                let fp_idx = unsafe { fp.offset_from(stack_base) } as usize;
                let new_fp = fp_idx + usize::from($base);
                let need = new_fp + usize::from(callee.num_slots);
                if need > stack.len() {
                    if let Err(kind) =
                        grow_stack(stack, need, max_value_stack, no_alloc, charged, store_max)
                    {
                        trap!(kind);
                    }
                    stack_base = stack.as_mut_ptr();
                }
                if depth >= frames.len() {
                    if let Err(kind) = grow_frames(
                        frames,
                        depth + 1,
                        max_call_depth,
                        no_alloc,
                        charged,
                        store_max,
                    ) {
                        trap!(kind);
                    }
                }
                let Some(slot) = frames.get_mut(depth) else {
                    trap!(TrapKind::Internal);
                };
                // SAFETY: as in `pc!`.
                let pc = unsafe { ip.offset_from(code_base) } as u32;
                *slot = Frame {
                    instance: inst_id,
                    func: cur,
                    pc,
                    fp: fp_idx as u32,
                };
                depth += 1;
                // SAFETY: `need <= stack.len()` was made sure above, so the callee's frame
                // lies inside the stack (invariant 2 for the callee).
                fp = unsafe { stack_base.add(new_fp) };
                for i in callee.num_params..callee.num_locals {
                    w!(i, 0);
                }
                cur = $index;
                code = callee;
                code_base = code.ops.as_ptr();
                ip = code_base;
            }};
        }
        macro_rules! call_addr {
            ($addr:expr, $base:expr) => {{
                let addr: u32 = $addr;
                let base = $base;
                let Some(f) = funcs.get(addr).copied() else {
                    trap!(TrapKind::Internal);
                };
                match f.kind {
                    FuncKind::Wasm { instance, index } => {
                        if instance == inst_id {
                            let Some(callee) = module.code.get(index as usize) else {
                                trap!(TrapKind::Internal);
                            };
                            charge!(callee.entry_cost);
                            enter!(callee, index, base);
                        } else {
                            let Some(other) = instances.get(instance) else {
                                trap!(TrapKind::Internal);
                            };
                            let Some(other_module) = other.module.as_deref() else {
                                trap!(TrapKind::Internal);
                            };
                            let Some(callee) = other_module.code.get(index as usize) else {
                                trap!(TrapKind::Internal);
                            };
                            charge!(callee.entry_cost);
                            enter!(callee, index, base);
                            inst_id = instance;
                            inst = other;
                            module = other_module;
                            reload_mem!();
                        }
                    }
                    FuncKind::Host(h) => {
                        charge!(HOST_CALL_COST);
                        let (Some(entry), Some(ty)) =
                            (host_funcs.get(h as usize), types.get(f.type_id))
                        else {
                            trap!(TrapKind::Internal);
                        };
                        // SAFETY: as in `enter!`.
                        let fp_idx = unsafe { fp.offset_from(stack_base) } as usize;
                        let start = fp_idx + usize::from(base);
                        let n = ty.params().len().max(ty.results().len());
                        let Some(slots) = stack.get_mut(start..start + n) else {
                            trap!(TrapKind::Internal);
                        };
                        let memory = super::memory0(inst, memories);
                        let outcome = super::call_host(
                            entry,
                            ty,
                            data,
                            memory,
                            slots,
                            host_args,
                            host_results,
                        );
                        // The host had the memory (and, in the aliasing model, the stack).
                        stack_base = stack.as_mut_ptr();
                        // SAFETY: the stack did not change size, so the frame is where it was.
                        fp = unsafe { stack_base.add(fp_idx) };
                        reload_mem!();
                        match outcome {
                            Ok(0) => {}
                            Ok(fuel) => charge!(fuel.min(i64::MAX as u64) as i64),
                            Err(trap) => {
                                break 'run Err(Trap {
                                    func: trap.func.or(Some(code.func_index)),
                                    offset: trap
                                        .offset
                                        .or_else(|| code.offsets.get(pc!()).copied()),
                                    ..trap
                                });
                            }
                        }
                    }
                    FuncKind::Free => trap!(TrapKind::Internal),
                }
            }};
        }
        macro_rules! ret {
            () => {{
                if depth == 0 {
                    break 'run Ok(());
                }
                depth -= 1;
                let Some(f) = frames.get(depth).copied() else {
                    trap!(TrapKind::Internal);
                };
                if f.instance != inst_id {
                    let Some(other) = instances.get(f.instance) else {
                        trap!(TrapKind::Internal);
                    };
                    let Some(other_module) = other.module.as_deref() else {
                        trap!(TrapKind::Internal);
                    };
                    inst_id = f.instance;
                    inst = other;
                    module = other_module;
                }
                let Some(caller) = module.code.get(f.func as usize) else {
                    trap!(TrapKind::Internal);
                };
                cur = f.func;
                code = caller;
                code_base = code.ops.as_ptr();
                // SAFETY: `f.pc` was taken from an `ip` inside this function, just past a
                // call, which is not its last instruction (verified); `f.fp` from an `fp`
                // inside the stack, which has not shrunk.
                ip = unsafe { code_base.add(f.pc as usize) };
                // SAFETY: see just above.
                fp = unsafe { stack_base.add(f.fp as usize) };
                // The callee may have grown the memory.
                reload_mem!();
            }};
        }
        macro_rules! global_addr {
            ($g:expr) => {{
                match inst.globals.get($g as usize) {
                    Some(&a) => a,
                    None => trap!(TrapKind::Internal),
                }
            }};
        }
        macro_rules! table_addr {
            ($t:expr) => {{
                match inst.tables.get($t as usize) {
                    Some(&a) => a,
                    None => trap!(TrapKind::Internal),
                }
            }};
        }
        macro_rules! grow_budget {
            () => {
                GrowBudget {
                    store_charged: charged,
                    store_max,
                    no_alloc,
                }
            };
        }

        charge!(entry_cost);
        loop {
            // SAFETY: invariant 1. A reference, not a copy: the arms load only the fields they
            // use.
            let op: &Op = unsafe { &*ip };
            // SAFETY: invariant 1: the instruction is not the last one, or it does not fall
            // through; either way `ip + 1` is in bounds or one past the end, and is not read
            // before a branch sets it again.
            ip = unsafe { ip.add(1) };
            match *op {
                Op::Unreachable => trap!(TrapKind::Unreachable),
                Op::Aux { .. } => trap!(TrapKind::Internal),
                Op::Fuel { cost } => charge!(cost),
                Op::Br { cost, offset } => {
                    charge!(cost);
                    jump!(offset);
                }
                Op::BrNez { c, cost, offset } => br_if!(r!(c) as u32 != 0, cost, offset),
                Op::BrEqz { c, cost, offset } => br_if!(r!(c) as u32 == 0, cost, offset),
                Op::BrNez64 { c, cost, offset } => br_if!(r!(c) != 0, cost, offset),
                Op::BrEqz64 { c, cost, offset } => br_if!(r!(c) == 0, cost, offset),
                Op::BrI32Eq { a, b, cost, offset } => {
                    br_if!(r!(a) as u32 == r!(b) as u32, cost, offset)
                }
                Op::BrI32Ne { a, b, cost, offset } => {
                    br_if!(r!(a) as u32 != r!(b) as u32, cost, offset)
                }
                Op::BrI32LtS { a, b, cost, offset } => {
                    br_if!((r!(a) as i32) < r!(b) as i32, cost, offset)
                }
                Op::BrI32LtU { a, b, cost, offset } => {
                    br_if!((r!(a) as u32) < r!(b) as u32, cost, offset)
                }
                Op::BrI32GtS { a, b, cost, offset } => {
                    br_if!(r!(a) as i32 > r!(b) as i32, cost, offset)
                }
                Op::BrI32GtU { a, b, cost, offset } => {
                    br_if!(r!(a) as u32 > r!(b) as u32, cost, offset)
                }
                Op::BrI32LeS { a, b, cost, offset } => {
                    br_if!(r!(a) as i32 <= r!(b) as i32, cost, offset)
                }
                Op::BrI32LeU { a, b, cost, offset } => {
                    br_if!(r!(a) as u32 <= r!(b) as u32, cost, offset)
                }
                Op::BrI32GeS { a, b, cost, offset } => {
                    br_if!(r!(a) as i32 >= r!(b) as i32, cost, offset)
                }
                Op::BrI32GeU { a, b, cost, offset } => {
                    br_if!(r!(a) as u32 >= r!(b) as u32, cost, offset)
                }
                Op::BrI32EqImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as i32 == i32::from(imm), cost, offset),
                Op::BrI32NeImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as i32 != i32::from(imm), cost, offset),
                Op::BrI32LtSImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!((r!(a) as i32) < i32::from(imm), cost, offset),
                Op::BrI32LtUImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!((r!(a) as u32) < i32::from(imm) as u32, cost, offset),
                Op::BrI32GtSImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as i32 > i32::from(imm), cost, offset),
                Op::BrI32GtUImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as u32 > i32::from(imm) as u32, cost, offset),
                Op::BrI32LeSImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as i32 <= i32::from(imm), cost, offset),
                Op::BrI32LeUImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as u32 <= i32::from(imm) as u32, cost, offset),
                Op::BrI32GeSImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as i32 >= i32::from(imm), cost, offset),
                Op::BrI32GeUImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as u32 >= i32::from(imm) as u32, cost, offset),
                Op::BrI64Eq { a, b, cost, offset } => br_if!(r!(a) == r!(b), cost, offset),
                Op::BrI64Ne { a, b, cost, offset } => br_if!(r!(a) != r!(b), cost, offset),
                Op::BrI64LtS { a, b, cost, offset } => {
                    br_if!((r!(a) as i64) < r!(b) as i64, cost, offset)
                }
                Op::BrI64LtU { a, b, cost, offset } => br_if!(r!(a) < r!(b), cost, offset),
                Op::BrI64GtS { a, b, cost, offset } => {
                    br_if!(r!(a) as i64 > r!(b) as i64, cost, offset)
                }
                Op::BrI64GtU { a, b, cost, offset } => br_if!(r!(a) > r!(b), cost, offset),
                Op::BrI64LeS { a, b, cost, offset } => {
                    br_if!(r!(a) as i64 <= r!(b) as i64, cost, offset)
                }
                Op::BrI64LeU { a, b, cost, offset } => br_if!(r!(a) <= r!(b), cost, offset),
                Op::BrI64GeS { a, b, cost, offset } => {
                    br_if!(r!(a) as i64 >= r!(b) as i64, cost, offset)
                }
                Op::BrI64GeU { a, b, cost, offset } => br_if!(r!(a) >= r!(b), cost, offset),
                Op::BrI64EqImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as i64 == i64::from(imm), cost, offset),
                Op::BrI64NeImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as i64 != i64::from(imm), cost, offset),
                Op::BrI64LtSImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!((r!(a) as i64) < i64::from(imm), cost, offset),
                Op::BrI64LtUImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) < i64::from(imm) as u64, cost, offset),
                Op::BrI64GtSImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as i64 > i64::from(imm), cost, offset),
                Op::BrI64GtUImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) > i64::from(imm) as u64, cost, offset),
                Op::BrI64LeSImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as i64 <= i64::from(imm), cost, offset),
                Op::BrI64LeUImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) <= i64::from(imm) as u64, cost, offset),
                Op::BrI64GeSImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) as i64 >= i64::from(imm), cost, offset),
                Op::BrI64GeUImm {
                    a,
                    imm,
                    cost,
                    offset,
                } => br_if!(r!(a) >= i64::from(imm) as u64, cost, offset),
                Op::BrF32Eq { a, b, cost, offset } => {
                    br_if!(num::f32_eq(r!(a), r!(b)), cost, offset)
                }
                Op::BrF32Ne { a, b, cost, offset } => {
                    br_if!(num::f32_ne(r!(a), r!(b)), cost, offset)
                }
                Op::BrF32Lt { a, b, cost, offset } => {
                    br_if!(num::f32_lt(r!(a), r!(b)), cost, offset)
                }
                Op::BrF32Gt { a, b, cost, offset } => {
                    br_if!(num::f32_gt(r!(a), r!(b)), cost, offset)
                }
                Op::BrF32Le { a, b, cost, offset } => {
                    br_if!(num::f32_le(r!(a), r!(b)), cost, offset)
                }
                Op::BrF32Ge { a, b, cost, offset } => {
                    br_if!(num::f32_ge(r!(a), r!(b)), cost, offset)
                }
                Op::BrF64Eq { a, b, cost, offset } => {
                    br_if!(num::f64_eq(r!(a), r!(b)), cost, offset)
                }
                Op::BrF64Ne { a, b, cost, offset } => {
                    br_if!(num::f64_ne(r!(a), r!(b)), cost, offset)
                }
                Op::BrF64Lt { a, b, cost, offset } => {
                    br_if!(num::f64_lt(r!(a), r!(b)), cost, offset)
                }
                Op::BrF64Gt { a, b, cost, offset } => {
                    br_if!(num::f64_gt(r!(a), r!(b)), cost, offset)
                }
                Op::BrF64Le { a, b, cost, offset } => {
                    br_if!(num::f64_le(r!(a), r!(b)), cost, offset)
                }
                Op::BrF64Ge { a, b, cost, offset } => {
                    br_if!(num::f64_ge(r!(a), r!(b)), cost, offset)
                }
                Op::BrTable { s, len } => {
                    let i = r!(s) as u32;
                    let k = if i < len { i } else { len };
                    let k = nospec_index(k as usize, len as usize);
                    // SAFETY: the `len + 1` entries follow (verified) and `k <= len`.
                    ip = unsafe { ip.add(k) };
                }

                Op::Return0 => ret!(),
                Op::Return1 { s } => {
                    w!(0u16, r!(s));
                    ret!();
                }
                Op::ReturnImm32 { v } => {
                    w!(0u16, u64::from(v));
                    ret!();
                }
                Op::ReturnN { first, n } => {
                    for i in 0..n {
                        w!(i, r!(first + i));
                    }
                    ret!();
                }
                Op::Call { base, func } => {
                    let Some(callee) = module.code.get(func as usize) else {
                        trap!(TrapKind::Internal);
                    };
                    charge!(callee.entry_cost);
                    enter!(callee, func, base);
                }
                Op::CallImport { base, func } => {
                    let Some(&addr) = inst.funcs.get(func as usize) else {
                        trap!(TrapKind::Internal);
                    };
                    call_addr!(addr, base);
                }
                Op::CallIndirect { base, index, ty }
                | Op::CallIndirectTable { base, index, ty } => {
                    let table = if let Op::CallIndirectTable { .. } = *op {
                        // SAFETY: an `Aux` word follows (verified).
                        let aux = unsafe { *ip };
                        // SAFETY: as for every instruction fetch.
                        ip = unsafe { ip.add(1) };
                        match aux {
                            Op::Aux { a, .. } => a,
                            _ => trap!(TrapKind::Internal),
                        }
                    } else {
                        0
                    };
                    let t = table_addr!(table);
                    let Some(t) = tables.get(t) else {
                        trap!(TrapKind::Internal);
                    };
                    let i = r!(index) as u32 as usize;
                    let Some(&e) = t.elements.get(i) else {
                        trap!(TrapKind::UndefinedElement);
                    };
                    let Some(addr) = e.checked_sub(1) else {
                        trap!(TrapKind::UninitializedElement);
                    };
                    let addr = addr as u32;
                    let expected = inst.type_ids.get(ty as usize).copied();
                    match funcs.get(addr) {
                        Some(f) if Some(f.type_id) == expected => {}
                        Some(_) => trap!(TrapKind::IndirectCallTypeMismatch),
                        None => trap!(TrapKind::Internal),
                    }
                    call_addr!(addr, base);
                }

                Op::Copy { d, s } => w!(d, r!(s)),
                Op::Const32 { d, v } => w!(d, u64::from(v)),
                Op::Const64 { d, lo, hi } => w!(d, u64::from(lo) | u64::from(hi) << 32),
                Op::Select { d, c, a, b } => {
                    w!(d, if r!(c) as u32 != 0 { r!(a) } else { r!(b) })
                }
                Op::GlobalGet { d, global } => {
                    let a = global_addr!(global);
                    match globals.get(a) {
                        Some(g) => w!(d, g.value),
                        None => trap!(TrapKind::Internal),
                    }
                }
                Op::GlobalSet { s, global } => {
                    let a = global_addr!(global);
                    let v = r!(s);
                    match globals.get_mut(a) {
                        Some(g) => g.value = v,
                        None => trap!(TrapKind::Internal),
                    }
                }
                Op::TableGet { d, i, table } => {
                    let t = table_addr!(table);
                    let Some(t) = tables.get(t) else {
                        trap!(TrapKind::Internal);
                    };
                    match t.elements.get(r!(i) as u32 as usize) {
                        Some(&v) => w!(d, v),
                        None => trap!(TrapKind::TableOutOfBounds),
                    }
                }
                Op::TableSet { i, v, table } => {
                    let t = table_addr!(table);
                    let value = r!(v);
                    let Some(t) = tables.get_mut(t) else {
                        trap!(TrapKind::Internal);
                    };
                    match t.elements.get_mut(r!(i) as u32 as usize) {
                        Some(slot) => *slot = value,
                        None => trap!(TrapKind::TableOutOfBounds),
                    }
                }
                Op::TableSize { d, table } => {
                    let t = table_addr!(table);
                    match tables.get(t) {
                        Some(t) => w!(d, t.elements.len() as u64),
                        None => trap!(TrapKind::Internal),
                    }
                }
                Op::TableGrow { d, base, table } => {
                    let t = table_addr!(table);
                    let (init, n) = (r!(base), r!(base + 1) as u32);
                    let Some(t) = tables.get_mut(t) else {
                        trap!(TrapKind::Internal);
                    };
                    let mut budget = grow_budget!();
                    let grown = tri!(super::table_grow(
                        t,
                        n,
                        init,
                        &mut budget,
                        &mut meter,
                        &mut countdown
                    ));
                    w!(d, grown.map_or(u64::from(u32::MAX), u64::from));
                }
                Op::TableFill { base, table } => {
                    let t = table_addr!(table);
                    let (i, v, n) = (r!(base) as u32, r!(base + 1), r!(base + 2) as u32);
                    let Some(t) = tables.get_mut(t) else {
                        trap!(TrapKind::Internal);
                    };
                    tri!(super::table_fill(t, i, v, n, &mut meter, &mut countdown));
                }
                Op::TableCopy { base, dst, src } => {
                    let (dt, st) = (table_addr!(dst), table_addr!(src));
                    let (d, s, n) = (r!(base) as u32, r!(base + 1) as u32, r!(base + 2) as u32);
                    tri!(super::table_copy(
                        tables,
                        dt,
                        st,
                        d,
                        s,
                        n,
                        &mut meter,
                        &mut countdown
                    ));
                }
                Op::TableInit { base, table, elem } => {
                    let (d, s, n) = (r!(base) as u32, r!(base + 1) as u32, r!(base + 2) as u32);
                    tri!(super::table_init_in(
                        inst,
                        tables,
                        globals,
                        table,
                        elem,
                        d,
                        s,
                        n,
                        &mut meter,
                        &mut countdown
                    ));
                }
                Op::ElemDrop { elem } => {
                    if let Some(flag) = inst.dropped.get(elem as usize) {
                        flag.set(true);
                    }
                }
                Op::RefFunc { d, func } => match inst.funcs.get(func as usize) {
                    Some(&a) => w!(d, u64::from(a) + 1),
                    None => trap!(TrapKind::Internal),
                },
                Op::RefIsNull { d, s } => w!(d, b(r!(s) == 0)),

                Op::I32Load { d, addr, offset } => {
                    w!(d, w32(u32::from_le_bytes(ld!(r!(addr), offset, 4))))
                }
                Op::I64Load { d, addr, offset } => {
                    w!(d, u64::from_le_bytes(ld!(r!(addr), offset, 8)))
                }
                Op::I32Load8S { d, addr, offset } => {
                    w!(d, i32s(i32::from(ld!(r!(addr), offset, 1)[0] as i8)))
                }
                Op::I32Load8U { d, addr, offset } => w!(d, u64::from(ld!(r!(addr), offset, 1)[0])),
                Op::I32Load16S { d, addr, offset } => w!(
                    d,
                    i32s(i32::from(i16::from_le_bytes(ld!(r!(addr), offset, 2))))
                ),
                Op::I32Load16U { d, addr, offset } => {
                    w!(d, u64::from(u16::from_le_bytes(ld!(r!(addr), offset, 2))))
                }
                Op::I64Load8S { d, addr, offset } => {
                    w!(d, i64::from(ld!(r!(addr), offset, 1)[0] as i8) as u64)
                }
                Op::I64Load16S { d, addr, offset } => w!(
                    d,
                    i64::from(i16::from_le_bytes(ld!(r!(addr), offset, 2))) as u64
                ),
                Op::I64Load32S { d, addr, offset } => w!(
                    d,
                    i64::from(i32::from_le_bytes(ld!(r!(addr), offset, 4))) as u64
                ),
                Op::I64Load32U { d, addr, offset } => {
                    w!(d, u64::from(u32::from_le_bytes(ld!(r!(addr), offset, 4))))
                }
                Op::I32LoadW { d, addr, offset } => {
                    w!(d, w32(u32::from_le_bytes(ldw!(r!(addr), offset, 4))))
                }
                Op::I64LoadW { d, addr, offset } => {
                    w!(d, u64::from_le_bytes(ldw!(r!(addr), offset, 8)))
                }
                Op::I32Load8SW { d, addr, offset } => {
                    w!(d, i32s(i32::from(ldw!(r!(addr), offset, 1)[0] as i8)))
                }
                Op::I32Load8UW { d, addr, offset } => {
                    w!(d, u64::from(ldw!(r!(addr), offset, 1)[0]))
                }
                Op::I32Load16SW { d, addr, offset } => w!(
                    d,
                    i32s(i32::from(i16::from_le_bytes(ldw!(r!(addr), offset, 2))))
                ),
                Op::I32Load16UW { d, addr, offset } => {
                    w!(d, u64::from(u16::from_le_bytes(ldw!(r!(addr), offset, 2))))
                }
                Op::I64Load8SW { d, addr, offset } => {
                    w!(d, i64::from(ldw!(r!(addr), offset, 1)[0] as i8) as u64)
                }
                Op::I64Load16SW { d, addr, offset } => w!(
                    d,
                    i64::from(i16::from_le_bytes(ldw!(r!(addr), offset, 2))) as u64
                ),
                Op::I64Load32SW { d, addr, offset } => w!(
                    d,
                    i64::from(i32::from_le_bytes(ldw!(r!(addr), offset, 4))) as u64
                ),
                Op::I64Load32UW { d, addr, offset } => {
                    w!(d, u64::from(u32::from_le_bytes(ldw!(r!(addr), offset, 4))))
                }
                Op::I32LoadX { d, a, b: c, offset } => {
                    w!(d, w32(u32::from_le_bytes(ldx!(r!(a), r!(c), offset, 4))))
                }
                Op::I64LoadX { d, a, b: c, offset } => {
                    w!(d, u64::from_le_bytes(ldx!(r!(a), r!(c), offset, 8)))
                }
                Op::I32Load8SX { d, a, b: c, offset } => {
                    w!(d, i32s(i32::from(ldx!(r!(a), r!(c), offset, 1)[0] as i8)))
                }
                Op::I32Load8UX { d, a, b: c, offset } => {
                    w!(d, u64::from(ldx!(r!(a), r!(c), offset, 1)[0]))
                }
                Op::I32Load16SX { d, a, b: c, offset } => w!(
                    d,
                    i32s(i32::from(i16::from_le_bytes(ldx!(r!(a), r!(c), offset, 2))))
                ),
                Op::I32Load16UX { d, a, b: c, offset } => {
                    w!(
                        d,
                        u64::from(u16::from_le_bytes(ldx!(r!(a), r!(c), offset, 2)))
                    )
                }
                Op::I64Load8SX { d, a, b: c, offset } => {
                    w!(d, i64::from(ldx!(r!(a), r!(c), offset, 1)[0] as i8) as u64)
                }
                Op::I64Load16SX { d, a, b: c, offset } => w!(
                    d,
                    i64::from(i16::from_le_bytes(ldx!(r!(a), r!(c), offset, 2))) as u64
                ),
                Op::I64Load32SX { d, a, b: c, offset } => w!(
                    d,
                    i64::from(i32::from_le_bytes(ldx!(r!(a), r!(c), offset, 4))) as u64
                ),
                Op::I64Load32UX { d, a, b: c, offset } => {
                    w!(
                        d,
                        u64::from(u32::from_le_bytes(ldx!(r!(a), r!(c), offset, 4)))
                    )
                }
                Op::I32LoadAbs { d, addr } => w!(d, w32(u32::from_le_bytes(ld!(addr, 0u32, 4)))),
                Op::I64LoadAbs { d, addr } => w!(d, u64::from_le_bytes(ld!(addr, 0u32, 8))),
                Op::I32Store { addr, v, offset } => {
                    st!(r!(addr), offset, (r!(v) as u32).to_le_bytes())
                }
                Op::I64Store { addr, v, offset } => st!(r!(addr), offset, r!(v).to_le_bytes()),
                Op::I32Store8 { addr, v, offset } => st!(r!(addr), offset, [r!(v) as u8]),
                Op::I32Store16 { addr, v, offset } => {
                    st!(r!(addr), offset, (r!(v) as u16).to_le_bytes())
                }
                Op::I32StoreImm { addr, v, offset } => {
                    st!(r!(addr), offset, i32::from(v).to_le_bytes())
                }
                Op::I64StoreImm { addr, v, offset } => {
                    st!(r!(addr), offset, i64::from(v).to_le_bytes())
                }
                Op::I32Store8Imm { addr, v, offset } => st!(r!(addr), offset, [v as u8]),
                Op::I32Store16Imm { addr, v, offset } => st!(r!(addr), offset, v.to_le_bytes()),
                Op::I32StoreW { addr, v, offset } => {
                    stw!(r!(addr), offset, (r!(v) as u32).to_le_bytes())
                }
                Op::I64StoreW { addr, v, offset } => stw!(r!(addr), offset, r!(v).to_le_bytes()),
                Op::I32Store8W { addr, v, offset } => stw!(r!(addr), offset, [r!(v) as u8]),
                Op::I32Store16W { addr, v, offset } => {
                    stw!(r!(addr), offset, (r!(v) as u16).to_le_bytes())
                }
                Op::I32StoreImmW { addr, v, offset } => {
                    stw!(r!(addr), offset, i32::from(v).to_le_bytes())
                }
                Op::I64StoreImmW { addr, v, offset } => {
                    stw!(r!(addr), offset, i64::from(v).to_le_bytes())
                }
                Op::I32Store8ImmW { addr, v, offset } => stw!(r!(addr), offset, [v as u8]),
                Op::I32Store16ImmW { addr, v, offset } => {
                    stw!(r!(addr), offset, v.to_le_bytes())
                }
                Op::I32StoreX { a, b: c, v, offset } => {
                    stx!(r!(a), r!(c), offset, (r!(v) as u32).to_le_bytes())
                }
                Op::I64StoreX { a, b: c, v, offset } => {
                    stx!(r!(a), r!(c), offset, r!(v).to_le_bytes())
                }
                Op::I32Store8X { a, b: c, v, offset } => {
                    stx!(r!(a), r!(c), offset, [r!(v) as u8])
                }
                Op::I32Store16X { a, b: c, v, offset } => {
                    stx!(r!(a), r!(c), offset, (r!(v) as u16).to_le_bytes())
                }
                Op::I32StoreImmX { a, b: c, v, offset } => {
                    stx!(r!(a), r!(c), offset, i32::from(v).to_le_bytes())
                }
                Op::I64StoreImmX { a, b: c, v, offset } => {
                    stx!(r!(a), r!(c), offset, i64::from(v).to_le_bytes())
                }
                Op::I32Store8ImmX { a, b: c, v, offset } => stx!(r!(a), r!(c), offset, [v as u8]),
                Op::I32Store16ImmX { a, b: c, v, offset } => {
                    stx!(r!(a), r!(c), offset, v.to_le_bytes())
                }
                Op::MemorySize { d } => w!(d, (mem_len / PAGE_SIZE) as u64),
                Op::MemoryGrow { d, s } => {
                    let delta = r!(s) as u32;
                    let Some(m) = super::memory0(inst, memories) else {
                        trap!(TrapKind::Internal);
                    };
                    let mut budget = grow_budget!();
                    let grown = tri!(super::memory_grow(
                        m,
                        delta,
                        &mut budget,
                        &mut meter,
                        &mut countdown
                    ));
                    reload_mem!();
                    w!(d, grown.map_or(u64::from(u32::MAX), u64::from));
                }
                Op::MemoryFill { base } => {
                    let (d, v, n) = (r!(base) as u32, r!(base + 1) as u8, r!(base + 2) as u32);
                    let Some(m) = super::memory0(inst, memories) else {
                        trap!(TrapKind::Internal);
                    };
                    tri!(super::memory_fill(m, d, v, n, &mut meter, &mut countdown));
                    reload_mem!();
                }
                Op::MemoryCopy { base } => {
                    let (d, s, n) = (r!(base) as u32, r!(base + 1) as u32, r!(base + 2) as u32);
                    let Some(m) = super::memory0(inst, memories) else {
                        trap!(TrapKind::Internal);
                    };
                    tri!(super::memory_copy(m, d, s, n, &mut meter, &mut countdown));
                    reload_mem!();
                }
                Op::MemoryInit { base, data } => {
                    let (d, s, n) = (r!(base) as u32, r!(base + 1) as u32, r!(base + 2) as u32);
                    tri!(super::memory_init_in(
                        inst,
                        memories,
                        0,
                        data,
                        d,
                        s,
                        n,
                        &mut meter,
                        &mut countdown
                    ));
                    reload_mem!();
                }
                Op::DataDrop { data } => {
                    if let Some(flag) = inst.dropped.get(module.elems.len() + data as usize) {
                        flag.set(true);
                    }
                }

                Op::I32Eqz { d, s } => w!(d, b(r!(s) as u32 == 0)),
                Op::I64Eqz { d, s } => w!(d, b(r!(s) == 0)),
                Op::I32Eq { d, a, b: c } => w!(d, b(r!(a) as u32 == r!(c) as u32)),
                Op::I32Ne { d, a, b: c } => w!(d, b(r!(a) as u32 != r!(c) as u32)),
                Op::I32LtS { d, a, b: c } => w!(d, b((r!(a) as i32) < r!(c) as i32)),
                Op::I32LtU { d, a, b: c } => w!(d, b((r!(a) as u32) < r!(c) as u32)),
                Op::I32GtS { d, a, b: c } => w!(d, b(r!(a) as i32 > r!(c) as i32)),
                Op::I32GtU { d, a, b: c } => w!(d, b(r!(a) as u32 > r!(c) as u32)),
                Op::I32LeS { d, a, b: c } => w!(d, b(r!(a) as i32 <= r!(c) as i32)),
                Op::I32LeU { d, a, b: c } => w!(d, b(r!(a) as u32 <= r!(c) as u32)),
                Op::I32GeS { d, a, b: c } => w!(d, b(r!(a) as i32 >= r!(c) as i32)),
                Op::I32GeU { d, a, b: c } => w!(d, b(r!(a) as u32 >= r!(c) as u32)),
                Op::I64Eq { d, a, b: c } => w!(d, b(r!(a) == r!(c))),
                Op::I64Ne { d, a, b: c } => w!(d, b(r!(a) != r!(c))),
                Op::I64LtS { d, a, b: c } => w!(d, b((r!(a) as i64) < r!(c) as i64)),
                Op::I64LtU { d, a, b: c } => w!(d, b(r!(a) < r!(c))),
                Op::I64GtS { d, a, b: c } => w!(d, b(r!(a) as i64 > r!(c) as i64)),
                Op::I64GtU { d, a, b: c } => w!(d, b(r!(a) > r!(c))),
                Op::I64LeS { d, a, b: c } => w!(d, b(r!(a) as i64 <= r!(c) as i64)),
                Op::I64LeU { d, a, b: c } => w!(d, b(r!(a) <= r!(c))),
                Op::I64GeS { d, a, b: c } => w!(d, b(r!(a) as i64 >= r!(c) as i64)),
                Op::I64GeU { d, a, b: c } => w!(d, b(r!(a) >= r!(c))),
                Op::F32Eq { d, a, b: c } => w!(d, b(num::f32_eq(r!(a), r!(c)))),
                Op::F32Ne { d, a, b: c } => w!(d, b(num::f32_ne(r!(a), r!(c)))),
                Op::F32Lt { d, a, b: c } => w!(d, b(num::f32_lt(r!(a), r!(c)))),
                Op::F32Gt { d, a, b: c } => w!(d, b(num::f32_gt(r!(a), r!(c)))),
                Op::F32Le { d, a, b: c } => w!(d, b(num::f32_le(r!(a), r!(c)))),
                Op::F32Ge { d, a, b: c } => w!(d, b(num::f32_ge(r!(a), r!(c)))),
                Op::F64Eq { d, a, b: c } => w!(d, b(num::f64_eq(r!(a), r!(c)))),
                Op::F64Ne { d, a, b: c } => w!(d, b(num::f64_ne(r!(a), r!(c)))),
                Op::F64Lt { d, a, b: c } => w!(d, b(num::f64_lt(r!(a), r!(c)))),
                Op::F64Gt { d, a, b: c } => w!(d, b(num::f64_gt(r!(a), r!(c)))),
                Op::F64Le { d, a, b: c } => w!(d, b(num::f64_le(r!(a), r!(c)))),
                Op::F64Ge { d, a, b: c } => w!(d, b(num::f64_ge(r!(a), r!(c)))),
                Op::I32EqImm { d, a, imm } => w!(d, b(r!(a) as i32 == imm)),
                Op::I32NeImm { d, a, imm } => w!(d, b(r!(a) as i32 != imm)),
                Op::I32LtSImm { d, a, imm } => w!(d, b((r!(a) as i32) < imm)),
                Op::I32LtUImm { d, a, imm } => w!(d, b((r!(a) as u32) < imm as u32)),
                Op::I32GtSImm { d, a, imm } => w!(d, b(r!(a) as i32 > imm)),
                Op::I32GtUImm { d, a, imm } => w!(d, b(r!(a) as u32 > imm as u32)),
                Op::I32LeSImm { d, a, imm } => w!(d, b(r!(a) as i32 <= imm)),
                Op::I32LeUImm { d, a, imm } => w!(d, b(r!(a) as u32 <= imm as u32)),
                Op::I32GeSImm { d, a, imm } => w!(d, b(r!(a) as i32 >= imm)),
                Op::I32GeUImm { d, a, imm } => w!(d, b(r!(a) as u32 >= imm as u32)),
                Op::I64EqImm { d, a, imm } => w!(d, b(r!(a) as i64 == i64::from(imm))),
                Op::I64NeImm { d, a, imm } => w!(d, b(r!(a) as i64 != i64::from(imm))),
                Op::I64LtSImm { d, a, imm } => w!(d, b((r!(a) as i64) < i64::from(imm))),
                Op::I64LtUImm { d, a, imm } => w!(d, b(r!(a) < i64::from(imm) as u64)),
                Op::I64GtSImm { d, a, imm } => w!(d, b(r!(a) as i64 > i64::from(imm))),
                Op::I64GtUImm { d, a, imm } => w!(d, b(r!(a) > i64::from(imm) as u64)),
                Op::I64LeSImm { d, a, imm } => w!(d, b(r!(a) as i64 <= i64::from(imm))),
                Op::I64LeUImm { d, a, imm } => w!(d, b(r!(a) <= i64::from(imm) as u64)),
                Op::I64GeSImm { d, a, imm } => w!(d, b(r!(a) as i64 >= i64::from(imm))),
                Op::I64GeUImm { d, a, imm } => w!(d, b(r!(a) >= i64::from(imm) as u64)),

                Op::I32Clz { d, s } => w!(d, u64::from((r!(s) as u32).leading_zeros())),
                Op::I32Ctz { d, s } => w!(d, u64::from((r!(s) as u32).trailing_zeros())),
                Op::I32Popcnt { d, s } => w!(d, u64::from((r!(s) as u32).count_ones())),
                Op::I32Add { d, a, b: c } => w!(d, w32((r!(a) as u32).wrapping_add(r!(c) as u32))),
                Op::I32Sub { d, a, b: c } => w!(d, w32((r!(a) as u32).wrapping_sub(r!(c) as u32))),
                Op::I32Mul { d, a, b: c } => w!(d, w32((r!(a) as u32).wrapping_mul(r!(c) as u32))),
                Op::I32DivS { d, a, b: c } => w!(d, tri!(num::i32_div_s(r!(a), r!(c)))),
                Op::I32DivU { d, a, b: c } => w!(d, tri!(num::i32_div_u(r!(a), r!(c)))),
                Op::I32RemS { d, a, b: c } => w!(d, tri!(num::i32_rem_s(r!(a), r!(c)))),
                Op::I32RemU { d, a, b: c } => w!(d, tri!(num::i32_rem_u(r!(a), r!(c)))),
                Op::I32And { d, a, b: c } => w!(d, r!(a) & r!(c)),
                Op::I32Or { d, a, b: c } => w!(d, r!(a) | r!(c)),
                Op::I32Xor { d, a, b: c } => w!(d, r!(a) ^ r!(c)),
                Op::I32Shl { d, a, b: c } => w!(d, w32((r!(a) as u32).wrapping_shl(r!(c) as u32))),
                Op::I32ShrS { d, a, b: c } => {
                    w!(d, i32s((r!(a) as i32).wrapping_shr(r!(c) as u32)))
                }
                Op::I32ShrU { d, a, b: c } => w!(d, w32((r!(a) as u32).wrapping_shr(r!(c) as u32))),
                Op::I32Rotl { d, a, b: c } => {
                    w!(d, w32((r!(a) as u32).rotate_left(r!(c) as u32 % 32)))
                }
                Op::I32Rotr { d, a, b: c } => {
                    w!(d, w32((r!(a) as u32).rotate_right(r!(c) as u32 % 32)))
                }
                Op::I32AddImm { d, a, imm } => w!(d, w32((r!(a) as u32).wrapping_add(imm as u32))),
                Op::I32SubImmLhs { d, a, imm } => {
                    w!(d, w32((imm as u32).wrapping_sub(r!(a) as u32)))
                }
                Op::I32MulImm { d, a, imm } => w!(d, w32((r!(a) as u32).wrapping_mul(imm as u32))),
                Op::I32DivSImm { d, a, imm } => w!(d, tri!(num::i32_div_s(r!(a), i32s(imm)))),
                Op::I32DivUImm { d, a, imm } => w!(d, tri!(num::i32_div_u(r!(a), i32s(imm)))),
                Op::I32RemSImm { d, a, imm } => w!(d, tri!(num::i32_rem_s(r!(a), i32s(imm)))),
                Op::I32RemUImm { d, a, imm } => w!(d, tri!(num::i32_rem_u(r!(a), i32s(imm)))),
                Op::I32AndImm { d, a, imm } => w!(d, r!(a) & i32s(imm)),
                Op::I32OrImm { d, a, imm } => w!(d, r!(a) | i32s(imm)),
                Op::I32XorImm { d, a, imm } => w!(d, r!(a) ^ i32s(imm)),
                Op::I32ShlImm { d, a, imm } => w!(d, w32((r!(a) as u32).wrapping_shl(imm as u32))),
                Op::I32ShrSImm { d, a, imm } => {
                    w!(d, i32s((r!(a) as i32).wrapping_shr(imm as u32)))
                }
                Op::I32ShrUImm { d, a, imm } => w!(d, w32((r!(a) as u32).wrapping_shr(imm as u32))),
                Op::I32RotlImm { d, a, imm } => {
                    w!(d, w32((r!(a) as u32).rotate_left(imm as u32 % 32)))
                }
                Op::I32RotrImm { d, a, imm } => {
                    w!(d, w32((r!(a) as u32).rotate_right(imm as u32 % 32)))
                }
                Op::I64Clz { d, s } => w!(d, u64::from(r!(s).leading_zeros())),
                Op::I64Ctz { d, s } => w!(d, u64::from(r!(s).trailing_zeros())),
                Op::I64Popcnt { d, s } => w!(d, u64::from(r!(s).count_ones())),
                Op::I64Add { d, a, b: c } => w!(d, r!(a).wrapping_add(r!(c))),
                Op::I64Sub { d, a, b: c } => w!(d, r!(a).wrapping_sub(r!(c))),
                Op::I64Mul { d, a, b: c } => w!(d, r!(a).wrapping_mul(r!(c))),
                Op::I64DivS { d, a, b: c } => w!(d, tri!(num::i64_div_s(r!(a), r!(c)))),
                Op::I64DivU { d, a, b: c } => w!(d, tri!(num::i64_div_u(r!(a), r!(c)))),
                Op::I64RemS { d, a, b: c } => w!(d, tri!(num::i64_rem_s(r!(a), r!(c)))),
                Op::I64RemU { d, a, b: c } => w!(d, tri!(num::i64_rem_u(r!(a), r!(c)))),
                Op::I64And { d, a, b: c } => w!(d, r!(a) & r!(c)),
                Op::I64Or { d, a, b: c } => w!(d, r!(a) | r!(c)),
                Op::I64Xor { d, a, b: c } => w!(d, r!(a) ^ r!(c)),
                Op::I64Shl { d, a, b: c } => w!(d, r!(a).wrapping_shl(r!(c) as u32)),
                Op::I64ShrS { d, a, b: c } => {
                    w!(d, (r!(a) as i64).wrapping_shr(r!(c) as u32) as u64)
                }
                Op::I64ShrU { d, a, b: c } => w!(d, r!(a).wrapping_shr(r!(c) as u32)),
                Op::I64Rotl { d, a, b: c } => w!(d, r!(a).rotate_left((r!(c) % 64) as u32)),
                Op::I64Rotr { d, a, b: c } => w!(d, r!(a).rotate_right((r!(c) % 64) as u32)),
                Op::I64AddImm { d, a, imm } => w!(d, r!(a).wrapping_add(i64::from(imm) as u64)),
                Op::I64SubImmLhs { d, a, imm } => {
                    w!(d, (i64::from(imm) as u64).wrapping_sub(r!(a)))
                }
                Op::I64MulImm { d, a, imm } => w!(d, r!(a).wrapping_mul(i64::from(imm) as u64)),
                Op::I64DivSImm { d, a, imm } => {
                    w!(d, tri!(num::i64_div_s(r!(a), i64::from(imm) as u64)))
                }
                Op::I64DivUImm { d, a, imm } => {
                    w!(d, tri!(num::i64_div_u(r!(a), i64::from(imm) as u64)))
                }
                Op::I64RemSImm { d, a, imm } => {
                    w!(d, tri!(num::i64_rem_s(r!(a), i64::from(imm) as u64)))
                }
                Op::I64RemUImm { d, a, imm } => {
                    w!(d, tri!(num::i64_rem_u(r!(a), i64::from(imm) as u64)))
                }
                Op::I64AndImm { d, a, imm } => w!(d, r!(a) & i64::from(imm) as u64),
                Op::I64OrImm { d, a, imm } => w!(d, r!(a) | i64::from(imm) as u64),
                Op::I64XorImm { d, a, imm } => w!(d, r!(a) ^ i64::from(imm) as u64),
                Op::I64ShlImm { d, a, imm } => w!(d, r!(a).wrapping_shl(imm as u32)),
                Op::I64ShrSImm { d, a, imm } => {
                    w!(d, (r!(a) as i64).wrapping_shr(imm as u32) as u64)
                }
                Op::I64ShrUImm { d, a, imm } => w!(d, r!(a).wrapping_shr(imm as u32)),
                Op::I64RotlImm { d, a, imm } => w!(d, r!(a).rotate_left(imm as u32 % 64)),
                Op::I64RotrImm { d, a, imm } => w!(d, r!(a).rotate_right(imm as u32 % 64)),

                Op::F32Abs { d, s } => w!(d, r!(s) & 0x7fff_ffff),
                Op::F32Neg { d, s } => w!(d, (r!(s) ^ 0x8000_0000) & 0xffff_ffff),
                Op::F32Ceil { d, s } => w!(d, w32(float::f32_ceil(r!(s) as u32))),
                Op::F32Floor { d, s } => w!(d, w32(float::f32_floor(r!(s) as u32))),
                Op::F32Trunc { d, s } => w!(d, w32(float::f32_trunc(r!(s) as u32))),
                Op::F32Nearest { d, s } => w!(d, w32(float::f32_nearest(r!(s) as u32))),
                Op::F32Sqrt { d, s } => w!(d, w32(float::f32_sqrt(r!(s) as u32))),
                Op::F32Add { d, a, b: c } => w!(d, num::f32_add(r!(a), r!(c))),
                Op::F32Sub { d, a, b: c } => w!(d, num::f32_sub(r!(a), r!(c))),
                Op::F32Mul { d, a, b: c } => w!(d, num::f32_mul(r!(a), r!(c))),
                Op::F32Div { d, a, b: c } => w!(d, num::f32_div(r!(a), r!(c))),
                Op::F32Min { d, a, b: c } => w!(d, num::f32_min(r!(a), r!(c))),
                Op::F32Max { d, a, b: c } => w!(d, num::f32_max(r!(a), r!(c))),
                Op::F32Copysign { d, a, b: c } => {
                    w!(d, (r!(a) & 0x7fff_ffff) | (r!(c) & 0x8000_0000))
                }
                Op::F64Abs { d, s } => w!(d, r!(s) & 0x7fff_ffff_ffff_ffff),
                Op::F64Neg { d, s } => w!(d, r!(s) ^ 0x8000_0000_0000_0000),
                Op::F64Ceil { d, s } => w!(d, float::f64_ceil(r!(s))),
                Op::F64Floor { d, s } => w!(d, float::f64_floor(r!(s))),
                Op::F64Trunc { d, s } => w!(d, float::f64_trunc(r!(s))),
                Op::F64Nearest { d, s } => w!(d, float::f64_nearest(r!(s))),
                Op::F64Sqrt { d, s } => w!(d, float::f64_sqrt(r!(s))),
                Op::F64Add { d, a, b: c } => w!(d, num::f64_add(r!(a), r!(c))),
                Op::F64Sub { d, a, b: c } => w!(d, num::f64_sub(r!(a), r!(c))),
                Op::F64Mul { d, a, b: c } => w!(d, num::f64_mul(r!(a), r!(c))),
                Op::F64Div { d, a, b: c } => w!(d, num::f64_div(r!(a), r!(c))),
                Op::F64Min { d, a, b: c } => w!(d, float::f64_min(r!(a), r!(c))),
                Op::F64Max { d, a, b: c } => w!(d, float::f64_max(r!(a), r!(c))),
                Op::F64Copysign { d, a, b: c } => {
                    w!(
                        d,
                        (r!(a) & 0x7fff_ffff_ffff_ffff) | (r!(c) & 0x8000_0000_0000_0000)
                    )
                }

                Op::I32WrapI64 { d, s } => w!(d, r!(s) & 0xffff_ffff),
                Op::I32TruncF32S { d, s } => w!(
                    d,
                    i32s(tri!(
                        float::i32_trunc_f32_s(r!(s) as u32).map_err(num::trunc_trap)
                    ))
                ),
                Op::I32TruncF32U { d, s } => w!(
                    d,
                    w32(tri!(
                        float::i32_trunc_f32_u(r!(s) as u32).map_err(num::trunc_trap)
                    ))
                ),
                Op::I32TruncF64S { d, s } => w!(
                    d,
                    i32s(tri!(float::i32_trunc_f64_s(r!(s)).map_err(num::trunc_trap)))
                ),
                Op::I32TruncF64U { d, s } => w!(
                    d,
                    w32(tri!(float::i32_trunc_f64_u(r!(s)).map_err(num::trunc_trap)))
                ),
                Op::I64ExtendI32S { d, s } => w!(d, i64::from(r!(s) as u32 as i32) as u64),
                Op::I64ExtendI32U { d, s } => w!(d, r!(s) & 0xffff_ffff),
                Op::I64TruncF32S { d, s } => w!(
                    d,
                    tri!(float::i64_trunc_f32_s(r!(s) as u32).map_err(num::trunc_trap)) as u64
                ),
                Op::I64TruncF32U { d, s } => w!(
                    d,
                    tri!(float::i64_trunc_f32_u(r!(s) as u32).map_err(num::trunc_trap))
                ),
                Op::I64TruncF64S { d, s } => w!(
                    d,
                    tri!(float::i64_trunc_f64_s(r!(s)).map_err(num::trunc_trap)) as u64
                ),
                Op::I64TruncF64U { d, s } => w!(
                    d,
                    tri!(float::i64_trunc_f64_u(r!(s)).map_err(num::trunc_trap))
                ),
                Op::F32ConvertI32S { d, s } => w!(d, num::f32_from_i32(r!(s))),
                Op::F32ConvertI32U { d, s } => w!(d, num::f32_from_u32(r!(s))),
                Op::F32ConvertI64S { d, s } => w!(d, num::f32_from_i64(r!(s))),
                Op::F32ConvertI64U { d, s } => w!(d, num::f32_from_u64(r!(s))),
                Op::F32DemoteF64 { d, s } => w!(d, w32(float::f32_demote_f64(r!(s)))),
                Op::F64ConvertI32S { d, s } => w!(d, num::f64_from_i32(r!(s))),
                Op::F64ConvertI32U { d, s } => w!(d, num::f64_from_u32(r!(s))),
                Op::F64ConvertI64S { d, s } => w!(d, num::f64_from_i64(r!(s))),
                Op::F64ConvertI64U { d, s } => w!(d, num::f64_from_u64(r!(s))),
                Op::F64PromoteF32 { d, s } => w!(d, float::f64_promote_f32(r!(s) as u32)),
                Op::I32Extend8S { d, s } => w!(d, i32s(i32::from(r!(s) as u8 as i8))),
                Op::I32Extend16S { d, s } => w!(d, i32s(i32::from(r!(s) as u16 as i16))),
                Op::I64Extend8S { d, s } => w!(d, i64::from(r!(s) as u8 as i8) as u64),
                Op::I64Extend16S { d, s } => w!(d, i64::from(r!(s) as u16 as i16) as u64),
                Op::I64Extend32S { d, s } => w!(d, i64::from(r!(s) as u32 as i32) as u64),
                Op::I32TruncSatF32S { d, s } => {
                    w!(d, i32s(float::i32_trunc_sat_f32_s(r!(s) as u32)))
                }
                Op::I32TruncSatF32U { d, s } => {
                    w!(d, w32(float::i32_trunc_sat_f32_u(r!(s) as u32)))
                }
                Op::I32TruncSatF64S { d, s } => w!(d, i32s(float::i32_trunc_sat_f64_s(r!(s)))),
                Op::I32TruncSatF64U { d, s } => w!(d, w32(float::i32_trunc_sat_f64_u(r!(s)))),
                Op::I64TruncSatF32S { d, s } => {
                    w!(d, float::i64_trunc_sat_f32_s(r!(s) as u32) as u64)
                }
                Op::I64TruncSatF32U { d, s } => w!(d, float::i64_trunc_sat_f32_u(r!(s) as u32)),
                Op::I64TruncSatF64S { d, s } => w!(d, float::i64_trunc_sat_f64_s(r!(s)) as u64),
                Op::I64TruncSatF64U { d, s } => w!(d, float::i64_trunc_sat_f64_u(r!(s))),
            }
        }
    };
    meter.finish(countdown);
    result
}

/// Grows the value stack to at least `need` slots (geometrically, within `limit` and the
/// store's budget).
#[cold]
#[inline(never)]
fn grow_stack(
    stack: &mut alloc::vec::Vec<u64>,
    need: usize,
    limit: usize,
    no_alloc: bool,
    charged: &mut usize,
    store_max: usize,
) -> Result<(), TrapKind> {
    super::grow_vec(stack, need, limit, 1024, no_alloc, charged, store_max)
        .map_err(|()| TrapKind::ValueStackExhausted)
}

#[cold]
#[inline(never)]
fn grow_frames(
    frames: &mut alloc::vec::Vec<Frame>,
    need: usize,
    limit: usize,
    no_alloc: bool,
    charged: &mut usize,
    store_max: usize,
) -> Result<(), TrapKind> {
    super::grow_vec(frames, need, limit, 64, no_alloc, charged, store_max)
        .map_err(|()| TrapKind::CallStackExhausted)
}
