// SPDX-License-Identifier: GPL-2.0

//! Programs attached to kernel events: netfilter verdicts and the scheduler's process
//! tracepoints.
//!
//! # Context
//!
//! A handler runs where its event happens: netfilter hooks in softirq context (or in the
//! sending task with bottom halves disabled), the tracepoints in the task concerned inside the
//! tracepoint's read-side critical section. Neither may sleep, so a handler's run allocates
//! nothing (its stacks are reserved and its store refuses to allocate: `memory.grow` returns
//! -1), calls only the imports whose context rule says atomic-safe (the others trap), never
//! calls `cond_resched()`, and has a fuel budget per event (by default
//! [`DEFAULT_EVENT_FUEL`]) that bounds its time.
//!
//! # State model
//!
//! Each attachment has one instance, whose store sits behind a spinlock that events only
//! *try* to take: an event that finds it taken -- the handler runs on another CPU, or an
//! event nests inside the handler on this CPU, or userspace invokes one of the instance's
//! functions -- is not handled: it gets the default verdict and is counted as "busy", as eBPF
//! counts the events it misses. State in the instance's memory and globals survives from one
//! event to the next, so a program can count; userspace reads it by invoking an export (which
//! takes the same lock, and runs under the same atomic-context rules). One instance rather
//! than one per CPU keeps the program's view simple (one counter, one table) at the price of
//! serialising handlers.
//!
//! # Lifetime
//!
//! The registry entry owns the hook's registration and the program. Unloading the entry
//! unregisters the hook first, which returns once no handler runs (netfilter's
//! `synchronize_net()`, `tracepoint_synchronize_unregister()`), then frees the program: no
//! event can reach freed state, and `rmmod wasm`, which drops the registry, detaches
//! everything the same way.

use crate::float_unit::KernelFloat;
use crate::group::SHUTDOWN;
use crate::platform::{Counters, KernelPlatform};
use crate::protocol::{AttachSource, AttachStats, NfHook, Tracepoint};
use crate::registry::{LoadedModule, ModuleHandle};
use kernel::{
    net::{
        netfilter::{self, Family, HookPoint, HookState, Verdict},
        skbuff::SkBuff,
    },
    new_spinlock,
    prelude::*,
    sync::{atomic::Relaxed, Arc, SpinLock},
    time::{Instant, Monotonic},
    tracepoint::{
        probe::{self, Probe},
        sched::{ExecEvent, ExitEvent, ForkEvent, ProcessExec, ProcessExit, ProcessFork},
    },
};
use wasm_engine::{Error as EngineError, FuncAddr, InstanceAddr, InterruptHook, Store, TrapKind};
use wasm_engine::{ValType, Value};

pub(crate) use crate::protocol::DEFAULT_EVENT_FUEL;

/// The most bytes of an event's record: a packet's first bytes, a tracepoint's fields and
/// file name.
pub(crate) const MAX_EVENT_LEN: usize = 512;

/// The interrupt hook of attached programs: no `cond_resched()`, no signal (the task is
/// whoever the event happened in), only the driver going away. Fuel bounds each run.
struct AtomicHook;

impl InterruptHook for AtomicHook {
    fn check(&mut self) -> core::result::Result<(), TrapKind> {
        if SHUTDOWN.load(Relaxed) {
            return Err(TrapKind::Interrupted);
        }
        Ok(())
    }
}

/// What only the holder of the program's lock touches.
struct Runner {
    store: Store<KernelPlatform, ModuleHandle>,
    instance: InstanceAddr,
    handler: FuncAddr,
    /// Room for the handler's one result, so that a run allocates nothing.
    results: alloc::vec::Vec<Value>,
}

/// An attached program: its instance and what it did.
#[pin_data]
pub(crate) struct Program {
    #[pin]
    runner: SpinLock<Runner>,
    counters: Arc<Counters>,
    source: AttachSource,
    /// The fuel of each event, and of each call from userspace.
    fuel: u64,
}

impl Program {
    /// Runs the handler for one event, with `len` as its argument and the record `fill`
    /// writes (returning its length). `None` if the handler did not run or did not return a
    /// verdict.
    fn run(&self, len: usize, fill: impl FnOnce(&mut [u8]) -> usize) -> Option<i32> {
        let Some(mut runner) = self.runner.try_lock() else {
            self.counters.busy.fetch_add(1, Relaxed);
            return None;
        };
        let runner = &mut *runner;
        let start = Instant::<Monotonic>::now();
        runner.store.data_mut().begin_event(fill);
        runner.store.config_mut().fuel = Some(self.fuel);
        runner.results.clear();
        let arg = [Value::I32(i32::try_from(len).unwrap_or(i32::MAX))];
        let outcome = runner.store.invoke_into_with(
            &mut KernelFloat::from_param(),
            runner.handler,
            &arg,
            &mut runner.results,
        );
        runner.store.data_mut().end_event();
        let ns = start.elapsed().as_nanos().unsigned_abs();
        let c = &self.counters;
        c.events.fetch_add(1, Relaxed);
        c.total_ns.fetch_add(ns, Relaxed);
        if ns > c.max_ns.load(Relaxed) {
            c.max_ns.store(ns, Relaxed);
        }
        match outcome {
            Ok(()) => match runner.results.first() {
                Some(Value::I32(v)) => Some(*v),
                _ => None,
            },
            Err(EngineError::Trap(t)) if t.kind == TrapKind::OutOfFuel => {
                c.out_of_fuel.fetch_add(1, Relaxed);
                None
            }
            Err(_) => {
                c.traps.fetch_add(1, Relaxed);
                None
            }
        }
    }

    /// Calls the instance's export `name` for userspace (INVOKE on the attachment), under the
    /// same rules as a handler: atomic context, the per-event fuel. `results` has room for
    /// the function's results. Fails with `EBUSY` while a handler runs.
    pub(crate) fn invoke(
        &self,
        name: &str,
        args: &[Value],
        results: &mut alloc::vec::Vec<Value>,
    ) -> Result<core::result::Result<(), EngineError>> {
        let mut runner = self.runner.try_lock().ok_or(EBUSY)?;
        let runner = &mut *runner;
        let Some(func) = runner
            .store
            .get_export(runner.instance, name)
            .and_then(wasm_engine::Extern::func)
        else {
            return Err(ENOENT);
        };
        match runner.store.func_type(func) {
            Some(ty) if ty.results().len() <= results.capacity() => {}
            _ => return Err(EINVAL),
        }
        runner.store.config_mut().fuel = Some(self.fuel);
        runner.store.data_mut().begin_event(|_| 0);
        let outcome =
            runner
                .store
                .invoke_into_with(&mut KernelFloat::from_param(), func, args, results);
        runner.store.data_mut().end_event();
        Ok(outcome)
    }

    /// The counters, for ATTACH_INFO.
    pub(crate) fn stats(&self) -> AttachStats {
        let c = &self.counters;
        AttachStats {
            source: self.source,
            events: c.events.load(Relaxed),
            busy: c.busy.load(Relaxed),
            traps: c.traps.load(Relaxed),
            out_of_fuel: c.out_of_fuel.load(Relaxed),
            emitted: c.emitted.load(Relaxed),
            emit_dropped: c.emit_dropped.load(Relaxed),
            total_ns: c.total_ns.load(Relaxed),
            max_ns: c.max_ns.load(Relaxed),
            fuel: self.fuel,
        }
    }

    /// Events the handler ran for.
    pub(crate) fn events(&self) -> u64 {
        self.counters.events.load(Relaxed)
    }
}

/// A netfilter hook that runs the program: its `(len) -> i32` handler gets the packet's
/// length and its first bytes as the event's record, and returns 0 to drop it, anything else
/// to accept it. A handler that does not return (a trap, no fuel, busy) gives the default.
struct PacketFilter {
    program: Arc<Program>,
    default: Verdict,
}

impl netfilter::Hook for PacketFilter {
    fn hook(&self, skb: &SkBuff, _state: &HookState<'_>) -> Verdict {
        let len = skb.len() as usize;
        match self.program.run(len, |buf| skb.copy_prefix(buf)) {
            Some(0) => Verdict::Drop,
            Some(_) => Verdict::Accept,
            None => self.default,
        }
    }
}

/// Writes `fields` one after the other into `buf`, returning how many bytes fit.
fn put(buf: &mut [u8], fields: &[&[u8]]) -> usize {
    let mut at = 0;
    for field in fields {
        let room = buf.len().saturating_sub(at);
        let n = field.len().min(room);
        if let (Some(dst), Some(src)) = (buf.get_mut(at..at + n), field.get(..n)) {
            dst.copy_from_slice(src);
        }
        at += n;
    }
    at
}

/// A tracepoint probe that runs the program. The records, little-endian:
///
/// - exec: pid, tgid, old pid (u32 each), comm (16 bytes, NUL-padded), file name (NUL-ended);
/// - fork: parent pid, parent tgid, child pid, child tgid (u32), parent comm, child comm;
/// - exit: pid, tgid, group dead (u32, 0 or 1), comm.
///
/// The handler gets the record's length; its result is ignored.
struct TaskProbe {
    program: Arc<Program>,
}

fn le(v: i32) -> [u8; 4] {
    v.to_le_bytes()
}

impl Probe<ProcessExec> for TaskProbe {
    fn probe(&self, event: &ExecEvent<'_>) {
        let task = event.task();
        let fill = |buf: &mut [u8]| {
            put(
                buf,
                &[
                    &le(task.pid()),
                    &le(task.tgid()),
                    &le(event.old_pid()),
                    task.comm().as_array(),
                    event.filename().to_bytes_with_nul(),
                ],
            )
        };
        let len = 12 + 16 + event.filename().to_bytes_with_nul().len();
        self.program.run(len.min(MAX_EVENT_LEN), fill);
    }
}

impl Probe<ProcessFork> for TaskProbe {
    fn probe(&self, event: &ForkEvent) {
        let (p, c) = (event.parent(), event.child());
        let fill = |buf: &mut [u8]| {
            put(
                buf,
                &[
                    &le(p.pid()),
                    &le(p.tgid()),
                    &le(c.pid()),
                    &le(c.tgid()),
                    p.comm().as_array(),
                    c.comm().as_array(),
                ],
            )
        };
        self.program.run(48, fill);
    }
}

impl Probe<ProcessExit> for TaskProbe {
    fn probe(&self, event: &ExitEvent) {
        let task = event.task();
        let fill = |buf: &mut [u8]| {
            put(
                buf,
                &[
                    &le(task.pid()),
                    &le(task.tgid()),
                    &le(i32::from(event.group_dead())),
                    task.comm().as_array(),
                ],
            )
        };
        self.program.run(28, fill);
    }
}

/// The registration of an attachment's hook.
///
/// A registration is never read, only held: dropping it unregisters the hook.
#[expect(dead_code, reason = "held for its Drop, which unregisters the hook")]
enum Hook {
    Netfilter(Pin<KBox<netfilter::Registration<PacketFilter>>>),
    Exec(Pin<KBox<probe::Registration<ProcessExec, TaskProbe>>>),
    Fork(Pin<KBox<probe::Registration<ProcessFork, TaskProbe>>>),
    Exit(Pin<KBox<probe::Registration<ProcessExit, TaskProbe>>>),
}

/// An attachment, as the registry holds it.
///
/// The hook is declared first, so it is dropped first: unregistering waits for running
/// handlers, and only then does the program go.
pub(crate) struct Attachment {
    _hook: Hook,
    pub(crate) program: Arc<Program>,
    /// The module's code, which the instance runs.
    pub(crate) code: Arc<LoadedModule>,
}

/// Attaches `handler` of a new instance of `code` (made by `instantiate` in `store`) to
/// `source`.
///
/// Process context: everything the handler will need is allocated here.
pub(crate) fn attach(
    code: Arc<LoadedModule>,
    mut store: Store<KernelPlatform, ModuleHandle>,
    instance: InstanceAddr,
    handler: &str,
    source: AttachSource,
    fuel: u64,
    handle: u64,
) -> core::result::Result<Attachment, AttachError> {
    let func = store
        .get_export(instance, handler)
        .and_then(wasm_engine::Extern::func)
        .ok_or(AttachError::NoHandler)?;
    let ty = store.func_type(func).ok_or(AttachError::NoHandler)?;
    if ty.params() != [ValType::I32] || ty.results() != [ValType::I32] {
        return Err(AttachError::HandlerType);
    }
    store
        .try_set_interrupt_hook(AtomicHook)
        .map_err(|_| AttachError::Kernel(ENOMEM))?;
    store
        .reserve_stacks()
        .map_err(|_| AttachError::Kernel(ENOMEM))?;
    store.set_no_alloc(true);
    let counters = Arc::new(Counters::new(), GFP_KERNEL_ACCOUNT)?;
    store
        .data_mut()
        .attach(handle, &code.name, MAX_EVENT_LEN, counters.clone())
        .map_err(|_| AttachError::Kernel(ENOMEM))?;
    let mut results = alloc::vec::Vec::new();
    results
        .try_reserve_exact(1)
        .map_err(|_| AttachError::Kernel(ENOMEM))?;
    let program = Arc::pin_init(
        pin_init!(Program {
            runner <- new_spinlock!(Runner {
                store,
                instance,
                handler: func,
                results,
            }),
            counters,
            source,
            fuel,
        }),
        GFP_KERNEL_ACCOUNT,
    )?;
    let hook = match source {
        AttachSource::Netfilter {
            ipv6,
            hook,
            priority,
            default_accept,
        } => {
            let family = if ipv6 { Family::Ipv6 } else { Family::Ipv4 };
            let filter = PacketFilter {
                program: program.clone(),
                default: if default_accept {
                    Verdict::Accept
                } else {
                    Verdict::Drop
                },
            };
            Hook::Netfilter(KBox::pin_init(
                netfilter::Registration::register(family, hook_point(hook), priority, filter),
                GFP_KERNEL_ACCOUNT,
            )?)
        }
        AttachSource::Tracepoint(t) => {
            let probe = TaskProbe {
                program: program.clone(),
            };
            match t {
                Tracepoint::SchedProcessExec => Hook::Exec(KBox::pin_init(
                    probe::Registration::register(probe),
                    GFP_KERNEL_ACCOUNT,
                )?),
                Tracepoint::SchedProcessFork => Hook::Fork(KBox::pin_init(
                    probe::Registration::register(probe),
                    GFP_KERNEL_ACCOUNT,
                )?),
                Tracepoint::SchedProcessExit => Hook::Exit(KBox::pin_init(
                    probe::Registration::register(probe),
                    GFP_KERNEL_ACCOUNT,
                )?),
            }
        }
    };
    Ok(Attachment {
        _hook: hook,
        program,
        code,
    })
}

fn hook_point(hook: NfHook) -> HookPoint {
    match hook {
        NfHook::PreRouting => HookPoint::PreRouting,
        NfHook::LocalIn => HookPoint::LocalIn,
        NfHook::Forward => HookPoint::Forward,
        NfHook::LocalOut => HookPoint::LocalOut,
        NfHook::PostRouting => HookPoint::PostRouting,
    }
}

/// Why ATTACH failed.
pub(crate) enum AttachError {
    /// The module exports no function of the handler's name.
    NoHandler,
    /// The handler is not `(i32) -> i32`.
    HandlerType,
    /// The kernel refused (out of memory, too many hooks, no tracepoints).
    Kernel(Error),
}

impl From<Error> for AttachError {
    fn from(err: Error) -> Self {
        Self::Kernel(err)
    }
}

impl From<kernel::alloc::AllocError> for AttachError {
    fn from(_: kernel::alloc::AllocError) -> Self {
        Self::Kernel(ENOMEM)
    }
}
