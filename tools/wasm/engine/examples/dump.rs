// SPDX-License-Identifier: GPL-2.0

//! Prints the translated code of a module: `cargo run -p wasm-engine --example dump -- FILE`
//! (binary or text).

use wasm_engine::{Config, Module};

fn main() {
    let path = std::env::args().nth(1).expect("usage: dump FILE");
    let bytes = wat::parse_file(&path).expect("cannot read or parse the module");
    let module = Module::new(&Config::default(), &bytes).expect("invalid module");
    for code in module.translated() {
        println!(
            "func {} (params {}, locals {}, results {}, slots {}, entry cost {}):",
            code.func_index,
            code.num_params,
            code.num_locals,
            code.num_results,
            code.num_slots,
            code.entry_cost
        );
        for (i, op) in code.ops.iter().enumerate() {
            println!("  {i:4} @{:#06x}  {op:?}", code.offsets[i]);
        }
    }
}
