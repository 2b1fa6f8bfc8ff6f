// SPDX-License-Identifier: GPL-2.0

//! The store: every runtime object (functions, tables, memories, globals, segments) of the
//! instances created in it, and instantiation.

use crate::config::Config;
use crate::error::{Error, Trap, TrapKind};
use crate::host::{HostFunc, InterruptHook};
use crate::ir::{FuncCode, Op};
use crate::module::{ConstExpr, ExternKind, Module, SegmentMode};
use crate::value::{
    ExternType, FuncType, GlobalType, Limits, MemoryType, TableType, ValType, Value,
};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

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

/// No memory: functions of instances without one.
pub(crate) const NO_MEMORY: u32 = u32::MAX;

pub(crate) enum FuncKind {
    /// Wasm code: index into [`Store::code`] and the instance's memory 0.
    Wasm { code: u32, memory: u32 },
    /// Index into [`Store::host_funcs`].
    Host(u32),
}

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
}

/// A linear memory.
pub struct MemoryInst {
    pub(crate) data: Vec<u8>,
    /// Effective maximum in pages: the type's, capped by the configuration.
    pub(crate) max_pages: u32,
    pub(crate) declared_max: Option<u32>,
}

impl MemoryInst {
    /// Current size in pages.
    pub(crate) fn pages(&self) -> u32 {
        (self.data.len() / PAGE_SIZE) as u32
    }

    /// Grows by `delta` pages; returns the old size, or `None` (for -1) when the limit is
    /// reached or memory cannot be allocated.
    pub(crate) fn grow(&mut self, delta: u32) -> Option<u32> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        let bytes = (delta as usize).checked_mul(PAGE_SIZE)?;
        self.data.try_reserve_exact(bytes).ok()?;
        self.data.resize(self.data.len() + bytes, 0);
        Some(old)
    }
}

pub(crate) struct GlobalInst {
    pub(crate) value: u64,
    pub(crate) ty: GlobalType,
}

struct InstanceInst {
    funcs: Vec<u32>,
    tables: Vec<u32>,
    memories: Vec<u32>,
    globals: Vec<u32>,
    elems: Vec<u32>,
    datas: Vec<u32>,
    exports: Vec<(String, Extern)>,
}

/// A saved caller frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub(crate) func: u32,
    pub(crate) code: u32,
    pub(crate) pc: u32,
    pub(crate) fp: u32,
    pub(crate) memory: u32,
}

/// All runtime objects of a set of linked instances, plus the embedder's data `T`.
pub struct Store<T> {
    pub(crate) config: Config,
    /// Interned function types; `type_id`s index it.
    pub(crate) types: Vec<FuncType>,
    pub(crate) funcs: Vec<FuncInst>,
    pub(crate) code: Vec<FuncCode>,
    pub(crate) host_funcs: Vec<Box<HostFunc<T>>>,
    pub(crate) tables: Vec<TableInst>,
    pub(crate) memories: Vec<MemoryInst>,
    pub(crate) globals: Vec<GlobalInst>,
    /// Element segments as encoded references; emptied by `elem.drop`.
    pub(crate) elems: Vec<Vec<u64>>,
    /// Data segments; emptied by `data.drop`.
    pub(crate) datas: Vec<Vec<u8>>,
    instances: Vec<InstanceInst>,
    pub(crate) data: T,
    /// The value stack, reused across invocations; grows on demand up to the limit.
    pub(crate) stack: Vec<u64>,
    /// Caller frames, reused across invocations.
    pub(crate) frames: Vec<Frame>,
    pub(crate) interrupt: Option<Box<dyn InterruptHook>>,
    /// Fuel left in the running invocation.
    pub(crate) fuel: Option<u64>,
    /// Fuel (calls and loop iterations) used by all invocations so far.
    pub(crate) fuel_used: u64,
}

fn push<T>(v: &mut Vec<T>, item: T) -> Result<u32, Error> {
    let index = u32::try_from(v.len()).map_err(|_| Error::Limit("too many objects".into()))?;
    v.try_reserve(1)?;
    v.push(item);
    Ok(index)
}

fn index(v: &[u32], i: u32) -> Result<u32, Error> {
    v.get(i as usize)
        .copied()
        .ok_or_else(|| Error::Unsupported(format!("index {i} out of range")))
}

impl<T: 'static> Store<T> {
    /// An empty store.
    pub fn new(config: Config, data: T) -> Self {
        Self {
            config,
            types: Vec::new(),
            funcs: Vec::new(),
            code: Vec::new(),
            host_funcs: Vec::new(),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            elems: Vec::new(),
            datas: Vec::new(),
            instances: Vec::new(),
            data,
            stack: Vec::new(),
            frames: Vec::new(),
            interrupt: None,
            fuel: None,
            fuel_used: 0,
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

    /// Fuel (calls and loop iterations) used by all invocations so far.
    pub fn fuel_used(&self) -> u64 {
        self.fuel_used
    }

    fn intern(&mut self, ty: &FuncType) -> Result<u32, Error> {
        if let Some(i) = self.types.iter().position(|t| t == ty) {
            return Ok(i as u32);
        }
        push(&mut self.types, ty.try_clone()?)
    }

    /// Adds a host function of type `ty`.
    pub fn add_host_func<F>(&mut self, ty: FuncType, f: F) -> Result<FuncAddr, Error>
    where
        F: Fn(&mut crate::host::Caller<'_, T>, &[Value], &mut [Value]) -> Result<(), Trap>
            + Send
            + Sync
            + 'static,
    {
        let type_id = self.intern(&ty)?;
        let host = push(&mut self.host_funcs, Box::new(f))?;
        let addr = push(
            &mut self.funcs,
            FuncInst {
                type_id,
                kind: FuncKind::Host(host),
            },
        )?;
        Ok(FuncAddr(addr))
    }

    fn new_memory(&mut self, ty: MemoryType) -> Result<u32, Error> {
        let cap = self.config.max_memory_pages.min(65536);
        if ty.limits.min > cap {
            return Err(Error::Limit(format!(
                "memory of {} pages exceeds the limit of {cap}",
                ty.limits.min
            )));
        }
        let bytes = (ty.limits.min as usize)
            .checked_mul(PAGE_SIZE)
            .ok_or(Error::OutOfMemory)?;
        let mut data = Vec::new();
        data.try_reserve_exact(bytes)?;
        data.resize(bytes, 0);
        push(
            &mut self.memories,
            MemoryInst {
                data,
                max_pages: ty.limits.max.unwrap_or(u32::MAX).min(cap),
                declared_max: ty.limits.max,
            },
        )
    }

    /// Adds a memory of type `ty`, zero-filled.
    pub fn add_memory(&mut self, ty: MemoryType) -> Result<MemoryAddr, Error> {
        self.new_memory(ty).map(MemoryAddr)
    }

    fn new_table(&mut self, ty: TableType, init: u64) -> Result<u32, Error> {
        let cap = self.config.max_table_elements;
        if ty.limits.min > cap {
            return Err(Error::Limit(format!(
                "table of {} elements exceeds the limit of {cap}",
                ty.limits.min
            )));
        }
        let mut elements = Vec::new();
        elements.try_reserve_exact(ty.limits.min as usize)?;
        elements.resize(ty.limits.min as usize, init);
        push(
            &mut self.tables,
            TableInst {
                elements,
                element: ty.element,
                max: ty.limits.max.unwrap_or(u32::MAX).min(cap),
                declared_max: ty.limits.max,
            },
        )
    }

    /// Adds a table of type `ty` whose elements are `init`.
    pub fn add_table(&mut self, ty: TableType, init: Value) -> Result<TableAddr, Error> {
        if init.ty() != ty.element {
            return Err(Error::Invoke("table initialiser of the wrong type".into()));
        }
        self.new_table(ty, init.to_slot()).map(TableAddr)
    }

    /// Adds a global of type `ty` holding `value`.
    pub fn add_global(&mut self, ty: GlobalType, value: Value) -> Result<GlobalAddr, Error> {
        if value.ty() != ty.content {
            return Err(Error::Invoke("global initialiser of the wrong type".into()));
        }
        push(
            &mut self.globals,
            GlobalInst {
                value: value.to_slot(),
                ty,
            },
        )
        .map(GlobalAddr)
    }

    /// The type of an object of this store.
    pub fn extern_type(&self, ext: Extern) -> Result<ExternType, Error> {
        let missing = || Error::Invoke("no such object in this store".into());
        Ok(match ext {
            Extern::Func(f) => {
                let func = self.funcs.get(f.0 as usize).ok_or_else(missing)?;
                let ty = self.types.get(func.type_id as usize).ok_or_else(missing)?;
                ExternType::Func(ty.try_clone()?)
            }
            Extern::Table(t) => {
                let table = self.tables.get(t.0 as usize).ok_or_else(missing)?;
                ExternType::Table(TableType {
                    element: table.element,
                    limits: Limits {
                        min: table.elements.len() as u32,
                        max: table.declared_max,
                    },
                })
            }
            Extern::Memory(m) => {
                let memory = self.memories.get(m.0 as usize).ok_or_else(missing)?;
                ExternType::Memory(MemoryType {
                    limits: Limits {
                        min: memory.pages(),
                        max: memory.declared_max,
                    },
                })
            }
            Extern::Global(g) => {
                ExternType::Global(self.globals.get(g.0 as usize).ok_or_else(missing)?.ty)
            }
        })
    }

    /// The current value of a global.
    pub fn global_value(&self, global: GlobalAddr) -> Option<Value> {
        let g = self.globals.get(global.0 as usize)?;
        Some(Value::from_slot(g.ty.content, g.value))
    }

    /// The contents of a memory.
    pub fn memory_data(&self, memory: MemoryAddr) -> Option<&[u8]> {
        self.memories
            .get(memory.0 as usize)
            .map(|m| m.data.as_slice())
    }

    /// The contents of a memory, mutably.
    pub fn memory_data_mut(&mut self, memory: MemoryAddr) -> Option<&mut [u8]> {
        self.memories
            .get_mut(memory.0 as usize)
            .map(|m| m.data.as_mut_slice())
    }

    /// The type of a function.
    pub fn func_type(&self, func: FuncAddr) -> Option<&FuncType> {
        let f = self.funcs.get(func.0 as usize)?;
        self.types.get(f.type_id as usize)
    }

    /// Looks up an export of an instance.
    pub fn get_export(&self, instance: InstanceAddr, name: &str) -> Option<Extern> {
        self.instances
            .get(instance.0 as usize)?
            .exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| *e)
    }

    /// The exports of an instance.
    pub fn exports(&self, instance: InstanceAddr) -> impl Iterator<Item = (&str, Extern)> {
        self.instances
            .get(instance.0 as usize)
            .into_iter()
            .flat_map(|i| i.exports.iter().map(|(n, e)| (n.as_str(), *e)))
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

    fn eval(&self, inst: &InstanceInst, expr: ConstExpr) -> Result<u64, Error> {
        Ok(match expr {
            ConstExpr::Slot(v) => v,
            ConstExpr::RefFunc(f) => u64::from(index(&inst.funcs, f)?) + 1,
            ConstExpr::GlobalGet(g) => {
                let addr = index(&inst.globals, g)?;
                self.globals
                    .get(addr as usize)
                    .map(|g| g.value)
                    .ok_or_else(|| Error::Unsupported("global address".into()))?
            }
        })
    }

    /// Instantiates `module`, with `imports` in the module's import order.
    ///
    /// On a trap while initialising tables and memories or in the start function, the
    /// effects already made on imported objects stay, as the specification requires.
    pub fn instantiate(
        &mut self,
        module: &Module,
        imports: &[Extern],
    ) -> Result<InstanceAddr, Error> {
        if imports.len() != module.imports.len() {
            return Err(Error::Link(format!(
                "unknown import: {} imports given, {} expected",
                imports.len(),
                module.imports.len()
            )));
        }
        let mut inst = InstanceInst {
            funcs: Vec::new(),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            elems: Vec::new(),
            datas: Vec::new(),
            exports: Vec::new(),
        };
        for (import, ext) in module.imports.iter().zip(imports) {
            self.check_import(&import.ty, *ext)?;
            match *ext {
                Extern::Func(f) => push(&mut inst.funcs, f.0)?,
                Extern::Table(t) => push(&mut inst.tables, t.0)?,
                Extern::Memory(m) => push(&mut inst.memories, m.0)?,
                Extern::Global(g) => push(&mut inst.globals, g.0)?,
            };
        }
        for ty in &module.memories {
            let addr = self.new_memory(*ty)?;
            push(&mut inst.memories, addr)?;
        }
        let memory = inst.memories.first().copied().unwrap_or(NO_MEMORY);
        let code_base = self.code.len();
        for (i, code) in module.code.iter().enumerate() {
            let type_index = index(&module.func_types, code.func_index)?;
            let ty = module
                .types
                .get(type_index as usize)
                .ok_or_else(|| Error::Unsupported("type index".into()))?;
            let type_id = self.intern(ty)?;
            let code = u32::try_from(code_base + i).map_err(|_| Error::Limit("code".into()))?;
            let addr = push(
                &mut self.funcs,
                FuncInst {
                    type_id,
                    kind: FuncKind::Wasm { code, memory },
                },
            )?;
            push(&mut inst.funcs, addr)?;
        }
        for (ty, init) in &module.globals {
            let value = self.eval(&inst, *init)?;
            let addr = push(&mut self.globals, GlobalInst { value, ty: *ty })?;
            push(&mut inst.globals, addr)?;
        }
        for (ty, init) in &module.tables {
            let init = self.eval(&inst, *init)?;
            let addr = self.new_table(*ty, init)?;
            push(&mut inst.tables, addr)?;
        }
        for segment in &module.elems {
            let mut items = Vec::new();
            items.try_reserve_exact(segment.items.len())?;
            for item in &segment.items {
                items.push(self.eval(&inst, *item)?);
            }
            let addr = push(&mut self.elems, items)?;
            push(&mut inst.elems, addr)?;
        }
        for segment in &module.datas {
            let mut bytes = Vec::new();
            bytes.try_reserve_exact(segment.bytes.len())?;
            bytes.extend_from_slice(&segment.bytes);
            let addr = push(&mut self.datas, bytes)?;
            push(&mut inst.datas, addr)?;
        }
        for export in &module.exports {
            let ext = match export.kind {
                ExternKind::Func => Extern::Func(FuncAddr(index(&inst.funcs, export.index)?)),
                ExternKind::Table => Extern::Table(TableAddr(index(&inst.tables, export.index)?)),
                ExternKind::Memory => {
                    Extern::Memory(MemoryAddr(index(&inst.memories, export.index)?))
                }
                ExternKind::Global => {
                    Extern::Global(GlobalAddr(index(&inst.globals, export.index)?))
                }
            };
            let mut name = String::new();
            name.try_reserve_exact(export.name.len())?;
            name.push_str(&export.name);
            push(&mut inst.exports, (name, ext))?;
        }
        for code in &module.code {
            let relocated = self.relocate(module, &inst, code)?;
            push(&mut self.code, relocated)?;
        }
        let start = match module.start {
            Some(f) => Some(index(&inst.funcs, f)?),
            None => None,
        };
        let elem_addrs: Vec<u32> = clone_u32s(&inst.elems)?;
        let table_addrs: Vec<u32> = clone_u32s(&inst.tables)?;
        let data_addrs: Vec<u32> = clone_u32s(&inst.datas)?;
        let memory_addrs: Vec<u32> = clone_u32s(&inst.memories)?;
        let addr = push(&mut self.instances, inst)?;
        let inst_ref = self
            .instances
            .get(addr as usize)
            .ok_or(Error::OutOfMemory)?;
        let mut actions = Vec::new();
        for (i, segment) in module.elems.iter().enumerate() {
            let elem = index(&elem_addrs, i as u32)?;
            match segment.mode {
                SegmentMode::Active { index: t, offset } => {
                    let offset = self.eval(inst_ref, offset)?;
                    actions.try_reserve(1)?;
                    actions.push((true, index(&table_addrs, t)?, elem, offset as u32));
                }
                SegmentMode::Declared => {
                    actions.try_reserve(1)?;
                    actions.push((true, u32::MAX, elem, 0));
                }
                SegmentMode::Passive => {}
            }
        }
        for (i, segment) in module.datas.iter().enumerate() {
            if let SegmentMode::Active { index: m, offset } = segment.mode {
                let data = index(&data_addrs, i as u32)?;
                let offset = self.eval(inst_ref, offset)?;
                actions.try_reserve(1)?;
                actions.push((false, index(&memory_addrs, m)?, data, offset as u32));
            }
        }
        for (is_elem, target, segment, offset) in actions {
            if is_elem {
                if target != u32::MAX {
                    let len = self.elems.get(segment as usize).map_or(0, |e| e.len()) as u32;
                    crate::exec::table_init(self, target, segment, offset, 0, len)
                        .map_err(|k| Error::Trap(Trap::new(k)))?;
                }
                if let Some(e) = self.elems.get_mut(segment as usize) {
                    *e = Vec::new();
                }
            } else {
                let len = self.datas.get(segment as usize).map_or(0, |d| d.len()) as u32;
                crate::exec::memory_init(self, target, segment, offset, 0, len)
                    .map_err(|k| Error::Trap(Trap::new(k)))?;
                if let Some(d) = self.datas.get_mut(segment as usize) {
                    *d = Vec::new();
                }
            }
        }
        if let Some(start) = start {
            self.invoke(FuncAddr(start), &[])?;
        }
        Ok(InstanceAddr(addr))
    }

    /// Copies a function's code into the store, rewriting module indices into store
    /// addresses.
    fn relocate(
        &mut self,
        module: &Module,
        inst: &InstanceInst,
        code: &FuncCode,
    ) -> Result<FuncCode, Error> {
        let mut ops = Vec::new();
        ops.try_reserve_exact(code.ops.len())?;
        for op in &code.ops {
            let op = match *op {
                Op::Call { func } => Op::Call {
                    func: index(&inst.funcs, func)?,
                },
                Op::CallIndirect { type_id, table } => {
                    let ty = module
                        .types
                        .get(type_id as usize)
                        .ok_or_else(|| Error::Unsupported("type index".into()))?;
                    Op::CallIndirect {
                        type_id: self.intern(ty)?,
                        table: index(&inst.tables, table)?,
                    }
                }
                Op::GlobalGet(g) => Op::GlobalGet(index(&inst.globals, g)?),
                Op::GlobalSet(g) => Op::GlobalSet(index(&inst.globals, g)?),
                Op::TableGet(t) => Op::TableGet(index(&inst.tables, t)?),
                Op::TableSet(t) => Op::TableSet(index(&inst.tables, t)?),
                Op::TableSize(t) => Op::TableSize(index(&inst.tables, t)?),
                Op::TableGrow(t) => Op::TableGrow(index(&inst.tables, t)?),
                Op::TableFill(t) => Op::TableFill(index(&inst.tables, t)?),
                Op::TableCopy { dst, src } => Op::TableCopy {
                    dst: index(&inst.tables, dst)?,
                    src: index(&inst.tables, src)?,
                },
                Op::TableInit { table, elem } => Op::TableInit {
                    table: index(&inst.tables, table)?,
                    elem: index(&inst.elems, elem)?,
                },
                Op::ElemDrop(e) => Op::ElemDrop(index(&inst.elems, e)?),
                Op::MemoryInit(d) => Op::MemoryInit(index(&inst.datas, d)?),
                Op::DataDrop(d) => Op::DataDrop(index(&inst.datas, d)?),
                Op::RefFunc(f) => Op::RefFunc(index(&inst.funcs, f)?),
                other => other,
            };
            ops.push(op);
        }
        let mut offsets = Vec::new();
        offsets.try_reserve_exact(code.offsets.len())?;
        offsets.extend_from_slice(&code.offsets);
        Ok(FuncCode {
            ops,
            offsets,
            func_index: code.func_index,
            num_params: code.num_params,
            num_locals: code.num_locals,
            num_results: code.num_results,
            max_height: code.max_height,
        })
    }

    /// Calls `func` with `args` and returns its results.
    pub fn invoke(&mut self, func: FuncAddr, args: &[Value]) -> Result<Vec<Value>, Error> {
        let ty = self
            .func_type(func)
            .ok_or_else(|| Error::Invoke("no such function".into()))?;
        if ty.params().len() != args.len()
            || ty.params().iter().zip(args).any(|(t, a)| *t != a.ty())
        {
            return Err(Error::Invoke(format!(
                "expected {} arguments of types {:?}",
                ty.params().len(),
                ty.params()
            )));
        }
        let mut result_types = Vec::new();
        result_types.try_reserve_exact(ty.results().len())?;
        result_types.extend_from_slice(ty.results());
        let slots = crate::exec::invoke(self, func.0, args)?;
        let mut results = Vec::new();
        results.try_reserve_exact(result_types.len())?;
        for (ty, slot) in result_types.iter().zip(slots) {
            results.push(Value::from_slot(*ty, slot));
        }
        Ok(results)
    }

    /// Whether `trap` came from the invocation having been interrupted.
    pub fn is_interrupt(trap: &Trap) -> bool {
        trap.kind == TrapKind::Interrupted
    }
}

fn clone_u32s(v: &[u32]) -> Result<Vec<u32>, Error> {
    let mut out = Vec::new();
    out.try_reserve_exact(v.len())?;
    out.extend_from_slice(v);
    Ok(out)
}
