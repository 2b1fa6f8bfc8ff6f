// SPDX-License-Identifier: GPL-2.0

//! Error messages are formatted with `format_message`, which must not abort when memory runs
//! out, the way `format!` would (in the kernel, the allocation error handler panics): the
//! message then says its details were lost. A global allocator that fails on request checks
//! that, and that a literal message allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;

use wasm_engine::{format_message, Error};

struct Failing;

thread_local! {
    static FAIL: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn failing() -> bool {
    FAIL.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: every call is forwarded to `System` unchanged, or fails with a null pointer as the
// contract allows; the thread-locals are `Cell`s that do not allocate.
unsafe impl GlobalAlloc for Failing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        if failing() {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract is `GlobalAlloc::alloc`'s, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through `alloc` or `realloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        if failing() {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract is `GlobalAlloc::realloc`'s, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Failing = Failing;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

#[test]
fn formats_like_format() {
    let (name, limit) = ("memory", 65536u32);
    let text = format_message(format_args!("{name} exceeds {limit} pages"));
    assert_eq!(text, format!("{name} exceeds {limit} pages"));
    assert!(matches!(text, Cow::Owned(_)));
}

#[test]
fn one_exact_allocation() {
    let n = 12345u64;
    let before = allocs();
    let text = format_message(format_args!("function {n} at offset {:#x}", n * 3));
    assert_eq!(allocs() - before, 1, "measured, then one exact reservation");
    assert_eq!(text.len(), "function 12345 at offset 0x9087".len());
    if let Cow::Owned(s) = &text {
        assert_eq!(s.capacity(), s.len());
    }
}

#[test]
fn literals_do_not_allocate() {
    let before = allocs();
    let text = format_message(format_args!("no such function"));
    let err = Error::Invoke("no such export".into());
    assert_eq!(allocs(), before);
    assert!(matches!(text, Cow::Borrowed("no such function")));
    assert_eq!(err.to_string(), "invalid invocation: no such export");
}

#[test]
fn out_of_memory_loses_details_not_the_error() {
    let n = 7u32;
    FAIL.with(|f| f.set(true));
    let text = format_message(format_args!("table {n} has too many elements"));
    FAIL.with(|f| f.set(false));
    assert_eq!(text, "(details lost: out of memory)");
    assert_eq!(
        Error::Limit(text).to_string(),
        "limit exceeded: (details lost: out of memory)"
    );
}
