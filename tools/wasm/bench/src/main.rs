// SPDX-License-Identifier: GPL-2.0

//! `wasm-bench [--threaded] FILE.wasm N`: the engine's benchmark runner.
//!
//! Loads a benchmark module (see `c/bench.h`), instantiates it, calls its export
//! `run(N)` once and prints the result and the CPU time of that call in nanoseconds:
//! `RESULT CPU_NS`, the output of every runner in `bench.py`. What is timed is the call
//! alone: process start, validation, translation and instantiation are not, as for the
//! native, wasm3 and wasmtime runners. `--threaded` runs the interpreter with its call-threaded
//! dispatch (`wasm_engine::Dispatch::Threaded`).
//!
//! The store is set up as the kernel driver sets it up, with an interrupt hook, so the
//! engine's interrupt checks run at their usual intervals; the hook itself does nothing.

use std::process::ExitCode;
use std::sync::Arc;

use wasm_engine::{
    Caller, Config, Dispatch, Error, Extern, FuncType, InterruptHook, Module, Store, Trap,
    TrapKind, ValType, Value,
};

/// The interrupt hook: where the kernel would call `cond_resched()` and look for signals.
struct Hook;

impl InterruptHook for Hook {
    fn check(&mut self) -> Result<(), TrapKind> {
        Ok(())
    }
}

/// WASI's `args_sizes_get(argc: *mut u32, argv_buf_size: *mut u32) -> errno`, the import of
/// the host-call benchmark: writes one argument of 6 bytes, as the native runner does.
fn args_sizes_get(
    caller: &mut Caller<'_, ()>,
    args: &[Value],
    results: &mut [Value],
) -> Result<(), Trap> {
    let oob = || Trap::new(TrapKind::MemoryOutOfBounds);
    let (Some(Value::I32(argc)), Some(Value::I32(size))) = (args.first(), args.get(1)) else {
        return Err(oob());
    };
    let memory = caller.memory().ok_or_else(oob)?;
    for (ptr, value) in [(*argc, 1u32), (*size, 6u32)] {
        let start = ptr as u32 as usize;
        let word = memory.get_mut(start..start + 4).ok_or_else(oob)?;
        word.copy_from_slice(&value.to_le_bytes());
    }
    if let Some(errno) = results.first_mut() {
        *errno = Value::I32(0);
    }
    Ok(())
}

/// CPU time of the process so far, in nanoseconds.
fn cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec` for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// A prepared benchmark: the store with the instance and its `run` export.
pub struct Bench {
    store: Store<()>,
    run: wasm_engine::FuncAddr,
}

impl Bench {
    /// Validates, translates and instantiates `wasm`, linking the imports a benchmark may
    /// have, for the interpreter's `dispatch`.
    pub fn new(wasm: &[u8], dispatch: Dispatch) -> Result<Self, Error> {
        let config = Config {
            dispatch,
            ..Config::default()
        };
        let module = Arc::new(Module::new(&config, wasm)?);
        let mut store = Store::new(config, ());
        store.set_interrupt_hook(Box::new(Hook));
        let mut imports = Vec::new();
        for (module_name, name, _) in module.imports() {
            if (module_name, name) != ("wasi_snapshot_preview1", "args_sizes_get") {
                return Err(Error::Link(
                    format!("unknown import {module_name}.{name}").into(),
                ));
            }
            let ty = FuncType::new([ValType::I32, ValType::I32], [ValType::I32])?;
            imports.push(Extern::Func(store.add_host_func(ty, args_sizes_get)?));
        }
        let instance = store.instantiate(&module, &imports)?;
        let run = store
            .get_export(instance, "run")
            .and_then(|e| e.func())
            .ok_or_else(|| Error::Link("no function export \"run\"".into()))?;
        Ok(Self { store, run })
    }

    /// Calls `run(n)` and returns its result as an unsigned number.
    pub fn run(&mut self, n: u32) -> Result<u32, Error> {
        match self
            .store
            .invoke(self.run, &[Value::I32(n as i32)])?
            .as_slice()
        {
            [Value::I32(r)] => Ok(*r as u32),
            other => Err(Error::Invoke(format!("run returned {other:?}").into())),
        }
    }
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let dispatch = if args.first().is_some_and(|a| a == "--threaded") {
        args.remove(0);
        Dispatch::Threaded
    } else {
        Dispatch::Match
    };
    let (Some(file), Some(n), None) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: wasm-bench [--threaded] FILE.wasm N");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<u32>() else {
        eprintln!("wasm-bench: N must be a number: {n}");
        return ExitCode::from(2);
    };
    let wasm = match std::fs::read(file) {
        Ok(wasm) => wasm,
        Err(e) => {
            eprintln!("wasm-bench: {file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = Bench::new(&wasm, dispatch).and_then(|mut bench| {
        let start = cpu_ns();
        let result = bench.run(n)?;
        Ok((result, cpu_ns().saturating_sub(start)))
    });
    match result {
        Ok((result, ns)) => {
            println!("{result} {ns}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wasm-bench: {file}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_calls_the_host() {
        let wasm = wat::parse_str(
            r#"(module
                (import "wasi_snapshot_preview1" "args_sizes_get"
                    (func $sizes (param i32 i32) (result i32)))
                (memory 1)
                (func (export "run") (param i32) (result i32)
                    (drop (call $sizes (i32.const 16) (i32.const 20)))
                    (i32.add (local.get 0)
                        (i32.add (i32.load (i32.const 16)) (i32.load (i32.const 20))))))"#,
        )
        .unwrap();
        for dispatch in [Dispatch::Match, Dispatch::Threaded] {
            let mut bench = Bench::new(&wasm, dispatch).unwrap();
            assert_eq!(bench.run(100).unwrap(), 107);
            assert_eq!(bench.run(u32::MAX).unwrap(), 6);
        }
    }

    #[test]
    fn rejects_other_imports() {
        let wasm = wat::parse_str(
            r#"(module (import "env" "f" (func)) (func (export "run") (param i32) (result i32)
                local.get 0))"#,
        )
        .unwrap();
        assert!(matches!(
            Bench::new(&wasm, Dispatch::Match),
            Err(Error::Link(_))
        ));
    }

    #[test]
    fn cpu_time_advances() {
        let start = cpu_ns();
        let mut x = 0u64;
        while cpu_ns() < start + 1_000_000 {
            x = std::hint::black_box(x + 1);
        }
        assert!(x > 0);
    }
}
