// SPDX-License-Identifier: GPL-2.0

//! Small programs that take every path of the interpreter's unsafe core (see the module
//! documentation of `drivers/wasm/engine/exec/interp.rs`): instruction fetch and branches of
//! every width, slot reads and writes, frames on a value stack that grows, and so moves,
//! during calls, linear-memory accesses of every form at the edges of memory, memory growth
//! and host calls that borrow the memory and the store while wasm frames are live, and
//! refuelling. Small enough to run under Miri (`make miri`), which checks every pointer
//! access against Rust's aliasing model and every offset against its allocation; without
//! Miri they run as ordinary tests. Each runs with both of the interpreter's dispatches
//! (`wasm_engine::Dispatch`): the same instructions reached two ways.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use wasm_engine::{
    Caller, Config, Dispatch, Error, Extern, FuncType, Module, Store, Trap, TrapKind, ValType,
    Value,
};

mod common;
use common::{call_export, module, trap_kind, CountingHook};

/// The default configuration with `dispatch`.
fn config(dispatch: Dispatch) -> Config {
    Config {
        dispatch,
        ..Config::default()
    }
}

fn run(
    dispatch: Dispatch,
    m: &Arc<Module>,
    func: &str,
    args: &[Value],
) -> Result<Vec<Value>, Error> {
    call_export(m, config(dispatch), func, args)
}

/// A test of each of `$name`, with each dispatch.
macro_rules! with_each_dispatch {
    ($($name:ident),* $(,)?) => {
        mod match_dispatch {
            $(#[test]
            fn $name() {
                super::$name(super::Dispatch::Match)
            })*
        }
        mod threaded_dispatch {
            $(#[test]
            fn $name() {
                super::$name(super::Dispatch::Threaded)
            })*
        }
    };
}

with_each_dispatch!(
    memory_accesses_at_the_edges,
    value_stack_grows_under_live_frames,
    memory_grows_while_running,
    host_calls_between_live_frames,
    control_flow_and_refuelling,
    traps_unwind_and_the_store_stays_usable,
);

const I: fn(i32) -> Value = Value::I32;
const L: fn(i64) -> Value = Value::I64;

/// Every load and store form (plain, constant address, wrapping `...W`, indexed `...X`,
/// advancing, immediate value) at the last bytes of memory, and one byte past them.
fn memory_accesses_at_the_edges(dispatch: Dispatch) {
    let m = module(
        &config(dispatch),
        r#"(module (memory 1)
            (func (export "plain") (param i32) (result i64)
                (i64.store (local.get 0) (i64.const 0x0102030405060708))
                (i32.store8 (local.get 0) (i32.const 0x7f))
                (i32.store16 offset=2 (local.get 0) (i32.const -2))
                (i64.add
                    (i64.add (i64.load (local.get 0)) (i64.load8_s offset=7 (local.get 0)))
                    (i64.extend_i32_u (i32.load16_u offset=6 (local.get 0)))))
            (func (export "wrapped") (param i32) (result i32)
                (i32.store (i32.add (local.get 0) (i32.const 4)) (i32.const 99))
                (i32.load (i32.add (local.get 0) (i32.const 4))))
            (func (export "indexed") (param i32 i32) (result i32)
                (i32.store8 (i32.add (local.get 0) (local.get 1)) (i32.const 200))
                (i32.load8_u (i32.add (local.get 0) (local.get 1))))
            (func (export "absolute") (param i64) (result i64)
                (i64.store (i32.const 65528) (local.get 0))
                (i64.load (i32.const 65528)))
            (func (export "advancing") (param i32) (result i32) (local i32)
                (loop $l
                    (local.set 1 (i32.add (local.get 1)
                        (i32.load (local.tee 0 (i32.add (local.get 0) (i32.const 4))))))
                    (br_if $l (i32.lt_u (local.get 0) (i32.const 65532))))
                (local.get 1))
            (func (export "bulk") (param i32 i32) (result i32)
                (memory.fill (local.get 0) (i32.const 7) (local.get 1))
                (memory.copy (i32.const 0) (local.get 0) (local.get 1))
                (i32.load8_u (i32.sub (local.get 1) (i32.const 1)))))"#,
    );
    assert_eq!(
        run(dispatch, &m, "plain", &[I(65528)]).unwrap(),
        [L(0x0102_0304_fffe_077f + 1 + 0x0102)]
    );
    assert_eq!(
        trap_kind(run(dispatch, &m, "plain", &[I(65529)])),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(run(dispatch, &m, "wrapped", &[I(65528)]).unwrap(), [I(99)]);
    // -4 + 4 wraps to 0.
    assert_eq!(run(dispatch, &m, "wrapped", &[I(-4)]).unwrap(), [I(99)]);
    assert_eq!(
        trap_kind(run(dispatch, &m, "wrapped", &[I(65529)])),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(
        run(dispatch, &m, "indexed", &[I(65534), I(1)]).unwrap(),
        [I(200)]
    );
    assert_eq!(
        trap_kind(run(dispatch, &m, "indexed", &[I(65535), I(1)])),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(run(dispatch, &m, "absolute", &[L(-3)]).unwrap(), [L(-3)]);
    // Reads the zeroed words up to the last one, then one past the end.
    assert_eq!(run(dispatch, &m, "advancing", &[I(65520)]).unwrap(), [I(0)]);
    assert_eq!(
        trap_kind(run(dispatch, &m, "advancing", &[I(65532)])),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(
        run(dispatch, &m, "bulk", &[I(65536 - 40), I(40)]).unwrap(),
        [I(7)]
    );
    assert_eq!(
        trap_kind(run(dispatch, &m, "bulk", &[I(65536 - 40), I(41)])),
        TrapKind::MemoryOutOfBounds
    );
}

/// Recursion with wide frames grows the value stack several times while frames below are
/// live (the stack moves: the interpreter must re-derive its pointers), and the results come
/// back through every frame.
fn value_stack_grows_under_live_frames(dispatch: Dispatch) {
    let locals = " i64".repeat(40);
    let m = module(
        &config(dispatch),
        &format!(
            r#"(module
            (func $down (export "down") (param i32) (result i64) (local{locals})
                (local.set 40 (i64.extend_i32_u (local.get 0)))
                (if (result i64) (i32.eqz (local.get 0))
                    (then (i64.const 0))
                    (else (i64.add (local.get 40)
                        (call $down (i32.sub (local.get 0) (i32.const 1))))))))"#
        ),
    );
    assert_eq!(
        run(dispatch, &m, "down", &[I(120)]).unwrap(),
        [L(120 * 121 / 2)]
    );
}

/// `memory.grow` while running moves the memory; accesses after it reach the new pages.
fn memory_grows_while_running(dispatch: Dispatch) {
    let m = module(
        &config(dispatch),
        r#"(module (memory 1 4)
            (func (export "grow") (result i32)
                (i32.store (i32.const 65532) (i32.const 5))
                (drop (memory.grow (i32.const 2)))
                (i32.store (i32.const 196604) (i32.const 6))
                (i32.add (i32.load (i32.const 65532)) (i32.load (i32.const 196604)))))"#,
    );
    assert_eq!(run(dispatch, &m, "grow", &[]).unwrap(), [I(11)]);
}

fn poke(caller: &mut Caller<'_, u32>, args: &[Value], _: &mut [Value]) -> Result<(), Trap> {
    let Some(Value::I32(at)) = args.first() else {
        return Err(Trap::new(TrapKind::Internal));
    };
    *caller.data_mut() += 1;
    let memory = caller.memory().ok_or(Trap::new(TrapKind::Internal))?;
    let at = *at as u32 as usize;
    let byte = memory
        .get_mut(at)
        .ok_or(Trap::new(TrapKind::MemoryOutOfBounds))?;
    *byte = byte.wrapping_add(1);
    Ok(())
}

/// A host function borrows the store's data and the caller's memory between wasm frames, at
/// several depths; the frames and memory pointers stay valid around it.
fn host_calls_between_live_frames(dispatch: Dispatch) {
    let config = config(dispatch);
    let m = module(
        &config,
        r#"(module
            (import "host" "poke" (func $poke (param i32)))
            (memory 1)
            (func $rec (export "rec") (param i32) (result i32)
                (call $poke (i32.const 10))
                (if (result i32) (i32.eqz (local.get 0))
                    (then (i32.load8_u (i32.const 10)))
                    (else (call $rec (i32.sub (local.get 0) (i32.const 1)))))))"#,
    );
    let mut store = Store::new(config, 0u32);
    let ty = FuncType::new([ValType::I32], []).unwrap();
    let poke = store.add_host_func(ty, poke).unwrap();
    let instance = store.instantiate(&m, &[Extern::Func(poke)]).unwrap();
    let f = store
        .get_export(instance, "rec")
        .and_then(|e| e.func())
        .unwrap();
    assert_eq!(store.invoke(f, &[I(30)]).unwrap(), [I(31)]);
    assert_eq!(*store.data(), 31);
}

/// Indirect calls, `br_table`, `select`, fused compare-and-branch and counted-loop back edges
/// with a small interrupt interval, so that refuelling and the interrupt hook run inside
/// loops and calls; then the hook stops a run there, which leaves the store usable.
fn control_flow_and_refuelling(dispatch: Dispatch) {
    let config = Config {
        interrupt_interval: 16,
        ..config(dispatch)
    };
    let m = module(
        &config,
        r#"(module
            (type $t (func (param i32) (result i32)))
            (table 3 funcref)
            (elem (i32.const 0) $inc $dbl $neg)
            (func $inc (type $t) (i32.add (local.get 0) (i32.const 1)))
            (func $dbl (type $t) (i32.shl (local.get 0) (i32.const 1)))
            (func $neg (type $t) (i32.sub (i32.const 0) (local.get 0)))
            (func (export "mix") (param i32) (result i32) (local i32 i32)
                (loop $l
                    (local.set 2 (call_indirect (type $t) (local.get 2)
                        (i32.rem_u (local.get 1) (i32.const 3))))
                    (block $b (block $a
                        (br_table $a $b (i32.and (local.get 1) (i32.const 1))))
                        (local.set 2 (select (local.get 2) (i32.const 3)
                            (i32.and (local.get 2) (i32.const 4)))))
                    (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                    (br_if $l (i32.ne (local.get 1) (local.get 0))))
                (local.get 2)))"#,
    );
    let mut store = Store::new(config, ());
    let calls = Arc::new(AtomicU64::new(0));
    store.set_interrupt_hook(Box::new(CountingHook {
        calls: calls.clone(),
        stop_after: u64::MAX,
    }));
    let instance = store.instantiate(&m, &[]).unwrap();
    let f = store
        .get_export(instance, "mix")
        .and_then(|e| e.func())
        .unwrap();
    // The same steps in Rust.
    let mut want = 0i32;
    for i in 0..50 {
        want = match i % 3 {
            0 => want.wrapping_add(1),
            1 => want.wrapping_shl(1),
            _ => want.wrapping_neg(),
        };
        if i & 1 == 0 && want & 4 == 0 {
            want = 3;
        }
    }
    assert_eq!(store.invoke(f, &[I(50)]).unwrap(), [I(want)]);
    let ran = calls.load(Ordering::Relaxed);
    assert!(ran > 10, "the hook ran {ran} times");
    // Stopped by the hook within the loop, then run again to the end.
    store.set_interrupt_hook(Box::new(CountingHook {
        calls: calls.clone(),
        stop_after: ran + 3,
    }));
    assert_eq!(trap_kind(store.invoke(f, &[I(50)])), TrapKind::Interrupted);
    store.set_interrupt_hook(Box::new(CountingHook {
        calls,
        stop_after: u64::MAX,
    }));
    assert_eq!(store.invoke(f, &[I(50)]).unwrap(), [I(want)]);
}

/// A trap unwinds a stack of frames; the next invocation on the same store starts clean.
fn traps_unwind_and_the_store_stays_usable(dispatch: Dispatch) {
    let config = config(dispatch);
    let m = module(
        &config,
        r#"(module (memory 1)
            (func $deep (export "deep") (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0))
                    (then (i32.load (i32.const 65535)))
                    (else (i32.add (i32.const 1)
                        (call $deep (i32.sub (local.get 0) (i32.const 1))))))))"#,
    );
    let mut store = Store::new(config.clone(), ());
    let instance = store.instantiate(&m, &[]).unwrap();
    let f = store
        .get_export(instance, "deep")
        .and_then(|e| e.func())
        .unwrap();
    match store.invoke(f, &[I(40)]) {
        Err(Error::Trap(t)) => assert_eq!(t.kind, TrapKind::MemoryOutOfBounds),
        other => panic!("expected a trap, got {other:?}"),
    }
    let m2 = module(
        &config,
        r#"(module (func (export "sum") (param i32) (result i32) (local i32)
            (loop $l
                (local.set 1 (i32.add (local.get 1) (local.get 0)))
                (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (local.get 1)))"#,
    );
    let i2 = store.instantiate(&m2, &[]).unwrap();
    let sum = store.get_export(i2, "sum").and_then(|e| e.func()).unwrap();
    assert_eq!(store.invoke(sum, &[I(20)]).unwrap(), [I(210)]);
}
