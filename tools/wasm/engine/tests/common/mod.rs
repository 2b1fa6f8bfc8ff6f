// SPDX-License-Identifier: GPL-2.0

//! Helpers the engine's integration tests share: each test file is its own crate and uses
//! a different subset, hence `dead_code`.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use wasm_engine::{Config, Error, InterruptHook, Module, Store, TrapKind, Value};

/// Parses and loads a test module given as text.
pub fn module(config: &Config, wat: &str) -> Arc<Module> {
    let bytes = wat::parse_str(wat).expect("test module must parse");
    Arc::new(Module::new(config, &bytes).expect("test module must load"))
}

/// Instantiates `m`, with no imports, in a fresh store and invokes its export `func`.
pub fn call_export(
    m: &Arc<Module>,
    config: Config,
    func: &str,
    args: &[Value],
) -> Result<Vec<Value>, Error> {
    let mut store = Store::new(config, ());
    let instance = store.instantiate(m, &[])?;
    let f = store
        .get_export(instance, func)
        .and_then(|e| e.func())
        .expect("export");
    store.invoke(f, args)
}

/// The kind of the trap `r` must be.
pub fn trap_kind(r: Result<Vec<Value>, Error>) -> TrapKind {
    match r {
        Err(Error::Trap(t)) => t.kind,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// Counts its calls and stops the run after `stop_after` of them.
pub struct CountingHook {
    pub calls: Arc<AtomicU64>,
    pub stop_after: u64,
}

impl InterruptHook for CountingHook {
    fn check(&mut self) -> Result<(), TrapKind> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= self.stop_after {
            return Err(TrapKind::Interrupted);
        }
        Ok(())
    }
}
