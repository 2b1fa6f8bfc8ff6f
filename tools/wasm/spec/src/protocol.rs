// SPDX-License-Identifier: GPL-2.0

//! [`ProtocolBackend`]: runs scripts through the wasm connector protocol, on the kernel's
//! driver or on `wasmctl`'s in-process implementation of it.
//!
//! Every directive becomes requests of the protocol (`drivers/wasm/protocol.rs`):
//!
//! - a module is uploaded with `LOAD_BEGIN`, `LOAD_CHUNK`… and `LOAD_END`, which validates it
//!   (`INVALID_MODULE` is a rejection for `assert_invalid` and `assert_malformed`);
//! - it is instantiated with `INSTANTIATE` in the script's link group: the first instance of
//!   the script creates the group (`link` 0), every later one joins it (`link` = that first
//!   instance), so that it can import what the script registered and `spectest`;
//!   `LINK_ERROR` is what `assert_unlinkable` expects, a `TRAP` what `assert_trap` on a module
//!   expects;
//! - `register` is `REGISTER`, `invoke` is `INVOKE`, `get` is `GET`; a trap's message is that
//!   of its code, which is the testsuite's.
//!
//! At the end of the script, [`Backend::finish`] unloads every module it loaded, with its
//! instances (`UNLOAD` with `CASCADE`).

use wasm_protocol::{Command, Status};
use wasmctl::{
    client::Client,
    error::{Detail, Error as ClientError},
    transport::Transport,
};

use crate::backend::{Backend, Error, InstanceId, Value};

/// The longest module name sent in `LOAD_BEGIN`.
const MAX_NAME: usize = 64;

/// A backend that speaks the protocol over a [`Transport`].
pub struct ProtocolBackend {
    client: Client,
    /// The name modules are uploaded under, for the driver's listings.
    name: String,
    /// The fuel to ask for when creating the link group: as much as the driver allows.
    fuel: u64,
    /// The first instance of the script, whose link group every later instance joins; 0 until
    /// there is one.
    group: u64,
    /// The modules loaded for instances, to unload at the end.
    modules: Vec<u64>,
    /// Instance handles, by [`InstanceId`].
    instances: Vec<u64>,
}

impl ProtocolBackend {
    /// A backend for the script `script`, speaking to the driver at the end of `transport`.
    ///
    /// Asks for the driver's `VERSION`: the caller must be privileged, and the script's
    /// instances get the most fuel the driver allows.
    pub fn new(transport: Box<dyn Transport>, script: &str) -> Result<Self, Error> {
        let mut client = Client::new(transport, false);
        let version = client.version().map_err(|e| from_client(&e))?;
        if !version.privileged() {
            return Err(Error::Other(
                "the driver says the caller is not privileged (CAP_SYS_ADMIN is required)"
                    .to_string(),
            ));
        }
        let fuel = match (version.default_fuel, version.max_fuel) {
            // Unlimited by default.
            (0, _) => 0,
            (_, 0) => u64::MAX,
            (_, max) => max,
        };
        let name: String = format!("spec {script}")
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME)
            .collect();
        Ok(Self {
            client,
            name,
            fuel,
            group: 0,
            modules: Vec::new(),
            instances: Vec::new(),
        })
    }

    /// Uploads and validates a module, returning its handle.
    fn load(&mut self, bytes: &[u8]) -> Result<u64, Error> {
        match self.client.load(bytes, &self.name) {
            Ok(info) => Ok(info.handle),
            Err(ClientError::Reply {
                command: Some(Command::LoadEnd),
                status: Status::InvalidModule | Status::Unsupported | Status::LimitExceeded,
                message,
                ..
            }) => Err(Error::Compile(message)),
            Err(e) => Err(from_client(&e)),
        }
    }

    /// The handle of an instance this backend issued.
    fn handle(&self, id: InstanceId) -> Result<u64, Error> {
        usize::try_from(id.0)
            .ok()
            .and_then(|i| self.instances.get(i))
            .copied()
            .ok_or_else(|| Error::Other(format!("no instance {}", id.0)))
    }

    /// Unloads the modules, with their instances; the first failure is returned after all
    /// were tried.
    fn unload_all(&mut self) -> Result<(), Error> {
        let mut result = Ok(());
        for module in std::mem::take(&mut self.modules) {
            if let Err(e) = self.client.unload(module, true) {
                result = result.and(Err(Error::Other(format!("unloading module {module}: {e}"))));
            }
        }
        self.instances.clear();
        self.group = 0;
        result
    }
}

impl Backend for ProtocolBackend {
    fn validate(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let module = self.load(bytes)?;
        self.client
            .unload(module, true)
            .map_err(|e| from_client(&e))
    }

    fn instantiate(&mut self, bytes: &[u8]) -> Result<InstanceId, Error> {
        let module = self.load(bytes)?;
        let (fuel, link) = match self.group {
            0 => (self.fuel, 0),
            group => (0, group),
        };
        let instance = self.client.instantiate(module, fuel, 0, link);
        let instance = match instance {
            Ok(instance) => instance.handle,
            Err(e) => {
                // Nothing uses the module: drop it now.
                let _ = self.client.unload(module, true);
                return Err(from_client(&e));
            }
        };
        self.modules.push(module);
        if self.group == 0 {
            self.group = instance;
        }
        let id = u32::try_from(self.instances.len())
            .map_err(|_| Error::Other("too many instances".to_string()))?;
        self.instances.push(instance);
        Ok(InstanceId(id))
    }

    fn register(&mut self, name: &str, instance: InstanceId) -> Result<(), Error> {
        let handle = self.handle(instance)?;
        self.client
            .register(handle, name)
            .map_err(|e| from_client(&e))
    }

    fn invoke(
        &mut self,
        instance: InstanceId,
        export: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, Error> {
        let handle = self.handle(instance)?;
        let args: Vec<_> = args.iter().map(|&v| to_wire(v)).collect();
        let (_, results) = self
            .client
            .invoke(handle, export, &args)
            .map_err(|e| from_client(&e))?;
        Ok(results.into_iter().map(from_wire).collect())
    }

    fn get(&mut self, instance: InstanceId, export: &str) -> Result<Value, Error> {
        let handle = self.handle(instance)?;
        self.client
            .get(handle, export)
            .map(from_wire)
            .map_err(|e| from_client(&e))
    }

    fn finish(&mut self) -> Result<(), Error> {
        self.unload_all()
    }
}

impl Drop for ProtocolBackend {
    /// Unloads what a script that did not get to [`Backend::finish`] left behind.
    fn drop(&mut self) {
        let _ = self.unload_all();
    }
}

/// The backend's error for a failed request: traps by their code's message, link errors as
/// such, anything else with what the client says.
fn from_client(err: &ClientError) -> Error {
    match err {
        ClientError::Reply {
            detail: Detail::Trap(trap),
            ..
        } => Error::Trap(trap.code.message().to_string()),
        ClientError::Reply {
            status: Status::LinkError,
            message,
            ..
        } => Error::Link(message.clone()),
        other => Error::Other(other.to_string()),
    }
}

fn to_wire(value: Value) -> wasm_protocol::Value {
    match value {
        Value::I32(v) => wasm_protocol::Value::I32(v),
        Value::I64(v) => wasm_protocol::Value::I64(v),
        Value::F32(bits) => wasm_protocol::Value::F32(bits),
        Value::F64(bits) => wasm_protocol::Value::F64(bits),
        Value::FuncRef(r) => wasm_protocol::Value::FuncRef(r),
        Value::ExternRef(r) => wasm_protocol::Value::ExternRef(r),
    }
}

fn from_wire(value: wasm_protocol::Value) -> Value {
    match value {
        wasm_protocol::Value::I32(v) => Value::I32(v),
        wasm_protocol::Value::I64(v) => Value::I64(v),
        wasm_protocol::Value::F32(bits) => Value::F32(bits),
        wasm_protocol::Value::F64(bits) => Value::F64(bits),
        wasm_protocol::Value::FuncRef(r) => Value::FuncRef(r),
        wasm_protocol::Value::ExternRef(r) => Value::ExternRef(r),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::sync::Mutex;

    use wasm_protocol::{Reply, ReplyBody, Request, MAX_PAYLOAD_LEN};
    use wasmctl::{error::Error as ClientError, local::Local};

    use super::*;
    use crate::local::LocalBackend;
    use crate::wast_driver::{install_panic_hook, lock, run_script_tracked, Report};

    /// A transport to a [`Local`] that the test can look into afterwards.
    struct Shared(Rc<RefCell<Local>>);

    impl Transport for Shared {
        fn call(&mut self, request: &[u8]) -> Result<Vec<u8>, ClientError> {
            Ok(self.0.borrow_mut().handle(request))
        }
    }

    /// What the driver holds: modules and instances.
    fn held(local: &Rc<RefCell<Local>>) -> (u64, u64) {
        let mut buf = vec![0u8; MAX_PAYLOAD_LEN];
        let len = Request::Stats.encode(&mut buf).unwrap();
        let reply = local.borrow_mut().handle(&buf[..len]);
        let ReplyBody::Stats(stats) = Reply::decode(&reply).unwrap().body else {
            panic!()
        };
        (stats.modules, stats.instances)
    }

    fn run(script: &str, backend: &mut dyn Backend) -> Report {
        install_panic_hook();
        let progress = Mutex::default();
        run_script_tracked(script, backend, &progress);
        let report = lock(&progress).report.clone();
        report
    }

    /// Everything the protocol had to learn for the testsuite (`LONG` is a 300-byte name).
    const SCRIPT: &str = r#"
        (module $A
            (global (export "g") (mut i32) (i32.const 42))
            (memory (export "mem") 1)
            (func (export "inc") (result i32)
                (global.set 0 (i32.add (global.get 0) (i32.const 1)))
                (global.get 0))
            (func (export "load") (result i32) (i32.load8_u (i32.const 0))))
        (register "A" $A)
        (assert_return (get $A "g") (i32.const 42))
        (module $B
            (import "A" "inc" (func $inc (result i32)))
            (import "spectest" "global_i32" (global $s i32))
            (global (export "s") i32 (global.get $s))
            (func (export "twice") (result i32) (drop (call $inc)) (call $inc)))
        (assert_return (invoke $B "twice") (i32.const 44))
        (assert_return (get $A "g") (i32.const 44))
        (assert_return (get $B "s") (i32.const 666))
        (assert_unlinkable
            (module (import "A" "nope" (func)))
            "unknown import")
        (assert_unlinkable
            (module (import "A" "inc" (func (param i32))))
            "incompatible import type")
        (assert_trap
            (module
                (import "A" "mem" (memory 1))
                (data (i32.const 0) "\07")
                (func $start unreachable)
                (start $start))
            "unreachable")
        (assert_return (invoke $A "load") (i32.const 7))
        (assert_malformed (module binary "") "unexpected end")
        (assert_invalid (module (func (result i32))) "type mismatch")
        (module
            (func (export "LONG")
                (result i32) (i32.const 1)))
        (assert_return
            (invoke "LONG")
            (i32.const 1))
        (assert_trap (invoke $A "nope") "unreachable")
    "#;

    #[test]
    fn the_protocol_runs_what_the_engine_runs() {
        let local = Rc::new(RefCell::new(Local::new()));
        let mut backend =
            ProtocolBackend::new(Box::new(Shared(Rc::clone(&local))), "test.wast").unwrap();
        let script = SCRIPT.replace("LONG", &"a".repeat(300));
        let report = run(&script, &mut backend);
        // The last assertion fails: there is no such export.
        assert_eq!((report.passed, report.failed, report.skipped), (11, 1, 0));
        assert!(
            report.failures[0].message.contains("no exported function"),
            "{report:?}"
        );
        // $A, $B and the last module; the others did not instantiate.
        assert_eq!(held(&local), (3, 3));
        backend.finish().unwrap();
        assert_eq!(held(&local), (0, 0));

        let mut engine = LocalBackend::new(wasm_engine::Dispatch::Match).unwrap();
        let direct = run(&script, &mut engine);
        assert_eq!(
            (direct.passed, direct.failed, direct.skipped),
            (report.passed, report.failed, report.skipped)
        );
    }

    #[test]
    fn dropping_the_backend_unloads_everything() {
        let local = Rc::new(RefCell::new(Local::new()));
        let mut backend =
            ProtocolBackend::new(Box::new(Shared(Rc::clone(&local))), "test.wast").unwrap();
        run("(module) (module)", &mut backend);
        assert_eq!(held(&local), (2, 2));
        drop(backend);
        assert_eq!(held(&local), (0, 0));
    }

    #[test]
    fn errors_are_classified() {
        let mut backend =
            ProtocolBackend::new(Box::new(Local::new()), "x\n".repeat(100).as_str()).unwrap();
        assert!(!backend.name.contains('\n') && backend.name.len() <= MAX_NAME);
        assert!(matches!(backend.validate(b"\0asm"), Err(Error::Compile(_))));
        assert_eq!(backend.validate(b"\0asm\x01\0\0\0"), Ok(()));
        let id = backend.instantiate(b"\0asm\x01\0\0\0").unwrap();
        assert!(matches!(backend.invoke(id, "f", &[]), Err(Error::Other(_))));
        assert!(matches!(backend.get(id, "g"), Err(Error::Other(_))));
        assert!(matches!(
            backend.get(InstanceId(7), "g"),
            Err(Error::Other(_))
        ));
    }
}
