// SPDX-License-Identifier: MIT OR Apache-2.0

use netlink_packet_connector::*;
use netlink_packet_core::{
    Emitable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
};
use proptest::prelude::*;

fn frame(msg: &CnMsg) -> Vec<u8> {
    let mut packet = NetlinkMessage::new(
        NetlinkHeader::default(),
        NetlinkPayload::InnerMessage(msg.clone()),
    );
    packet.finalize();
    let mut bytes = vec![0; packet.buffer_len()];
    packet.serialize(&mut bytes);
    bytes
}

#[test]
fn header_layout_matches_struct_cn_msg() {
    let msg = CnMsg::new(CbId::new(1, 2), 3, 4, b"xyz".to_vec())
        .unwrap()
        .with_flags(5);
    let mut bytes = vec![0; msg.buffer_len()];
    msg.emit(&mut bytes);
    assert_eq!(bytes.len(), 23);
    assert_eq!(bytes[0..4], 1u32.to_ne_bytes());
    assert_eq!(bytes[4..8], 2u32.to_ne_bytes());
    assert_eq!(bytes[8..12], 3u32.to_ne_bytes());
    assert_eq!(bytes[12..16], 4u32.to_ne_bytes());
    assert_eq!(bytes[16..18], 3u16.to_ne_bytes());
    assert_eq!(bytes[18..20], 5u16.to_ne_bytes());
    assert_eq!(&bytes[20..], b"xyz");
}

#[test]
fn oversized_payloads_are_refused_not_truncated() {
    assert!(CnMsg::new(CbId::default(), 0, 0, vec![0; CONNECTOR_MAX_PAYLOAD_LEN]).is_ok());
    let err = CnMsg::new(
        CbId::default(),
        0,
        0,
        vec![0; CONNECTOR_MAX_PAYLOAD_LEN + 1],
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::PayloadTooLong {
            len: CONNECTOR_MAX_PAYLOAD_LEN + 1,
            max: CONNECTOR_MAX_PAYLOAD_LEN
        }
    );
    assert!(CnMsg::new(CbId::default(), 0, 0, vec![0; 70_000]).is_err());
}

#[test]
fn lying_length_is_rejected() {
    let msg = CnMsg::new(CbId::new(14, 1), 9, 0, b"abcd".to_vec()).unwrap();
    let mut bytes = vec![0; msg.buffer_len()];
    msg.emit(&mut bytes);
    CnMsgBuffer::new_unchecked(&mut bytes[..]).set_len(5);
    assert!(CnMsgBuffer::new_checked(&bytes[..]).is_err());
    assert!(CnMsg::parse_bytes(&bytes).is_err());
    assert!(CnMsg::parse_bytes(&bytes[..19]).is_err());
    // Padding after the payload is fine.
    CnMsgBuffer::new_unchecked(&mut bytes[..]).set_len(3);
    assert_eq!(CnMsg::parse_bytes(&bytes).unwrap().payload(), b"abc");
}

#[test]
fn kernel_done_frames_decode() {
    let a = CnMsg::new(CbId::new(14, 1), 1, 2, b"one".to_vec()).unwrap();
    let b = CnMsg::new(CbId::new(14, 1), 3, 4, vec![]).unwrap();
    let mut datagram = frame(&a);
    assert_eq!(u16::from_ne_bytes([datagram[4], datagram[5]]), NLMSG_DONE);
    // The kernel pads each message to NLMSG_ALIGNTO (4).
    datagram.resize(datagram.len().next_multiple_of(4), 0);
    datagram.extend(frame(&b));
    let got: Vec<_> = decode_datagram(&datagram).map(|r| r.unwrap().1).collect();
    assert_eq!(got, vec![a, b]);
}

fn raw_netlink(ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(((16 + payload.len()) as u32).to_ne_bytes());
    v.extend(ty.to_ne_bytes());
    v.extend([0u8; 10]);
    v.extend(payload);
    v
}

#[test]
fn errors_noops_and_bad_framing() {
    let noop = raw_netlink(NLMSG_NOOP, &[]);
    assert_eq!(decode_datagram(&noop).count(), 0);
    let err = raw_netlink(NLMSG_ERROR, &(-1i32).to_ne_bytes());
    let items: Vec<_> = decode_datagram(&err).collect();
    assert_eq!(items.len(), 1);
    assert!(items[0].as_ref().unwrap_err().to_string().contains("-1"));
    // A length shorter than the header, and one past the end.
    let mut short = raw_netlink(NLMSG_DONE, &[0; 20]);
    short[0..4].copy_from_slice(&8u32.to_ne_bytes());
    assert!(decode_datagram(&short).next().unwrap().is_err());
    let mut long = raw_netlink(NLMSG_DONE, &[0; 20]);
    long[0..4].copy_from_slice(&1000u32.to_ne_bytes());
    let items: Vec<_> = decode_datagram(&long).collect();
    assert_eq!(items.len(), 1);
    assert!(items[0].is_err());
    // A DONE frame too short for a cn_msg.
    assert!(decode_datagram(&raw_netlink(NLMSG_DONE, &[0; 4]))
        .next()
        .unwrap()
        .is_err());
}

proptest! {
    #[test]
    fn round_trip(idx: u32, val: u32, seq: u32, ack: u32, flags: u16,
                  payload in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let msg = CnMsg::new(CbId::new(idx, val), seq, ack, payload).unwrap().with_flags(flags);
        let bytes = frame(&msg);
        let got: Vec<_> = decode_datagram(&bytes).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(got.len(), 1);
        prop_assert_eq!(&got[0].1, &msg);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let n = decode_datagram(&bytes).take(1000).count();
        prop_assert!(n <= bytes.len() / 16 + 1);
        let _ = CnMsg::parse_bytes(&bytes);
        if let Ok(buf) = CnMsgBuffer::new_checked(&bytes[..]) {
            prop_assert_eq!(buf.payload().len(), usize::from(buf.len()));
        }
    }

    #[test]
    fn short_emit_buffers_never_panic(len in 0usize..64, payload in proptest::collection::vec(any::<u8>(), 0..40)) {
        let msg = CnMsg::new(CbId::new(1, 1), 0, 0, payload).unwrap();
        let mut buf = vec![0; len];
        msg.emit(&mut buf);
    }
}
