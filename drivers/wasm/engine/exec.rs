// SPDX-License-Identifier: GPL-2.0

//! Execution.
//!
//! `invoke` is the one entry into running code: it sets up the value stack and the fuel
//! meter and runs the interpreter (`interp`, the engine's only `unsafe` code). Everything
//! the interpreter does out of its hot loop is here, in safe code: growing the stacks
//! (geometrically, within the limits, never while the store forbids allocation), bulk memory
//! and table operations (in bounded steps that pay fuel and let the interrupt hook run),
//! `memory.grow`/`table.grow`, and calls into host functions.
//!
//! Wasm calls never recurse on the native stack: caller frames are saved in the store's frame
//! stack and every function's slots live on its value stack, both on the heap, both bounded
//! by [`crate::Config`].

#[allow(unsafe_code)]
pub(crate) mod interp;
pub(crate) mod numeric;

use crate::error::{Error, Trap, TrapKind};
use crate::host::{FloatUnit, InterruptHook};
use crate::store::{
    eval_in, FuncKind, HostEntry, InstanceInst, MemoryInst, ModuleRef, Slab, Store, TableInst,
    NONE, PAGE_SIZE,
};
use crate::value::{FuncType, Value};
use alloc::vec::Vec;

/// Bulk memory operations pay one unit of fuel per this many bytes.
pub const BULK_BYTES_PER_FUEL: usize = 64;

/// Bulk table operations pay one unit of fuel per this many elements.
pub const BULK_ELEMENTS_PER_FUEL: usize = 8;

/// The largest step of a bulk operation between two fuel payments (and so between two
/// chances for the interrupt hook to run).
pub const BULK_STEP_BYTES: usize = 64 * 1024;

/// The fuel of a running invocation outside the interpreter's hot countdown: what is left
/// beyond the current slice, and the hook that runs between slices.
pub(crate) struct Meter<'a> {
    /// The countdown value the current slice started from.
    pub(crate) slice: i64,
    /// Fuel left, not counting the current slice's use.
    pub(crate) left: &'a mut u64,
    /// Fuel used by all invocations so far.
    pub(crate) used: &'a mut u64,
    pub(crate) interval: u64,
    pub(crate) hook: Option<&'a mut dyn InterruptHook>,
}

impl<'a> Meter<'a> {
    /// A meter over a store's fuel counters and interrupt hook, with the store's interval.
    pub(crate) fn new(
        config: &crate::Config,
        left: &'a mut u64,
        used: &'a mut u64,
        hook: &'a mut Option<alloc::boxed::Box<dyn InterruptHook>>,
    ) -> Self {
        Self {
            slice: 0,
            left,
            used,
            interval: u64::from(config.interrupt_interval.max(1)),
            hook: hook.as_deref_mut().map(|h| h as &mut dyn InterruptHook),
        }
    }

    /// Starts a slice: the countdown value to run with.
    pub(crate) fn start(&mut self) -> i64 {
        let next = (*self.left).min(self.interval) as i64;
        self.slice = next;
        next
    }

    /// The countdown went negative: pays for the slice, runs the hook and starts the next
    /// slice, or fails with "out of fuel" (or the hook's trap).
    #[cold]
    #[inline(never)]
    pub(crate) fn refuel(&mut self, countdown: i64) -> Result<i64, TrapKind> {
        let consumed = (self.slice - countdown) as u64;
        if consumed > *self.left {
            *self.used = self.used.saturating_add(*self.left);
            *self.left = 0;
            self.slice = 0;
            return Err(TrapKind::OutOfFuel);
        }
        *self.left -= consumed;
        *self.used = self.used.saturating_add(consumed);
        self.slice = 0;
        if let Some(hook) = self.hook.as_mut() {
            hook.check()?;
        }
        Ok(self.start())
    }

    /// Pays for what the current slice used, at the end of a run.
    pub(crate) fn finish(&mut self, countdown: i64) {
        let consumed = (self.slice - countdown).max(0) as u64;
        let consumed = consumed.min(*self.left);
        *self.left -= consumed;
        *self.used = self.used.saturating_add(consumed);
        self.slice = countdown;
    }

    /// Charges `cost` outside the hot loop.
    pub(crate) fn charge(&mut self, countdown: &mut i64, cost: u64) -> Result<(), TrapKind> {
        *countdown = countdown.saturating_sub(i64::try_from(cost).unwrap_or(i64::MAX));
        if *countdown < 0 {
            *countdown = self.refuel(*countdown)?;
        }
        Ok(())
    }
}

/// Calls store function `func` with `args`, writing its results into `results`; float
/// arithmetic runs on `float`.
pub(crate) fn invoke<T: 'static, M: ModuleRef, F: FloatUnit>(
    store: &mut Store<T, M>,
    float: &mut F,
    func: u32,
    args: &[Value],
    results: &mut Vec<Value>,
) -> Result<(), Error> {
    let f = *store
        .funcs
        .get(func)
        // Lazily: the message is a String, and an allocation here on every call would be
        // one in atomic context for an attached handler (`Store::set_no_alloc`).
        .ok_or_else(|| Error::Invoke("no such function".into()))?;
    let ty = store
        .types
        .get(f.type_id)
        .ok_or(Error::Trap(Trap::new(TrapKind::Internal)))?;
    let n_results = ty.results().len();
    store.fuel_left = store.config.fuel.unwrap_or(u64::MAX);
    match f.kind {
        FuncKind::Host(h) => {
            let entry = store
                .host_funcs
                .get(h as usize)
                .ok_or(Error::Trap(Trap::new(TrapKind::Internal)))?;
            results.clear();
            for t in ty.results() {
                results.push(Value::default_of(*t));
            }
            let mut caller = crate::store::caller(&mut store.data, None, entry.data);
            (entry.f)(&mut caller, args, results)?;
            check_results(ty, results)?;
            Ok(())
        }
        FuncKind::Wasm { instance, index } => {
            let inst = store
                .instances
                .get(instance)
                .ok_or(Error::Trap(Trap::new(TrapKind::Internal)))?;
            let module = inst
                .module
                .as_deref()
                .ok_or(Error::Trap(Trap::new(TrapKind::Internal)))?;
            let code = module
                .code
                .get(index as usize)
                .ok_or(Error::Trap(Trap::new(TrapKind::Internal)))?;
            let need = usize::from(code.num_slots)
                .max(args.len())
                .max(n_results)
                .max(1);
            let entry_cost = code.entry_cost;
            ensure_stack(store, need).map_err(Trap::new)?;
            for (slot, arg) in store.stack.iter_mut().zip(args) {
                *slot = arg.to_slot();
            }
            let outcome = interp::run(store, float, instance, index, entry_cost);
            outcome?;
            let ty = store
                .func_type(crate::FuncAddr(func))
                .ok_or(Error::Trap(Trap::new(TrapKind::Internal)))?;
            results.clear();
            for (t, slot) in ty.results().iter().zip(store.stack.iter()) {
                results.push(Value::from_slot(*t, *slot));
            }
            Ok(())
        }
        FuncKind::Free => Err(Error::Invoke("no such function".into())),
    }
}

fn check_results(ty: &FuncType, results: &[Value]) -> Result<(), Trap> {
    if results.len() != ty.results().len()
        || results.iter().zip(ty.results()).any(|(v, t)| v.ty() != *t)
    {
        return Err(Trap::new(TrapKind::Host(-22)));
    }
    Ok(())
}

/// Makes the value stack at least `need` slots long, within the limit, growing it
/// geometrically so that deep recursion costs amortised O(1) per call.
pub(crate) fn ensure_stack<T: 'static, M: ModuleRef>(
    store: &mut Store<T, M>,
    need: usize,
) -> Result<(), TrapKind> {
    if need <= store.stack.len() {
        return Ok(());
    }
    grow_stack(store, need)
}

/// Grows the value stack to at least `need` slots.
#[cold]
pub(crate) fn grow_stack<T: 'static, M: ModuleRef>(
    store: &mut Store<T, M>,
    need: usize,
) -> Result<(), TrapKind> {
    let (limit, max) = (store.config.max_value_stack, store.config.max_store_bytes);
    grow_vec(
        &mut store.stack,
        need,
        limit,
        1024,
        store.no_alloc,
        &mut store.charged,
        max,
    )
    .map_err(|()| TrapKind::ValueStackExhausted)
}

/// Makes room for at least `need` frames.
#[cold]
pub(crate) fn grow_frames<T: 'static, M: ModuleRef>(
    store: &mut Store<T, M>,
    need: usize,
) -> Result<(), TrapKind> {
    let (limit, max) = (store.config.max_call_depth, store.config.max_store_bytes);
    grow_vec(
        &mut store.frames,
        need,
        limit,
        64,
        store.no_alloc,
        &mut store.charged,
        max,
    )
    .map_err(|()| TrapKind::CallStackExhausted)
}

/// Grows a stack to at least `need` (default-filled) entries: geometrically, so that deep
/// recursion costs amortised O(1) per call, within `limit` entries and the store's budget,
/// and never when allocation is forbidden.
pub(crate) fn grow_vec<X: Copy + Default>(
    v: &mut Vec<X>,
    need: usize,
    limit: usize,
    min: usize,
    no_alloc: bool,
    charged: &mut usize,
    store_max: usize,
) -> Result<(), ()> {
    let old = v.len();
    if need <= old {
        return Ok(());
    }
    if need > limit || no_alloc {
        return Err(());
    }
    let target = need.max(old.saturating_mul(2)).max(min).min(limit);
    let bytes = (target - old).saturating_mul(core::mem::size_of::<X>());
    let total = charged.saturating_add(bytes);
    if total > store_max {
        return Err(());
    }
    v.try_reserve_exact(target - old).map_err(|_| ())?;
    *charged = total;
    v.resize(target, X::default());
    Ok(())
}

/// Bounds-checks `[start, start + len)` against `size`, as a `usize` range.
pub(crate) fn range(start: u32, len: u32, size: usize) -> Option<core::ops::Range<usize>> {
    let end = (start as usize).checked_add(len as usize)?;
    if end > size {
        return None;
    }
    Some(start as usize..end)
}

fn bulk_cost(bytes: usize, per_fuel: usize) -> u64 {
    (bytes / per_fuel) as u64 + 1
}

/// `memory.fill`, in steps.
pub(crate) fn memory_fill(
    mem: &mut MemoryInst,
    d: u32,
    v: u8,
    n: u32,
    meter: &mut Meter<'_>,
    countdown: &mut i64,
) -> Result<(), TrapKind> {
    let r = range(d, n, mem.data.len()).ok_or(TrapKind::MemoryOutOfBounds)?;
    let mut at = r.start;
    while at < r.end {
        let step = (r.end - at).min(BULK_STEP_BYTES);
        meter.charge(countdown, bulk_cost(step, BULK_BYTES_PER_FUEL))?;
        mem.data
            .get_mut(at..at + step)
            .ok_or(TrapKind::MemoryOutOfBounds)?
            .fill(v);
        at += step;
    }
    Ok(())
}

/// `memory.copy`, in steps; overlapping ranges copy as if through a temporary buffer.
pub(crate) fn memory_copy(
    mem: &mut MemoryInst,
    d: u32,
    s: u32,
    n: u32,
    meter: &mut Meter<'_>,
    countdown: &mut i64,
) -> Result<(), TrapKind> {
    let len = mem.data.len();
    let (src, dst) = match (range(s, n, len), range(d, n, len)) {
        (Some(src), Some(dst)) => (src, dst),
        _ => return Err(TrapKind::MemoryOutOfBounds),
    };
    let n = n as usize;
    let mut done = 0;
    // Copying forward is safe unless the destination starts inside the source: then copy
    // from the end.
    let backward = dst.start > src.start;
    while done < n {
        let step = (n - done).min(BULK_STEP_BYTES);
        meter.charge(countdown, bulk_cost(step, BULK_BYTES_PER_FUEL))?;
        let off = if backward { n - done - step } else { done };
        let from = src.start + off;
        // Both ranges were checked against the memory's length above, so `copy_within`
        // cannot panic; `get` proves it once more for the reader.
        if mem.data.get(from..from + step).is_none()
            || mem
                .data
                .get(dst.start + off..dst.start + off + step)
                .is_none()
        {
            return Err(TrapKind::MemoryOutOfBounds);
        }
        mem.data.copy_within(from..from + step, dst.start + off);
        done += step;
    }
    Ok(())
}

/// `memory.init` (and active data segments): copies `n` bytes of data segment `data` of
/// instance `inst` from `src` into memory `memory` (a module index) at `dst`.
pub(crate) fn memory_init<T: 'static, M: ModuleRef>(
    store: &mut Store<T, M>,
    inst: u32,
    memory: u32,
    data: u32,
    dst: u32,
    src: u32,
    n: u32,
) -> Result<(), TrapKind> {
    let Store {
        instances,
        memories,
        interrupt,
        fuel_left,
        fuel_used,
        config,
        ..
    } = store;
    let instance = instances.get(inst).ok_or(TrapKind::Internal)?;
    let mut meter = Meter::new(config, fuel_left, fuel_used, interrupt);
    let mut countdown = meter.start();
    let r = memory_init_in(
        instance,
        memories,
        memory,
        data,
        dst,
        src,
        n,
        &mut meter,
        &mut countdown,
    );
    meter.finish(countdown);
    r
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn memory_init_in<M: ModuleRef>(
    instance: &InstanceInst<M>,
    memories: &mut Slab<MemoryInst>,
    memory: u32,
    data: u32,
    dst: u32,
    src: u32,
    n: u32,
    meter: &mut Meter<'_>,
    countdown: &mut i64,
) -> Result<(), TrapKind> {
    let module = instance.module.as_deref().ok_or(TrapKind::Internal)?;
    let segment = module.datas.get(data as usize).ok_or(TrapKind::Internal)?;
    let dropped = instance
        .dropped
        .get(module.elems.len() + data as usize)
        .is_some_and(|d| d.get());
    let bytes: &[u8] = if dropped { &[] } else { &segment.bytes };
    let addr = *instance
        .memories
        .get(memory as usize)
        .ok_or(TrapKind::Internal)?;
    let mem = memories.get_mut(addr).ok_or(TrapKind::Internal)?;
    let from = range(src, n, bytes.len()).ok_or(TrapKind::MemoryOutOfBounds)?;
    let to = range(dst, n, mem.data.len()).ok_or(TrapKind::MemoryOutOfBounds)?;
    let mut done = 0;
    let n = n as usize;
    while done < n {
        let step = (n - done).min(BULK_STEP_BYTES);
        meter.charge(countdown, bulk_cost(step, BULK_BYTES_PER_FUEL))?;
        let (Some(d), Some(s)) = (
            mem.data.get_mut(to.start + done..to.start + done + step),
            bytes.get(from.start + done..from.start + done + step),
        ) else {
            return Err(TrapKind::MemoryOutOfBounds);
        };
        d.copy_from_slice(s);
        done += step;
    }
    Ok(())
}

/// `table.init` (and active element segments).
pub(crate) fn table_init<T: 'static, M: ModuleRef>(
    store: &mut Store<T, M>,
    inst: u32,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    n: u32,
) -> Result<(), TrapKind> {
    let Store {
        instances,
        tables,
        globals,
        interrupt,
        fuel_left,
        fuel_used,
        config,
        ..
    } = store;
    let instance = instances.get(inst).ok_or(TrapKind::Internal)?;
    let mut meter = Meter::new(config, fuel_left, fuel_used, interrupt);
    let mut countdown = meter.start();
    let r = table_init_in(
        instance,
        tables,
        globals,
        table,
        elem,
        dst,
        src,
        n,
        &mut meter,
        &mut countdown,
    );
    meter.finish(countdown);
    r
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn table_init_in<M: ModuleRef>(
    instance: &InstanceInst<M>,
    tables: &mut Slab<TableInst>,
    globals: &Slab<crate::store::GlobalInst>,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    n: u32,
    meter: &mut Meter<'_>,
    countdown: &mut i64,
) -> Result<(), TrapKind> {
    let module = instance.module.as_deref().ok_or(TrapKind::Internal)?;
    let segment = module.elems.get(elem as usize).ok_or(TrapKind::Internal)?;
    let dropped = instance.dropped.get(elem as usize).is_some_and(|d| d.get());
    let items = if dropped { &[][..] } else { &segment.items[..] };
    let addr = *instance
        .tables
        .get(table as usize)
        .ok_or(TrapKind::Internal)?;
    let t = tables.get_mut(addr).ok_or(TrapKind::Internal)?;
    let from = range(src, n, items.len()).ok_or(TrapKind::TableOutOfBounds)?;
    let to = range(dst, n, t.elements.len()).ok_or(TrapKind::TableOutOfBounds)?;
    let step_elems = BULK_STEP_BYTES / 8;
    let (Some(to), Some(from)) = (t.elements.get_mut(to), items.get(from)) else {
        return Err(TrapKind::TableOutOfBounds);
    };
    for (chunk_to, chunk_from) in to.chunks_mut(step_elems).zip(from.chunks(step_elems)) {
        meter.charge(countdown, bulk_cost(chunk_to.len(), BULK_ELEMENTS_PER_FUEL))?;
        for (slot, expr) in chunk_to.iter_mut().zip(chunk_from) {
            *slot = eval_in(instance, globals, *expr)?;
        }
    }
    Ok(())
}

/// `table.fill`, in steps.
pub(crate) fn table_fill(
    t: &mut TableInst,
    i: u32,
    v: u64,
    n: u32,
    meter: &mut Meter<'_>,
    countdown: &mut i64,
) -> Result<(), TrapKind> {
    let r = range(i, n, t.elements.len()).ok_or(TrapKind::TableOutOfBounds)?;
    let slice = t.elements.get_mut(r).ok_or(TrapKind::TableOutOfBounds)?;
    for chunk in slice.chunks_mut(BULK_STEP_BYTES / 8) {
        meter.charge(countdown, bulk_cost(chunk.len(), BULK_ELEMENTS_PER_FUEL))?;
        chunk.fill(v);
    }
    Ok(())
}

/// `table.copy` within one table or between two, in steps.
#[allow(clippy::too_many_arguments)]
pub(crate) fn table_copy(
    tables: &mut Slab<TableInst>,
    dst: u32,
    src: u32,
    d: u32,
    s: u32,
    n: u32,
    meter: &mut Meter<'_>,
    countdown: &mut i64,
) -> Result<(), TrapKind> {
    meter.charge(countdown, bulk_cost(n as usize, BULK_ELEMENTS_PER_FUEL))?;
    if dst == src {
        let t = tables.get_mut(dst).ok_or(TrapKind::Internal)?;
        let len = t.elements.len();
        let from = range(s, n, len).ok_or(TrapKind::TableOutOfBounds)?;
        range(d, n, len).ok_or(TrapKind::TableOutOfBounds)?;
        // Both ranges were checked against the table's length just above, so
        // `copy_within` cannot panic.
        t.elements.copy_within(from, d as usize);
        return Ok(());
    }
    let (to, from) =
        two_mut(&mut tables.items, dst as usize, src as usize).ok_or(TrapKind::Internal)?;
    let from = range(s, n, from.elements.len())
        .and_then(|r| from.elements.get(r))
        .ok_or(TrapKind::TableOutOfBounds)?;
    let to = range(d, n, to.elements.len())
        .and_then(|r| to.elements.get_mut(r))
        .ok_or(TrapKind::TableOutOfBounds)?;
    to.copy_from_slice(from);
    Ok(())
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

/// The budget a running invocation charges growth to.
pub(crate) struct GrowBudget<'a> {
    pub(crate) store_charged: &'a mut usize,
    pub(crate) store_max: usize,
    pub(crate) no_alloc: bool,
}

impl GrowBudget<'_> {
    fn charge(&mut self, bytes: usize) -> bool {
        let total = self.store_charged.saturating_add(bytes);
        if self.no_alloc || total > self.store_max {
            return false;
        }
        *self.store_charged = total;
        true
    }

    fn uncharge(&mut self, bytes: usize) {
        *self.store_charged = self.store_charged.saturating_sub(bytes);
    }
}

/// `memory.grow`: returns the old size in pages, or `None` (for -1). Capacity grows
/// geometrically (capped at the maximum), the old contents move and the new pages are zeroed
/// in bounded steps that pay fuel.
pub(crate) fn memory_grow(
    mem: &mut MemoryInst,
    delta: u32,
    budget: &mut GrowBudget<'_>,
    meter: &mut Meter<'_>,
    countdown: &mut i64,
) -> Result<Option<u32>, TrapKind> {
    let old = mem.pages();
    let Some(new) = old.checked_add(delta).filter(|&n| n <= mem.max_pages) else {
        return Ok(None);
    };
    let new_len = new as usize * PAGE_SIZE;
    let old_len = mem.data.len();
    meter.charge(
        countdown,
        bulk_cost(new_len - old_len, BULK_BYTES_PER_FUEL * 16),
    )?;
    if new_len > mem.data.capacity() {
        let max = mem.max_pages as usize * PAGE_SIZE;
        let cap = new_len.max(mem.data.capacity().saturating_mul(2)).min(max);
        let extra = cap - mem.data.capacity();
        if !budget.charge(extra) {
            return Ok(None);
        }
        let mut data = Vec::new();
        if data.try_reserve_exact(cap).is_err() {
            budget.uncharge(extra);
            return Ok(None);
        }
        for chunk in mem.data.chunks(BULK_STEP_BYTES) {
            meter.charge(countdown, bulk_cost(chunk.len(), BULK_BYTES_PER_FUEL))?;
            data.extend_from_slice(chunk);
        }
        mem.data = data;
    }
    while mem.data.len() < new_len {
        let step = (new_len - mem.data.len()).min(BULK_STEP_BYTES);
        meter.charge(countdown, bulk_cost(step, BULK_BYTES_PER_FUEL))?;
        let len = mem.data.len();
        mem.data.resize(len + step, 0);
    }
    Ok(Some(old))
}

/// `table.grow`: returns the old size, or `None` (for -1).
pub(crate) fn table_grow(
    t: &mut TableInst,
    delta: u32,
    init: u64,
    budget: &mut GrowBudget<'_>,
    meter: &mut Meter<'_>,
    countdown: &mut i64,
) -> Result<Option<u32>, TrapKind> {
    let old = t.elements.len() as u32;
    let Some(new) = old.checked_add(delta).filter(|&n| n <= t.max) else {
        return Ok(None);
    };
    let new = new as usize;
    if new > t.elements.capacity() {
        let cap = new
            .max(t.elements.capacity().saturating_mul(2))
            .min(t.max as usize);
        let extra = (cap - t.elements.capacity()) * 8;
        if !budget.charge(extra) {
            return Ok(None);
        }
        if t.elements
            .try_reserve_exact(cap - t.elements.len())
            .is_err()
        {
            budget.uncharge(extra);
            return Ok(None);
        }
    }
    while t.elements.len() < new {
        let step = (new - t.elements.len()).min(BULK_STEP_BYTES / 8);
        meter.charge(countdown, bulk_cost(step, BULK_ELEMENTS_PER_FUEL))?;
        let len = t.elements.len();
        t.elements.resize(len + step, init);
    }
    Ok(Some(old))
}

/// Calls host function `entry` of type `ty` with the argument slots `args`, writing its
/// results into `out` (which may be the same slots). `scratch_args`/`scratch_results` have
/// room for the function's arity (reserved when it was added), so nothing is allocated.
/// Returns the fuel the host function asked to be charged for its work.
#[allow(clippy::too_many_arguments)]
pub(crate) fn call_host<T>(
    entry: &HostEntry<T>,
    ty: &FuncType,
    data: &mut T,
    memory: Option<&mut MemoryInst>,
    slots: &mut [u64],
    scratch_args: &mut Vec<Value>,
    scratch_results: &mut Vec<Value>,
) -> Result<u64, Trap> {
    let n_params = ty.params().len();
    let n_results = ty.results().len();
    if scratch_args.capacity() < n_params || scratch_results.capacity() < n_results {
        return Err(Trap::new(TrapKind::Internal));
    }
    scratch_args.clear();
    for (t, s) in ty.params().iter().zip(slots.iter()) {
        scratch_args.push(Value::from_slot(*t, *s));
    }
    scratch_results.clear();
    for t in ty.results() {
        scratch_results.push(Value::default_of(*t));
    }
    let mut caller = crate::store::caller(data, memory, entry.data);
    (entry.f)(&mut caller, scratch_args, scratch_results)?;
    let fuel = caller.fuel;
    check_results(ty, scratch_results)?;
    for (slot, v) in slots.iter_mut().zip(scratch_results.iter()) {
        *slot = v.to_slot();
    }
    Ok(fuel)
}

/// The memory 0 of an instance, if it has one.
pub(crate) fn memory0<'m, M>(
    inst: &InstanceInst<M>,
    memories: &'m mut Slab<MemoryInst>,
) -> Option<&'m mut MemoryInst> {
    let m = inst.memory0();
    if m == NONE {
        return None;
    }
    memories.get_mut(m)
}
