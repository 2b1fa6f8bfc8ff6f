// SPDX-License-Identifier: GPL-2.0

//! The netlink Connector API.
//!
//! The connector (`drivers/connector/`) carries `struct cn_msg` messages between userspace and
//! kernel code over a `NETLINK_CONNECTOR` socket. A message is addressed to a [`CbId`]; kernel
//! code registers a [`Handler`] for an id with a [`Registration`] and answers with
//! [`Message::reply`], [`unicast`] or [`multicast`].
//!
//! The connector calls handlers synchronously in the sending task's context (its `sendmsg()`
//! waits meanwhile), so a handler may sleep. A handler must check the sender's privileges
//! itself, with [`Sender::capable`]: any local user can send to any id.
//!
//! C header: [`include/linux/connector.h`](srctree/include/linux/connector.h)
//!
//! # Examples
//!
//! An echo service (see also `samples/rust/rust_connector_echo.rs`):
//!
//! ```
//! use kernel::capability::Capability;
//! use kernel::connector::{self, CbId, Handler, Message, Registration, Sender};
//! use kernel::prelude::*;
//!
//! struct Echo;
//!
//! impl Handler for Echo {
//!     fn receive(&self, msg: &Message<'_>, sender: &Sender<'_>) {
//!         if !sender.capable(Capability::NET_ADMIN) {
//!             return;
//!         }
//!         let _ = msg.reply(sender, &[msg.payload()], GFP_KERNEL);
//!     }
//! }
//!
//! let id = CbId::new(connector::CN_NETLINK_USERS + 9, 1);
//! let registration = KBox::pin_init(
//!     Registration::register(id, c"echo_example", Echo),
//!     GFP_KERNEL,
//! )?;
//! assert_eq!(registration.id(), id);
//! // An id has one handler at most.
//! let taken = KBox::pin_init(
//!     Registration::register(id, c"echo_example2", Echo),
//!     GFP_KERNEL,
//! );
//! assert_eq!(taken.err(), Some(EBUSY));
//! // Dropping the registration unregisters the handler, once no call to it is running.
//! drop(registration);
//! # Ok::<(), Error>(())
//! ```

use crate::ffi::c_void;
use crate::{
    alloc::{Flags, KVec},
    bindings,
    capability::Capability,
    error::{code::*, to_result, Error, Result},
    prelude::{pin_data, pinned_drop, try_pin_init, PinInit},
    str::{CStr, CStrExt},
};
use core::{marker::PhantomPinned, mem::size_of, pin::Pin, ptr};

/// The size of `struct cn_msg`, the header in front of every payload.
pub const HEADER_SIZE: usize = size_of::<bindings::cn_msg>();

/// The largest message the connector carries, header included (`CONNECTOR_MAX_MSG_SIZE`).
/// Longer ones are dropped by the connector, so [`unicast`] and [`multicast`] refuse them.
pub const MAX_MSG_SIZE: usize = bindings::CONNECTOR_MAX_MSG_SIZE as usize;

/// The largest payload of a message.
pub const MAX_PAYLOAD_SIZE: usize = MAX_MSG_SIZE - HEADER_SIZE;

/// The first connector index free for new users (`CN_NETLINK_USERS`); lower ones are taken.
pub const CN_NETLINK_USERS: u32 = bindings::CN_NETLINK_USERS;

/// The address of a connector message (`struct cb_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CbId {
    /// The index, naming a user of the connector (`CN_IDX_*`).
    pub idx: u32,
    /// The value, naming a channel of that user (`CN_VAL_*`).
    pub val: u32,
}

impl CbId {
    /// Creates an id.
    pub const fn new(idx: u32, val: u32) -> Self {
        Self { idx, val }
    }

    fn as_raw(self) -> bindings::cb_id {
        bindings::cb_id {
            idx: self.idx,
            val: self.val,
        }
    }
}

/// A received message: a bounds-checked view of a `struct cn_msg` and its payload.
#[derive(Debug)]
pub struct Message<'a> {
    id: CbId,
    seq: u32,
    ack: u32,
    flags: u16,
    payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// Parses a message from `bytes`, a `struct cn_msg` header followed by its payload.
    ///
    /// The header's `len` is trusted only as far as `bytes` reaches: a message that declares
    /// more payload than there is fails with `EINVAL`, as does one shorter than the header.
    /// Bytes after the declared payload are ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::connector::{CbId, Message};
    ///
    /// let mut bytes = [0u8; 23];
    /// bytes[0..4].copy_from_slice(&11u32.to_ne_bytes()); // idx
    /// bytes[4..8].copy_from_slice(&1u32.to_ne_bytes()); // val
    /// bytes[8..12].copy_from_slice(&7u32.to_ne_bytes()); // seq
    /// bytes[16..18].copy_from_slice(&3u16.to_ne_bytes()); // len
    /// bytes[20..23].copy_from_slice(b"abc");
    /// let msg = Message::parse(&bytes)?;
    /// assert_eq!(msg.id(), CbId::new(11, 1));
    /// assert_eq!(msg.seq(), 7);
    /// assert_eq!(msg.payload(), b"abc");
    ///
    /// bytes[16..18].copy_from_slice(&4u16.to_ne_bytes()); // one more than there is
    /// assert_eq!(Message::parse(&bytes).err(), Some(EINVAL));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let (header, rest) = bytes.split_at_checked(HEADER_SIZE).ok_or(EINVAL)?;
        let u32_at = |at: usize| -> Result<u32> {
            let field = header.get(at..at + 4).ok_or(EINVAL)?;
            Ok(u32::from_ne_bytes(field.try_into().map_err(|_| EINVAL)?))
        };
        let u16_at = |at: usize| -> Result<u16> {
            let field = header.get(at..at + 2).ok_or(EINVAL)?;
            Ok(u16::from_ne_bytes(field.try_into().map_err(|_| EINVAL)?))
        };
        let len = usize::from(u16_at(16)?);
        Ok(Self {
            id: CbId::new(u32_at(0)?, u32_at(4)?),
            seq: u32_at(8)?,
            ack: u32_at(12)?,
            flags: u16_at(18)?,
            payload: rest.get(..len).ok_or(EINVAL)?,
        })
    }

    /// The id the message was sent to.
    pub fn id(&self) -> CbId {
        self.id
    }

    /// The sender's sequence number.
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// The acknowledgment number.
    pub fn ack(&self) -> u32 {
        self.ack
    }

    /// The message's flags, opaque to the connector.
    pub fn flags(&self) -> u16 {
        self.flags
    }

    /// The payload.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Replies to `sender` on this message's id, with its `seq` and `ack = seq + 1` (the
    /// connector's convention), the payload being the concatenation of `parts`.
    ///
    /// See [`unicast`] for the errors.
    pub fn reply(&self, sender: &Sender<'_>, parts: &[&[u8]], flags: Flags) -> Result {
        unicast(
            self.id,
            self.seq,
            self.seq.wrapping_add(1),
            parts,
            sender.port_id(),
            flags,
        )
    }
}

/// The sender of a received message.
pub struct Sender<'a> {
    parms: &'a bindings::netlink_skb_parms,
}

impl Sender<'_> {
    /// The netlink port id of the sending socket, where replies go.
    pub fn port_id(&self) -> u32 {
        self.parms.portid
    }

    /// Returns whether the sender has `cap` in the initial user namespace.
    ///
    /// Both the task that opened the sending socket and the task that sent the message must
    /// have it, as for other netlink families (`netlink_capable()`); `cn_proc` checks its
    /// senders the same way.
    pub fn capable(&self, cap: Capability) -> bool {
        // SAFETY: `parms` is the `netlink_skb_parms` of the skb the connector is delivering,
        // valid for the duration of the callback (type invariant of `Sender`'s lifetime), and
        // `init_user_ns` is a static that lives forever.
        unsafe {
            bindings::__netlink_ns_capable(
                self.parms,
                ptr::addr_of!(bindings::init_user_ns).cast_mut(),
                cap.as_raw(),
            )
        }
    }
}

/// Receives the messages sent to the id of a [`Registration`].
pub trait Handler: Send + Sync + 'static {
    /// Handles one message from `sender`.
    ///
    /// Called in the sender's task context, which may sleep; the sender's `sendmsg()` returns
    /// when this does. Calls for different messages may run concurrently, and the first may
    /// start before [`Registration::register`] has returned.
    ///
    /// Dropping the [`Registration`] waits for the running calls to return, so a handler must
    /// not drop its own registration, nor wait for something that waits for that drop: it would
    /// wait for itself.
    fn receive(&self, msg: &Message<'_>, sender: &Sender<'_>);
}

/// The registration of a [`Handler`] for a connector id.
///
/// Created in place, pinned, by [`Registration::register`]: the connector is given a pointer to
/// the registration, through which the callback reaches the handler. Dropping the registration
/// unregisters the handler and waits for the calls to it that are running to return, so the
/// handler outlives every call to it.
///
/// `Registration<T>` is [`Send`] and [`Sync`] through its fields: it is used from the threads
/// that send messages only through `&T`, and `T: Handler` is both.
///
/// # Invariants
///
/// From the end of its initialisation until it is dropped, `trampoline::<T>` is registered with
/// the connector for `id`, with a pointer to this registration as its private data.
#[pin_data(PinnedDrop)]
pub struct Registration<T: Handler> {
    id: CbId,
    #[pin]
    handler: T,
    /// The connector keeps a pointer to the registration.
    #[pin]
    _pin: PhantomPinned,
}

impl<T: Handler> Registration<T> {
    /// Registers `handler` for the messages sent to `id`; `name` shows in
    /// `/proc/net/connector`.
    ///
    /// Fails with `EBUSY` if a handler is registered for `id` already, `ENOMEM` if memory runs
    /// out, and with the error of `handler`. On failure the handler, if it was initialised, is
    /// dropped and nothing stays registered.
    pub fn register<E>(
        id: CbId,
        name: &'static CStr,
        handler: impl PinInit<T, E>,
    ) -> impl PinInit<Self, Error>
    where
        Error: From<E>,
    {
        let raw_id = id.as_raw();
        try_pin_init!(&this in Self {
            id,
            handler <- handler,
            _pin: PhantomPinned,
            // Last: the callback may run as soon as it is registered, and uses the handler.
            _: {
                // SAFETY: `raw_id` and `name` are valid for the call, which copies both;
                // `trampoline::<T>` has the signature the connector expects. `this` points to
                // the registration, whose `handler` is initialised; the memory is pinned, and
                // the callback is unregistered in `drop` (or never registered, if this fails)
                // before it goes away.
                let ret = unsafe {
                    bindings::cn_add_callback_priv(
                        &raw_id,
                        name.as_char_ptr(),
                        Some(trampoline::<T>),
                        this.as_ptr().cast::<c_void>(),
                    )
                };
                // INVARIANT: registered with a pointer to `self` if this succeeds. If it fails,
                // nothing was registered, and the initialiser drops the handler.
                // `cn_add_callback_priv()` says `EINVAL` when the id is taken (the callback is
                // never null).
                to_result(ret).map_err(|err| if err == EINVAL { EBUSY } else { err })?;
            },
        })
    }

    /// The id this registration receives messages for.
    pub fn id(&self) -> CbId {
        self.id
    }

    /// The handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }
}

#[pinned_drop]
impl<T: Handler> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        let raw_id = self.id.as_raw();
        // SAFETY: `raw_id` is valid for the call. By the type invariant, `trampoline::<T>` is
        // registered for it with a pointer to `self`; `cn_del_callback()` unregisters it and
        // returns once no call to it is running, so nothing uses `self` afterwards. (A handler
        // that dropped its own registration would wait here for itself: a deadlock, which the
        // `Handler` documentation forbids, but no use after free.)
        unsafe { bindings::cn_del_callback(&raw_id) };
    }
}

/// The connector's callback for the registrations of handlers of type `T`.
///
/// # Safety
///
/// Called by the connector only, as registered by [`Registration::register`]: `private` points
/// to a `Registration<T>` whose handler is initialised and that stays alive until this returns.
/// `msg` and `parms` are valid for the call, `msg` being the data of a netlink message of which
/// `cn_call_callback()` has checked that it holds the `struct cn_msg` header and `msg->len`
/// bytes of payload.
unsafe extern "C" fn trampoline<T: Handler>(
    msg: *mut bindings::cn_msg,
    parms: *mut bindings::netlink_skb_parms,
    private: *mut c_void,
) {
    // SAFETY: `msg` is valid and followed by `msg->len` payload bytes (function safety
    // requirements), so the header and payload form one readable byte range.
    let bytes = unsafe {
        let len = HEADER_SIZE + usize::from((*msg).len);
        core::slice::from_raw_parts(msg.cast::<u8>().cast_const(), len)
    };
    let Ok(message) = Message::parse(bytes) else {
        return;
    };
    // SAFETY: `parms` is valid for the call (function safety requirements).
    let parms = unsafe { &*parms };
    let sender = Sender { parms };
    let registration = private.cast::<Registration<T>>();
    // SAFETY: `registration` points to a live `Registration<T>` with an initialised handler
    // (function safety requirements). Only the handler is referenced, not the registration,
    // which may still be initialising. Once the callback is registered, the handler is only
    // accessed through shared references: `Registration::register` does not touch it after
    // registering, and the pinned registration gives out `&T` only.
    let handler = unsafe { &*ptr::addr_of!((*registration).handler) };
    handler.receive(&message, &sender);
}

/// Sends a message to the socket with netlink port id `port_id`.
///
/// The payload is the concatenation of `parts`. Fails with `EMSGSIZE` if header and payload
/// exceed [`MAX_MSG_SIZE`], `ENOMEM` if the message cannot be allocated with `flags`, and with
/// the errors of `netlink_unicast()`, such as `ECONNREFUSED` when nobody listens on the port.
/// With `flags` that may sleep, this waits while the receiver's queue is full.
pub fn unicast(
    id: CbId,
    seq: u32,
    ack: u32,
    parts: &[&[u8]],
    port_id: u32,
    flags: Flags,
) -> Result {
    send(id, seq, ack, parts, port_id, 0, flags)
}

/// Sends a message to the sockets that joined multicast `group`.
///
/// Fails with `ESRCH` if there are none, otherwise as [`unicast`].
pub fn multicast(
    id: CbId,
    seq: u32,
    ack: u32,
    parts: &[&[u8]],
    group: u32,
    flags: Flags,
) -> Result {
    if group == 0 {
        return Err(EINVAL);
    }
    send(id, seq, ack, parts, 0, group, flags)
}

/// Returns the `struct cn_msg` header with these fields.
fn encode_header(id: CbId, seq: u32, ack: u32, len: u16, flags: u16) -> [u8; HEADER_SIZE] {
    let mut header = [0u8; HEADER_SIZE];
    let fields: [&[u8]; 6] = [
        &id.idx.to_ne_bytes(),
        &id.val.to_ne_bytes(),
        &seq.to_ne_bytes(),
        &ack.to_ne_bytes(),
        &len.to_ne_bytes(),
        &flags.to_ne_bytes(),
    ];
    let mut at = 0;
    for field in fields {
        // The fields add up to `HEADER_SIZE` bytes (checked by the KUnit suite), so `get_mut`
        // always succeeds; it is used rather than indexing to keep panics out of this path.
        if let Some(dst) = header.get_mut(at..at + field.len()) {
            dst.copy_from_slice(field);
        }
        at += field.len();
    }
    header
}

fn send(
    id: CbId,
    seq: u32,
    ack: u32,
    parts: &[&[u8]],
    port_id: u32,
    group: u32,
    flags: Flags,
) -> Result {
    let payload_len = parts
        .iter()
        .try_fold(0usize, |sum, part| sum.checked_add(part.len()))
        .filter(|&len| len <= MAX_PAYLOAD_SIZE)
        .ok_or(EMSGSIZE)?;
    let len = u16::try_from(payload_len).map_err(|_| EMSGSIZE)?;

    let mut buf = KVec::<u8>::with_capacity(HEADER_SIZE + payload_len, flags)?;
    buf.extend_from_slice(&encode_header(id, seq, ack, len, 0), flags)?;
    for part in parts {
        buf.extend_from_slice(part, flags)?;
    }

    // SAFETY: `buf` holds a `struct cn_msg` header followed by `len` payload bytes, and
    // `cn_netlink_send_mult()` only reads them (it copies the message into a new skb);
    // `cn_msg` has an alignment of 4, which `KVec<u8>`'s allocation satisfies (kmalloc
    // returns at least `ARCH_KMALLOC_MINALIGN`-aligned memory).
    to_result(unsafe {
        bindings::cn_netlink_send_mult(
            buf.as_mut_ptr().cast::<bindings::cn_msg>(),
            len,
            port_id,
            group,
            flags.as_raw(),
            None,
            ptr::null_mut(),
        )
    })
}

#[cfg(CONFIG_RUST_CONNECTOR_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_connector)]
mod tests {
    use super::*;
    use crate::ffi::c_int;
    use crate::prelude::*;
    use crate::sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        Arc, Completion,
    };
    use crate::time::{delay::fsleep, Delta};
    use crate::workqueue;

    fn header(idx: u32, val: u32, seq: u32, ack: u32, len: u16, flags: u16) -> [u8; HEADER_SIZE] {
        encode_header(CbId::new(idx, val), seq, ack, len, flags)
    }

    #[test]
    fn header_matches_c() {
        assert_eq!(HEADER_SIZE, 20);
        assert_eq!(MAX_MSG_SIZE, 16384);
        assert_eq!(MAX_PAYLOAD_SIZE, 16364);
        // `encode_header` lays the fields out as `struct cn_msg` does.
        let h = encode_header(CbId::new(1, 2), 3, 4, 5, 6);
        assert_eq!(h[0..4], 1u32.to_ne_bytes());
        assert_eq!(h[4..8], 2u32.to_ne_bytes());
        assert_eq!(h[8..12], 3u32.to_ne_bytes());
        assert_eq!(h[12..16], 4u32.to_ne_bytes());
        assert_eq!(h[16..18], 5u16.to_ne_bytes());
        assert_eq!(h[18..20], 6u16.to_ne_bytes());
    }

    #[test]
    fn parse_reads_every_field() -> Result {
        let mut bytes = KVec::new();
        bytes.extend_from_slice(
            &header(11, 2, 0xdead_beef, 0x1234_5678, 5, 0x8001),
            GFP_KERNEL,
        )?;
        bytes.extend_from_slice(b"hello trailing", GFP_KERNEL)?;
        let msg = Message::parse(&bytes)?;
        assert_eq!(msg.id(), CbId::new(11, 2));
        assert_eq!(msg.seq(), 0xdead_beef);
        assert_eq!(msg.ack(), 0x1234_5678);
        assert_eq!(msg.flags(), 0x8001);
        assert_eq!(msg.payload(), b"hello");
        Ok(())
    }

    #[test]
    fn parse_rejects_short_and_lying_messages() {
        let h = header(1, 1, 0, 0, 0, 0);
        for cut in 0..HEADER_SIZE {
            assert_eq!(Message::parse(&h[..cut]).err(), Some(EINVAL));
        }
        assert!(Message::parse(&h).is_ok_and(|m| m.payload().is_empty()));
        let lying = header(1, 1, 0, 0, u16::MAX, 0);
        assert_eq!(Message::parse(&lying).err(), Some(EINVAL));
    }

    struct Nop;

    impl Handler for Nop {
        fn receive(&self, _msg: &Message<'_>, _sender: &Sender<'_>) {}
    }

    const TEST_ID: CbId = CbId::new(CN_NETLINK_USERS + 8, 0x7e57);

    /// Sends `payload` to `id` from a kernel socket, as userspace does: the connector calls the
    /// handler registered for `id`, if there is one, before this returns.
    fn send_from_kernel(id: CbId, payload: &[u8]) -> Result {
        let nlmsg_len = size_of::<bindings::nlmsghdr>() + HEADER_SIZE + payload.len();
        let mut buf = KVec::<u8>::with_capacity(nlmsg_len, GFP_KERNEL)?;
        // `struct nlmsghdr`: length, type, flags, sequence number, port id.
        buf.extend_from_slice(&u32::try_from(nlmsg_len)?.to_ne_bytes(), GFP_KERNEL)?;
        buf.extend_from_slice(&(bindings::NLMSG_DONE as u16).to_ne_bytes(), GFP_KERNEL)?;
        buf.extend_from_slice(&[0; 10], GFP_KERNEL)?;
        let len = u16::try_from(payload.len())?;
        buf.extend_from_slice(&encode_header(id, 0, 0, len, 0), GFP_KERNEL)?;
        buf.extend_from_slice(payload, GFP_KERNEL)?;

        let mut sock: *mut bindings::socket = ptr::null_mut();
        // SAFETY: `init_net` lives forever and `sock` is valid for writes.
        to_result(unsafe {
            bindings::sock_create_kern(
                ptr::addr_of!(bindings::init_net).cast_mut(),
                bindings::AF_NETLINK as c_int,
                bindings::sock_type_SOCK_DGRAM as c_int,
                bindings::NETLINK_CONNECTOR as c_int,
                &mut sock,
            )
        })?;
        // To the kernel (port 0), not to a multicast group.
        let mut addr = bindings::sockaddr_nl {
            nl_family: bindings::AF_NETLINK as bindings::__kernel_sa_family_t,
            nl_pad: 0,
            nl_pid: 0,
            nl_groups: 0,
        };
        // SAFETY: `struct msghdr` holds integers, pointers, an optional function pointer and
        // unions of such, for all of which zero bytes are a valid value (C code initialises it
        // with `= {}`).
        let mut msg: bindings::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_name = ptr::from_mut(&mut addr).cast::<c_void>();
        msg.msg_namelen = size_of::<bindings::sockaddr_nl>() as c_int;
        let mut vec = bindings::kvec {
            iov_base: buf.as_mut_ptr().cast::<c_void>(),
            iov_len: buf.len(),
        };
        // SAFETY: `sock` was created above; `msg`, `vec` and the memory they point to are valid
        // for the call.
        let sent = unsafe { bindings::kernel_sendmsg(sock, &mut msg, &mut vec, 1, buf.len()) };
        // SAFETY: `sock` was created above and is not used after this.
        unsafe { bindings::sock_release(sock) };
        to_result(sent)
    }

    /// What happened to the handlers of a test.
    struct Counts {
        received: Atomic<u32>,
        dropped: Atomic<u32>,
    }

    fn new_counts() -> Result<Arc<Counts>> {
        let counts = Counts {
            received: Atomic::new(0),
            dropped: Atomic::new(0),
        };
        Ok(Arc::new(counts, GFP_KERNEL)?)
    }

    /// Counts the `ping` messages it receives, and its drop.
    struct Recorder(Arc<Counts>);

    impl Handler for Recorder {
        fn receive(&self, msg: &Message<'_>, _sender: &Sender<'_>) {
            if msg.payload() == b"ping" {
                self.0.received.fetch_add(1, Relaxed);
            }
        }
    }

    impl Drop for Recorder {
        fn drop(&mut self) {
            self.0.dropped.fetch_add(1, Relaxed);
        }
    }

    #[test]
    fn registering_a_taken_id_fails_with_ebusy_and_drops_the_handler() -> Result {
        let (first, second) = (new_counts()?, new_counts()?);
        let handler = Recorder(first.clone());
        let registration = KBox::pin_init(
            Registration::register(TEST_ID, c"rust_cn_test", handler),
            GFP_KERNEL,
        )?;
        assert_eq!(registration.id(), TEST_ID);
        let handler = Recorder(second.clone());
        let taken = KBox::pin_init(
            Registration::register(TEST_ID, c"rust_cn_test", handler),
            GFP_KERNEL,
        );
        assert_eq!(taken.err(), Some(EBUSY));
        // The failed registration dropped its handler, once, and left the first one in place.
        assert_eq!(second.dropped.load(Relaxed), 1);
        send_from_kernel(TEST_ID, b"ping")?;
        assert_eq!(first.received.load(Relaxed), 1);
        assert_eq!(second.received.load(Relaxed), 0);
        assert_eq!(first.dropped.load(Relaxed), 0);

        drop(registration);
        assert_eq!(first.dropped.load(Relaxed), 1);
        // Unregistered: nobody receives, and the id is free again.
        send_from_kernel(TEST_ID, b"ping")?;
        assert_eq!(first.received.load(Relaxed), 1);
        let again = KBox::pin_init(
            Registration::register(TEST_ID, c"rust_cn_test", Nop),
            GFP_KERNEL,
        )?;
        drop(again);
        Ok(())
    }

    #[test]
    fn each_registration_receives_the_messages_for_its_id() -> Result {
        let (a, b) = (new_counts()?, new_counts()?);
        let (id_a, id_b) = (
            CbId::new(TEST_ID.idx, 0x7e58),
            CbId::new(TEST_ID.idx, 0x7e59),
        );
        // Two registrations with the same handler type, told apart by their context pointer.
        let handler = Recorder(a.clone());
        let reg_a = KBox::pin_init(
            Registration::register(id_a, c"rust_cn_a", handler),
            GFP_KERNEL,
        )?;
        let handler = Recorder(b.clone());
        let reg_b = KBox::pin_init(
            Registration::register(id_b, c"rust_cn_b", handler),
            GFP_KERNEL,
        )?;
        send_from_kernel(id_a, b"ping")?;
        send_from_kernel(id_b, b"ping")?;
        send_from_kernel(id_b, b"ping")?;
        send_from_kernel(id_b, b"not a ping")?;
        assert_eq!(a.received.load(Relaxed), 1);
        assert_eq!(b.received.load(Relaxed), 2);
        assert_eq!(reg_a.id(), id_a);
        assert_eq!(reg_b.handler().0.received.load(Relaxed), 2);
        drop(reg_b);
        drop(reg_a);
        assert_eq!(a.dropped.load(Relaxed) + b.dropped.load(Relaxed), 2);
        Ok(())
    }

    /// Lets a test hold a handler inside `receive` and follow it from another thread.
    #[pin_data]
    struct Gate {
        /// Completed by the handler once it runs, or by the sender if its message went nowhere.
        #[pin]
        entered: Completion,
        /// The handler returns once this is completed.
        #[pin]
        release: Completion,
        /// Completed by the sender once its `sendmsg()` has returned.
        #[pin]
        sent: Completion,
        running: Atomic<bool>,
        returned: Atomic<bool>,
        unlinked_while_running: Atomic<bool>,
        send_ok: Atomic<bool>,
    }

    struct Blocker(Arc<Gate>);

    impl Handler for Blocker {
        fn receive(&self, _msg: &Message<'_>, _sender: &Sender<'_>) {
            self.0.running.store(true, Release);
            self.0.entered.complete_all();
            self.0.release.wait_for_completion();
            self.0.returned.store(true, Release);
        }
    }

    #[test]
    fn drop_waits_for_a_running_handler() -> Result {
        let id = CbId::new(TEST_ID.idx, 0x7e5a);
        let gate = Arc::pin_init(
            pin_init!(Gate {
                entered <- Completion::new(),
                release <- Completion::new(),
                sent <- Completion::new(),
                running: Atomic::new(false),
                returned: Atomic::new(false),
                unlinked_while_running: Atomic::new(false),
                send_ok: Atomic::new(false),
            }),
            GFP_KERNEL,
        )?;
        let handler = Blocker(gate.clone());
        let registration = KBox::pin_init(
            Registration::register(id, c"rust_cn_wait", handler),
            GFP_KERNEL,
        )?;

        // The handler runs, and blocks, in the context of the sender: a work item, on the
        // workqueue meant for work items that block for long.
        let sender = gate.clone();
        workqueue::system_long().try_spawn(GFP_KERNEL, move || {
            sender
                .send_ok
                .store(send_from_kernel(id, b"block").is_ok(), Release);
            sender.entered.complete_all();
            sender.sent.complete_all();
        })?;
        gate.entered.wait_for_completion();
        assert!(gate.running.load(Acquire));

        // Release the handler from another work item, once the drop below has unlinked the
        // registration (its id can be registered again) but cannot have returned yet.
        let releaser = gate.clone();
        let spawned = workqueue::system_long().try_spawn(GFP_KERNEL, move || {
            for _ in 0..10_000 {
                let probe = KBox::pin_init(
                    Registration::register(id, c"rust_cn_probe", Nop),
                    GFP_KERNEL,
                );
                if probe.is_ok() {
                    let running = !releaser.returned.load(Acquire);
                    releaser.unlinked_while_running.store(running, Release);
                    break;
                }
                fsleep(Delta::from_millis(1));
            }
            releaser.release.complete_all();
        });
        if let Err(err) = spawned {
            gate.release.complete_all();
            return Err(err.into());
        }
        drop(registration);
        // The drop started while the handler ran, and returned after the handler had.
        assert!(gate.unlinked_while_running.load(Acquire));
        assert!(gate.returned.load(Acquire));
        gate.sent.wait_for_completion();
        assert!(gate.send_ok.load(Acquire));
        Ok(())
    }

    #[test]
    fn send_refuses_oversized_payloads() -> Result {
        // On the heap: the kernel stack is far smaller than a maximal message.
        let mut big = KVec::new();
        big.resize(MAX_PAYLOAD_SIZE + 1, 0u8, GFP_KERNEL)?;
        assert_eq!(
            unicast(TEST_ID, 0, 0, &[&big], 1, GFP_KERNEL).err(),
            Some(EMSGSIZE)
        );
        let half = big.get(..MAX_PAYLOAD_SIZE / 2 + 1).ok_or(EINVAL)?;
        assert_eq!(
            multicast(TEST_ID, 0, 0, &[half, half], 1, GFP_KERNEL).err(),
            Some(EMSGSIZE)
        );
        Ok(())
    }

    #[test]
    fn multicast_without_listeners_is_esrch() {
        assert_eq!(
            multicast(TEST_ID, 0, 0, &[b"x"], TEST_ID.idx, GFP_KERNEL).err(),
            Some(ESRCH)
        );
        assert_eq!(
            multicast(TEST_ID, 0, 0, &[b"x"], 0, GFP_KERNEL).err(),
            Some(EINVAL)
        );
    }

    #[test]
    fn capability_numbers_match_c() {
        assert_eq!(Capability::NET_ADMIN.as_raw(), 12);
        assert_eq!(Capability::SYS_ADMIN.as_raw(), 21);
        assert_eq!(Capability::from_raw(21), Some(Capability::SYS_ADMIN));
        assert_eq!(Capability::from_raw(bindings::CAP_LAST_CAP + 1), None);
        // KUnit runs in a kernel thread, which has every capability.
        assert!(crate::capability::capable(Capability::SYS_ADMIN));
    }
}
