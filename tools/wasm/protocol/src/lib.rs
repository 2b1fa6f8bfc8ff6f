// SPDX-License-Identifier: GPL-2.0

//! The wasm connector protocol, for userspace.
//!
//! The kernel driver's half of the protocol (codes, limits, request decoding, reply encoding)
//! is `drivers/wasm/protocol.rs`, which this crate builds as it is, so that the tools and the
//! driver cannot disagree about a layout; `include/uapi/linux/wasm.h` gives the same layouts
//! to C. This crate adds the client's half (request encoding, reply decoding, names for
//! printing) and the tests of both.
//!
//! # Examples
//!
//! A client encodes a request, the driver decodes it and writes the reply, the client decodes
//! that:
//!
//! ```
//! # use wasm_protocol as protocol;
//! use protocol::{Command, Reply, ReplyBody, ReplyWriter, Request, MAX_PAYLOAD_LEN};
//!
//! let mut request = [0u8; MAX_PAYLOAD_LEN];
//! let len = Request::LoadEnd { handle: 7 }.encode(&mut request)?;
//!
//! // In the driver:
//! let mut reply = [0u8; MAX_PAYLOAD_LEN];
//! let req = Request::decode(&request[..len])?;
//! assert_eq!(req, Request::LoadEnd { handle: 7 });
//! let mut w = ReplyWriter::ok(&mut reply, req.command())?;
//! w.module(&protocol::ModuleInfo { handle: 7, size: 41, imports: 0, exports: 1 })?;
//! w.message("module validated");
//! let bytes = w.finish()?;
//!
//! // Back in userspace:
//! let reply = Reply::decode(bytes)?;
//! assert!(reply.status.is_ok());
//! assert_eq!(reply.message, "module validated");
//! assert!(matches!(reply.body, ReplyBody::Module(m) if m.exports == 1));
//! # Ok::<(), protocol::ProtoError>(())
//! ```

#[path = "../../../../drivers/wasm/protocol.rs"]
mod protocol;
pub use protocol::*;

mod client;
pub use client::*;

#[cfg(test)]
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic
)]
mod tests;
