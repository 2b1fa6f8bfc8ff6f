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
