// SPDX-License-Identifier: MIT OR Apache-2.0

//! Receiving connector messages from the kernel.
//!
//! The kernel frames every connector message it sends as a netlink message of
//! type `NLMSG_DONE` (`cn_netlink_send_mult()`). `netlink-packet-core` gives
//! that type its usual meaning, the end of a multipart dump, and decodes it
//! as `NetlinkPayload::Done`, dropping the `cn_msg`. [`decode_datagram`]
//! reads the netlink framing itself instead.

use netlink_packet_core::{
    DecodeError, NetlinkBuffer, NetlinkHeader, Parseable, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN,
};

use crate::CnMsg;

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ALIGNTO: usize = 4;

/// Decodes every netlink message in one received datagram.
///
/// Each item is the netlink header and the connector message it carries.
/// `NLMSG_DONE` (and any type above the reserved ones) is parsed as a
/// `cn_msg`; `NLMSG_NOOP` is skipped; `NLMSG_ERROR` and `NLMSG_OVERRUN`, a
/// header whose length is too small or larger than the datagram, and a
/// `cn_msg` that does not fit its netlink message are errors. After an error
/// that breaks the framing the iterator stops. It never panics and always
/// ends.
///
/// # Examples
///
/// ```
/// use netlink_packet_connector::{decode_datagram, CbId, CnMsg};
/// use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
///
/// // What the kernel sends: a cn_msg framed as NLMSG_DONE.
/// let msg = CnMsg::new(CbId::new(14, 1), 7, 8, b"hi".to_vec()).unwrap();
/// let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(msg.clone()));
/// packet.finalize();
/// let mut bytes = vec![0; packet.buffer_len()];
/// packet.serialize(&mut bytes);
///
/// let received: Vec<_> = decode_datagram(&bytes).collect::<Result<_, _>>().unwrap();
/// assert_eq!(received.len(), 1);
/// assert_eq!(received[0].1, msg);
/// ```
pub fn decode_datagram(datagram: &[u8]) -> Datagram<'_> {
    Datagram { rest: datagram }
}

/// The iterator returned by [`decode_datagram`].
#[derive(Debug, Clone)]
pub struct Datagram<'a> {
    rest: &'a [u8],
}

impl Iterator for Datagram<'_> {
    type Item = Result<(NetlinkHeader, CnMsg), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let buf = match NetlinkBuffer::new_checked(self.rest) {
                Ok(buf) => buf,
                Err(err) => {
                    self.rest = &[];
                    return Some(Err(err));
                }
            };
            let len = buf.length() as usize;
            if len < NLMSG_HDRLEN {
                self.rest = &[];
                return Some(Err(DecodeError::from(format!(
                    "netlink: message length {len} is shorter than its header"
                ))));
            }
            let header = match NetlinkHeader::parse(&buf) {
                Ok(header) => header,
                Err(err) => {
                    self.rest = &[];
                    return Some(Err(err));
                }
            };
            let payload = buf.payload();
            // The next message starts at the aligned end of this one.
            let aligned = len
                .checked_add(NLMSG_ALIGNTO - 1)
                .map(|l| l & !(NLMSG_ALIGNTO - 1))
                .unwrap_or(usize::MAX);
            self.rest = self.rest.get(aligned..).unwrap_or(&[]);

            match header.message_type {
                NLMSG_NOOP => continue,
                NLMSG_ERROR => {
                    let code = payload
                        .get(..4)
                        .and_then(|b| b.try_into().ok())
                        .map(i32::from_ne_bytes);
                    return Some(Err(DecodeError::from(match code {
                        Some(code) => format!("netlink: NLMSG_ERROR {code} from the kernel"),
                        None => "netlink: truncated NLMSG_ERROR from the kernel".to_string(),
                    })));
                }
                NLMSG_OVERRUN => {
                    return Some(Err(DecodeError::from(
                        "netlink: NLMSG_OVERRUN: messages were lost",
                    )))
                }
                // NLMSG_DONE, and any type of the protocol itself.
                _ => return Some(CnMsg::parse_bytes(payload).map(|msg| (header, msg))),
            }
        }
    }
}
