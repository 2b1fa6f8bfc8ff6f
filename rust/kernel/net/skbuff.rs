// SPDX-License-Identifier: GPL-2.0

//! Socket buffers: a read-only view of a packet.
//!
//! A `struct sk_buff` holds a packet as it travels through the network stack: a linear part
//! (the head, from `skb->data`) followed by page fragments and a list of further buffers. The
//! [`SkBuff`] view gives its length and protocol and copies its bytes, wherever they are, into
//! a caller's buffer. None of this sleeps or allocates, so it can be used in every context a
//! packet is handled in, such as netfilter hooks in softirq context.
//!
//! C header: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use crate::{
    bindings,
    error::{code::*, to_result, Result},
    types::Opaque,
};

/// The protocol of IPv4 packets (`ETH_P_IP`), as [`SkBuff::protocol`] returns it.
pub const ETH_P_IP: u16 = bindings::ETH_P_IP as u16;

/// The protocol of IPv6 packets (`ETH_P_IPV6`), as [`SkBuff::protocol`] returns it.
pub const ETH_P_IPV6: u16 = bindings::ETH_P_IPV6 as u16;

/// A packet, borrowed from the code that is processing it (`struct sk_buff`).
///
/// The view only reads: it cannot change, queue or free the packet. References to it are
/// handed out by the abstractions that receive packets from C (for example netfilter hooks) for
/// the duration of a call. `SkBuff` is neither [`Send`] nor [`Sync`], so such a reference cannot
/// leave the call on another thread.
///
/// # Invariants
///
/// A `&SkBuff` points to a valid `struct sk_buff` whose length and bytes do not change while the
/// reference exists.
#[repr(transparent)]
pub struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    /// Creates a reference to the packet at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct sk_buff` that stays valid, and whose length and bytes
    /// nobody changes, for the lifetime `'a`: for example a packet that the caller is processing
    /// and does not pass on or modify before `'a` ends.
    pub unsafe fn from_raw<'a>(ptr: *const bindings::sk_buff) -> &'a Self {
        // SAFETY: `SkBuff` is a transparent wrapper of `struct sk_buff`, and the caller
        // guarantees that `ptr` is valid and unchanged for `'a`.
        // INVARIANT: as the caller guarantees.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns a raw pointer to the `struct sk_buff`.
    pub fn as_raw(&self) -> *mut bindings::sk_buff {
        self.0.get()
    }

    /// The length of the packet in bytes: the linear part and the fragments (`skb->len`).
    pub fn len(&self) -> u32 {
        // SAFETY: `self` is a valid `sk_buff` whose length does not change while it is borrowed
        // (type invariant), so this read does not race with a write.
        unsafe { (*self.as_raw()).len }
    }

    /// Returns whether the packet has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The length of the linear part, the bytes at `skb->data` (`skb_headlen()`).
    ///
    /// The rest of the packet is in page fragments or further buffers; [`SkBuff::copy_bits`]
    /// reads both.
    pub fn linear_len(&self) -> u32 {
        // SAFETY: as in `len`, for `len` and `data_len`.
        let (len, data_len) = unsafe { ((*self.as_raw()).len, (*self.as_raw()).data_len) };
        // `data_len` counts the bytes of `len` that are not linear: never more than `len`.
        len.saturating_sub(data_len)
    }

    /// The protocol of the packet, in host byte order: an ethertype such as [`ETH_P_IP`] or
    /// [`ETH_P_IPV6`] (`skb_protocol(skb, false)`, which gives the VLAN protocol for a packet
    /// whose VLAN tag the device took out).
    pub fn protocol(&self) -> u16 {
        // SAFETY: `self` is a valid `sk_buff` (type invariant); `skb_protocol()` only reads it.
        let be = unsafe { bindings::skb_protocol(self.as_raw(), false) };
        u16::from_be(be)
    }

    /// Copies `buf.len()` bytes of the packet, starting `offset` bytes into it, into `buf`.
    ///
    /// The bytes may come from the linear part, the page fragments or the further buffers of
    /// the packet (`skb_copy_bits()`). Fails with `EINVAL`, copying nothing useful, if the range
    /// reaches beyond the end of the packet. Does not sleep.
    pub fn copy_bits(&self, offset: usize, buf: &mut [u8]) -> Result {
        let len = u32::try_from(buf.len()).map_err(|_| EINVAL)?;
        let offset_u32 = u32::try_from(offset).map_err(|_| EINVAL)?;
        if offset_u32
            .checked_add(len)
            .is_none_or(|end| end > self.len())
        {
            return Err(EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        // `skb->len` fits an `int` (the stack keeps packets far below 2 GiB), and both values are
        // at most `skb->len`.
        let (offset, len) = (
            i32::try_from(offset_u32).map_err(|_| EINVAL)?,
            i32::try_from(len).map_err(|_| EINVAL)?,
        );
        // SAFETY: `self` is a valid `sk_buff` whose bytes do not change while it is borrowed
        // (type invariant); `buf` is valid for writes of `len` bytes, which is all that
        // `skb_copy_bits()` writes, and it does not keep the pointer.
        to_result(unsafe {
            bindings::skb_copy_bits(self.as_raw(), offset, buf.as_mut_ptr().cast(), len)
        })
        .map_err(|_| EINVAL)
    }

    /// Copies the first bytes of the packet into `buf`, as many as fit or as the packet has,
    /// and returns how many it copied.
    pub fn copy_prefix(&self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.len().try_into().unwrap_or(usize::MAX));
        let Some(prefix) = buf.get_mut(..n) else {
            return 0;
        };
        if self.copy_bits(0, prefix).is_ok() {
            n
        } else {
            0
        }
    }
}

#[cfg(CONFIG_RUST_SKBUFF_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_skbuff)]
mod tests {
    use super::*;
    use crate::ffi::c_int;
    use crate::prelude::*;
    use core::ptr;

    /// A packet of `linear` bytes in its head and `paged` bytes in page fragments, holding
    /// `pattern(i)` at offset `i`; freed on drop.
    struct TestSkb(*mut bindings::sk_buff);

    fn pattern(i: usize) -> u8 {
        (i % 251) as u8
    }

    impl TestSkb {
        fn new(linear: u32, paged: u32) -> Result<Self> {
            let mut err: c_int = 0;
            // SAFETY: `err` is valid for writes; the other arguments are plain values.
            let skb = unsafe {
                bindings::alloc_skb_with_frags(
                    linear as usize,
                    paged as usize,
                    0,
                    &mut err,
                    GFP_KERNEL.as_raw(),
                )
            };
            if skb.is_null() {
                return Err(Error::from_errno(err));
            }
            let this = Self(skb);
            // SAFETY: `skb` is a new packet with `linear` bytes of room in its head and page
            // fragments of `paged` bytes in total, which it now counts as its data, as
            // `sock_alloc_send_pskb()` does.
            unsafe {
                bindings::skb_put(skb, linear);
                (*skb).data_len = paged;
                (*skb).len += paged;
            }
            let mut bytes = KVec::with_capacity((linear + paged) as usize, GFP_KERNEL)?;
            for i in 0..(linear + paged) as usize {
                bytes.push(pattern(i), GFP_KERNEL)?;
            }
            // SAFETY: `skb` holds `linear + paged` bytes, all of which this writes, from `bytes`.
            to_result(unsafe {
                bindings::skb_store_bits(skb, 0, bytes.as_ptr().cast(), bytes.len() as c_int)
            })?;
            Ok(this)
        }

        fn view(&self) -> &SkBuff {
            // SAFETY: the packet is valid until `self` is dropped, and nothing changes it.
            unsafe { SkBuff::from_raw(self.0) }
        }
    }

    impl Drop for TestSkb {
        fn drop(&mut self) {
            // SAFETY: `self.0` is a packet that this test owns; it is not used after this.
            unsafe {
                bindings::sk_skb_reason_drop(
                    ptr::null_mut(),
                    self.0,
                    bindings::skb_drop_reason_SKB_CONSUMED,
                )
            };
        }
    }

    #[test]
    fn lengths_of_a_linear_packet() -> Result {
        let skb = TestSkb::new(60, 0)?;
        let view = skb.view();
        assert_eq!(view.len(), 60);
        assert_eq!(view.linear_len(), 60);
        assert!(!view.is_empty());
        let mut head = [0u8; 8];
        view.copy_bits(10, &mut head)?;
        assert!(head.iter().enumerate().all(|(i, &b)| b == pattern(10 + i)));
        Ok(())
    }

    #[test]
    fn copies_across_the_linear_part_and_the_fragments() -> Result {
        // Three pages of fragments behind a 40-byte head.
        let skb = TestSkb::new(40, 3 * 4096 + 7)?;
        let view = skb.view();
        assert_eq!(view.len(), 40 + 3 * 4096 + 7);
        assert_eq!(view.linear_len(), 40);
        let mut across = [0u8; 16];
        view.copy_bits(32, &mut across)?;
        assert!(across
            .iter()
            .enumerate()
            .all(|(i, &b)| b == pattern(32 + i)));
        let mut deep = [0u8; 100];
        view.copy_bits(40 + 4096 - 50, &mut deep)?;
        assert!(deep
            .iter()
            .enumerate()
            .all(|(i, &b)| b == pattern(40 + 4096 - 50 + i)));
        // The last byte, and nothing after it.
        let end = view.len() as usize;
        let mut last = [0u8; 1];
        view.copy_bits(end - 1, &mut last)?;
        assert_eq!(last[0], pattern(end - 1));
        let mut two = [0u8; 2];
        assert_eq!(view.copy_bits(end - 1, &mut two), Err(EINVAL));
        assert_eq!(view.copy_bits(end + 1, &mut []), Err(EINVAL));
        assert_eq!(view.copy_bits(usize::MAX, &mut last), Err(EINVAL));
        view.copy_bits(end, &mut [])?;
        Ok(())
    }

    #[test]
    fn copy_prefix_stops_at_the_shorter_of_packet_and_buffer() -> Result {
        let skb = TestSkb::new(20, 100)?;
        let view = skb.view();
        let mut small = [0u8; 64];
        assert_eq!(view.copy_prefix(&mut small), 64);
        assert!(small.iter().enumerate().all(|(i, &b)| b == pattern(i)));
        let mut big = KVec::new();
        big.resize(500, 0xaau8, GFP_KERNEL)?;
        assert_eq!(view.copy_prefix(&mut big), 120);
        assert!(big[..120].iter().enumerate().all(|(i, &b)| b == pattern(i)));
        assert!(big[120..].iter().all(|&b| b == 0xaa));
        assert_eq!(view.copy_prefix(&mut []), 0);
        Ok(())
    }

    #[test]
    fn protocol_constants_match_c() -> Result {
        assert_eq!(ETH_P_IP, 0x0800);
        assert_eq!(ETH_P_IPV6, 0x86dd);
        // A packet that nothing has classified yet. (The netfilter tests see IPv4 and IPv6.)
        let skb = TestSkb::new(20, 0)?;
        assert_eq!(skb.view().protocol(), 0);
        Ok(())
    }
}
