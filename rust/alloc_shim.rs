// SPDX-License-Identifier: GPL-2.0

//! The global allocator behind the kernel's build of Rust's `alloc` crate.
//!
//! The kernel does not use `alloc` (the `kernel` crate has its own `KBox` and `KVec`), but
//! vendored `no_std` crates that need it (`wasmparser`) get it with `CONFIG_RUST_ALLOC`.
//! `alloc` calls the global allocator through symbols that rustc normally generates for the
//! final artifact (`__rust_alloc` and friends). The kernel links no such artifact, so this
//! crate defines them, on top of [`KVmalloc`] with [`flags()`]: small allocations come from
//! the slab, large ones from vmalloc.
//!
//! Allocation failure is reported to the caller as a null pointer, which `alloc`'s fallible
//! APIs (`try_reserve`, `try_with_capacity`, ...) turn into errors. The infallible APIs would
//! end in [`__rust_alloc_error_handler`], which panics. Code that has to call a crate that
//! allocates with the infallible APIs (`Vec::push`, `BTreeMap`) does it in a [`NoFailScope`]:
//! there, an allocation that fails is retried with `__GFP_NOFAIL`, which the page and vmalloc
//! allocators satisfy by reclaiming, by the OOM killer or from the reserves, instead of
//! failing. What such a scope allocates must be bounded by its user.
//!
//! These are rustc-internal interfaces (`#[rustc_std_internal_symbol]` is the only way to
//! define the symbols `alloc` calls, whose names rustc mangles): recheck them when the minimum
//! Rust version changes. Keeping them in this one crate is what isolates them.

#![no_std]
#![feature(rustc_attrs)]
// `rustc_std_internal_symbol` is the only way to define the allocator symbols `alloc` calls.
#![allow(internal_features)]

use core::{
    alloc::Layout,
    marker::PhantomData,
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    alloc::{
        allocator::KVmalloc,
        flags::{__GFP_NOFAIL, __GFP_NOWARN, __GFP_RETRY_MAYFAIL, __GFP_ZERO, GFP_KERNEL_ACCOUNT},
        Allocator, Flags, NumaNode,
    },
    bindings,
    task::Task,
};

/// How many tasks can be in a [`NoFailScope`] at once. Callers beyond it are refused (and
/// should answer `EBUSY`), which also bounds how much memory all the scopes together may take
/// without failing.
pub const MAX_NOFAIL_SCOPES: usize = 64;

/// The tasks in a [`NoFailScope`], null where a slot is free. Read only when an allocation
/// has failed, so the common path pays nothing for it.
static NOFAIL_TASKS: [AtomicPtr<bindings::task_struct>; MAX_NOFAIL_SCOPES] =
    [const { AtomicPtr::new(ptr::null_mut()) }; MAX_NOFAIL_SCOPES];

/// While this value lives, allocations of the current task through this allocator do not fail:
/// one that fails is retried with `__GFP_NOFAIL`.
///
/// For code that allocates with `alloc`'s infallible interfaces (such as `wasmparser`'s
/// decoder and validator), where a failure would panic. Use it only around work whose
/// allocations are bounded by a limit, in process context, and never across a sleep on
/// something another task must do first.
///
/// # Examples
///
/// ```ignore
/// let Some(_scope) = alloc_shim::NoFailScope::enter() else {
///     return Err(EBUSY);
/// };
/// // Decoding and validating a WebAssembly module whose size the caller has checked.
/// ```
pub struct NoFailScope {
    slot: &'static AtomicPtr<bindings::task_struct>,
    /// The slot names the task that entered the scope: it must leave it on the same task.
    _not_send: PhantomData<*mut ()>,
}

impl NoFailScope {
    /// Enters a scope for the current task, or returns `None` if [`MAX_NOFAIL_SCOPES`] tasks
    /// are in one already.
    pub fn enter() -> Option<Self> {
        let current = Task::current_raw();
        NOFAIL_TASKS.iter().find_map(|slot| {
            slot.compare_exchange(
                ptr::null_mut(),
                current,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .ok()
            .map(|_| Self {
                slot,
                _not_send: PhantomData,
            })
        })
    }
}

impl Drop for NoFailScope {
    fn drop(&mut self) {
        self.slot.store(ptr::null_mut(), Ordering::Release);
    }
}

/// Whether the current task is in a [`NoFailScope`].
pub fn in_nofail_scope() -> bool {
    let current = Task::current_raw();
    // A slot holds a task only while that task is inside its scope, so finding `current`
    // cannot be a stale match for this task.
    NOFAIL_TASKS
        .iter()
        .any(|slot| slot.load(Ordering::Acquire) == current)
}

/// The flags of every allocation. `alloc`'s users allocate on behalf of the task that called
/// them (the WebAssembly runtime: a module, its instances' memories and tables), so it is
/// charged to that task's memory cgroup (`__GFP_ACCOUNT`). Sizes come from untrusted input,
/// and failing is an answer the caller handles (`memory.grow` returns -1, instantiation
/// fails): no allocation-failure warnings in the kernel log (`__GFP_NOWARN`), and no OOM
/// killer (`__GFP_RETRY_MAYFAIL`): an allocation beyond the cgroup's `memory.max` is an error
/// returned to the caller, not the cgroup's OOM killer killing it. BPF's map allocations make
/// the same choice. Its cost: for more than a page, `kvmalloc` then also reclaims and compacts
/// for a physically contiguous block before it falls back to vmalloc. Inside a
/// [`NoFailScope`] a failed allocation is retried without it, with `__GFP_NOFAIL`.
#[inline]
fn flags() -> Flags {
    GFP_KERNEL_ACCOUNT | __GFP_NOWARN | __GFP_RETRY_MAYFAIL
}

/// Allocates or resizes with [`KVmalloc`]; null on failure or an impossible layout.
///
/// # Safety
///
/// If `old` is `Some`, it must be an allocation of this allocator with layout
/// `(old_size, align)`.
unsafe fn kvrealloc(
    old: Option<NonNull<u8>>,
    old_size: usize,
    size: usize,
    align: usize,
    flags: Flags,
) -> *mut u8 {
    let (Ok(layout), Ok(old_layout)) = (
        Layout::from_size_align(size, align),
        Layout::from_size_align(old_size, align),
    ) else {
        return ptr::null_mut();
    };
    // SAFETY: by this function's safety requirements, `old` (if any) was allocated by
    // `KVmalloc` with `old_layout`.
    if let Ok(new) = unsafe { KVmalloc::realloc(old, layout, old_layout, flags, NumaNode::NO_NODE) }
    {
        return new.as_ptr().cast::<u8>();
    }
    if !in_nofail_scope() {
        return ptr::null_mut();
    }
    // A failed `realloc` leaves `old` untouched, so it is still such an allocation.
    // SAFETY: as above.
    match unsafe {
        KVmalloc::realloc(
            old,
            layout,
            old_layout,
            (flags & !__GFP_RETRY_MAYFAIL) | __GFP_NOFAIL,
            NumaNode::NO_NODE,
        )
    } {
        Ok(new) => new.as_ptr().cast::<u8>(),
        Err(_) => ptr::null_mut(),
    }
}

/// `alloc`'s allocation entry point.
///
/// # Safety
///
/// As `GlobalAlloc::alloc`: `size` is non-zero and `align` a power of two.
#[rustc_std_internal_symbol]
pub unsafe fn __rust_alloc(size: usize, align: usize) -> *mut u8 {
    // SAFETY: no old allocation.
    unsafe { kvrealloc(None, 0, size, align, flags()) }
}

/// `alloc`'s zeroing allocation entry point.
///
/// # Safety
///
/// As `GlobalAlloc::alloc_zeroed`.
#[rustc_std_internal_symbol]
pub unsafe fn __rust_alloc_zeroed(size: usize, align: usize) -> *mut u8 {
    // SAFETY: no old allocation.
    unsafe { kvrealloc(None, 0, size, align, flags() | __GFP_ZERO) }
}

/// `alloc`'s deallocation entry point.
///
/// # Safety
///
/// As `GlobalAlloc::dealloc`: `ptr` was returned by one of these functions with this layout.
#[rustc_std_internal_symbol]
pub unsafe fn __rust_dealloc(ptr: *mut u8, size: usize, align: usize) {
    let (Some(ptr), Ok(layout)) = (NonNull::new(ptr), Layout::from_size_align(size, align)) else {
        return;
    };
    // SAFETY: by this function's safety requirements, `ptr` was allocated by `KVmalloc` with
    // `layout`.
    unsafe { KVmalloc::free(ptr, layout) };
}

/// `alloc`'s reallocation entry point.
///
/// # Safety
///
/// As `GlobalAlloc::realloc`: `ptr` was returned by one of these functions with layout
/// `(old_size, align)`, and `new_size` is non-zero.
#[rustc_std_internal_symbol]
pub unsafe fn __rust_realloc(
    ptr: *mut u8,
    old_size: usize,
    align: usize,
    new_size: usize,
) -> *mut u8 {
    // SAFETY: by this function's safety requirements, `ptr` is such an allocation.
    unsafe { kvrealloc(NonNull::new(ptr), old_size, new_size, align, flags()) }
}

/// Called by the infallible `alloc` APIs when an allocation fails: outside a [`NoFailScope`],
/// which only code that uses nothing but the fallible APIs should be.
#[rustc_std_internal_symbol]
pub fn __rust_alloc_error_handler(size: usize, align: usize) -> ! {
    panic!("alloc: out of memory allocating {size} bytes (alignment {align})");
}

/// Marks that an allocator shim exists; `alloc` calls it to keep the dependency explicit.
#[rustc_std_internal_symbol]
pub fn __rust_no_alloc_shim_is_unstable_v2() {}
