// SPDX-License-Identifier: GPL-2.0

//! Differential fuzzing: wasm-smith writes a valid module from the fuzzer's bytes, the engine
//! and wasmi (the oracle) instantiate it and call its exported functions with the same
//! arguments, and after every step the two must agree on the outcome (results bit for bit, or
//! the same trap), on every exported global and on the exported memory.
//!
//! What is not compared, and why:
//!
//! - NaN bits: the specification lets arithmetic produce any NaN of the right class, and the
//!   engine (soft-float, payload-propagating) and wasmi (the host's FPU) do differ there. The
//!   modules are generated with wasm-smith's `canonicalize_nans`, which rewrites every NaN an
//!   arithmetic instruction produces to the canonical one. What is left (arguments, `neg`,
//!   `abs`, `copysign`, reinterpretations, `promote`/`demote`) is deterministic in both, so
//!   results, globals and memory are compared bit for bit, NaNs included.
//! - Anything after either side ran out of fuel, stack or an allocation limit: the two meter
//!   work and stack differently, so a module is dropped (not failed) at the first such event.
//!   The modules get wasm-smith's `ensure_termination` fuel (a global counted down at every
//!   loop head and call and by bulk lengths), which traps the same way in both engines, so
//!   infinite loops are compared too and engine fuel is only a safety net.
//! - Function identity: a `funcref` result is compared by the export name of the function it
//!   refers to (every function is exported), not by its store address.
//!
//! The modules may import from `env` what both sides provide alike (see [`HOST_FUNCS`] and
//! [`imports_module`]): host functions computing the same thing in both (one of them traps
//! with a host code), a memory, a table and two globals.
//!
//! Set `DIFF_DUMP=path` to write the module of an input to `path`, `DIFF_VERBOSE=1` to trace
//! the calls.
#![no_main]

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::sync::Arc;
use wasm_engine as engine;

/// The largest memory a module declares, in 64 KiB pages; both engines let memories grow to
/// [`MEMORY_LIMIT_PAGES`], so that `memory.grow` fails at the same point in both.
const MAX_MEMORY_PAGES: u64 = 4;
const MEMORY_LIMIT_PAGES: u32 = 8;
/// The largest table a module declares, and how far tables may grow in both engines (per
/// table: the engine's limit is per table for growth, and its initial sum is never reached
/// with [`MAX_TABLES`] tables of at most [`MAX_TABLE_ELEMENTS`]).
const MAX_TABLE_ELEMENTS: u64 = 200;
const MAX_TABLES: usize = 4;
const TABLE_LIMIT_ELEMENTS: u32 = 4096;
/// Fuel of each call (and of the start function), in both engines' own units: a safety net,
/// the modules' own termination fuel runs out long before.
const ENGINE_FUEL: u64 = 20_000_000;
/// Most calls per module.
const MAX_CALLS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(bytes) = generate(&mut u) else {
        return;
    };
    if let Some(path) = std::env::var_os("DIFF_DUMP") {
        let _ = std::fs::write(path, &bytes);
    }
    let mut args = Args::new(u, data);
    run(&bytes, &mut args);
});

/// Where arguments and the choice of calls come from: what is left of the input, then a
/// generator seeded with the input (wasm-smith usually leaves nothing, and all-zero arguments
/// find little).
struct Args<'a> {
    u: Unstructured<'a>,
    state: u64,
    /// Calls still to make after every export was called once.
    extra_calls: usize,
}

impl<'a> Args<'a> {
    fn new(u: Unstructured<'a>, data: &[u8]) -> Self {
        // FNV-1a of the input.
        let state = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let extra_calls = (state % 16) as usize;
        Self {
            u,
            state: state | 1,
            extra_calls,
        }
    }

    /// 64 bits from the input, or from the generator (xorshift64*) once it is used up.
    fn next(&mut self) -> u64 {
        if let Ok(v) = self.u.arbitrary::<u64>() {
            if !self.u.is_empty() {
                return v;
            }
        }
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn arg32(&mut self) -> u32 {
        match self.below(4) {
            0 => SPECIAL32[self.below(SPECIAL32.len())],
            1 => self.below(17) as u32,
            _ => self.next() as u32,
        }
    }

    fn arg64(&mut self) -> u64 {
        match self.below(4) {
            0 => SPECIAL64[self.below(SPECIAL64.len())],
            1 => self.below(17) as u64,
            _ => self.next(),
        }
    }
}

/// wasm-smith's configuration: what the engine supports (WebAssembly 2.0 without SIMD),
/// imports from `env` only, everything exported, small memories and tables.
fn generate(u: &mut Unstructured<'_>) -> ArbResult<Vec<u8>> {
    // Taken first: what wasm-smith leaves of the input is often nothing, and a fuel of 0
    // would make every call trap at once.
    let fuel = u.int_in_range(100..=20_000)?;
    let config = wasm_smith::Config {
        // WebAssembly 2.0 without SIMD.
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        reference_types_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        extended_const_enabled: false,
        wide_arithmetic_enabled: false,
        compact_imports_enabled: false,
        custom_descriptors_enabled: false,
        max_memories: 1,
        max_tables: MAX_TABLES,
        // Only the imports both sides provide.
        max_imports: 8,
        available_imports: Some(imports_module()),
        // Everything exported, so that globals, memory and tables can be compared and
        // functions called.
        export_everything: true,
        canonicalize_nans: true,
        max_memory32_bytes: MAX_MEMORY_PAGES * 65536,
        max_table_elements: MAX_TABLE_ELEMENTS,
        max_funcs: u.int_in_range(1..=30)?,
        max_instructions: u.int_in_range(10..=500)?,
        max_globals: u.int_in_range(0..=20)?,
        max_data_segments: 10,
        max_element_segments: 10,
        max_elements: 50,
        max_nesting_depth: 10,
        allow_floats: u.arbitrary()?,
        disallow_traps: u.ratio(1, 3)?,
        ..wasm_smith::Config::default()
    };
    let mut module = wasm_smith::Module::new(config, u)?;
    module
        .ensure_termination(fuel)
        .map_err(|_| libfuzzer_sys::arbitrary::Error::IncorrectFormat)?;
    Ok(module.to_bytes())
}

/// The host functions of `env`: name, parameters, results. Both sides run [`host_call`].
const HOST_FUNCS: &[(&str, &[engine::ValType], &[engine::ValType])] = {
    use engine::ValType::*;
    &[
        ("scale", &[I32], &[I32]),
        ("mix", &[I64, F32, F64], &[F64, I64]),
        ("nothing", &[], &[]),
        ("trap_odd", &[I32], &[]),
        ("pass", &[ExternRef], &[ExternRef]),
    ]
};

/// What host function `index` of [`HOST_FUNCS`] computes, on both sides; `Err` is a trap
/// with that host code.
fn host_call(index: u64, args: &[engine::Value], results: &mut [engine::Value]) -> Result<(), i32> {
    use engine::Value as V;
    match (index, args, results) {
        (0, [V::I32(x)], [r]) => *r = V::I32(x.wrapping_mul(3).wrapping_add(1)),
        (1, [V::I64(a), V::F32(b), V::F64(c)], [r0, r1]) => {
            *r0 = V::F64(c ^ (*a as u64));
            *r1 = V::I64(a.wrapping_add(i64::from(*b)));
        }
        (2, [], []) => {}
        (3, [V::I32(x)], []) => {
            if x & 1 != 0 {
                return Err(x & 0xff);
            }
        }
        (4, [V::ExternRef(x)], [r]) => *r = V::ExternRef(*x),
        _ => panic!("host function {index} called with {args:?}"),
    }
    Ok(())
}

/// The memory, table and globals of `env`.
const IMPORT_MEMORY: (u32, u32) = (1, MEMORY_LIMIT_PAGES);
const IMPORT_TABLE: (u32, u32) = (4, 64);
const IMPORT_GLOBAL_I32: i32 = 7;
const IMPORT_GLOBAL_F64: u64 = 0x4009_21fb_5444_2d18;

/// A module that imports everything `env` has: wasm-smith's `available_imports`.
fn imports_module() -> Vec<u8> {
    use wasm_encoder::{
        EntityType, GlobalType, ImportSection, MemoryType, Module, RefType, TableType, TypeSection,
        ValType,
    };
    let vt = |t: &engine::ValType| match t {
        engine::ValType::I32 => ValType::I32,
        engine::ValType::I64 => ValType::I64,
        engine::ValType::F32 => ValType::F32,
        engine::ValType::F64 => ValType::F64,
        engine::ValType::FuncRef => ValType::Ref(RefType::FUNCREF),
        engine::ValType::ExternRef => ValType::Ref(RefType::EXTERNREF),
    };
    let mut types = TypeSection::new();
    let mut imports = ImportSection::new();
    for (i, (name, params, results)) in HOST_FUNCS.iter().enumerate() {
        types
            .ty()
            .function(params.iter().map(vt), results.iter().map(vt));
        imports.import("env", name, EntityType::Function(i as u32));
    }
    imports.import(
        "env",
        "memory",
        EntityType::Memory(MemoryType {
            minimum: IMPORT_MEMORY.0.into(),
            maximum: Some(IMPORT_MEMORY.1.into()),
            memory64: false,
            shared: false,
            page_size_log2: None,
        }),
    );
    imports.import(
        "env",
        "table",
        EntityType::Table(TableType {
            element_type: RefType::FUNCREF,
            minimum: IMPORT_TABLE.0.into(),
            maximum: Some(IMPORT_TABLE.1.into()),
            table64: false,
            shared: false,
        }),
    );
    imports.import(
        "env",
        "g_i32",
        EntityType::Global(GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        }),
    );
    imports.import(
        "env",
        "g_f64",
        EntityType::Global(GlobalType {
            val_type: ValType::F64,
            mutable: false,
            shared: false,
        }),
    );
    let mut module = Module::new();
    module.section(&types).section(&imports);
    module.finish()
}

/// The engine's host function: [`host_call`], by the index in its function data.
fn engine_host(
    caller: &mut engine::Caller<'_, ()>,
    args: &[engine::Value],
    results: &mut [engine::Value],
) -> Result<(), engine::Trap> {
    host_call(caller.func_data(), args, results)
        .map_err(|code| engine::Trap::new(engine::TrapKind::Host(code)))
}

/// `env` in the engine's store, in the order of `module`'s imports.
fn engine_imports(
    store: &mut engine::Store<()>,
    module: &engine::Module,
) -> Result<Vec<engine::Extern>, Inconclusive> {
    use engine::{Extern, GlobalType, Limits, MemoryType, TableType, ValType, Value};
    let wanted: Vec<(String, String)> = module
        .imports()
        .map(|(m, n, _)| (m.to_string(), n.to_string()))
        .collect();
    let mut externs = Vec::new();
    for (m, name) in wanted {
        assert_eq!(m, "env");
        let limits = |(min, max): (u32, u32)| Limits {
            min,
            max: Some(max),
        };
        let ext = if let Some(i) = HOST_FUNCS.iter().position(|(n, _, _)| *n == name) {
            let (_, params, results) = HOST_FUNCS[i];
            let ty = engine::FuncType::new(params.iter().copied(), results.iter().copied())
                .expect("function type");
            Extern::Func(
                store
                    .add_host_func_with(ty, engine_host, i as u64)
                    .expect("host function"),
            )
        } else {
            match name.as_str() {
                "memory" => Extern::Memory(
                    store
                        .add_memory(MemoryType {
                            limits: limits(IMPORT_MEMORY),
                        })
                        .map_err(|e| Inconclusive(format!("engine memory: {e}")))?,
                ),
                "table" => Extern::Table(
                    store
                        .add_table(
                            TableType {
                                element: ValType::FuncRef,
                                limits: limits(IMPORT_TABLE),
                            },
                            Value::FuncRef(None),
                        )
                        .map_err(|e| Inconclusive(format!("engine table: {e}")))?,
                ),
                "g_i32" => Extern::Global(
                    store
                        .add_global(
                            GlobalType {
                                content: ValType::I32,
                                mutable: true,
                            },
                            Value::I32(IMPORT_GLOBAL_I32),
                        )
                        .expect("global"),
                ),
                "g_f64" => Extern::Global(
                    store
                        .add_global(
                            GlobalType {
                                content: ValType::F64,
                                mutable: false,
                            },
                            Value::F64(IMPORT_GLOBAL_F64),
                        )
                        .expect("global"),
                ),
                _ => panic!("unknown import {name:?}"),
            }
        };
        externs.push(ext);
    }
    Ok(externs)
}

/// A wasmi value as the engine's, for [`host_call`].
fn from_wasmi(store: impl wasmi::AsContext, v: &wasmi::Val) -> engine::Value {
    match v {
        wasmi::Val::I32(x) => engine::Value::I32(*x),
        wasmi::Val::I64(x) => engine::Value::I64(*x),
        wasmi::Val::F32(x) => engine::Value::F32(x.to_bits()),
        wasmi::Val::F64(x) => engine::Value::F64(x.to_bits()),
        wasmi::Val::ExternRef(wasmi::Ref::Val(r)) => engine::Value::ExternRef(Some(
            *r.data(&store)
                .downcast_ref::<u32>()
                .expect("a u32 externref"),
        )),
        wasmi::Val::ExternRef(wasmi::Ref::Null) => engine::Value::ExternRef(None),
        other => panic!("no host function takes {other:?}"),
    }
}

/// An engine value as wasmi's; `None` for a function reference.
fn to_wasmi(store: impl wasmi::AsContextMut, v: &engine::Value) -> wasmi::Val {
    match v {
        engine::Value::I32(x) => wasmi::Val::I32(*x),
        engine::Value::I64(x) => wasmi::Val::I64(*x),
        engine::Value::F32(x) => wasmi::Val::F32(wasmi::F32::from_bits(*x)),
        engine::Value::F64(x) => wasmi::Val::F64(wasmi::F64::from_bits(*x)),
        engine::Value::ExternRef(Some(n)) => {
            wasmi::Val::ExternRef(wasmi::Ref::Val(wasmi::ExternRef::new(store, *n)))
        }
        engine::Value::ExternRef(None) => wasmi::Val::ExternRef(wasmi::Ref::Null),
        engine::Value::FuncRef(None) => wasmi::Val::FuncRef(wasmi::Ref::Null),
        engine::Value::FuncRef(Some(_)) => panic!("no host function returns a funcref"),
    }
}

/// `env` in wasmi's linker.
fn wasmi_imports(
    store: &mut wasmi::Store<wasmi::StoreLimits>,
    linker: &mut wasmi::Linker<wasmi::StoreLimits>,
) -> Result<(), Inconclusive> {
    let vt = |t: &engine::ValType| match t {
        engine::ValType::I32 => wasmi::ValType::I32,
        engine::ValType::I64 => wasmi::ValType::I64,
        engine::ValType::F32 => wasmi::ValType::F32,
        engine::ValType::F64 => wasmi::ValType::F64,
        engine::ValType::FuncRef => wasmi::ValType::FuncRef,
        engine::ValType::ExternRef => wasmi::ValType::ExternRef,
    };
    for (i, (name, params, results)) in HOST_FUNCS.iter().enumerate() {
        let ty = wasmi::FuncType::new(params.iter().map(vt), results.iter().map(vt));
        let n_results = results.len();
        let f = wasmi::Func::new(&mut *store, ty, move |mut caller, args, out| {
            let args: Vec<_> = args.iter().map(|a| from_wasmi(&caller, a)).collect();
            let mut results = vec![engine::Value::I32(0); n_results];
            host_call(i as u64, &args, &mut results).map_err(wasmi::Error::i32_exit)?;
            for (o, r) in out.iter_mut().zip(&results) {
                *o = to_wasmi(&mut caller, r);
            }
            Ok(())
        });
        linker.define("env", name, f).expect("define");
    }
    let memory = wasmi::Memory::new(
        &mut *store,
        wasmi::MemoryType::new(IMPORT_MEMORY.0, Some(IMPORT_MEMORY.1)),
    )
    .map_err(|e| Inconclusive(format!("wasmi memory: {e}")))?;
    let table = wasmi::Table::new(
        &mut *store,
        wasmi::TableType::new(
            wasmi::ValType::FuncRef,
            IMPORT_TABLE.0,
            Some(IMPORT_TABLE.1),
        ),
        wasmi::Val::FuncRef(wasmi::Ref::Null),
    )
    .map_err(|e| Inconclusive(format!("wasmi table: {e}")))?;
    let g_i32 = wasmi::Global::new(
        &mut *store,
        wasmi::Val::I32(IMPORT_GLOBAL_I32),
        wasmi::Mutability::Var,
    );
    let g_f64 = wasmi::Global::new(
        &mut *store,
        wasmi::Val::F64(wasmi::F64::from_bits(IMPORT_GLOBAL_F64)),
        wasmi::Mutability::Const,
    );
    linker.define("env", "memory", memory).expect("define");
    linker.define("env", "table", table).expect("define");
    linker.define("env", "g_i32", g_i32).expect("define");
    linker.define("env", "g_f64", g_f64).expect("define");
    Ok(())
}

/// Why the comparison of a module stopped early without a verdict.
#[derive(Debug)]
struct Inconclusive(String);

macro_rules! inconclusive {
    ($($arg:tt)*) => {
        return Err(Inconclusive(format!($($arg)*)))
    };
}

fn verbose() -> bool {
    std::env::var_os("DIFF_VERBOSE").is_some()
}

fn run(bytes: &[u8], u: &mut Args<'_>) {
    match compare(bytes, u) {
        Ok(()) => {}
        Err(why) => {
            if verbose() {
                eprintln!("inconclusive: {}", why.0);
            }
        }
    }
}

/// The two sides of one module.
struct Pair {
    ours: engine::Store<()>,
    ours_instance: engine::InstanceAddr,
    theirs: wasmi::Store<wasmi::StoreLimits>,
    theirs_instance: wasmi::Instance,
    /// Every export, in order.
    exports: Vec<(String, engine::ExternKind)>,
    /// Export name of every function, by address on each side.
    ours_funcs: HashMap<engine::FuncAddr, String>,
    theirs_funcs: HashMap<String, String>,
}

fn compare(bytes: &[u8], u: &mut Args<'_>) -> Result<(), Inconclusive> {
    let config = engine::Config {
        max_memory_pages: MEMORY_LIMIT_PAGES,
        max_table_elements: TABLE_LIMIT_ELEMENTS,
        max_value_stack: 1 << 16,
        max_call_depth: 1000,
        fuel: Some(ENGINE_FUEL),
        // Both of the interpreter's dispatches, half of the modules each.
        dispatch: if bytes.len() % 2 == 0 {
            engine::Dispatch::Match
        } else {
            engine::Dispatch::Threaded
        },
        ..engine::Config::default()
    };

    // wasm-smith writes valid modules of the features the engine supports: it must take
    // every one (within its limits), whatever the oracle thinks.
    let ours_module = match engine::Module::new(&config, bytes) {
        Ok(m) => Arc::new(m),
        Err(engine::Error::Limit(e)) => inconclusive!("engine limit: {e}"),
        Err(e) => panic!("the engine rejects a valid module: {e}"),
    };
    let mut wconfig = wasmi::Config::default();
    wconfig.consume_fuel(true);
    wconfig.compilation_mode(wasmi::CompilationMode::Eager);
    let wengine = wasmi::Engine::new(&wconfig);
    let theirs_module = match wasmi::Module::new(&wengine, bytes) {
        Ok(m) => m,
        // The oracle's wasmparser is older than ours; what it cannot read says nothing.
        Err(e) => inconclusive!("wasmi rejects the module: {e}"),
    };

    let limits = wasmi::StoreLimitsBuilder::new()
        .memory_size(MEMORY_LIMIT_PAGES as usize * 65536)
        .table_elements(TABLE_LIMIT_ELEMENTS as usize)
        .build();
    let mut theirs = wasmi::Store::new(&wengine, limits);
    theirs.limiter(|limits| limits);
    theirs.set_fuel(ENGINE_FUEL).expect("fuel is enabled");
    let mut linker = wasmi::Linker::new(&wengine);
    wasmi_imports(&mut theirs, &mut linker)?;
    let theirs_result = linker.instantiate_and_start(&mut theirs, &theirs_module);

    let mut ours = engine::Store::new(config, ());
    let imports = engine_imports(&mut ours, &ours_module)?;
    let ours_result = ours.instantiate(&ours_module, &imports);

    let (ours_instance, theirs_instance) = match (ours_result, theirs_result) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Err(b)) => {
            let a = our_outcome(a)?;
            let b = their_outcome(&b)?;
            if a != b {
                panic!("instantiation: engine {a:?}, wasmi {b:?}");
            }
            return Ok(());
        }
        (Ok(_), Err(b)) => {
            let b = their_outcome(&b)?;
            panic!("instantiation: engine succeeds, wasmi fails with {b:?}");
        }
        (Err(a), Ok(_)) => {
            let a = our_outcome(a)?;
            panic!("instantiation: engine fails with {a:?}, wasmi succeeds");
        }
    };

    let exports: Vec<(String, engine::ExternKind)> = ours_module
        .exports()
        .map(|(n, k)| (n.to_string(), k))
        .collect();
    let mut ours_funcs = HashMap::new();
    let mut theirs_funcs = HashMap::new();
    for (name, kind) in &exports {
        if *kind != engine::ExternKind::Func {
            continue;
        }
        let f = ours
            .get_export(ours_instance, name)
            .and_then(|e| e.func())
            .expect("exported function");
        ours_funcs.entry(f).or_insert_with(|| name.clone());
        let g = theirs_instance
            .get_func(&theirs, name)
            .unwrap_or_else(|| panic!("wasmi has no export {name:?}"));
        theirs_funcs
            .entry(format!("{g:?}"))
            .or_insert_with(|| name.clone());
    }
    let mut pair = Pair {
        ours,
        ours_instance,
        theirs,
        theirs_instance,
        exports,
        ours_funcs,
        theirs_funcs,
    };
    pair.compare_state("after instantiation");

    let funcs: Vec<String> = pair
        .exports
        .iter()
        .filter(|(_, k)| *k == engine::ExternKind::Func)
        .map(|(n, _)| n.clone())
        .collect();
    if funcs.is_empty() {
        return Ok(());
    }
    // Every function once, in order, then a few more calls chosen by the input.
    let calls = (funcs.len() + u.extra_calls).min(MAX_CALLS);
    for step in 0..calls {
        let name = match funcs.get(step) {
            Some(name) => name,
            None => &funcs[u.below(funcs.len())],
        };
        pair.call(name, u)?;
    }
    Ok(())
}

/// What an invocation or instantiation came to, in terms both engines share.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// The WebAssembly trap, by the specification's message.
    Trap(&'static str),
    /// A host function's trap, with its code.
    Host(i32),
}

/// Classifies the engine's failure; resource exhaustion is inconclusive.
fn our_outcome(e: engine::Error) -> Result<Outcome, Inconclusive> {
    use engine::TrapKind as K;
    match e {
        engine::Error::Trap(t) => match t.kind {
            K::Unreachable => Ok(Outcome::Trap("unreachable")),
            K::MemoryOutOfBounds => Ok(Outcome::Trap("out of bounds memory access")),
            // wasmi has one code for both: an access past the end of a table.
            K::TableOutOfBounds | K::UndefinedElement => {
                Ok(Outcome::Trap("out of bounds table access"))
            }
            K::UninitializedElement => Ok(Outcome::Trap("uninitialized element")),
            K::IndirectCallTypeMismatch => Ok(Outcome::Trap("indirect call type mismatch")),
            K::IntegerDivideByZero => Ok(Outcome::Trap("integer divide by zero")),
            K::IntegerOverflow => Ok(Outcome::Trap("integer overflow")),
            K::InvalidConversionToInteger => Ok(Outcome::Trap("invalid conversion to integer")),
            K::Host(code) => Ok(Outcome::Host(code)),
            K::CallStackExhausted | K::ValueStackExhausted | K::OutOfFuel | K::Interrupted => {
                inconclusive!("engine: {t}")
            }
            _ => panic!("engine: unexpected trap {t}"),
        },
        engine::Error::Limit(e) => inconclusive!("engine limit: {e}"),
        engine::Error::OutOfMemory => inconclusive!("engine out of memory"),
        e => panic!("engine: unexpected error {e}"),
    }
}

/// Classifies wasmi's failure; resource exhaustion is inconclusive.
fn their_outcome(e: &wasmi::Error) -> Result<Outcome, Inconclusive> {
    use wasmi::errors::{ErrorKind, InstantiationError, MemoryError, TableError};
    use wasmi::TrapCode as C;
    if let Some(code) = e.i32_exit_status() {
        return Ok(Outcome::Host(code));
    }
    let Some(code) = e.as_trap_code() else {
        // Instantiation reports out-of-bounds segments as errors of its own, not traps.
        return match e.kind() {
            ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. })
            | ErrorKind::Table(
                TableError::InitOutOfBounds
                | TableError::SetOutOfBounds
                | TableError::CopyOutOfBounds
                | TableError::FillOutOfBounds,
            ) => Ok(Outcome::Trap("out of bounds table access")),
            ErrorKind::Memory(MemoryError::OutOfBoundsAccess) => {
                Ok(Outcome::Trap("out of bounds memory access"))
            }
            // The rest are resource limits (the limiter refusing a memory or a table).
            _ => inconclusive!("wasmi: {e}"),
        };
    };
    Ok(Outcome::Trap(match code {
        C::UnreachableCodeReached => "unreachable",
        C::MemoryOutOfBounds => "out of bounds memory access",
        C::TableOutOfBounds => "out of bounds table access",
        C::IndirectCallToNull => "uninitialized element",
        C::BadSignature => "indirect call type mismatch",
        C::IntegerDivisionByZero => "integer divide by zero",
        C::IntegerOverflow => "integer overflow",
        C::BadConversionToInteger => "invalid conversion to integer",
        C::StackOverflow | C::OutOfFuel | C::GrowthOperationLimited => {
            inconclusive!("wasmi: {e}")
        }
    }))
}

/// Interesting 32- and 64-bit patterns, as arguments.
const SPECIAL32: &[u32] = &[
    0,
    1,
    2,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0xffff_fffe,
    0x0000_ffff,
    0x7f80_0000, // +inf
    0xff80_0000, // -inf
    0x7fc0_0000, // canonical NaN
    0x7fa0_0000, // signalling NaN
    0x3f80_0000, // 1.0
    0x4f00_0000, // 2^31
    0x0000_0001, // smallest subnormal
];
const SPECIAL64: &[u64] = &[
    0,
    1,
    2,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
    0xffff_ffff,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    0x7ff4_0000_0000_0000,
    0x3ff0_0000_0000_0000,
    0x43e0_0000_0000_0000, // 2^63
    0x41e0_0000_0000_0000, // 2^31
];

impl Pair {
    /// Calls export `name` on both sides with the same arguments from `u` and compares.
    fn call(&mut self, name: &str, u: &mut Args<'_>) -> Result<(), Inconclusive> {
        let f = self
            .ours
            .get_export(self.ours_instance, name)
            .and_then(|e| e.func())
            .expect("exported function");
        let g = self
            .theirs_instance
            .get_func(&self.theirs, name)
            .expect("exported function");
        let ty = self.ours.func_type(f).expect("function type").clone();
        let mut args = Vec::new();
        let mut wargs = Vec::new();
        for t in ty.params() {
            let (a, b) = match t {
                engine::ValType::I32 => {
                    let v = u.arg32();
                    (engine::Value::I32(v as i32), wasmi::Val::I32(v as i32))
                }
                engine::ValType::I64 => {
                    let v = u.arg64();
                    (engine::Value::I64(v as i64), wasmi::Val::I64(v as i64))
                }
                engine::ValType::F32 => {
                    let v = u.arg32();
                    (
                        engine::Value::F32(v),
                        wasmi::Val::F32(wasmi::F32::from_bits(v)),
                    )
                }
                engine::ValType::F64 => {
                    let v = u.arg64();
                    (
                        engine::Value::F64(v),
                        wasmi::Val::F64(wasmi::F64::from_bits(v)),
                    )
                }
                engine::ValType::FuncRef => (
                    engine::Value::FuncRef(None),
                    wasmi::Val::FuncRef(wasmi::Ref::Null),
                ),
                engine::ValType::ExternRef => {
                    if u.below(2) == 0 {
                        let n = u.below(1000) as u32;
                        let r = wasmi::ExternRef::new(&mut self.theirs, n);
                        (
                            engine::Value::ExternRef(Some(n)),
                            wasmi::Val::ExternRef(wasmi::Ref::Val(r)),
                        )
                    } else {
                        (
                            engine::Value::ExternRef(None),
                            wasmi::Val::ExternRef(wasmi::Ref::Null),
                        )
                    }
                }
            };
            args.push(a);
            wargs.push(b);
        }
        if verbose() {
            eprintln!("call {name:?} {args:?}");
        }
        let ours = self.ours.invoke(f, &args);
        let wty = g.ty(&self.theirs);
        let mut wresults: Vec<wasmi::Val> = wty
            .results()
            .iter()
            .map(|t| wasmi::Val::default(*t))
            .collect();
        self.theirs.set_fuel(ENGINE_FUEL).expect("fuel is enabled");
        let theirs = g.call(&mut self.theirs, &wargs, &mut wresults);
        let what = format!("call of {name:?} with {args:?}");
        match (ours, theirs) {
            (Ok(results), Ok(())) => {
                if verbose() {
                    eprintln!("  -> {results:?}");
                }
                assert_eq!(results.len(), wresults.len(), "{what}: result count");
                for (i, (a, b)) in results.iter().zip(&wresults).enumerate() {
                    if !self.same_value(a, b) {
                        panic!("{what}: result {i}: engine {a:?}, wasmi {b:?}");
                    }
                }
            }
            (Err(a), Err(b)) => {
                let a = our_outcome(a)?;
                let b = their_outcome(&b)?;
                if verbose() {
                    eprintln!("  -> {a:?}");
                }
                assert_eq!(a, b, "{what}: engine traps with {a:?}, wasmi with {b:?}");
            }
            (Ok(results), Err(b)) => {
                let b = their_outcome(&b)?;
                panic!("{what}: engine returns {results:?}, wasmi traps with {b:?}");
            }
            (Err(a), Ok(())) => {
                let a = our_outcome(a)?;
                panic!("{what}: engine traps with {a:?}, wasmi returns {wresults:?}");
            }
        }
        self.compare_state(&what);
        Ok(())
    }

    fn same_value(&self, a: &engine::Value, b: &wasmi::Val) -> bool {
        match (a, b) {
            (engine::Value::I32(a), wasmi::Val::I32(b)) => a == b,
            (engine::Value::I64(a), wasmi::Val::I64(b)) => a == b,
            (engine::Value::F32(a), wasmi::Val::F32(b)) => *a == b.to_bits(),
            (engine::Value::F64(a), wasmi::Val::F64(b)) => *a == b.to_bits(),
            (engine::Value::FuncRef(a), wasmi::Val::FuncRef(b)) => match (a, b) {
                (None, wasmi::Ref::Null) => true,
                (Some(a), wasmi::Ref::Val(b)) => {
                    let a = self.ours_funcs.get(a);
                    let b = self.theirs_funcs.get(&format!("{b:?}"));
                    // Every function is exported: both must name one, the same.
                    a.is_some() && a == b
                }
                _ => false,
            },
            (engine::Value::ExternRef(a), wasmi::Val::ExternRef(b)) => match (a, b) {
                (None, wasmi::Ref::Null) => true,
                (Some(a), wasmi::Ref::Val(b)) => {
                    b.data(&self.theirs).downcast_ref::<u32>() == Some(a)
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// Compares every exported global, memory and table size.
    fn compare_state(&self, when: &str) {
        for (name, kind) in &self.exports {
            let ours = self
                .ours
                .get_export(self.ours_instance, name)
                .expect("export");
            match kind {
                engine::ExternKind::Func => {}
                engine::ExternKind::Global => {
                    let a = self
                        .ours
                        .global_value(ours.global().expect("global"))
                        .expect("global value");
                    let b = self
                        .theirs_instance
                        .get_global(&self.theirs, name)
                        .expect("wasmi global")
                        .get(&self.theirs);
                    if !self.same_value(&a, &b) {
                        panic!("{when}: global {name:?}: engine {a:?}, wasmi {b:?}");
                    }
                }
                engine::ExternKind::Memory => {
                    let a = self
                        .ours
                        .memory_data(ours.memory().expect("memory"))
                        .expect("memory data");
                    let b = self
                        .theirs_instance
                        .get_memory(&self.theirs, name)
                        .expect("wasmi memory")
                        .data(&self.theirs);
                    if a.len() != b.len() {
                        panic!(
                            "{when}: memory {name:?}: engine {} bytes, wasmi {}",
                            a.len(),
                            b.len()
                        );
                    }
                    // One memcmp first: comparing byte by byte in instrumented code would
                    // take most of the run.
                    if a == b {
                        continue;
                    }
                    if let Some(at) = a.iter().zip(b).position(|(x, y)| x != y) {
                        panic!(
                            "{when}: memory {name:?} differs at {at:#x}: engine {:02x?}, \
                             wasmi {:02x?}",
                            &a[at..(at + 16).min(a.len())],
                            &b[at..(at + 16).min(b.len())]
                        );
                    }
                }
                engine::ExternKind::Table => {
                    let engine::ExternType::Table(t) =
                        self.ours.extern_type(ours).expect("table type")
                    else {
                        panic!("table export is not a table");
                    };
                    let size = self
                        .theirs_instance
                        .get_table(&self.theirs, name)
                        .expect("wasmi table")
                        .size(&self.theirs);
                    if u64::from(t.limits.min) != size {
                        panic!(
                            "{when}: table {name:?}: engine {} elements, wasmi {size}",
                            t.limits.min
                        );
                    }
                }
            }
        }
    }
}
