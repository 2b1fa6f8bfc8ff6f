// SPDX-License-Identifier: GPL-2.0

//! The library half of `wasmctl`: everything that speaks the wasm connector protocol
//! (`drivers/wasm/protocol.rs`) and does not depend on the command line.
//!
//! - [`client::Client`]: one method per command, over any [`transport::Transport`];
//! - [`transport::Kernel`]: the kernel's driver over a `NETLINK_CONNECTOR` socket;
//! - [`local::Local`]: the driver's request handler on the host build of the engine, served
//!   in-process (`wasmctl --local`), the reference the kernel's handler follows.
//!
//! The `wasmctl` binary and the spec runner (`wasm-spec --backend protocol-local|kernel`) use
//! it.

pub mod client;
pub mod error;
pub mod local;
pub mod module;
pub mod platform;
/// The testsuite's `spectest` host module; the driver's own file.
#[path = "../../../../drivers/wasm/spectest.rs"]
pub mod spectest;
pub mod transport;
pub mod values;
/// Engine values, types and errors on the wire; the driver's own file.
#[path = "../../../../drivers/wasm/wire.rs"]
pub mod wire;

// `wire.rs` reaches the protocol as `super::protocol`, as it does in the driver.
use wasm_protocol as protocol;

/// The driver version this tool speaks to, taken from the driver source so
/// the two cannot drift apart.
pub const DRIVER_VERSION: &str =
    include_str!("../../../../drivers/wasm/version.txt").trim_ascii_end();

#[cfg(test)]
mod tests {
    use crate::spectest;
    use wasm_protocol::{TrapCode, Value, MAX_NAME_LEN};

    /// The protocol spells each trap code's message itself (its clients need no engine), as
    /// the engine spells each trap kind's: the two must say the same, through the driver's
    /// mapping, and every code must be reachable.
    #[test]
    fn trap_messages_agree_with_the_engine() {
        use wasm_engine::TrapKind as K;
        let kinds = [
            K::Unreachable,
            K::MemoryOutOfBounds,
            K::TableOutOfBounds,
            K::UninitializedElement,
            K::IndirectCallTypeMismatch,
            K::UndefinedElement,
            K::IntegerDivideByZero,
            K::IntegerOverflow,
            K::InvalidConversionToInteger,
            K::CallStackExhausted,
            K::ValueStackExhausted,
            K::OutOfFuel,
            K::Interrupted,
            K::Host(-5),
            K::Exit(3),
            K::Internal,
        ];
        for kind in kinds {
            assert_eq!(
                crate::wire::trap_code(kind).message(),
                kind.message(),
                "{kind:?}"
            );
        }
        let reached: Vec<TrapCode> = kinds.iter().map(|&k| crate::wire::trap_code(k)).collect();
        for code in TrapCode::ALL {
            assert!(reached.contains(&code), "{code:?} is never sent");
        }
    }

    #[test]
    fn spectest_is_the_reference_interpreters() {
        assert_eq!(spectest::MODULE, "spectest");
        let globals: Vec<_> = spectest::GLOBALS.iter().map(|(_, v)| *v).collect();
        assert_eq!(
            globals,
            [
                Value::I32(666),
                Value::I64(666),
                Value::F32(666.6f32.to_bits()),
                Value::F64(666.6f64.to_bits()),
            ]
        );
        let names: Vec<_> = spectest::FUNCS
            .iter()
            .map(|(name, _)| *name)
            .chain(spectest::GLOBALS.iter().map(|(name, _)| *name))
            .chain([spectest::TABLE.0, spectest::MEMORY.0])
            .collect();
        for (i, name) in names.iter().enumerate() {
            assert!(name.len() <= MAX_NAME_LEN);
            assert!(!names[..i].contains(name), "{name} twice");
        }
        assert_eq!((spectest::TABLE.1, spectest::TABLE.2), (10, 20));
        assert_eq!((spectest::MEMORY.1, spectest::MEMORY.2), (1, 2));
    }
}
