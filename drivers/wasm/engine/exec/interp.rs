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
//!    anything that may move or resize it (`memory.grow`, host calls, bulk operations, a
//!    switch to another instance). Every access is bounds-checked against `mem_len` first; the
//!    index is then clamped so that even a mispredicted check cannot be used to read out of
//!    bounds speculatively (Spectre v1), see [`nospec_index`].
//!
//! Everything else (globals, tables, calls, traps) goes through safe, checked code.
//!
//! # Shape
//!
//! The loop keeps only what nearly every instruction uses in local variables, where the
//! compiler can hold it in registers: the instruction pointer, the frame pointer, memory 0
//! and the fuel countdown. The rest of the interpreter's state (the store, the running
//! instance and function, the call depth) lives in a [`Cx`] that the loop hands to
//! out-of-line functions for everything rare or large: calls and returns, traps, refuelling,
//! tables and bulk operations. Those write back what changed (the frame pointer after a call,
//! memory 0 after a host call) and the loop picks it up from there. The fewer values live
//! across the loop, the fewer the compiler spills, and the cheaper each dispatch is. The one
//! exception is the common case of a return (to a caller in the same instance), a few loads
//! and stores that are inlined into the loop: on call-heavy code the out-of-line call cost
//! more than the loop saved.
//!
//! # Dispatch
//!
//! With jump tables, the `match` on the instruction is one indirect jump. The kernel builds
//! Rust without them on x86 with retpolines or IBT, and the `match` then becomes a balanced
//! tree of about nine comparisons. Builds that say so (`--cfg no_jump_tables`) first find
//! the instruction's tier ([`crate::ir`] orders the instructions by how often they run) with
//! one to three comparisons, then run a copy of the same `match` that the compiler reduces to
//! that tier's arms: five to seven comparisons for the instructions that run most.
//!
//! Or, with [`Dispatch::Threaded`], no `match` at all: [`execute_threaded`] calls the
//! instruction's handler through a table indexed by its discriminant, one indirect call and
//! return per instruction (call threading). A handler is the same `match`, instantiated for
//! one discriminant, of which the compiler keeps that instruction's arm; the instruction and
//! frame pointers go in and out in registers, the rest of the loop's registers live in a
//! [`Regs`] in memory. Each instruction is written once, in [`instruction_arms`], in the
//! macros of [`hot_loop_helpers`], and both loops expand it. Threaded dispatch beats the tree
//! wherever indirect calls and returns are plain instructions; the kernel sends them through
//! retpolines or return thunks on CPUs that need those, where it is slower, hence a choice
//! ([`crate::Config::dispatch`], the driver's `threaded` parameter), not a default.

use super::numeric::{self as num, b, i32s, w32};
use super::{GrowBudget, Meter};
use crate::config::Dispatch;
use crate::error::{Trap, TrapKind};
use crate::float;
use crate::host::FloatUnit;
use crate::ir::{FuncCode, Kind, Op, Slot};
use crate::module::Module;
use crate::store::{
    Frame, FuncInst, FuncKind, GlobalInst, HostEntry, InstanceInst, MemoryInst, ModuleRef, Slab,
    Store, TableInst, Types, PAGE_SIZE,
};
use crate::value::Value;
use alloc::vec::Vec;
use core::ptr;

/// The fuel a host call pays, on top of what the host function asks for.
pub(crate) const HOST_CALL_COST: u32 = 16;

/// Returns `index` if it is at most `max`, else 0, in a way the compiler cannot turn into a
/// branch: after a bounds check, this keeps a mispredicted check from steering a load out of
/// bounds (the `array_index_nospec()` idea).
#[inline(always)]
pub(crate) fn nospec_index(index: usize, max: usize) -> usize {
    zero_unless_at_most(index, index as u64, max as u64)
}

/// [`nospec_index`] for a memory access of `end - index` bytes at `index`: returns `index` if
/// `end` is at most `len`, else 0. It compares the access's end, already computed for its
/// bounds check, rather than its start against a limit computed for the purpose (one
/// instruction fewer per access).
#[inline(always)]
pub(crate) fn nospec_access(index: usize, end: u64, len: usize) -> usize {
    zero_unless_at_most(index, end, len as u64)
}

/// Returns `value` if `a <= b`, else 0, with a compare and a conditional move (or select) that
/// the compiler cannot turn into a branch the processor could mispredict.
#[inline(always)]
fn zero_unless_at_most(value: usize, a: u64, b: u64) -> usize {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        let mut r = value;
        // SAFETY: a compare and a conditional move between registers: no memory access, no
        // stack use, flags clobbered (the default).
        unsafe {
            core::arch::asm!(
                "cmp {a}, {b}",
                "cmova {r}, {zero}",
                r = inout(reg) r,
                a = in(reg) a,
                b = in(reg) b,
                zero = in(reg) 0usize,
                options(pure, nomem, nostack),
            );
        }
        r
    }
    #[cfg(all(target_arch = "aarch64", not(miri)))]
    {
        let mut r = value;
        // SAFETY: a compare, a conditional select and the speculation barrier `csdb`, on
        // registers only.
        unsafe {
            core::arch::asm!(
                "cmp {a}, {b}",
                "csel {r}, xzr, {r}, hi",
                "csdb",
                r = inout(reg) r,
                a = in(reg) a,
                b = in(reg) b,
                options(pure, nomem, nostack),
            );
        }
        r
    }
    #[cfg(any(miri, not(any(target_arch = "x86_64", target_arch = "aarch64"))))]
    {
        if a <= b {
            value
        } else {
            0
        }
    }
}

/// The interpreter's state outside its hot loop (see the module documentation): the parts of
/// the store it uses, where it is (instance, function, call depth) and what the out-of-line
/// operations hand back to the loop.
struct Cx<'s, T: 'static, M: ModuleRef, F: FloatUnit> {
    /// Memory 0 of the running instance (invariant 3), after whatever may have changed it.
    /// Away from `fp`: the compiler would otherwise load both as one vector.
    mem: *mut u8,
    mem_len: usize,
    types: &'s Types,
    funcs: &'s Slab<FuncInst>,
    host_funcs: &'s [HostEntry<T>],
    tables: &'s mut Slab<TableInst>,
    memories: &'s mut Slab<MemoryInst>,
    globals: &'s mut Slab<GlobalInst>,
    instances: &'s Slab<InstanceInst<M>>,
    data: &'s mut T,
    stack: &'s mut Vec<u64>,
    frames: &'s mut Vec<Frame>,
    host_args: &'s mut Vec<Value>,
    host_results: &'s mut Vec<Value>,
    charged: &'s mut usize,
    meter: Meter<'s>,
    /// Where float arithmetic runs; released before every out-of-line step that may sleep
    /// or take long (see [`FloatUnit`]).
    float: &'s mut F,
    max_value_stack: usize,
    max_call_depth: usize,
    store_max: usize,
    no_alloc: bool,
    /// The running instance, its module and defined function.
    inst_id: u32,
    inst: &'s InstanceInst<M>,
    module: &'s Module,
    cur: u32,
    code: &'s FuncCode,
    /// `code.ops.as_ptr()`.
    code_base: *const Op,
    /// `stack.as_mut_ptr()`, re-derived whenever the stack may have moved.
    stack_base: *mut u64,
    /// Frames saved in `frames`.
    depth: usize,
    /// The running function's frame, after a call or return.
    fp: *mut u64,
    /// The fuel countdown after an out-of-line operation (the loop keeps its own copy in a
    /// register; taking its address would keep it in memory).
    countdown: i64,
    /// Why [`Self::pay`] failed.
    fuel_trap: TrapKind,
    /// Why the last out-of-line operation that returned a null instruction pointer stopped:
    /// a trap, or `None` when the outermost function returned.
    trap: Option<Trap>,
}

/// Runs defined function `func` of instance `instance`, whose arguments are at the bottom of
/// the value stack (which [`super::invoke`] made large enough for its frame); leaves its
/// results there. `entry_cost` is the fuel of its first region. Float arithmetic runs on
/// `float`, which is released when this returns.
pub(crate) fn run<T: 'static, M: ModuleRef, F: FloatUnit>(
    store: &mut Store<T, M>,
    float: &mut F,
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
    let instances = &*instances;
    let inst: &InstanceInst<M> = instances.get(instance).ok_or_else(internal)?;
    let module: &Module = inst.module.as_deref().ok_or_else(internal)?;
    let code: &FuncCode = module.code.get(func as usize).ok_or_else(internal)?;
    if stack.len() < usize::from(code.num_slots) {
        return Err(internal());
    }
    let stack_base = stack.as_mut_ptr();
    let mut cx = Cx {
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
        charged,
        meter: Meter::new(config, fuel_left, fuel_used, interrupt),
        float,
        max_value_stack: config.max_value_stack,
        max_call_depth: config.max_call_depth,
        store_max: config.max_store_bytes,
        no_alloc: *no_alloc,
        inst_id: instance,
        inst,
        module,
        cur: func,
        code,
        code_base: code.ops.as_ptr(),
        stack_base,
        depth: 0,
        fp: stack_base,
        mem: ptr::NonNull::dangling().as_ptr(),
        mem_len: 0,
        countdown: 0,
        fuel_trap: TrapKind::OutOfFuel,
        trap: None,
    };
    cx.reload_mem();
    // SAFETY: the stack holds the function's `num_slots` slots (checked above).
    unsafe { zero_locals(cx.fp, code) };
    let countdown = cx.meter.start();
    let result = match config.dispatch {
        Dispatch::Match => execute(&mut cx, countdown, entry_cost),
        Dispatch::Threaded => execute_threaded(&mut cx, countdown, entry_cost),
    };
    cx.float.release();
    cx.meter.finish(cx.countdown);
    result
}

/// Zeroes the declared locals of `code`'s frame at `fp` and writes its constants.
///
/// # Safety
///
/// `fp` points to at least `code.num_slots` slots.
#[inline(always)]
unsafe fn zero_locals(fp: *mut u64, code: &FuncCode) {
    let (first, end) = (usize::from(code.num_params), usize::from(code.num_locals));
    let consts = &code.consts;
    if !consts.is_empty() {
        // SAFETY: `num_locals + consts.len() <= num_slots` (verified), so the constants'
        // slots are in the frame; the constants are the module's, not in the value stack.
        unsafe { ptr::copy_nonoverlapping(consts.as_ptr(), fp.add(end), consts.len()) };
    }
    // SAFETY: `first <= end <= num_slots` (verified), so the slots are in the frame.
    let locals = unsafe { fp.add(first) };
    // A few stores inline, the common case, rather than a call of `memset`.
    match end.saturating_sub(first) {
        0 => {}
        // SAFETY: the one local is in the frame, as just above.
        1 => unsafe { locals.write(0) },
        // SAFETY: the two locals are in the frame, as just above.
        2 => unsafe { locals.cast::<[u64; 2]>().write_unaligned([0; 2]) },
        // SAFETY: the three locals are in the frame, as just above.
        3 => unsafe { locals.cast::<[u64; 3]>().write_unaligned([0; 3]) },
        // SAFETY: the four locals are in the frame, as just above.
        4 => unsafe { locals.cast::<[u64; 4]>().write_unaligned([0; 4]) },
        // SAFETY: the `n` locals are in the frame, as just above.
        n => unsafe { ptr::write_bytes(locals, 0, n) },
    }
}

impl<'s, T: 'static, M: ModuleRef, F: FloatUnit> Cx<'s, T, M, F> {
    /// The trap `kind` at the instruction `ip` points to.
    #[cold]
    #[inline(never)]
    fn trap_at(&self, ip: *const Op, kind: TrapKind) -> Trap {
        Trap {
            kind,
            func: Some(self.code.func_index),
            offset: self.code.offsets.get(self.pc(ip)).copied(),
        }
    }

    /// The index of the instruction `ip` points to.
    fn pc(&self, ip: *const Op) -> usize {
        // SAFETY: `ip` and `code_base` point into the same instruction array (invariant 1),
        // or one past its end.
        unsafe { ip.offset_from(self.code_base) as usize }
    }

    /// Stops at the instruction before `next` (a call's resumption point) with `kind`;
    /// returns the null instruction pointer that tells the loop so.
    #[cold]
    #[inline(never)]
    fn fail(&mut self, next: *const Op, kind: TrapKind) -> *const Op {
        self.trap = Some(Trap {
            kind,
            func: Some(self.code.func_index),
            offset: self
                .code
                .offsets
                .get(self.pc(next).wrapping_sub(1))
                .copied(),
        });
        ptr::null()
    }

    /// The countdown went negative: see [`Meter::refuel`].
    #[cold]
    #[inline(never)]
    fn refuel(&mut self, countdown: i64) -> Result<i64, TrapKind> {
        // The end of a fuel slice ends a float section too: that bounds how long one lasts.
        self.float.release();
        self.meter.refuel(countdown)
    }

    /// Pays `cost` from `countdown`, leaving the new countdown in `self.countdown`; `false`
    /// when the fuel ran out or the interrupt hook asked to stop (the reason is then in
    /// `self.fuel_trap`).
    #[inline(always)]
    fn pay(&mut self, countdown: i64, cost: u32) -> bool {
        // No overflow: the countdown is at most the interrupt interval, a `u32`, and a
        // negative one is refuelled before anything else pays.
        let c = countdown - i64::from(cost);
        self.settle(c)
    }

    /// As [`Self::pay`], for the fuel a host function asks for.
    fn pay_host(&mut self, countdown: i64, cost: u64) -> bool {
        let c = countdown.saturating_sub(i64::try_from(cost).unwrap_or(i64::MAX));
        self.settle(c)
    }

    #[inline(always)]
    fn settle(&mut self, countdown: i64) -> bool {
        let mut c = countdown;
        if c < 0 {
            match self.refuel(c) {
                Ok(next) => c = next,
                Err(kind) => {
                    self.fuel_trap = kind;
                    return false;
                }
            }
        }
        self.countdown = c;
        true
    }

    /// Stops with the trap [`Self::pay`] failed with.
    #[cold]
    #[inline(never)]
    fn fail_fuel(&mut self, ip: *const Op) -> *const Op {
        self.fail(ip, self.fuel_trap)
    }

    /// Re-derives memory 0 of the running instance.
    #[inline(never)]
    fn reload_mem(&mut self) {
        match super::memory0(self.inst, self.memories) {
            Some(m) => {
                self.mem = m.data.as_mut_ptr();
                self.mem_len = m.data.len();
            }
            None => {
                self.mem = ptr::NonNull::dangling().as_ptr();
                self.mem_len = 0;
            }
        }
    }

    fn global(&self, global: u32) -> Option<&GlobalInst> {
        let a = *self.inst.globals.get(global as usize)?;
        self.globals.get(a)
    }

    fn global_mut(&mut self, global: u32) -> Option<&mut GlobalInst> {
        let a = *self.inst.globals.get(global as usize)?;
        self.globals.get_mut(a)
    }

    fn table_addr(&self, table: u32) -> Result<u32, TrapKind> {
        self.inst
            .tables
            .get(table as usize)
            .copied()
            .ok_or(TrapKind::Internal)
    }

    /// Calls defined function `index` of the running instance, whose arguments start at
    /// slot `base` of the frame at `fp`; `ip` is just past the call. Returns the callee's
    /// first instruction (its frame in `self.fp`), or null on a trap.
    #[inline(never)]
    fn call(
        &mut self,
        ip: *const Op,
        fp: *mut u64,
        base: Slot,
        index: u32,
        countdown: i64,
    ) -> *const Op {
        self.call_in(ip, fp, base, index, countdown)
    }

    #[inline(always)]
    fn call_in(
        &mut self,
        ip: *const Op,
        fp: *mut u64,
        base: Slot,
        index: u32,
        countdown: i64,
    ) -> *const Op {
        let module = self.module;
        let Some(callee) = module.code.get(index as usize) else {
            return self.fail(ip, TrapKind::Internal);
        };
        if !self.pay(countdown, callee.entry_cost) {
            return self.fail_fuel(ip);
        }
        self.enter(ip, fp, base, callee, index)
    }

    /// Pushes the caller's frame and makes `callee` (defined function `index` of the running
    /// instance) the running function, its frame at slot `base` of the caller's. Returns its
    /// first instruction, or null on a trap.
    #[inline(always)]
    fn enter(
        &mut self,
        ip: *const Op,
        fp: *mut u64,
        base: Slot,
        callee: &'s FuncCode,
        index: u32,
    ) -> *const Op {
        // SAFETY: `fp` and `stack_base` point into the value stack.
        let fp_idx = unsafe { fp.offset_from(self.stack_base) } as usize;
        let new_fp = fp_idx + usize::from(base);
        let need = new_fp + usize::from(callee.num_slots);
        if need > self.stack.len() {
            self.float.release();
            if let Err(kind) = grow_stack(
                self.stack,
                need,
                self.max_value_stack,
                self.no_alloc,
                self.charged,
                self.store_max,
            ) {
                return self.fail(ip, kind);
            }
            self.stack_base = self.stack.as_mut_ptr();
        }
        let depth = self.depth;
        if depth >= self.frames.len() {
            self.float.release();
            if let Err(kind) = grow_frames(
                self.frames,
                depth + 1,
                self.max_call_depth,
                self.no_alloc,
                self.charged,
                self.store_max,
            ) {
                return self.fail(ip, kind);
            }
        }
        let pc = self.pc(ip) as u32;
        let Some(slot) = self.frames.get_mut(depth) else {
            return self.fail(ip, TrapKind::Internal);
        };
        *slot = Frame {
            instance: self.inst_id,
            func: self.cur,
            pc,
            fp: fp_idx as u32,
        };
        self.depth = depth + 1;
        // SAFETY: `need <= stack.len()` was made sure above, so the callee's frame lies
        // inside the stack (invariant 2 for the callee).
        let fp = unsafe { self.stack_base.add(new_fp) };
        // SAFETY: as just above.
        unsafe { zero_locals(fp, callee) };
        self.fp = fp;
        self.cur = index;
        self.code = callee;
        self.code_base = callee.ops.as_ptr();
        self.code_base
    }

    /// Calls store function `addr`, whose arguments start at slot `base` of the frame at
    /// `fp`; `ip` is just past the call. Returns the next instruction to run (the callee's
    /// first, or `ip` after a host function), with the frame in `self.fp` and memory 0 in
    /// `self.mem`, or null on a trap.
    #[inline(never)]
    fn call_addr(
        &mut self,
        ip: *const Op,
        fp: *mut u64,
        addr: u32,
        base: Slot,
        countdown: i64,
    ) -> *const Op {
        let Some(f) = self.funcs.get(addr).copied() else {
            return self.fail(ip, TrapKind::Internal);
        };
        match f.kind {
            FuncKind::Wasm { instance, index } => {
                if instance == self.inst_id {
                    return self.call_in(ip, fp, base, index, countdown);
                }
                let instances = self.instances;
                let Some(other) = instances.get(instance) else {
                    return self.fail(ip, TrapKind::Internal);
                };
                let Some(other_module) = other.module.as_deref() else {
                    return self.fail(ip, TrapKind::Internal);
                };
                let Some(callee) = other_module.code.get(index as usize) else {
                    return self.fail(ip, TrapKind::Internal);
                };
                if !self.pay(countdown, callee.entry_cost) {
                    return self.fail_fuel(ip);
                }
                let next = self.enter(ip, fp, base, callee, index);
                if !next.is_null() {
                    self.inst_id = instance;
                    self.inst = other;
                    self.module = other_module;
                    self.reload_mem();
                }
                next
            }
            FuncKind::Host(h) => {
                if !self.pay(countdown, HOST_CALL_COST) {
                    return self.fail_fuel(ip);
                }
                let (Some(entry), Some(ty)) =
                    (self.host_funcs.get(h as usize), self.types.get(f.type_id))
                else {
                    return self.fail(ip, TrapKind::Internal);
                };
                // SAFETY: `fp` and `stack_base` point into the value stack.
                let fp_idx = unsafe { fp.offset_from(self.stack_base) } as usize;
                let start = fp_idx + usize::from(base);
                let n = ty.params().len().max(ty.results().len());
                let Some(slots) = self.stack.get_mut(start..start + n) else {
                    return self.fail(ip, TrapKind::Internal);
                };
                let memory = super::memory0(self.inst, self.memories);
                self.float.release();
                let outcome = super::call_host(
                    entry,
                    ty,
                    self.data,
                    memory,
                    slots,
                    self.host_args,
                    self.host_results,
                );
                // The host had the memory (and, in the aliasing model, the stack).
                self.stack_base = self.stack.as_mut_ptr();
                // SAFETY: the stack did not change size, so the frame is where it was.
                self.fp = unsafe { self.stack_base.add(fp_idx) };
                self.reload_mem();
                match outcome {
                    Ok(fuel) => {
                        let countdown = self.countdown;
                        if !self.pay_host(countdown, fuel) {
                            return self.fail_fuel(ip);
                        }
                        ip
                    }
                    Err(trap) => {
                        let offset = self.code.offsets.get(self.pc(ip).wrapping_sub(1));
                        self.trap = Some(Trap {
                            func: trap.func.or(Some(self.code.func_index)),
                            offset: trap.offset.or_else(|| offset.copied()),
                            ..trap
                        });
                        ptr::null()
                    }
                }
            }
            FuncKind::Free => self.fail(ip, TrapKind::Internal),
        }
    }

    /// `call_indirect` through `table` (a module index) with element `index`, expecting
    /// module type `ty`; as [`Self::call_addr`] otherwise.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn call_indirect(
        &mut self,
        ip: *const Op,
        fp: *mut u64,
        table: u32,
        index: u32,
        ty: u32,
        base: Slot,
        countdown: i64,
    ) -> *const Op {
        let t = match self.table_addr(table) {
            Ok(t) => t,
            Err(kind) => return self.fail(ip, kind),
        };
        let Some(t) = self.tables.get(t) else {
            return self.fail(ip, TrapKind::Internal);
        };
        let Some(&e) = t.elements.get(index as usize) else {
            return self.fail(ip, TrapKind::UndefinedElement);
        };
        let Some(addr) = e.checked_sub(1) else {
            return self.fail(ip, TrapKind::UninitializedElement);
        };
        let addr = addr as u32;
        let expected = self.inst.type_ids.get(ty as usize).copied();
        match self.funcs.get(addr) {
            Some(f) if Some(f.type_id) == expected => {
                if let FuncKind::Wasm { instance, index } = f.kind {
                    if instance == self.inst_id {
                        return self.call_in(ip, fp, base, index, countdown);
                    }
                }
            }
            Some(_) => return self.fail(ip, TrapKind::IndirectCallTypeMismatch),
            None => return self.fail(ip, TrapKind::Internal),
        }
        self.call_addr(ip, fp, addr, base, countdown)
    }

    /// Returns from the running function (its results already in the first slots of its
    /// frame): the caller's next instruction, with its frame in `self.fp` (and memory 0 in
    /// `self.mem` if the caller runs in another instance), or null when the outermost
    /// function returned (`self.trap` is `None`) or on a trap. `countdown` is the loop's: the
    /// loop resumes with `self.countdown`, so it must not be left at an older value, which
    /// would give back the fuel the returning function spent. Inlined into the loop: see the
    /// module documentation.
    #[inline(always)]
    fn ret(&mut self, ip: *const Op, countdown: i64) -> *const Op {
        self.countdown = countdown;
        let Some(depth) = self.depth.checked_sub(1) else {
            return ptr::null();
        };
        self.depth = depth;
        let Some(f) = self.frames.get(depth).copied() else {
            return self.fail(ip, TrapKind::Internal);
        };
        if f.instance != self.inst_id && !self.switch_instance(f.instance) {
            return self.fail(ip, TrapKind::Internal);
        }
        let module = self.module;
        let Some(caller) = module.code.get(f.func as usize) else {
            return self.fail(ip, TrapKind::Internal);
        };
        self.cur = f.func;
        self.code = caller;
        self.code_base = caller.ops.as_ptr();
        // SAFETY: `f.fp` was taken from an `fp` inside the stack, which has not shrunk.
        self.fp = unsafe { self.stack_base.add(f.fp as usize) };
        // SAFETY: `f.pc` was taken from an `ip` inside this function, just past a call,
        // which is not its last instruction (verified).
        let next = unsafe { self.code_base.add(f.pc as usize) };
        // The code after a call of a wasm function is a region of its own, which the caller
        // pays for now, when it resumes, rather than before the call: unwinding a deep call
        // stack then runs nothing it has not just paid for. Paid here, without a dispatch.
        // SAFETY: `next` is an instruction of the caller, as above.
        if let Op::Fuel { cost } = unsafe { *next } {
            if !self.pay(countdown, cost) {
                return self.fail_fuel(next);
            }
            // SAFETY: a `Fuel` instruction is not the function's last either: that is a
            // return, `unreachable` or a branch (verified).
            return unsafe { next.add(1) };
        }
        next
    }

    /// Makes `instance` the running one, for a return into it; `false` if it is gone.
    #[cold]
    #[inline(never)]
    fn switch_instance(&mut self, instance: u32) -> bool {
        let instances = self.instances;
        let Some(other) = instances.get(instance) else {
            return false;
        };
        let Some(other_module) = other.module.as_deref() else {
            return false;
        };
        self.inst_id = instance;
        self.inst = other;
        self.module = other_module;
        self.reload_mem();
        true
    }

    /// `table.get`, `table.set`, `table.size`, `table.grow`, `table.fill`, `table.copy`,
    /// `table.init` and `elem.drop`, and `ref.func`: everything on tables, out of line.
    /// Returns the value for the instructions that produce one.
    #[inline(never)]
    fn table_op(&mut self, op: Op, fp: *mut u64, countdown: i64) -> Result<u64, TrapKind> {
        self.float.release();
        let mut c = countdown;
        let result = self.table_op_in(op, fp, &mut c);
        self.countdown = c;
        result
    }

    fn table_op_in(&mut self, op: Op, fp: *mut u64, countdown: &mut i64) -> Result<u64, TrapKind> {
        // Slot access, as in the loop (invariant 2).
        let r = |s: Slot| {
            // SAFETY: the verifier checked that every slot `op` names, `base + 2` included,
            // is below `num_slots`, and the frame at `fp` has that many slots.
            unsafe { *fp.add(usize::from(s)) }
        };
        match op {
            Op::TableGet { i, table, .. } => {
                let t = self.table_addr(table)?;
                let t = self.tables.get(t).ok_or(TrapKind::Internal)?;
                t.elements
                    .get(r(i) as u32 as usize)
                    .copied()
                    .ok_or(TrapKind::TableOutOfBounds)
            }
            Op::TableSet { i, v, table } => {
                let t = self.table_addr(table)?;
                let t = self.tables.get_mut(t).ok_or(TrapKind::Internal)?;
                let slot = t
                    .elements
                    .get_mut(r(i) as u32 as usize)
                    .ok_or(TrapKind::TableOutOfBounds)?;
                *slot = r(v);
                Ok(0)
            }
            Op::TableSize { table, .. } => {
                let t = self.table_addr(table)?;
                let t = self.tables.get(t).ok_or(TrapKind::Internal)?;
                Ok(t.elements.len() as u64)
            }
            Op::TableGrow { base, table, .. } => {
                let t = self.table_addr(table)?;
                let (init, n) = (r(base), r(base + 1) as u32);
                let (store_max, no_alloc) = (self.store_max, self.no_alloc);
                let t = self.tables.get_mut(t).ok_or(TrapKind::Internal)?;
                let mut budget = GrowBudget {
                    store_charged: &mut *self.charged,
                    store_max,
                    no_alloc,
                };
                let grown = super::table_grow(t, n, init, &mut budget, &mut self.meter, countdown)?;
                Ok(grown.map_or(u64::from(u32::MAX), u64::from))
            }
            Op::TableFill { base, table } => {
                let t = self.table_addr(table)?;
                let (i, v, n) = (r(base) as u32, r(base + 1), r(base + 2) as u32);
                let t = self.tables.get_mut(t).ok_or(TrapKind::Internal)?;
                super::table_fill(t, i, v, n, &mut self.meter, countdown)?;
                Ok(0)
            }
            Op::TableCopy { base, dst, src } => {
                let (dt, st) = (self.table_addr(dst)?, self.table_addr(src)?);
                let (d, s, n) = (r(base) as u32, r(base + 1) as u32, r(base + 2) as u32);
                super::table_copy(self.tables, dt, st, d, s, n, &mut self.meter, countdown)?;
                Ok(0)
            }
            Op::TableInit { base, table, elem } => {
                let (d, s, n) = (r(base) as u32, r(base + 1) as u32, r(base + 2) as u32);
                super::table_init_in(
                    self.inst,
                    self.tables,
                    self.globals,
                    table,
                    elem,
                    d,
                    s,
                    n,
                    &mut self.meter,
                    countdown,
                )?;
                Ok(0)
            }
            Op::ElemDrop { elem } => {
                if let Some(flag) = self.inst.dropped.get(elem as usize) {
                    flag.set(true);
                }
                Ok(0)
            }
            Op::RefFunc { func, .. } => match self.inst.funcs.get(func as usize) {
                Some(&a) => Ok(u64::from(a) + 1),
                None => Err(TrapKind::Internal),
            },
            _ => Err(TrapKind::Internal),
        }
    }

    /// `memory.grow`, `memory.fill`, `memory.copy`, `memory.init` and `data.drop`, out of
    /// line; memory 0 is re-derived afterwards. Returns `memory.grow`'s result.
    #[inline(never)]
    fn memory_op(&mut self, op: Op, fp: *mut u64, countdown: i64) -> Result<u64, TrapKind> {
        self.float.release();
        let mut c = countdown;
        let result = self.memory_op_in(op, fp, &mut c);
        self.countdown = c;
        self.reload_mem();
        result
    }

    fn memory_op_in(&mut self, op: Op, fp: *mut u64, countdown: &mut i64) -> Result<u64, TrapKind> {
        let r = |s: Slot| {
            // SAFETY: as in `table_op`.
            unsafe { *fp.add(usize::from(s)) }
        };
        let result = match op {
            Op::MemoryGrow { s, .. } => {
                let delta = r(s) as u32;
                let (store_max, no_alloc) = (self.store_max, self.no_alloc);
                let m = super::memory0(self.inst, self.memories).ok_or(TrapKind::Internal)?;
                let mut budget = GrowBudget {
                    store_charged: &mut *self.charged,
                    store_max,
                    no_alloc,
                };
                let grown = super::memory_grow(m, delta, &mut budget, &mut self.meter, countdown)?;
                Ok(grown.map_or(u64::from(u32::MAX), u64::from))
            }
            Op::MemoryFill { base } => {
                let (d, v, n) = (r(base) as u32, r(base + 1) as u8, r(base + 2) as u32);
                let m = super::memory0(self.inst, self.memories).ok_or(TrapKind::Internal)?;
                super::memory_fill(m, d, v, n, &mut self.meter, countdown).map(|()| 0)
            }
            Op::MemoryCopy { base } => {
                let (d, s, n) = (r(base) as u32, r(base + 1) as u32, r(base + 2) as u32);
                let m = super::memory0(self.inst, self.memories).ok_or(TrapKind::Internal)?;
                super::memory_copy(m, d, s, n, &mut self.meter, countdown).map(|()| 0)
            }
            Op::MemoryInit { base, data } => {
                let (d, s, n) = (r(base) as u32, r(base + 1) as u32, r(base + 2) as u32);
                super::memory_init_in(
                    self.inst,
                    self.memories,
                    0,
                    data,
                    d,
                    s,
                    n,
                    &mut self.meter,
                    countdown,
                )
                .map(|()| 0)
            }
            Op::DataDrop { data } => {
                let index = self.module.elems.len() + data as usize;
                if let Some(flag) = self.inst.dropped.get(index) {
                    flag.set(true);
                }
                Ok(0)
            }
            _ => Err(TrapKind::Internal),
        };
        result
    }
}

/// Defines the macros the interpreter's instructions are written in, over the hot loop's
/// registers (the local variables named here) and its block `$run`, whose value is the
/// loop's result. Both dispatch loops use them (see `execute` and `execute_threaded`), so
/// that each instruction is written once; they differ only in `br_if!`, which each defines
/// itself. `$d` is `$`, for the inner macros' own parameters.
macro_rules! hot_loop_helpers {
    ($d:tt $run:lifetime; $cx:ident, $ip:ident, $fp:ident, $mem:ident, $mem_len:ident,
        $countdown:ident) => {
        // Slot access: see invariant 2 of the module documentation.
        macro_rules! r {
            ($d s:expr) => {{
                let s = usize::from($d s);
                // SAFETY: `s` is below the running function's `num_slots` (verified), and the frame
                // at `fp` has that many slots (invariant 2).
                unsafe { *$fp.add(s) }
            }};
        }
        macro_rules! w {
            ($d s:expr, $d v:expr) => {{
                let v: u64 = $d v;
                let s = usize::from($d s);
                // SAFETY: as for `r!`.
                unsafe { *$fp.add(s) = v }
            }};
        }

        // Float arithmetic on `cx.float` (see [`FloatUnit`]). The operands are evaluated first:
        // a nested operation borrows the unit too.
        macro_rules! f1 {
            ($d op:ident, $d a:expr) => {{
                let a = $d a;
                $cx.float.$d op(a)
            }};
        }
        macro_rules! f2 {
            ($d op:ident, $d a:expr, $d b:expr) => {{
                let (a, b) = ($d a, $d b);
                $cx.float.$d op(a, b)
            }};
        }


        macro_rules! trap {
            ($d kind:expr) => {{
                let kind = $d kind;
                break $run Err($cx.trap_at($ip, kind));
            }};
        }
        macro_rules! tri {
            ($d e:expr) => {
                match $d e {
                    Ok(v) => v,
                    Err(kind) => trap!(kind),
                }
            };
        }
        macro_rules! charge {
            ($d cost:expr) => {{
                // Cannot wrap: the countdown is at most the interrupt interval and at least
                // minus one region's cost (a negative one is refuelled at once). Wrapping,
                // not checked, so that kernels built with CONFIG_RUST_OVERFLOW_CHECKS get
                // no extra branch per region.
                $countdown = $countdown.wrapping_sub(i64::from($d cost));
                if $countdown < 0 {
                    $countdown = tri!($cx.refuel($countdown));
                }
            }};
        }
        macro_rules! jump {
            ($d offset:expr) => {{
                // SAFETY: the verified branch target is inside the function (invariant 1);
                // `ip` is the branch.
                $ip = unsafe { $ip.offset($d offset as isize) };
                continue;
            }};
        }
        // A counted loop's back edge: `a = a + step` (an i32, wrapping), then branch if
        // `test` holds for the new value (which it reads after `a` is written, as the two
        // instructions it fuses would).
        macro_rules! br_add {
            ($d a:expr, $d step:expr, $d cost:expr, $d offset:expr, |$d v:ident| $d test:expr) => {{
                let $d v = (r!($d a) as u32).wrapping_add($d step);
                w!($d a, w32($d v));
                br_if!($d test, $d cost, $d offset)
            }};
        }
        // After an out-of-line call: picks up the callee's state, or stops.
        macro_rules! resume {
            ($d next:expr) => {{
                let next: *const Op = $d next;
                if next.is_null() {
                    break $run match $cx.trap.take() {
                        Some(trap) => Err(trap),
                        None => Ok(()),
                    };
                }
                $ip = next;
                $fp = $cx.fp;
                $countdown = $cx.countdown;
                continue;
            }};
        }
        // The same after anything that may have changed memory 0 too (a host call, a switch
        // to another instance).
        macro_rules! resume_mem {
            ($d next:expr) => {{
                let next: *const Op = $d next;
                $mem = $cx.mem;
                $mem_len = $cx.mem_len;
                resume!(next)
            }};
        }
        // Memory access: see invariant 3.
        macro_rules! ea {
            ($d addr:expr, $d offset:expr, $d n:expr) => {{
                let ea = u64::from($d addr as u32) + u64::from($d offset);
                // No overflow: `ea < 2^33` and `$n <= 16`. Wrapping, so that overflow-checked
                // kernel builds add no branch per access. A mispredicted check gets index 0.
                let end = ea.wrapping_add($d n as u64);
                if end > $mem_len as u64 {
                    trap!(TrapKind::MemoryOutOfBounds);
                }
                nospec_access(ea as usize, end, $mem_len)
            }};
        }
        // The wrapping form: `addr + offset` modulo 2^32 (see `Op`).
        macro_rules! eaw {
            ($d addr:expr, $d offset:expr, $d n:expr) => {{
                ea!(($d addr as u32).wrapping_add($d offset), 0u32, $d n)
            }};
        }
        macro_rules! ldw {
            ($d addr:expr, $d offset:expr, $d n:literal) => {{
                let ea = eaw!($d addr, $d offset, $d n);
                // SAFETY: as for `ld!`.
                unsafe { ptr::read_unaligned($mem.add(ea).cast::<[u8; $d n]>()) }
            }};
        }
        macro_rules! stw {
            ($d addr:expr, $d offset:expr, $d bytes:expr) => {{
                let bytes = $d bytes;
                let ea = eaw!($d addr, $d offset, bytes.len());
                // SAFETY: as for `ld!`.
                unsafe { ptr::write_unaligned($mem.add(ea).cast(), bytes) }
            }};
        }
        // The indexed form: `a + b` modulo 2^32, then `+ offset` (see `Op`).
        macro_rules! ldx {
            ($d a:expr, $d b:expr, $d offset:expr, $d n:literal) => {{
                ld!(($d a as u32).wrapping_add($d b as u32), $d offset, $d n)
            }};
        }
        macro_rules! stx {
            ($d a:expr, $d b:expr, $d offset:expr, $d bytes:expr) => {{
                st!(($d a as u32).wrapping_add($d b as u32), $d offset, $d bytes)
            }};
        }
        macro_rules! ld {
            ($d addr:expr, $d offset:expr, $d n:literal) => {{
                let ea = ea!($d addr, $d offset, $d n);
                // SAFETY: `ea + N <= mem_len`, checked just above, and `mem` points to
                // `mem_len` bytes of memory 0 (invariant 3).
                unsafe { ptr::read_unaligned($mem.add(ea).cast::<[u8; $d n]>()) }
            }};
        }
        macro_rules! st {
            ($d addr:expr, $d offset:expr, $d bytes:expr) => {{
                let bytes = $d bytes;
                let ea = ea!($d addr, $d offset, bytes.len());
                // SAFETY: as for `ld!`.
                unsafe { ptr::write_unaligned($mem.add(ea).cast(), bytes) }
            }};
        }
    };
}

/// The instructions, one arm each, written in the macros of [`hot_loop_helpers`] over the
/// registers named, handed to [`dispatch_arms`] as `$how` says (see there). An arm that does
/// not branch falls through, leaving `$ip` on the instruction for the loop to advance. Every
/// arm ends with a comma, for [`dispatch_arms`] to tell them apart.
macro_rules! instruction_arms {
    ($($how:ident)+; $op:ident; $cx:ident, $ip:ident, $fp:ident, $mem:ident, $mem_len:ident,
        $countdown:ident) => {
        dispatch_arms!($($how)+; $op;
            Op::Unreachable => trap!(TrapKind::Unreachable),
            Op::Aux { .. } => trap!(TrapKind::Internal),
            Op::Fuel { cost } => charge!(cost),
            Op::Br { cost, offset } => {
                charge!(cost);
                jump!(offset);
            },
            Op::BrNez { c, cost, offset } => br_if!(r!(c) as u32 != 0, cost, offset),
            Op::BrEqz { c, cost, offset } => br_if!(r!(c) as u32 == 0, cost, offset),
            Op::BrNez64 { c, cost, offset } => br_if!(r!(c) != 0, cost, offset),
            Op::BrEqz64 { c, cost, offset } => br_if!(r!(c) == 0, cost, offset),
            Op::BrI32Eq { a, b, cost, offset } => {
                br_if!(r!(a) as u32 == r!(b) as u32, cost, offset)
            },
            Op::BrI32Ne { a, b, cost, offset } => {
                br_if!(r!(a) as u32 != r!(b) as u32, cost, offset)
            },
            Op::BrI32LtS { a, b, cost, offset } => {
                br_if!((r!(a) as i32) < r!(b) as i32, cost, offset)
            },
            Op::BrI32LtU { a, b, cost, offset } => {
                br_if!((r!(a) as u32) < r!(b) as u32, cost, offset)
            },
            Op::BrI32GtS { a, b, cost, offset } => {
                br_if!(r!(a) as i32 > r!(b) as i32, cost, offset)
            },
            Op::BrI32GtU { a, b, cost, offset } => {
                br_if!(r!(a) as u32 > r!(b) as u32, cost, offset)
            },
            Op::BrI32LeS { a, b, cost, offset } => {
                br_if!(r!(a) as i32 <= r!(b) as i32, cost, offset)
            },
            Op::BrI32LeU { a, b, cost, offset } => {
                br_if!(r!(a) as u32 <= r!(b) as u32, cost, offset)
            },
            Op::BrI32GeS { a, b, cost, offset } => {
                br_if!(r!(a) as i32 >= r!(b) as i32, cost, offset)
            },
            Op::BrI32GeU { a, b, cost, offset } => {
                br_if!(r!(a) as u32 >= r!(b) as u32, cost, offset)
            },
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
            },
            Op::BrI64LtU { a, b, cost, offset } => br_if!(r!(a) < r!(b), cost, offset),
            Op::BrI64GtS { a, b, cost, offset } => {
                br_if!(r!(a) as i64 > r!(b) as i64, cost, offset)
            },
            Op::BrI64GtU { a, b, cost, offset } => br_if!(r!(a) > r!(b), cost, offset),
            Op::BrI64LeS { a, b, cost, offset } => {
                br_if!(r!(a) as i64 <= r!(b) as i64, cost, offset)
            },
            Op::BrI64LeU { a, b, cost, offset } => br_if!(r!(a) <= r!(b), cost, offset),
            Op::BrI64GeS { a, b, cost, offset } => {
                br_if!(r!(a) as i64 >= r!(b) as i64, cost, offset)
            },
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
                br_if!(f2!(f32_eq, r!(a) as u32, r!(b) as u32), cost, offset)
            },
            Op::BrF32Ne { a, b, cost, offset } => {
                br_if!(!f2!(f32_eq, r!(a) as u32, r!(b) as u32), cost, offset)
            },
            Op::BrF32Lt { a, b, cost, offset } => {
                br_if!(f2!(f32_lt, r!(a) as u32, r!(b) as u32), cost, offset)
            },
            Op::BrF32Gt { a, b, cost, offset } => {
                br_if!(f2!(f32_lt, r!(b) as u32, r!(a) as u32), cost, offset)
            },
            Op::BrF32Le { a, b, cost, offset } => {
                br_if!(f2!(f32_le, r!(a) as u32, r!(b) as u32), cost, offset)
            },
            Op::BrF32Ge { a, b, cost, offset } => {
                br_if!(f2!(f32_le, r!(b) as u32, r!(a) as u32), cost, offset)
            },
            Op::BrF64Eq { a, b, cost, offset } => {
                br_if!(f2!(f64_eq, r!(a), r!(b)), cost, offset)
            },
            Op::BrF64Ne { a, b, cost, offset } => {
                br_if!(!f2!(f64_eq, r!(a), r!(b)), cost, offset)
            },
            Op::BrF64Lt { a, b, cost, offset } => {
                br_if!(f2!(f64_lt, r!(a), r!(b)), cost, offset)
            },
            Op::BrF64Gt { a, b, cost, offset } => {
                br_if!(f2!(f64_lt, r!(b), r!(a)), cost, offset)
            },
            Op::BrF64Le { a, b, cost, offset } => {
                br_if!(f2!(f64_le, r!(a), r!(b)), cost, offset)
            },
            Op::BrF64Ge { a, b, cost, offset } => {
                br_if!(f2!(f64_le, r!(b), r!(a)), cost, offset)
            },
            Op::BrI32AddImmNe {
                a,
                imm,
                b,
                cost,
                offset,
            } => br_add!(a, i32::from(imm) as u32, cost, offset, |v| v
                != r!(b) as u32),
            Op::BrI32AddImmLtU {
                a,
                imm,
                b,
                cost,
                offset,
            } => br_add!(a, i32::from(imm) as u32, cost, offset, |v| v < r!(b) as u32),
            Op::BrI32AddImmLtS {
                a,
                imm,
                b,
                cost,
                offset,
            } => br_add!(a, i32::from(imm) as u32, cost, offset, |v| (v as i32)
                < r!(b) as i32),
            Op::BrI32AddImmNez {
                a,
                imm,
                cost,
                offset,
            } => br_add!(a, i32::from(imm) as u32, cost, offset, |v| v != 0),
            Op::BrI32AddNe {
                a,
                x,
                b,
                cost,
                offset,
            } => br_add!(a, r!(x) as u32, cost, offset, |v| v != r!(b) as u32),
            Op::BrI32AddLtU {
                a,
                x,
                b,
                cost,
                offset,
            } => br_add!(a, r!(x) as u32, cost, offset, |v| v < r!(b) as u32),
            Op::BrI32AddLtS {
                a,
                x,
                b,
                cost,
                offset,
            } => br_add!(a, r!(x) as u32, cost, offset, |v| (v as i32) < r!(b) as i32),
            Op::BrTable { s, len } => {
                let i = r!(s) as u32;
                let k = if i < len { i } else { len };
                let k = nospec_index(k as usize, len as usize);
                // SAFETY: the `len + 1` entries follow (verified) and `k <= len`.
                $ip = unsafe { $ip.add(1 + k) };
                continue;
            },

            Op::Return0 => resume_mem!($cx.ret($ip.wrapping_add(1), $countdown)),
            Op::Return1 { s } => {
                w!(0u16, r!(s));
                resume_mem!($cx.ret($ip.wrapping_add(1), $countdown));
            },
            Op::ReturnImm32 { v } => {
                w!(0u16, u64::from(v));
                resume_mem!($cx.ret($ip.wrapping_add(1), $countdown));
            },
            Op::ReturnN { first, n } => {
                for i in 0..n {
                    w!(i, r!(first + i));
                }
                resume_mem!($cx.ret($ip.wrapping_add(1), $countdown));
            },
            Op::Call { base, func } => {
                resume!($cx.call($ip.wrapping_add(1), $fp, base, func, $countdown))
            },
            Op::CallImport { base, func } => {
                let Some(&addr) = $cx.inst.funcs.get(func as usize) else {
                    trap!(TrapKind::Internal);
                };
                resume_mem!($cx.call_addr($ip.wrapping_add(1), $fp, addr, base, $countdown));
            },
            Op::CallIndirect { base, index, ty } => {
                let i = r!(index) as u32;
                let next = $ip.wrapping_add(1);
                resume_mem!($cx.call_indirect(next, $fp, 0, i, ty, base, $countdown));
            },
            Op::CallIndirectTable { base, index, ty } => {
                // SAFETY: an `Aux` word follows (verified).
                let aux = unsafe { *$ip.add(1) };
                let Op::Aux { a: table, .. } = aux else {
                    trap!(TrapKind::Internal);
                };
                let i = r!(index) as u32;
                let next = $ip.wrapping_add(2);
                resume_mem!($cx.call_indirect(next, $fp, table, i, ty, base, $countdown));
            },

            Op::Copy { d, s } => w!(d, r!(s)),
            Op::I32AddImmCopy { d, d2, a, imm } => {
                let v = w32((r!(a) as u32).wrapping_add(imm as u32));
                w!(d, v);
                w!(d2, v);
            },
            Op::Copy2 { d1, s1, d2, s2 } => {
                w!(d1, r!(s1));
                w!(d2, r!(s2));
            },
            Op::Const32 { d, v } => w!(d, u64::from(v)),
            Op::Const64 { d, lo, hi } => w!(d, u64::from(lo) | u64::from(hi) << 32),
            Op::Select { d, c, a, b } => {
                w!(d, if r!(c) as u32 != 0 { r!(a) } else { r!(b) })
            },
            Op::Select64 { d, c, a, b } => w!(d, if r!(c) != 0 { r!(a) } else { r!(b) }),
            Op::SelectAndImm { d, c, a, b, imm } => {
                let bits = i64::from(imm) as u64;
                w!(d, if r!(c) & bits != 0 { r!(a) } else { r!(b) })
            },
            Op::GlobalGet { d, global } => match $cx.global(global) {
                Some(g) => w!(d, g.value),
                None => trap!(TrapKind::Internal),
            },
            Op::GlobalSet { s, global } => {
                let v = r!(s);
                match $cx.global_mut(global) {
                    Some(g) => g.value = v,
                    None => trap!(TrapKind::Internal),
                }
            },
            Op::TableGet { d, .. }
            | Op::TableSize { d, .. }
            | Op::TableGrow { d, .. }
            | Op::RefFunc { d, .. } => {
                let v = tri!($cx.table_op(*$op, $fp, $countdown));
                $countdown = $cx.countdown;
                w!(d, v);
            },
            Op::TableSet { .. }
            | Op::TableFill { .. }
            | Op::TableCopy { .. }
            | Op::TableInit { .. }
            | Op::ElemDrop { .. } => {
                tri!($cx.table_op(*$op, $fp, $countdown));
                $countdown = $cx.countdown;
            },
            Op::RefIsNull { d, s } => w!(d, b(r!(s) == 0)),

            Op::I32Load { d, addr, offset } => {
                w!(d, w32(u32::from_le_bytes(ld!(r!(addr), offset, 4))))
            },
            Op::I64Load { d, addr, offset } => {
                w!(d, u64::from_le_bytes(ld!(r!(addr), offset, 8)))
            },
            Op::I32Load8S { d, addr, offset } => {
                w!(d, i32s(i32::from(ld!(r!(addr), offset, 1)[0] as i8)))
            },
            Op::I32Load8U { d, addr, offset } => w!(d, u64::from(ld!(r!(addr), offset, 1)[0])),
            Op::I32Load16S { d, addr, offset } => w!(
                d,
                i32s(i32::from(i16::from_le_bytes(ld!(r!(addr), offset, 2))))
            ),
            Op::I32Load16U { d, addr, offset } => {
                w!(d, u64::from(u16::from_le_bytes(ld!(r!(addr), offset, 2))))
            },
            Op::I64Load8S { d, addr, offset } => {
                w!(d, i64::from(ld!(r!(addr), offset, 1)[0] as i8) as u64)
            },
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
            },
            Op::I32LoadW { d, addr, offset } => {
                w!(d, w32(u32::from_le_bytes(ldw!(r!(addr), offset, 4))))
            },
            Op::I64LoadW { d, addr, offset } => {
                w!(d, u64::from_le_bytes(ldw!(r!(addr), offset, 8)))
            },
            Op::I32LoadScaledW { d, a, k, imm } => {
                let addr = (r!(a) as u32).wrapping_shl(k as u32);
                w!(d, w32(u32::from_le_bytes(ldw!(addr, imm as u32, 4))))
            },
            Op::I32Load8SW { d, addr, offset } => {
                w!(d, i32s(i32::from(ldw!(r!(addr), offset, 1)[0] as i8)))
            },
            Op::I32Load8UW { d, addr, offset } => {
                w!(d, u64::from(ldw!(r!(addr), offset, 1)[0]))
            },
            Op::I32Load16SW { d, addr, offset } => w!(
                d,
                i32s(i32::from(i16::from_le_bytes(ldw!(r!(addr), offset, 2))))
            ),
            Op::I32Load16UW { d, addr, offset } => {
                w!(d, u64::from(u16::from_le_bytes(ldw!(r!(addr), offset, 2))))
            },
            Op::I64Load8SW { d, addr, offset } => {
                w!(d, i64::from(ldw!(r!(addr), offset, 1)[0] as i8) as u64)
            },
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
            },
            Op::I32LoadX { d, a, b: c, offset } => {
                w!(d, w32(u32::from_le_bytes(ldx!(r!(a), r!(c), offset, 4))))
            },
            Op::I64LoadX { d, a, b: c, offset } => {
                w!(d, u64::from_le_bytes(ldx!(r!(a), r!(c), offset, 8)))
            },
            Op::I32Load8SX { d, a, b: c, offset } => {
                w!(d, i32s(i32::from(ldx!(r!(a), r!(c), offset, 1)[0] as i8)))
            },
            Op::I32Load8UX { d, a, b: c, offset } => {
                w!(d, u64::from(ldx!(r!(a), r!(c), offset, 1)[0]))
            },
            Op::I32Load16SX { d, a, b: c, offset } => w!(
                d,
                i32s(i32::from(i16::from_le_bytes(ldx!(r!(a), r!(c), offset, 2))))
            ),
            Op::I32Load16UX { d, a, b: c, offset } => {
                w!(
                    d,
                    u64::from(u16::from_le_bytes(ldx!(r!(a), r!(c), offset, 2)))
                )
            },
            Op::I64Load8SX { d, a, b: c, offset } => {
                w!(d, i64::from(ldx!(r!(a), r!(c), offset, 1)[0] as i8) as u64)
            },
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
            },
            Op::I32LoadAdv { d, p, k, offset } => {
                let a = (r!(p) as u32).wrapping_add(i32::from(k) as u32);
                w!(p, w32(a));
                w!(d, w32(u32::from_le_bytes(ld!(a, offset, 4))))
            },
            Op::I64LoadAdv { d, p, k, offset } => {
                let a = (r!(p) as u32).wrapping_add(i32::from(k) as u32);
                w!(p, w32(a));
                w!(d, u64::from_le_bytes(ld!(a, offset, 8)))
            },
            Op::I32LoadAbs { d, addr } => w!(d, w32(u32::from_le_bytes(ld!(addr, 0u32, 4)))),
            Op::I64LoadAbs { d, addr } => w!(d, u64::from_le_bytes(ld!(addr, 0u32, 8))),
            Op::I32StoreAbs { v, addr } => st!(addr, 0u32, (r!(v) as u32).to_le_bytes()),
            Op::I64StoreAbs { v, addr } => st!(addr, 0u32, r!(v).to_le_bytes()),
            Op::I32Store { addr, v, offset } => {
                st!(r!(addr), offset, (r!(v) as u32).to_le_bytes())
            },
            Op::I64Store { addr, v, offset } => st!(r!(addr), offset, r!(v).to_le_bytes()),
            Op::I32Store8 { addr, v, offset } => st!(r!(addr), offset, [r!(v) as u8]),
            Op::I32Store16 { addr, v, offset } => {
                st!(r!(addr), offset, (r!(v) as u16).to_le_bytes())
            },
            Op::I32StoreImm { addr, v, offset } => {
                st!(r!(addr), offset, i32::from(v).to_le_bytes())
            },
            Op::I64StoreImm { addr, v, offset } => {
                st!(r!(addr), offset, i64::from(v).to_le_bytes())
            },
            Op::I32Store8Imm { addr, v, offset } => st!(r!(addr), offset, [v as u8]),
            Op::I32Store16Imm { addr, v, offset } => st!(r!(addr), offset, v.to_le_bytes()),
            Op::I32StoreW { addr, v, offset } => {
                stw!(r!(addr), offset, (r!(v) as u32).to_le_bytes())
            },
            Op::I64StoreW { addr, v, offset } => stw!(r!(addr), offset, r!(v).to_le_bytes()),
            Op::I32Store8W { addr, v, offset } => stw!(r!(addr), offset, [r!(v) as u8]),
            Op::I32Store16W { addr, v, offset } => {
                stw!(r!(addr), offset, (r!(v) as u16).to_le_bytes())
            },
            Op::I32StoreImmW { addr, v, offset } => {
                stw!(r!(addr), offset, i32::from(v).to_le_bytes())
            },
            Op::I64StoreImmW { addr, v, offset } => {
                stw!(r!(addr), offset, i64::from(v).to_le_bytes())
            },
            Op::I32Store8ImmW { addr, v, offset } => stw!(r!(addr), offset, [v as u8]),
            Op::I32Store16ImmW { addr, v, offset } => {
                stw!(r!(addr), offset, v.to_le_bytes())
            },
            Op::I32StoreX { a, b: c, v, offset } => {
                stx!(r!(a), r!(c), offset, (r!(v) as u32).to_le_bytes())
            },
            Op::I64StoreX { a, b: c, v, offset } => {
                stx!(r!(a), r!(c), offset, r!(v).to_le_bytes())
            },
            Op::I32Store8X { a, b: c, v, offset } => {
                stx!(r!(a), r!(c), offset, [r!(v) as u8])
            },
            Op::I32Store16X { a, b: c, v, offset } => {
                stx!(r!(a), r!(c), offset, (r!(v) as u16).to_le_bytes())
            },
            Op::I32StoreImmX { a, b: c, v, offset } => {
                stx!(r!(a), r!(c), offset, i32::from(v).to_le_bytes())
            },
            Op::I64StoreImmX { a, b: c, v, offset } => {
                stx!(r!(a), r!(c), offset, i64::from(v).to_le_bytes())
            },
            Op::I32Store8ImmX { a, b: c, v, offset } => stx!(r!(a), r!(c), offset, [v as u8]),
            Op::I32Store16ImmX { a, b: c, v, offset } => {
                stx!(r!(a), r!(c), offset, v.to_le_bytes())
            },
            Op::MemorySize { d } => w!(d, ($mem_len / PAGE_SIZE) as u64),
            Op::MemoryGrow { d, .. } => {
                let grown = $cx.memory_op(*$op, $fp, $countdown);
                $countdown = $cx.countdown;
                $mem = $cx.mem;
                $mem_len = $cx.mem_len;
                w!(d, tri!(grown));
            },
            Op::MemoryFill { .. }
            | Op::MemoryCopy { .. }
            | Op::MemoryInit { .. }
            | Op::DataDrop { .. } => {
                let done = $cx.memory_op(*$op, $fp, $countdown);
                $countdown = $cx.countdown;
                $mem = $cx.mem;
                $mem_len = $cx.mem_len;
                tri!(done);
            },

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
            Op::F32Eq { d, a, b: c } => w!(d, b(f2!(f32_eq, r!(a) as u32, r!(c) as u32))),
            Op::F32Ne { d, a, b: c } => w!(d, b(!f2!(f32_eq, r!(a) as u32, r!(c) as u32))),
            Op::F32Lt { d, a, b: c } => w!(d, b(f2!(f32_lt, r!(a) as u32, r!(c) as u32))),
            Op::F32Gt { d, a, b: c } => w!(d, b(f2!(f32_lt, r!(c) as u32, r!(a) as u32))),
            Op::F32Le { d, a, b: c } => w!(d, b(f2!(f32_le, r!(a) as u32, r!(c) as u32))),
            Op::F32Ge { d, a, b: c } => w!(d, b(f2!(f32_le, r!(c) as u32, r!(a) as u32))),
            Op::F64Eq { d, a, b: c } => w!(d, b(f2!(f64_eq, r!(a), r!(c)))),
            Op::F64Ne { d, a, b: c } => w!(d, b(!f2!(f64_eq, r!(a), r!(c)))),
            Op::F64Lt { d, a, b: c } => w!(d, b(f2!(f64_lt, r!(a), r!(c)))),
            Op::F64Gt { d, a, b: c } => w!(d, b(f2!(f64_lt, r!(c), r!(a)))),
            Op::F64Le { d, a, b: c } => w!(d, b(f2!(f64_le, r!(a), r!(c)))),
            Op::F64Ge { d, a, b: c } => w!(d, b(f2!(f64_le, r!(c), r!(a)))),
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
            },
            Op::I32ShrU { d, a, b: c } => w!(d, w32((r!(a) as u32).wrapping_shr(r!(c) as u32))),
            Op::I32Rotl { d, a, b: c } => {
                w!(d, w32((r!(a) as u32).rotate_left(r!(c) as u32 % 32)))
            },
            Op::I32Rotr { d, a, b: c } => {
                w!(d, w32((r!(a) as u32).rotate_right(r!(c) as u32 % 32)))
            },
            Op::I32AddImm { d, a, imm } => w!(d, w32((r!(a) as u32).wrapping_add(imm as u32))),
            Op::I32SubImmLhs { d, a, imm } => {
                w!(d, w32((imm as u32).wrapping_sub(r!(a) as u32)))
            },
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
            },
            Op::I32ShrUImm { d, a, imm } => w!(d, w32((r!(a) as u32).wrapping_shr(imm as u32))),
            Op::I32RotlImm { d, a, imm } => {
                w!(d, w32((r!(a) as u32).rotate_left(imm as u32 % 32)))
            },
            Op::I32RotrImm { d, a, imm } => {
                w!(d, w32((r!(a) as u32).rotate_right(imm as u32 % 32)))
            },
            Op::I32ShlImmXor { d, a, b: c, imm } => {
                let t = (r!(a) as u32).wrapping_shl(imm as u32);
                w!(d, w32(t ^ (r!(c) as u32)))
            },
            Op::I32ShlImmAdd { d, a, b: c, imm } => {
                let t = (r!(a) as u32).wrapping_shl(imm as u32);
                w!(d, w32(t.wrapping_add(r!(c) as u32)))
            },
            Op::I32ShlImmOr { d, a, b: c, imm } => {
                let t = (r!(a) as u32).wrapping_shl(imm as u32);
                w!(d, w32(t | (r!(c) as u32)))
            },
            Op::I32ShrUImmXor { d, a, b: c, imm } => {
                let t = (r!(a) as u32).wrapping_shr(imm as u32);
                w!(d, w32(t ^ (r!(c) as u32)))
            },
            Op::I32ShrUImmAdd { d, a, b: c, imm } => {
                let t = (r!(a) as u32).wrapping_shr(imm as u32);
                w!(d, w32(t.wrapping_add(r!(c) as u32)))
            },
            Op::I32ShrUImmOr { d, a, b: c, imm } => {
                let t = (r!(a) as u32).wrapping_shr(imm as u32);
                w!(d, w32(t | (r!(c) as u32)))
            },
            Op::I32AndImmXor { d, a, b: c, imm } => {
                let t = (r!(a) as u32) & (imm as u32);
                w!(d, w32(t ^ (r!(c) as u32)))
            },
            Op::I32AndImmAdd { d, a, b: c, imm } => {
                let t = (r!(a) as u32) & (imm as u32);
                w!(d, w32(t.wrapping_add(r!(c) as u32)))
            },
            Op::I32AndImmOr { d, a, b: c, imm } => {
                let t = (r!(a) as u32) & (imm as u32);
                w!(d, w32(t | (r!(c) as u32)))
            },
            Op::I32XorAndImm { d, a, b: c, imm } => {
                let t = (r!(a) as u32) ^ (r!(c) as u32);
                w!(d, w32(t & (imm as u32)))
            },
            Op::I32XorMulImm { d, a, b: c, imm } => {
                let t = (r!(a) as u32) ^ (r!(c) as u32);
                w!(d, w32(t.wrapping_mul(imm as u32)))
            },
            Op::I32XorShrUImm { d, a, b: c, imm } => {
                let t = (r!(a) as u32) ^ (r!(c) as u32);
                w!(d, w32(t.wrapping_shr(imm as u32)))
            },
            Op::I32XorShlImm { d, a, b: c, imm } => {
                let t = (r!(a) as u32) ^ (r!(c) as u32);
                w!(d, w32(t.wrapping_shl(imm as u32)))
            },
            Op::I32AddAndImm { d, a, b: c, imm } => {
                let t = (r!(a) as u32).wrapping_add(r!(c) as u32);
                w!(d, w32(t & (imm as u32)))
            },
            Op::I32AddShlImm { d, a, b: c, imm } => {
                let t = (r!(a) as u32).wrapping_add(r!(c) as u32);
                w!(d, w32(t.wrapping_shl(imm as u32)))
            },
            Op::I32AndImmShlImm { d, a, imm, k } => {
                let t = (r!(a) as u32) & (imm as u32);
                w!(d, w32(t.wrapping_shl(i32::from(k) as u32)))
            },
            Op::I32ShrUImmAndImm { d, a, imm, k } => {
                let t = (r!(a) as u32).wrapping_shr(i32::from(k) as u32);
                w!(d, w32(t & (imm as u32)))
            },
            Op::I32AddImmAndImm { d, a, imm, k } => {
                let t = (r!(a) as u32).wrapping_add(i32::from(k) as u32);
                w!(d, w32(t & (imm as u32)))
            },
            Op::I32MulImmShrUImm { d, a, imm, k } => {
                let t = (r!(a) as u32).wrapping_mul(imm as u32);
                w!(d, w32(t.wrapping_shr(i32::from(k) as u32)))
            },
            Op::I32MulImmAddImm { d, a, imm, k } => {
                let t = (r!(a) as u32).wrapping_mul(imm as u32);
                w!(d, w32(t.wrapping_add(i32::from(k) as u32)))
            },
            Op::I32ShlImmAddImm { d, a, imm, k } => {
                let t = (r!(a) as u32).wrapping_shl(k as u32);
                w!(d, w32(t.wrapping_add(imm as u32)))
            },
            Op::I64MulImmAddImm { d, a, imm, k } => {
                let t = r!(a).wrapping_mul(i64::from(imm) as u64);
                w!(d, t.wrapping_add(i64::from(k) as u64))
            },
            Op::I32MulAdd { d, a, b: x, c } => {
                let t = (r!(a) as u32).wrapping_mul(r!(x) as u32);
                w!(d, w32(t.wrapping_add(r!(c) as u32)))
            },
            Op::I32XorXor { d, a, b: x, c } => {
                let t = (r!(a) as u32) ^ (r!(x) as u32);
                w!(d, w32(t ^ (r!(c) as u32)))
            },
            Op::I32AddAdd { d, a, b: x, c } => {
                let t = (r!(a) as u32).wrapping_add(r!(x) as u32);
                w!(d, w32(t.wrapping_add(r!(c) as u32)))
            },
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
            },
            Op::I64ShrU { d, a, b: c } => w!(d, r!(a).wrapping_shr(r!(c) as u32)),
            Op::I64Rotl { d, a, b: c } => w!(d, r!(a).rotate_left((r!(c) % 64) as u32)),
            Op::I64Rotr { d, a, b: c } => w!(d, r!(a).rotate_right((r!(c) % 64) as u32)),
            Op::I64AddImm { d, a, imm } => w!(d, r!(a).wrapping_add(i64::from(imm) as u64)),
            Op::I64SubImmLhs { d, a, imm } => {
                w!(d, (i64::from(imm) as u64).wrapping_sub(r!(a)))
            },
            Op::I64MulImm { d, a, imm } => w!(d, r!(a).wrapping_mul(i64::from(imm) as u64)),
            Op::I64DivSImm { d, a, imm } => {
                w!(d, tri!(num::i64_div_s(r!(a), i64::from(imm) as u64)))
            },
            Op::I64DivUImm { d, a, imm } => {
                w!(d, tri!(num::i64_div_u(r!(a), i64::from(imm) as u64)))
            },
            Op::I64RemSImm { d, a, imm } => {
                w!(d, tri!(num::i64_rem_s(r!(a), i64::from(imm) as u64)))
            },
            Op::I64RemUImm { d, a, imm } => {
                w!(d, tri!(num::i64_rem_u(r!(a), i64::from(imm) as u64)))
            },
            Op::I64AndImm { d, a, imm } => w!(d, r!(a) & i64::from(imm) as u64),
            Op::I64OrImm { d, a, imm } => w!(d, r!(a) | i64::from(imm) as u64),
            Op::I64XorImm { d, a, imm } => w!(d, r!(a) ^ i64::from(imm) as u64),
            Op::I64ShlImm { d, a, imm } => w!(d, r!(a).wrapping_shl(imm as u32)),
            Op::I64ShrSImm { d, a, imm } => {
                w!(d, (r!(a) as i64).wrapping_shr(imm as u32) as u64)
            },
            Op::I64ShrUImm { d, a, imm } => w!(d, r!(a).wrapping_shr(imm as u32)),
            Op::I64RotlImm { d, a, imm } => w!(d, r!(a).rotate_left(imm as u32 % 64)),
            Op::I64RotrImm { d, a, imm } => w!(d, r!(a).rotate_right(imm as u32 % 64)),

            Op::F32Abs { d, s } => w!(d, r!(s) & 0x7fff_ffff),
            Op::F32Neg { d, s } => w!(d, (r!(s) ^ 0x8000_0000) & 0xffff_ffff),
            Op::F32Ceil { d, s } => w!(d, w32(float::f32_ceil(r!(s) as u32))),
            Op::F32Floor { d, s } => w!(d, w32(float::f32_floor(r!(s) as u32))),
            Op::F32Trunc { d, s } => w!(d, w32(float::f32_trunc(r!(s) as u32))),
            Op::F32Nearest { d, s } => w!(d, w32(float::f32_nearest(r!(s) as u32))),
            Op::F32Sqrt { d, s } => w!(d, w32(f1!(f32_sqrt, r!(s) as u32))),
            Op::F32Add { d, a, b: c } => w!(d, w32(f2!(f32_add, r!(a) as u32, r!(c) as u32))),
            Op::F32Sub { d, a, b: c } => w!(d, w32(f2!(f32_sub, r!(a) as u32, r!(c) as u32))),
            Op::F32Mul { d, a, b: c } => w!(d, w32(f2!(f32_mul, r!(a) as u32, r!(c) as u32))),
            Op::F32Div { d, a, b: c } => w!(d, w32(f2!(f32_div, r!(a) as u32, r!(c) as u32))),
            Op::F32Min { d, a, b: c } => w!(d, num::f32_min(r!(a), r!(c))),
            Op::F32Max { d, a, b: c } => w!(d, num::f32_max(r!(a), r!(c))),
            Op::F32Copysign { d, a, b: c } => {
                w!(d, (r!(a) & 0x7fff_ffff) | (r!(c) & 0x8000_0000))
            },
            Op::F64Abs { d, s } => w!(d, r!(s) & 0x7fff_ffff_ffff_ffff),
            Op::F64Neg { d, s } => w!(d, r!(s) ^ 0x8000_0000_0000_0000),
            Op::F64Ceil { d, s } => w!(d, float::f64_ceil(r!(s))),
            Op::F64Floor { d, s } => w!(d, float::f64_floor(r!(s))),
            Op::F64Trunc { d, s } => w!(d, float::f64_trunc(r!(s))),
            Op::F64Nearest { d, s } => w!(d, float::f64_nearest(r!(s))),
            Op::F64Sqrt { d, s } => w!(d, f1!(f64_sqrt, r!(s))),
            Op::F64Add { d, a, b: c } => w!(d, f2!(f64_add, r!(a), r!(c))),
            Op::F64Sub { d, a, b: c } => w!(d, f2!(f64_sub, r!(a), r!(c))),
            Op::F64Mul { d, a, b: c } => w!(d, f2!(f64_mul, r!(a), r!(c))),
            Op::F64Div { d, a, b: c } => w!(d, f2!(f64_div, r!(a), r!(c))),
            Op::F64AddAdd { d, a, b, c } => {
                w!(d, f2!(f64_add, f2!(f64_add, r!(a), r!(b)), r!(c)))
            },
            Op::F64AddAddR { d, a, b, c } => {
                w!(d, f2!(f64_add, r!(c), f2!(f64_add, r!(a), r!(b))))
            },
            Op::F64AddSub { d, a, b, c } => {
                w!(d, f2!(f64_sub, f2!(f64_add, r!(a), r!(b)), r!(c)))
            },
            Op::F64AddSubR { d, a, b, c } => {
                w!(d, f2!(f64_sub, r!(c), f2!(f64_add, r!(a), r!(b))))
            },
            Op::F64AddMul { d, a, b, c } => {
                w!(d, f2!(f64_mul, f2!(f64_add, r!(a), r!(b)), r!(c)))
            },
            Op::F64AddMulR { d, a, b, c } => {
                w!(d, f2!(f64_mul, r!(c), f2!(f64_add, r!(a), r!(b))))
            },
            Op::F64SubAdd { d, a, b, c } => {
                w!(d, f2!(f64_add, f2!(f64_sub, r!(a), r!(b)), r!(c)))
            },
            Op::F64SubAddR { d, a, b, c } => {
                w!(d, f2!(f64_add, r!(c), f2!(f64_sub, r!(a), r!(b))))
            },
            Op::F64SubSub { d, a, b, c } => {
                w!(d, f2!(f64_sub, f2!(f64_sub, r!(a), r!(b)), r!(c)))
            },
            Op::F64SubSubR { d, a, b, c } => {
                w!(d, f2!(f64_sub, r!(c), f2!(f64_sub, r!(a), r!(b))))
            },
            Op::F64SubMul { d, a, b, c } => {
                w!(d, f2!(f64_mul, f2!(f64_sub, r!(a), r!(b)), r!(c)))
            },
            Op::F64SubMulR { d, a, b, c } => {
                w!(d, f2!(f64_mul, r!(c), f2!(f64_sub, r!(a), r!(b))))
            },
            Op::F64MulAdd { d, a, b, c } => {
                w!(d, f2!(f64_add, f2!(f64_mul, r!(a), r!(b)), r!(c)))
            },
            Op::F64MulAddR { d, a, b, c } => {
                w!(d, f2!(f64_add, r!(c), f2!(f64_mul, r!(a), r!(b))))
            },
            Op::F64MulSub { d, a, b, c } => {
                w!(d, f2!(f64_sub, f2!(f64_mul, r!(a), r!(b)), r!(c)))
            },
            Op::F64MulSubR { d, a, b, c } => {
                w!(d, f2!(f64_sub, r!(c), f2!(f64_mul, r!(a), r!(b))))
            },
            Op::F64MulMul { d, a, b, c } => {
                w!(d, f2!(f64_mul, f2!(f64_mul, r!(a), r!(b)), r!(c)))
            },
            Op::F64MulMulR { d, a, b, c } => {
                w!(d, f2!(f64_mul, r!(c), f2!(f64_mul, r!(a), r!(b))))
            },
            Op::F64Min { d, a, b: c } => w!(d, float::f64_min(r!(a), r!(c))),
            Op::F64Max { d, a, b: c } => w!(d, float::f64_max(r!(a), r!(c))),
            Op::F64Copysign { d, a, b: c } => {
                w!(
                    d,
                    (r!(a) & 0x7fff_ffff_ffff_ffff) | (r!(c) & 0x8000_0000_0000_0000)
                )
            },

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
            Op::F32ConvertI32S { d, s } => {
                w!(d, w32(f1!(f32_from_i64, i64::from(r!(s) as u32 as i32))))
            },
            Op::F32ConvertI32U { d, s } => {
                w!(d, w32(f1!(f32_from_i64, i64::from(r!(s) as u32))))
            },
            Op::F32ConvertI64S { d, s } => w!(d, w32(f1!(f32_from_i64, r!(s) as i64))),
            Op::F32ConvertI64U { d, s } => w!(d, num::f32_from_u64(r!(s))),
            Op::F32DemoteF64 { d, s } => w!(d, w32(float::f32_demote_f64(r!(s)))),
            Op::F64ConvertI32S { d, s } => {
                w!(d, f1!(f64_from_i64, i64::from(r!(s) as u32 as i32)))
            },
            Op::F64ConvertI32U { d, s } => w!(d, f1!(f64_from_i64, i64::from(r!(s) as u32))),
            Op::F64ConvertI64S { d, s } => w!(d, f1!(f64_from_i64, r!(s) as i64)),
            Op::F64ConvertI64U { d, s } => w!(d, num::f64_from_u64(r!(s))),
            Op::F64PromoteF32 { d, s } => w!(d, float::f64_promote_f32(r!(s) as u32)),
            Op::I32Extend8S { d, s } => w!(d, i32s(i32::from(r!(s) as u8 as i8))),
            Op::I32Extend16S { d, s } => w!(d, i32s(i32::from(r!(s) as u16 as i16))),
            Op::I64Extend8S { d, s } => w!(d, i64::from(r!(s) as u8 as i8) as u64),
            Op::I64Extend16S { d, s } => w!(d, i64::from(r!(s) as u16 as i16) as u64),
            Op::I64Extend32S { d, s } => w!(d, i64::from(r!(s) as u32 as i32) as u64),
            Op::I32TruncSatF32S { d, s } => {
                w!(d, i32s(float::i32_trunc_sat_f32_s(r!(s) as u32)))
            },
            Op::I32TruncSatF32U { d, s } => {
                w!(d, w32(float::i32_trunc_sat_f32_u(r!(s) as u32)))
            },
            Op::I32TruncSatF64S { d, s } => w!(d, i32s(float::i32_trunc_sat_f64_s(r!(s)))),
            Op::I32TruncSatF64U { d, s } => w!(d, w32(float::i32_trunc_sat_f64_u(r!(s)))),
            Op::I64TruncSatF32S { d, s } => {
                w!(d, float::i64_trunc_sat_f32_s(r!(s) as u32) as u64)
            },
            Op::I64TruncSatF32U { d, s } => w!(d, float::i64_trunc_sat_f32_u(r!(s) as u32)),
            Op::I64TruncSatF64S { d, s } => w!(d, float::i64_trunc_sat_f64_s(r!(s)) as u64),
            Op::I64TruncSatF64U { d, s } => w!(d, float::i64_trunc_sat_f64_u(r!(s))),
        )
    };
}

/// Runs the arms of [`instruction_arms`] on instruction `$op`: `match` is a `match` on it;
/// `handler K` keeps only the arm of discriminant `K`, a constant, for the handler of `K` in
/// [`execute_threaded`], which knows `$op`'s discriminant is `K`. Each arm is then under an
/// `if const`, whose other branch the compiler does not even generate code for: a handler
/// costs the compiler its own arm only, not the whole `match`.
macro_rules! dispatch_arms {
    (match; $op:ident; $($arms:tt)*) => {
        match *$op {
            $($arms)*
        }
    };
    (handler $k:ident; $op:ident;
        $($(Op::$v:ident $({ $($f:tt)* })?)|+ => $body:expr,)*) => {
        $(if const { $($k == Kind::$v as u16)||+ } {
            if let $(Op::$v $({ $($f)* })?)|+ = *$op {
                $body;
            }
        })*
    };
}

/// The hot loop: runs from the running function's first instruction until the outermost
/// function returns or a trap; leaves the final countdown in `cx.countdown`.
#[inline(always)]
fn execute<T: 'static, M: ModuleRef, F: FloatUnit>(
    cx: &mut Cx<'_, T, M, F>,
    countdown: i64,
    entry_cost: u32,
) -> Result<(), Trap> {
    let mut countdown = countdown;
    let mut ip: *const Op = cx.code_base;
    let mut fp: *mut u64 = cx.fp;
    let mut mem: *mut u8 = cx.mem;
    let mut mem_len: usize = cx.mem_len;

    let result: Result<(), Trap> = 'run: {
        hot_loop_helpers!($ 'run; cx, ip, fp, mem, mem_len, countdown);
        macro_rules! br_if {
            ($cond:expr, $cost:expr, $offset:expr) => {{
                if $cond {
                    charge!($cost);
                    jump!($offset);
                }
            }};
        }
        charge!(entry_cost);
        loop {
            // SAFETY: invariant 1. A reference, not a copy: the arms load only the fields they
            // use. `ip` stays on the instruction until it is done: the arms that branch, call
            // or return set it and continue, the others fall through to the advance after the
            // match.
            let op: &Op = unsafe { &*ip };
            // Runs the `match` below once, or, without jump tables, in tiers (see the module
            // documentation): the same arms in every copy, and each copy compiled down to the
            // instructions of its tier.
            macro_rules! dispatch {
                ($match:expr) => {{
                    #[cfg(not(no_jump_tables))]
                    $match;
                    #[cfg(no_jump_tables)]
                    if op.up_to_tier1() {
                        $match
                    } else if op.up_to_tier2() {
                        $match
                    } else if op.up_to_tier3() {
                        $match
                    } else {
                        $match
                    }
                }};
            }
            dispatch!(instruction_arms!(match; op; cx, ip, fp, mem, mem_len, countdown));
            // SAFETY: invariant 1: the instruction just done is not the last one, or it does
            // not fall through (it branched, returned or trapped above); either way `ip + 1`
            // is in bounds.
            ip = unsafe { ip.add(1) };
        }
    };
    cx.countdown = countdown;
    result
}

/// The registers of [`execute_threaded`] that its handlers keep in memory, between calls;
/// the instruction and frame pointers travel in registers, as arguments and results.
#[derive(Clone, Copy)]
struct Regs {
    mem: *mut u8,
    mem_len: usize,
    countdown: i64,
}

/// A handler of [`execute_threaded`]: runs the instruction at `ip` with frame `fp` and
/// returns the next instruction and its frame, or a null instruction to stop, with the reason
/// in `cx.trap` (`None` when the outermost function returned).
type Handler<'s, T, M, F> =
    fn(*const Op, *mut u64, &mut Regs, &mut Cx<'s, T, M, F>) -> (*const Op, *mut u64);

/// The discriminant of `op`: its kind's index in the declaration order of [`Op`], below
/// [`Op::KINDS`].
#[inline(always)]
fn discriminant(op: &Op) -> usize {
    // SAFETY: `Op` is `repr(u16)`, so it starts with its `u16` discriminant (the Rust
    // reference, "primitive representation of enums with fields"), and `op` is a valid `Op`.
    usize::from(unsafe { *ptr::from_ref(op).cast::<u16>() })
}

/// The handler of the instructions with discriminant `K` (see [`Handler`]): the arms of
/// [`instruction_arms`], of which the compiler keeps `K`'s only.
// `M: 's` makes `'s` a parameter of the function item, not of each call, as the table's
// function pointer type has it.
fn handler<'s, const K: u16, T: 'static, M: ModuleRef + 's, F: FloatUnit>(
    ip: *const Op,
    fp: *mut u64,
    regs: &mut Regs,
    cx: &mut Cx<'s, T, M, F>,
) -> (*const Op, *mut u64) {
    let (mut ip, mut fp) = (ip, fp);
    let Regs {
        mut mem,
        mut mem_len,
        mut countdown,
    } = *regs;
    let result: Result<(), Trap> = 'run: {
        hot_loop_helpers!($ 'run; cx, ip, fp, mem, mem_len, countdown);
        // A taken branch that runs out of fuel refuels in a call at the very end, so that
        // nothing lives across it and the handler saves no registers on its common path.
        macro_rules! br_if {
            ($cond:expr, $cost:expr, $offset:expr) => {{
                if $cond {
                    // As `charge!`.
                    countdown = countdown.wrapping_sub(i64::from($cost));
                    // SAFETY: as for `jump!`.
                    let next = unsafe { ip.offset($offset as isize) };
                    if countdown < 0 {
                        return refuel_then(ip, next, fp, countdown, regs, cx);
                    }
                    ip = next;
                    continue;
                }
            }};
        }
        // The rows of the table past the last instruction.
        if const { K as usize >= Op::KINDS } {
            trap!(TrapKind::Internal);
        }
        // SAFETY: invariant 1.
        let op: &Op = unsafe { &*ip };
        if discriminant(op) != usize::from(K) {
            // SAFETY: `execute_threaded` calls the handler of the instruction's discriminant
            // only. This tells the compiler so, and it keeps the one arm of `K`.
            unsafe { core::hint::unreachable_unchecked() }
        }
        // Runs once: an arm that set `ip` (a branch, call or return) continues, which ends
        // the instruction as falling through does.
        let mut done = false;
        loop {
            if done {
                break;
            }
            done = true;
            instruction_arms!(handler K; op; cx, ip, fp, mem, mem_len, countdown);
            // SAFETY: as in `execute`.
            ip = unsafe { ip.add(1) };
        }
        *regs = Regs {
            mem,
            mem_len,
            countdown,
        };
        return (ip, fp);
    };
    regs.countdown = countdown;
    if let Err(trap) = result {
        cx.trap = Some(trap);
    }
    (ptr::null(), fp)
}

/// A branch at `at` to `next` of a [`handler`] took the countdown below zero: refuels (see
/// [`Cx::refuel`]) and goes on at `next`, or stops with the trap, reported at `at`.
#[cold]
#[inline(never)]
fn refuel_then<T: 'static, M: ModuleRef, F: FloatUnit>(
    at: *const Op,
    next: *const Op,
    fp: *mut u64,
    countdown: i64,
    regs: &mut Regs,
    cx: &mut Cx<'_, T, M, F>,
) -> (*const Op, *mut u64) {
    match cx.refuel(countdown) {
        Ok(countdown) => {
            regs.countdown = countdown;
            (next, fp)
        }
        Err(kind) => {
            regs.countdown = countdown;
            cx.trap = Some(cx.trap_at(at, kind));
            (ptr::null(), fp)
        }
    }
}

/// The handlers of discriminants `16 * $row` to `16 * $row + 15`.
macro_rules! handler_row {
    ($row:literal) => {
        [
            handler::<{ $row * 16 + 0 }, T, M, F>,
            handler::<{ $row * 16 + 1 }, T, M, F>,
            handler::<{ $row * 16 + 2 }, T, M, F>,
            handler::<{ $row * 16 + 3 }, T, M, F>,
            handler::<{ $row * 16 + 4 }, T, M, F>,
            handler::<{ $row * 16 + 5 }, T, M, F>,
            handler::<{ $row * 16 + 6 }, T, M, F>,
            handler::<{ $row * 16 + 7 }, T, M, F>,
            handler::<{ $row * 16 + 8 }, T, M, F>,
            handler::<{ $row * 16 + 9 }, T, M, F>,
            handler::<{ $row * 16 + 10 }, T, M, F>,
            handler::<{ $row * 16 + 11 }, T, M, F>,
            handler::<{ $row * 16 + 12 }, T, M, F>,
            handler::<{ $row * 16 + 13 }, T, M, F>,
            handler::<{ $row * 16 + 14 }, T, M, F>,
            handler::<{ $row * 16 + 15 }, T, M, F>,
        ]
    };
}

/// Rows of 16 handlers: room for every instruction's, and a power of two, so that masking the
/// row index proves it in bounds.
const HANDLER_ROWS: usize = 32;
const _: () = assert!(HANDLER_ROWS.is_power_of_two() && Op::KINDS <= HANDLER_ROWS * 16);

impl<'s, T: 'static, M: ModuleRef, F: FloatUnit> Cx<'s, T, M, F> {
    /// The handler of each discriminant, in rows of 16.
    const HANDLERS: [[Handler<'s, T, M, F>; 16]; HANDLER_ROWS] = [
        handler_row!(0),
        handler_row!(1),
        handler_row!(2),
        handler_row!(3),
        handler_row!(4),
        handler_row!(5),
        handler_row!(6),
        handler_row!(7),
        handler_row!(8),
        handler_row!(9),
        handler_row!(10),
        handler_row!(11),
        handler_row!(12),
        handler_row!(13),
        handler_row!(14),
        handler_row!(15),
        handler_row!(16),
        handler_row!(17),
        handler_row!(18),
        handler_row!(19),
        handler_row!(20),
        handler_row!(21),
        handler_row!(22),
        handler_row!(23),
        handler_row!(24),
        handler_row!(25),
        handler_row!(26),
        handler_row!(27),
        handler_row!(28),
        handler_row!(29),
        handler_row!(30),
        handler_row!(31),
    ];
}

/// The hot loop as [`execute`], without the `match`: each instruction is a call to its
/// handler through [`Cx::HANDLERS`] (call threading, see the module documentation).
#[inline(never)]
fn execute_threaded<T: 'static, M: ModuleRef, F: FloatUnit>(
    cx: &mut Cx<'_, T, M, F>,
    countdown: i64,
    entry_cost: u32,
) -> Result<(), Trap> {
    // As `charge!`.
    let mut countdown = countdown.wrapping_sub(i64::from(entry_cost));
    if countdown < 0 {
        match cx.refuel(countdown) {
            Ok(c) => countdown = c,
            Err(kind) => {
                cx.countdown = countdown;
                return Err(cx.trap_at(cx.code_base, kind));
            }
        }
    }
    let mut regs = Regs {
        mem: cx.mem,
        mem_len: cx.mem_len,
        countdown,
    };
    let (mut ip, mut fp) = (cx.code_base, cx.fp);
    loop {
        // SAFETY: invariant 1.
        let d = discriminant(unsafe { &*ip });
        let row = (d >> 4) & (HANDLER_ROWS - 1);
        (ip, fp) = Cx::<T, M, F>::HANDLERS[row][d & 15](ip, fp, &mut regs, cx);
        if ip.is_null() {
            break;
        }
    }
    cx.countdown = regs.countdown;
    match cx.trap.take() {
        Some(trap) => Err(trap),
        None => Ok(()),
    }
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

#[cfg(test)]
mod tests {
    use super::{nospec_access, nospec_index};

    #[test]
    fn nospec_index_keeps_an_index_up_to_its_maximum_and_clamps_the_others() {
        assert_eq!(nospec_index(0, 0), 0);
        assert_eq!(nospec_index(7, 7), 7);
        assert_eq!(nospec_index(8, 7), 0);
        assert_eq!(nospec_index(usize::MAX, 7), 0);
    }

    #[test]
    fn nospec_access_keeps_an_access_inside_memory_and_clamps_the_others() {
        // A 4-byte access into 16 bytes: at 12 it ends at 16, inside; at 13, one past.
        assert_eq!(nospec_access(12, 16, 16), 12);
        assert_eq!(nospec_access(13, 17, 16), 0);
        assert_eq!(nospec_access(5, 9, 16), 5);
        // Memory smaller than the access: even index 0 is clamped (to 0).
        assert_eq!(nospec_access(0, 4, 2), 0);
        // An end past 4 GiB, as `addr + offset` can make.
        assert_eq!(nospec_access(0xffff_fffc, 0x1_0000_0004, 0x1_0000_0000), 0);
        assert_eq!(
            nospec_access(0xffff_fffc, 0x1_0000_0000, 0x1_0000_0000),
            0xffff_fffc
        );
    }
}
