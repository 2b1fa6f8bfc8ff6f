// SPDX-License-Identifier: GPL-2.0

//! The interpreter's float arithmetic goes through the embedder's [`FloatUnit`], and the unit
//! is released before everything that may sleep or take long: the kernel's unit holds a
//! non-preemptible FPU section, so a missing release would sleep in atomic context there.

use std::sync::{Arc, Mutex};

use wasm_engine::{
    Config, Extern, FloatUnit, FuncType, InterruptHook, Module, SoftFloat, Store, TrapKind, Value,
};

/// What a [`Recorder`] saw, in order: `F` a float operation, `R` a release, `H` a host call,
/// `I` an interrupt check.
type Log = Arc<Mutex<String>>;

/// The engine's own arithmetic, recording every call and how often each operation ran.
struct Recorder {
    log: Log,
    calls: std::collections::BTreeMap<&'static str, u32>,
}

impl Recorder {
    fn new(log: &Log) -> Self {
        Self {
            log: log.clone(),
            calls: Default::default(),
        }
    }

    fn op(&mut self, name: &'static str) {
        self.log.lock().unwrap().push('F');
        *self.calls.entry(name).or_default() += 1;
    }
}

macro_rules! recorded {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        impl FloatUnit for Recorder {
            fn release(&mut self) {
                self.log.lock().unwrap().push('R');
            }
            $(fn $name(&mut self, $($arg: $ty),*) -> $ret {
                self.op(stringify!($name));
                SoftFloat.$name($($arg),*)
            })*
        }
    };
}

recorded! {
    f32_add(a: u32, b: u32) -> u32;
    f32_sub(a: u32, b: u32) -> u32;
    f32_mul(a: u32, b: u32) -> u32;
    f32_div(a: u32, b: u32) -> u32;
    f32_sqrt(a: u32) -> u32;
    f32_eq(a: u32, b: u32) -> bool;
    f32_lt(a: u32, b: u32) -> bool;
    f32_le(a: u32, b: u32) -> bool;
    f32_from_i64(a: i64) -> u32;
    f64_add(a: u64, b: u64) -> u64;
    f64_sub(a: u64, b: u64) -> u64;
    f64_mul(a: u64, b: u64) -> u64;
    f64_div(a: u64, b: u64) -> u64;
    f64_sqrt(a: u64) -> u64;
    f64_eq(a: u64, b: u64) -> bool;
    f64_lt(a: u64, b: u64) -> bool;
    f64_le(a: u64, b: u64) -> bool;
    f64_from_i64(a: i64) -> u64;
}

/// Every operation of the unit, and the wasm instructions that reach it, folded into one
/// f64 so that a wrong result anywhere changes it.
const EVERY_OPERATION: &str = r#"(module
  (func (export "f") (param $x f64) (param $y f32) (param $i i32) (param $l i64) (result f64)
    (local $acc f64) (local $s f32)
    (local.set $s (f32.div (f32.mul (f32.sub (f32.add (local.get $y) (f32.const 1.5))
                                             (f32.const 0.25))
                                    (f32.const 3)) (f32.const 7)))
    (local.set $s (f32.add (local.get $s) (f32.sqrt (local.get $y))))
    (local.set $s (f32.add (local.get $s) (f32.convert_i32_s (local.get $i))))
    (local.set $s (f32.add (local.get $s) (f32.convert_i32_u (local.get $i))))
    (local.set $s (f32.add (local.get $s) (f32.convert_i64_s (local.get $l))))
    (local.set $acc (f64.div (f64.mul (f64.sub (f64.add (local.get $x) (f64.const 1.5))
                                               (f64.const 0.25))
                                      (f64.const 3)) (f64.const 7)))
    (local.set $acc (f64.add (local.get $acc) (f64.sqrt (local.get $x))))
    (local.set $acc (f64.add (local.get $acc) (f64.convert_i32_s (local.get $i))))
    (local.set $acc (f64.add (local.get $acc) (f64.convert_i32_u (local.get $i))))
    (local.set $acc (f64.add (local.get $acc) (f64.convert_i64_s (local.get $l))))
    (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (local.get $s))))
    ;; The six comparisons of each type, as values and as branches, weighted by powers of two.
    (local.set $acc (f64.add (local.get $acc) (f64.convert_i32_u (i32.add
      (i32.add (i32.add (f32.eq (local.get $y) (f32.const 2)) (i32.shl (f32.ne (local.get $y) (f32.const 2)) (i32.const 1)))
               (i32.add (i32.shl (f32.lt (local.get $y) (f32.const 2)) (i32.const 2)) (i32.shl (f32.gt (local.get $y) (f32.const 2)) (i32.const 3))))
      (i32.add (i32.add (i32.shl (f32.le (local.get $y) (f32.const 2)) (i32.const 4)) (i32.shl (f32.ge (local.get $y) (f32.const 2)) (i32.const 5)))
               (i32.add (i32.add (i32.shl (f64.eq (local.get $x) (f64.const 2)) (i32.const 6)) (i32.shl (f64.ne (local.get $x) (f64.const 2)) (i32.const 7)))
                        (i32.add (i32.add (i32.shl (f64.lt (local.get $x) (f64.const 2)) (i32.const 8)) (i32.shl (f64.gt (local.get $x) (f64.const 2)) (i32.const 9)))
                                 (i32.add (i32.shl (f64.le (local.get $x) (f64.const 2)) (i32.const 10)) (i32.shl (f64.ge (local.get $x) (f64.const 2)) (i32.const 11))))))))))
    (block $b (br_if $b (f64.gt (local.get $x) (f64.const 1e300)))
      (local.set $acc (f64.add (local.get $acc) (f64.const 4096))))
    (block $b (br_if $b (f32.le (local.get $y) (f32.const -1e30)))
      (local.set $acc (f64.add (local.get $acc) (f64.const 8192))))
    (local.get $acc)))"#;

fn instance<T: 'static>(
    store: &mut Store<T>,
    wat: &str,
    imports: &[Extern],
) -> wasm_engine::FuncAddr {
    let bytes = wat::parse_str(wat).expect("test module must parse");
    let module = Arc::new(Module::new(&Config::default(), &bytes).expect("test module must load"));
    let instance = store.instantiate(&module, imports).expect("instantiate");
    store
        .get_export(instance, "f")
        .and_then(|e| e.func())
        .expect("export f")
}

/// Each float operation of the interpreter reaches the unit, with the results of the default.
#[test]
fn every_float_operation_goes_through_the_unit() {
    let args_list = [
        [
            Value::F64((2.0_f64).to_bits()),
            Value::F32((2.0_f32).to_bits()),
            Value::I32(-3),
            Value::I64(1 << 40),
        ],
        [
            Value::F64((1e301_f64).to_bits()),
            Value::F32((-2e30_f32).to_bits()),
            Value::I32(7),
            Value::I64(-5),
        ],
        [
            Value::F64(f64::NAN.to_bits()),
            Value::F32(f32::NAN.to_bits()),
            Value::I32(0),
            Value::I64(i64::MAX),
        ],
        [
            Value::F64((-0.0_f64).to_bits()),
            Value::F32((0.0_f32).to_bits()),
            Value::I32(i32::MIN),
            Value::I64(i64::MIN),
        ],
    ];
    let log = Log::default();
    let mut unit = Recorder::new(&log);
    let mut store = Store::new(Config::default(), ());
    let f = instance(&mut store, EVERY_OPERATION, &[]);
    for args in &args_list {
        let soft = store.invoke(f, args).expect("invoke");
        let recorded = store.invoke_with(&mut unit, f, args).expect("invoke_with");
        assert_eq!(soft.len(), 1);
        match (&soft[0], &recorded[0]) {
            (Value::F64(a), Value::F64(b)) => assert_eq!(a, b, "{args:?}"),
            other => panic!("unexpected results {other:?}"),
        }
    }
    let expected = [
        "f32_add",
        "f32_sub",
        "f32_mul",
        "f32_div",
        "f32_sqrt",
        "f32_eq",
        "f32_lt",
        "f32_le",
        "f32_from_i64",
        "f64_add",
        "f64_sub",
        "f64_mul",
        "f64_div",
        "f64_sqrt",
        "f64_eq",
        "f64_lt",
        "f64_le",
        "f64_from_i64",
    ];
    for name in expected {
        assert!(
            unit.calls.contains_key(name),
            "{name} never reached the unit: {:?}",
            unit.calls
        );
    }
    // The default store path never touched the recorder, and every run ended released.
    let log = log.lock().unwrap();
    assert!(log.ends_with('R'), "{log}");
}

/// Records interrupt checks in the same log.
struct Hook(Log);

impl InterruptHook for Hook {
    fn check(&mut self) -> Result<(), TrapKind> {
        self.0.lock().unwrap().push('I');
        Ok(())
    }
}

/// The unit is released before a host call, around `memory.grow` and at every interrupt check,
/// so no float section spans anything that may sleep, nor more than one fuel slice.
#[test]
fn the_unit_is_released_before_sleeping_steps() {
    let wat = r#"(module
      (import "env" "h" (func $h))
      (memory 1)
      (func (export "f") (param $n i32) (result f64)
        (local $x f64)
        (local.set $x (f64.add (local.get $x) (f64.const 1)))
        (call $h)
        (local.set $x (f64.add (local.get $x) (f64.const 1)))
        (drop (memory.grow (i32.const 1)))
        (local.set $x (f64.add (local.get $x) (f64.const 1)))
        (loop $l
          (local.set $x (f64.mul (local.get $x) (f64.const 1.0000001)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $l (local.get $n)))
        (local.get $x)))"#;
    let log = Log::default();
    let config = Config {
        interrupt_interval: 64,
        ..Config::default()
    };
    let mut store = Store::new(config, log.clone());
    store.try_set_interrupt_hook(Hook(log.clone())).unwrap();
    let ty = FuncType::new([], []).unwrap();
    let h = store
        .add_host_func(ty, |caller, _, _| {
            caller.data().lock().unwrap().push('H');
            Ok(())
        })
        .unwrap();
    let f = instance(&mut store, wat, &[Extern::Func(h)]);
    log.lock().unwrap().clear();
    let mut unit = Recorder::new(&log);
    let r = store
        .invoke_with(&mut unit, f, &[Value::I32(10_000)])
        .expect("invoke");
    assert!(matches!(r[..], [Value::F64(x)] if f64::from_bits(x) > 3.0));
    let log = log.lock().unwrap().clone();
    // Straight-line code: add, host call, add, grow (whose zeroing may check for interrupts).
    assert!(log.starts_with("FRHFR"), "{}", &log[..log.len().min(40)]);
    assert!(log.ends_with('R'));
    // No host call or interrupt check inside a section, and the float operations of one
    // section are bounded by the interval (each costs at least one unit of fuel).
    let (mut open, mut checks) = (false, 0);
    for (i, c) in log.char_indices() {
        match c {
            'F' => open = true,
            'R' => open = false,
            _ => {
                assert!(!open, "{c} inside a float section at {i}");
                checks += usize::from(c == 'I');
            }
        }
    }
    assert!(checks > 100, "{checks} interrupt checks");
    let longest = log
        .split('R')
        .map(|s| s.matches('F').count())
        .max()
        .unwrap();
    assert!(longest <= 64, "{longest} float operations in one section");
}
