// SPDX-License-Identifier: GPL-2.0

//! The global allocator behind the runtime's private `alloc` crate.
//!
//! Rust's `alloc` crate calls the global allocator through symbols that rustc normally
//! generates for the final artifact (`__rust_alloc` and friends). The kernel links no such
//! artifact, so this crate defines them, on top of [`KVmalloc`] with [`flags()`]: small
//! allocations come from the slab, large ones (a wasm linear memory) from vmalloc.
//!
//! Allocation failure is reported to the caller as a null pointer, which the fallible `alloc`
//! APIs (`try_reserve`, ...) the engine uses turn into errors. Only the infallible APIs end in
//! [`__rust_alloc_error_handler`], which panics: the runtime bounds what it hands to code that
//! uses them (see `Documentation/wasm/`).
//!
//! These are rustc-internal interfaces: recheck them when the minimum Rust version changes.

#![no_std]
#![feature(rustc_attrs)]
// `rustc_std_internal_symbol` is the only way to define the allocator symbols `alloc` calls.
#![allow(internal_features)]

use core::{
    alloc::Layout,
    ptr::{self, NonNull},
};
use kernel::alloc::{
    allocator::KVmalloc,
    flags::{__GFP_NOWARN, __GFP_ZERO, GFP_KERNEL_ACCOUNT},
    Allocator, Flags, NumaNode,
};

/// The flags of every allocation. Everything the engine allocates is on behalf of the task
/// that sent the request (a module, its instances' memories and tables), so it is charged
/// to that task's memory cgroup (`__GFP_ACCOUNT`). Sizes come from wasm modules, and failing
/// is an answer the engine handles (`memory.grow` returns -1, instantiation fails): no
/// allocation-failure warnings in the kernel log (`__GFP_NOWARN`).
#[inline]
fn flags() -> Flags {
    GFP_KERNEL_ACCOUNT | __GFP_NOWARN
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
    match unsafe { KVmalloc::realloc(old, layout, old_layout, flags, NumaNode::NO_NODE) } {
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

/// Called by the infallible `alloc` APIs when an allocation fails.
#[rustc_std_internal_symbol]
pub fn __rust_alloc_error_handler(size: usize, align: usize) -> ! {
    panic!("wasm: out of memory allocating {size} bytes (alignment {align})");
}

/// Marks that an allocator shim exists; `alloc` calls it to keep the dependency explicit.
#[rustc_std_internal_symbol]
pub fn __rust_no_alloc_shim_is_unstable_v2() {}
