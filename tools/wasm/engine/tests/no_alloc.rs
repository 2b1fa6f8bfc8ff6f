// SPDX-License-Identifier: GPL-2.0

//! A store prepared for atomic context (`reserve_stacks`, `set_no_alloc`, results reserved)
//! must not allocate at all when invoked: in the kernel, an attached handler runs in softirq
//! context or under a tracepoint, where a sleeping allocation is a bug (lockdep and
//! `DEBUG_ATOMIC_SLEEP` report it; `make check-debug` found one). A global allocator counts
//! this thread's allocations around `invoke_into`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use wasm_engine::{Config, Module, Store, Value};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to `System` unchanged; the counter is a thread-local
// `Cell` that does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is `GlobalAlloc::alloc`'s, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through `alloc` or `realloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is `GlobalAlloc::realloc`'s, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

#[test]
fn prepared_invocations_do_not_allocate() {
    let wat = r#"(module
        (global $n (mut i32) (i32.const 0))
        (func $add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
        (func (export "handler") (param i32) (result i32)
          (global.set $n (call $add (global.get $n) (local.get 0)))
          (global.get $n)))"#;
    let config = Config::default();
    let bytes = wat::parse_str(wat).expect("test module must parse");
    let module = Arc::new(Module::new(&config, &bytes).expect("test module must load"));
    let mut store = Store::new(config, ());
    let instance = store.instantiate(&module, &[]).expect("instantiate");
    let f = store
        .get_export(instance, "handler")
        .and_then(|e| e.func())
        .expect("export");
    store.reserve_stacks().expect("reserve stacks");
    store.set_no_alloc(true);
    let mut results = Vec::with_capacity(1);
    let before = allocs();
    for i in 1..=100 {
        store
            .invoke_into(f, &[Value::I32(i)], &mut results)
            .expect("invoke");
    }
    let during = allocs() - before;
    assert_eq!(results, [Value::I32(5050)]);
    assert_eq!(
        during, 0,
        "{during} allocations in 100 prepared invocations"
    );
}
