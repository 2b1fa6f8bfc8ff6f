// SPDX-License-Identifier: GPL-2.0

//! Measures the longest time between two calls of the interrupt hook for code written to
//! make it long: `cargo run --release -p wasm-engine --example hook_interval`.
//!
//! The kernel's promise is that no module keeps a CPU longer than a bounded time without
//! yielding: this prints that bound for the worst cases the fuel weights were chosen for
//! (straight-line arithmetic, divisions, soft-float square roots, calls, bulk fills and
//! copies, table fills, memory growth), on this machine, with the default
//! `Config::interrupt_interval`. `Documentation/wasm/security.rst` quotes the result.

use std::sync::{Arc, Mutex};

use wasm_engine::{Config, InterruptHook, Module, Store, TrapKind};

/// The CPU time this thread has used, in seconds: what the engine spent, whatever else the
/// machine runs (wall-clock intervals would count the times the scheduler ran others).
fn thread_cpu_time() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write; the clock id is a constant the C library
    // knows.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The last call and the longest interval, in thread CPU time.
#[derive(Default)]
struct Times {
    last: f64,
    longest: f64,
}

/// Records the longest interval between two calls.
struct Stopwatch(Arc<Mutex<Times>>);

impl InterruptHook for Stopwatch {
    fn check(&mut self) -> Result<(), TrapKind> {
        let now = thread_cpu_time();
        let mut t = self.0.lock().unwrap();
        t.longest = t.longest.max(now - t.last);
        t.last = thread_cpu_time();
        Ok(())
    }
}

const CASES: &[(&str, &str)] = &[
    (
        "i32 arithmetic loop",
        "(func (export \"f\") (local i32) (loop (local.set 0 (i32.add (local.get 0) (i32.const 1)))
           (br_if 0 (i32.ne (local.get 0) (i32.const 50000000)))))",
    ),
    (
        "i64 division loop",
        "(func (export \"f\") (local i32 i64) (local.set 1 (i64.const 3))
           (loop (local.set 1 (i64.add (i64.div_u (i64.const -1) (local.get 1)) (i64.const 3)))
           (local.set 0 (i32.add (local.get 0) (i32.const 1)))
           (br_if 0 (i32.ne (local.get 0) (i32.const 20000000)))))",
    ),
    (
        "f64.sqrt loop",
        "(func (export \"f\") (local i32 f64) (local.set 1 (f64.const 2))
           (loop (local.set 1 (f64.sqrt (f64.add (local.get 1) (f64.const 1e300))))
           (local.set 0 (i32.add (local.get 0) (i32.const 1)))
           (br_if 0 (i32.ne (local.get 0) (i32.const 5000000)))))",
    ),
    (
        "f64.div loop",
        "(func (export \"f\") (local i32 f64) (local.set 1 (f64.const 3))
           (loop (local.set 1 (f64.div (f64.const 1e300) (local.get 1)))
           (local.set 0 (i32.add (local.get 0) (i32.const 1)))
           (br_if 0 (i32.ne (local.get 0) (i32.const 5000000)))))",
    ),
    (
        "recursive calls",
        "(func $r (param i32) (result i32) (if (result i32) (i32.eqz (local.get 0))
           (then (i32.const 0)) (else (i32.add (i32.const 1) (call $r (i32.sub (local.get 0) (i32.const 1)))))))
         (func (export \"f\") (local i32) (loop (drop (call $r (i32.const 1000)))
           (local.set 0 (i32.add (local.get 0) (i32.const 1)))
           (br_if 0 (i32.ne (local.get 0) (i32.const 5000)))))",
    ),
    (
        "memory.fill of 1 GiB x 4",
        "(memory 16384) (func (export \"f\")
           (memory.fill (i32.const 0) (i32.const 1) (i32.const 0x40000000))
           (memory.fill (i32.const 0) (i32.const 2) (i32.const 0x40000000))
           (memory.fill (i32.const 0) (i32.const 3) (i32.const 0x40000000))
           (memory.fill (i32.const 0) (i32.const 4) (i32.const 0x40000000)))",
    ),
    (
        "memory.copy of 512 MiB x 4",
        "(memory 16384) (func (export \"f\")
           (memory.copy (i32.const 0) (i32.const 0x20000000) (i32.const 0x20000000))
           (memory.copy (i32.const 0x20000000) (i32.const 0) (i32.const 0x20000000))
           (memory.copy (i32.const 1) (i32.const 0) (i32.const 0x20000000))
           (memory.copy (i32.const 0) (i32.const 1) (i32.const 0x20000000)))",
    ),
    (
        "table.fill of 1M x 8",
        "(table 1000000 funcref) (func $g) (elem declare func $g) (func (export \"f\") (local i32)
           (loop (table.fill 0 (i32.const 0) (ref.func $g) (i32.const 1000000))
           (local.set 0 (i32.add (local.get 0) (i32.const 1)))
           (br_if 0 (i32.ne (local.get 0) (i32.const 8)))))",
    ),
    (
        "memory.grow to 1 GiB",
        "(memory 0 16384) (func (export \"f\")
           (loop (br_if 0 (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))))",
    ),
];

/// A recursion 15 000 calls deep whose every frame, after the call returns, runs about 1 000
/// units of straight-line code in the region the call is in: the code after a call was paid
/// for with the region, before the call, so unwinding runs it without paying again.
fn deep_unwinding() -> String {
    let tail = "(local.set 1 (i32.add (local.get 1) (i32.const 1)))".repeat(1000);
    format!(
        "(func $r (param i32) (result i32) (local i32)
           (if (i32.eqz (local.get 0)) (then (return (i32.const 0))))
           (local.set 1 (call $r (i32.sub (local.get 0) (i32.const 1))))
           {tail}
           (local.get 1))
         (func (export \"f\") (local i32) (loop (drop (call $r (i32.const 15000)))
           (local.set 0 (i32.add (local.get 0) (i32.const 1)))
           (br_if 0 (i32.ne (local.get 0) (i32.const 4)))))"
    )
}

fn main() {
    let config = Config::default();
    let unwinding = deep_unwinding();
    let mut cases: Vec<(&str, &str)> = CASES.to_vec();
    cases.push(("unwinding 15 000 frames", &unwinding));
    println!(
        "interrupt interval: {} units of fuel",
        config.interrupt_interval
    );
    let mut worst = 0f64;
    for (name, body) in cases {
        let bytes = wat::parse_str(format!("(module {body})")).expect("case parses");
        let module = Arc::new(Module::new(&config, &bytes).expect("case validates"));
        let times = Arc::new(Mutex::new(Times::default()));
        let mut store = Store::new(config.clone(), ());
        store.set_interrupt_hook(Box::new(Stopwatch(times.clone())));
        let instance = store.instantiate(&module, &[]).expect("case instantiates");
        let f = store
            .get_export(instance, "f")
            .and_then(|e| e.func())
            .expect("case exports f");
        let before = store.fuel_used();
        let start = thread_cpu_time();
        *times.lock().unwrap() = Times {
            last: start,
            longest: 0.0,
        };
        store.invoke(f, &[]).expect("case runs");
        let total = thread_cpu_time() - start;
        let fuel = store.fuel_used() - before;
        let longest = times.lock().unwrap().longest;
        let mean = total / (fuel as f64 / f64::from(config.interrupt_interval)).max(1.0);
        worst = worst.max(longest);
        println!(
            "{name:28} {total:6.3} s, {fuel:>10} fuel; between hook calls: mean {:6.1} us, \
             longest {:7.1} us",
            mean * 1e6,
            longest * 1e6
        );
    }
    println!("longest interval overall: {:.1} us", worst * 1e6);
}
