// SPDX-License-Identifier: GPL-2.0

//! Rust connector sample: an echo service.
//!
//! Listens on connector id `{ CN_NETLINK_USERS + 3, 1 }`. Each message from a sender with
//! `CAP_NET_ADMIN` in the initial user namespace is answered, to the sender's port only, with
//! the same id, `seq`, `ack = seq + 1` and a payload of a native-endian `i32` status (`0`)
//! followed by the message's payload. Other senders get status `-EPERM` and no payload.
//!
//! From userspace, open a `NETLINK_CONNECTOR` socket, `bind()` it, send a netlink message
//! (any type) whose data is a `struct cn_msg` for that id, and `recv()` the reply, framed as
//! `NLMSG_DONE`; `tools/wasm/cn-echo` in the WebAssembly runtime's tools does exactly that.

use kernel::{
    capability::Capability,
    connector::{self, CbId, Handler, Message, Registration, Sender},
    prelude::*,
};

module! {
    type: RustConnectorEcho,
    name: "rust_connector_echo",
    authors: ["The WebAssembly subsystem developers"],
    description: "Rust connector sample: echo",
    license: "GPL",
}

/// The id the sample listens on.
const ECHO_ID: CbId = CbId::new(connector::CN_NETLINK_USERS + 3, 1);

struct Echo;

impl Handler for Echo {
    fn receive(&self, msg: &Message<'_>, sender: &Sender<'_>) {
        let (status, payload): (i32, &[u8]) = if sender.capable(Capability::NET_ADMIN) {
            (0, msg.payload())
        } else {
            (EPERM.to_errno(), &[])
        };
        let status = status.to_ne_bytes();
        if let Err(err) = msg.reply(sender, &[&status, payload], GFP_KERNEL) {
            pr_warn!("reply to port {} failed: {err:?}\n", sender.port_id());
        }
    }
}

#[pin_data]
struct RustConnectorEcho {
    #[pin]
    _registration: Registration<Echo>,
}

impl kernel::InPlaceModule for RustConnectorEcho {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _registration <- Registration::register(ECHO_ID, c"rust_connector_echo", Echo),
            _: {
                pr_info!(
                    "echoing on connector id {{{}, {}}}\n",
                    ECHO_ID.idx,
                    ECHO_ID.val
                );
            },
        })
    }
}
