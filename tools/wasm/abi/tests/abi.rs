// SPDX-License-Identifier: GPL-2.0

//! The ABI's functions, each called from WebAssembly against a platform with known answers:
//! results, memory layouts, error numbers, bounds checks, context rules and fuel.

use std::sync::Arc;

use wasm_abi::{
    imports, is_abi_module, lookup, wasi, Clock, Context, Fault, FaultKind, Platform, Support,
    MAX_BYTES_PER_CALL,
};
use wasm_engine::{Config, Error, Extern, Module, Store, TrapKind, Value};

/// A platform with fixed answers that records what programs do.
struct Fake {
    context: Context,
    fault: Option<Fault>,
    logs: Vec<(u32, Vec<u8>)>,
    out: Vec<(u32, Vec<u8>)>,
    args: Vec<u8>,
    env: Vec<u8>,
    yields: u32,
    event: Vec<u8>,
    emitted: Vec<Vec<u8>>,
}

impl Fake {
    fn new() -> Self {
        Self {
            context: Context::Process,
            fault: None,
            logs: Vec::new(),
            out: Vec::new(),
            args: b"prog\0a\0bc\0".to_vec(),
            env: b"HOME=/\0".to_vec(),
            yields: 0,
            event: Vec::new(),
            emitted: Vec::new(),
        }
    }
}

impl Platform for Fake {
    fn context(&self) -> Context {
        self.context
    }
    fn set_fault(&mut self, fault: Fault) {
        self.fault = Some(fault);
    }
    fn time_ns(&self, clock: Clock) -> u64 {
        match clock {
            Clock::Monotonic => 1_000,
            Clock::Boot => 2_000,
            Clock::Real => 1_700_000_000_000_000_000,
        }
    }
    fn resolution_ns(&self, _: Clock) -> u64 {
        1
    }
    fn jiffies(&self) -> u64 {
        4242
    }
    fn cpu_id(&self) -> u32 {
        3
    }
    fn cpus_online(&self) -> u32 {
        8
    }
    fn numa_node(&self) -> u32 {
        1
    }
    fn random_fill(&mut self, buf: &mut [u8]) {
        buf.fill(0xa5);
    }
    fn tgid(&self) -> u32 {
        100
    }
    fn pid(&self) -> u32 {
        101
    }
    fn uid(&self) -> u32 {
        0
    }
    fn comm(&self) -> [u8; 16] {
        *b"wasmctl\0\0\0\0\0\0\0\0\0"
    }
    fn log(&mut self, level: u32, message: &[u8]) {
        self.logs.push((level, message.to_vec()));
    }
    fn write(&mut self, fd: u32, data: &[u8]) -> Result<(), wasi::Errno> {
        self.out.push((fd, data.to_vec()));
        Ok(())
    }
    fn args(&self) -> &[u8] {
        &self.args
    }
    fn environ(&self) -> &[u8] {
        &self.env
    }
    fn sched_yield(&mut self) {
        self.yields += 1;
    }
    fn event(&self) -> &[u8] {
        &self.event
    }
    fn emit(&mut self, record: &[u8]) -> i32 {
        self.emitted.push(record.to_vec());
        0
    }
}

/// Instantiates `wat`, resolving its imports against the ABI.
fn instance(wat: &str, platform: Fake) -> (Store<Fake>, wasm_engine::InstanceAddr) {
    let bytes = wat::parse_str(wat).expect("test module parses");
    let config = Config::default();
    let module = Arc::new(Module::new(&config, &bytes).expect("test module validates"));
    let mut store = Store::new(config, platform);
    let mut externs = Vec::new();
    for (m, name, _) in module.imports() {
        let id = lookup(m, name).unwrap_or_else(|| panic!("{m}.{name} is not offered"));
        externs.push(Extern::Func(wasm_abi::define(&mut store, id).unwrap()));
    }
    let instance = store.instantiate(&module, &externs).expect("instantiates");
    (store, instance)
}

fn call(
    store: &mut Store<Fake>,
    instance: wasm_engine::InstanceAddr,
    name: &str,
    args: &[Value],
) -> Result<Vec<Value>, Error> {
    let f = store
        .get_export(instance, name)
        .and_then(Extern::func)
        .expect("export");
    store.invoke(f, args)
}

fn memory(store: &Store<Fake>, instance: wasm_engine::InstanceAddr) -> Vec<u8> {
    let m = store
        .get_export(instance, "memory")
        .and_then(Extern::memory)
        .unwrap();
    store.memory_data(m).unwrap().to_vec()
}

fn trap_kind(r: Result<Vec<Value>, Error>) -> TrapKind {
    match r {
        Err(Error::Trap(t)) => t.kind,
        other => panic!("expected a trap, got {other:?}"),
    }
}

const KERNEL: &str = r#"(module
  (import "kernel" "abi_version" (func $abi_version (result i32)))
  (import "kernel" "log" (func $log (param i32 i32 i32)))
  (import "kernel" "time_ns" (func $time_ns (param i32) (result i64)))
  (import "kernel" "jiffies" (func $jiffies (result i64)))
  (import "kernel" "cpu_id" (func $cpu_id (result i32)))
  (import "kernel" "cpus_online" (func $cpus_online (result i32)))
  (import "kernel" "numa_node" (func $numa_node (result i32)))
  (import "kernel" "random_u64" (func $random_u64 (result i64)))
  (import "kernel" "random_fill" (func $random_fill (param i32 i32) (result i32)))
  (import "kernel" "pid" (func $pid (result i32)))
  (import "kernel" "tgid" (func $tgid (result i32)))
  (import "kernel" "uid" (func $uid (result i32)))
  (import "kernel" "comm" (func $comm (param i32 i32) (result i32)))
  (import "kernel" "event_read" (func $event_read (param i32 i32 i32) (result i32)))
  (import "kernel" "emit" (func $emit (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello")
  (func (export "abi_version") (result i32) (call $abi_version))
  (func (export "log") (param i32 i32 i32) (call $log (local.get 0) (local.get 1) (local.get 2)))
  (func (export "time_ns") (param i32) (result i64) (call $time_ns (local.get 0)))
  (func (export "jiffies") (result i64) (call $jiffies))
  (func (export "cpu_id") (result i32) (call $cpu_id))
  (func (export "cpus_online") (result i32) (call $cpus_online))
  (func (export "numa_node") (result i32) (call $numa_node))
  (func (export "random_u64") (result i64) (call $random_u64))
  (func (export "random_fill") (param i32 i32) (result i32)
    (call $random_fill (local.get 0) (local.get 1)))
  (func (export "pid") (result i32) (call $pid))
  (func (export "tgid") (result i32) (call $tgid))
  (func (export "uid") (result i32) (call $uid))
  (func (export "comm") (param i32 i32) (result i32) (call $comm (local.get 0) (local.get 1)))
  (func (export "event_read") (param i32 i32 i32) (result i32)
    (call $event_read (local.get 0) (local.get 1) (local.get 2)))
  (func (export "emit") (param i32 i32) (result i32) (call $emit (local.get 0) (local.get 1))))"#;

#[test]
fn kernel_functions_answer_what_the_platform_says() {
    let (mut s, i) = instance(KERNEL, Fake::new());
    let mut c = |name: &str, args: &[Value]| call(&mut s, i, name, args).unwrap();
    assert_eq!(c("abi_version", &[]), [Value::I32(1)]);
    assert_eq!(c("time_ns", &[Value::I32(0)]), [Value::I64(1_000)]);
    assert_eq!(c("time_ns", &[Value::I32(1)]), [Value::I64(2_000)]);
    assert_eq!(
        c("time_ns", &[Value::I32(2)]),
        [Value::I64(1_700_000_000_000_000_000)]
    );
    assert_eq!(c("time_ns", &[Value::I32(3)]), [Value::I64(-22)]);
    assert_eq!(c("jiffies", &[]), [Value::I64(4242)]);
    assert_eq!(c("cpu_id", &[]), [Value::I32(3)]);
    assert_eq!(c("cpus_online", &[]), [Value::I32(8)]);
    assert_eq!(c("numa_node", &[]), [Value::I32(1)]);
    assert_eq!(
        c("random_u64", &[]),
        [Value::I64(0xa5a5_a5a5_a5a5_a5a5u64 as i64)]
    );
    assert_eq!(c("pid", &[]), [Value::I32(101)]);
    assert_eq!(c("tgid", &[]), [Value::I32(100)]);
    assert_eq!(c("uid", &[]), [Value::I32(0)]);
}

#[test]
fn comm_random_fill_and_log_use_memory() {
    let (mut s, i) = instance(KERNEL, Fake::new());
    // comm: the name's length, at most `len` bytes copied, no NUL.
    assert_eq!(
        call(&mut s, i, "comm", &[Value::I32(100), Value::I32(4)]).unwrap(),
        [Value::I32(7)]
    );
    assert_eq!(&memory(&s, i)[100..105], b"wasm\0");
    call(&mut s, i, "comm", &[Value::I32(200), Value::I32(16)]).unwrap();
    assert_eq!(&memory(&s, i)[200..208], b"wasmctl\0");
    // random_fill fills exactly the range.
    assert_eq!(
        call(&mut s, i, "random_fill", &[Value::I32(300), Value::I32(3)]).unwrap(),
        [Value::I32(0)]
    );
    assert_eq!(&memory(&s, i)[299..304], &[0, 0xa5, 0xa5, 0xa5, 0]);
    // More than one call may do: -EINVAL, nothing written.
    let big = MAX_BYTES_PER_CALL as i32 + 1;
    assert_eq!(
        call(&mut s, i, "random_fill", &[Value::I32(0), Value::I32(big)]).unwrap(),
        [Value::I32(-22)]
    );
    // log: emergencies become errors, the text is cut at 1024 bytes.
    call(
        &mut s,
        i,
        "log",
        &[Value::I32(0), Value::I32(0), Value::I32(5)],
    )
    .unwrap();
    call(
        &mut s,
        i,
        "log",
        &[Value::I32(6), Value::I32(0), Value::I32(2000)],
    )
    .unwrap();
    let logs = &s.data().logs;
    assert_eq!(logs[0], (3, b"hello".to_vec()));
    assert_eq!(logs[1].0, 6);
    assert_eq!(logs[1].1.len(), 1024);
}

#[test]
fn bad_pointers_trap_and_say_where() {
    let (mut s, i) = instance(KERNEL, Fake::new());
    // One page: 65536 bytes. A range that ends one byte past it traps.
    let r = call(&mut s, i, "comm", &[Value::I32(65533), Value::I32(16)]);
    assert_eq!(trap_kind(r), TrapKind::MemoryOutOfBounds);
    let fault = s.data().fault.expect("the fault is recorded");
    assert_eq!(fault.import.name, "comm");
    assert_eq!(
        fault.kind,
        FaultKind::OutOfBounds {
            ptr: 65533,
            len: 7,
            memory: 65536
        }
    );
    assert!(fault.to_string().contains("kernel.comm"), "{fault}");
    // A log range outside memory traps even when it would be cut.
    let r = call(
        &mut s,
        i,
        "log",
        &[Value::I32(6), Value::I32(65000), Value::I32(1000)],
    );
    assert_eq!(trap_kind(r), TrapKind::MemoryOutOfBounds);
    // Pointers wrap nowhere: the largest address traps.
    let r = call(&mut s, i, "random_fill", &[Value::I32(-1), Value::I32(2)]);
    assert_eq!(trap_kind(r), TrapKind::MemoryOutOfBounds);
    // The instance is still usable.
    assert_eq!(call(&mut s, i, "cpu_id", &[]).unwrap(), [Value::I32(3)]);
}

const WASI: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $env_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 4)
  (func (export "args_sizes") (param i32 i32) (result i32) (call $args_sizes (local.get 0) (local.get 1)))
  (func (export "args_get") (param i32 i32) (result i32) (call $args_get (local.get 0) (local.get 1)))
  (func (export "env_sizes") (param i32 i32) (result i32) (call $env_sizes (local.get 0) (local.get 1)))
  (func (export "env_get") (param i32 i32) (result i32) (call $env_get (local.get 0) (local.get 1)))
  (func (export "fd_write") (param i32 i32 i32 i32) (result i32)
    (call $fd_write (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "fd_read") (param i32 i32 i32 i32) (result i32)
    (call $fd_read (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "fdstat") (param i32 i32) (result i32) (call $fdstat (local.get 0) (local.get 1)))
  (func (export "prestat") (param i32 i32) (result i32) (call $prestat (local.get 0) (local.get 1)))
  (func (export "seek") (param i32) (result i32) (call $seek (local.get 0) (i64.const 0) (i32.const 0) (i32.const 0)))
  (func (export "clock") (param i32 i32) (result i32) (call $clock (local.get 0) (i64.const 1) (local.get 1)))
  (func (export "random") (param i32 i32) (result i32) (call $random (local.get 0) (local.get 1)))
  (func (export "yield") (result i32) (call $yield))
  (func (export "exit") (param i32) (call $exit (local.get 0)) (unreachable))
  (func (export "open") (result i32)
    (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0)
      (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0))))"#;

fn le32(m: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(m[at..at + 4].try_into().unwrap())
}

#[test]
fn args_and_environ_are_laid_out_as_wasi_says() {
    let (mut s, i) = instance(WASI, Fake::new());
    let ok = [Value::I32(0)];
    assert_eq!(
        call(&mut s, i, "args_sizes", &[Value::I32(0), Value::I32(4)]).unwrap(),
        ok
    );
    let m = memory(&s, i);
    assert_eq!((le32(&m, 0), le32(&m, 4)), (3, 10));
    assert_eq!(
        call(&mut s, i, "args_get", &[Value::I32(100), Value::I32(200)]).unwrap(),
        ok
    );
    let m = memory(&s, i);
    assert_eq!(&m[200..210], b"prog\0a\0bc\0");
    assert_eq!(
        [le32(&m, 100), le32(&m, 104), le32(&m, 108)],
        [200, 205, 207]
    );
    assert_eq!(
        call(&mut s, i, "env_sizes", &[Value::I32(0), Value::I32(4)]).unwrap(),
        ok
    );
    let m = memory(&s, i);
    assert_eq!((le32(&m, 0), le32(&m, 4)), (1, 7));
    assert_eq!(
        call(&mut s, i, "env_get", &[Value::I32(300), Value::I32(400)]).unwrap(),
        ok
    );
    let m = memory(&s, i);
    assert_eq!(&m[400..407], b"HOME=/\0");
    assert_eq!(le32(&m, 300), 400);
    // The array must fit before anything is written.
    let r = call(
        &mut s,
        i,
        "args_get",
        &[Value::I32(4 * 65536 - 8), Value::I32(500)],
    );
    assert_eq!(trap_kind(r), TrapKind::MemoryOutOfBounds);
}

/// Writes `(ptr, len)` iovecs at `at` into the instance's memory, through a module-free
/// path: the test sets memory directly.
fn set_memory(s: &mut Store<Fake>, i: wasm_engine::InstanceAddr, at: usize, bytes: &[u8]) {
    let m = s.get_export(i, "memory").and_then(Extern::memory).unwrap();
    s.memory_data_mut(m).unwrap()[at..at + bytes.len()].copy_from_slice(bytes);
}

#[test]
fn fd_write_streams_to_stdout_and_stderr_with_short_writes() {
    let (mut s, i) = instance(WASI, Fake::new());
    set_memory(&mut s, i, 1000, b"hello, world\n");
    // Two iovecs at 16: "hello, " and "world\n".
    let mut iovs = Vec::new();
    for (ptr, len) in [(1000u32, 7u32), (1007, 6)] {
        iovs.extend(ptr.to_le_bytes());
        iovs.extend(len.to_le_bytes());
    }
    set_memory(&mut s, i, 16, &iovs);
    let args = |fd: i32| [Value::I32(fd), Value::I32(16), Value::I32(2), Value::I32(8)];
    assert_eq!(
        call(&mut s, i, "fd_write", &args(1)).unwrap(),
        [Value::I32(0)]
    );
    assert_eq!(le32(&memory(&s, i), 8), 13);
    assert_eq!(
        call(&mut s, i, "fd_write", &args(2)).unwrap(),
        [Value::I32(0)]
    );
    let out: Vec<_> = s
        .data()
        .out
        .iter()
        .map(|(fd, d)| (*fd, d.clone()))
        .collect();
    assert_eq!(
        out,
        [
            (1, b"hello, ".to_vec()),
            (1, b"world\n".to_vec()),
            (2, b"hello, ".to_vec()),
            (2, b"world\n".to_vec())
        ]
    );
    // Standard input and unknown descriptors are not for writing.
    assert_eq!(
        call(&mut s, i, "fd_write", &args(0)).unwrap(),
        [Value::I32(8)]
    );
    assert_eq!(
        call(&mut s, i, "fd_write", &args(7)).unwrap(),
        [Value::I32(8)]
    );
    // A 200 KiB write is cut at 64 KiB: a short write, the first part kept.
    let big = 200 * 1024u32;
    let mut iov = Vec::new();
    iov.extend(4096u32.to_le_bytes());
    iov.extend(big.to_le_bytes());
    set_memory(&mut s, i, 16, &iov);
    s.data_mut().out.clear();
    let r = call(
        &mut s,
        i,
        "fd_write",
        &[Value::I32(1), Value::I32(16), Value::I32(1), Value::I32(8)],
    );
    assert_eq!(r.unwrap(), [Value::I32(0)]);
    assert_eq!(le32(&memory(&s, i), 8), MAX_BYTES_PER_CALL);
    assert_eq!(s.data().out.len(), 1);
    assert_eq!(s.data().out[0].1.len(), MAX_BYTES_PER_CALL as usize);
    // An iovec pointing outside memory traps with the range.
    let mut iov = Vec::new();
    iov.extend((4 * 65536u32 - 4).to_le_bytes());
    iov.extend(8u32.to_le_bytes());
    set_memory(&mut s, i, 16, &iov);
    let r = call(
        &mut s,
        i,
        "fd_write",
        &[Value::I32(1), Value::I32(16), Value::I32(1), Value::I32(8)],
    );
    assert_eq!(trap_kind(r), TrapKind::MemoryOutOfBounds);
    assert_eq!(s.data().fault.unwrap().import.name, "fd_write");
}

#[test]
fn fd_write_pays_fuel_for_its_bytes() {
    let config = Config {
        fuel: Some(600),
        ..Config::default()
    };
    let bytes = wat::parse_str(WASI).unwrap();
    let module = Arc::new(Module::new(&config, &bytes).unwrap());
    let mut store = Store::new(config, Fake::new());
    let externs: Vec<_> = module
        .imports()
        .map(|(m, n, _)| Extern::Func(wasm_abi::define(&mut store, lookup(m, n).unwrap()).unwrap()))
        .collect();
    let i = store.instantiate(&module, &externs).unwrap();
    let mut iov = Vec::new();
    iov.extend(4096u32.to_le_bytes());
    iov.extend(65536u32.to_le_bytes());
    set_memory(&mut store, i, 16, &iov);
    // 64 KiB at 64 bytes per unit of fuel is 1024 units: more than the 600 given.
    let r = call(
        &mut store,
        i,
        "fd_write",
        &[Value::I32(1), Value::I32(16), Value::I32(1), Value::I32(8)],
    );
    assert_eq!(trap_kind(r), TrapKind::OutOfFuel);
}

#[test]
fn stdio_descriptors_and_the_missing_file_system() {
    let (mut s, i) = instance(WASI, Fake::new());
    // stdout: a character device that may be written, appending.
    assert_eq!(
        call(&mut s, i, "fdstat", &[Value::I32(1), Value::I32(64)]).unwrap(),
        [Value::I32(0)]
    );
    let m = memory(&s, i);
    assert_eq!(m[64], 2);
    assert_eq!(u16::from_le_bytes([m[66], m[67]]), 1);
    assert_ne!(
        u64::from_le_bytes(m[72..80].try_into().unwrap()) & (1 << 6),
        0
    );
    assert_eq!(
        call(&mut s, i, "fdstat", &[Value::I32(5), Value::I32(64)]).unwrap(),
        [Value::I32(8)]
    );
    // No preopened directories: wasi-libc's scan stops at the first EBADF.
    assert_eq!(
        call(&mut s, i, "prestat", &[Value::I32(3), Value::I32(64)]).unwrap(),
        [Value::I32(8)]
    );
    assert_eq!(
        call(&mut s, i, "seek", &[Value::I32(1)]).unwrap(),
        [Value::I32(70)]
    );
    assert_eq!(call(&mut s, i, "open", &[]).unwrap(), [Value::I32(52)]);
    // Standard input is at its end.
    assert_eq!(
        call(
            &mut s,
            i,
            "fd_read",
            &[Value::I32(0), Value::I32(16), Value::I32(1), Value::I32(8)]
        )
        .unwrap(),
        [Value::I32(0)]
    );
    assert_eq!(le32(&memory(&s, i), 8), 0);
}

#[test]
fn clocks_random_yield_and_exit() {
    let (mut s, i) = instance(WASI, Fake::new());
    assert_eq!(
        call(&mut s, i, "clock", &[Value::I32(1), Value::I32(8)]).unwrap(),
        [Value::I32(0)]
    );
    assert_eq!(
        u64::from_le_bytes(memory(&s, i)[8..16].try_into().unwrap()),
        1_000
    );
    // The CPU-time clocks are not offered.
    assert_eq!(
        call(&mut s, i, "clock", &[Value::I32(2), Value::I32(8)]).unwrap(),
        [Value::I32(28)]
    );
    assert_eq!(
        call(&mut s, i, "random", &[Value::I32(32), Value::I32(4)]).unwrap(),
        [Value::I32(0)]
    );
    assert_eq!(&memory(&s, i)[31..37], &[0, 0xa5, 0xa5, 0xa5, 0xa5, 0]);
    let too_many = MAX_BYTES_PER_CALL as i32 + 1;
    assert_eq!(
        call(&mut s, i, "random", &[Value::I32(0), Value::I32(too_many)]).unwrap(),
        [Value::I32(28)]
    );
    assert_eq!(call(&mut s, i, "yield", &[]).unwrap(), [Value::I32(0)]);
    assert_eq!(s.data().yields, 1);
    assert_eq!(
        trap_kind(call(&mut s, i, "exit", &[Value::I32(7)])),
        TrapKind::Exit(7)
    );
}

#[test]
fn functions_that_may_sleep_are_refused_in_atomic_context() {
    let mut fake = Fake::new();
    fake.context = Context::Atomic;
    let (mut s, i) = instance(WASI, fake);
    let r = call(
        &mut s,
        i,
        "fd_write",
        &[Value::I32(1), Value::I32(16), Value::I32(0), Value::I32(8)],
    );
    assert_eq!(trap_kind(r), TrapKind::Host(-1));
    let fault = s.data().fault.unwrap();
    assert_eq!(fault.kind, FaultKind::Context);
    assert!(fault.to_string().contains("may sleep"), "{fault}");
    assert!(s.data().out.is_empty());
    // Atomic-safe ones still work.
    assert_eq!(
        call(&mut s, i, "clock", &[Value::I32(0), Value::I32(8)]).unwrap(),
        [Value::I32(0)]
    );
}

/// Every function of WASI preview1 is offered, so that any program built for it
/// instantiates; the ones that are not implemented say with which error they fail.
#[test]
fn every_wasi_preview1_function_is_offered() {
    const PREVIEW1: [&str; 46] = [
        "args_get",
        "args_sizes_get",
        "environ_get",
        "environ_sizes_get",
        "clock_res_get",
        "clock_time_get",
        "fd_advise",
        "fd_allocate",
        "fd_close",
        "fd_datasync",
        "fd_fdstat_get",
        "fd_fdstat_set_flags",
        "fd_fdstat_set_rights",
        "fd_filestat_get",
        "fd_filestat_set_size",
        "fd_filestat_set_times",
        "fd_pread",
        "fd_prestat_get",
        "fd_prestat_dir_name",
        "fd_pwrite",
        "fd_read",
        "fd_readdir",
        "fd_renumber",
        "fd_seek",
        "fd_sync",
        "fd_tell",
        "fd_write",
        "path_create_directory",
        "path_filestat_get",
        "path_filestat_set_times",
        "path_link",
        "path_open",
        "path_readlink",
        "path_remove_directory",
        "path_rename",
        "path_symlink",
        "path_unlink_file",
        "poll_oneoff",
        "proc_exit",
        "proc_raise",
        "sched_yield",
        "random_get",
        "sock_accept",
        "sock_recv",
        "sock_send",
        "sock_shutdown",
    ];
    for name in PREVIEW1 {
        let id = lookup(wasi::MODULE, name).unwrap_or_else(|| panic!("{name} missing"));
        id.func_type().unwrap();
    }
    assert_eq!(wasi::IMPORTS.len(), PREVIEW1.len());
    let failing = wasi::IMPORTS
        .iter()
        .filter(|f| matches!(f.support, Support::Fails(_)))
        .count();
    assert!(failing > 0 && failing < PREVIEW1.len());
    assert!(is_abi_module("kernel") && is_abi_module(wasi::MODULE));
    assert!(!is_abi_module("env"));
    // Names are unique within their module.
    for (n, f) in imports().enumerate() {
        assert!(
            imports()
                .skip(n + 1)
                .all(|g| (g.module, g.name) != (f.module, f.name)),
            "{}.{} twice",
            f.module,
            f.name
        );
    }
}

/// Every `kernel` function is atomic-safe: programs attached to kernel events may call them.
#[test]
fn kernel_functions_are_all_atomic_safe() {
    for f in wasm_abi::kernel::IMPORTS {
        assert_eq!(f.context, Context::Atomic, "kernel.{}", f.name);
    }
    assert_eq!(lookup("kernel", "fd_write").map(|i| i.import().name), None);
}

#[test]
fn event_records_are_read_and_emitted() {
    let mut fake = Fake::new();
    fake.event = b"\x45\x00\x00\x54packet".to_vec();
    let (mut s, i) = instance(KERNEL, fake);
    // Read 4 bytes from offset 2 into 100.
    let r = call(
        &mut s,
        i,
        "event_read",
        &[Value::I32(2), Value::I32(100), Value::I32(4)],
    );
    assert_eq!(r.unwrap(), [Value::I32(4)]);
    assert_eq!(&memory(&s, i)[100..104], b"\x00\x54pa");
    // Past the end: a short read, then 0.
    let r = call(
        &mut s,
        i,
        "event_read",
        &[Value::I32(8), Value::I32(100), Value::I32(64)],
    );
    assert_eq!(r.unwrap(), [Value::I32(2)]);
    let r = call(
        &mut s,
        i,
        "event_read",
        &[Value::I32(99), Value::I32(100), Value::I32(4)],
    );
    assert_eq!(r.unwrap(), [Value::I32(0)]);
    // emit sends the bytes.
    assert_eq!(
        call(&mut s, i, "emit", &[Value::I32(0), Value::I32(5)]).unwrap(),
        [Value::I32(0)]
    );
    assert_eq!(s.data().emitted, [b"hello".to_vec()]);
    let too_long = wasm_abi::kernel::MAX_EMIT_LEN as i32 + 1;
    assert_eq!(
        call(&mut s, i, "emit", &[Value::I32(0), Value::I32(too_long)]).unwrap(),
        [Value::I32(-22)]
    );
    // Outside an event there is nothing to read.
    s.data_mut().event.clear();
    let r = call(
        &mut s,
        i,
        "event_read",
        &[Value::I32(0), Value::I32(100), Value::I32(4)],
    );
    assert_eq!(r.unwrap(), [Value::I32(-2)]);
}
