// SPDX-License-Identifier: GPL-2.0

//! The registry: the table of handles to uploads, modules and instances.
//!
//! One mutex protects the table; it is held only to look entries up and to change the
//! table, never while wasm runs or a module is validated. Modules and instances are
//! reference counted: unloading one while another client uses it only drops the table's
//! reference, and the user finishes on its own (an invocation of an unloaded instance stops
//! at its next interrupt check).

use crate::attach::Attachment;
use crate::group::Group;
use crate::protocol::Stats;
use kernel::{
    alloc::AllocError,
    prelude::*,
    sync::{
        atomic::{Atomic, Full, Relaxed},
        Arc,
    },
    time::{Instant, Monotonic},
};
use wasm_engine::{InstanceAddr, Module};

/// A module being uploaded.
pub(crate) struct Upload {
    pub(crate) name: KVec<u8>,
    /// The size LOAD_BEGIN announced.
    pub(crate) total: u32,
    /// What arrived so far. Its capacity grows with the data, never beyond `total`.
    pub(crate) data: KVVec<u8>,
    pub(crate) last_activity: Instant<Monotonic>,
}

/// A validated and translated module.
pub(crate) struct LoadedModule {
    pub(crate) name: KVec<u8>,
    pub(crate) size: u32,
    pub(crate) module: Module,
}

/// A shared handle to a loaded module: what the engine's stores keep of it, so that every
/// instance of a module runs the same translated code.
#[derive(Clone)]
pub(crate) struct ModuleHandle(pub(crate) Arc<LoadedModule>);

impl core::ops::Deref for ModuleHandle {
    type Target = Module;

    fn deref(&self) -> &Module {
        &self.0.module
    }
}

/// An instance: a member of a link group.
pub(crate) struct LoadedInstance {
    /// The handle of its module.
    pub(crate) module: u64,
    pub(crate) code: Arc<LoadedModule>,
    pub(crate) group: Arc<Group>,
    pub(crate) addr: InstanceAddr,
    /// Fuel of each invocation, `None` for unlimited.
    pub(crate) fuel: Option<u64>,
    /// Set when the registry drops the instance: no new invocation starts, and the running
    /// one stops.
    pub(crate) unloaded: Atomic<bool>,
    pub(crate) calls: Atomic<u64>,
    pub(crate) fuel_used: Atomic<u64>,
    pub(crate) memory_pages: Atomic<u32>,
}

impl Drop for LoadedInstance {
    fn drop(&mut self) {
        self.group.release(self.addr);
    }
}

/// What a handle names.
pub(crate) enum Entry {
    Upload(Upload),
    Module(Arc<LoadedModule>),
    Instance(Arc<LoadedInstance>),
    /// An instance attached to a kernel event source; dropping it detaches it.
    Attachment(KBox<Attachment>),
}

impl Entry {
    /// Called when the entry leaves the table: an instance's running invocation stops.
    fn unloaded(&self, handle: u64) {
        if let Entry::Instance(instance) = self {
            instance.unloaded.xchg(true, Full);
            instance.group.stop_if_running(handle);
        }
    }

    /// The bytes the entry holds on its user's behalf (the groups' stores count apart).
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Entry::Upload(u) => u.data.capacity(),
            Entry::Module(m) => m.module.code_bytes().saturating_add(m.size as usize),
            Entry::Instance(_) | Entry::Attachment(_) => 0,
        }
    }
}

/// The table of handles.
pub(crate) struct Registry {
    pub(crate) next_handle: u64,
    /// Sorted by handle: handles only grow and are appended.
    pub(crate) entries: KVec<(u64, Entry)>,
    /// Handles tied to a client's socket (TRANSIENT), with its port id; a handle at most
    /// once, so this is no longer than `entries`.
    pub(crate) transient: KVec<(u64, u32)>,
    pub(crate) stats: Stats,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Self {
            next_handle: 1,
            entries: KVec::new(),
            transient: KVec::new(),
            stats: Stats::default(),
        }
    }

    fn position(&self, handle: u64) -> Option<usize> {
        self.entries.binary_search_by_key(&handle, |(h, _)| *h).ok()
    }

    pub(crate) fn find(&self, handle: u64) -> Option<&Entry> {
        let i = self.position(handle)?;
        self.entries.get(i).map(|(_, e)| e)
    }

    pub(crate) fn find_mut(&mut self, handle: u64) -> Option<&mut Entry> {
        let i = self.position(handle)?;
        self.entries.get_mut(i).map(|(_, e)| e)
    }

    /// Removes `handle` from the table. The caller drops the entry after releasing the lock:
    /// dropping the last reference to a module or a group frees it, which takes a while.
    pub(crate) fn remove(&mut self, handle: u64) -> Option<Entry> {
        let i = self.position(handle)?;
        self.transient.retain(|(h, _)| *h != handle);
        let (_, entry) = self.entries.remove(i).ok()?;
        entry.unloaded(handle);
        Some(entry)
    }

    /// Removes `handle` and, for a module, its instances, moving them to `dropped` so that
    /// the caller frees them after releasing the lock.
    pub(crate) fn remove_cascade(
        &mut self,
        handle: u64,
        dropped: &mut KVec<Entry>,
    ) -> Result<(), AllocError> {
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
                        e.unloaded(h);
                        // Within the capacity reserved above.
                        dropped.push_within_capacity(e).map_err(|_| AllocError)?;
                    }
                } else {
                    i += 1;
                }
            }
        }
        if let Some(e) = self.remove(handle) {
            dropped.push_within_capacity(e).map_err(|_| AllocError)?;
        }
        Ok(())
    }

    /// As [`Self::remove_cascade`], when there is no memory for the list of what to free:
    /// frees each entry at once, under the caller's lock. A module's instances go too, as with
    /// the list: removing only the module left its instances behind, with no module handle
    /// to cascade from (`make check-debug` found one after its fault injection).
    pub(crate) fn remove_cascade_now(&mut self, handle: u64) {
        if matches!(self.find(handle), Some(Entry::Module(_))) {
            while let Some(instance) = self
                .entries
                .iter()
                .find(|(_, e)| matches!(e, Entry::Instance(i) if i.module == handle))
                .map(|(h, _)| *h)
            {
                // Found just above, so removed; if not, stop rather than find it again.
                if self.remove(instance).is_none() {
                    break;
                }
            }
        }
        drop(self.remove(handle));
    }

    /// Adds `entry` under a new handle.
    pub(crate) fn insert(&mut self, entry: Entry) -> Result<u64> {
        let handle = self.next_handle;
        self.entries.push((handle, entry), GFP_KERNEL_ACCOUNT)?;
        self.next_handle += 1;
        Ok(handle)
    }

    /// Inserts `entry` under `handle`, which is below `next_handle` and unused (a module
    /// keeps its upload's handle).
    pub(crate) fn insert_at(&mut self, handle: u64, entry: Entry) -> Result<(), AllocError> {
        let at = match self.entries.binary_search_by_key(&handle, |(h, _)| *h) {
            Ok(_) => return Err(AllocError),
            Err(at) => at,
        };
        self.entries.reserve(1, GFP_KERNEL_ACCOUNT)?;
        self.entries
            .insert_within_capacity(at, (handle, entry))
            .map_err(|_| AllocError)
    }

    /// Ties `handle` to the socket `port_id`.
    pub(crate) fn make_transient(&mut self, handle: u64, port_id: u32) -> Result<(), AllocError> {
        match self.transient.iter_mut().find(|(h, _)| *h == handle) {
            Some(entry) => entry.1 = port_id,
            None => self.transient.push((handle, port_id), GFP_KERNEL_ACCOUNT)?,
        }
        Ok(())
    }

    /// How many entries are uploads.
    pub(crate) fn uploads(&self) -> usize {
        self.entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Upload(_)))
            .count()
    }

    /// The counters, with the current totals filled in.
    pub(crate) fn stats(&self) -> Stats {
        let mut stats = self.stats;
        for (_, entry) in self.entries.iter() {
            stats.kernel_bytes += entry.bytes() as u64;
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
                Entry::Attachment(_) => stats.instances += 1,
            }
        }
        stats
    }
}
