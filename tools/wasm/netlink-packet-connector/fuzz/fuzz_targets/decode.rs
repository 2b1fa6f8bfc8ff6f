// SPDX-License-Identifier: MIT OR Apache-2.0

//! Any bytes, as a received datagram or a bare cn_msg: decoding must not
//! panic, must end, and whatever decodes must re-emit to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netlink_packet_connector::{decode_datagram, CnMsg, CnMsgBuffer};
use netlink_packet_core::Emitable;

fuzz_target!(|data: &[u8]| {
    for (_, msg) in decode_datagram(data).take(4096).flatten() {
        let mut bytes = vec![0; msg.buffer_len()];
        msg.emit(&mut bytes);
        assert_eq!(CnMsg::parse_bytes(&bytes).ok(), Some(msg));
    }
    if let Ok(buf) = CnMsgBuffer::new_checked(data) {
        assert_eq!(buf.payload().len(), usize::from(buf.len()));
        let _ = CnMsg::parse_bytes(data);
    }
});
