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
//! let registration = Registration::new(id, c"echo_example", Echo, GFP_KERNEL)?;
//! assert_eq!(registration.id(), id);
//! // Dropping the registration unregisters the handler.
//! drop(registration);
//! # Ok::<(), Error>(())
//! ```

use crate::ffi::c_void;
use crate::types::Opaque;
use crate::{
    alloc::{Flags, KBox, KVec},
    bindings,
    capability::Capability,
    error::{code::*, to_result, Error, Result},
    prelude::{pin_data, pinned_drop, PinInit},
    str::{CStr, CStrExt},
    sync::{
        atomic::{Acquire, Atomic, Full, Relaxed, Release},
        rcu,
    },
    time::{delay::fsleep, Delta},
};
use core::{any::TypeId, mem::size_of, pin::Pin, ptr};

/// The size of `struct cn_msg`, the header in front of every payload.
pub const HEADER_SIZE: usize = size_of::<bindings::cn_msg>();

/// The largest message the connector carries, header included (`CONNECTOR_MAX_MSG_SIZE`).
/// Longer ones are dropped by the connector, so [`unicast`] and [`multicast`] refuse them.
pub const MAX_MSG_SIZE: usize = bindings::CONNECTOR_MAX_MSG_SIZE as usize;

/// The largest payload of a message.
pub const MAX_PAYLOAD_SIZE: usize = MAX_MSG_SIZE - HEADER_SIZE;

/// The first connector index free for new users (`CN_NETLINK_USERS`); lower ones are taken.
pub const CN_NETLINK_USERS: u32 = bindings::CN_NETLINK_USERS;

/// How many Rust handlers can be registered at once, system-wide.
pub const MAX_REGISTRATIONS: usize = 16;

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
    /// when this does. Calls for different messages may run concurrently.
    fn receive(&self, msg: &Message<'_>, sender: &Sender<'_>);
}

/// What a registration publishes for the callback trampolines to find.
///
/// `#[repr(C)]` so that a trampoline can read `header` before it knows `T`.
#[repr(C)]
struct Entry<T> {
    header: EntryHeader,
    handler: T,
}

struct EntryHeader {
    id: CbId,
    /// The handler's type: a trampoline only calls handlers of its own type.
    handler_type: TypeId,
    /// Trampolines running the handler right now.
    users: Atomic<usize>,
}

/// The published entries, one per registration. A slot holds a `*const Entry<T>` for some `T`
/// or null.
///
/// Entries are read under `rcu_read_lock()`; a registration clears its slot, waits for an RCU
/// grace period and then for the entry's `users` to drop to zero before freeing it.
static SLOTS: [Atomic<*mut EntryHeader>; MAX_REGISTRATIONS] =
    [const { Atomic::new(ptr::null_mut()) }; MAX_REGISTRATIONS];

/// The registration of a [`Handler`] for a connector id.
///
/// The handler is unregistered when this is dropped, after the calls to it that are running
/// have returned.
///
/// # Invariants
///
/// `entry` is published in `SLOTS[slot]` and `trampoline::<T>` is registered with the connector
/// for `entry.header.id`.
pub struct Registration<T: Handler> {
    entry: KBox<Entry<T>>,
    slot: usize,
}

impl<T: Handler> Registration<T> {
    /// Registers `handler` for the messages sent to `id`; `name` shows in
    /// `/proc/net/connector`.
    ///
    /// Fails with `EBUSY` if `id` is registered already, `ENOSPC` if [`MAX_REGISTRATIONS`]
    /// Rust handlers are registered, and `ENOMEM` if memory runs out.
    pub fn new(id: CbId, name: &'static CStr, handler: T, flags: Flags) -> Result<Self> {
        let entry = KBox::new(
            Entry {
                header: EntryHeader {
                    id,
                    handler_type: TypeId::of::<T>(),
                    users: Atomic::new(0),
                },
                handler,
            },
            flags,
        )?;
        let published = ptr::from_ref(&entry.header).cast_mut();
        let slot = SLOTS
            .iter()
            .position(|slot| slot.cmpxchg(ptr::null_mut(), published, Full).is_ok())
            .ok_or(ENOSPC)?;

        let raw_id = id.as_raw();
        // SAFETY: `raw_id` and `name` are valid for the call, which copies both;
        // `trampoline::<T>` has the signature the connector expects.
        let ret = unsafe {
            bindings::cn_add_callback(&raw_id, name.as_char_ptr(), Some(trampoline::<T>))
        };
        if let Err(err) = to_result(ret) {
            unpublish(slot);
            // `cn_add_callback()` says `EINVAL` when the id is taken (and for nothing else).
            return Err(if err == EINVAL { EBUSY } else { err });
        }
        // INVARIANT: published in `SLOTS[slot]` and registered just above.
        Ok(Self { entry, slot })
    }

    /// The id this registration receives messages for.
    pub fn id(&self) -> CbId {
        self.entry.header.id
    }

    /// The handler.
    pub fn handler(&self) -> &T {
        &self.entry.handler
    }
}

impl<T: Handler> Drop for Registration<T> {
    fn drop(&mut self) {
        let raw_id = self.entry.header.id.as_raw();
        // SAFETY: `raw_id` is valid for the call; by the type invariant it is registered.
        unsafe { bindings::cn_del_callback(&raw_id) };
        // `cn_del_callback()` does not wait for callbacks that are running: wait here, so that
        // the handler outlives every call to it.
        unpublish(self.slot);
        while self.entry.header.users.load(Acquire) != 0 {
            fsleep(Delta::from_millis(1));
        }
    }
}

/// Clears `SLOTS[slot]` and waits until no trampoline can newly start using its entry.
fn unpublish(slot: usize) {
    if let Some(slot) = SLOTS.get(slot) {
        slot.store(ptr::null_mut(), Release);
    }
    // SAFETY: `synchronize_rcu()` may be called from any sleepable context; registrations are
    // dropped in one (`Registration::new` runs in one too, by `cn_add_callback()`'s contract).
    unsafe { bindings::synchronize_rcu() };
}

/// Finds the entry for `id` handled by a `T`, and counts a user of it.
///
/// Returns null if there is none: the registration is going away.
fn get_entry<T: Handler>(id: CbId) -> *const Entry<T> {
    let _guard = rcu::read_lock();
    for slot in &SLOTS {
        let header = slot.load(Acquire);
        if header.is_null() {
            continue;
        }
        // SAFETY: a non-null slot points to the header of a live entry: entries are freed only
        // after their slot is cleared and an RCU grace period has passed, and we are in an RCU
        // read-side critical section.
        let h = unsafe { &*header };
        if h.id == id && h.handler_type == TypeId::of::<T>() {
            h.users.fetch_add(1, Relaxed);
            return header.cast::<Entry<T>>();
        }
    }
    ptr::null()
}

/// The connector's callback for handlers of type `T`.
///
/// # Safety
///
/// Called by the connector only, with `msg` and `parms` valid for the call, `msg` being the
/// data of a netlink message of which `cn_call_callback()` has checked that it holds the
/// `struct cn_msg` header and `msg->len` bytes of payload.
unsafe extern "C" fn trampoline<T: Handler>(
    msg: *mut bindings::cn_msg,
    parms: *mut bindings::netlink_skb_parms,
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
    let entry = get_entry::<T>(message.id());
    if entry.is_null() {
        return;
    }
    // SAFETY: `get_entry` counted us as a user, so the entry stays alive until we uncount
    // ourselves below; its header says it is an `Entry<T>`.
    let entry = unsafe { &*entry };
    entry.handler.receive(&message, &sender);
    entry.header.users.fetch_sub(1, Release);
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

/// Told when a connector socket is closed.
///
/// State a service keeps for a client (uploads in progress, objects it asked to be cleaned up
/// after it) can be dropped when the client's socket goes away, even if the client was killed
/// without saying goodbye.
pub trait ReleaseHandler: Send + Sync + 'static {
    /// The socket with netlink port id `port_id` (the [`Sender::port_id`] of its messages) was
    /// closed. Called in process context; may sleep.
    fn released(&self, port_id: u32);
}

/// A registered [`ReleaseHandler`]: a netlink notifier that reports the release of
/// `NETLINK_CONNECTOR` sockets of the initial network namespace (the only one the connector
/// serves). Unregistered when dropped.
///
/// # Invariants
///
/// `notifier` is registered with `netlink_register_notifier()`, with
/// `release_callback::<T>` as its callback.
///
/// # Examples
///
/// ```
/// use kernel::connector::{ReleaseHandler, ReleaseNotifier};
/// use kernel::prelude::*;
///
/// struct Forget;
///
/// impl ReleaseHandler for Forget {
///     fn released(&self, port_id: u32) {
///         pr_debug!("port {port_id} closed\n");
///     }
/// }
///
/// let notifier = KBox::pin_init(ReleaseNotifier::new(Forget), GFP_KERNEL)?;
/// drop(notifier);
/// # Ok::<(), Error>(())
/// ```
#[pin_data(PinnedDrop)]
pub struct ReleaseNotifier<T: ReleaseHandler> {
    handler: T,
    #[pin]
    notifier: Opaque<bindings::notifier_block>,
}

// SAFETY: The notifier is only touched by (un)registration, which the netlink core
// serialises, and `T` is `Send`.
unsafe impl<T: ReleaseHandler> Send for ReleaseNotifier<T> {}
// SAFETY: `&self` only gives access to the handler, which is `Sync`.
unsafe impl<T: ReleaseHandler> Sync for ReleaseNotifier<T> {}

impl<T: ReleaseHandler> ReleaseNotifier<T> {
    /// Registers `handler` to be told about released connector sockets.
    pub fn new(handler: T) -> impl PinInit<Self, Error> {
        // The handler is initialised before the notifier is registered: the callback may run
        // as soon as it is.
        crate::prelude::try_pin_init!(Self {
            handler,
            notifier <- Opaque::try_ffi_init(|slot: *mut bindings::notifier_block| {
                // SAFETY: The initialiser may write to `slot`.
                unsafe {
                    slot.write(bindings::notifier_block {
                        notifier_call: Some(release_callback::<T>),
                        next: ptr::null_mut(),
                        priority: 0,
                    })
                };
                // SAFETY: `slot` holds an initialised notifier block, pinned, and unregistered
                // in `drop` before its memory goes away.
                // INVARIANT: registered with `release_callback::<T>` when this succeeds.
                to_result(unsafe { bindings::netlink_register_notifier(slot) })
            }),
        })
    }

    /// The handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }
}

#[pinned_drop]
impl<T: ReleaseHandler> PinnedDrop for ReleaseNotifier<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Registered by the type invariant. The netlink notifier chain is a blocking
        // one: once this returns, no callback runs or will run.
        unsafe { bindings::netlink_unregister_notifier(self.notifier.get()) };
    }
}

/// The netlink notifier callback of a [`ReleaseNotifier<T>`].
///
/// # Safety
///
/// Called by the netlink notifier chain only, with `nb` the `notifier` field of a registered
/// `ReleaseNotifier<T>` and, for `NETLINK_URELEASE`, `data` a valid `struct netlink_notify`.
unsafe extern "C" fn release_callback<T: ReleaseHandler>(
    nb: *mut bindings::notifier_block,
    event: crate::ffi::c_ulong,
    data: *mut c_void,
) -> crate::ffi::c_int {
    if event != bindings::NETLINK_URELEASE as crate::ffi::c_ulong || data.is_null() {
        return bindings::NOTIFY_DONE as crate::ffi::c_int;
    }
    // SAFETY: For `NETLINK_URELEASE`, `data` points to a valid `struct netlink_notify`
    // (function safety requirements).
    let notify = unsafe { &*data.cast::<bindings::netlink_notify>() };
    if notify.protocol != bindings::NETLINK_CONNECTOR as crate::ffi::c_int
        || !ptr::eq(notify.net, ptr::addr_of!(bindings::init_net))
    {
        return bindings::NOTIFY_DONE as crate::ffi::c_int;
    }
    let notifier = nb.cast::<Opaque<bindings::notifier_block>>();
    // SAFETY: `nb` is the `notifier` field of a registered `ReleaseNotifier<T>` (function
    // safety requirements), which stays alive while it is registered.
    let this = unsafe { &*crate::container_of!(notifier, ReleaseNotifier<T>, notifier) };
    this.handler.released(notify.portid);
    bindings::NOTIFY_DONE as crate::ffi::c_int
}

#[cfg(CONFIG_RUST_CONNECTOR_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_connector)]
mod tests {
    use super::*;
    use crate::prelude::*;

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

    #[test]
    fn registration_is_exclusive_and_released_on_drop() -> Result {
        let first = Registration::new(TEST_ID, c"rust_cn_test", Nop, GFP_KERNEL)?;
        assert_eq!(first.id(), TEST_ID);
        let second = Registration::new(TEST_ID, c"rust_cn_test", Nop, GFP_KERNEL);
        assert_eq!(second.err(), Some(EBUSY));
        // Another id is independent.
        let other =
            Registration::new(CbId::new(TEST_ID.idx, 1), c"rust_cn_test2", Nop, GFP_KERNEL)?;
        drop(first);
        let again = Registration::new(TEST_ID, c"rust_cn_test", Nop, GFP_KERNEL)?;
        drop(again);
        drop(other);
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
