// SPDX-License-Identifier: GPL-2.0

//! `--local`: the protocol served in-process by the host build of the engine.
//!
//! This is the driver's request handler written against the host engine: it decodes requests
//! and encodes replies with the same `wasm_protocol` code the kernel uses, so `--local` and
//! the kernel differ only in transport. Its state lives as long as the process, so handles
//! do not outlive one wasmctl command.
//!
//! Instances live in link groups: a group is one engine [`Store`] shared by the instances
//! that INSTANTIATE put in it (`link`), with the module names REGISTER gave their exports and,
//! once an instance imports from it, the `spectest` host module. Each instance holds its group
//! by reference count, so a group lives while any of its instances is loaded.

use std::{
    cell::RefCell,
    collections::{BTreeMap, HashMap},
    fmt::Write as _,
    rc::Rc,
};

use wasm_engine::{
    Config, Error as EngineError, Extern, ExternKind, FuncType, GlobalType, InstanceAddr, Limits,
    MemoryType, Module, Store, TableType, TrapKind,
};
use wasm_protocol::{
    Command, ExportKind, HandleKind, InstanceInfo, ListEntry, ModuleInfo, ProtoError, ReplyWriter,
    Request, Stats, Status, VersionInfo, MAX_CHUNK_LEN, MAX_MODULE_LEN, MAX_NAME_LEN,
    MAX_PAYLOAD_LEN, VERSION_FLAG_PRIVILEGED,
};

use crate::{
    error::Error,
    platform::LocalPlatform,
    spectest,
    transport::Transport,
    wire::{engine_error, engine_error_with, engine_type, from_wire, to_wire, wire_type},
    DRIVER_VERSION,
};

/// Uploads in progress at once.
const MAX_UPLOADS: usize = 16;

enum Entry {
    Upload {
        name: String,
        total: u32,
        data: Vec<u8>,
    },
    Module {
        name: String,
        size: u32,
        module: Rc<Module>,
    },
    Instance {
        name: String,
        module: u64,
        code: Rc<Module>,
        group: Rc<RefCell<Group>>,
        instance: InstanceAddr,
        calls: u64,
        fuel_used: u64,
    },
}

/// A link group: the store its instances share, and what they can import.
struct Group {
    store: Store<LocalPlatform, Rc<Module>>,
    /// The ABI's host functions made so far (`kernel`, WASI), by import.
    abi: BTreeMap<u32, wasm_engine::FuncAddr>,
    /// The arguments and environment ARGS gave instances.
    environs: HashMap<InstanceAddr, (Vec<u8>, Vec<u8>)>,
    /// Instances whose exports REGISTER made importable, by module name.
    registered: BTreeMap<String, InstanceAddr>,
    /// The exports of the `spectest` host module, once an instance has imported from it.
    spectest: Option<BTreeMap<&'static str, Extern>>,
}

impl Group {
    fn new(config: Config) -> Self {
        Self {
            store: Store::new(config, LocalPlatform::new()),
            abi: BTreeMap::new(),
            environs: HashMap::new(),
            registered: BTreeMap::new(),
            spectest: None,
        }
    }

    /// The objects `module` imports, in its import order: resolved by module name against
    /// the registered names first, then against the host modules.
    fn resolve(&mut self, module: &Module) -> Result<Vec<Extern>, EngineError> {
        let mut imports = Vec::new();
        for (from, name, _) in module.imports() {
            let found = match self.registered.get(from) {
                Some(&instance) => self.store.get_export(instance, name),
                None if wasm_abi::is_abi_module(from) => match wasm_abi::lookup(from, name) {
                    Some(id) => Some(Extern::Func(match self.abi.get(&id.key()) {
                        Some(&f) => f,
                        None => {
                            let f = wasm_abi::define(&mut self.store, id)?;
                            self.abi.insert(id.key(), f);
                            f
                        }
                    })),
                    None => None,
                },
                None if from == spectest::MODULE => self.spectest()?.get(name).copied(),
                None => None,
            };
            let Some(found) = found else {
                return Err(EngineError::Link(
                    format!("unknown import {from:?} {name:?}").into(),
                ));
            };
            imports.push(found);
        }
        Ok(imports)
    }

    /// The `spectest` host module, created in the store on first use.
    fn spectest(&mut self) -> Result<&BTreeMap<&'static str, Extern>, EngineError> {
        if self.spectest.is_none() {
            self.spectest = Some(add_spectest(&mut self.store)?);
        }
        self.spectest
            .as_ref()
            .ok_or_else(|| EngineError::Link("spectest".into()))
    }
}

/// Adds the objects of the `spectest` host module to `store`.
fn add_spectest(
    store: &mut Store<LocalPlatform, Rc<Module>>,
) -> Result<BTreeMap<&'static str, Extern>, EngineError> {
    let mut exports = BTreeMap::new();
    for (name, params) in spectest::FUNCS {
        let ty = FuncType::new(params.iter().map(|&t| engine_type(t)), [])?;
        let func = store.add_host_func(ty, |_, _, _| Ok(()))?;
        exports.insert(name, Extern::Func(func));
    }
    for (name, value) in spectest::GLOBALS {
        let value = from_wire(value).ok_or_else(|| EngineError::Link(name.to_string().into()))?;
        let ty = GlobalType {
            content: value.ty(),
            mutable: false,
        };
        exports.insert(name, Extern::Global(store.add_global(ty, value)?));
    }
    let (name, min, max) = spectest::TABLE;
    let ty = TableType {
        element: wasm_engine::ValType::FuncRef,
        limits: Limits {
            min,
            max: Some(max),
        },
    };
    let table = store.add_table(ty, wasm_engine::Value::FuncRef(None))?;
    exports.insert(name, Extern::Table(table));
    let (name, min, max) = spectest::MEMORY;
    let ty = MemoryType {
        limits: Limits {
            min,
            max: Some(max),
        },
    };
    exports.insert(name, Extern::Memory(store.add_memory(ty)?));
    Ok(exports)
}

/// The in-process driver.
pub struct Local {
    config: Config,
    next_handle: u64,
    entries: BTreeMap<u64, Entry>,
    stats: Stats,
}

impl Default for Local {
    fn default() -> Self {
        Self::new()
    }
}

impl Transport for Local {
    fn call(&mut self, request: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.handle(request))
    }
}

/// Starts a failure reply with a message.
fn fail<'b>(
    buf: &'b mut [u8],
    command: Command,
    status: Status,
    message: std::fmt::Arguments<'_>,
) -> Result<&'b [u8], ProtoError> {
    let mut w = ReplyWriter::new(buf, command.code(), status)?;
    let _ = w.write_fmt(message);
    w.finish()
}

impl Local {
    /// An empty driver with the engine's default limits.
    pub fn new() -> Self {
        Self {
            config: Config::default(),
            next_handle: 1,
            entries: BTreeMap::new(),
            stats: Stats::default(),
        }
    }

    /// Handles one request payload and returns the reply payload.
    pub fn handle(&mut self, request: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; MAX_PAYLOAD_LEN];
        match self.dispatch(request, &mut buf) {
            Ok(reply) => reply.to_vec(),
            Err(e) => {
                // Only a bug gets here: every reply fits a payload-sized buffer.
                let mut buf = vec![0u8; MAX_PAYLOAD_LEN];
                fail(
                    &mut buf,
                    Command::Version,
                    Status::Internal,
                    format_args!("encoding the reply: {e}"),
                )
                .map(<[u8]>::to_vec)
                .unwrap_or_default()
            }
        }
    }

    fn new_handle(&mut self) -> u64 {
        let handle = self.next_handle;
        self.next_handle += 1;
        handle
    }

    fn max_module_len(&self) -> u32 {
        u32::try_from(self.config.max_module_size)
            .unwrap_or(u32::MAX)
            .min(MAX_MODULE_LEN)
    }

    fn dispatch<'b>(&mut self, payload: &[u8], buf: &'b mut [u8]) -> Result<&'b [u8], ProtoError> {
        let request = match Request::decode(payload) {
            Ok(request) => request,
            Err(e) => return ReplyWriter::reject(buf, payload, &e),
        };
        // Every local caller is privileged: the engine runs in its own process.
        let command = request.command();
        match request {
            Request::Version => {
                let mut w = ReplyWriter::ok(buf, command)?;
                let mut driver = [0u16; 3];
                for (slot, part) in driver.iter_mut().zip(DRIVER_VERSION.split('.')) {
                    *slot = part.parse().unwrap_or(0);
                }
                w.version(&VersionInfo {
                    driver,
                    flags: VERSION_FLAG_PRIVILEGED,
                    max_module_len: self.max_module_len(),
                    max_chunk_len: MAX_CHUNK_LEN as u32,
                    max_memory_pages: self.config.max_memory_pages,
                    default_fuel: self.config.fuel.unwrap_or(0),
                    max_fuel: 0,
                })?;
                w.message("host engine (--local)");
                w.finish()
            }
            Request::LoadBegin { total_size, name } => {
                if total_size > self.max_module_len() {
                    self.stats.load_failures += 1;
                    return fail(
                        buf,
                        command,
                        Status::LimitExceeded,
                        format_args!(
                            "module of {total_size} bytes exceeds the limit of {}",
                            self.max_module_len()
                        ),
                    );
                }
                let uploads = self
                    .entries
                    .values()
                    .filter(|e| matches!(e, Entry::Upload { .. }))
                    .count();
                if uploads >= MAX_UPLOADS {
                    return fail(
                        buf,
                        command,
                        Status::Busy,
                        format_args!("{uploads} uploads in progress"),
                    );
                }
                let mut data = Vec::new();
                if data.try_reserve_exact(total_size as usize).is_err() {
                    return fail(buf, command, Status::OutOfMemory, format_args!(""));
                }
                let handle = self.new_handle();
                self.entries.insert(
                    handle,
                    Entry::Upload {
                        name: name.to_string(),
                        total: total_size,
                        data,
                    },
                );
                let mut w = ReplyWriter::ok(buf, command)?;
                w.upload(handle)?;
                w.finish()
            }
            Request::LoadChunk {
                handle,
                offset,
                data: chunk,
            } => {
                let Some(Entry::Upload { total, data, .. }) = self.entries.get_mut(&handle) else {
                    return self.bad_handle(buf, command, handle, "an upload");
                };
                if offset as usize != data.len() {
                    return fail(
                        buf,
                        command,
                        Status::MalformedRequest,
                        format_args!("chunk at offset {offset}, expected {}", data.len()),
                    );
                }
                if data.len() + chunk.len() > *total as usize {
                    return fail(
                        buf,
                        command,
                        Status::MalformedRequest,
                        format_args!("chunk goes past the announced {total} bytes"),
                    );
                }
                data.extend_from_slice(chunk);
                let received = data.len() as u32;
                let mut w = ReplyWriter::ok(buf, command)?;
                w.received(received)?;
                w.finish()
            }
            Request::LoadEnd { handle } => {
                let Some(Entry::Upload { total, data, .. }) = self.entries.get(&handle) else {
                    return self.bad_handle(buf, command, handle, "an upload");
                };
                if data.len() != *total as usize {
                    return fail(
                        buf,
                        command,
                        Status::MalformedRequest,
                        format_args!("upload incomplete: {} of {total} bytes", data.len()),
                    );
                }
                let Some(Entry::Upload { name, data, .. }) = self.entries.remove(&handle) else {
                    return fail(buf, command, Status::Internal, format_args!("lost upload"));
                };
                match Module::new(&self.config, &data) {
                    Ok(module) if module.exports().any(|(n, _)| n.len() > MAX_NAME_LEN) => {
                        // As the driver: export names travel in EXPORTS and INVOKE.
                        self.stats.load_failures += 1;
                        fail(
                            buf,
                            command,
                            Status::LimitExceeded,
                            format_args!(
                                "an export name exceeds the protocol's {MAX_NAME_LEN} bytes"
                            ),
                        )
                    }
                    Ok(module) => {
                        let info = ModuleInfo {
                            handle,
                            size: data.len() as u32,
                            imports: module.imports().count() as u32,
                            exports: module.exports().count() as u32,
                        };
                        self.entries.insert(
                            handle,
                            Entry::Module {
                                name,
                                size: info.size,
                                module: Rc::new(module),
                            },
                        );
                        self.stats.loads += 1;
                        let mut w = ReplyWriter::ok(buf, command)?;
                        w.module(&info)?;
                        w.finish()
                    }
                    Err(e) => {
                        self.stats.load_failures += 1;
                        engine_error(buf, command, &e)
                    }
                }
            }
            Request::Instantiate {
                module,
                fuel,
                max_memory_pages,
                link,
            } => {
                let Some(Entry::Module {
                    name, module: code, ..
                }) = self.entries.get(&module)
                else {
                    return self.bad_handle(buf, command, module, "a module");
                };
                let (name, code) = (name.clone(), Rc::clone(code));
                let group = if link == 0 {
                    let mut config = self.config.clone();
                    if fuel != 0 {
                        config.fuel = Some(fuel);
                    }
                    if max_memory_pages > self.config.max_memory_pages {
                        return fail(
                            buf,
                            command,
                            Status::LimitExceeded,
                            format_args!(
                                "{max_memory_pages} pages exceed the limit of {}",
                                self.config.max_memory_pages
                            ),
                        );
                    }
                    if max_memory_pages != 0 {
                        config.max_memory_pages = max_memory_pages;
                    }
                    Rc::new(RefCell::new(Group::new(config)))
                } else {
                    // The decoder made sure a linked instance asks for no limits of its own.
                    match self.entries.get(&link) {
                        Some(Entry::Instance { group, .. }) => Rc::clone(group),
                        _ => return self.bad_handle(buf, command, link, "an instance"),
                    }
                };
                let instantiated = {
                    let mut g = group.borrow_mut();
                    g.resolve(&code)
                        .and_then(|imports| g.store.instantiate(&code, &imports))
                };
                let instance = match instantiated {
                    Ok(instance) => instance,
                    Err(e) => {
                        if matches!(e, EngineError::Trap(_)) {
                            self.stats.traps += 1;
                        }
                        return engine_error(buf, command, &e);
                    }
                };
                let handle = self.new_handle();
                let memory_pages = memory_pages(&group.borrow().store, instance);
                self.entries.insert(
                    handle,
                    Entry::Instance {
                        name,
                        module,
                        code,
                        group,
                        instance,
                        calls: 0,
                        fuel_used: 0,
                    },
                );
                self.stats.instantiations += 1;
                let mut w = ReplyWriter::ok(buf, command)?;
                w.instance(&InstanceInfo {
                    handle,
                    module,
                    memory_pages,
                })?;
                w.finish()
            }
            Request::Invoke {
                instance,
                name,
                args,
            } => {
                let Some(Entry::Instance {
                    group,
                    instance: addr,
                    calls,
                    fuel_used: instance_fuel,
                    name: module_name,
                    ..
                }) = self.entries.get_mut(&instance)
                else {
                    return self.bad_handle(buf, command, instance, "an instance");
                };
                let group = &mut *group.borrow_mut();
                let (args_blob, env_blob) = group.environs.get(addr).cloned().unwrap_or_default();
                let store = &mut group.store;
                let platform = store.data_mut();
                platform.args = args_blob;
                platform.env = env_blob;
                platform.name = module_name.clone();
                let Some(func) = store.get_export(*addr, name).and_then(Extern::func) else {
                    return fail(
                        buf,
                        command,
                        Status::NoSuchExport,
                        format_args!("no exported function {name:?}"),
                    );
                };
                let Some(args) = args.iter().map(from_wire).collect::<Option<Vec<_>>>() else {
                    return fail(
                        buf,
                        command,
                        Status::SignatureMismatch,
                        format_args!("a non-null funcref cannot be passed"),
                    );
                };
                let before = store.fuel_used();
                let result = store.invoke(func, &args);
                let fuel_used = store.fuel_used().saturating_sub(before);
                let fault = store.data_mut().take_fault();
                *calls += 1;
                *instance_fuel += fuel_used;
                self.stats.invocations += 1;
                self.stats.fuel_used += fuel_used;
                match result {
                    Ok(results) => {
                        let mut w = ReplyWriter::ok(buf, command)?;
                        w.results(fuel_used, results.into_iter().map(to_wire))?;
                        w.finish()
                    }
                    Err(e) => {
                        let exit = matches!(&e, EngineError::Trap(t) if matches!(t.kind, TrapKind::Exit(_)));
                        if matches!(e, EngineError::Trap(_)) && !exit {
                            self.stats.traps += 1;
                        }
                        let detail = fault.as_ref().map(|f| f as &dyn std::fmt::Display);
                        engine_error_with(buf, command, &e, detail)
                    }
                }
            }
            Request::Attach { .. } | Request::AttachInfo { .. } => fail(
                buf,
                command,
                Status::Unsupported,
                format_args!("kernel events exist in the kernel only: attach without --local"),
            ),
            Request::Args {
                instance,
                args,
                env,
            } => {
                let Some(Entry::Instance {
                    group,
                    instance: addr,
                    ..
                }) = self.entries.get(&instance)
                else {
                    return self.bad_handle(buf, command, instance, "an instance");
                };
                group
                    .borrow_mut()
                    .environs
                    .insert(*addr, (args.to_vec(), env.to_vec()));
                ReplyWriter::ok(buf, command)?.finish()
            }
            Request::Unload { handle, cascade } => {
                let instances: Vec<u64> = self
                    .entries
                    .iter()
                    .filter(
                        |(_, e)| matches!(e, Entry::Instance { module, .. } if *module == handle),
                    )
                    .map(|(h, _)| *h)
                    .collect();
                match self.entries.get(&handle) {
                    None => return self.bad_handle(buf, command, handle, "a handle"),
                    Some(Entry::Module { .. }) if !instances.is_empty() && !cascade => {
                        return fail(
                            buf,
                            command,
                            Status::Busy,
                            format_args!(
                                "module {handle} has {} instance(s): unload them or cascade",
                                instances.len()
                            ),
                        )
                    }
                    Some(Entry::Upload { .. }) => self.stats.load_failures += 1,
                    Some(_) => {}
                }
                if matches!(self.entries.get(&handle), Some(Entry::Module { .. })) {
                    for instance in instances {
                        self.entries.remove(&instance);
                    }
                }
                self.entries.remove(&handle);
                ReplyWriter::ok(buf, command)?.finish()
            }
            Request::List {
                cursor,
                max_entries,
            } => {
                let mut w = ReplyWriter::ok(buf, command)?;
                let mut more = false;
                let start = cursor.saturating_add(1);
                for (count, (&handle, entry)) in self.entries.range(start..).enumerate() {
                    if (max_entries != 0 && count == usize::from(max_entries))
                        || !w.list_entry(&list_entry(handle, entry))?
                    {
                        more = true;
                        break;
                    }
                }
                w.list_end(cursor, more)?;
                w.finish()
            }
            Request::Stats => {
                let mut stats = self.stats;
                let mut groups: Vec<*const RefCell<Group>> = Vec::new();
                for entry in self.entries.values() {
                    match entry {
                        Entry::Upload { data, .. } => {
                            stats.uploads += 1;
                            stats.kernel_bytes += data.capacity() as u64;
                        }
                        Entry::Module { size, module, .. } => {
                            stats.modules += 1;
                            stats.module_bytes += u64::from(*size);
                            stats.kernel_bytes += (module.code_bytes() + *size as usize) as u64;
                        }
                        Entry::Instance {
                            group, instance, ..
                        } => {
                            stats.instances += 1;
                            stats.memory_pages +=
                                u64::from(memory_pages(&group.borrow().store, *instance));
                            // A group's store counts once, however many instances share it.
                            if !groups.contains(&Rc::as_ptr(group)) {
                                groups.push(Rc::as_ptr(group));
                                stats.kernel_bytes += group.borrow().store.bytes_used() as u64;
                            }
                        }
                    }
                }
                let mut w = ReplyWriter::ok(buf, command)?;
                w.stats(&stats)?;
                w.finish()
            }
            // The local driver lives as long as the client: everything is transient.
            Request::Transient { handle } => {
                if !self.entries.contains_key(&handle) {
                    return self.bad_handle(buf, command, handle, "a handle");
                }
                ReplyWriter::ok(buf, command)?.finish()
            }
            Request::Register { instance, name } => {
                let Some(Entry::Instance {
                    group,
                    instance: addr,
                    ..
                }) = self.entries.get(&instance)
                else {
                    return self.bad_handle(buf, command, instance, "an instance");
                };
                group
                    .borrow_mut()
                    .registered
                    .insert(name.to_string(), *addr);
                ReplyWriter::ok(buf, command)?.finish()
            }
            Request::Get { instance, name } => {
                let Some(Entry::Instance {
                    group,
                    instance: addr,
                    ..
                }) = self.entries.get(&instance)
                else {
                    return self.bad_handle(buf, command, instance, "an instance");
                };
                let group = group.borrow();
                let value = group
                    .store
                    .get_export(*addr, name)
                    .and_then(Extern::global)
                    .and_then(|global| group.store.global_value(global));
                let Some(value) = value else {
                    return fail(
                        buf,
                        command,
                        Status::NoSuchExport,
                        format_args!("no exported global {name:?}"),
                    );
                };
                let mut w = ReplyWriter::ok(buf, command)?;
                w.global(to_wire(value))?;
                w.finish()
            }
            Request::Exports { handle, cursor } => {
                let code = match self.entries.get(&handle) {
                    Some(Entry::Module { module, .. }) => Rc::clone(module),
                    Some(Entry::Instance { code, .. }) => Rc::clone(code),
                    _ => return self.bad_handle(buf, command, handle, "a module or instance"),
                };
                let mut w = ReplyWriter::ok(buf, command)?;
                let mut next = cursor;
                let mut more = false;
                for (name, kind) in code
                    .exports()
                    .skip(usize::try_from(cursor).unwrap_or(usize::MAX))
                {
                    let kind = match kind {
                        ExternKind::Func => ExportKind::Func,
                        ExternKind::Table => ExportKind::Table,
                        ExternKind::Memory => ExportKind::Memory,
                        ExternKind::Global => ExportKind::Global,
                    };
                    let (params, results) = match code.export_func_type(name) {
                        Some(ty) if kind == ExportKind::Func => (ty.params(), ty.results()),
                        _ => (&[][..], &[][..]),
                    };
                    let params = params.iter().map(|t| wire_type(*t));
                    let results = results.iter().map(|t| wire_type(*t));
                    if !w.export_entry(kind, name, params, results)? {
                        more = true;
                        break;
                    }
                    next += 1;
                }
                w.exports_end(next, more)?;
                w.finish()
            }
        }
    }

    /// The reply for a handle that does not exist or is of the wrong kind.
    fn bad_handle<'b>(
        &self,
        buf: &'b mut [u8],
        command: Command,
        handle: u64,
        wanted: &str,
    ) -> Result<&'b [u8], ProtoError> {
        match self.entries.get(&handle) {
            None => fail(
                buf,
                command,
                Status::NoSuchHandle,
                format_args!("no handle {handle} (--local handles last one command)"),
            ),
            Some(entry) => fail(
                buf,
                command,
                Status::WrongHandleKind,
                format_args!("handle {handle} is {}, not {wanted}", kind(entry).name()),
            ),
        }
    }
}

fn kind(entry: &Entry) -> HandleKind {
    match entry {
        Entry::Upload { .. } => HandleKind::Upload,
        Entry::Module { .. } => HandleKind::Module,
        Entry::Instance { .. } => HandleKind::Instance,
    }
}

/// The size of an instance's memory, exported or not, in pages.
fn memory_pages(store: &Store<LocalPlatform, Rc<Module>>, instance: InstanceAddr) -> u32 {
    store.instance_memory_pages(instance)
}

fn list_entry(handle: u64, entry: &Entry) -> ListEntry<'_> {
    let empty = ListEntry {
        handle,
        kind: kind(entry),
        parent: 0,
        calls: 0,
        fuel_used: 0,
        size: 0,
        exports: 0,
        memory_pages: 0,
        name: "",
    };
    match entry {
        Entry::Upload { name, total, data } => ListEntry {
            name,
            size: *total,
            exports: data.len() as u32,
            ..empty
        },
        Entry::Module { name, size, module } => ListEntry {
            name,
            size: *size,
            exports: module.exports().count() as u32,
            ..empty
        },
        Entry::Instance {
            name,
            module,
            code,
            group,
            instance,
            calls,
            fuel_used,
        } => ListEntry {
            name,
            parent: *module,
            calls: *calls,
            fuel_used: *fuel_used,
            exports: code.exports().count() as u32,
            memory_pages: memory_pages(&group.borrow().store, *instance),
            ..empty
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_protocol::{Reply, ReplyBody, Value, Values};

    fn call(local: &mut Local, request: Request<'_>) -> Vec<u8> {
        let mut buf = vec![0u8; MAX_PAYLOAD_LEN];
        let len = request.encode(&mut buf).unwrap();
        local.handle(&buf[..len])
    }

    fn load(local: &mut Local, wat: &str) -> Result<u64, (Status, Vec<u8>)> {
        let bytes = wat::parse_str(wat).unwrap();
        let reply = call(
            local,
            Request::LoadBegin {
                total_size: bytes.len() as u32,
                name: "test",
            },
        );
        let ReplyBody::Upload { handle } = Reply::decode(&reply).unwrap().body else {
            panic!()
        };
        call(
            local,
            Request::LoadChunk {
                handle,
                offset: 0,
                data: &bytes,
            },
        );
        let reply = call(local, Request::LoadEnd { handle });
        let decoded = Reply::decode(&reply).unwrap();
        match decoded.body {
            ReplyBody::Module(info) => Ok(info.handle),
            _ => Err((decoded.status, reply.clone())),
        }
    }

    #[test]
    fn load_instantiate_invoke_unload() {
        let mut local = Local::new();
        let module = load(
            &mut local,
            r#"(module (func (export "add") (param i32 i32) (result i32)
                local.get 0 local.get 1 i32.add))"#,
        )
        .unwrap();
        let reply = call(
            &mut local,
            Request::Instantiate {
                module,
                fuel: 0,
                max_memory_pages: 0,
                link: 0,
            },
        );
        let ReplyBody::Instance(info) = Reply::decode(&reply).unwrap().body else {
            panic!()
        };
        let args = Values::new(&[Value::I32(2), Value::I32(3)]);
        let reply = call(
            &mut local,
            Request::Invoke {
                instance: info.handle,
                name: "add",
                args: args.list(),
            },
        );
        let ReplyBody::Results { values, .. } = Reply::decode(&reply).unwrap().body else {
            panic!()
        };
        assert_eq!(values.iter().collect::<Vec<_>>(), [Value::I32(5)]);

        // Busy without cascade, gone with it.
        let reply = call(
            &mut local,
            Request::Unload {
                handle: module,
                cascade: false,
            },
        );
        assert_eq!(Reply::decode(&reply).unwrap().status, Status::Busy);
        let reply = call(
            &mut local,
            Request::Unload {
                handle: module,
                cascade: true,
            },
        );
        assert_eq!(Reply::decode(&reply).unwrap().status, Status::Ok);
        let reply = call(
            &mut local,
            Request::List {
                cursor: 0,
                max_entries: 0,
            },
        );
        let ReplyBody::List(page) = Reply::decode(&reply).unwrap().body else {
            panic!()
        };
        assert!(page.is_empty());
    }

    #[test]
    fn invalid_modules_and_garbage() {
        let mut local = Local::new();
        let (status, reply) =
            load(&mut local, r#"(module (func (result i32) i64.const 1))"#).unwrap_err();
        assert_eq!(status, Status::InvalidModule);
        assert!(matches!(
            Reply::decode(&reply).unwrap().body,
            ReplyBody::InvalidModule { offset } if offset > 8
        ));
        let reply = local.handle(b"garbage!");
        assert_eq!(
            Reply::decode(&reply).unwrap().status,
            Status::MalformedRequest
        );
        let reply = call(&mut local, Request::LoadEnd { handle: 99 });
        assert_eq!(Reply::decode(&reply).unwrap().status, Status::NoSuchHandle);
    }

    /// INSTANTIATE: the instance's handle, or the failure's status and message.
    fn instantiate(local: &mut Local, module: u64, link: u64) -> Result<u64, (Status, String)> {
        let reply = call(
            local,
            Request::Instantiate {
                module,
                fuel: 0,
                max_memory_pages: 0,
                link,
            },
        );
        let reply = Reply::decode(&reply).unwrap();
        match reply.body {
            ReplyBody::Instance(info) => Ok(info.handle),
            _ => Err((reply.status, reply.message.to_string())),
        }
    }

    fn get(local: &mut Local, instance: u64, name: &str) -> Result<Value, Status> {
        let reply = call(local, Request::Get { instance, name });
        let reply = Reply::decode(&reply).unwrap();
        match reply.body {
            ReplyBody::Global(value) => Ok(value),
            _ => Err(reply.status),
        }
    }

    fn register(local: &mut Local, instance: u64, name: &str) -> Status {
        let reply = call(local, Request::Register { instance, name });
        Reply::decode(&reply).unwrap().status
    }

    fn invoke(local: &mut Local, instance: u64, name: &str) -> Result<Vec<Value>, Status> {
        let reply = call(
            local,
            Request::Invoke {
                instance,
                name,
                args: Values::default().list(),
            },
        );
        let reply = Reply::decode(&reply).unwrap();
        match reply.body {
            ReplyBody::Results { values, .. } => Ok(values.iter().collect()),
            _ => Err(reply.status),
        }
    }

    const PROVIDER: &str = r#"(module
        (global $g (export "g") (mut i32) (i32.const 42))
        (memory (export "mem") 1)
        (func (export "inc") (global.set $g (i32.add (global.get $g) (i32.const 1))))
        (func (export "load") (result i32) (i32.load8_u (i32.const 0))))"#;

    const USER: &str = r#"(module
        (import "A" "inc" (func $inc))
        (import "A" "mem" (memory 1))
        (func (export "call") (call $inc)))"#;

    #[test]
    fn register_link_get() {
        let mut local = Local::new();
        let provider = load(&mut local, PROVIDER).unwrap();
        let user = load(&mut local, USER).unwrap();
        let a = instantiate(&mut local, provider, 0).unwrap();
        assert_eq!(get(&mut local, a, "g"), Ok(Value::I32(42)));

        // Nothing is registered yet, in this group or a new one.
        let (status, message) = instantiate(&mut local, user, a).unwrap_err();
        assert_eq!(status, Status::LinkError);
        assert!(message.starts_with("unknown import"), "{message}");
        assert_eq!(register(&mut local, a, "A"), Status::Ok);
        let (status, message) = instantiate(&mut local, user, 0).unwrap_err();
        assert_eq!(status, Status::LinkError);
        assert!(message.starts_with("unknown import"), "{message}");

        // Linked: the user calls into the provider's store.
        let b = instantiate(&mut local, user, a).unwrap();
        assert_eq!(invoke(&mut local, b, "call"), Ok(vec![]));
        assert_eq!(invoke(&mut local, b, "call"), Ok(vec![]));
        assert_eq!(get(&mut local, a, "g"), Ok(Value::I32(44)));
        // Linking to any instance of the group will do.
        let c = instantiate(&mut local, user, b).unwrap();
        assert_eq!(invoke(&mut local, c, "call"), Ok(vec![]));
        assert_eq!(get(&mut local, a, "g"), Ok(Value::I32(45)));

        // GET wants a global.
        assert_eq!(get(&mut local, a, "inc"), Err(Status::NoSuchExport));
        assert_eq!(get(&mut local, a, "nope"), Err(Status::NoSuchExport));
        assert_eq!(get(&mut local, provider, "g"), Err(Status::WrongHandleKind));
        assert_eq!(get(&mut local, 999, "g"), Err(Status::NoSuchHandle));
        assert_eq!(register(&mut local, provider, "M"), Status::WrongHandleKind);
        assert_eq!(register(&mut local, 999, "M"), Status::NoSuchHandle);
        let (status, _) = instantiate(&mut local, user, provider).unwrap_err();
        assert_eq!(status, Status::WrongHandleKind);
        let (status, _) = instantiate(&mut local, user, 999).unwrap_err();
        assert_eq!(status, Status::NoSuchHandle);

        // Imports of the wrong type.
        let wrong = load(
            &mut local,
            r#"(module (import "A" "inc" (func (param i32))))"#,
        )
        .unwrap();
        let (status, message) = instantiate(&mut local, wrong, a).unwrap_err();
        assert_eq!(status, Status::LinkError);
        assert_eq!(message, "incompatible import type for A.inc");
        let wrong = load(&mut local, r#"(module (import "A" "g" (memory 1)))"#).unwrap();
        let (status, message) = instantiate(&mut local, wrong, a).unwrap_err();
        assert_eq!(
            (status, message.as_str()),
            (Status::LinkError, "incompatible import type for A.g")
        );

        // Registering a name again replaces it: c has no "mem".
        assert_eq!(register(&mut local, c, "A"), Status::Ok);
        let (status, _) = instantiate(&mut local, user, a).unwrap_err();
        assert_eq!(status, Status::LinkError);
        assert_eq!(register(&mut local, a, "A"), Status::Ok);

        // The group outlives the instance that created it.
        unload(&mut local, a);
        assert_eq!(get(&mut local, a, "g"), Err(Status::NoSuchHandle));
        let d = instantiate(&mut local, user, b).unwrap();
        assert_eq!(invoke(&mut local, d, "call"), Ok(vec![]));
    }

    fn unload(local: &mut Local, handle: u64) {
        let reply = call(
            local,
            Request::Unload {
                handle,
                cascade: true,
            },
        );
        assert_eq!(Reply::decode(&reply).unwrap().status, Status::Ok);
    }

    #[test]
    fn spectest_is_there_for_every_group() {
        let mut local = Local::new();
        let module = load(
            &mut local,
            r#"(module
                (import "spectest" "print_i32" (func $print (param i32)))
                (import "spectest" "print_f64_f64" (func (param f64 f64)))
                (import "spectest" "global_i32" (global $i i32))
                (import "spectest" "global_f64" (global $f f64))
                (import "spectest" "table" (table 10 20 funcref))
                (import "spectest" "memory" (memory 1 2))
                (global (export "i") i32 (global.get $i))
                (global (export "f") f64 (global.get $f))
                (func (export "run") (result i32)
                    (call $print (i32.const 1))
                    (i32.add (table.size) (memory.size))))"#,
        )
        .unwrap();
        for _ in 0..2 {
            let instance = instantiate(&mut local, module, 0).unwrap();
            assert_eq!(get(&mut local, instance, "i"), Ok(Value::I32(666)));
            assert_eq!(
                get(&mut local, instance, "f"),
                Ok(Value::F64(666.6f64.to_bits()))
            );
            assert_eq!(
                invoke(&mut local, instance, "run"),
                Ok(vec![Value::I32(11)])
            );
        }
        let wrong = load(
            &mut local,
            r#"(module (import "spectest" "print_i32" (func (param i64))))"#,
        )
        .unwrap();
        assert_eq!(
            instantiate(&mut local, wrong, 0),
            Err((
                Status::LinkError,
                "incompatible import type for spectest.print_i32".to_string()
            ))
        );
        let unknown = load(&mut local, r#"(module (import "spectest" "nope" (func)))"#).unwrap();
        let (status, message) = instantiate(&mut local, unknown, 0).unwrap_err();
        assert_eq!(status, Status::LinkError);
        assert!(message.starts_with("unknown import"), "{message}");
    }

    #[test]
    fn traps_while_instantiating_keep_their_effects() {
        let mut local = Local::new();
        let provider = load(&mut local, PROVIDER).unwrap();
        let a = instantiate(&mut local, provider, 0).unwrap();
        assert_eq!(register(&mut local, a, "A"), Status::Ok);
        let trapping = load(
            &mut local,
            r#"(module
                (import "A" "mem" (memory 1))
                (data (i32.const 0) "\07")
                (func $start unreachable)
                (start $start))"#,
        )
        .unwrap();
        let (status, _) = instantiate(&mut local, trapping, a).unwrap_err();
        assert_eq!(status, Status::Trap);
        assert_eq!(invoke(&mut local, a, "load"), Ok(vec![Value::I32(7)]));
    }

    #[test]
    fn linked_instances_take_the_groups_limits() {
        let mut local = Local::new();
        let module = load(&mut local, PROVIDER).unwrap();
        let a = instantiate(&mut local, module, 0).unwrap();
        let mut request = vec![0u8; MAX_PAYLOAD_LEN];
        let len = Request::Instantiate {
            module,
            fuel: 0,
            max_memory_pages: 0,
            link: a,
        }
        .encode(&mut request)
        .unwrap();
        request.truncate(len);
        request[16] = 1; // fuel
        let reply = local.handle(&request);
        let reply = Reply::decode(&reply).unwrap();
        assert_eq!(reply.status, Status::MalformedRequest);
        assert_eq!(reply.command, Command::Instantiate.code());
    }
}
