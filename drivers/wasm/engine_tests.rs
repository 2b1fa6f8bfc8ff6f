// SPDX-License-Identifier: GPL-2.0

//! KUnit suites for the engine: real WebAssembly, run in ring 0.
//!
//! The modules are assembled by [`Wasm`], a minimal encoder of the binary format (the kernel
//! has no text-format parser), with each function body written as commented opcodes.

use alloc::vec::Vec;
use kernel::prelude::*;
use wasm_engine::{Config, Dispatch, Error, Module, Store, Trap, TrapKind, Value};

#[path = "testdata/crc32.rs"]
mod crc32;

const I32: u8 = 0x7f;
const I64: u8 = 0x7e;
const F64: u8 = 0x7c;

/// A function for [`Wasm`]: type, extra locals, body (without the final `end`) and export
/// name.
struct Func<'a> {
    params: &'a [u8],
    results: &'a [u8],
    locals: &'a [(u32, u8)],
    body: &'a [u8],
    export: &'a str,
}

/// Builds a module from functions, an optional memory (min, max pages) and an optional
/// funcref table holding the given function indices from slot 0.
struct Wasm<'a> {
    funcs: &'a [Func<'a>],
    memory: Option<(u32, Option<u32>)>,
    table: &'a [u32],
}

fn uleb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn section(id: u8, contents: &[u8], out: &mut Vec<u8>) {
    out.push(id);
    uleb(contents.len() as u64, out);
    out.extend_from_slice(contents);
}

impl Wasm<'_> {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"\0asm\x01\0\0\0");
        let n = self.funcs.len() as u64;
        let mut types = Vec::new();
        uleb(n, &mut types);
        for f in self.funcs {
            types.push(0x60);
            uleb(f.params.len() as u64, &mut types);
            types.extend_from_slice(f.params);
            uleb(f.results.len() as u64, &mut types);
            types.extend_from_slice(f.results);
        }
        section(1, &types, &mut out);
        let mut funcs = Vec::new();
        uleb(n, &mut funcs);
        for i in 0..n {
            uleb(i, &mut funcs);
        }
        section(3, &funcs, &mut out);
        if !self.table.is_empty() {
            let mut table = alloc::vec![1, 0x70, 0x00];
            uleb(self.table.len() as u64, &mut table);
            section(4, &table, &mut out);
        }
        if let Some((min, max)) = self.memory {
            let mut memory = alloc::vec![1];
            match max {
                Some(max) => {
                    memory.push(1);
                    uleb(min.into(), &mut memory);
                    uleb(max.into(), &mut memory);
                }
                None => {
                    memory.push(0);
                    uleb(min.into(), &mut memory);
                }
            }
            section(5, &memory, &mut out);
        }
        let mut exports = Vec::new();
        uleb(n, &mut exports);
        for (i, f) in self.funcs.iter().enumerate() {
            uleb(f.export.len() as u64, &mut exports);
            exports.extend_from_slice(f.export.as_bytes());
            exports.push(0x00);
            uleb(i as u64, &mut exports);
        }
        section(7, &exports, &mut out);
        if !self.table.is_empty() {
            // One active segment at offset 0: (elem (i32.const 0) func ...).
            let mut elem = alloc::vec![1, 0x00, 0x41, 0x00, 0x0b];
            uleb(self.table.len() as u64, &mut elem);
            for &f in self.table {
                uleb(f.into(), &mut elem);
            }
            section(9, &elem, &mut out);
        }
        let mut code = Vec::new();
        uleb(n, &mut code);
        for f in self.funcs {
            let mut body = Vec::new();
            uleb(f.locals.len() as u64, &mut body);
            for &(count, ty) in f.locals {
                uleb(count.into(), &mut body);
                body.push(ty);
            }
            body.extend_from_slice(f.body);
            body.push(0x0b);
            uleb(body.len() as u64, &mut code);
            code.extend_from_slice(&body);
        }
        section(10, &code, &mut out);
        out
    }
}

/// A function exported as `f`.
fn func<'a>(params: &'a [u8], results: &'a [u8], body: &'a [u8]) -> Func<'a> {
    Func {
        params,
        results,
        locals: &[],
        body,
        export: "f",
    }
}

/// Instantiates `bytes` and calls its export `name`, once with each of the interpreter's
/// dispatches; checks that both give the same results or trap alike (kind and place), and
/// returns the result.
fn run_with(config: Config, bytes: &[u8], name: &str, args: &[Value]) -> Result<Vec<Value>, Error> {
    let threaded = Config {
        dispatch: Dispatch::Threaded,
        ..config.clone()
    };
    let other = run_once(threaded, bytes, name, args);
    let result = run_once(config, bytes, name, args);
    assert_eq!(result, other);
    result
}

/// Instantiates `bytes` and calls its export `name`.
fn run_once(config: Config, bytes: &[u8], name: &str, args: &[Value]) -> Result<Vec<Value>, Error> {
    let module = Module::new(&config, bytes)?;
    let mut store = Store::new(config, ());
    let instance = store.instantiate(&alloc::sync::Arc::new(module), &[])?;
    let f = store
        .get_export(instance, name)
        .and_then(|e| e.func())
        .ok_or_else(|| Error::Link("no such export".into()))?;
    store.invoke(f, args)
}

fn run(bytes: &[u8], args: &[Value]) -> Result<Vec<Value>, Error> {
    run_with(Config::default(), bytes, "f", args)
}

fn trap_kind(result: Result<Vec<Value>, Error>) -> Option<TrapKind> {
    match result {
        Err(Error::Trap(Trap { kind, .. })) => Some(kind),
        _ => None,
    }
}

/// `(func (param i32) (result i32) local.get 0 i32.eqz if (result i32) i32.const 0 else
/// local.get 0 i32.const 1 i32.sub call 0 i32.const 1 i32.add end)`: recursion `n` deep.
const RECURSE: &[u8] = &[
    0x20, 0x00, 0x45, 0x04, I32, 0x41, 0x00, 0x05, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x00, 0x41,
    0x01, 0x6a, 0x0b,
];

#[kunit_tests(wasm_engine)]
mod tests {
    use super::*;

    #[test]
    fn integer_arithmetic() -> Result<(), Error> {
        // (i32.add (i32.mul a b) (i32.div_s a -2)) and friends, exercising the i32 and i64
        // families with wrap-around.
        let body = [
            0x20, 0x00, 0x20, 0x01, 0x6c, // local.get 0 local.get 1 i32.mul
            0x20, 0x00, 0x41, 0x7e, 0x6d, // local.get 0 i32.const -2 i32.div_s
            0x6a, // i32.add
        ];
        let wasm = Wasm {
            funcs: &[func(&[I32, I32], &[I32], &body)],
            memory: None,
            table: &[],
        };
        assert_eq!(
            run(&wasm.encode(), &[Value::I32(7), Value::I32(6)])?,
            [Value::I32(39)]
        );
        assert_eq!(
            run(&wasm.encode(), &[Value::I32(i32::MAX), Value::I32(2)])?,
            [Value::I32(-2 - (i32::MAX / 2))]
        );
        // i64: rotl, popcnt, shr_s, extend8_s.
        let body = [
            0x20, 0x00, 0x42, 0x04, 0x89, // local.get 0 i64.const 4 i64.rotl
            0x7b, // i64.popcnt
            0x42, 0x7f, 0x42, 0x01, 0x87, // i64.const -1 i64.const 1 i64.shr_s
            0x7c, // i64.add
            0xc2, // i64.extend8_s
        ];
        let wasm = Wasm {
            funcs: &[func(&[I64], &[I64], &body)],
            memory: None,
            table: &[],
        };
        assert_eq!(run(&wasm.encode(), &[Value::I64(0xff)])?, [Value::I64(7)]);
        Ok(())
    }

    #[test]
    fn control_flow_and_locals() -> Result<(), Error> {
        // Iterative Fibonacci with a loop, br_if and locals: fib(n) for n = 0..=90.
        let body = [
            0x41, 0x00, 0xad, 0x21, 0x01, // i64.const 0 (via i32) -> local 1 (a)
            0x42, 0x01, 0x21, 0x02, // i64.const 1 -> local 2 (b)
            0x02, 0x40, // block
            0x03, 0x40, // loop
            0x20, 0x00, 0x45, 0x0d, 0x01, // local.get 0 i32.eqz br_if 1
            0x20, 0x01, 0x20, 0x02, 0x7c, // a + b
            0x20, 0x02, 0x21, 0x01, // a = b
            0x21, 0x02, // b = a + b
            0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, // n -= 1
            0x0c, 0x00, // br 0
            0x0b, 0x0b, // end (loop), end (block)
            0x20, 0x01, // local.get 1
        ];
        let f = Func {
            locals: &[(2, I64)],
            ..func(&[I32], &[I64], &body)
        };
        let bytes = Wasm {
            funcs: &[f],
            memory: None,
            table: &[],
        }
        .encode();
        let (mut a, mut b) = (0i64, 1i64);
        for n in 0..=90 {
            assert_eq!(run(&bytes, &[Value::I32(n)])?, [Value::I64(a)]);
            (a, b) = (b, a.wrapping_add(b));
        }
        Ok(())
    }

    #[test]
    fn memory_and_bulk_memory() -> Result<(), Error> {
        // Store an i64, fill, copy, grow, then load bytes back.
        let body = [
            0x41, 0x08, 0x42, 0xef, 0xfd, 0xb6, 0xf5, 0x0d, 0x37, 0x03, 0x00, // i64.store
            0x41, 0x10, 0x41, 0xaa, 0x01, 0x41, 0x04, 0xfc, 0x0b, 0x00, // memory.fill
            0x41, 0x20, 0x41, 0x08, 0x41, 0x0c, 0xfc, 0x0a, 0x00, 0x00, // memory.copy
            0x41, 0x01, 0x40, 0x00, 0x1a, // memory.grow 1, drop
            0x3f, 0x00, // memory.size
            0x41, 0x20, 0x29, 0x03, 0x00, // i64.load at 32
            0xa7, 0x6a, // i32.wrap_i64 i32.add
            0x41, 0x2b, 0x2d, 0x00, 0x00, // i32.load8_u at 43 (0xaa, from the fill)
            0x6a, // i32.add
        ];
        let wasm = Wasm {
            funcs: &[func(&[], &[I32], &body)],
            memory: Some((1, Some(2))),
            table: &[],
        };
        // 2 pages + low word of 0xdeadbeef + 0xaa.
        let expected = 2i32.wrapping_add(0xdead_beefu32 as i32).wrapping_add(0xaa);
        assert_eq!(run(&wasm.encode(), &[])?, [Value::I32(expected)]);
        Ok(())
    }

    #[test]
    fn tables_and_indirect_calls() -> Result<(), Error> {
        // f(i) = call_indirect (type 1) i, with table [g, h]; g returns 11, h returns 22.
        let dispatch = [0x20, 0x00, 0x11, 0x01, 0x00]; // local.get 0 call_indirect type 1
        let g = [0x41, 0x0b];
        let h = [0x41, 0x16];
        let funcs = [
            func(&[I32], &[I32], &dispatch),
            Func {
                export: "g",
                ..func(&[], &[I32], &g)
            },
            Func {
                export: "h",
                ..func(&[], &[I32], &h)
            },
        ];
        let bytes = Wasm {
            funcs: &funcs,
            memory: None,
            table: &[1, 2],
        }
        .encode();
        assert_eq!(run(&bytes, &[Value::I32(0)])?, [Value::I32(11)]);
        assert_eq!(run(&bytes, &[Value::I32(1)])?, [Value::I32(22)]);
        assert_eq!(
            trap_kind(run(&bytes, &[Value::I32(2)])),
            Some(TrapKind::UndefinedElement)
        );
        // Type 2 is h's type only structurally: calling f through type 0 mismatches.
        let bad = [0x41, 0x00, 0x41, 0x00, 0x11, 0x00, 0x00, 0x1a]; // call_indirect type 0
        let funcs = [
            func(&[I32], &[I32], &[0x20, 0x00]),
            Func {
                export: "g",
                ..func(&[], &[], &bad)
            },
        ];
        let bytes = Wasm {
            funcs: &funcs,
            memory: None,
            table: &[1],
        }
        .encode();
        assert_eq!(
            trap_kind(run_with(Config::default(), &bytes, "g", &[])),
            Some(TrapKind::IndirectCallTypeMismatch)
        );
        Ok(())
    }

    #[test]
    fn traps_say_what_and_where() {
        let div = [0x20, 0x00, 0x41, 0x00, 0x6d]; // local.get 0 i32.const 0 i32.div_s
        let bytes = Wasm {
            funcs: &[func(&[I32], &[I32], &div)],
            memory: None,
            table: &[],
        }
        .encode();
        match run(&bytes, &[Value::I32(1)]) {
            Err(Error::Trap(trap)) => {
                assert_eq!(trap.kind, TrapKind::IntegerDivideByZero);
                assert_eq!(trap.func, Some(0));
                // The offset of i32.div_s, the last byte before `end`.
                assert_eq!(trap.offset, Some((bytes.len() - 2) as u32));
            }
            other => panic!("expected a trap, got {other:?}"),
        }
        let oob = [0x41, 0x7f, 0x28, 0x02, 0x00]; // i32.const -1 i32.load
        let bytes = Wasm {
            funcs: &[func(&[], &[I32], &oob)],
            memory: Some((1, None)),
            table: &[],
        }
        .encode();
        assert_eq!(
            trap_kind(run(&bytes, &[])),
            Some(TrapKind::MemoryOutOfBounds)
        );
        let bytes = Wasm {
            funcs: &[func(&[], &[], &[0x00])],
            memory: None,
            table: &[],
        }
        .encode();
        assert_eq!(trap_kind(run(&bytes, &[])), Some(TrapKind::Unreachable));
        let overflow = [0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f, 0xaa]; // f64.const inf i32.trunc_f64_s
        let bytes = Wasm {
            funcs: &[func(&[], &[I32], &overflow)],
            memory: None,
            table: &[],
        }
        .encode();
        assert_eq!(trap_kind(run(&bytes, &[])), Some(TrapKind::IntegerOverflow));
    }

    #[test]
    fn deep_recursion_traps_without_touching_the_kernel_stack() -> Result<(), Error> {
        let bytes = Wasm {
            funcs: &[func(&[I32], &[I32], RECURSE)],
            memory: None,
            table: &[],
        }
        .encode();
        assert_eq!(run(&bytes, &[Value::I32(1000)])?, [Value::I32(1000)]);
        let result = run(&bytes, &[Value::I32(100_000)]);
        let Err(Error::Trap(trap)) = result else {
            panic!("100 000 nested calls did not trap: {result:?}");
        };
        assert_eq!(trap.kind.message(), "call stack exhausted");
        Ok(())
    }

    #[test]
    fn deep_block_nesting_validates_and_runs() -> Result<(), Error> {
        // 50 000 nested `block (result i32)` around `i32.const 42`: the validator's and the
        // translator's control stacks live on the heap.
        const DEPTH: usize = 50_000;
        let mut body = Vec::new();
        body.try_reserve(3 * DEPTH + 2)?;
        body.extend(core::iter::repeat_n([0x02u8, I32], DEPTH).flatten());
        body.extend_from_slice(&[0x41, 42]);
        body.extend(core::iter::repeat_n(0x0bu8, DEPTH));
        let bytes = Wasm {
            funcs: &[func(&[], &[I32], &body)],
            memory: None,
            table: &[],
        }
        .encode();
        assert_eq!(run(&bytes, &[])?, [Value::I32(42)]);
        Ok(())
    }

    #[test]
    fn limits_are_enforced() -> Result<(), Error> {
        // memory.grow past the configured maximum returns -1; so does growing past the
        // declared maximum.
        let grow = [0x20, 0x00, 0x40, 0x00]; // local.get 0 memory.grow
        let bytes = Wasm {
            funcs: &[func(&[I32], &[I32], &grow)],
            memory: Some((1, None)),
            table: &[],
        }
        .encode();
        let config = Config {
            max_memory_pages: 4,
            ..Config::default()
        };
        assert_eq!(
            run_with(config.clone(), &bytes, "f", &[Value::I32(3)])?,
            [Value::I32(1)]
        );
        assert_eq!(
            run_with(config, &bytes, "f", &[Value::I32(4)])?,
            [Value::I32(-1)]
        );
        // An endless loop runs out of fuel.
        let spin = [0x03, 0x40, 0x0c, 0x00, 0x0b]; // loop br 0 end
        let bytes = Wasm {
            funcs: &[func(&[], &[], &spin)],
            memory: None,
            table: &[],
        }
        .encode();
        let config = Config {
            fuel: Some(100_000),
            ..Config::default()
        };
        assert_eq!(
            trap_kind(run_with(config, &bytes, "f", &[])),
            Some(TrapKind::OutOfFuel)
        );
        // Instantiating a memory above the limit fails cleanly.
        let bytes = Wasm {
            funcs: &[func(&[], &[], &[])],
            memory: Some((100, None)),
            table: &[],
        }
        .encode();
        let config = Config {
            max_memory_pages: 10,
            ..Config::default()
        };
        assert!(matches!(
            run_with(config, &bytes, "f", &[]),
            Err(Error::Limit(_))
        ));
        Ok(())
    }

    #[test]
    fn invalid_modules_are_rejected_with_offsets() {
        let add = [0x20, 0x00, 0x20, 0x01, 0x6a];
        let good = Wasm {
            funcs: &[func(&[I32, I32], &[I32], &add)],
            memory: None,
            table: &[],
        }
        .encode();
        assert!(Module::new(&Config::default(), &good).is_ok());
        let mut bad = good.clone();
        let at = bad.len() - 2;
        bad[at] = 0x7c; // i64.add on i32 operands
        match Module::new(&Config::default(), &bad) {
            Err(Error::Validation { offset, message }) => {
                assert_eq!(offset, at);
                assert!(message.contains("type mismatch"));
            }
            _ => panic!("type error not reported"),
        }
        assert!(matches!(
            Module::new(&Config::default(), b"\0asn\x01\0\0\0"),
            Err(Error::Validation { offset: 0, .. })
        ));
        assert!(Module::new(&Config::default(), &good[..good.len() - 3]).is_err());
    }

    #[test]
    fn a_program_compiled_from_c_runs() -> Result<(), Error> {
        // drivers/wasm/testdata/crc32.c, compiled by clang: table-driven CRC-32 and an
        // insertion sort, with globals, loops and memory, checked against Rust.
        let config = Config::default();
        let module = Module::new(&config, crc32::WASM)?;
        let mut store = Store::new(config, ());
        let instance = store.instantiate(&alloc::sync::Arc::new(module), &[])?;
        let func = |store: &Store<()>, name: &str| {
            store
                .get_export(instance, name)
                .and_then(|e| e.func())
                .ok_or_else(|| Error::Link("missing export".into()))
        };
        let check = func(&store, "crc32_check")?;
        assert_eq!(store.invoke(check, &[])?, [Value::I32(1)]);

        // The host writes 4096 bytes into the module's buffer; C computes their CRC.
        let [Value::I32(buffer)] = store.invoke(func(&store, "buffer")?, &[])?[..] else {
            panic!("buffer() did not return an i32");
        };
        let memory = store
            .get_export(instance, "memory")
            .and_then(|e| e.memory())
            .ok_or_else(|| Error::Link("no memory".into()))?;
        let mut x = 0x2545_f491u32;
        let mut crc = 0xffff_ffffu32;
        let data = store.memory_data_mut(memory).ok_or(Error::OutOfMemory)?;
        for i in 0..4096 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let byte = x as u8;
            data[buffer as usize + i] = byte;
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    0xedb8_8320 ^ (crc >> 1)
                } else {
                    crc >> 1
                };
            }
        }
        let args = [Value::I32(buffer), Value::I32(4096)];
        let result = store.invoke(func(&store, "crc32")?, &args)?;
        assert_eq!(result, [Value::I32(!crc as i32)]);

        // Sorting 1000 numbers, checked against the same computation in Rust.
        let mut seed = 7u32;
        let mut v = Vec::new();
        v.try_reserve(1000)?;
        for _ in 0..1000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            v.push(seed >> 8);
        }
        v.sort_unstable();
        let sum = v
            .iter()
            .fold(0u32, |s, &x| s.wrapping_mul(31).wrapping_add(x));
        let args = [Value::I32(1000), Value::I32(7)];
        let result = store.invoke(func(&store, "sort_checksum")?, &args)?;
        assert_eq!(result, [Value::I32(sum as i32)]);
        Ok(())
    }

    #[test]
    fn floats_match_the_host_bit_for_bit() -> Result<(), Error> {
        // The differential test: every float operation of the engine on edge cases and
        // random bit patterns, folded into a digest that the host computed with its FPU.
        use wasm_engine::float::{digest, DIGEST_ROUNDS, DIGEST_SEED, EXPECTED_DIGEST};
        assert_eq!(digest(DIGEST_SEED, DIGEST_ROUNDS), EXPECTED_DIGEST);
        // And through the interpreter: sqrt(2) and nearest(2.5) as f64.
        let body = [
            0x44, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x9f, // f64.const 2 f64.sqrt
            0x44, 0, 0, 0, 0, 0, 0, 0x04, 0x40, 0x9e, // f64.const 2.5 f64.nearest
            0xa0, // f64.add
        ];
        let bytes = Wasm {
            funcs: &[func(&[], &[F64], &body)],
            memory: None,
            table: &[],
        }
        .encode();
        // sqrt(2) + 2, correctly rounded: 0x3ff6_a09e_667f_3bcd + 2.0 on the host's FPU.
        assert_eq!(run(&bytes, &[])?, [Value::F64(0x400b_504f_333f_9de6)]);
        Ok(())
    }
}
