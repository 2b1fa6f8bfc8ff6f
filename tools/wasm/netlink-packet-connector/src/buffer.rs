// SPDX-License-Identifier: MIT OR Apache-2.0

//! A zero-copy view of a `struct cn_msg` in a byte buffer.

use netlink_packet_core::DecodeError;

use crate::constants::CN_MSG_HEADER_LEN;

const IDX: core::ops::Range<usize> = 0..4;
const VAL: core::ops::Range<usize> = 4..8;
const SEQ: core::ops::Range<usize> = 8..12;
const ACK: core::ops::Range<usize> = 12..16;
const LEN: core::ops::Range<usize> = 16..18;
const FLAGS: core::ops::Range<usize> = 18..20;

/// A `struct cn_msg` (header and payload) in a buffer.
///
/// Fields are in native byte order, as the kernel writes them. Built with
/// [`CnMsgBuffer::new_checked`], the buffer is known to hold the whole header
/// and the `len` bytes of payload the header declares, so no accessor can
/// fail or panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CnMsgBuffer<T> {
    buffer: T,
}

fn u32_at(bytes: &[u8], range: core::ops::Range<usize>) -> u32 {
    let mut field = [0u8; 4];
    if let Some(src) = bytes.get(range) {
        field.copy_from_slice(src);
    }
    u32::from_ne_bytes(field)
}

fn u16_at(bytes: &[u8], range: core::ops::Range<usize>) -> u16 {
    let mut field = [0u8; 2];
    if let Some(src) = bytes.get(range) {
        field.copy_from_slice(src);
    }
    u16::from_ne_bytes(field)
}

impl<T: AsRef<[u8]>> CnMsgBuffer<T> {
    /// Wraps `buffer` after checking that it holds a header and all of the
    /// payload the header's `len` declares. A lying `len` is an error: the
    /// buffer is never read past what it holds. Bytes after the payload are
    /// allowed (the kernel pads messages) and ignored.
    pub fn new_checked(buffer: T) -> Result<Self, DecodeError> {
        let bytes = buffer.as_ref();
        if bytes.len() < CN_MSG_HEADER_LEN {
            return Err(DecodeError::from(format!(
                "cn_msg: {} bytes is shorter than the {CN_MSG_HEADER_LEN}-byte header",
                bytes.len()
            )));
        }
        let declared = usize::from(u16_at(bytes, LEN));
        let available = bytes.len() - CN_MSG_HEADER_LEN;
        if declared > available {
            return Err(DecodeError::from(format!(
                "cn_msg: header declares {declared} payload bytes but only {available} follow"
            )));
        }
        Ok(Self { buffer })
    }

    /// Wraps `buffer` without checking it; accessors then return zeros and
    /// short payloads instead of failing. Use [`CnMsgBuffer::new_checked`]
    /// for received data.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The connector index (`id.idx`).
    pub fn idx(&self) -> u32 {
        u32_at(self.buffer.as_ref(), IDX)
    }

    /// The connector value (`id.val`).
    pub fn val(&self) -> u32 {
        u32_at(self.buffer.as_ref(), VAL)
    }

    /// The sequence number.
    pub fn seq(&self) -> u32 {
        u32_at(self.buffer.as_ref(), SEQ)
    }

    /// The acknowledgment number.
    pub fn ack(&self) -> u32 {
        u32_at(self.buffer.as_ref(), ACK)
    }

    /// The declared payload length.
    pub fn len(&self) -> u16 {
        u16_at(self.buffer.as_ref(), LEN)
    }

    /// Whether the declared payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The flags, opaque to the connector.
    pub fn flags(&self) -> u16 {
        u16_at(self.buffer.as_ref(), FLAGS)
    }

    /// The payload: the `len` bytes after the header (fewer if the buffer was
    /// not checked and is short).
    pub fn payload(&self) -> &[u8] {
        let bytes = self.buffer.as_ref();
        let rest = bytes.get(CN_MSG_HEADER_LEN..).unwrap_or(&[]);
        rest.get(..usize::from(self.len())).unwrap_or(rest)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CnMsgBuffer<T> {
    fn set(&mut self, range: core::ops::Range<usize>, bytes: &[u8]) {
        if let Some(dst) = self.buffer.as_mut().get_mut(range) {
            dst.copy_from_slice(bytes);
        }
    }

    /// Sets the connector index. Setters on a buffer shorter than the header
    /// leave the missing fields unwritten.
    pub fn set_idx(&mut self, value: u32) {
        self.set(IDX, &value.to_ne_bytes());
    }

    /// Sets the connector value.
    pub fn set_val(&mut self, value: u32) {
        self.set(VAL, &value.to_ne_bytes());
    }

    /// Sets the sequence number.
    pub fn set_seq(&mut self, value: u32) {
        self.set(SEQ, &value.to_ne_bytes());
    }

    /// Sets the acknowledgment number.
    pub fn set_ack(&mut self, value: u32) {
        self.set(ACK, &value.to_ne_bytes());
    }

    /// Sets the declared payload length. Nothing stops this from declaring
    /// more than the buffer holds: that is how tests build lying messages.
    pub fn set_len(&mut self, value: u16) {
        self.set(LEN, &value.to_ne_bytes());
    }

    /// Sets the flags.
    pub fn set_flags(&mut self, value: u16) {
        self.set(FLAGS, &value.to_ne_bytes());
    }

    /// The bytes after the header, to write a payload into.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(CN_MSG_HEADER_LEN..)
            .unwrap_or(&mut [])
    }
}
