// SPDX-License-Identifier: GPL-2.0

//! Any bytes as a module: loading must fail cleanly or produce a module that
//! instantiates and runs every exported function to a result or a trap, within
//! small limits, without panicking or hanging.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_engine::{Config, Dispatch, Extern, Module, Store, Value};

fuzz_target!(|data: &[u8]| {
    let config = Config {
        max_value_stack: 4096,
        max_call_depth: 256,
        max_memory_pages: 16,
        max_table_elements: 4096,
        fuel: Some(20_000),
        // Both of the interpreter's dispatches, half of the inputs each.
        dispatch: if data.len() % 2 == 0 {
            Dispatch::Match
        } else {
            Dispatch::Threaded
        },
        ..Config::default()
    };
    let Ok(module) = Module::new(&config, data) else {
        return;
    };
    if module.imports().next().is_some() {
        return;
    }
    let module = std::sync::Arc::new(module);
    let mut store = Store::new(config, ());
    let Ok(instance) = store.instantiate(&module, &[]) else {
        return;
    };
    let funcs: Vec<_> = store
        .exports(instance)
        .filter_map(|(_, e)| match e {
            Extern::Func(f) => Some(f),
            _ => None,
        })
        .collect();
    for f in funcs {
        let Some(ty) = store.func_type(f) else {
            continue;
        };
        let args: Vec<Value> = ty.params().iter().map(|t| Value::default_of(*t)).collect();
        let _ = store.invoke(f, &args);
    }
});
