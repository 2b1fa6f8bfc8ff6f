// SPDX-License-Identifier: MIT OR Apache-2.0

//! [`CnMsg`], an owned connector message.

use netlink_packet_core::{
    DecodeError, Emitable, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable, Parseable,
    NLMSG_DONE,
};

use crate::{
    buffer::CnMsgBuffer,
    constants::{CN_MSG_HEADER_LEN, CONNECTOR_MAX_PAYLOAD_LEN},
    Error,
};

/// The address of a connector message (`struct cb_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CbId {
    /// The index: which user of the connector (`CN_IDX_*`).
    pub idx: u32,
    /// The value: which channel of that user (`CN_VAL_*`).
    pub val: u32,
}

impl CbId {
    /// Creates an id.
    pub const fn new(idx: u32, val: u32) -> Self {
        Self { idx, val }
    }
}

/// A connector message (`struct cn_msg` and its payload).
///
/// # Invariant
///
/// The payload is at most [`CONNECTOR_MAX_PAYLOAD_LEN`] bytes, so the message
/// fits in the kernel's limit and its length in the header's `u16`: emitting
/// it can never truncate. The constructor refuses longer payloads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CnMsg {
    id: CbId,
    seq: u32,
    ack: u32,
    flags: u16,
    payload: Vec<u8>,
}

impl CnMsg {
    /// Creates a message; fails with [`Error::PayloadTooLong`] if the payload
    /// exceeds [`CONNECTOR_MAX_PAYLOAD_LEN`].
    pub fn new(id: CbId, seq: u32, ack: u32, payload: Vec<u8>) -> Result<Self, Error> {
        if payload.len() > CONNECTOR_MAX_PAYLOAD_LEN {
            return Err(Error::PayloadTooLong {
                len: payload.len(),
                max: CONNECTOR_MAX_PAYLOAD_LEN,
            });
        }
        Ok(Self {
            id,
            seq,
            ack,
            flags: 0,
            payload,
        })
    }

    /// Returns the message with its flags set.
    #[must_use]
    pub fn with_flags(mut self, flags: u16) -> Self {
        self.flags = flags;
        self
    }

    /// The id the message is addressed to.
    pub fn id(&self) -> CbId {
        self.id
    }

    /// The sequence number.
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// The acknowledgment number.
    pub fn ack(&self) -> u32 {
        self.ack
    }

    /// The flags.
    pub fn flags(&self) -> u16 {
        self.flags
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Consumes the message, returning its payload.
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }
}

impl Emitable for CnMsg {
    fn buffer_len(&self) -> usize {
        CN_MSG_HEADER_LEN + self.payload.len()
    }

    /// Writes the message to `buffer`, which must be at least
    /// [`Emitable::buffer_len`] bytes long (the `Emitable` contract); a
    /// shorter buffer gets as much as fits, never a panic.
    fn emit(&self, buffer: &mut [u8]) {
        let mut buf = CnMsgBuffer::new_unchecked(buffer);
        buf.set_idx(self.id.idx);
        buf.set_val(self.id.val);
        buf.set_seq(self.seq);
        buf.set_ack(self.ack);
        // Lossless by the type invariant.
        buf.set_len(u16::try_from(self.payload.len()).unwrap_or(u16::MAX));
        buf.set_flags(self.flags);
        let dst = buf.payload_mut();
        let n = dst.len().min(self.payload.len());
        dst[..n].copy_from_slice(&self.payload[..n]);
    }
}

impl<T: AsRef<[u8]>> Parseable<CnMsgBuffer<&T>> for CnMsg {
    fn parse(buf: &CnMsgBuffer<&T>) -> Result<Self, DecodeError> {
        // Re-check: the buffer may have been built unchecked.
        let buf = CnMsgBuffer::new_checked(buf.into_inner().as_ref())?;
        if buf.payload().len() > CONNECTOR_MAX_PAYLOAD_LEN {
            return Err(DecodeError::from(
                "cn_msg: payload longer than CONNECTOR_MAX_MSG_SIZE allows",
            ));
        }
        Ok(Self {
            id: CbId::new(buf.idx(), buf.val()),
            seq: buf.seq(),
            ack: buf.ack(),
            flags: buf.flags(),
            payload: buf.payload().to_vec(),
        })
    }
}

impl CnMsg {
    /// Parses a message from the bytes of a `struct cn_msg` and its payload.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::parse(&CnMsgBuffer::new_checked(&bytes)?)
    }
}

/// Messages to the kernel are sent as `NLMSG_DONE`, as the connector's own
/// users do (the kernel ignores the type).
impl NetlinkSerializable for CnMsg {
    fn message_type(&self) -> u16 {
        NLMSG_DONE
    }

    fn buffer_len(&self) -> usize {
        Emitable::buffer_len(self)
    }

    fn serialize(&self, buffer: &mut [u8]) {
        self.emit(buffer)
    }
}

/// Used by `NetlinkMessage::<CnMsg>::deserialize` for message types other
/// than the four reserved ones. The kernel sends connector messages as
/// `NLMSG_DONE`, which `netlink-packet-core` decodes as
/// `NetlinkPayload::Done` before this is reached: use
/// [`crate::decode_datagram`] to receive them.
impl NetlinkDeserializable for CnMsg {
    type Error = DecodeError;

    fn deserialize(_header: &NetlinkHeader, payload: &[u8]) -> Result<Self, Self::Error> {
        Self::parse_bytes(payload)
    }
}
