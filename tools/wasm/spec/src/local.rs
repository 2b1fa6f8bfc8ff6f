// SPDX-License-Identifier: GPL-2.0

//! [`LocalBackend`]: runs scripts on the engine in this process.

use std::collections::HashMap;

use wasm_engine as engine;
use wasm_engine::{
    Config, Dispatch, Extern, FuncType, GlobalType, InstanceAddr, Limits, MemoryType, Module,
    Store, TableType, ValType,
};

use crate::backend::{Backend, Error, InstanceId, Value};

/// The engine in this process, with one [`Store`] for the whole script.
pub struct LocalBackend {
    /// The configuration every module is compiled with.
    config: Config,
    /// The store holding every instance of the script and `spectest`.
    store: Store<()>,
    /// Instances by [`InstanceId`].
    instances: Vec<InstanceAddr>,
    /// Instances registered for imports, by module name.
    registered: HashMap<String, InstanceAddr>,
    /// The exports of the `spectest` module.
    spectest: HashMap<&'static str, Extern>,
}

impl LocalBackend {
    /// A backend with an empty store holding only the `spectest` module, with the engine's
    /// default [`Config`] but for the interpreter's `dispatch`.
    pub fn new(dispatch: Dispatch) -> Result<Self, Error> {
        let config = Config {
            dispatch,
            ..Config::default()
        };
        let mut store = Store::new(config.clone(), ());
        let spectest = spectest(&mut store).map_err(|e| other("spectest", &e))?;
        Ok(LocalBackend {
            config,
            store,
            instances: Vec::new(),
            registered: HashMap::new(),
            spectest,
        })
    }

    /// The engine's address of an instance this backend issued.
    fn instance(&self, id: InstanceId) -> Result<InstanceAddr, Error> {
        usize::try_from(id.0)
            .ok()
            .and_then(|i| self.instances.get(i))
            .copied()
            .ok_or_else(|| Error::Other(format!("no instance {}", id.0)))
    }

    /// Looks up the export `name` of an instance.
    fn export(&self, id: InstanceId, name: &str) -> Result<Extern, Error> {
        let instance = self.instance(id)?;
        self.store
            .get_export(instance, name)
            .ok_or_else(|| Error::Other(format!("unknown export {name:?}")))
    }

    /// Finds the object `module`.`name` among the registered instances and `spectest`.
    fn resolve(&self, module: &str, name: &str) -> Result<Extern, Error> {
        let found = match self.registered.get(module) {
            Some(&instance) => self.store.get_export(instance, name),
            None if module == "spectest" => self.spectest.get(name).copied(),
            None => return Err(Error::Link(format!("unknown import module {module:?}"))),
        };
        found.ok_or_else(|| Error::Link(format!("unknown import {module:?} {name:?}")))
    }
}

impl Backend for LocalBackend {
    fn validate(&mut self, bytes: &[u8]) -> Result<(), Error> {
        Module::new(&self.config, bytes)
            .map(drop)
            .map_err(|e| Error::Compile(e.to_string()))
    }

    fn instantiate(&mut self, bytes: &[u8]) -> Result<InstanceId, Error> {
        let module = Module::new(&self.config, bytes).map_err(|e| Error::Compile(e.to_string()))?;
        let module = std::sync::Arc::new(module);
        let imports = module
            .imports()
            .map(|(module, name, _)| self.resolve(module, name))
            .collect::<Result<Vec<_>, _>>()?;
        let instance = self
            .store
            .instantiate(&module, &imports)
            .map_err(|e| from_engine(&e))?;
        let id = u32::try_from(self.instances.len())
            .map_err(|_| Error::Other("too many instances".to_string()))?;
        self.instances.push(instance);
        Ok(InstanceId(id))
    }

    fn register(&mut self, name: &str, instance: InstanceId) -> Result<(), Error> {
        let instance = self.instance(instance)?;
        self.registered.insert(name.to_string(), instance);
        Ok(())
    }

    fn invoke(
        &mut self,
        instance: InstanceId,
        export: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, Error> {
        let func = self
            .export(instance, export)?
            .func()
            .ok_or_else(|| Error::Other(format!("export {export:?} is not a function")))?;
        let args = args
            .iter()
            .map(|&arg| to_engine(arg))
            .collect::<Result<Vec<_>, _>>()?;
        let results = self
            .store
            .invoke(func, &args)
            .map_err(|e| from_engine(&e))?;
        Ok(results.into_iter().map(from_engine_value).collect())
    }

    fn get(&mut self, instance: InstanceId, export: &str) -> Result<Value, Error> {
        let global = self
            .export(instance, export)?
            .global()
            .ok_or_else(|| Error::Other(format!("export {export:?} is not a global")))?;
        self.store
            .global_value(global)
            .map(from_engine_value)
            .ok_or_else(|| Error::Other(format!("global {export:?} is missing from the store")))
    }
}

/// Adds the `spectest` module's objects to `store`.
fn spectest(store: &mut Store<()>) -> Result<HashMap<&'static str, Extern>, engine::Error> {
    use ValType::{F32, F64, I32, I64};

    let mut exports = HashMap::new();
    let funcs: [(&'static str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in funcs {
        let ty = FuncType::new(params.iter().copied(), [])?;
        let func = store.add_host_func(ty, |_, _, _| Ok(()))?;
        exports.insert(name, Extern::Func(func));
    }
    let globals = [
        ("global_i32", engine::Value::I32(666)),
        ("global_i64", engine::Value::I64(666)),
        ("global_f32", engine::Value::F32(666.6f32.to_bits())),
        ("global_f64", engine::Value::F64(666.6f64.to_bits())),
    ];
    for (name, value) in globals {
        let ty = GlobalType {
            content: value.ty(),
            mutable: false,
        };
        exports.insert(name, Extern::Global(store.add_global(ty, value)?));
    }
    let table = TableType {
        element: ValType::FuncRef,
        limits: Limits {
            min: 10,
            max: Some(20),
        },
    };
    let table = store.add_table(table, engine::Value::FuncRef(None))?;
    exports.insert("table", Extern::Table(table));
    let memory = MemoryType {
        limits: Limits {
            min: 1,
            max: Some(2),
        },
    };
    exports.insert("memory", Extern::Memory(store.add_memory(memory)?));
    Ok(exports)
}

/// Converts an engine error; traps keep only the spec's message.
fn from_engine(err: &engine::Error) -> Error {
    match err {
        engine::Error::Trap(trap) => Error::Trap(trap.kind.message().to_string()),
        engine::Error::Link(msg) => Error::Link(msg.to_string()),
        engine::Error::Validation { .. } => Error::Compile(err.to_string()),
        other => Error::Other(other.to_string()),
    }
}

/// An [`Error::Other`] for an engine error while doing `what`.
fn other(what: &str, err: &engine::Error) -> Error {
    Error::Other(format!("{what}: {err}"))
}

/// Converts a value for the engine. Scripts cannot name a function, so only null `funcref`s
/// can be passed.
fn to_engine(value: Value) -> Result<engine::Value, Error> {
    Ok(match value {
        Value::I32(v) => engine::Value::I32(v),
        Value::I64(v) => engine::Value::I64(v),
        Value::F32(bits) => engine::Value::F32(bits),
        Value::F64(bits) => engine::Value::F64(bits),
        Value::FuncRef(None) => engine::Value::FuncRef(None),
        Value::FuncRef(Some(_)) => {
            return Err(Error::Other(
                "non-null funcref arguments are not supported".to_string(),
            ))
        }
        Value::ExternRef(r) => engine::Value::ExternRef(r),
    })
}

/// Converts a value from the engine. The engine does not expose a function's address, so
/// every non-null `funcref` gets the identity 0.
fn from_engine_value(value: engine::Value) -> Value {
    match value {
        engine::Value::I32(v) => Value::I32(v),
        engine::Value::I64(v) => Value::I64(v),
        engine::Value::F32(bits) => Value::F32(bits),
        engine::Value::F64(bits) => Value::F64(bits),
        engine::Value::FuncRef(f) => Value::FuncRef(f.map(|_| 0)),
        engine::Value::ExternRef(r) => Value::ExternRef(r),
    }
}
