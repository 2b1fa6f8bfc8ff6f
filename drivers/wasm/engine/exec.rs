// SPDX-License-Identifier: GPL-2.0

//! Execution: the interpreter.
//!
//! One loop dispatches the translated ops of the running function. Wasm calls never recurse
//! on the native stack: the caller's state is saved in the store's frame stack and the callee's
//! parameters, locals and operands live on its value stack, both on the heap, both
//! bounded by [`crate::Config`]. A function's maximum stack height is known from
//! translation and checked once on entry, and the validator guarantees operand counts, so
//! the stack accessors below never fail in practice; they still report an internal error
//! instead of panicking if an invariant were ever broken.

use crate::error::{Error, Trap, TrapKind};
use crate::float::{self, TruncError};
use crate::host::Caller;
use crate::ir::Op;
use crate::store::{Frame, FuncKind, MemoryInst, Store, TableInst, NO_MEMORY};
use crate::value::Value;
use alloc::vec::Vec;

/// Calls store function `func` with `args`, returning its result slots.
pub(crate) fn invoke<T: 'static>(
    store: &mut Store<T>,
    func: u32,
    args: &[Value],
) -> Result<Vec<u64>, Error> {
    store.fuel = store.config.fuel;
    store.frames.clear();
    let n = args.len();
    ensure_stack(&mut store.stack, n, store.config.max_value_stack).map_err(Trap::new)?;
    for (slot, arg) in store.stack.iter_mut().zip(args) {
        *slot = arg.to_slot();
    }
    let outcome = run(store, func, n);
    if let Some(fuel) = store.fuel {
        let budget = store.config.fuel.unwrap_or(0);
        store.fuel_used = store.fuel_used.saturating_add(budget.saturating_sub(fuel));
    }
    let results = outcome?;
    let mut out = Vec::new();
    out.try_reserve_exact(results)?;
    out.extend(store.stack.iter().take(results).copied());
    Ok(out)
}

/// Makes the stack at least `need` slots long, within `limit`.
fn ensure_stack(stack: &mut Vec<u64>, need: usize, limit: usize) -> Result<(), TrapKind> {
    if need <= stack.len() {
        return Ok(());
    }
    if need > limit {
        return Err(TrapKind::ValueStackExhausted);
    }
    // Grow geometrically so that deep recursion costs amortised O(1) per call.
    let target = need.max(stack.len().saturating_mul(2)).max(1024).min(limit);
    stack
        .try_reserve_exact(target - stack.len())
        .map_err(|_| TrapKind::ValueStackExhausted)?;
    stack.resize(target, 0);
    Ok(())
}

fn trunc_trap(e: TruncError) -> TrapKind {
    match e {
        TruncError::NotANumber => TrapKind::InvalidConversionToInteger,
        TruncError::Overflow => TrapKind::IntegerOverflow,
    }
}

/// Bounds-checks `[start, start + len)` against `size`, as a `usize` range.
fn range(start: u32, len: u32, size: usize) -> Option<core::ops::Range<usize>> {
    let end = (start as usize).checked_add(len as usize)?;
    if end > size {
        return None;
    }
    Some(start as usize..end)
}

/// `table.init`: copies `n` references of element segment `elem` from `src` into `table`
/// at `dst`.
pub(crate) fn table_init<T>(
    store: &mut Store<T>,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    n: u32,
) -> Result<(), TrapKind> {
    let segment = store.elems.get(elem as usize).ok_or(TrapKind::Internal)?;
    let table = store
        .tables
        .get_mut(table as usize)
        .ok_or(TrapKind::Internal)?;
    let from = range(src, n, segment.len()).ok_or(TrapKind::TableOutOfBounds)?;
    let to = range(dst, n, table.elements.len()).ok_or(TrapKind::TableOutOfBounds)?;
    let (Some(to), Some(from)) = (table.elements.get_mut(to), segment.get(from)) else {
        return Err(TrapKind::TableOutOfBounds);
    };
    to.copy_from_slice(from);
    Ok(())
}

/// `memory.init`: copies `n` bytes of data segment `data` from `src` into `memory` at
/// `dst`.
pub(crate) fn memory_init<T>(
    store: &mut Store<T>,
    memory: u32,
    data: u32,
    dst: u32,
    src: u32,
    n: u32,
) -> Result<(), TrapKind> {
    let segment = store.datas.get(data as usize).ok_or(TrapKind::Internal)?;
    let memory = store
        .memories
        .get_mut(memory as usize)
        .ok_or(TrapKind::Internal)?;
    copy_into(&mut memory.data, dst, segment, src, n)
}

fn copy_into(to: &mut [u8], dst: u32, from: &[u8], src: u32, n: u32) -> Result<(), TrapKind> {
    let from = range(src, n, from.len()).and_then(|r| from.get(r));
    let to_range = range(dst, n, to.len());
    match (from, to_range.and_then(|r| to.get_mut(r))) {
        (Some(from), Some(to)) => {
            to.copy_from_slice(from);
            Ok(())
        }
        _ => Err(TrapKind::MemoryOutOfBounds),
    }
}

/// Two distinct elements of a slice, mutably.
fn two_mut<X>(v: &mut [X], a: usize, b: usize) -> Option<(&mut X, &mut X)> {
    if a < b {
        let (low, high) = v.split_at_mut(b);
        Some((low.get_mut(a)?, high.first_mut()?))
    } else if b < a {
        let (low, high) = v.split_at_mut(a);
        let (x, y) = (high.first_mut()?, low.get_mut(b)?);
        Some((x, y))
    } else {
        None
    }
}

/// `table.copy` within one table or between two.
fn table_copy(
    tables: &mut [TableInst],
    dst: u32,
    src: u32,
    d: u32,
    s: u32,
    n: u32,
) -> Result<(), TrapKind> {
    if dst == src {
        let t = tables.get_mut(dst as usize).ok_or(TrapKind::Internal)?;
        let len = t.elements.len();
        let from = range(s, n, len).ok_or(TrapKind::TableOutOfBounds)?;
        range(d, n, len).ok_or(TrapKind::TableOutOfBounds)?;
        // Both ranges were checked against the table's length just above, so
        // `copy_within` cannot panic.
        t.elements.copy_within(from, d as usize);
        return Ok(());
    }
    let (to, from) = two_mut(tables, dst as usize, src as usize).ok_or(TrapKind::Internal)?;
    let from = range(s, n, from.elements.len())
        .and_then(|r| from.elements.get(r))
        .ok_or(TrapKind::TableOutOfBounds)?;
    let to = range(d, n, to.elements.len())
        .and_then(|r| to.elements.get_mut(r))
        .ok_or(TrapKind::TableOutOfBounds)?;
    to.copy_from_slice(from);
    Ok(())
}

fn effective(addr: u64, offset: u32, size: usize, mem: &[u8]) -> Option<usize> {
    let start = (addr as u32 as usize).checked_add(offset as usize)?;
    let end = start.checked_add(size)?;
    if end > mem.len() {
        return None;
    }
    Some(start)
}

fn load<const N: usize>(mem: &[u8], addr: u64, offset: u32) -> Result<[u8; N], TrapKind> {
    let start = effective(addr, offset, N, mem).ok_or(TrapKind::MemoryOutOfBounds)?;
    mem.get(start..start + N)
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .ok_or(TrapKind::MemoryOutOfBounds)
}

fn store_bytes<const N: usize>(
    mem: &mut [u8],
    addr: u64,
    offset: u32,
    bytes: [u8; N],
) -> Result<(), TrapKind> {
    let start = effective(addr, offset, N, mem).ok_or(TrapKind::MemoryOutOfBounds)?;
    mem.get_mut(start..start + N)
        .ok_or(TrapKind::MemoryOutOfBounds)?
        .copy_from_slice(&bytes);
    Ok(())
}

#[inline(always)]
fn f32v(x: u64) -> f32 {
    f32::from_bits(x as u32)
}

#[inline(always)]
fn f64v(x: u64) -> f64 {
    f64::from_bits(x)
}

#[inline(always)]
fn from_f32(x: f32) -> u64 {
    u64::from(x.to_bits())
}

#[inline(always)]
fn from_bool(b: bool) -> u64 {
    u64::from(b)
}

#[inline(always)]
fn from_i32(x: i32) -> u64 {
    u64::from(x as u32)
}

/// Runs store function `func` whose `nargs` arguments are at the bottom of the stack.
/// Returns the number of results, left at the bottom of the stack.
fn run<T: 'static>(store: &mut Store<T>, func: u32, nargs: usize) -> Result<usize, Trap> {
    let Store {
        config,
        types,
        funcs,
        code: codes,
        host_funcs,
        tables,
        memories,
        globals,
        elems,
        datas,
        data,
        stack,
        frames,
        interrupt,
        fuel,
        ..
    } = store;
    let max_stack = config.max_value_stack;
    let max_depth = config.max_call_depth;
    let interval = config.interrupt_interval.max(1);
    let mut countdown = interval;
    let mut no_memory = MemoryInst {
        data: Vec::new(),
        max_pages: 0,
        declared_max: None,
    };

    // The running function: its store address, code index, code, frame pointer and pc.
    let mut cur_func: u32;
    let mut cur_code: u32;
    let mut code: &[Op];
    let mut fp: usize;
    let mut pc: usize;
    let mut sp: usize;
    let mut mem_addr: u32;

    // Enter the first function. Host functions called directly are handled here too.
    {
        let f = funcs
            .get(func as usize)
            .ok_or(Trap::new(TrapKind::Internal))?;
        match f.kind {
            FuncKind::Host(h) => {
                let ty = types
                    .get(f.type_id as usize)
                    .ok_or(Trap::new(TrapKind::Internal))?;
                let host = host_funcs
                    .get(h as usize)
                    .ok_or(Trap::new(TrapKind::Internal))?;
                let memory = None;
                let n = call_host(host, ty, data, memory, stack, 0, nargs)?;
                return Ok(n);
            }
            FuncKind::Wasm { code: c, memory } => {
                cur_func = func;
                cur_code = c;
                mem_addr = memory;
                let fc = codes.get(c as usize).ok_or(Trap::new(TrapKind::Internal))?;
                fp = 0;
                ensure_stack(stack, fc.max_height as usize, max_stack)?;
                for slot in stack.iter_mut().take(fc.max_height as usize).skip(nargs) {
                    *slot = 0;
                }
                sp = nargs + fc.num_locals as usize;
                code = &fc.ops;
                pc = 0;
            }
        }
    }
    let mut mem: &mut MemoryInst = if mem_addr == NO_MEMORY {
        &mut no_memory
    } else {
        memories
            .get_mut(mem_addr as usize)
            .ok_or(Trap::new(TrapKind::Internal))?
    };

    // Where a trap happened, for the error report.
    macro_rules! trap {
        ($kind:expr) => {{
            let kind = $kind;
            let fc = codes.get(cur_code as usize);
            return Err(Trap {
                kind,
                func: fc.map(|c| c.func_index),
                offset: fc.and_then(|c| c.offsets.get(pc.wrapping_sub(1)).copied()),
            });
        }};
    }
    macro_rules! internal {
        () => {
            trap!(TrapKind::Internal)
        };
    }
    macro_rules! pop {
        () => {{
            sp = sp.wrapping_sub(1);
            match stack.get(sp) {
                Some(v) => *v,
                None => internal!(),
            }
        }};
    }
    macro_rules! push {
        ($v:expr) => {{
            let v = $v;
            match stack.get_mut(sp) {
                Some(slot) => *slot = v,
                None => internal!(),
            }
            sp += 1;
        }};
    }
    macro_rules! top {
        () => {
            match stack.get_mut(sp.wrapping_sub(1)) {
                Some(slot) => slot,
                None => internal!(),
            }
        };
    }
    macro_rules! unop {
        (|$a:ident| $e:expr) => {{
            let t = top!();
            let $a = *t;
            *t = $e;
        }};
    }
    macro_rules! binop {
        (|$a:ident, $b:ident| $e:expr) => {{
            let $b = pop!();
            let t = top!();
            let $a = *t;
            *t = $e;
        }};
    }
    macro_rules! try_binop {
        (|$a:ident, $b:ident| $e:expr) => {{
            let $b = pop!();
            let t = top!();
            let $a = *t;
            match $e {
                Ok(v) => *t = v,
                Err(kind) => trap!(kind),
            }
        }};
    }
    macro_rules! try_unop {
        (|$a:ident| $e:expr) => {{
            let t = top!();
            let $a = *t;
            match $e {
                Ok(v) => *t = v,
                Err(kind) => trap!(kind),
            }
        }};
    }
    macro_rules! check {
        () => {{
            countdown -= 1;
            if countdown == 0 {
                countdown = interval;
                if let Some(hook) = interrupt.as_mut() {
                    if let Err(kind) = hook.check() {
                        trap!(kind);
                    }
                }
            }
            if let Some(f) = fuel.as_mut() {
                if *f == 0 {
                    trap!(TrapKind::OutOfFuel);
                }
                *f -= 1;
            }
        }};
    }
    macro_rules! branch {
        ($target:expr, $drop:expr, $keep:expr) => {{
            let (drop, keep) = ($drop as usize, $keep as usize);
            if drop != 0 {
                let Some(src) = sp.checked_sub(keep) else {
                    internal!()
                };
                let Some(dst) = src.checked_sub(drop) else {
                    internal!()
                };
                for i in 0..keep {
                    let Some(v) = stack.get(src + i).copied() else {
                        internal!()
                    };
                    let Some(slot) = stack.get_mut(dst + i) else {
                        internal!()
                    };
                    *slot = v;
                }
                sp = dst + keep;
            }
            pc = $target as usize;
        }};
    }
    macro_rules! load {
        ($offset:expr, $n:literal, $conv:expr) => {{
            let t = top!();
            match load::<$n>(&mem.data, *t, $offset) {
                Ok(bytes) => *t = $conv(bytes),
                Err(kind) => trap!(kind),
            }
        }};
    }
    macro_rules! store {
        ($offset:expr, $conv:expr) => {{
            let v = pop!();
            let addr = pop!();
            if let Err(kind) = store_bytes(&mut mem.data, addr, $offset, $conv(v)) {
                trap!(kind);
            }
        }};
    }

    macro_rules! call {
        ($callee:expr) => {{
            let callee: u32 = $callee;
            check!();
            let Some(f) = funcs.get(callee as usize) else {
                internal!()
            };
            match f.kind {
                FuncKind::Wasm { code: c, memory } => {
                    let Some(fc) = codes.get(c as usize) else {
                        internal!()
                    };
                    let Some(new_fp) = sp.checked_sub(fc.num_params as usize) else {
                        internal!()
                    };
                    if frames.len() >= max_depth {
                        trap!(TrapKind::CallStackExhausted);
                    }
                    if let Err(kind) =
                        ensure_stack(stack, new_fp + fc.max_height as usize, max_stack)
                    {
                        trap!(kind);
                    }
                    if frames.try_reserve(1).is_err() {
                        trap!(TrapKind::CallStackExhausted);
                    }
                    frames.push(Frame {
                        func: cur_func,
                        code: cur_code,
                        pc: pc as u32,
                        fp: fp as u32,
                        memory: mem_addr,
                    });
                    let locals_end = sp + fc.num_locals as usize;
                    let Some(locals) = stack.get_mut(sp..locals_end) else {
                        internal!()
                    };
                    locals.fill(0);
                    sp = locals_end;
                    fp = new_fp;
                    pc = 0;
                    cur_func = callee;
                    cur_code = c;
                    code = &fc.ops;
                    if memory != mem_addr {
                        mem_addr = memory;
                        mem = if mem_addr == NO_MEMORY {
                            &mut no_memory
                        } else {
                            match memories.get_mut(mem_addr as usize) {
                                Some(m) => m,
                                None => internal!(),
                            }
                        };
                    }
                }
                FuncKind::Host(h) => {
                    let Some(ty) = types.get(f.type_id as usize) else {
                        internal!()
                    };
                    let Some(host) = host_funcs.get(h as usize) else {
                        internal!()
                    };
                    let nparams = ty.params().len();
                    let Some(base) = sp.checked_sub(nparams) else {
                        internal!()
                    };
                    if let Err(kind) = ensure_stack(stack, base + ty.results().len(), max_stack) {
                        trap!(kind);
                    }
                    let memory = if mem_addr == NO_MEMORY {
                        None
                    } else {
                        Some(&mut *mem)
                    };
                    match call_host(host, ty, data, memory, stack, base, nparams) {
                        Ok(n) => sp = base + n,
                        Err(t) => trap!(t.kind),
                    }
                }
            }
        }};
    }

    loop {
        let Some(&op) = code.get(pc) else { internal!() };
        pc += 1;
        match op {
            Op::Unreachable => trap!(TrapKind::Unreachable),
            Op::Check => check!(),
            Op::Br { target, drop, keep } => branch!(target, drop, keep),
            Op::BrIfNez { target, drop, keep } => {
                if pop!() as u32 != 0 {
                    branch!(target, drop, keep);
                }
            }
            Op::BrIfEqz { target } => {
                if pop!() as u32 == 0 {
                    pc = target as usize;
                }
            }
            Op::BrTable { len } => {
                let i = pop!() as u32;
                pc += i.min(len) as usize;
            }
            Op::Return { keep } => {
                let keep = keep as usize;
                let Some(src) = sp.checked_sub(keep) else {
                    internal!()
                };
                if src != fp {
                    for i in 0..keep {
                        let Some(v) = stack.get(src + i).copied() else {
                            internal!()
                        };
                        let Some(slot) = stack.get_mut(fp + i) else {
                            internal!()
                        };
                        *slot = v;
                    }
                }
                sp = fp + keep;
                let Some(frame) = frames.pop() else {
                    return Ok(keep);
                };
                cur_func = frame.func;
                cur_code = frame.code;
                pc = frame.pc as usize;
                fp = frame.fp as usize;
                let Some(fc) = codes.get(cur_code as usize) else {
                    internal!()
                };
                code = &fc.ops;
                if frame.memory != mem_addr {
                    mem_addr = frame.memory;
                    mem = if mem_addr == NO_MEMORY {
                        &mut no_memory
                    } else {
                        match memories.get_mut(mem_addr as usize) {
                            Some(m) => m,
                            None => internal!(),
                        }
                    };
                }
            }
            Op::Call { func: callee } => call!(callee),
            Op::CallIndirect { type_id, table } => {
                let i = pop!() as u32;
                let Some(t) = tables.get(table as usize) else {
                    internal!()
                };
                let Some(&r) = t.elements.get(i as usize) else {
                    trap!(TrapKind::UndefinedElement)
                };
                let Some(callee) = r.checked_sub(1) else {
                    trap!(TrapKind::UninitializedElement)
                };
                let Some(f) = funcs.get(callee as usize) else {
                    internal!()
                };
                if f.type_id != type_id {
                    trap!(TrapKind::IndirectCallTypeMismatch);
                }
                call!(callee as u32)
            }
            Op::Drop => sp = sp.wrapping_sub(1),
            Op::Select => {
                let c = pop!() as u32;
                let b = pop!();
                if c == 0 {
                    *top!() = b;
                }
            }
            Op::LocalGet(i) => {
                let Some(&v) = stack.get(fp + i as usize) else {
                    internal!()
                };
                push!(v);
            }
            Op::LocalSet(i) => {
                let v = pop!();
                let Some(slot) = stack.get_mut(fp + i as usize) else {
                    internal!()
                };
                *slot = v;
            }
            Op::LocalTee(i) => {
                let v = *top!();
                let Some(slot) = stack.get_mut(fp + i as usize) else {
                    internal!()
                };
                *slot = v;
            }
            Op::GlobalGet(g) => {
                let Some(g) = globals.get(g as usize) else {
                    internal!()
                };
                push!(g.value);
            }
            Op::GlobalSet(g) => {
                let v = pop!();
                let Some(g) = globals.get_mut(g as usize) else {
                    internal!()
                };
                g.value = v;
            }
            Op::TableGet(t) => {
                let Some(t) = tables.get(t as usize) else {
                    internal!()
                };
                let slot = top!();
                match t.elements.get(*slot as u32 as usize) {
                    Some(&r) => *slot = r,
                    None => trap!(TrapKind::TableOutOfBounds),
                }
            }
            Op::TableSet(t) => {
                let r = pop!();
                let i = pop!() as u32;
                let Some(t) = tables.get_mut(t as usize) else {
                    internal!()
                };
                match t.elements.get_mut(i as usize) {
                    Some(slot) => *slot = r,
                    None => trap!(TrapKind::TableOutOfBounds),
                }
            }
            Op::TableSize(t) => {
                let Some(t) = tables.get(t as usize) else {
                    internal!()
                };
                push!(u64::from(t.elements.len() as u32));
            }
            Op::TableGrow(t) => {
                let n = pop!() as u32;
                let init = pop!();
                let Some(t) = tables.get_mut(t as usize) else {
                    internal!()
                };
                let old = t.elements.len() as u32;
                let grown = match old.checked_add(n) {
                    Some(new)
                        if new <= t.max && t.elements.try_reserve_exact(n as usize).is_ok() =>
                    {
                        t.elements.resize(new as usize, init);
                        old
                    }
                    _ => u32::MAX,
                };
                push!(u64::from(grown));
            }
            Op::TableFill(t) => {
                let n = pop!() as u32;
                let r = pop!();
                let i = pop!() as u32;
                let Some(t) = tables.get_mut(t as usize) else {
                    internal!()
                };
                match range(i, n, t.elements.len()).and_then(|r| t.elements.get_mut(r)) {
                    Some(s) => s.fill(r),
                    None => trap!(TrapKind::TableOutOfBounds),
                }
            }
            Op::TableCopy { dst, src } => {
                let n = pop!() as u32;
                let s = pop!() as u32;
                let d = pop!() as u32;
                if let Err(kind) = table_copy(tables, dst, src, d, s, n) {
                    trap!(kind);
                }
            }
            Op::TableInit { table, elem } => {
                let n = pop!() as u32;
                let s = pop!() as u32;
                let d = pop!() as u32;
                let Some(segment) = elems.get(elem as usize) else {
                    internal!()
                };
                let Some(t) = tables.get_mut(table as usize) else {
                    internal!()
                };
                let from = range(s, n, segment.len()).and_then(|r| segment.get(r));
                let to = range(d, n, t.elements.len()).and_then(|r| t.elements.get_mut(r));
                match (from, to) {
                    (Some(from), Some(to)) => to.copy_from_slice(from),
                    _ => trap!(TrapKind::TableOutOfBounds),
                }
            }
            Op::ElemDrop(e) => {
                let Some(e) = elems.get_mut(e as usize) else {
                    internal!()
                };
                *e = Vec::new();
            }
            Op::I32Load(o) => load!(o, 4, |b| u64::from(u32::from_le_bytes(b))),
            Op::I64Load(o) => load!(o, 8, u64::from_le_bytes),
            Op::I32Load8S(o) => load!(o, 1, |b: [u8; 1]| from_i32(i32::from(b[0] as i8))),
            Op::I32Load8U(o) => load!(o, 1, |b: [u8; 1]| u64::from(b[0])),
            Op::I32Load16S(o) => load!(o, 2, |b| from_i32(i32::from(i16::from_le_bytes(b)))),
            Op::I32Load16U(o) => load!(o, 2, |b| u64::from(u16::from_le_bytes(b))),
            Op::I64Load8S(o) => load!(o, 1, |b: [u8; 1]| i64::from(b[0] as i8) as u64),
            Op::I64Load16S(o) => load!(o, 2, |b| i64::from(i16::from_le_bytes(b)) as u64),
            Op::I64Load32S(o) => load!(o, 4, |b| i64::from(i32::from_le_bytes(b)) as u64),
            Op::I32Store(o) => store!(o, |v: u64| (v as u32).to_le_bytes()),
            Op::I64Store(o) => store!(o, |v: u64| v.to_le_bytes()),
            Op::I32Store8(o) => store!(o, |v: u64| [v as u8]),
            Op::I32Store16(o) => store!(o, |v: u64| (v as u16).to_le_bytes()),
            Op::MemorySize => push!(u64::from(mem.pages())),
            Op::MemoryGrow => {
                let t = top!();
                let delta = *t as u32;
                *t = u64::from(mem.grow(delta).unwrap_or(u32::MAX));
            }
            Op::MemoryInit(d) => {
                let n = pop!() as u32;
                let s = pop!() as u32;
                let dst = pop!() as u32;
                let Some(segment) = datas.get(d as usize) else {
                    internal!()
                };
                if let Err(kind) = copy_into(&mut mem.data, dst, segment, s, n) {
                    trap!(kind);
                }
            }
            Op::DataDrop(d) => {
                let Some(d) = datas.get_mut(d as usize) else {
                    internal!()
                };
                *d = Vec::new();
            }
            Op::MemoryCopy => {
                let n = pop!() as u32;
                let s = pop!() as u32;
                let d = pop!() as u32;
                let len = mem.data.len();
                match (range(s, n, len), range(d, n, len)) {
                    // Both ranges were checked against the memory's length, so
                    // `copy_within` cannot panic.
                    (Some(from), Some(_)) => mem.data.copy_within(from, d as usize),
                    _ => trap!(TrapKind::MemoryOutOfBounds),
                }
            }
            Op::MemoryFill => {
                let n = pop!() as u32;
                let v = pop!() as u8;
                let d = pop!() as u32;
                match range(d, n, mem.data.len()).and_then(|r| mem.data.get_mut(r)) {
                    Some(s) => s.fill(v),
                    None => trap!(TrapKind::MemoryOutOfBounds),
                }
            }
            Op::I32Const(v) => push!(from_i32(v)),
            Op::I64Const(v) => push!(v as u64),
            Op::Const32(v) => push!(u64::from(v)),
            Op::Const64(v) => push!(v),
            Op::RefNull => push!(0),
            Op::RefIsNull => unop!(|a| from_bool(a == 0)),
            Op::RefFunc(f) => push!(u64::from(f) + 1),

            Op::I32Eqz => unop!(|a| from_bool(a as u32 == 0)),
            Op::I32Eq => binop!(|a, b| from_bool(a as u32 == b as u32)),
            Op::I32Ne => binop!(|a, b| from_bool(a as u32 != b as u32)),
            Op::I32LtS => binop!(|a, b| from_bool((a as i32) < (b as i32))),
            Op::I32LtU => binop!(|a, b| from_bool((a as u32) < (b as u32))),
            Op::I32GtS => binop!(|a, b| from_bool(a as i32 > b as i32)),
            Op::I32GtU => binop!(|a, b| from_bool(a as u32 > b as u32)),
            Op::I32LeS => binop!(|a, b| from_bool(a as i32 <= b as i32)),
            Op::I32LeU => binop!(|a, b| from_bool(a as u32 <= b as u32)),
            Op::I32GeS => binop!(|a, b| from_bool(a as i32 >= b as i32)),
            Op::I32GeU => binop!(|a, b| from_bool(a as u32 >= b as u32)),
            Op::I64Eqz => unop!(|a| from_bool(a == 0)),
            Op::I64Eq => binop!(|a, b| from_bool(a == b)),
            Op::I64Ne => binop!(|a, b| from_bool(a != b)),
            Op::I64LtS => binop!(|a, b| from_bool((a as i64) < (b as i64))),
            Op::I64LtU => binop!(|a, b| from_bool(a < b)),
            Op::I64GtS => binop!(|a, b| from_bool(a as i64 > b as i64)),
            Op::I64GtU => binop!(|a, b| from_bool(a > b)),
            Op::I64LeS => binop!(|a, b| from_bool(a as i64 <= b as i64)),
            Op::I64LeU => binop!(|a, b| from_bool(a <= b)),
            Op::I64GeS => binop!(|a, b| from_bool(a as i64 >= b as i64)),
            Op::I64GeU => binop!(|a, b| from_bool(a >= b)),
            Op::F32Eq => binop!(|a, b| from_bool(f32v(a) == f32v(b))),
            Op::F32Ne => binop!(|a, b| from_bool(f32v(a) != f32v(b))),
            Op::F32Lt => binop!(|a, b| from_bool(f32v(a) < f32v(b))),
            Op::F32Gt => binop!(|a, b| from_bool(f32v(a) > f32v(b))),
            Op::F32Le => binop!(|a, b| from_bool(f32v(a) <= f32v(b))),
            Op::F32Ge => binop!(|a, b| from_bool(f32v(a) >= f32v(b))),
            Op::F64Eq => binop!(|a, b| from_bool(f64v(a) == f64v(b))),
            Op::F64Ne => binop!(|a, b| from_bool(f64v(a) != f64v(b))),
            Op::F64Lt => binop!(|a, b| from_bool(f64v(a) < f64v(b))),
            Op::F64Gt => binop!(|a, b| from_bool(f64v(a) > f64v(b))),
            Op::F64Le => binop!(|a, b| from_bool(f64v(a) <= f64v(b))),
            Op::F64Ge => binop!(|a, b| from_bool(f64v(a) >= f64v(b))),

            Op::I32Clz => unop!(|a| u64::from((a as u32).leading_zeros())),
            Op::I32Ctz => unop!(|a| u64::from((a as u32).trailing_zeros())),
            Op::I32Popcnt => unop!(|a| u64::from((a as u32).count_ones())),
            Op::I32Add => binop!(|a, b| u64::from((a as u32).wrapping_add(b as u32))),
            Op::I32Sub => binop!(|a, b| u64::from((a as u32).wrapping_sub(b as u32))),
            Op::I32Mul => binop!(|a, b| u64::from((a as u32).wrapping_mul(b as u32))),
            Op::I32DivS => try_binop!(|a, b| i32_div_s(a as i32, b as i32).map(from_i32)),
            Op::I32DivU => try_binop!(|a, b| (a as u32)
                .checked_div(b as u32)
                .map(u64::from)
                .ok_or(TrapKind::IntegerDivideByZero)),
            Op::I32RemS => try_binop!(|a, b| if b as u32 == 0 {
                Err(TrapKind::IntegerDivideByZero)
            } else {
                Ok(from_i32((a as i32).wrapping_rem(b as i32)))
            }),
            Op::I32RemU => try_binop!(|a, b| (a as u32)
                .checked_rem(b as u32)
                .map(u64::from)
                .ok_or(TrapKind::IntegerDivideByZero)),
            Op::I32And => binop!(|a, b| a & b),
            Op::I32Or => binop!(|a, b| a | b),
            Op::I32Xor => binop!(|a, b| a ^ b),
            Op::I32Shl => binop!(|a, b| u64::from((a as u32).wrapping_shl(b as u32))),
            Op::I32ShrS => binop!(|a, b| from_i32((a as i32).wrapping_shr(b as u32))),
            Op::I32ShrU => binop!(|a, b| u64::from((a as u32).wrapping_shr(b as u32))),
            Op::I32Rotl => binop!(|a, b| u64::from((a as u32).rotate_left(b as u32 % 32))),
            Op::I32Rotr => binop!(|a, b| u64::from((a as u32).rotate_right(b as u32 % 32))),
            Op::I64Clz => unop!(|a| u64::from(a.leading_zeros())),
            Op::I64Ctz => unop!(|a| u64::from(a.trailing_zeros())),
            Op::I64Popcnt => unop!(|a| u64::from(a.count_ones())),
            Op::I64Add => binop!(|a, b| a.wrapping_add(b)),
            Op::I64Sub => binop!(|a, b| a.wrapping_sub(b)),
            Op::I64Mul => binop!(|a, b| a.wrapping_mul(b)),
            Op::I64DivS => try_binop!(|a, b| i64_div_s(a as i64, b as i64).map(|v| v as u64)),
            Op::I64DivU => try_binop!(|a, b| a.checked_div(b).ok_or(TrapKind::IntegerDivideByZero)),
            Op::I64RemS => try_binop!(|a, b| if b == 0 {
                Err(TrapKind::IntegerDivideByZero)
            } else {
                Ok((a as i64).wrapping_rem(b as i64) as u64)
            }),
            Op::I64RemU => try_binop!(|a, b| a.checked_rem(b).ok_or(TrapKind::IntegerDivideByZero)),
            Op::I64And => binop!(|a, b| a & b),
            Op::I64Or => binop!(|a, b| a | b),
            Op::I64Xor => binop!(|a, b| a ^ b),
            Op::I64Shl => binop!(|a, b| a.wrapping_shl(b as u32)),
            Op::I64ShrS => binop!(|a, b| (a as i64).wrapping_shr(b as u32) as u64),
            Op::I64ShrU => binop!(|a, b| a.wrapping_shr(b as u32)),
            Op::I64Rotl => binop!(|a, b| a.rotate_left((b % 64) as u32)),
            Op::I64Rotr => binop!(|a, b| a.rotate_right((b % 64) as u32)),

            Op::F32Abs => unop!(|a| a & 0x7fff_ffff),
            Op::F32Neg => unop!(|a| (a ^ 0x8000_0000) & 0xffff_ffff),
            Op::F32Ceil => unop!(|a| u64::from(float::f32_ceil(a as u32))),
            Op::F32Floor => unop!(|a| u64::from(float::f32_floor(a as u32))),
            Op::F32Trunc => unop!(|a| u64::from(float::f32_trunc(a as u32))),
            Op::F32Nearest => unop!(|a| u64::from(float::f32_nearest(a as u32))),
            Op::F32Sqrt => unop!(|a| u64::from(float::f32_sqrt(a as u32))),
            Op::F32Add => binop!(|a, b| arith::f32_add(a, b)),
            Op::F32Sub => binop!(|a, b| arith::f32_sub(a, b)),
            Op::F32Mul => binop!(|a, b| arith::f32_mul(a, b)),
            Op::F32Div => binop!(|a, b| arith::f32_div(a, b)),
            Op::F32Min => binop!(|a, b| u64::from(float::f32_min(a as u32, b as u32))),
            Op::F32Max => binop!(|a, b| u64::from(float::f32_max(a as u32, b as u32))),
            Op::F32Copysign => binop!(|a, b| (a & 0x7fff_ffff) | (b & 0x8000_0000)),
            Op::F64Abs => unop!(|a| a & 0x7fff_ffff_ffff_ffff),
            Op::F64Neg => unop!(|a| a ^ 0x8000_0000_0000_0000),
            Op::F64Ceil => unop!(|a| float::f64_ceil(a)),
            Op::F64Floor => unop!(|a| float::f64_floor(a)),
            Op::F64Trunc => unop!(|a| float::f64_trunc(a)),
            Op::F64Nearest => unop!(|a| float::f64_nearest(a)),
            Op::F64Sqrt => unop!(|a| float::f64_sqrt(a)),
            Op::F64Add => binop!(|a, b| arith::f64_add(a, b)),
            Op::F64Sub => binop!(|a, b| arith::f64_sub(a, b)),
            Op::F64Mul => binop!(|a, b| arith::f64_mul(a, b)),
            Op::F64Div => binop!(|a, b| arith::f64_div(a, b)),
            Op::F64Min => binop!(|a, b| float::f64_min(a, b)),
            Op::F64Max => binop!(|a, b| float::f64_max(a, b)),
            Op::F64Copysign => {
                binop!(|a, b| (a & 0x7fff_ffff_ffff_ffff) | (b & 0x8000_0000_0000_0000))
            }

            Op::I32WrapI64 => unop!(|a| a & 0xffff_ffff),
            Op::I32TruncF32S => try_unop!(|a| float::i32_trunc_f32_s(a as u32)
                .map(from_i32)
                .map_err(trunc_trap)),
            Op::I32TruncF32U => try_unop!(|a| float::i32_trunc_f32_u(a as u32)
                .map(u64::from)
                .map_err(trunc_trap)),
            Op::I32TruncF64S => {
                try_unop!(|a| float::i32_trunc_f64_s(a).map(from_i32).map_err(trunc_trap))
            }
            Op::I32TruncF64U => {
                try_unop!(|a| float::i32_trunc_f64_u(a).map(u64::from).map_err(trunc_trap))
            }
            Op::I64ExtendI32S => unop!(|a| i64::from(a as u32 as i32) as u64),
            Op::I64TruncF32S => try_unop!(|a| float::i64_trunc_f32_s(a as u32)
                .map(|v| v as u64)
                .map_err(trunc_trap)),
            Op::I64TruncF32U => {
                try_unop!(|a| float::i64_trunc_f32_u(a as u32).map_err(trunc_trap))
            }
            Op::I64TruncF64S => {
                try_unop!(|a| float::i64_trunc_f64_s(a)
                    .map(|v| v as u64)
                    .map_err(trunc_trap))
            }
            Op::I64TruncF64U => try_unop!(|a| float::i64_trunc_f64_u(a).map_err(trunc_trap)),
            Op::F32ConvertI32S => unop!(|a| from_f32(a as u32 as i32 as f32)),
            Op::F32ConvertI32U => unop!(|a| from_f32(a as u32 as f32)),
            Op::F32ConvertI64S => unop!(|a| from_f32(a as i64 as f32)),
            Op::F32ConvertI64U => unop!(|a| from_f32(a as f32)),
            Op::F32DemoteF64 => unop!(|a| u64::from(float::f32_demote_f64(a))),
            Op::F64ConvertI32S => unop!(|a| f64::from(a as u32 as i32).to_bits()),
            Op::F64ConvertI32U => unop!(|a| f64::from(a as u32).to_bits()),
            Op::F64ConvertI64S => unop!(|a| (a as i64 as f64).to_bits()),
            Op::F64ConvertI64U => unop!(|a| (a as f64).to_bits()),
            Op::F64PromoteF32 => unop!(|a| float::f64_promote_f32(a as u32)),
            Op::I32Extend8S => unop!(|a| from_i32(i32::from(a as u8 as i8))),
            Op::I32Extend16S => unop!(|a| from_i32(i32::from(a as u16 as i16))),
            Op::I64Extend8S => unop!(|a| i64::from(a as u8 as i8) as u64),
            Op::I64Extend16S => unop!(|a| i64::from(a as u16 as i16) as u64),
            Op::I64Extend32S => unop!(|a| i64::from(a as u32 as i32) as u64),
            Op::I32TruncSatF32S => unop!(|a| from_i32(float::i32_trunc_sat_f32_s(a as u32))),
            Op::I32TruncSatF32U => unop!(|a| u64::from(float::i32_trunc_sat_f32_u(a as u32))),
            Op::I32TruncSatF64S => unop!(|a| from_i32(float::i32_trunc_sat_f64_s(a))),
            Op::I32TruncSatF64U => unop!(|a| u64::from(float::i32_trunc_sat_f64_u(a))),
            Op::I64TruncSatF32S => unop!(|a| float::i64_trunc_sat_f32_s(a as u32) as u64),
            Op::I64TruncSatF32U => unop!(|a| float::i64_trunc_sat_f32_u(a as u32)),
            Op::I64TruncSatF64S => unop!(|a| float::i64_trunc_sat_f64_s(a) as u64),
            Op::I64TruncSatF64U => unop!(|a| float::i64_trunc_sat_f64_u(a)),
        }
    }
}

/// The four basic f32/f64 operations, on slots.
///
/// In the kernel they compile to compiler-builtins' soft-float routines (`__addsf3`,
/// `__divdf3`, ...): the target has no FPU for Rust code, and none is touched. On the host
/// they compile to SSE. Both are IEEE 754 exact with round-to-nearest-even, which is what
/// WebAssembly requires, and any NaN they produce is an arithmetic NaN, which the spec
/// allows. This is the only float arithmetic of the engine; everything else is integer code
/// in [`crate::float`].
#[allow(clippy::float_arithmetic)]
mod arith {
    use super::{f32v, f64v, from_f32};

    pub(super) fn f32_add(a: u64, b: u64) -> u64 {
        from_f32(f32v(a) + f32v(b))
    }

    pub(super) fn f32_sub(a: u64, b: u64) -> u64 {
        from_f32(f32v(a) - f32v(b))
    }

    pub(super) fn f32_mul(a: u64, b: u64) -> u64 {
        from_f32(f32v(a) * f32v(b))
    }

    pub(super) fn f32_div(a: u64, b: u64) -> u64 {
        from_f32(f32v(a) / f32v(b))
    }

    pub(super) fn f64_add(a: u64, b: u64) -> u64 {
        (f64v(a) + f64v(b)).to_bits()
    }

    pub(super) fn f64_sub(a: u64, b: u64) -> u64 {
        (f64v(a) - f64v(b)).to_bits()
    }

    pub(super) fn f64_mul(a: u64, b: u64) -> u64 {
        (f64v(a) * f64v(b)).to_bits()
    }

    pub(super) fn f64_div(a: u64, b: u64) -> u64 {
        (f64v(a) / f64v(b)).to_bits()
    }
}

fn i32_div_s(a: i32, b: i32) -> Result<i32, TrapKind> {
    if b == 0 {
        Err(TrapKind::IntegerDivideByZero)
    } else {
        a.checked_div(b).ok_or(TrapKind::IntegerOverflow)
    }
}

fn i64_div_s(a: i64, b: i64) -> Result<i64, TrapKind> {
    if b == 0 {
        Err(TrapKind::IntegerDivideByZero)
    } else {
        a.checked_div(b).ok_or(TrapKind::IntegerOverflow)
    }
}

/// Calls a host function with the `nparams` argument slots at `stack[base..]`, writing its
/// results at `stack[base..]`. Returns the number of results.
fn call_host<T: 'static>(
    host: &crate::host::HostFunc<T>,
    ty: &crate::value::FuncType,
    data: &mut T,
    memory: Option<&mut MemoryInst>,
    stack: &mut [u64],
    base: usize,
    nparams: usize,
) -> Result<usize, Trap> {
    let internal = || Trap::new(TrapKind::Internal);
    let slots = stack.get(base..base + nparams).ok_or_else(internal)?;
    let mut args = Vec::new();
    args.try_reserve_exact(nparams).map_err(|_| internal())?;
    for (t, s) in ty.params().iter().zip(slots) {
        args.push(Value::from_slot(*t, *s));
    }
    let mut results = Vec::new();
    results
        .try_reserve_exact(ty.results().len())
        .map_err(|_| internal())?;
    for t in ty.results() {
        results.push(Value::default_of(*t));
    }
    let mut caller = Caller { data, memory };
    host(&mut caller, &args, &mut results)?;
    let n = results.len();
    let out = stack.get_mut(base..base + n).ok_or_else(internal)?;
    for ((slot, value), t) in out.iter_mut().zip(&results).zip(ty.results()) {
        if value.ty() != *t {
            return Err(Trap::new(TrapKind::Host(-22)));
        }
        *slot = value.to_slot();
    }
    Ok(n)
}
