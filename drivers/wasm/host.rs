// SPDX-License-Identifier: GPL-2.0

//! The `spectest` host module, for the WebAssembly testsuite (`CONFIG_WASM_SPECTEST`).

use crate::protocol::Value as ProtoValue;
use crate::spectest;
use crate::wire::engine_type;
use kernel::prelude::*;
use wasm_engine::{
    Error, Extern, FuncType, GlobalType, Limits, MemoryType, ModuleRef, Store, TableType, ValType,
    Value,
};

/// The name of the conformance-testing host module.
pub(crate) const SPECTEST: &str = spectest::MODULE;

/// The objects of the `spectest` host module, as the WebAssembly testsuite defines it (the
/// definition is shared with `wasmctl --local` in [`crate::spectest`]).
pub(crate) struct Spectest {
    exports: KVec<(&'static str, Extern)>,
}

impl Spectest {
    /// Creates the module's functions, globals, table and memory in `store`.
    pub(crate) fn new<T: 'static, M: ModuleRef>(
        store: &mut Store<T, M>,
    ) -> core::result::Result<Self, Error> {
        let mut exports = KVec::new();
        let mut add = |name: &'static str, ext: Extern| {
            exports
                .push((name, ext), GFP_KERNEL)
                .map_err(|_| Error::OutOfMemory)
        };
        for (name, params) in spectest::FUNCS {
            let ty = FuncType::new(params.iter().map(|t| engine_type(*t)), [])?;
            add(
                name,
                Extern::Func(store.add_host_func(ty, |_, _, _| Ok(()))?),
            )?;
        }
        for (name, value) in spectest::GLOBALS {
            let value = match value {
                ProtoValue::I32(v) => Value::I32(v),
                ProtoValue::I64(v) => Value::I64(v),
                ProtoValue::F32(v) => Value::F32(v),
                ProtoValue::F64(v) => Value::F64(v),
                _ => return Err(Error::Unsupported("spectest global type".into())),
            };
            let ty = GlobalType {
                content: value.ty(),
                mutable: false,
            };
            add(name, Extern::Global(store.add_global(ty, value)?))?;
        }
        let (name, min, max) = spectest::TABLE;
        let table = TableType {
            element: ValType::FuncRef,
            limits: Limits {
                min,
                max: Some(max),
            },
        };
        add(
            name,
            Extern::Table(store.add_table(table, Value::FuncRef(None))?),
        )?;
        let (name, min, max) = spectest::MEMORY;
        let memory = MemoryType {
            limits: Limits {
                min,
                max: Some(max),
            },
        };
        add(name, Extern::Memory(store.add_memory(memory)?))?;
        Ok(Self { exports })
    }

    /// The export `name`.
    pub(crate) fn get(&self, name: &str) -> Option<Extern> {
        self.exports
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| *e)
    }
}
