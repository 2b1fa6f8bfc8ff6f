// SPDX-License-Identifier: GPL-2.0

//! The store: the runtime objects (functions, tables, memories, globals) of the instances
//! created in it, and instantiation.
//!
//! A store holds the instances that can link to each other. Modules are shared, not copied:
//! an instance keeps a handle (`M`, a reference-counted pointer chosen by the embedder) to its
//! module, whose translated code every instance of it runs, and maps the module's indices to
//! store addresses through small per-instance tables.
//!
//! # Memory
//!
//! Everything an instance allocates — its memories, tables, globals, functions and index
//! tables — is charged to the instance's budget ([`Config::max_instance_bytes`]) and to the
//! store's ([`Config::max_store_bytes`]) *before* it is allocated, and every allocation is
//! fallible. Memories and tables grow geometrically, in bounded steps. Objects of instances that
//! nothing can reach any more are freed by [`Store::collect`]; their slots are reused.

use crate::config::Config;
use crate::error::{message, Error, Trap, TrapKind};
use crate::host::{Caller, FloatUnit, HostFn, InterruptHook};
use crate::module::{ConstExpr, ExternKind, Module, SegmentMode};
use crate::value::{
    ExternType, FuncType, GlobalType, Limits, MemoryType, TableType, ValType, Value,
};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;
use core::ops::Deref;

/// The size of a WebAssembly page.
pub const PAGE_SIZE: usize = 65536;

/// A function in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FuncAddr(pub(crate) u32);
/// A table in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableAddr(pub(crate) u32);
/// A linear memory in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryAddr(pub(crate) u32);
/// A global in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalAddr(pub(crate) u32);
/// An instance in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceAddr(pub(crate) u32);

/// An exported or importable object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    /// A function.
    Func(FuncAddr),
    /// A table.
    Table(TableAddr),
    /// A memory.
    Memory(MemoryAddr),
    /// A global.
    Global(GlobalAddr),
}

impl Extern {
    /// The function, if this is one.
    pub fn func(self) -> Option<FuncAddr> {
        match self {
            Self::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The global, if this is one.
    pub fn global(self) -> Option<GlobalAddr> {
        match self {
            Self::Global(g) => Some(g),
            _ => None,
        }
    }

    /// The memory, if this is one.
    pub fn memory(self) -> Option<MemoryAddr> {
        match self {
            Self::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// The table, if this is one.
    pub fn table(self) -> Option<TableAddr> {
        match self {
            Self::Table(t) => Some(t),
            _ => None,
        }
    }
}

/// What a handle to a shared [`Module`] must be: cheap to clone (a reference count).
///
/// On the host this is typically `Arc<Module>` or `Rc<Module>`; in the kernel, the kernel
/// crate's `Arc`, allocated fallibly by the embedder.
pub trait ModuleRef: Clone + Deref<Target = Module> {}
impl<P: Clone + Deref<Target = Module>> ModuleRef for P {}

/// No object: the owner of host-created objects, a missing memory.
pub(crate) const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
pub(crate) enum FuncKind {
    /// Defined function `index` of the module of instance `instance`.
    Wasm { instance: u32, index: u32 },
    /// Entry of [`Store::host_funcs`].
    Host(u32),
    /// A freed slot.
    Free,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct FuncInst {
    pub(crate) type_id: u32,
    pub(crate) kind: FuncKind,
}

pub(crate) struct TableInst {
    pub(crate) elements: Vec<u64>,
    pub(crate) element: ValType,
    /// Effective maximum: the type's, capped by the configuration.
    pub(crate) max: u32,
    pub(crate) declared_max: Option<u32>,
    pub(crate) owner: u32,
}

/// A linear memory.
pub struct MemoryInst {
    /// The bytes; the length is the memory's size.
    pub(crate) data: Vec<u8>,
    /// Effective maximum in pages: the type's, capped by the configuration.
    pub(crate) max_pages: u32,
    pub(crate) declared_max: Option<u32>,
    pub(crate) owner: u32,
}

impl MemoryInst {
    /// Current size in pages.
    pub(crate) fn pages(&self) -> u32 {
        (self.data.len() / PAGE_SIZE) as u32
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct GlobalInst {
    pub(crate) value: u64,
    pub(crate) ty: GlobalType,
    pub(crate) owner: u32,
}

pub(crate) struct InstanceInst<M> {
    /// `None` for a freed slot.
    pub(crate) module: Option<M>,
    /// Store addresses of the module's functions, tables, memories and globals, imports
    /// first, by module index.
    pub(crate) funcs: Vec<u32>,
    pub(crate) tables: Vec<u32>,
    pub(crate) memories: Vec<u32>,
    pub(crate) globals: Vec<u32>,
    /// Store type ids of the module's types.
    pub(crate) type_ids: Vec<u32>,
    /// Dropped element segments, then data segments (`elem.drop`, `data.drop`, active and
    /// declared segments after instantiation).
    pub(crate) dropped: Vec<Cell<bool>>,
    /// Bytes charged to the store for this instance.
    pub(crate) charged: usize,
    /// Instantiation completed (an instance that failed half-way is only collectable).
    pub(crate) complete: bool,
}

impl<M> InstanceInst<M> {
    pub(crate) fn memory0(&self) -> u32 {
        self.memories.first().copied().unwrap_or(NONE)
    }
}

/// A saved caller frame.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Frame {
    /// The caller's instance and defined function, and where it resumes.
    pub(crate) instance: u32,
    pub(crate) func: u32,
    pub(crate) pc: u32,
    /// The caller's frame pointer, as an index into the value stack.
    pub(crate) fp: u32,
}

pub(crate) struct HostEntry<T> {
    pub(crate) f: HostFn<T>,
    pub(crate) data: u64,
}

/// Interned function types: equal types get the same id, found by hashing.
#[derive(Default)]
pub(crate) struct Types {
    pub(crate) list: Vec<FuncType>,
    /// Open addressing, capacity a power of two, entries `id + 1` (0 is empty).
    index: Vec<u32>,
}

fn hash_type(ty: &FuncType) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |b: u64| {
        h ^= b;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    mix(ty.params().len() as u64);
    for t in ty.params().iter().chain(ty.results()) {
        mix(*t as u64 + 1);
    }
    h
}

impl Types {
    pub(crate) fn get(&self, id: u32) -> Option<&FuncType> {
        self.list.get(id as usize)
    }

    fn find(&self, ty: &FuncType, hash: u64) -> Result<u32, usize> {
        let mask = self.index.len().wrapping_sub(1);
        let mut i = hash as usize & mask;
        loop {
            match self.index.get(i) {
                Some(0) | None => return Err(i),
                Some(&e) => {
                    if self.list.get(e as usize - 1) == Some(ty) {
                        return Ok(e - 1);
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn intern(&mut self, ty: &FuncType) -> Result<u32, Error> {
        let hash = hash_type(ty);
        if !self.index.is_empty() {
            if let Ok(id) = self.find(ty, hash) {
                return Ok(id);
            }
        }
        if (self.list.len() + 1) * 2 > self.index.len() {
            self.rehash()?;
        }
        let id = u32::try_from(self.list.len()).map_err(|_| limit("too many types"))?;
        self.list.try_reserve(1)?;
        self.list.push(ty.try_clone()?);
        match self.find(ty, hash) {
            Err(slot) => {
                if let Some(e) = self.index.get_mut(slot) {
                    *e = id + 1;
                }
            }
            Ok(_) => return Err(limit("type interning")),
        }
        Ok(id)
    }

    fn rehash(&mut self) -> Result<(), Error> {
        let cap = (self.index.len() * 2).max(64);
        let mut index = Vec::new();
        index.try_reserve_exact(cap)?;
        index.resize(cap, 0u32);
        let old = core::mem::replace(&mut self.index, index);
        drop(old);
        for (id, ty) in self.list.iter().enumerate() {
            let mask = cap - 1;
            let mut i = hash_type(ty) as usize & mask;
            while self.index.get(i).is_some_and(|&e| e != 0) {
                i = (i + 1) & mask;
            }
            if let Some(e) = self.index.get_mut(i) {
                *e = id as u32 + 1;
            }
        }
        Ok(())
    }
}

fn limit(what: &'static str) -> Error {
    Error::Limit(what.into())
}

/// A vector whose freed slots are reused.
pub(crate) struct Slab<X> {
    pub(crate) items: Vec<X>,
    free: Vec<u32>,
}

impl<X> Default for Slab<X> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<X> Slab<X> {
    fn insert(&mut self, item: X) -> Result<u32, Error> {
        if let Some(i) = self.free.pop() {
            if let Some(slot) = self.items.get_mut(i as usize) {
                *slot = item;
                return Ok(i);
            }
        }
        let i = u32::try_from(self.items.len())
            .ok()
            .filter(|&i| i != NONE)
            .ok_or_else(|| limit("too many objects"))?;
        self.items.try_reserve(1)?;
        self.items.push(item);
        Ok(i)
    }

    /// Marks slot `i` free (the caller has emptied it). Reserves the free list's room when
    /// the slot was made, so freeing cannot fail: see `reserve_free`.
    fn release(&mut self, i: u32) {
        if self.free.len() < self.free.capacity() {
            self.free.push(i);
        }
    }

    fn reserve_free(&mut self) -> Result<(), Error> {
        let want = self.items.len() + 1;
        if self.free.capacity() < want {
            self.free
                .try_reserve(want.saturating_sub(self.free.len()))?;
        }
        Ok(())
    }

    pub(crate) fn get(&self, i: u32) -> Option<&X> {
        self.items.get(i as usize)
    }

    pub(crate) fn get_mut(&mut self, i: u32) -> Option<&mut X> {
        self.items.get_mut(i as usize)
    }
}

/// Bytes charged for `n` items of type `X` in a vector.
fn bytes_of<X>(n: usize) -> usize {
    n.saturating_mul(core::mem::size_of::<X>())
}

/// All runtime objects of a set of linked instances, plus the embedder's data `T`.
pub struct Store<T, M = alloc::sync::Arc<Module>> {
    pub(crate) config: Config,
    pub(crate) types: Types,
    pub(crate) funcs: Slab<FuncInst>,
    pub(crate) host_funcs: Vec<HostEntry<T>>,
    pub(crate) tables: Slab<TableInst>,
    pub(crate) memories: Slab<MemoryInst>,
    pub(crate) globals: Slab<GlobalInst>,
    pub(crate) instances: Slab<InstanceInst<M>>,
    pub(crate) data: T,
    /// The value stack, reused across invocations; grows on demand up to the limit.
    pub(crate) stack: Vec<u64>,
    /// Caller frames, reused across invocations.
    pub(crate) frames: Vec<Frame>,
    /// Room for the arguments and results of host calls, sized when host functions are
    /// added, so that calling one allocates nothing.
    pub(crate) host_args: Vec<Value>,
    pub(crate) host_results: Vec<Value>,
    pub(crate) interrupt: Option<Box<dyn InterruptHook>>,
    /// Fuel left for the running invocation (`u64::MAX`: unlimited).
    pub(crate) fuel_left: u64,
    /// Fuel used by all invocations so far.
    pub(crate) fuel_used: u64,
    /// Bytes charged to the store's budget.
    pub(crate) charged: usize,
    /// Whether the embedder forbids allocation while code runs (atomic context).
    pub(crate) no_alloc: bool,
}

impl<T: 'static, M: ModuleRef> Store<T, M> {
    /// An empty store.
    pub fn new(config: Config, data: T) -> Self {
        Self {
            config,
            types: Types::default(),
            funcs: Slab::default(),
            host_funcs: Vec::new(),
            tables: Slab::default(),
            memories: Slab::default(),
            globals: Slab::default(),
            instances: Slab::default(),
            data,
            stack: Vec::new(),
            frames: Vec::new(),
            host_args: Vec::new(),
            host_results: Vec::new(),
            interrupt: None,
            fuel_left: u64::MAX,
            fuel_used: 0,
            charged: 0,
            no_alloc: false,
        }
    }

    /// The embedder's data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The embedder's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// The store's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store's configuration, to change limits for later instantiations and
    /// invocations (an embedder running instances with different budgets in one store sets
    /// `fuel` before each invocation).
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// Installs the hook called regularly while wasm code runs.
    pub fn set_interrupt_hook(&mut self, hook: Box<dyn InterruptHook>) {
        self.interrupt = Some(hook);
    }

    /// As [`Store::set_interrupt_hook`], boxing `hook` fallibly (`Box::new` cannot fail
    /// gracefully, which matters in the kernel).
    pub fn try_set_interrupt_hook<H: InterruptHook + 'static>(
        &mut self,
        hook: H,
    ) -> Result<(), Error> {
        self.interrupt = Some(crate::host::try_box_hook(hook)?);
        Ok(())
    }

    /// Fuel used by all invocations so far.
    pub fn fuel_used(&self) -> u64 {
        self.fuel_used
    }

    /// Bytes the store's objects and stacks are charged for.
    pub fn bytes_used(&self) -> usize {
        self.charged
    }

    /// How many instances the store holds, half-made ones that [`Store::collect`] has not
    /// freed yet included.
    pub fn instance_count(&self) -> usize {
        self.instances
            .items
            .iter()
            .filter(|i| i.module.is_some())
            .count()
    }

    /// Forbids (or allows again) every allocation while code runs: `memory.grow` and
    /// `table.grow` then fail (return -1) and running out of the stacks already reserved is a
    /// trap. For running in atomic context, after [`Store::reserve_stacks`].
    pub fn set_no_alloc(&mut self, no_alloc: bool) {
        self.no_alloc = no_alloc;
    }

    /// Reserves the value and frame stacks up to their limits, so that running code never
    /// allocates them.
    pub fn reserve_stacks(&mut self) -> Result<(), Error> {
        let slots = self.config.max_value_stack;
        let frames = self.config.max_call_depth;
        crate::exec::grow_stack(self, slots).map_err(|_| Error::OutOfMemory)?;
        crate::exec::grow_frames(self, frames).map_err(|_| Error::OutOfMemory)?;
        Ok(())
    }

    /// Charges `bytes` to the store's budget (and `instance`'s, if given).
    pub(crate) fn charge(
        &mut self,
        bytes: usize,
        instance: Option<&mut usize>,
    ) -> Result<(), Error> {
        let total = self.charged.saturating_add(bytes);
        if total > self.config.max_store_bytes {
            return Err(Error::Limit(message!(
                "the store's budget of {} bytes would be exceeded ({} in use, {bytes} more asked)",
                self.config.max_store_bytes,
                self.charged
            )));
        }
        if let Some(used) = instance {
            let mine = used.saturating_add(bytes);
            if mine > self.config.max_instance_bytes {
                return Err(Error::Limit(message!(
                    "the instance's budget of {} bytes would be exceeded ({} in use, {bytes} \
                     more asked)",
                    self.config.max_instance_bytes,
                    *used
                )));
            }
            *used = mine;
        }
        self.charged = total;
        Ok(())
    }

    pub(crate) fn uncharge(&mut self, bytes: usize) {
        self.charged = self.charged.saturating_sub(bytes);
    }

    /// Adds a host function of type `ty`; `f` reads [`Caller::func_data`] to tell functions
    /// sharing one implementation apart (it is 0 here, see [`Store::add_host_func_with`]).
    pub fn add_host_func(&mut self, ty: FuncType, f: HostFn<T>) -> Result<FuncAddr, Error> {
        self.add_host_func_with(ty, f, 0)
    }

    /// Adds a host function of type `ty` with `data` for [`Caller::func_data`].
    pub fn add_host_func_with(
        &mut self,
        ty: FuncType,
        f: HostFn<T>,
        data: u64,
    ) -> Result<FuncAddr, Error> {
        let type_id = self.types.intern(&ty)?;
        for (buf, n) in [
            (&mut self.host_args, ty.params().len()),
            (&mut self.host_results, ty.results().len()),
        ] {
            if buf.capacity() < n {
                buf.try_reserve_exact(n - buf.len())?;
            }
        }
        let host = u32::try_from(self.host_funcs.len()).map_err(|_| limit("host functions"))?;
        self.funcs.reserve_free()?;
        self.host_funcs.try_reserve(1)?;
        let addr = self.funcs.insert(FuncInst {
            type_id,
            kind: FuncKind::Host(host),
        })?;
        self.host_funcs.push(HostEntry { f, data });
        Ok(FuncAddr(addr))
    }

    fn new_memory(&mut self, ty: MemoryType, owner: u32, budget: &mut usize) -> Result<u32, Error> {
        let cap = self.config.max_memory_pages.min(65536);
        if ty.limits.min > cap {
            return Err(Error::Limit(message!(
                "memory of {} pages exceeds the limit of {cap}",
                ty.limits.min
            )));
        }
        let bytes = (ty.limits.min as usize)
            .checked_mul(PAGE_SIZE)
            .ok_or(Error::OutOfMemory)?;
        self.charge(bytes, Some(budget))?;
        let mut data = Vec::new();
        if data.try_reserve_exact(bytes).is_err() {
            self.uncharge(bytes);
            return Err(Error::OutOfMemory);
        }
        // Zeroing a large memory takes a while: in steps, with the interrupt hook between.
        while data.len() < bytes {
            let step = (bytes - data.len()).min(crate::exec::BULK_STEP_BYTES * 16);
            data.resize(data.len() + step, 0);
            if let Err(e) = self.interrupt_check() {
                self.uncharge(bytes);
                return Err(e);
            }
        }
        self.memories.reserve_free()?;
        self.memories.insert(MemoryInst {
            data,
            max_pages: ty.limits.max.unwrap_or(u32::MAX).min(cap),
            declared_max: ty.limits.max,
            owner,
        })
    }

    /// Adds a memory of type `ty`, zero-filled.
    pub fn add_memory(&mut self, ty: MemoryType) -> Result<MemoryAddr, Error> {
        let mut unused = 0;
        let saved = self.config.max_instance_bytes;
        self.config.max_instance_bytes = usize::MAX;
        let r = self.new_memory(ty, NONE, &mut unused);
        self.config.max_instance_bytes = saved;
        r.map(MemoryAddr)
    }

    fn new_table(
        &mut self,
        ty: TableType,
        init: u64,
        owner: u32,
        budget: &mut usize,
    ) -> Result<u32, Error> {
        let bytes = bytes_of::<u64>(ty.limits.min as usize);
        self.charge(bytes, Some(budget))?;
        let mut elements = Vec::new();
        if elements.try_reserve_exact(ty.limits.min as usize).is_err() {
            self.uncharge(bytes);
            return Err(Error::OutOfMemory);
        }
        elements.resize(ty.limits.min as usize, init);
        self.tables.reserve_free()?;
        self.tables.insert(TableInst {
            elements,
            element: ty.element,
            max: ty
                .limits
                .max
                .unwrap_or(u32::MAX)
                .min(self.config.max_table_elements),
            declared_max: ty.limits.max,
            owner,
        })
    }

    /// Adds a table of type `ty` whose elements are `init`.
    pub fn add_table(&mut self, ty: TableType, init: Value) -> Result<TableAddr, Error> {
        if init.ty() != ty.element {
            return Err(Error::Invoke("table initialiser of the wrong type".into()));
        }
        if ty.limits.min > self.config.max_table_elements {
            return Err(Error::Limit(message!(
                "table of {} elements exceeds the limit of {}",
                ty.limits.min,
                self.config.max_table_elements
            )));
        }
        let mut unused = 0;
        let saved = self.config.max_instance_bytes;
        self.config.max_instance_bytes = usize::MAX;
        let r = self.new_table(ty, init.to_slot(), NONE, &mut unused);
        self.config.max_instance_bytes = saved;
        r.map(TableAddr)
    }

    /// Adds a global of type `ty` holding `value`.
    pub fn add_global(&mut self, ty: GlobalType, value: Value) -> Result<GlobalAddr, Error> {
        if value.ty() != ty.content {
            return Err(Error::Invoke("global initialiser of the wrong type".into()));
        }
        self.globals.reserve_free()?;
        self.globals
            .insert(GlobalInst {
                value: value.to_slot(),
                ty,
                owner: NONE,
            })
            .map(GlobalAddr)
    }

    /// The type of an object of this store.
    pub fn extern_type(&self, ext: Extern) -> Result<ExternType, Error> {
        let missing = || Error::Invoke("no such object in this store".into());
        Ok(match ext {
            Extern::Func(f) => {
                ExternType::Func(self.func_type(f).ok_or_else(missing)?.try_clone()?)
            }
            Extern::Table(t) => {
                let table = self.tables.get(t.0).ok_or_else(missing)?;
                ExternType::Table(TableType {
                    element: table.element,
                    limits: Limits {
                        min: table.elements.len() as u32,
                        max: table.declared_max,
                    },
                })
            }
            Extern::Memory(m) => {
                let memory = self.memories.get(m.0).ok_or_else(missing)?;
                ExternType::Memory(MemoryType {
                    limits: Limits {
                        min: memory.pages(),
                        max: memory.declared_max,
                    },
                })
            }
            Extern::Global(g) => ExternType::Global(self.globals.get(g.0).ok_or_else(missing)?.ty),
        })
    }

    /// The current value of a global.
    pub fn global_value(&self, global: GlobalAddr) -> Option<Value> {
        let g = self.globals.get(global.0)?;
        Some(Value::from_slot(g.ty.content, g.value))
    }

    /// The contents of a memory.
    pub fn memory_data(&self, memory: MemoryAddr) -> Option<&[u8]> {
        self.memories.get(memory.0).map(|m| m.data.as_slice())
    }

    /// The contents of a memory, mutably.
    pub fn memory_data_mut(&mut self, memory: MemoryAddr) -> Option<&mut [u8]> {
        self.memories
            .get_mut(memory.0)
            .map(|m| m.data.as_mut_slice())
    }

    /// The size in pages of an instance's memory 0 (exported or not; 0 if it has none).
    pub fn instance_memory_pages(&self, instance: InstanceAddr) -> u32 {
        self.instances
            .get(instance.0)
            .map(|i| i.memory0())
            .and_then(|m| self.memories.get(m))
            .map_or(0, MemoryInst::pages)
    }

    /// The type of a function.
    pub fn func_type(&self, func: FuncAddr) -> Option<&FuncType> {
        let f = self.funcs.get(func.0)?;
        if matches!(f.kind, FuncKind::Free) {
            return None;
        }
        self.types.get(f.type_id)
    }

    fn live_instance(&self, instance: InstanceAddr) -> Option<(&InstanceInst<M>, &Module)> {
        let inst = self.instances.get(instance.0)?;
        let module = inst.module.as_deref()?;
        Some((inst, module))
    }

    /// Looks up an export of an instance (a binary search in its module's sorted exports).
    pub fn get_export(&self, instance: InstanceAddr, name: &str) -> Option<Extern> {
        let (inst, module) = self.live_instance(instance)?;
        let export = module.find_export(name)?;
        resolve_export(inst, export.kind, export.index)
    }

    /// The exports of an instance, in the module's order.
    pub fn exports(&self, instance: InstanceAddr) -> impl Iterator<Item = (&str, Extern)> {
        self.live_instance(instance)
            .into_iter()
            .flat_map(|(inst, module)| {
                module.exports.iter().filter_map(move |e| {
                    resolve_export(inst, e.kind, e.index).map(|ext| (e.name.as_str(), ext))
                })
            })
    }

    fn check_import(&self, want: &ExternType, have: Extern) -> Result<(), Error> {
        let have = self.extern_type(have)?;
        let ok = match (want, &have) {
            (ExternType::Func(w), ExternType::Func(h)) => w == h,
            (ExternType::Table(w), ExternType::Table(h)) => {
                w.element == h.element && h.limits.matches(&w.limits)
            }
            (ExternType::Memory(w), ExternType::Memory(h)) => h.limits.matches(&w.limits),
            (ExternType::Global(w), ExternType::Global(h)) => w == h,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::Link("incompatible import type".into()))
        }
    }

    /// Evaluates a constant expression in the context of instance `inst`.
    pub(crate) fn eval(&self, inst: u32, expr: ConstExpr) -> Result<u64, TrapKind> {
        let inst = self.instances.get(inst).ok_or(TrapKind::Internal)?;
        eval_in(inst, &self.globals, expr)
    }

    /// Instantiates `module`, with `imports` in the module's import order.
    ///
    /// On a trap while initialising tables and memories or in the start function, the
    /// effects already made on imported objects stay, as the specification requires; the
    /// half-made instance is then only reachable through them and freed by
    /// [`Store::collect`] once it is not. On any earlier failure nothing is left behind.
    pub fn instantiate(&mut self, module: &M, imports: &[Extern]) -> Result<InstanceAddr, Error> {
        if imports.len() != module.imports.len() {
            return Err(Error::Link(message!(
                "unknown import: {} imports given, {} expected",
                imports.len(),
                module.imports.len()
            )));
        }
        for (import, ext) in module.imports.iter().zip(imports) {
            self.check_import(&import.ty, *ext).map_err(|_| {
                Error::Link(message!(
                    "incompatible import type for {}.{}",
                    crate::error::quote(&import.module),
                    crate::error::quote(&import.name)
                ))
            })?;
        }
        self.fuel_left = self.config.fuel.unwrap_or(u64::MAX);
        // Refuse before allocating anything what cannot fit.
        let elements: u64 = module
            .tables
            .iter()
            .map(|(t, _)| u64::from(t.limits.min))
            .sum();
        if elements > u64::from(self.config.max_table_elements) {
            return Err(Error::Limit(message!(
                "tables of {elements} elements in all exceed the limit of {}",
                self.config.max_table_elements
            )));
        }
        self.instances.reserve_free()?;
        let addr = self.instances.insert(InstanceInst {
            module: Some(module.clone()),
            funcs: Vec::new(),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            type_ids: Vec::new(),
            dropped: Vec::new(),
            charged: 0,
            complete: false,
        })?;
        match self.build(addr, module, imports) {
            Ok(()) => {}
            Err(e) => {
                self.free_instance(addr);
                return Err(e);
            }
        }
        // From here on, code runs and imported objects change: a failure leaves the instance
        // for `collect`.
        if let Err(e) = self.initialize(addr, module) {
            if let Some(i) = self.instances.get_mut(addr) {
                i.complete = true;
            }
            return Err(e);
        }
        if let Some(i) = self.instances.get_mut(addr) {
            i.complete = true;
        }
        if let Some(start) = module.start {
            let func = self
                .instances
                .get(addr)
                .and_then(|i| i.funcs.get(start as usize).copied())
                .ok_or(Error::Trap(Trap::new(TrapKind::Internal)))?;
            self.invoke(FuncAddr(func), &[])?;
        }
        Ok(InstanceAddr(addr))
    }

    /// Allocates the objects of instance `addr`; changes nothing outside it.
    fn build(&mut self, addr: u32, module: &Module, imports: &[Extern]) -> Result<(), Error> {
        let mut budget = 0usize;
        // The instance's own bookkeeping.
        let n_funcs = module.func_types.len();
        let bookkeeping = bytes_of::<u32>(
            n_funcs
                + module.tables.len()
                + module.memories.len()
                + module.globals.len()
                + module.types.len(),
        ) + bytes_of::<Cell<bool>>(module.elems.len() + module.datas.len())
            + bytes_of::<FuncInst>(n_funcs)
            + bytes_of::<GlobalInst>(module.globals.len());
        self.charge(bookkeeping, Some(&mut budget))?;
        self.set_charged(addr, budget);
        let mut v = InstanceVectors::default();
        v.funcs.try_reserve_exact(n_funcs)?;
        v.tables.try_reserve_exact(module.num_tables())?;
        v.memories.try_reserve_exact(module.num_memories())?;
        v.globals.try_reserve_exact(module.num_globals())?;
        v.type_ids.try_reserve_exact(module.types.len())?;
        v.dropped
            .try_reserve_exact(module.elems.len() + module.datas.len())?;
        for ty in &module.types {
            v.type_ids.push(self.types.intern(ty)?);
        }
        for ext in imports {
            match *ext {
                Extern::Func(f) => v.funcs.push(f.0),
                Extern::Table(t) => v.tables.push(t.0),
                Extern::Memory(m) => v.memories.push(m.0),
                Extern::Global(g) => v.globals.push(g.0),
            }
        }
        // Put the vectors in place early, so that a failure below frees what was made.
        self.swap_vectors(addr, &mut v);
        let mut tick = 0u32;
        for (index, &type_index) in module
            .func_types
            .iter()
            .skip(module.num_imported_funcs as usize)
            .enumerate()
        {
            let type_id = self.type_id(addr, type_index)?;
            self.funcs.reserve_free()?;
            let f = self.funcs.insert(FuncInst {
                type_id,
                kind: FuncKind::Wasm {
                    instance: addr,
                    index: index as u32,
                },
            })?;
            self.with_instance(addr, |i| i.funcs.push(f))?;
            tick += 1;
            if tick.is_multiple_of(4096) {
                self.interrupt_check()?;
            }
        }
        for ty in &module.memories {
            let mut b = self.charged_of(addr);
            let m = self.new_memory(*ty, addr, &mut b);
            self.set_charged(addr, b);
            let m = m?;
            self.with_instance(addr, |i| i.memories.push(m))?;
        }
        for (ty, init) in &module.globals {
            let value = self.eval(addr, *init).map_err(Trap::new)?;
            self.globals.reserve_free()?;
            let g = self.globals.insert(GlobalInst {
                value,
                ty: *ty,
                owner: addr,
            })?;
            self.with_instance(addr, |i| i.globals.push(g))?;
        }
        for (ty, init) in &module.tables {
            let init = self.eval(addr, *init).map_err(Trap::new)?;
            let mut b = self.charged_of(addr);
            let t = self.new_table(*ty, init, addr, &mut b);
            self.set_charged(addr, b);
            let t = t?;
            self.with_instance(addr, |i| i.tables.push(t))?;
        }
        self.with_instance(addr, |i| {
            for seg in &module.elems {
                i.dropped
                    .push(Cell::new(matches!(seg.mode, SegmentMode::Declared)));
            }
            for _ in &module.datas {
                i.dropped.push(Cell::new(false));
            }
        })?;
        Ok(())
    }

    /// Runs the active segments of instance `addr`, in order, then drops them.
    fn initialize(&mut self, addr: u32, module: &Module) -> Result<(), Error> {
        for (i, seg) in module.elems.iter().enumerate() {
            if let SegmentMode::Active { index, offset } = seg.mode {
                let offset = self.eval(addr, offset).map_err(Trap::new)? as u32;
                let len = seg.items.len() as u32;
                crate::exec::table_init(self, addr, index, i as u32, offset, 0, len)
                    .map_err(Trap::new)?;
                self.drop_segment(addr, i);
            }
        }
        for (i, seg) in module.datas.iter().enumerate() {
            if let SegmentMode::Active { index, offset } = seg.mode {
                let offset = self.eval(addr, offset).map_err(Trap::new)? as u32;
                let len = seg.bytes.len() as u32;
                crate::exec::memory_init(self, addr, index, i as u32, offset, 0, len)
                    .map_err(Trap::new)?;
                self.drop_segment(addr, module.elems.len() + i);
            }
        }
        Ok(())
    }

    fn drop_segment(&mut self, addr: u32, i: usize) {
        if let Some(flag) = self
            .instances
            .get(addr)
            .and_then(|inst| inst.dropped.get(i))
        {
            flag.set(true);
        }
    }

    fn type_id(&self, addr: u32, type_index: u32) -> Result<u32, Error> {
        self.instances
            .get(addr)
            .and_then(|i| i.type_ids.get(type_index as usize).copied())
            .ok_or_else(|| Error::Unsupported("type index".into()))
    }

    fn with_instance<R>(
        &mut self,
        addr: u32,
        f: impl FnOnce(&mut InstanceInst<M>) -> R,
    ) -> Result<R, Error> {
        // The vectors were reserved to their final sizes in `build`, so pushes do not
        // allocate.
        let inst = self
            .instances
            .get_mut(addr)
            .ok_or(Error::Trap(Trap::new(TrapKind::Internal)))?;
        Ok(f(inst))
    }

    fn swap_vectors(&mut self, addr: u32, v: &mut InstanceVectors) {
        if let Some(i) = self.instances.get_mut(addr) {
            core::mem::swap(&mut i.funcs, &mut v.funcs);
            core::mem::swap(&mut i.tables, &mut v.tables);
            core::mem::swap(&mut i.memories, &mut v.memories);
            core::mem::swap(&mut i.globals, &mut v.globals);
            core::mem::swap(&mut i.type_ids, &mut v.type_ids);
            core::mem::swap(&mut i.dropped, &mut v.dropped);
        }
    }

    fn charged_of(&self, addr: u32) -> usize {
        self.instances.get(addr).map_or(0, |i| i.charged)
    }

    fn set_charged(&mut self, addr: u32, bytes: usize) {
        if let Some(i) = self.instances.get_mut(addr) {
            i.charged = bytes;
        }
    }

    /// Calls the interrupt hook (outside of running code).
    pub(crate) fn interrupt_check(&mut self) -> Result<(), Error> {
        if let Some(hook) = self.interrupt.as_mut() {
            hook.check().map_err(Trap::new)?;
        }
        Ok(())
    }

    /// Frees instance `addr` and every object it owns.
    fn free_instance(&mut self, addr: u32) {
        let Some(inst) = self.instances.get_mut(addr) else {
            return;
        };
        let module = inst.module.take();
        let funcs = core::mem::take(&mut inst.funcs);
        let tables = core::mem::take(&mut inst.tables);
        let memories = core::mem::take(&mut inst.memories);
        let globals = core::mem::take(&mut inst.globals);
        inst.type_ids = Vec::new();
        inst.dropped = Vec::new();
        let charged = core::mem::take(&mut inst.charged);
        inst.complete = false;
        for f in funcs {
            if let Some(func) = self.funcs.get_mut(f) {
                if matches!(func.kind, FuncKind::Wasm { instance, .. } if instance == addr) {
                    func.kind = FuncKind::Free;
                    self.funcs.release(f);
                }
            }
        }
        for t in tables {
            if let Some(table) = self.tables.get_mut(t) {
                if table.owner == addr {
                    table.elements = Vec::new();
                    table.owner = NONE;
                    self.tables.release(t);
                }
            }
        }
        for m in memories {
            if let Some(memory) = self.memories.get_mut(m) {
                if memory.owner == addr {
                    memory.data = Vec::new();
                    memory.owner = NONE;
                    self.memories.release(m);
                }
            }
        }
        for g in globals {
            if let Some(global) = self.globals.get_mut(g) {
                if global.owner == addr {
                    global.owner = NONE;
                    self.globals.release(g);
                }
            }
        }
        self.uncharge(charged);
        self.instances.release(addr);
        drop(module);
    }

    /// Frees the instances that cannot be reached from `roots` (the instances the embedder
    /// still uses): not through imports, not through references in tables and globals.
    /// Returns how many were freed. Addresses of freed objects must not be used again.
    pub fn collect(&mut self, roots: &[InstanceAddr]) -> Result<usize, Error> {
        let n = self.instances.items.len();
        let mut marked = Vec::new();
        marked.try_reserve_exact(n)?;
        marked.resize(n, false);
        let mut work: Vec<u32> = Vec::new();
        work.try_reserve_exact(n)?;
        let mark = |i: u32, marked: &mut Vec<bool>, work: &mut Vec<u32>| {
            if let Some(m) = marked.get_mut(i as usize) {
                if !*m {
                    *m = true;
                    work.push(i);
                }
            }
        };
        for r in roots {
            mark(r.0, &mut marked, &mut work);
        }
        // References held by objects the embedder made (owner NONE) are roots too.
        let mut steps = 0usize;
        for t in self.tables.items.iter().filter(|t| t.owner == NONE) {
            for &e in &t.elements {
                if let Some(owner) = self.func_owner(e) {
                    mark(owner, &mut marked, &mut work);
                }
            }
        }
        for g in self.globals.items.iter().filter(|g| g.owner == NONE) {
            if g.ty.content == ValType::FuncRef {
                if let Some(owner) = self.func_owner(g.value) {
                    mark(owner, &mut marked, &mut work);
                }
            }
        }
        while let Some(i) = work.pop() {
            let Some(inst) = self.instances.get(i) else {
                continue;
            };
            for &f in &inst.funcs {
                if let Some(FuncInst {
                    kind: FuncKind::Wasm { instance, .. },
                    ..
                }) = self.funcs.get(f)
                {
                    mark(*instance, &mut marked, &mut work);
                }
            }
            let owners = inst
                .tables
                .iter()
                .filter_map(|&t| self.tables.get(t).map(|t| t.owner))
                .chain(
                    inst.memories
                        .iter()
                        .filter_map(|&m| self.memories.get(m).map(|m| m.owner)),
                )
                .chain(
                    inst.globals
                        .iter()
                        .filter_map(|&g| self.globals.get(g).map(|g| g.owner)),
                );
            for owner in owners {
                mark(owner, &mut marked, &mut work);
            }
            for &t in &inst.tables {
                let Some(table) = self.tables.get(t) else {
                    continue;
                };
                for &e in &table.elements {
                    if let Some(owner) = self.func_owner(e) {
                        mark(owner, &mut marked, &mut work);
                    }
                }
                steps += table.elements.len();
            }
            for &g in &inst.globals {
                if let Some(global) = self.globals.get(g) {
                    if global.ty.content == ValType::FuncRef {
                        if let Some(owner) = self.func_owner(global.value) {
                            mark(owner, &mut marked, &mut work);
                        }
                    }
                }
            }
            if steps > 1 << 20 {
                steps = 0;
                if let Some(hook) = self.interrupt.as_mut() {
                    // Collection is cheap and bounded by the budget; an interrupt only
                    // yields here.
                    let _ = hook.check();
                }
            }
        }
        let mut freed = 0;
        for i in 0..n as u32 {
            let live = self.instances.get(i).is_some_and(|x| x.module.is_some());
            if live && !marked.get(i as usize).copied().unwrap_or(true) {
                self.free_instance(i);
                freed += 1;
            }
        }
        Ok(freed)
    }

    /// The instance owning the wasm function a reference slot names, if any.
    fn func_owner(&self, slot: u64) -> Option<u32> {
        let addr = u32::try_from(slot.checked_sub(1)?).ok()?;
        match self.funcs.get(addr)?.kind {
            FuncKind::Wasm { instance, .. } => Some(instance),
            _ => None,
        }
    }

    /// Calls `func` with `args` and returns its results.
    pub fn invoke(&mut self, func: FuncAddr, args: &[Value]) -> Result<Vec<Value>, Error> {
        self.invoke_with(&mut crate::host::SoftFloat, func, args)
    }

    /// As [`Store::invoke`], running float arithmetic on `float`.
    pub fn invoke_with<F: FloatUnit>(
        &mut self,
        float: &mut F,
        func: FuncAddr,
        args: &[Value],
    ) -> Result<Vec<Value>, Error> {
        let ty = self
            .func_type(func)
            .ok_or_else(|| Error::Invoke("no such function".into()))?;
        if ty.params().len() != args.len()
            || ty.params().iter().zip(args).any(|(t, a)| *t != a.ty())
        {
            return Err(Error::Invoke(message!(
                "expected {} arguments of types {:?}",
                ty.params().len(),
                ty.params()
            )));
        }
        let mut results = Vec::new();
        results.try_reserve_exact(ty.results().len())?;
        crate::exec::invoke(self, float, func.0, args, &mut results)?;
        Ok(results)
    }

    /// Calls `func` with `args`, writing its results into `results`, whose capacity must hold
    /// them: for atomic context, with [`Store::set_no_alloc`] and [`Store::reserve_stacks`],
    /// this allocates nothing. The caller checks the function's type beforehand (with
    /// [`Store::func_type`]): a mismatch is an [`TrapKind::Internal`] trap here, and so is a
    /// too small `results`, since an error message would have to be allocated.
    pub fn invoke_into(
        &mut self,
        func: FuncAddr,
        args: &[Value],
        results: &mut Vec<Value>,
    ) -> Result<(), Error> {
        self.invoke_into_with(&mut crate::host::SoftFloat, func, args, results)
    }

    /// As [`Store::invoke_into`], running float arithmetic on `float`.
    pub fn invoke_into_with<F: FloatUnit>(
        &mut self,
        float: &mut F,
        func: FuncAddr,
        args: &[Value],
        results: &mut Vec<Value>,
    ) -> Result<(), Error> {
        let internal = || Error::Trap(Trap::new(TrapKind::Internal));
        let ty = self.func_type(func).ok_or_else(internal)?;
        if ty.params().len() != args.len()
            || ty.params().iter().zip(args).any(|(t, a)| *t != a.ty())
            || results.capacity() < ty.results().len()
        {
            return Err(internal());
        }
        crate::exec::invoke(self, float, func.0, args, results)
    }

    /// Whether `trap` came from the invocation having been interrupted.
    pub fn is_interrupt(trap: &Trap) -> bool {
        trap.kind == TrapKind::Interrupted
    }
}

#[derive(Default)]
struct InstanceVectors {
    funcs: Vec<u32>,
    tables: Vec<u32>,
    memories: Vec<u32>,
    globals: Vec<u32>,
    type_ids: Vec<u32>,
    dropped: Vec<Cell<bool>>,
}

fn resolve_export<M>(inst: &InstanceInst<M>, kind: ExternKind, index: u32) -> Option<Extern> {
    let i = index as usize;
    Some(match kind {
        ExternKind::Func => Extern::Func(FuncAddr(*inst.funcs.get(i)?)),
        ExternKind::Table => Extern::Table(TableAddr(*inst.tables.get(i)?)),
        ExternKind::Memory => Extern::Memory(MemoryAddr(*inst.memories.get(i)?)),
        ExternKind::Global => Extern::Global(GlobalAddr(*inst.globals.get(i)?)),
    })
}

/// Evaluates a constant expression for instance `inst`.
pub(crate) fn eval_in<M>(
    inst: &InstanceInst<M>,
    globals: &Slab<GlobalInst>,
    expr: ConstExpr,
) -> Result<u64, TrapKind> {
    Ok(match expr {
        ConstExpr::Slot(v) => v,
        ConstExpr::RefFunc(f) => {
            u64::from(*inst.funcs.get(f as usize).ok_or(TrapKind::Internal)?) + 1
        }
        ConstExpr::GlobalGet(g) => {
            let addr = *inst.globals.get(g as usize).ok_or(TrapKind::Internal)?;
            globals.get(addr).ok_or(TrapKind::Internal)?.value
        }
    })
}

/// What host functions see of the store and the calling instance.
pub(crate) fn caller<'a, T>(
    data: &'a mut T,
    memory: Option<&'a mut MemoryInst>,
    func_data: u64,
) -> Caller<'a, T> {
    Caller {
        data,
        memory,
        func_data,
        fuel: 0,
    }
}
