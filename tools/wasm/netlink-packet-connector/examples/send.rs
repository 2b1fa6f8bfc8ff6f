// SPDX-License-Identifier: MIT OR Apache-2.0

//! Sends one connector message and prints the replies.
//!
//! `cargo run --example send -- IDX VAL [PAYLOAD]` — for example, with the
//! kernel's `rust_connector_echo` sample loaded (and `CAP_NET_ADMIN`):
//! `cargo run --example send -- 14 1 hello`. It waits for the first reply.

use netlink_packet_connector::{decode_datagram, CbId, CnMsg, NETLINK_CONNECTOR};
use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_sys::{Socket, SocketAddr};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(idx), Some(val)) = (args.first(), args.get(1)) else {
        eprintln!("usage: send IDX VAL [PAYLOAD]");
        std::process::exit(2);
    };
    let payload = args.get(2).cloned().unwrap_or_default().into_bytes();
    let request = CnMsg::new(CbId::new(idx.parse()?, val.parse()?), 1, 0, payload)?;

    let mut socket = Socket::new(NETLINK_CONNECTOR)?;
    socket.bind_auto()?;

    let mut packet = NetlinkMessage::new(
        NetlinkHeader::default(),
        NetlinkPayload::InnerMessage(request),
    );
    packet.finalize();
    let mut bytes = vec![0; packet.buffer_len()];
    packet.serialize(&mut bytes);
    socket.send_to(&bytes, &SocketAddr::new(0, 0), 0)?;

    let mut datagram = vec![0; 65536];
    let n = socket.recv(&mut &mut datagram[..], 0)?;
    for item in decode_datagram(&datagram[..n]) {
        let (_, reply) = item?;
        println!(
            "id {}.{} seq {} ack {} payload {:?}",
            reply.id().idx,
            reply.id().val,
            reply.seq(),
            reply.ack(),
            reply.payload()
        );
    }
    Ok(())
}
