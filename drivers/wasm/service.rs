// SPDX-License-Identifier: GPL-2.0

//! The connector service: the registry of uploads, modules and instances, and the handler
//! of the protocol defined in [`crate::protocol`].
//!
//! Concurrency: the registry is one mutex-protected table of handles, held only to look
//! entries up and change the table, never while wasm runs. Modules and instances are
//! reference counted, so unloading one while another client invokes it only drops the
//! table's reference; the invocation finishes on its own. The instances that link to each
//! other share a [`Group`] (one engine store), whose mutex serialises their invocations.

use crate::host::{KernelHook, Spectest, SPECTEST};
use crate::protocol::{
    Command, ExportKind, HandleKind, InstanceInfo, ListEntry, ModuleInfo, ProtoError, ReplyWriter,
    Request, Stats, Status, VersionInfo, MAX_CHUNK_LEN, MAX_MODULE_LEN, MAX_PAYLOAD_LEN,
    VERSION_FLAG_PRIVILEGED,
};
use crate::wire::{engine_error, from_wire, to_wire, wire_type};
use core::fmt::Write;
use kernel::{
    alloc::AllocError,
    capability::Capability,
    connector::{self, Handler, Message, Sender},
    new_mutex,
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, Mutex,
    },
    time::{Instant, Monotonic},
};
use wasm_engine::{Config, Error as EngineError, Extern, ExternKind, InstanceAddr, Module, Store};

/// Limits of the service, from the module parameters.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    /// Largest module accepted, in bytes.
    pub(crate) max_module_len: u32,
    /// Largest linear memory of an instance, in 64 KiB pages.
    pub(crate) max_memory_pages: u32,
    /// Fuel of an invocation when INSTANTIATE asks for the default; 0 for unlimited.
    pub(crate) default_fuel: u64,
    /// Most handles (uploads, modules and instances) at once.
    pub(crate) max_handles: usize,
}

/// Uploads in progress at once; an upload idle for [`UPLOAD_IDLE_MS`] is dropped when a new
/// one needs its place (its client died or gave up).
const MAX_UPLOADS: usize = 16;
const UPLOAD_IDLE_MS: i64 = 30_000;

struct Upload {
    name: KVec<u8>,
    total: u32,
    data: KVVec<u8>,
    last_activity: Instant<Monotonic>,
}

struct LoadedModule {
    name: KVec<u8>,
    size: u32,
    module: Module,
}

/// A shared handle to a loaded module: what the engine's stores keep of it, so that every
/// instance of a module runs the same translated code.
#[derive(Clone)]
struct ModuleHandle(Arc<LoadedModule>);

impl core::ops::Deref for ModuleHandle {
    type Target = Module;

    fn deref(&self) -> &Module {
        &self.0.module
    }
}

/// Instances linked to each other: one engine store.
#[pin_data]
struct Group {
    #[pin]
    state: Mutex<GroupState>,
}

struct GroupState {
    store: Store<(), ModuleHandle>,
    /// Names under which instances of the group are importable (REGISTER).
    registered: KVec<(KVec<u8>, InstanceAddr)>,
    spectest: Option<Spectest>,
}

struct LoadedInstance {
    module: u64,
    code: Arc<LoadedModule>,
    group: Arc<Group>,
    addr: InstanceAddr,
    /// Fuel of each invocation, `None` for unlimited.
    fuel: Option<u64>,
    calls: Atomic<u64>,
    fuel_used: Atomic<u64>,
    memory_pages: Atomic<u32>,
}

enum Entry {
    Upload(Upload),
    Module(Arc<LoadedModule>),
    Instance(Arc<LoadedInstance>),
}

struct Registry {
    next_handle: u64,
    /// Sorted by handle: handles only grow and are appended.
    entries: KVec<(u64, Entry)>,
    /// Handles tied to a client's socket (TRANSIENT), with its port id.
    transient: KVec<(u64, u32)>,
    stats: Stats,
}

impl Registry {
    fn find(&self, handle: u64) -> Option<&Entry> {
        let i = self
            .entries
            .binary_search_by_key(&handle, |(h, _)| *h)
            .ok()?;
        self.entries.get(i).map(|(_, e)| e)
    }

    fn find_mut(&mut self, handle: u64) -> Option<&mut Entry> {
        let i = self
            .entries
            .binary_search_by_key(&handle, |(h, _)| *h)
            .ok()?;
        self.entries.get_mut(i).map(|(_, e)| e)
    }

    fn remove(&mut self, handle: u64) -> Option<Entry> {
        let i = self
            .entries
            .binary_search_by_key(&handle, |(h, _)| *h)
            .ok()?;
        self.transient.retain(|(h, _)| *h != handle);
        self.entries.remove(i).ok().map(|(_, e)| e)
    }

    /// Removes `handle` and, for a module, its instances, moving them to `dropped` so that
    /// the caller frees them after releasing the lock.
    fn remove_cascade(&mut self, handle: u64, dropped: &mut KVec<Entry>) -> Result<(), AllocError> {
        let instances = self
            .entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Instance(i) if i.module == handle))
            .count();
        dropped.reserve(instances + 1, GFP_KERNEL)?;
        if matches!(self.find(handle), Some(Entry::Module(_))) {
            let mut i = 0;
            while let Some((h, entry)) = self.entries.get(i) {
                if matches!(entry, Entry::Instance(inst) if inst.module == handle) {
                    let h = *h;
                    self.transient.retain(|(t, _)| *t != h);
                    if let Ok((_, e)) = self.entries.remove(i) {
                        dropped.push(e, GFP_KERNEL)?;
                    }
                } else {
                    i += 1;
                }
            }
        }
        if let Some(e) = self.remove(handle) {
            dropped.push(e, GFP_KERNEL)?;
        }
        Ok(())
    }

    fn insert(&mut self, entry: Entry) -> Result<u64> {
        let handle = self.next_handle;
        self.entries.push((handle, entry), GFP_KERNEL)?;
        self.next_handle += 1;
        Ok(handle)
    }
}

/// The registry, shared by the connector handler and the socket release notifier.
#[pin_data]
pub(crate) struct Shared {
    #[pin]
    registry: Mutex<Registry>,
}

/// The connector handler of the runtime.
pub(crate) struct Service {
    shared: Arc<Shared>,
    limits: Limits,
    config: Config,
}

/// Unloads what a client made transient when its socket closes.
pub(crate) struct Reaper {
    shared: Arc<Shared>,
}

impl connector::ReleaseHandler for Reaper {
    fn released(&self, port_id: u32) {
        let mut dropped = KVec::new();
        {
            let mut registry = self.shared.registry.lock();
            while let Some(&(handle, _)) = registry.transient.iter().find(|(_, p)| *p == port_id) {
                if registry.find(handle).is_none() {
                    registry.transient.retain(|(h, _)| *h != handle);
                    continue;
                }
                if registry.remove_cascade(handle, &mut dropped).is_err() {
                    // Out of memory for the list of what to free: free it under the lock.
                    drop(registry.remove(handle));
                }
            }
        }
        drop(dropped);
    }
}

/// Why a request failed: a status and a message.
struct Failure {
    status: Status,
    message: &'static str,
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        if err == ENOMEM {
            fail(Status::OutOfMemory, "out of memory")
        } else {
            fail(Status::Internal, "internal error")
        }
    }
}

impl From<ProtoError> for Failure {
    fn from(_: ProtoError) -> Self {
        // Every reply fits a payload-sized buffer: only a bug gets here.
        fail(Status::Internal, "cannot encode the reply")
    }
}

impl From<AllocError> for Failure {
    fn from(_: AllocError) -> Self {
        fail(Status::OutOfMemory, "out of memory")
    }
}

const fn fail(status: Status, message: &'static str) -> Failure {
    Failure { status, message }
}

fn name_str(name: &[u8]) -> &str {
    // Names were checked as UTF-8 when decoded; a non-UTF-8 one cannot be stored.
    core::str::from_utf8(name).unwrap_or("?")
}

fn copy_name(name: &str) -> Result<KVec<u8>, AllocError> {
    let mut out = KVec::with_capacity(name.len(), GFP_KERNEL)?;
    out.extend_from_slice(name.as_bytes(), GFP_KERNEL)?;
    Ok(out)
}

impl Service {
    /// Creates the service with `limits`, and the reaper that cleans up after its clients.
    pub(crate) fn new(limits: Limits) -> Result<(Self, Reaper)> {
        let shared = Arc::pin_init(
            pin_init!(Shared {
                registry <- new_mutex!(Registry {
                    next_handle: 1,
                    entries: KVec::new(),
                    transient: KVec::new(),
                    stats: Stats::default(),
                }),
            }),
            GFP_KERNEL,
        )?;
        let reaper = Reaper {
            shared: shared.clone(),
        };
        let config = Config {
            max_memory_pages: limits.max_memory_pages,
            max_module_size: limits.max_module_len as usize,
            ..Config::default()
        };
        Ok((
            Self {
                shared,
                limits,
                config,
            },
            reaper,
        ))
    }

    fn handle<'b>(
        &self,
        payload: &[u8],
        sender: &Sender<'_>,
        buf: &'b mut [u8],
    ) -> core::result::Result<&'b [u8], ProtoError> {
        let command = match crate::protocol::peek_command(payload) {
            Ok(command) => command,
            Err(err) => return ReplyWriter::reject(buf, payload, &err),
        };
        let privileged = sender.capable(Capability::SYS_ADMIN);
        if command.needs_privilege() && !privileged {
            self.shared.registry.lock().stats.denied += 1;
            let mut w = ReplyWriter::new(buf, command.code(), Status::PermissionDenied)?;
            let _ = write!(
                w,
                "{} needs CAP_SYS_ADMIN in the initial user namespace",
                command.name()
            );
            return w.finish();
        }
        let request = match Request::decode(payload) {
            Ok(request) => request,
            Err(err) => return ReplyWriter::reject(buf, payload, &err),
        };
        match self.dispatch(request, privileged, sender.port_id(), buf) {
            Ok(len) => buf.get(..len).ok_or(ProtoError::BufferTooSmall),
            Err(Failure { status, message }) => {
                let mut w = ReplyWriter::new(buf, command.code(), status)?;
                w.message(message);
                w.finish()
            }
        }
    }

    /// Runs `request`, writing its reply into `buf`.
    fn dispatch(
        &self,
        request: Request<'_>,
        privileged: bool,
        port_id: u32,
        buf: &mut [u8],
    ) -> Outcome {
        match request {
            Request::Transient { handle } => self.transient(buf, handle, port_id),
            Request::Version => self.version(buf, privileged),
            Request::Stats => self.stats(buf),
            Request::LoadBegin { total_size, name } => self.load_begin(buf, total_size, name),
            Request::LoadChunk {
                handle,
                offset,
                data,
            } => self.load_chunk(buf, handle, offset, data),
            Request::LoadEnd { handle } => self.load_end(buf, handle),
            Request::Instantiate {
                module,
                fuel,
                max_memory_pages,
                link,
            } => self.instantiate(buf, module, fuel, max_memory_pages, link),
            Request::Register { instance, name } => self.register(buf, instance, name),
            Request::Get { instance, name } => self.get(buf, instance, name),
            Request::Invoke {
                instance,
                name,
                args,
            } => self.invoke(buf, instance, name, args),
            Request::Unload { handle, cascade } => self.unload(buf, handle, cascade),
            Request::List {
                cursor,
                max_entries,
            } => self.list(buf, cursor, max_entries),
            Request::Exports { handle, cursor } => self.exports(buf, handle, cursor),
        }
    }
}

/// What a command handler returns: the length of the reply it wrote, or a failure for the
/// caller to report.
type Outcome = core::result::Result<usize, Failure>;

fn done(reply: core::result::Result<&[u8], ProtoError>) -> Outcome {
    Ok(reply?.len())
}

impl Service {
    fn version(&self, buf: &mut [u8], privileged: bool) -> Outcome {
        let mut driver = [0u16; 3];
        if let Some(v) = crate::parse_version(crate::VERSION) {
            driver = v;
        }
        let mut w = ReplyWriter::ok(buf, Command::Version)?;
        w.version(&VersionInfo {
            driver,
            flags: if privileged {
                VERSION_FLAG_PRIVILEGED
            } else {
                0
            },
            max_module_len: self.limits.max_module_len.min(MAX_MODULE_LEN),
            max_chunk_len: MAX_CHUNK_LEN as u32,
            max_memory_pages: self.limits.max_memory_pages,
            default_fuel: self.limits.default_fuel,
            max_fuel: 0,
        })?;
        w.message("kernel");
        done(w.finish())
    }

    fn stats(&self, buf: &mut [u8]) -> Outcome {
        let stats = {
            let registry = self.shared.registry.lock();
            let mut stats = registry.stats;
            for (_, entry) in registry.entries.iter() {
                match entry {
                    Entry::Upload(_) => stats.uploads += 1,
                    Entry::Module(m) => {
                        stats.modules += 1;
                        stats.module_bytes += u64::from(m.size);
                    }
                    Entry::Instance(i) => {
                        stats.instances += 1;
                        stats.memory_pages += u64::from(i.memory_pages.load(Relaxed));
                    }
                }
            }
            stats
        };
        let mut w = ReplyWriter::ok(buf, Command::Stats)?;
        w.stats(&stats)?;
        done(w.finish())
    }

    fn load_begin(&self, buf: &mut [u8], total: u32, name: &str) -> Outcome {
        let max = self.limits.max_module_len.min(MAX_MODULE_LEN);
        if total > max {
            let mut w = ReplyWriter::new(buf, Command::LoadBegin.code(), Status::LimitExceeded)?;
            let _ = write!(w, "module of {total} bytes exceeds the limit of {max}");
            return done(w.finish());
        }
        let mut registry = self.shared.registry.lock();
        // Drop uploads whose client went away, then check the limits.
        let mut i = 0;
        while let Some((_, entry)) = registry.entries.get(i) {
            let stale = matches!(entry, Entry::Upload(u)
                if u.last_activity.elapsed().as_millis() > UPLOAD_IDLE_MS);
            if stale {
                let _ = registry.entries.remove(i);
                registry.stats.load_failures += 1;
            } else {
                i += 1;
            }
        }
        let uploads = registry
            .entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Upload(_)))
            .count();
        if uploads >= MAX_UPLOADS {
            return Err(fail(Status::Busy, "too many uploads in progress"));
        }
        if registry.entries.len() >= self.limits.max_handles {
            return Err(fail(Status::LimitExceeded, "too many handles"));
        }
        let mut data = KVVec::new();
        if data.reserve(total as usize, GFP_KERNEL).is_err() {
            return Err(fail(Status::OutOfMemory, "no memory for the module"));
        }
        let upload = Upload {
            name: copy_name(name)?,
            total,
            data,
            last_activity: Instant::now(),
        };
        let handle = registry.insert(Entry::Upload(upload))?;
        drop(registry);
        let mut w = ReplyWriter::ok(buf, Command::LoadBegin)?;
        w.upload(handle)?;
        done(w.finish())
    }

    fn load_chunk(&self, buf: &mut [u8], handle: u64, offset: u32, chunk: &[u8]) -> Outcome {
        let received = {
            let mut registry = self.shared.registry.lock();
            let Some(Entry::Upload(upload)) = registry.find_mut(handle) else {
                return Err(fail(Status::NoSuchHandle, "no upload with this handle"));
            };
            if offset as usize != upload.data.len() {
                return Err(fail(
                    Status::MalformedRequest,
                    "chunk out of order (its offset is not the bytes received so far)",
                ));
            }
            if upload.data.len() + chunk.len() > upload.total as usize {
                return Err(fail(
                    Status::MalformedRequest,
                    "chunk goes past the announced size",
                ));
            }
            // Within the capacity reserved by LOAD_BEGIN: does not allocate.
            upload.data.extend_from_slice(chunk, GFP_KERNEL)?;
            upload.last_activity = Instant::now();
            upload.data.len() as u32
        };
        let mut w = ReplyWriter::ok(buf, Command::LoadChunk)?;
        w.received(received)?;
        done(w.finish())
    }

    fn load_end(&self, buf: &mut [u8], handle: u64) -> Outcome {
        let upload = {
            let mut registry = self.shared.registry.lock();
            match registry.find(handle) {
                Some(Entry::Upload(u)) if u.data.len() == u.total as usize => {}
                Some(Entry::Upload(_)) => {
                    return Err(fail(Status::MalformedRequest, "upload incomplete"))
                }
                _ => return Err(fail(Status::NoSuchHandle, "no upload with this handle")),
            }
            match registry.remove(handle) {
                Some(Entry::Upload(u)) => u,
                _ => return Err(fail(Status::Internal, "upload vanished")),
            }
        };
        // Validation and translation run without the registry lock.
        let module = match Module::new(&self.config, &upload.data) {
            Ok(module) => module,
            Err(err) => {
                self.shared.registry.lock().stats.load_failures += 1;
                return done(engine_error(buf, Command::LoadEnd, &err));
            }
        };
        let info = ModuleInfo {
            handle,
            size: upload.total,
            imports: module.imports().count() as u32,
            exports: module.exports().count() as u32,
        };
        let loaded = Arc::new(
            LoadedModule {
                name: upload.name,
                size: upload.total,
                module,
            },
            GFP_KERNEL,
        )?;
        {
            let mut registry = self.shared.registry.lock();
            // The module keeps the upload's handle, which is below `next_handle`: insert it
            // at its sorted place.
            let at = registry
                .entries
                .binary_search_by_key(&handle, |(h, _)| *h)
                .unwrap_or_else(|i| i);
            registry.entries.reserve(1, GFP_KERNEL)?;
            registry
                .entries
                .insert_within_capacity(at, (handle, Entry::Module(loaded)))
                .map_err(|_| AllocError)?;
            registry.stats.loads += 1;
        }
        let mut w = ReplyWriter::ok(buf, Command::LoadEnd)?;
        w.module(&info)?;
        done(w.finish())
    }

    fn instantiate(
        &self,
        buf: &mut [u8],
        module: u64,
        fuel: u64,
        max_memory_pages: u32,
        link: u64,
    ) -> Outcome {
        if max_memory_pages > self.limits.max_memory_pages {
            return Err(fail(
                Status::LimitExceeded,
                "memory limit above the driver's maximum",
            ));
        }
        let (code, group) = {
            let registry = self.shared.registry.lock();
            if registry.entries.len() >= self.limits.max_handles {
                return Err(fail(Status::LimitExceeded, "too many handles"));
            }
            let code = match registry.find(module) {
                Some(Entry::Module(m)) => m.clone(),
                _ => return Err(fail(Status::NoSuchHandle, "no module with this handle")),
            };
            let group = match (link, registry.find(link)) {
                (0, _) => None,
                (_, Some(Entry::Instance(i))) => Some(i.group.clone()),
                (_, Some(_)) => {
                    return Err(fail(
                        Status::WrongHandleKind,
                        "the handle to link to is not an instance",
                    ))
                }
                _ => {
                    return Err(fail(
                        Status::NoSuchHandle,
                        "no instance with the handle to link to",
                    ))
                }
            };
            (code, group)
        };
        let group = match group {
            Some(group) => group,
            None => {
                let mut store = Store::new(self.config.clone(), ());
                // A zero-sized hook: boxing it does not allocate.
                store.set_interrupt_hook(alloc::boxed::Box::new(KernelHook));
                Arc::pin_init(
                    pin_init!(Group {
                        state <- new_mutex!(GroupState {
                            store,
                            registered: KVec::new(),
                            spectest: None,
                        }),
                    }),
                    GFP_KERNEL,
                )?
            }
        };
        let (addr, memory_pages) = {
            let mut state = group.state.lock();
            let state = &mut *state;
            if max_memory_pages != 0 {
                state.store.config_mut().max_memory_pages = max_memory_pages;
            } else {
                state.store.config_mut().max_memory_pages = self.limits.max_memory_pages;
            }
            let imports = match resolve_imports(state, &code.module) {
                Ok(imports) => imports,
                Err(err) => return done(engine_error(buf, Command::Instantiate, &err)),
            };
            // The start function runs with the instance's fuel.
            state.store.config_mut().fuel = instance_fuel(fuel, self.limits.default_fuel);
            let addr = match state
                .store
                .instantiate(&ModuleHandle(code.clone()), &imports)
            {
                Ok(addr) => addr,
                Err(err) => {
                    if matches!(err, EngineError::Trap(_)) {
                        self.shared.registry.lock().stats.traps += 1;
                    }
                    return done(engine_error(buf, Command::Instantiate, &err));
                }
            };
            (addr, memory_pages_of(&state.store, addr))
        };
        let fuel = instance_fuel(fuel, self.limits.default_fuel);
        let instance = Arc::new(
            LoadedInstance {
                module,
                code,
                group,
                addr,
                fuel,
                calls: Atomic::new(0),
                fuel_used: Atomic::new(0),
                memory_pages: Atomic::new(memory_pages),
            },
            GFP_KERNEL,
        )?;
        let handle = {
            let mut registry = self.shared.registry.lock();
            registry.stats.instantiations += 1;
            registry.insert(Entry::Instance(instance))?
        };
        let mut w = ReplyWriter::ok(buf, Command::Instantiate)?;
        w.instance(&InstanceInfo {
            handle,
            module,
            memory_pages,
        })?;
        done(w.finish())
    }

    fn instance(&self, handle: u64) -> core::result::Result<Arc<LoadedInstance>, Failure> {
        match self.shared.registry.lock().find(handle) {
            Some(Entry::Instance(i)) => Ok(i.clone()),
            _ => Err(fail(Status::NoSuchHandle, "no instance with this handle")),
        }
    }

    fn invoke(
        &self,
        buf: &mut [u8],
        handle: u64,
        name: &str,
        args: crate::protocol::ValueList<'_>,
    ) -> Outcome {
        let instance = self.instance(handle)?;
        let mut engine_args = KVec::with_capacity(args.len(), GFP_KERNEL)?;
        for arg in args.iter() {
            let Some(arg) = from_wire(arg) else {
                return Err(fail(
                    Status::SignatureMismatch,
                    "a non-null funcref cannot be passed",
                ));
            };
            engine_args.push(arg, GFP_KERNEL)?;
        }
        let (result, fuel_used, pages) = {
            let mut state = instance.group.state.lock();
            let store = &mut state.store;
            let Some(func) = store.get_export(instance.addr, name).and_then(Extern::func) else {
                drop(state);
                let mut w = ReplyWriter::new(buf, Command::Invoke.code(), Status::NoSuchExport)?;
                let _ = write!(w, "no exported function {name:?}");
                return done(w.finish());
            };
            store.config_mut().fuel = instance.fuel;
            let before = store.fuel_used();
            let result = store.invoke(func, &engine_args);
            let fuel_used = store.fuel_used().saturating_sub(before);
            (result, fuel_used, memory_pages_of(store, instance.addr))
        };
        instance.calls.fetch_add(1, Relaxed);
        instance.fuel_used.fetch_add(fuel_used, Relaxed);
        instance.memory_pages.store(pages, Relaxed);
        {
            let mut registry = self.shared.registry.lock();
            registry.stats.invocations += 1;
            registry.stats.fuel_used += fuel_used;
            if matches!(result, Err(EngineError::Trap(_))) {
                registry.stats.traps += 1;
            }
        }
        match result {
            Ok(results) => {
                let mut w = ReplyWriter::ok(buf, Command::Invoke)?;
                w.results(fuel_used, results.into_iter().map(to_wire))?;
                done(w.finish())
            }
            Err(err) => done(engine_error(buf, Command::Invoke, &err)),
        }
    }

    fn transient(&self, buf: &mut [u8], handle: u64, port_id: u32) -> Outcome {
        {
            let mut registry = self.shared.registry.lock();
            if registry.find(handle).is_none() {
                return Err(fail(Status::NoSuchHandle, "no such handle"));
            }
            registry.transient.push((handle, port_id), GFP_KERNEL)?;
        }
        done(ReplyWriter::ok(buf, Command::Transient)?.finish())
    }

    fn register(&self, buf: &mut [u8], handle: u64, name: &str) -> Outcome {
        let instance = self.instance(handle)?;
        {
            let mut state = instance.group.state.lock();
            let existing = state
                .registered
                .iter()
                .position(|(n, _)| n.as_slice() == name.as_bytes());
            match existing {
                Some(i) => {
                    if let Some(slot) = state.registered.get_mut(i) {
                        slot.1 = instance.addr;
                    }
                }
                None => state
                    .registered
                    .push((copy_name(name)?, instance.addr), GFP_KERNEL)?,
            }
        }
        done(ReplyWriter::ok(buf, Command::Register)?.finish())
    }

    fn get(&self, buf: &mut [u8], handle: u64, name: &str) -> Outcome {
        let instance = self.instance(handle)?;
        let value = {
            let state = instance.group.state.lock();
            state
                .store
                .get_export(instance.addr, name)
                .and_then(Extern::global)
                .and_then(|g| state.store.global_value(g))
        };
        let Some(value) = value else {
            let mut w = ReplyWriter::new(buf, Command::Get.code(), Status::NoSuchExport)?;
            let _ = write!(w, "no exported global {name:?}");
            return done(w.finish());
        };
        let mut w = ReplyWriter::ok(buf, Command::Get)?;
        w.global(to_wire(value))?;
        done(w.finish())
    }

    fn unload(&self, buf: &mut [u8], handle: u64, cascade: bool) -> Outcome {
        // Entries are dropped after the lock is released: dropping the last reference to a
        // group frees its store, which may take a while.
        let mut dropped = KVec::new();
        {
            let mut registry = self.shared.registry.lock();
            let instances = registry
                .entries
                .iter()
                .filter(|(_, e)| matches!(e, Entry::Instance(i) if i.module == handle))
                .count();
            match registry.find(handle) {
                None => return Err(fail(Status::NoSuchHandle, "no such handle")),
                Some(Entry::Module(_)) if instances > 0 && !cascade => {
                    return Err(fail(
                        Status::Busy,
                        "the module has instances: unload them first or cascade",
                    ))
                }
                Some(Entry::Upload(_)) => registry.stats.load_failures += 1,
                Some(_) => {}
            }
            registry.remove_cascade(handle, &mut dropped)?;
        }
        drop(dropped);
        done(ReplyWriter::ok(buf, Command::Unload)?.finish())
    }

    fn list(&self, buf: &mut [u8], cursor: u64, max_entries: u16) -> Outcome {
        let registry = self.shared.registry.lock();
        let mut w = ReplyWriter::ok(buf, Command::List)?;
        let mut more = false;
        let entries = registry.entries.iter().filter(|(h, _)| *h > cursor);
        for (count, (handle, entry)) in entries.enumerate() {
            if max_entries != 0 && count == usize::from(max_entries) {
                more = true;
                break;
            }
            if !w.list_entry(&list_entry(*handle, entry))? {
                more = true;
                break;
            }
        }
        drop(registry);
        w.list_end(cursor, more)?;
        done(w.finish())
    }

    fn exports(&self, buf: &mut [u8], handle: u64, cursor: u64) -> Outcome {
        let code = match self.shared.registry.lock().find(handle) {
            Some(Entry::Module(m)) => m.clone(),
            Some(Entry::Instance(i)) => i.code.clone(),
            _ => {
                return Err(fail(
                    Status::NoSuchHandle,
                    "no module or instance with this handle",
                ))
            }
        };
        let mut w = ReplyWriter::ok(buf, Command::Exports)?;
        let mut next = cursor;
        let mut more = false;
        let skip = usize::try_from(cursor).unwrap_or(usize::MAX);
        for (name, kind) in code.module.exports().skip(skip) {
            let kind = match kind {
                ExternKind::Func => ExportKind::Func,
                ExternKind::Table => ExportKind::Table,
                ExternKind::Memory => ExportKind::Memory,
                ExternKind::Global => ExportKind::Global,
            };
            let (params, results) = match code.module.export_func_type(name) {
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
        done(w.finish())
    }
}

fn memory_pages_of(store: &Store<(), ModuleHandle>, addr: InstanceAddr) -> u32 {
    store.instance_memory_pages(addr)
}

/// The fuel of an instance's invocations: what INSTANTIATE asked for, else the default
/// (0 for unlimited).
fn instance_fuel(requested: u64, default: u64) -> Option<u64> {
    match requested {
        0 if default == 0 => None,
        0 => Some(default),
        n => Some(n),
    }
}

fn list_entry(handle: u64, entry: &Entry) -> ListEntry<'_> {
    match entry {
        Entry::Upload(u) => ListEntry {
            handle,
            kind: HandleKind::Upload,
            parent: 0,
            calls: 0,
            fuel_used: 0,
            size: u.total,
            exports: u.data.len() as u32,
            memory_pages: 0,
            name: name_str(&u.name),
        },
        Entry::Module(m) => ListEntry {
            handle,
            kind: HandleKind::Module,
            parent: 0,
            calls: 0,
            fuel_used: 0,
            size: m.size,
            exports: m.module.exports().count() as u32,
            memory_pages: 0,
            name: name_str(&m.name),
        },
        Entry::Instance(i) => ListEntry {
            handle,
            kind: HandleKind::Instance,
            parent: i.module,
            calls: i.calls.load(Relaxed),
            fuel_used: i.fuel_used.load(Relaxed),
            size: i.code.size,
            exports: i.code.module.exports().count() as u32,
            memory_pages: i.memory_pages.load(Relaxed),
            name: name_str(&i.code.name),
        },
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends at a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    // Index 0 is always a boundary, so this stops there at the latest.
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// Resolves a module's imports: against the names registered in the group, then the
/// kernel's host modules.
fn resolve_imports(
    state: &mut GroupState,
    module: &Module,
) -> core::result::Result<KVec<Extern>, EngineError> {
    let mut imports = KVec::new();
    for (module_name, name, _) in module.imports() {
        let registered = state
            .registered
            .iter()
            .find(|(n, _)| n.as_slice() == module_name.as_bytes())
            .map(|(_, addr)| *addr);
        let found = if let Some(addr) = registered {
            state.store.get_export(addr, name)
        } else if module_name == SPECTEST {
            if state.spectest.is_none() {
                state.spectest = Some(Spectest::new(&mut state.store)?);
            }
            state.spectest.as_ref().and_then(|s| s.get(name))
        } else {
            None
        };
        let Some(ext) = found else {
            // Names come from the module and may be huge: quote at most 64 bytes of each.
            return Err(EngineError::Link(alloc::format!(
                "unknown import: {}.{}",
                prefix(module_name, 64),
                prefix(name, 64)
            )));
        };
        imports
            .push(ext, GFP_KERNEL)
            .map_err(|_| EngineError::OutOfMemory)?;
    }
    Ok(imports)
}

impl Handler for Service {
    fn receive(&self, msg: &Message<'_>, sender: &Sender<'_>) {
        let Ok(mut buf) = KVec::from_elem(0u8, MAX_PAYLOAD_LEN, GFP_KERNEL) else {
            pr_warn!("no memory for a reply to port {}\n", sender.port_id());
            return;
        };
        let reply = match self.handle(msg.payload(), sender, &mut buf) {
            Ok(reply) => reply,
            Err(err) => {
                pr_warn!("cannot encode a reply ({})\n", err.status().description());
                return;
            }
        };
        if let Err(err) = msg.reply(sender, &[reply], GFP_KERNEL) {
            pr_debug!("reply to port {} failed: {err:?}\n", sender.port_id());
        }
    }
}
