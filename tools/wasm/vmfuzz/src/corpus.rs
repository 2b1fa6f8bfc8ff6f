// SPDX-License-Identifier: GPL-2.0

//! The modules the fuzzer starts from: its own small modules that use every kind of entity
//! the runtime has (memories and bulk operations, tables, globals, a start function, spectest
//! imports, a pair that links in one link group), small versions of `wasm-hostile`'s modules,
//! the `.wat`/`.wasm` files of a directory (`examples/`), and wasm-smith's random valid
//! modules.

use std::path::Path;

use arbitrary::Unstructured;

use crate::rng::Rng;

/// A module to start from.
#[derive(Clone, Debug)]
pub struct Seed {
    /// Where it comes from.
    pub name: String,
    /// Its binary.
    pub bytes: Vec<u8>,
}

/// The module name under which link rounds register a provider: what [`CONSUMER`] and
/// `wasm-hostile`'s `trapping_start` import from.
pub const LINK_NAME: &str = "m";

/// Memory, data segments and the bulk memory operations.
const MEMORY: &str = r#"(module
  (memory (export "mem") 1 4)
  (data (i32.const 0) "hello wasm")
  (data $passive "a passive segment")
  (func (export "fill") (param i32 i32 i32)
    (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32)
    (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32)
    (memory.init $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop $passive))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "store") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "size") (result i32) (memory.size)))"#;

/// Tables, element segments, `call_indirect` and the bulk table operations.
const TABLES: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (table $tab (export "tab") 4 16 funcref)
  (table $ext 2 externref)
  (elem (table $tab) (i32.const 0) func $inc $dbl)
  (elem $pass func $inc $dbl $sq)
  (func $inc (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $t) (i32.mul (local.get 0) (i32.const 2)))
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func (export "call") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0)))
  (func (export "grow") (param i32) (result i32)
    (table.grow $tab (ref.null func) (local.get 0)))
  (func (export "init") (param i32 i32 i32)
    (table.init $tab $pass (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32)
    (table.copy $tab $tab (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill") (param i32 i32)
    (table.fill $tab (local.get 0) (ref.func $sq) (local.get 1)))
  (func (export "drop") (elem.drop $pass))
  (func (export "setext") (param i32 externref)
    (table.set $ext (local.get 0) (local.get 1)))
  (func (export "getext") (param i32) (result externref)
    (table.get $ext (local.get 0))))"#;

/// Globals, a start function, multiple values, floats, loops and recursion.
const CONTROL: &str = r#"(module
  (global $g (export "g") (mut i32) (i32.const 7))
  (global (export "c") i64 (i64.const -1))
  (global (export "f") (mut f64) (f64.const 1.5))
  (func $start (global.set $g (i32.const 42)))
  (start $start)
  (func (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
  (func (export "bump") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (global.get $g))
  (func (export "fmath") (param f64 f32) (result f64)
    (f64.add (f64.sqrt (local.get 0)) (f64.promote_f32 (local.get 1))))
  (func (export "conv") (param f32) (result i32 i64)
    (i32.trunc_sat_f32_s (local.get 0)) (i64.trunc_f32_u (local.get 0)))
  (func (export "sum") (param i32) (result i32) (local i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get 0)))
        (local.set 1 (i32.add (local.get 1) (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $l)))
    (local.get 1))
  (func $rec (export "rec") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $rec (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "select") (param i32 i64 i64) (result i64)
    (select (local.get 1) (local.get 2) (local.get 0)))
  (func (export "div") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
  (func (export "unreachable") unreachable))"#;

/// The driver's host module.
const SPECTEST: &str = r#"(module
  (import "spectest" "print_i32" (func $print (param i32)))
  (import "spectest" "print_f64" (func $printf (param f64)))
  (import "spectest" "global_i32" (global $gi i32))
  (import "spectest" "table" (table 10 funcref))
  (import "spectest" "memory" (memory 1 2))
  (func (export "p") (param i32) (call $print (local.get 0)))
  (func (export "pf") (param f64) (call $printf (local.get 0)))
  (func (export "gi") (result i32) (global.get $gi))
  (func (export "m") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

/// What link rounds register as [`LINK_NAME`]: a memory, a table, a global and a function.
pub const PROVIDER: &str = r#"(module
  (memory (export "mem") 1 8)
  (table (export "tab") 2 10 funcref)
  (global (export "glob") (mut i32) (i32.const 0))
  (func $f (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 100)))
  (elem (i32.const 0) $f)
  (func (export "clear") (table.fill 0 (i32.const 0) (ref.null func) (i32.const 2))))"#;

/// Imports everything [`PROVIDER`] exports, and puts its own function into the table.
pub const CONSUMER: &str = r#"(module
  (import "m" "mem" (memory 1))
  (import "m" "tab" (table 1 funcref))
  (import "m" "glob" (global $g (mut i32)))
  (import "m" "f" (func $f (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (func $mine (type $t) (i32.mul (local.get 0) (i32.const 3)))
  (elem (i32.const 1) $mine)
  (func (export "run") (param i32) (result i32)
    (global.set $g (call $f (local.get 0)))
    (i32.store (i32.const 0) (global.get $g))
    (call_indirect (type $t) (i32.load (i32.const 0)) (i32.const 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

fn wat(name: &str, text: &str) -> Seed {
    Seed {
        name: name.to_string(),
        // The texts above are fixed and covered by the tests.
        bytes: wat::parse_str(text).unwrap_or_default(),
    }
}

/// The built-in seeds: the modules above and small versions of `wasm-hostile`'s.
pub fn builtin() -> Vec<Seed> {
    let mut seeds = vec![
        wat("memory", MEMORY),
        wat("tables", TABLES),
        wat("control", CONTROL),
        wat("spectest", SPECTEST),
        wat("provider", PROVIDER),
        wat("consumer", CONSUMER),
    ];
    let hostile = [
        ("fills", wasm_hostile::fills(4, 1)),
        ("br-table", wasm_hostile::br_table(64, 4)),
        ("types", wasm_hostile::distinct_types(40)),
        ("grow", wasm_hostile::grow(8)),
        ("tables-hostile", wasm_hostile::tables(3, 100)),
        ("trapping-start", wasm_hostile::trapping_start(1)),
        ("table-owner", wasm_hostile::table_owner()),
    ];
    seeds.extend(hostile.into_iter().map(|(name, bytes)| Seed {
        name: name.to_string(),
        bytes,
    }));
    seeds
}

/// The modules (`.wat` or `.wasm`) in `dir`, sorted by name.
pub fn from_dir(dir: &Path) -> Result<Vec<Seed>, String> {
    let mut paths = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("wat" | "wasm")))
        .collect::<Vec<_>>();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let bytes = wasmctl::module::read_module(p).map_err(|e| format!("{e:?}"))?;
            Ok(Seed {
                name: p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                bytes,
            })
        })
        .collect()
}

/// A random valid module from wasm-smith: WebAssembly 2.0 without SIMD (what the engine
/// implements), no imports, everything exported, small.
pub fn random_module(rng: &mut Rng) -> Vec<u8> {
    let n = rng.range(64, 4096) as usize;
    let input = rng.bytes(n);
    let mut u = Unstructured::new(&input);
    let config = wasm_smith::Config {
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
        max_imports: 0,
        max_memories: 1,
        max_tables: 3,
        export_everything: true,
        max_memory32_bytes: 16 * 65536,
        max_table_elements: 1000,
        max_funcs: 20,
        max_instructions: 200,
        max_globals: 10,
        max_data_segments: 8,
        max_element_segments: 8,
        max_elements: 50,
        max_nesting_depth: 10,
        ..wasm_smith::Config::default()
    };
    wasm_smith::Module::new(config, &mut u)
        .map(|m| m.to_bytes())
        .unwrap_or_else(|_| crate::mutate::HEADER.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_valid() {
        for seed in builtin() {
            assert!(
                wasmctl::module::is_valid(&seed.bytes),
                "{} is not a valid module",
                seed.name
            );
        }
        let examples = from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../examples"))
            .expect("examples");
        assert!(examples.len() >= 5);
        assert!(examples.iter().all(|s| wasmctl::module::is_valid(&s.bytes)));
    }

    #[test]
    fn random_modules_are_valid() {
        let mut rng = Rng::new(3);
        for _ in 0..50 {
            let m = random_module(&mut rng);
            assert!(wasmctl::module::is_valid(&m));
        }
    }
}
