// SPDX-License-Identifier: GPL-2.0

//! The engine's bounds under attack: modules written to make it work, wait or allocate
//! without limit. Each test shows the bound holds (fuel, interrupt intervals, budgets, caps),
//! with generous time limits so that a loaded machine does not make them flaky.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasm_engine::{Config, Error, Extern, FuncType, Module, Store, TrapKind, Value};

mod common;
use common::{call_export, module, trap_kind, CountingHook};

fn run(config: Config, wat: &str, func: &str, args: &[Value]) -> Result<Vec<Value>, Error> {
    let m = module(&config, wat);
    call_export(&m, config, func, args)
}

/// One 1 GiB `memory.fill` after another, straight-line: with little fuel, the first one
/// traps at once instead of filling anything big.
#[test]
fn straight_line_fills_pay_fuel() {
    let mut body = String::new();
    for _ in 0..64 {
        body.push_str("(memory.fill (i32.const 0) (i32.const 1) (i32.const 0x40000000))\n");
    }
    let wat = format!("(module (memory 16384) (func (export \"f\") {body}))");
    let config = Config {
        fuel: Some(1000),
        ..Config::default()
    };
    // Instantiation zeroes the 1 GiB memory; the fills themselves must not run.
    let start = Instant::now();
    assert_eq!(trap_kind(run(config, &wat, "f", &[])), TrapKind::OutOfFuel);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

/// The interrupt hook runs at least every `interrupt_interval` units of fuel during a bulk
/// operation, so a fatal signal stops it within a bounded time.
#[test]
fn bulk_operations_let_the_hook_run() {
    let wat = r#"(module (memory 4096)
        (func (export "f") (memory.fill (i32.const 0) (i32.const 7) (i32.const 0x10000000))))"#;
    let config = Config::default();
    let m = module(&config, wat);
    let calls = Arc::new(AtomicU64::new(0));
    let mut store = Store::new(config.clone(), ());
    store.set_interrupt_hook(Box::new(CountingHook {
        calls: calls.clone(),
        stop_after: u64::MAX,
    }));
    let instance = store.instantiate(&m, &[]).unwrap();
    let f = store
        .get_export(instance, "f")
        .and_then(|e| e.func())
        .unwrap();
    store.invoke(f, &[]).unwrap();
    // 256 MiB at 64 bytes per unit is 4 Mi units: at least 64 hook calls at 65 536 per slice.
    let expected = (256u64 << 20) / 64 / u64::from(config.interrupt_interval);
    assert!(
        calls.load(Ordering::Relaxed) >= expected,
        "{calls:?} < {expected}"
    );

    // And an interrupt ends it.
    let calls = Arc::new(AtomicU64::new(0));
    let mut store = Store::new(config, ());
    let instance = store.instantiate(&m, &[]).unwrap();
    store.set_interrupt_hook(Box::new(CountingHook {
        calls: calls.clone(),
        stop_after: 3,
    }));
    let f = store
        .get_export(instance, "f")
        .and_then(|e| e.func())
        .unwrap();
    assert_eq!(trap_kind(store.invoke(f, &[])), TrapKind::Interrupted);
    assert_eq!(calls.load(Ordering::Relaxed), 3);
}

/// Straight-line code without calls or loops pays for itself: 100 000 additions cost about
/// 100 000 units of fuel.
#[test]
fn straight_line_code_pays_fuel() {
    let mut body = String::from("(local i32)");
    for _ in 0..100_000 {
        body.push_str("(local.set 0 (i32.add (local.get 0) (i32.const 1)))");
    }
    let wat = format!("(module (func (export \"f\") (result i32) {body} (local.get 0)))");
    let config = Config {
        fuel: Some(50_000),
        ..Config::default()
    };
    assert_eq!(trap_kind(run(config, &wat, "f", &[])), TrapKind::OutOfFuel);
    let config = Config {
        fuel: Some(200_000),
        ..Config::default()
    };
    assert_eq!(run(config, &wat, "f", &[]).unwrap(), [Value::I32(100_000)]);
}

/// An endless loop runs out of fuel; a loop of calls too; both in proportion to their work.
#[test]
fn loops_and_calls_pay_fuel() {
    let wat = r#"(module
        (func $g (result i32) (i32.const 1))
        (func (export "spin") (loop (br 0)))
        (func (export "calls") (loop (drop (call $g)) (br 0))))"#;
    for f in ["spin", "calls"] {
        let config = Config {
            fuel: Some(1_000_000),
            ..Config::default()
        };
        let start = Instant::now();
        assert_eq!(trap_kind(run(config, wat, f, &[])), TrapKind::OutOfFuel);
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}

/// The work a called function does is paid for after it returns too: a million loop
/// iterations in a thousand calls cost at least a million units, and run out of half that.
#[test]
fn callees_work_stays_paid_after_return() {
    let wat = r#"(module
        (func $work (local i32)
            (loop
                (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                (br_if 0 (i32.lt_u (local.get 0) (i32.const 1000)))))
        (func (export "f") (local i32)
            (loop
                (call $work)
                (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                (br_if 0 (i32.lt_u (local.get 0) (i32.const 1000))))))"#;
    let config = Config::default();
    let m = module(&config, wat);
    let mut store = Store::new(config, ());
    let instance = store.instantiate(&m, &[]).unwrap();
    let f = store
        .get_export(instance, "f")
        .and_then(|e| e.func())
        .unwrap();
    let before = store.fuel_used();
    store.invoke(f, &[]).unwrap();
    let used = store.fuel_used() - before;
    assert!(used >= 1_000_000, "a million iterations paid only {used}");
    let config = Config {
        fuel: Some(500_000),
        ..Config::default()
    };
    assert_eq!(trap_kind(run(config, wat, "f", &[])), TrapKind::OutOfFuel);
}

/// A start function gets the configured fuel, not unlimited fuel.
#[test]
fn start_functions_pay_fuel() {
    let wat = r#"(module (func $s (loop (br 0))) (start $s))"#;
    let config = Config {
        fuel: Some(10_000),
        ..Config::default()
    };
    let m = module(&config, wat);
    let mut store = Store::new(config, ());
    match store.instantiate(&m, &[]) {
        Err(Error::Trap(t)) => assert_eq!(t.kind, TrapKind::OutOfFuel),
        other => panic!("expected out of fuel, got {other:?}"),
    }
}

/// A `br_table` with a million targets carrying a thousand values each is refused quickly
/// (its validation alone would take minutes).
#[test]
fn huge_br_tables_are_refused() {
    let bytes = wasm_hostile::br_table(1_000_000, 1000);
    let start = Instant::now();
    match Module::new(&Config::default(), &bytes) {
        Err(Error::Limit(message)) => assert!(message.contains("br_table"), "{message}"),
        Err(other) => panic!("expected the br_table limit, got {other}"),
        Ok(_) => panic!("accepted"),
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

/// 100 000 functions of distinct types instantiate in well under seconds (types are interned
/// by hash, not by a linear search).
#[test]
fn many_distinct_types_instantiate_quickly() {
    let bytes = wasm_hostile::distinct_types(100_000);
    let config = Config::default();
    let m = Arc::new(Module::new(&config, &bytes).unwrap());
    let start = Instant::now();
    let mut store = Store::new(config, ());
    store.instantiate(&m, &[]).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

/// Growing memory one page at a time to its limit is linear: capacity doubles, so the
/// contents move O(log n) times, not n times.
#[test]
fn growing_page_by_page_is_linear() {
    let wat = r#"(module (memory 0 8192)
        (func (export "grow") (result i32) (local i32)
          (loop (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1))
                  (then (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br 1))))
          (local.get 0)))"#;
    let start = Instant::now();
    assert_eq!(
        run(Config::default(), wat, "grow", &[]).unwrap(),
        [Value::I32(8192)]
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

/// A hundred tables of a million elements each exceed the instance's element limit and fail
/// cleanly, before anything big is allocated.
#[test]
fn many_big_tables_fail_with_the_limit() {
    let mut tables = String::new();
    for _ in 0..100 {
        tables.push_str("(table 1000000 funcref)");
    }
    let wat = format!("(module {tables})");
    let config = Config::default();
    let m = module(&config, &wat);
    let mut store = Store::new(config, ());
    match store.instantiate(&m, &[]) {
        Err(Error::Limit(message)) => assert!(message.contains("elements"), "{message}"),
        other => panic!("expected a limit error, got {other:?}"),
    }
    assert_eq!(store.bytes_used(), 0);
}

/// The instance budget covers memories: two 600 MiB memories in one module do not fit the
/// default 1 GiB + 64 MiB.
#[test]
fn the_instance_budget_covers_memories() {
    let config = Config::default();
    // One memory per module in WebAssembly 2.0: link two instances' worth through a budget
    // of the store instead.
    let small = Config {
        max_store_bytes: 700 << 20,
        ..Config::default()
    };
    let m = module(&config, "(module (memory 9600))");
    let mut store = Store::new(small, ());
    store.instantiate(&m, &[]).unwrap();
    match store.instantiate(&m, &[]) {
        Err(Error::Limit(message)) => assert!(message.contains("budget"), "{message}"),
        other => panic!("expected the store's budget, got {other:?}"),
    }
}

/// Failed instantiations in a shared store leave its memory where it was, once collected:
/// those that fail before running anything at once, those that fail half-way when nothing
/// reaches them any more (a failed instance whose functions an element segment put into an
/// imported table stays while the table holds them, as the specification wants).
#[test]
fn failed_instantiations_leave_nothing_behind() {
    let config = Config {
        fuel: Some(100_000),
        ..Config::default()
    };
    let base = module(
        &config,
        r#"(module (table (export "tab") 10 funcref) (func (export "nop")))"#,
    );
    let mut store = Store::new(config.clone(), ());
    let root = store.instantiate(&base, &[]).unwrap();
    let tab = store.get_export(root, "tab").unwrap();
    // The stacks, made by the first invocation, stay for the next ones.
    let nop = store
        .get_export(root, "nop")
        .and_then(|e| e.func())
        .unwrap();
    store.invoke(nop, &[]).unwrap();
    let before = store.bytes_used();
    // 100 MiB of memory, then a start function that traps after the element segment put $f
    // into the imported table.
    let trapping = module(
        &config,
        r#"(module (import "m" "tab" (table 10 funcref)) (memory 1600)
             (func $f) (elem (i32.const 0) $f)
             (func $s unreachable) (start $s))"#,
    );
    // 100 MiB of memory, then an out-of-bounds data segment.
    let out_of_bounds = module(
        &config,
        r#"(module (memory 1600) (data (i32.const 0x7fffffff) "x"))"#,
    );
    // An import that is not given: fails before allocating.
    let unlinked = module(
        &config,
        r#"(module (import "m" "nope" (func)) (memory 1600))"#,
    );
    for _ in 0..10 {
        let used = store.bytes_used();
        assert!(matches!(
            store.instantiate(&unlinked, &[tab]),
            Err(Error::Link(_))
        ));
        assert_eq!(store.bytes_used(), used);
        assert!(matches!(
            store.instantiate(&out_of_bounds, &[]),
            Err(Error::Trap(_))
        ));
        assert!(matches!(
            store.instantiate(&trapping, &[tab]),
            Err(Error::Trap(_))
        ));
    }
    assert!(store.bytes_used() > before + (1 << 30));
    // The out-of-bounds ones go; the trapping ones are still in the table (only the last's
    // function is, the others were overwritten, so all but one go).
    assert_eq!(store.collect(&[root]).unwrap(), 19);
    assert!(store.bytes_used() > before);
    // Clear the table: now the last one goes too.
    let clear = module(
        &config,
        r#"(module (import "m" "tab" (table 10 funcref))
             (func (export "clear") (table.fill 0 (i32.const 0) (ref.null func) (i32.const 10))))"#,
    );
    let c = store.instantiate(&clear, &[tab]).unwrap();
    let f = store.get_export(c, "clear").and_then(|e| e.func()).unwrap();
    store.invoke(f, &[]).unwrap();
    assert_eq!(
        store.collect(&[root]).unwrap(),
        2,
        "the last failed one and the clearer"
    );
    assert_eq!(store.bytes_used(), before);
}

/// A hostile module cannot make instantiation allocate its memory twice: the minimum is
/// checked against the limit first.
#[test]
fn memory_above_the_limit_is_refused() {
    let config = Config {
        max_memory_pages: 16,
        ..Config::default()
    };
    let m = module(&Config::default(), "(module (memory 17))");
    let mut store = Store::new(config, ());
    assert!(matches!(store.instantiate(&m, &[]), Err(Error::Limit(_))));
    assert_eq!(store.bytes_used(), 0);
}

/// The hostile modules the VM tests send to the kernel are what they claim: valid (so that
/// the kernel's answers come from its bounds, not from a decoding error) and as expensive
/// as they are meant to be, except the `br_table` one, which the engine refuses.
#[test]
fn the_vm_tests_hostile_modules_are_valid() {
    for (name, bytes) in wasm_hostile::all() {
        let result = Module::new(&Config::default(), &bytes);
        if name == "br-table.wasm" {
            assert!(matches!(result, Err(Error::Limit(_))), "{name}");
        } else {
            assert!(result.is_ok(), "{name}: {:?}", result.err());
        }
    }
}

/// A failed instantiation linked to a table owner leaves memory behind only while the table
/// holds its function: with `wasm_hostile`'s modules, as the VM test uses them.
#[test]
fn hostile_trapping_start_is_collected() {
    let config = Config::default();
    let owner = Arc::new(Module::new(&config, &wasm_hostile::table_owner()).unwrap());
    let trapping = Arc::new(Module::new(&config, &wasm_hostile::trapping_start(16)).unwrap());
    let mut store = Store::new(config, ());
    let root = store.instantiate(&owner, &[]).unwrap();
    let tab = store.get_export(root, "tab").unwrap();
    let before = store.bytes_used();
    for _ in 0..3 {
        assert!(matches!(
            store.instantiate(&trapping, &[tab]),
            Err(Error::Trap(_))
        ));
    }
    // The last one's function is in the table; the others were overwritten.
    assert_eq!(store.collect(&[root]).unwrap(), 2);
    let clear = store
        .get_export(root, "clear")
        .and_then(|e| e.func())
        .unwrap();
    store.invoke(clear, &[]).unwrap();
    assert_eq!(store.collect(&[root]).unwrap(), 1);
    // What stays is the stacks the invocation made.
    let stacks = store.bytes_used() - before;
    assert!(stacks < 1 << 20, "{stacks}");
}

/// The fills module of the VM test, with a little fuel: out of fuel at once.
#[test]
fn hostile_fills_run_out_of_fuel() {
    let config = Config {
        fuel: Some(1000),
        ..Config::default()
    };
    let m = Arc::new(Module::new(&config, &wasm_hostile::fills(1000, 16)).unwrap());
    let mut store = Store::new(config, ());
    let i = store.instantiate(&m, &[]).unwrap();
    let f = store.get_export(i, "f").and_then(|e| e.func()).unwrap();
    let start = Instant::now();
    assert_eq!(trap_kind(store.invoke(f, &[])), TrapKind::OutOfFuel);
    assert!(start.elapsed() < Duration::from_secs(1));
}

/// The code before a loop pays for the loop's entry, which then needs no instruction of its
/// own, even where a branch out of it could skip the loop: a never-taken branch before the
/// inner loop changes neither the number of `Fuel` instructions nor the fuel charged, but for
/// the branch's own unit per outer iteration.
#[test]
fn loop_entries_paid_by_the_code_before_them_cost_the_same() {
    let wat = |guard: &str| {
        format!(
            r#"(module
            (func (export "f") (param $zero i32) (result i32) (local $i i32) (local $j i32)
                (local $s i32)
                (block $out
                    (br_if $out (local.get $zero))
                    (loop $outer
                        (local.set $j (i32.const 0))
                        {guard}
                        (loop $inner
                            (local.set $s (i32.add (local.get $s) (local.get $j)))
                            (local.set $j (i32.add (local.get $j) (i32.const 1)))
                            (br_if $inner (i32.lt_u (local.get $j) (i32.const 5))))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br_if $outer (i32.lt_u (local.get $i) (i32.const 10)))))
                (local.get $s)))"#
        )
    };
    let used = |wat: &str| {
        let config = Config::default();
        let m = module(&config, wat);
        let mut store = Store::new(config, ());
        let instance = store.instantiate(&m, &[]).unwrap();
        let f = store
            .get_export(instance, "f")
            .and_then(|e| e.func())
            .unwrap();
        let before = store.fuel_used();
        assert_eq!(
            store.invoke(f, &[Value::I32(0)]).unwrap(),
            [Value::I32(100)]
        );
        let fuel_ops = m.translated()[0]
            .ops
            .iter()
            .filter(|op| matches!(op, wasm_engine::ir::Op::Fuel { .. }))
            .count();
        (store.fuel_used() - before, fuel_ops)
    };
    let (merged, merged_fuel_ops) = used(&wat(""));
    let (guarded, guarded_fuel_ops) = used(&wat("(br_if $out (local.get $zero))"));
    assert_eq!(guarded, merged + 10);
    assert_eq!(merged_fuel_ops, guarded_fuel_ops);
}

/// The code after a call pays when the call returns, not with the code before the call:
/// unwinding a deep call stack lets the interrupt hook run as any other work does. Each of
/// 200 frames runs 100 units after its call returns; at 1 000 units per slice, that is about
/// 20 hook calls after the deepest call, where paying in advance gave none.
#[test]
fn code_after_a_call_pays_when_it_returns() {
    let tail = "(local.set 1 (i32.add (local.get 1) (i32.const 1)))".repeat(100);
    let wat = format!(
        r#"(module
            (import "t" "bottom" (func $bottom))
            (func $r (param i32) (local i32)
                (if (i32.eqz (local.get 0)) (then (call $bottom) (return)))
                (call $r (i32.sub (local.get 0) (i32.const 1)))
                {tail})
            (func (export "f") (call $r (i32.const 200))))"#
    );
    let config = Config {
        interrupt_interval: 1000,
        ..Config::default()
    };
    let m = module(&config, &wat);
    let calls = Arc::new(AtomicU64::new(0));
    let at_bottom = Arc::new(AtomicU64::new(u64::MAX));
    let mut store = Store::new(config, (calls.clone(), at_bottom.clone()));
    store.set_interrupt_hook(Box::new(CountingHook {
        calls: calls.clone(),
        stop_after: u64::MAX,
    }));
    let ty = FuncType::new([], []).unwrap();
    let bottom = store
        .add_host_func(ty, |caller, _, _| {
            let (calls, at_bottom) = caller.data();
            at_bottom.store(calls.load(Ordering::Relaxed), Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    let instance = store.instantiate(&m, &[Extern::Func(bottom)]).unwrap();
    let f = store
        .get_export(instance, "f")
        .and_then(|e| e.func())
        .unwrap();
    store.invoke(f, &[]).unwrap();
    let after = calls.load(Ordering::Relaxed) - at_bottom.load(Ordering::Relaxed);
    assert!(after >= 15, "{after} hook calls while unwinding");
}

/// Loops nested right inside one another pay for each other's entries in a chain of at most
/// four regions: the function's entry pays for three loops, the fourth has a `Fuel`
/// instruction of its own, and each iteration of a loop is charged for the loops it enters.
#[test]
fn nested_loop_entries_are_paid_in_chains_of_four() {
    let config = Config::default();
    let m = module(
        &config,
        r#"(module
            (func (export "f") (result i32) (local $a i32) (local $b i32) (local $c i32)
                (local $d i32) (local $s i32)
                (loop $la
                    (local.set $b (i32.const 0))
                    (loop $lb
                        (local.set $c (i32.const 0))
                        (loop $lc
                            (local.set $d (i32.const 0))
                            (loop $ld
                                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                                (local.set $d (i32.add (local.get $d) (i32.const 1)))
                                (br_if $ld (i32.lt_u (local.get $d) (i32.const 2))))
                            (local.set $c (i32.add (local.get $c) (i32.const 1)))
                            (br_if $lc (i32.lt_u (local.get $c) (i32.const 2))))
                        (local.set $b (i32.add (local.get $b) (i32.const 1)))
                        (br_if $lb (i32.lt_u (local.get $b) (i32.const 2))))
                    (local.set $a (i32.add (local.get $a) (i32.const 1)))
                    (br_if $la (i32.lt_u (local.get $a) (i32.const 2))))
                (local.get $s)))"#,
    );
    let ops = &m.translated()[0].ops;
    let fuel_ops: Vec<usize> = (0..ops.len())
        .filter(|&i| matches!(ops[i], wasm_engine::ir::Op::Fuel { .. }))
        .collect();
    // One at the innermost loop's entry, one after each loop.
    assert_eq!(fuel_ops.len(), 1 + 4, "{ops:?}");
    // The back-edges: each loop pays for its own region and those of the loops it enters
    // without a `Fuel` instruction: one unit for each `local.set` of a counter to 0, and
    // three for the innermost loop's body.
    let costs: Vec<u16> = ops
        .iter()
        .filter_map(|op| match *op {
            wasm_engine::ir::Op::BrI32LtUImm { cost, .. } => Some(cost),
            _ => None,
        })
        .collect();
    assert_eq!(costs, [3, 1, 2, 3]);
    assert_eq!(call_export(&m, config, "f", &[]).unwrap(), [Value::I32(16)]);
}

/// `max_code_bytes` counts all that each function keeps: its record, instructions, offsets
/// and the constants it writes into its frame. Before, records and constants went uncounted,
/// so a module of many tiny functions, or of functions full of constants, kept more than the
/// limit said.
#[test]
fn code_bytes_count_everything_a_function_keeps() {
    use std::mem::size_of;
    use wasm_engine::ir::{FuncCode, Op};
    let config = Config::default();
    // Distinct float constants in a loop live in the frame (see `FuncCode::consts`).
    let mut adds = String::new();
    for i in 0..20 {
        adds.push_str(&format!(
            "(local.set 0 (f64.add (local.get 0) (f64.const {i}.5)))"
        ));
    }
    let wat = format!(
        "(module (func (local f64) (loop {adds} (br_if 0 (i32.const 0)))) {})",
        "(func)".repeat(1000)
    );
    let m = module(&config, &wat);
    let code = m.translated();
    assert!(
        code[0].consts.len() >= 16,
        "{} constants",
        code[0].consts.len()
    );
    let kept: usize = code
        .iter()
        .map(|c| {
            size_of::<FuncCode>()
                + c.ops.len() * size_of::<Op>()
                + c.offsets.len() * size_of::<u32>()
                + c.consts.len() * size_of::<u64>()
        })
        .sum();
    assert_eq!(m.code_bytes(), kept);
}
