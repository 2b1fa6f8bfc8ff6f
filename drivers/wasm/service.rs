// SPDX-License-Identifier: GPL-2.0

//! The connector service: the handler of the protocol defined in [`crate::protocol`].
//!
//! Requests run in the context of the task that sent them. The registry ([`crate::registry`])
//! is locked only briefly; wasm runs under its link group's lock ([`crate::group`]), which no
//! request ever waits for: a request for a group that is busy gets `BUSY`.

use crate::attach::{self, AttachError, Program, DEFAULT_EVENT_FUEL};
use crate::float_unit::KernelFloat;
use crate::group::{Busy, Group, GroupLimits, GroupState, KernelHook, STORE_BYTES};
#[cfg(CONFIG_WASM_SPECTEST)]
use crate::host::{Spectest, SPECTEST};
use crate::platform::{Environ, KernelPlatform};
use crate::protocol::{
    AttachSource, Command, ExportKind, HandleKind, InstanceInfo, ListEntry, ModuleInfo, ProtoError,
    ReplyWriter, Request, Status, VersionInfo, MAX_CHUNK_LEN, MAX_MODULE_LEN, MAX_NAME_LEN,
    MAX_PAYLOAD_LEN, VERSION_FLAG_PRIVILEGED,
};
use crate::registry::{Entry, LoadedInstance, LoadedModule, ModuleHandle, Registry, Upload};
use crate::wire::{engine_error, engine_error_with, from_wire, to_wire, wire_type};
use core::fmt::Write;
use kernel::{
    alloc::{flags::__GFP_RETRY_MAYFAIL, AllocError, Flags},
    capability::Capability,
    connector::{self, Handler, Message, Sender},
    new_mutex,
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, Mutex,
    },
    time::Instant,
};
use wasm_engine::{
    Config, Dispatch, Error as EngineError, Extern, ExternKind, Module, Store, TrapKind,
};

/// The flags of an upload's data, whose size the client chooses (up to the module size
/// limit): charged to its memory cgroup, and failing rather than invoking the cgroup's OOM
/// killer when it does not fit, like everything the engine allocates (see `alloc_shim`).
fn upload_flags() -> Flags {
    GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL
}

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
    /// Most bytes a link group (its instances' memories, tables, globals and stacks) may
    /// hold.
    pub(crate) max_group_bytes: usize,
    /// How the interpreter dispatches (the `threaded` module parameter).
    pub(crate) dispatch: Dispatch,
}

/// Uploads in progress at once; an upload idle for [`UPLOAD_IDLE_MS`] is dropped when a new
/// one needs its place (its client died or gave up).
const MAX_UPLOADS: usize = 16;
const UPLOAD_IDLE_MS: i64 = 30_000;

/// The first allocation for an upload's data; it grows geometrically as chunks arrive.
const UPLOAD_INITIAL_BYTES: usize = 64 * 1024;

/// Most names registered in one link group (REGISTER).
const MAX_REGISTERED: usize = 1024;

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
                    registry.remove_cascade_now(handle);
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

impl From<Busy> for Failure {
    fn from(_: Busy) -> Self {
        fail(
            Status::Busy,
            "another call of the instance's link group is running; try again",
        )
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
    let mut out = KVec::with_capacity(name.len(), GFP_KERNEL_ACCOUNT)?;
    out.extend_from_slice(name.as_bytes(), GFP_KERNEL_ACCOUNT)?;
    Ok(out)
}

impl Service {
    /// Creates the service with `limits`, and the reaper that cleans up after its clients.
    pub(crate) fn new(limits: Limits) -> Result<(Self, Reaper)> {
        let shared = Arc::pin_init(
            pin_init!(Shared {
                registry <- new_mutex!(Registry::new()),
            }),
            GFP_KERNEL,
        )?;
        let reaper = Reaper {
            shared: shared.clone(),
        };
        let config = Config {
            max_memory_pages: limits.max_memory_pages,
            max_module_size: limits.max_module_len as usize,
            max_store_bytes: limits.max_group_bytes,
            max_instance_bytes: limits.max_group_bytes,
            dispatch: limits.dispatch,
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
        seq: u32,
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
        let client = Client {
            port: sender.port_id(),
            seq,
        };
        match self.dispatch(request, privileged, client, buf) {
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
        client: Client,
        buf: &mut [u8],
    ) -> Outcome {
        match request {
            Request::Transient { handle } => self.transient(buf, handle, client.port),
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
            } => self.invoke(buf, instance, name, args, client),
            Request::Args {
                instance,
                args,
                env,
            } => self.args(buf, instance, args, env),
            Request::Attach {
                module,
                source,
                fuel,
                handler,
            } => self.attach(buf, module, source, fuel, handler),
            Request::AttachInfo { handle } => self.attach_info(buf, handle),
            Request::Unload { handle, cascade } => self.unload(buf, handle, cascade),
            Request::List {
                cursor,
                max_entries,
            } => self.list(buf, cursor, max_entries),
            Request::Exports { handle, cursor } => self.exports(buf, handle, cursor),
        }
    }
}

/// Who sent a request: where its reply, and a running program's output, go.
#[derive(Clone, Copy)]
struct Client {
    /// The sending socket's netlink port id.
    port: u32,
    /// The request's sequence number.
    seq: u32,
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
        let mut stats = self.shared.registry.lock().stats();
        stats.kernel_bytes += STORE_BYTES.load(Relaxed);
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
        // The first piece of the data's memory; the rest comes as chunks arrive, so that an
        // announced size costs nothing until the data is there.
        let mut data = KVVec::new();
        data.reserve((total as usize).min(UPLOAD_INITIAL_BYTES), upload_flags())?;
        let upload = Upload {
            name: copy_name(name)?,
            total,
            data,
            last_activity: Instant::now(),
        };
        let mut registry = self.shared.registry.lock();
        // Drop uploads whose client went away, then check the limits.
        let mut stale = KVec::new();
        let mut i = 0;
        while let Some((_, entry)) = registry.entries.get(i) {
            let idle = matches!(entry, Entry::Upload(u)
                if u.last_activity.elapsed().as_millis() > UPLOAD_IDLE_MS);
            if !idle {
                i += 1;
                continue;
            }
            if stale.reserve(1, GFP_KERNEL).is_err() {
                break;
            }
            if let Ok((_, e)) = registry.entries.remove(i) {
                let _ = stale.push_within_capacity(e);
                registry.stats.load_failures += 1;
            }
        }
        if registry.uploads() >= MAX_UPLOADS {
            return Err(fail(Status::Busy, "too many uploads in progress"));
        }
        if registry.entries.len() >= self.limits.max_handles {
            return Err(fail(Status::LimitExceeded, "too many handles"));
        }
        let handle = registry.insert(Entry::Upload(upload))?;
        drop(registry);
        drop(stale);
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
            let total = upload.total as usize;
            let len = upload.data.len();
            if len + chunk.len() > total {
                return Err(fail(
                    Status::MalformedRequest,
                    "chunk goes past the announced size",
                ));
            }
            // Grow geometrically, but never beyond the announced size.
            if upload.data.capacity() - len < chunk.len() {
                let want = (upload.data.capacity() * 2).clamp(len + chunk.len(), total);
                upload.data.reserve(want - len, upload_flags())?;
            }
            upload.data.extend_from_slice(chunk, upload_flags())?;
            upload.last_activity = Instant::now();
            upload.data.len() as u32
        };
        let mut w = ReplyWriter::ok(buf, Command::LoadChunk)?;
        w.received(received)?;
        done(w.finish())
    }

    fn load_end(&self, buf: &mut [u8], handle: u64) -> Outcome {
        // The vendored validator allocates with `alloc`'s infallible interfaces: loading runs
        // in a scope where a failed allocation is retried with `__GFP_NOFAIL` instead of
        // panicking. What it allocates is bounded by `max_module_kib` (see
        // `Documentation/wasm/security.rst`). Entered first, so that a BUSY answer leaves the
        // upload in place for another LOAD_END.
        let Some(_nofail) = alloc_shim::NoFailScope::enter() else {
            return Err(fail(Status::Busy, "too many modules being loaded at once"));
        };
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
        // Validation and translation run without the registry lock, yielding the CPU and
        // stopping on a fatal signal.
        let mut hook = KernelHook::new();
        let module = match Module::new_with_hook(&self.config, &upload.data, Some(&mut hook)) {
            Ok(module) => module,
            Err(err) => {
                self.shared.registry.lock().stats.load_failures += 1;
                return done(engine_error(buf, Command::LoadEnd, &err));
            }
        };
        drop(upload.data);
        // Export names travel in EXPORTS and INVOKE, which carry at most MAX_NAME_LEN bytes.
        if let Some((i, (name, _))) = module
            .exports()
            .enumerate()
            .find(|(_, (name, _))| name.len() > MAX_NAME_LEN)
        {
            self.shared.registry.lock().stats.load_failures += 1;
            let mut w = ReplyWriter::new(buf, Command::LoadEnd.code(), Status::LimitExceeded)?;
            let _ = write!(
                w,
                "export {i} has a name of {} bytes; the protocol carries at most {MAX_NAME_LEN}",
                name.len()
            );
            return done(w.finish());
        }
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
            GFP_KERNEL_ACCOUNT,
        )?;
        {
            let mut registry = self.shared.registry.lock();
            registry.insert_at(handle, Entry::Module(loaded))?;
            registry.stats.loads += 1;
        }
        let mut w = ReplyWriter::ok(buf, Command::LoadEnd)?;
        w.module(&info)?;
        done(w.finish())
    }

    /// The limits of a new group: what INSTANTIATE asked for, else the driver's defaults.
    fn group_limits(&self, fuel: u64, max_memory_pages: u32) -> GroupLimits {
        GroupLimits {
            fuel: instance_fuel(fuel, self.limits.default_fuel),
            max_memory_pages: match max_memory_pages {
                0 => self.limits.max_memory_pages,
                n => n,
            },
        }
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
        // A linked instance lives within its group's limits: it may ask for less, not more.
        let limits = match &group {
            None => self.group_limits(fuel, max_memory_pages),
            Some(group) => {
                let theirs = group.limits();
                let mine = self.group_limits(fuel, max_memory_pages);
                let within = |mine: Option<u64>, theirs: Option<u64>| match (mine, theirs) {
                    (_, None) => true,
                    (Some(m), Some(t)) => m <= t,
                    (None, Some(_)) => false,
                };
                if (fuel != 0 && !within(mine.fuel, theirs.fuel))
                    || (max_memory_pages != 0 && mine.max_memory_pages > theirs.max_memory_pages)
                {
                    return Err(fail(
                        Status::LimitExceeded,
                        "a linked instance cannot have more fuel or memory than its link group",
                    ));
                }
                GroupLimits {
                    fuel: if fuel != 0 { mine.fuel } else { theirs.fuel },
                    max_memory_pages: if max_memory_pages != 0 {
                        mine.max_memory_pages
                    } else {
                        theirs.max_memory_pages
                    },
                }
            }
        };
        let group = match group {
            Some(group) => group,
            None => Group::new(self.config.clone(), limits)?,
        };
        let (addr, memory_pages) = {
            let mut state = group.try_state()?;
            let state = &mut *state;
            let config = state.store.config_mut();
            config.max_memory_pages = limits.max_memory_pages;
            // The start function runs with the instance's fuel.
            config.fuel = limits.fuel;
            let imports = match resolve_imports(state, &code.module) {
                Ok(imports) => imports,
                Err(err) => return done(engine_error(buf, Command::Instantiate, &err)),
            };
            let addr = match state
                .store
                .instantiate(&ModuleHandle(code.clone()), &imports)
            {
                Ok(addr) => addr,
                Err(err) => {
                    // A trap in the start function may leave a half-made instance that
                    // imported objects still refer to: free what nothing else reaches.
                    Group::collect_garbage(state);
                    group.note_usage(state);
                    if matches!(err, EngineError::Trap(_)) {
                        self.shared.registry.lock().stats.traps += 1;
                    }
                    return done(engine_error(buf, Command::Instantiate, &err));
                }
            };
            if let Err(err) = group.add_member(state, addr) {
                Group::collect_garbage(state);
                return Err(err.into());
            }
            group.collect(state);
            group.note_usage(state);
            (addr, state.store.instance_memory_pages(addr))
        };
        let instance = Arc::new(
            LoadedInstance {
                module,
                code,
                group,
                addr,
                fuel: limits.fuel,
                unloaded: Atomic::new(false),
                calls: Atomic::new(0),
                fuel_used: Atomic::new(0),
                memory_pages: Atomic::new(memory_pages),
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        let handle = {
            let mut registry = self.shared.registry.lock();
            // The module may have been unloaded, with its instances, while this one was made:
            // an instance must not outlive its module, out of reach of any cascade.
            if !matches!(registry.find(module), Some(Entry::Module(_))) {
                drop(registry);
                drop(instance);
                return Err(fail(
                    Status::NoSuchHandle,
                    "the module was unloaded during the instantiation",
                ));
            }
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
        client: Client,
    ) -> Outcome {
        if let Some(program) = self.attached_program(handle) {
            return self.invoke_attached(buf, &program, name, args);
        }
        let instance = self.instance(handle)?;
        let engine_args = engine_args(args)?;
        let group = &instance.group;
        let (result, fault, fuel_used, pages) = {
            let mut state = group.try_state()?;
            let state = &mut *state;
            let environ = state.environ_of(instance.addr);
            let store = &mut state.store;
            let Some(func) = store.get_export(instance.addr, name).and_then(Extern::func) else {
                let mut w = ReplyWriter::new(buf, Command::Invoke.code(), Status::NoSuchExport)?;
                let _ = write!(w, "no exported function {name:?}");
                return done(w.finish());
            };
            if !group.begin_run(handle, &instance.unloaded) {
                return Err(fail(Status::NoSuchHandle, "the instance was unloaded"));
            }
            store.config_mut().fuel = instance.fuel;
            // The program's output goes to the client while it runs (OUTPUT messages).
            store.data_mut().begin(
                handle,
                &instance.code.name,
                environ,
                Some((client.port, client.seq)),
            );
            let before = store.fuel_used();
            let result = store.invoke_with(&mut KernelFloat::from_param(), func, &engine_args);
            let fuel_used = store.fuel_used().saturating_sub(before);
            let fault = store.data_mut().end();
            group.end_run();
            let pages = store.instance_memory_pages(instance.addr);
            group.collect(state);
            group.note_usage(state);
            (result, fault, fuel_used, pages)
        };
        instance.calls.fetch_add(1, Relaxed);
        instance.fuel_used.fetch_add(fuel_used, Relaxed);
        instance.memory_pages.store(pages, Relaxed);
        let exited =
            matches!(&result, Err(EngineError::Trap(t)) if matches!(t.kind, TrapKind::Exit(_)));
        {
            let mut registry = self.shared.registry.lock();
            registry.stats.invocations += 1;
            registry.stats.fuel_used += fuel_used;
            if matches!(result, Err(EngineError::Trap(_))) && !exited {
                registry.stats.traps += 1;
            }
        }
        match result {
            Ok(results) => {
                let mut w = ReplyWriter::ok(buf, Command::Invoke)?;
                w.results(fuel_used, results.into_iter().map(to_wire))?;
                done(w.finish())
            }
            Err(err) => {
                let detail = fault.as_ref().map(|f| f as &dyn core::fmt::Display);
                done(engine_error_with(buf, Command::Invoke, &err, detail))
            }
        }
    }

    /// The program of attachment `handle`, if it is one.
    fn attached_program(&self, handle: u64) -> Option<Arc<Program>> {
        match self.shared.registry.lock().find(handle) {
            Some(Entry::Attachment(a)) => Some(a.program.clone()),
            _ => None,
        }
    }

    /// INVOKE of an attached instance's export: under the rules of its handlers (atomic
    /// context, the per-event fuel), and BUSY while one runs.
    fn invoke_attached(
        &self,
        buf: &mut [u8],
        program: &Program,
        name: &str,
        args: crate::protocol::ValueList<'_>,
    ) -> Outcome {
        let engine_args = engine_args(args)?;
        // Room for any function's results, made here: the run must not allocate.
        let mut results = alloc::vec::Vec::new();
        results
            .try_reserve_exact(crate::protocol::MAX_VALUES)
            .map_err(|_| fail(Status::OutOfMemory, "out of memory"))?;
        let outcome = match program.invoke(name, &engine_args, &mut results) {
            Ok(outcome) => outcome,
            Err(e) if e == EBUSY => {
                return Err(fail(
                    Status::Busy,
                    "the attachment's handler is running; try again",
                ))
            }
            Err(e) if e == ENOENT => {
                let mut w = ReplyWriter::new(buf, Command::Invoke.code(), Status::NoSuchExport)?;
                let _ = write!(w, "no exported function {name:?}");
                return done(w.finish());
            }
            Err(_) => return Err(fail(Status::Internal, "cannot call the attached instance")),
        };
        match outcome {
            Ok(()) => {
                let mut w = ReplyWriter::ok(buf, Command::Invoke)?;
                w.results(0, results.iter().copied().map(to_wire))?;
                done(w.finish())
            }
            Err(err) => done(engine_error(buf, Command::Invoke, &err)),
        }
    }

    fn attach(
        &self,
        buf: &mut [u8],
        module: u64,
        source: AttachSource,
        fuel: u64,
        handler: &str,
    ) -> Outcome {
        let code = match self.shared.registry.lock().find(module) {
            Some(Entry::Module(m)) => m.clone(),
            _ => return Err(fail(Status::NoSuchHandle, "no module with this handle")),
        };
        let fuel = if fuel == 0 { DEFAULT_EVENT_FUEL } else { fuel };
        let config = Config {
            fuel: Some(fuel),
            ..self.config.clone()
        };
        let mut store = Store::new(config, KernelPlatform::new());
        store
            .try_set_interrupt_hook(KernelHook::new())
            .map_err(|_| fail(Status::OutOfMemory, "out of memory"))?;
        // Handlers run where sleeping is not allowed: only atomic-safe imports.
        let mut imports = KVec::new();
        for (module_name, name, _) in code.module.imports() {
            let id = match wasm_abi::lookup(module_name, name) {
                Some(id) if id.import().context == wasm_abi::Context::Atomic => id,
                found => {
                    let why = if found.is_some() {
                        "may sleep, which an attached program must not"
                    } else {
                        "is not offered"
                    };
                    let mut w = ReplyWriter::new(buf, Command::Attach.code(), Status::LinkError)?;
                    let _ = write!(
                        w,
                        "import {}.{} {why}",
                        prefix(module_name, 64),
                        prefix(name, 64)
                    );
                    return done(w.finish());
                }
            };
            let func = match wasm_abi::define(&mut store, id) {
                Ok(func) => func,
                Err(err) => return done(engine_error(buf, Command::Attach, &err)),
            };
            imports.push(Extern::Func(func), GFP_KERNEL_ACCOUNT)?;
        }
        let instance = match store.instantiate(&ModuleHandle(code.clone()), &imports) {
            Ok(instance) => instance,
            Err(err) => return done(engine_error(buf, Command::Attach, &err)),
        };
        let handle = {
            let mut registry = self.shared.registry.lock();
            if registry.entries.len() >= self.limits.max_handles {
                return Err(fail(Status::LimitExceeded, "too many handles"));
            }
            let handle = registry.next_handle;
            registry.next_handle += 1;
            handle
        };
        let attachment = match attach::attach(code, store, instance, handler, source, fuel, handle)
        {
            Ok(attachment) => attachment,
            Err(AttachError::NoHandler) => {
                let mut w = ReplyWriter::new(buf, Command::Attach.code(), Status::NoSuchExport)?;
                let _ = write!(w, "no exported function {handler:?}");
                return done(w.finish());
            }
            Err(AttachError::HandlerType) => {
                return Err(fail(
                    Status::SignatureMismatch,
                    "a handler takes the event's length and returns its verdict: \
                         (i32) -> i32",
                ))
            }
            Err(AttachError::Kernel(e)) if e == ENOMEM => {
                return Err(fail(Status::OutOfMemory, "out of memory"))
            }
            Err(AttachError::Kernel(_)) => {
                return Err(fail(
                    Status::Unsupported,
                    "the kernel refused the hook (is the event source configured?)",
                ))
            }
        };
        let attachment = KBox::new(attachment, GFP_KERNEL_ACCOUNT)?;
        {
            let mut registry = self.shared.registry.lock();
            registry.insert_at(handle, Entry::Attachment(attachment))?;
        }
        let mut w = ReplyWriter::ok(buf, Command::Attach)?;
        w.instance(&InstanceInfo {
            handle,
            module,
            memory_pages: 0,
        })?;
        done(w.finish())
    }

    fn attach_info(&self, buf: &mut [u8], handle: u64) -> Outcome {
        let Some(program) = self.attached_program(handle) else {
            return Err(fail(Status::NoSuchHandle, "no attachment with this handle"));
        };
        let mut w = ReplyWriter::ok(buf, Command::AttachInfo)?;
        w.attach_info(&program.stats())?;
        done(w.finish())
    }

    fn args(&self, buf: &mut [u8], handle: u64, args: &[u8], env: &[u8]) -> Outcome {
        let instance = self.instance(handle)?;
        let copy = |bytes: &[u8]| -> core::result::Result<KVec<u8>, AllocError> {
            let mut v = KVec::with_capacity(bytes.len(), GFP_KERNEL_ACCOUNT)?;
            v.extend_from_slice(bytes, GFP_KERNEL_ACCOUNT)?;
            Ok(v)
        };
        let environ = Arc::new(
            Environ {
                args: copy(args)?,
                env: copy(env)?,
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        {
            let mut state = instance.group.try_state()?;
            state.set_environ(instance.addr, environ)?;
        }
        done(ReplyWriter::ok(buf, Command::Args)?.finish())
    }

    fn transient(&self, buf: &mut [u8], handle: u64, port_id: u32) -> Outcome {
        {
            let mut registry = self.shared.registry.lock();
            if registry.find(handle).is_none() {
                return Err(fail(Status::NoSuchHandle, "no such handle"));
            }
            registry.make_transient(handle, port_id)?;
        }
        done(ReplyWriter::ok(buf, Command::Transient)?.finish())
    }

    fn register(&self, buf: &mut [u8], handle: u64, name: &str) -> Outcome {
        let instance = self.instance(handle)?;
        {
            let mut state = instance.group.try_state()?;
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
                None if state.registered.len() >= MAX_REGISTERED => {
                    return Err(fail(
                        Status::LimitExceeded,
                        "too many names registered in the link group",
                    ))
                }
                None => state
                    .registered
                    .push((copy_name(name)?, instance.addr), GFP_KERNEL_ACCOUNT)?,
            }
        }
        done(ReplyWriter::ok(buf, Command::Register)?.finish())
    }

    fn get(&self, buf: &mut [u8], handle: u64, name: &str) -> Outcome {
        let instance = self.instance(handle)?;
        let value = {
            let state = instance.group.try_state()?;
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
            Some(Entry::Attachment(a)) => a.code.clone(),
            _ => {
                return Err(fail(
                    Status::NoSuchHandle,
                    "no module, instance or attachment with this handle",
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

/// The fuel of an instance's invocations: what INSTANTIATE asked for, else the default
/// (0 for unlimited).
/// INVOKE's arguments as the engine's values.
fn engine_args(
    args: crate::protocol::ValueList<'_>,
) -> core::result::Result<KVec<wasm_engine::Value>, Failure> {
    let mut engine_args = KVec::with_capacity(args.len(), GFP_KERNEL_ACCOUNT)?;
    for arg in args.iter() {
        let Some(arg) = from_wire(arg) else {
            return Err(fail(
                Status::SignatureMismatch,
                "a non-null funcref cannot be passed",
            ));
        };
        engine_args.push(arg, GFP_KERNEL_ACCOUNT)?;
    }
    Ok(engine_args)
}

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
        Entry::Attachment(a) => ListEntry {
            handle,
            kind: HandleKind::Attachment,
            parent: 0,
            calls: a.program.events(),
            fuel_used: 0,
            size: a.code.size,
            exports: a.code.module.exports().count() as u32,
            memory_pages: 0,
            name: name_str(&a.code.name),
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

/// The object `module_name`.`name` of the `spectest` host module, which the WebAssembly
/// testsuite imports; made in the group's store on first use.
#[cfg(CONFIG_WASM_SPECTEST)]
fn spectest_import(
    state: &mut GroupState,
    module_name: &str,
    name: &str,
) -> core::result::Result<Option<Extern>, EngineError> {
    if module_name != SPECTEST {
        return Ok(None);
    }
    if state.spectest.is_none() {
        state.spectest = Some(Spectest::new(&mut state.store)?);
    }
    Ok(state.spectest.as_ref().and_then(|s| s.get(name)))
}

/// Without `CONFIG_WASM_SPECTEST` there is no `spectest` host module: its imports are unknown
/// like any other.
#[cfg(not(CONFIG_WASM_SPECTEST))]
fn spectest_import(
    _state: &mut GroupState,
    _module_name: &str,
    _name: &str,
) -> core::result::Result<Option<Extern>, EngineError> {
    Ok(None)
}

/// Resolves a module's imports: against the names registered in the group, then the
/// kernel's host modules (the ABI, and `spectest` with `CONFIG_WASM_SPECTEST`).
fn resolve_imports(
    state: &mut GroupState,
    module: &Module,
) -> core::result::Result<KVec<Extern>, EngineError> {
    let mut imports = KVec::new();
    imports
        .reserve(module.imports().count(), GFP_KERNEL_ACCOUNT)
        .map_err(|_| EngineError::OutOfMemory)?;
    for (module_name, name, _) in module.imports() {
        let registered = state
            .registered
            .iter()
            .find(|(n, _)| n.as_slice() == module_name.as_bytes())
            .map(|(_, addr)| *addr);
        let found = if let Some(addr) = registered {
            state.store.get_export(addr, name)
        } else if wasm_abi::is_abi_module(module_name) {
            match wasm_abi::lookup(module_name, name) {
                Some(id) => Some(Extern::Func(abi_func(state, id)?)),
                None => None,
            }
        } else {
            spectest_import(state, module_name, name)?
        };
        let Some(ext) = found else {
            // Names come from the module and may be huge: quote at most 64 bytes of each.
            return Err(EngineError::Link(wasm_engine::format_message(
                format_args!(
                    "unknown import: {}.{}",
                    prefix(module_name, 64),
                    prefix(name, 64)
                ),
            )));
        };
        imports
            .push_within_capacity(ext)
            .map_err(|_| EngineError::OutOfMemory)?;
    }
    Ok(imports)
}

/// The host function of ABI import `id` in the group's store, made on first use.
fn abi_func(
    state: &mut GroupState,
    id: wasm_abi::ImportId,
) -> core::result::Result<wasm_engine::FuncAddr, EngineError> {
    if let Some((_, f)) = state.abi_funcs.iter().find(|(k, _)| *k == id.key()) {
        return Ok(*f);
    }
    state
        .abi_funcs
        .reserve(1, GFP_KERNEL_ACCOUNT)
        .map_err(|_| EngineError::OutOfMemory)?;
    let f = wasm_abi::define(&mut state.store, id)?;
    state
        .abi_funcs
        .push_within_capacity((id.key(), f))
        .map_err(|_| EngineError::OutOfMemory)?;
    Ok(f)
}

impl Handler for Service {
    fn receive(&self, msg: &Message<'_>, sender: &Sender<'_>) {
        let Ok(mut buf) = KVec::from_elem(0u8, MAX_PAYLOAD_LEN, GFP_KERNEL) else {
            pr_warn!("no memory for a reply to port {}\n", sender.port_id());
            return;
        };
        let reply = match self.handle(msg.payload(), sender, msg.seq(), &mut buf) {
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
