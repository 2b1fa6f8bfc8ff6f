// SPDX-License-Identifier: GPL-2.0

//! Link groups: the instances that import from each other share one engine store, its
//! limits and its lock.
//!
//! Locking: a group's state mutex is held while wasm code of the group runs, so nobody ever
//! waits for it: every request takes it with [`Group::try_state`] and answers `BUSY` when
//! another call of the group runs. A run ends at its next interrupt check (at most
//! `Config::interrupt_interval` units of fuel later) when its task gets a fatal signal, when
//! the instance it runs is unloaded ([`Group::stop_if_running`]) or when the driver is
//! unloaded ([`SHUTDOWN`]).
//!
//! Memory: everything a group's instances allocate is charged to the group's store budget
//! before it is allocated. An unloaded instance's memory is freed by the next holder of the
//! state lock ([`Group::collect`]), at once if nobody holds it.

#[cfg(CONFIG_WASM_SPECTEST)]
use crate::host::Spectest;
use crate::platform::{Environ, KernelPlatform};
use crate::registry::ModuleHandle;
use kernel::{
    alloc::AllocError,
    new_mutex,
    prelude::*,
    sync::{
        atomic::{Atomic, Full, Relaxed},
        Arc, Mutex, MutexGuard,
    },
    task,
};
use wasm_engine::{Config, FuncAddr, InstanceAddr, InterruptHook, Store, TrapKind};

/// Set when the driver is being unloaded: every run and validation stops at its next
/// interrupt check, so that unloading completes in bounded time.
pub(crate) static SHUTDOWN: Atomic<bool> = Atomic::new(false);

/// Bytes all groups' stores are charged for, as of the end of their last operation.
pub(crate) static STORE_BYTES: Atomic<u64> = Atomic::new(0);

/// What the interrupt hook of a group's runs reads: which run to stop.
pub(crate) struct Control {
    /// The handle of the instance whose invocation runs now, 0 if none.
    running: Atomic<u64>,
    /// Asks the running invocation to stop at its next interrupt check.
    stop: Atomic<bool>,
}

/// The engine's interrupt hook in the kernel: yields the CPU, and stops the work when the
/// calling task is being killed, the driver is going away, or (for a group's runs) the
/// running instance was unloaded.
///
/// Requests are handled in the context of the `wasmctl` process that sent them, so a
/// `SIGKILL`, or a `SIGINT` (Ctrl-C) the process does not handle, is a fatal signal pending
/// on `current`.
pub(crate) struct KernelHook {
    control: Option<Arc<Control>>,
}

impl KernelHook {
    /// A hook for work outside any group: validation and translation of a module.
    pub(crate) fn new() -> Self {
        Self { control: None }
    }
}

impl InterruptHook for KernelHook {
    fn check(&mut self) -> core::result::Result<(), TrapKind> {
        task::cond_resched();
        let stopped = self.control.as_ref().is_some_and(|c| c.stop.load(Relaxed));
        if stopped || SHUTDOWN.load(Relaxed) || current!().fatal_signal_pending() {
            return Err(TrapKind::Interrupted);
        }
        Ok(())
    }
}

/// Limits a group is created with; its later members can lower them, never raise them.
#[derive(Clone, Copy)]
pub(crate) struct GroupLimits {
    /// Fuel of each invocation and start function; `None` for unlimited.
    pub(crate) fuel: Option<u64>,
    /// Largest linear memory, in 64 KiB pages.
    pub(crate) max_memory_pages: u32,
}

/// What the state lock protects.
pub(crate) struct GroupState {
    /// The engine store of all the group's instances; its data is what host functions see.
    pub(crate) store: Store<KernelPlatform, ModuleHandle>,
    /// Names under which instances of the group are importable (REGISTER).
    pub(crate) registered: KVec<(KVec<u8>, InstanceAddr)>,
    /// The conformance-testing host module, made on first use.
    #[cfg(CONFIG_WASM_SPECTEST)]
    pub(crate) spectest: Option<Spectest>,
    /// The host functions of the ABI (`kernel`, WASI) made so far, by import.
    pub(crate) abi_funcs: KVec<(u32, FuncAddr)>,
    /// The arguments and environment ARGS gave instances.
    pub(crate) environs: KVec<(InstanceAddr, Arc<Environ>)>,
    /// The instances the registry holds: the roots of [`Group::collect`].
    members: KVec<InstanceAddr>,
}

impl GroupState {
    /// The arguments and environment ARGS gave `addr`, if any.
    pub(crate) fn environ_of(&self, addr: InstanceAddr) -> Option<Arc<Environ>> {
        self.environs
            .iter()
            .find(|(a, _)| *a == addr)
            .map(|(_, e)| e.clone())
    }

    /// Gives `addr` `environ`, replacing what it had.
    pub(crate) fn set_environ(
        &mut self,
        addr: InstanceAddr,
        environ: Arc<Environ>,
    ) -> core::result::Result<(), AllocError> {
        match self.environs.iter_mut().find(|(a, _)| *a == addr) {
            Some(slot) => slot.1 = environ,
            None => self.environs.push((addr, environ), GFP_KERNEL_ACCOUNT)?,
        }
        Ok(())
    }
}

/// Instances linked to each other: one engine store.
#[pin_data(PinnedDrop)]
pub(crate) struct Group {
    #[pin]
    state: Mutex<GroupState>,
    /// Unloaded members waiting to be freed. Its capacity always covers every member, so
    /// [`Group::release`] never allocates.
    #[pin]
    dead: Mutex<KVec<InstanceAddr>>,
    control: Arc<Control>,
    limits: GroupLimits,
    /// What the group last added to [`STORE_BYTES`].
    bytes: Atomic<u64>,
}

/// The state lock was taken: another call of the group runs.
pub(crate) struct Busy;

impl Group {
    /// Creates an empty group whose store has `config`, within `limits`.
    pub(crate) fn new(config: Config, limits: GroupLimits) -> Result<Arc<Self>> {
        let control = Arc::new(
            Control {
                running: Atomic::new(0),
                stop: Atomic::new(false),
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        let mut store = Store::new(
            Config {
                fuel: limits.fuel,
                max_memory_pages: limits.max_memory_pages,
                ..config
            },
            KernelPlatform::new(),
        );
        store
            .try_set_interrupt_hook(KernelHook {
                control: Some(control.clone()),
            })
            .map_err(|_| ENOMEM)?;
        Arc::pin_init(
            pin_init!(Self {
                state <- new_mutex!(GroupState {
                    store,
                    registered: KVec::new(),
                    #[cfg(CONFIG_WASM_SPECTEST)]
                    spectest: None,
                    abi_funcs: KVec::new(),
                    environs: KVec::new(),
                    members: KVec::new(),
                }),
                dead <- new_mutex!(KVec::new()),
                control,
                limits,
                bytes: Atomic::new(0),
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }

    /// The limits the group was created with.
    pub(crate) fn limits(&self) -> GroupLimits {
        self.limits
    }

    /// Takes the state lock if nobody holds it: it is held while wasm runs, so waiting for
    /// it could mean waiting without bound.
    pub(crate) fn try_state(&self) -> core::result::Result<MutexGuard<'_, GroupState>, Busy> {
        self.state.try_lock().ok_or(Busy)
    }

    /// Records `addr`, just instantiated, as a member the registry holds.
    pub(crate) fn add_member(
        &self,
        state: &mut GroupState,
        addr: InstanceAddr,
    ) -> core::result::Result<(), AllocError> {
        state.members.reserve(1, GFP_KERNEL_ACCOUNT)?;
        let mut dead = self.dead.lock();
        // Room for every member not yet released, this one included.
        let pending = state.members.len() + 1 - dead.len().min(state.members.len());
        dead.reserve(pending, GFP_KERNEL_ACCOUNT)?;
        state
            .members
            .push_within_capacity(addr)
            .map_err(|_| AllocError)
    }

    /// Called when the registry lets go of member `addr`: frees it now if the group is idle,
    /// else leaves it to the call that runs.
    pub(crate) fn release(&self, addr: InstanceAddr) {
        // Within the capacity `add_member` reserved: cannot fail; if it did, the instance
        // would only be freed with the group.
        let _ = self.dead.lock().push_within_capacity(addr);
        if let Ok(mut state) = self.try_state() {
            self.collect(&mut state);
        }
    }

    /// Frees the members the registry let go of, what only they kept alive, and what
    /// failed instantiations left behind once nothing reaches it.
    pub(crate) fn collect(&self, state: &mut GroupState) {
        let mut dead = self.dead.lock();
        if dead.is_empty() && state.store.instance_count() == state.members.len() {
            return;
        }
        state.members.retain(|m| !dead.contains(m));
        state.registered.retain(|(_, addr)| !dead.contains(addr));
        state.environs.retain(|(addr, _)| !dead.contains(addr));
        dead.clear();
        drop(dead);
        Self::collect_garbage(state);
        self.note_usage(state);
    }

    /// Frees the objects no member can reach, such as what a failed instantiation left
    /// behind. The work is bounded by the group's budget and calls the interrupt hook. A
    /// half-made instance that an imported table still refers to stays until a later
    /// [`Group::collect`] finds it unreachable.
    pub(crate) fn collect_garbage(state: &mut GroupState) {
        // Out of memory for the marks: the objects are freed with the group instead.
        let _ = state.store.collect(&state.members);
    }

    /// Brings [`STORE_BYTES`] up to date with the group's store.
    pub(crate) fn note_usage(&self, state: &GroupState) {
        let now = state.store.bytes_used() as u64;
        let before = self.bytes.xchg(now, Relaxed);
        STORE_BYTES.fetch_add(now.wrapping_sub(before), Relaxed);
    }

    /// Marks the invocation of instance `handle` as running, unless `unloaded` says it is
    /// gone. Pairs with [`Group::stop_if_running`]: of an unload and an invocation racing,
    /// either the invocation sees the unload or the unload sees it running.
    pub(crate) fn begin_run(&self, handle: u64, unloaded: &Atomic<bool>) -> bool {
        self.control.stop.store(false, Relaxed);
        self.control.running.xchg(handle, Full);
        if unloaded.load(Relaxed) {
            self.control.running.store(0, Relaxed);
            return false;
        }
        true
    }

    /// Ends what [`Group::begin_run`] began.
    pub(crate) fn end_run(&self) {
        self.control.running.store(0, Relaxed);
        self.control.stop.store(false, Relaxed);
    }

    /// Stops the invocation of `handle` if it runs; `unloaded` was set (with a full barrier)
    /// before.
    pub(crate) fn stop_if_running(&self, handle: u64) {
        if self.control.running.load(Relaxed) == handle {
            self.control.stop.store(true, Relaxed);
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Group {
    fn drop(self: Pin<&mut Self>) {
        // The store goes with the group.
        let before = self.bytes.load(Relaxed);
        STORE_BYTES.fetch_add(0u64.wrapping_sub(before), Relaxed);
    }
}
