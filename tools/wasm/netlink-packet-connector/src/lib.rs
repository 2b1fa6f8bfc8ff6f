// SPDX-License-Identifier: MIT OR Apache-2.0

//! Messages of the Linux kernel's netlink Connector (`NETLINK_CONNECTOR`,
//! `struct cn_msg`), for the rust-netlink family of crates.
//!
//! The connector carries small messages between userspace and kernel code. A
//! message is addressed to a [`CbId`] (`idx`, `val`); kernel code registers a
//! callback for an id (process events use `CN_IDX_PROC`, drivers take ids
//! from [`CN_NETLINK_USERS`] up).
//!
//! # Sending
//!
//! Build a [`CnMsg`] (its constructor refuses payloads the kernel would
//! drop, instead of truncating them), wrap it in a
//! [`NetlinkMessage`](netlink_packet_core::NetlinkMessage), `finalize()` and
//! `serialize()` it, and send the bytes on a `NETLINK_CONNECTOR` socket to
//! port 0 (the kernel).
//!
//! # Receiving
//!
//! The kernel frames its messages as `NLMSG_DONE`, which generic netlink
//! decoders take for the end of a dump. Pass each received datagram to
//! [`decode_datagram`], which yields the connector messages it holds.
//!
//! ```no_run
//! use netlink_packet_connector::{decode_datagram, CbId, CnMsg, NETLINK_CONNECTOR};
//! use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
//! use netlink_sys::{Socket, SocketAddr};
//!
//! let mut socket = Socket::new(NETLINK_CONNECTOR)?;
//! socket.bind_auto()?;
//! let request = CnMsg::new(CbId::new(14, 1), 1, 0, b"ping".to_vec())?;
//! let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(request));
//! packet.finalize();
//! let mut bytes = vec![0; packet.buffer_len()];
//! packet.serialize(&mut bytes);
//! socket.send_to(&bytes, &SocketAddr::new(0, 0), 0)?;
//!
//! let mut datagram = vec![0; 65536];
//! let n = socket.recv(&mut &mut datagram[..], 0)?;
//! for item in decode_datagram(&datagram[..n]) {
//!     let (_header, reply) = item?;
//!     println!("seq {} ack {}: {:?}", reply.seq(), reply.ack(), reply.payload());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Nothing in this crate panics on any input: buffers are checked, and a
//! `cn_msg` whose `len` claims more bytes than were received is an error.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod buffer;
pub mod constants;
mod framing;
mod message;

pub use buffer::CnMsgBuffer;
pub use constants::*;
pub use framing::{decode_datagram, Datagram};
pub use message::{CbId, CnMsg};

/// Errors building a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The payload is longer than a connector message can carry.
    PayloadTooLong {
        /// The payload's length.
        len: usize,
        /// The longest payload allowed ([`CONNECTOR_MAX_PAYLOAD_LEN`]).
        max: usize,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PayloadTooLong { len, max } => {
                write!(
                    f,
                    "connector payload of {len} bytes exceeds the maximum of {max}"
                )
            }
        }
    }
}

impl std::error::Error for Error {}
