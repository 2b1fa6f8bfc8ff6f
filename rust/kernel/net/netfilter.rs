// SPDX-License-Identifier: GPL-2.0

//! Netfilter hooks.
//!
//! Netfilter calls hooks at five points of the IPv4 and IPv6 stacks ([`HookPoint`]): on the way
//! in before routing, on delivery to a local socket, on forwarding, on the way out of a local
//! socket and after routing. A hook sees the packet as an [`SkBuff`] and returns a [`Verdict`]:
//! accept it (the next hook, then the stack, sees it) or drop it. A [`Registration`] registers a
//! [`Hook`] in the initial network namespace for one [`Family`], one point and a priority; hooks
//! with lower priorities run first.
//!
//! # Context
//!
//! A hook runs where the packet is, inside an RCU read-side critical section: in softirq context
//! for received and forwarded packets (`PRE_ROUTING`, `LOCAL_IN`, `FORWARD`), and in the context
//! of the sending task for locally generated ones (`LOCAL_OUT`, usually `POST_ROUTING` too),
//! where, with preemptible RCU, it may be preempted and migrated to another CPU. It may run on
//! several CPUs at once. So a hook must not sleep (no mutexes, no `GFP_KERNEL` allocations, no
//! waiting), must be quick, and keeps its state in types that are safe to share ([`Hook`] is
//! [`Sync`]); per-CPU state needs preemption disabled around its use. The packet's bytes start at
//! its network header: the IPv4 or IPv6 header.
//!
//! Dropping a [`Registration`] unregisters the hook and then waits for an RCU grace period
//! (`synchronize_net()`), so that no call to the hook is still running when the drop returns.
//! It sleeps, and must not happen in the hook itself.
//!
//! C header: [`include/linux/netfilter.h`](srctree/include/linux/netfilter.h)
//!
//! # Examples
//!
//! A hook that drops every UDP datagram sent to port 9 over IPv4 and counts them:
//!
//! ```
//! use kernel::net::netfilter::{Family, Hook, HookPoint, HookState, Registration, Verdict};
//! use kernel::net::skbuff::SkBuff;
//! use kernel::prelude::*;
//! use kernel::sync::atomic::{Atomic, Relaxed};
//!
//! struct DiscardFilter {
//!     dropped: Atomic<u64>,
//! }
//!
//! impl Hook for DiscardFilter {
//!     fn hook(&self, skb: &SkBuff, _state: &HookState<'_>) -> Verdict {
//!         // The IPv4 header (without options) and the UDP ports.
//!         let mut head = [0u8; 24];
//!         if skb.copy_bits(0, &mut head).is_err() {
//!             return Verdict::Accept;
//!         }
//!         let header_len = usize::from(head[0] & 0xf) * 4;
//!         let mut port = [0u8; 2];
//!         if head[9] == 17 && skb.copy_bits(header_len + 2, &mut port).is_ok() {
//!             if u16::from_be_bytes(port) == 9 {
//!                 self.dropped.fetch_add(1, Relaxed);
//!                 return Verdict::Drop;
//!             }
//!         }
//!         Verdict::Accept
//!     }
//! }
//!
//! let filter = DiscardFilter { dropped: Atomic::new(0) };
//! let registration = KBox::pin_init(
//!     Registration::register(Family::Ipv4, HookPoint::LocalOut, 0, filter),
//!     GFP_KERNEL,
//! )?;
//! assert_eq!(registration.hook_point(), HookPoint::LocalOut);
//! // ... UDP datagrams to port 9 are dropped now ...
//! let _dropped = registration.hook().dropped.load(Relaxed);
//! // Unregisters, and returns once no call to the hook runs.
//! drop(registration);
//! # Ok::<(), Error>(())
//! ```

use crate::{
    bindings,
    error::{to_result, Error},
    ffi::{c_uint, c_void},
    net::skbuff::SkBuff,
    prelude::{pin_data, pinned_drop, try_pin_init, PinInit},
    types::Opaque,
};
use core::{pin::Pin, ptr};

/// The protocol family a hook is registered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4 (`NFPROTO_IPV4`).
    Ipv4,
    /// IPv6 (`NFPROTO_IPV6`).
    Ipv6,
    /// Both IPv4 and IPv6 (`NFPROTO_INET`): one registration, called for the packets of both;
    /// [`HookState::family`] tells which one a packet belongs to.
    Inet,
}

impl Family {
    fn as_raw(self) -> u8 {
        let raw = match self {
            Self::Ipv4 => bindings::NFPROTO_IPV4,
            Self::Ipv6 => bindings::NFPROTO_IPV6,
            Self::Inet => bindings::NFPROTO_INET,
        };
        // The `NFPROTO_*` values are below `NFPROTO_NUMPROTO`, which is 13.
        raw as u8
    }

    fn from_raw(raw: u8) -> Option<Self> {
        match u32::from(raw) {
            bindings::NFPROTO_IPV4 => Some(Self::Ipv4),
            bindings::NFPROTO_IPV6 => Some(Self::Ipv6),
            bindings::NFPROTO_INET => Some(Self::Inet),
            _ => None,
        }
    }
}

/// Where in the stack a hook is called (`enum nf_inet_hooks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookPoint {
    /// A received packet, before routing decides where it goes (`NF_INET_PRE_ROUTING`).
    PreRouting,
    /// A received packet, before it is delivered to a local socket (`NF_INET_LOCAL_IN`).
    LocalIn,
    /// A received packet that is routed on to another host (`NF_INET_FORWARD`).
    Forward,
    /// A packet sent by a local socket, after routing (`NF_INET_LOCAL_OUT`).
    LocalOut,
    /// A packet about to leave through a device, forwarded or local (`NF_INET_POST_ROUTING`).
    PostRouting,
}

impl HookPoint {
    fn as_raw(self) -> u32 {
        match self {
            Self::PreRouting => bindings::nf_inet_hooks_NF_INET_PRE_ROUTING,
            Self::LocalIn => bindings::nf_inet_hooks_NF_INET_LOCAL_IN,
            Self::Forward => bindings::nf_inet_hooks_NF_INET_FORWARD,
            Self::LocalOut => bindings::nf_inet_hooks_NF_INET_LOCAL_OUT,
            Self::PostRouting => bindings::nf_inet_hooks_NF_INET_POST_ROUTING,
        }
    }

    fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            bindings::nf_inet_hooks_NF_INET_PRE_ROUTING => Some(Self::PreRouting),
            bindings::nf_inet_hooks_NF_INET_LOCAL_IN => Some(Self::LocalIn),
            bindings::nf_inet_hooks_NF_INET_FORWARD => Some(Self::Forward),
            bindings::nf_inet_hooks_NF_INET_LOCAL_OUT => Some(Self::LocalOut),
            bindings::nf_inet_hooks_NF_INET_POST_ROUTING => Some(Self::PostRouting),
            _ => None,
        }
    }
}

/// The first priority: a hook with it runs before all others (`NF_IP_PRI_FIRST`).
pub const PRIORITY_FIRST: i32 = bindings::nf_ip_hook_priorities_NF_IP_PRI_FIRST;

/// The priority of the packet filter tables (`NF_IP_PRI_FILTER`, 0): connection tracking and
/// NAT run before it (at lower priorities) on the way in.
pub const PRIORITY_FILTER: i32 = bindings::nf_ip_hook_priorities_NF_IP_PRI_FILTER;

/// The last priority: a hook with it runs after all others (`NF_IP_PRI_LAST`).
pub const PRIORITY_LAST: i32 = bindings::nf_ip_hook_priorities_NF_IP_PRI_LAST;

/// What happens to a packet after a hook has seen it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The packet goes on: to the next hook, then on its way (`NF_ACCEPT`).
    Accept,
    /// The packet is freed (`NF_DROP`). A local sender's `sendmsg()` fails with `EPERM`.
    Drop,
}

impl Verdict {
    fn as_raw(self) -> c_uint {
        match self {
            Self::Accept => bindings::NF_ACCEPT,
            Self::Drop => bindings::NF_DROP,
        }
    }
}

/// Where and how a hook is being called for a packet (`struct nf_hook_state`).
pub struct HookState<'a> {
    raw: &'a bindings::nf_hook_state,
}

impl HookState<'_> {
    /// The hook point being run.
    ///
    /// Always the point of the registration; `None` only if netfilter passed a point that this
    /// module does not know.
    pub fn hook_point(&self) -> Option<HookPoint> {
        HookPoint::from_raw(self.raw.hook.into())
    }

    /// The family of the packet: [`Family::Ipv4`] or [`Family::Ipv6`], also for hooks
    /// registered for [`Family::Inet`].
    pub fn family(&self) -> Option<Family> {
        Family::from_raw(self.raw.pf)
    }

    /// The interface index of the device the packet came in on, if it came in on one (set at
    /// `PRE_ROUTING`, `LOCAL_IN` and `FORWARD`).
    pub fn in_ifindex(&self) -> Option<i32> {
        // SAFETY: `in_` is null or points to a device that netfilter holds for the call.
        unsafe { ifindex(self.raw.in_) }
    }

    /// The interface index of the device the packet goes out on, if known yet (set at
    /// `FORWARD`, `LOCAL_OUT` and `POST_ROUTING`).
    pub fn out_ifindex(&self) -> Option<i32> {
        // SAFETY: `out` is null or points to a device that netfilter holds for the call.
        unsafe { ifindex(self.raw.out) }
    }
}

/// Returns the interface index of `dev`, or `None` if it is null.
///
/// # Safety
///
/// `dev` must be null or point to a valid, registered `struct net_device`.
unsafe fn ifindex(dev: *const bindings::net_device) -> Option<i32> {
    if dev.is_null() {
        return None;
    }
    // SAFETY: `dev` is valid (function safety requirements). The index of a registered device
    // only changes while it moves to another namespace, when it is down and passes no packets.
    Some(unsafe { (*dev).ifindex })
}

/// A netfilter hook: decides the fate of the packets at the point it is registered for.
pub trait Hook: Send + Sync + 'static {
    /// Returns the verdict on `skb`.
    ///
    /// Called in atomic context (softirq, or a task inside an RCU read-side critical section;
    /// see the [module documentation](self)), possibly on several CPUs at once: it must not
    /// sleep. The first call may come before [`Registration::register`] has returned.
    fn hook(&self, skb: &SkBuff, state: &HookState<'_>) -> Verdict;
}

/// The registration of a [`Hook`] with netfilter, in the initial network namespace.
///
/// Created in place, pinned, by [`Registration::register`]: netfilter is given a pointer to the
/// registration as the hook's private data, through which the trampoline reaches the hook; no
/// global table is needed. Dropping the registration unregisters the hook and waits until no
/// call to it is running.
///
/// # Invariants
///
/// From the end of its initialisation until it is dropped, `ops` is registered with netfilter
/// in `init_net`, with `hook_trampoline::<T>` as its function and a pointer to this registration
/// as its private data.
#[pin_data(PinnedDrop)]
pub struct Registration<T: Hook> {
    family: Family,
    hook_point: HookPoint,
    priority: i32,
    #[pin]
    hook: T,
    /// The `struct nf_hook_ops` netfilter keeps a pointer to; it is `!Unpin`.
    #[pin]
    ops: Opaque<bindings::nf_hook_ops>,
}

// SAFETY: netfilter reads `ops` under its own locking and RCU, from any CPU; the registration
// only touches `ops` when it is initialised and dropped, and gives out `&T` otherwise, with `T`
// being `Send`. So the registration can be dropped on any thread.
unsafe impl<T: Hook> Send for Registration<T> {}

// SAFETY: the `&self` methods read fields that never change after initialisation and give out
// `&T`, with `T` being `Sync`; `ops` is not accessed through `&self`.
unsafe impl<T: Hook> Sync for Registration<T> {}

fn init_net() -> *mut bindings::net {
    // `init_net` is a static that lives forever; netfilter takes its address mutably.
    ptr::addr_of!(bindings::init_net).cast_mut()
}

impl<T: Hook> Registration<T> {
    /// Registers `hook` for the packets of `family` at `hook_point`, in the initial network
    /// namespace; among the hooks of that point, those with lower `priority` run first (see
    /// [`PRIORITY_FILTER`]).
    ///
    /// The hook is initialised first, as it may be called as soon as it is registered. Fails
    /// with `ENOMEM` if memory runs out, `E2BIG` if the point has too many hooks already, and
    /// with the error of `hook`; then nothing stays registered and the hook, if initialised, is
    /// dropped.
    pub fn register<E>(
        family: Family,
        hook_point: HookPoint,
        priority: i32,
        hook: impl PinInit<T, E>,
    ) -> impl PinInit<Self, Error>
    where
        Error: From<E>,
    {
        // Copies for the closure below: inside the initialiser, the field names refer to the
        // initialised fields.
        let (pf, hooknum, prio) = (family.as_raw(), hook_point.as_raw(), priority);
        try_pin_init!(&this in Self {
            family,
            hook_point,
            priority,
            hook <- hook,
            // Last: netfilter may call the hook as soon as it is registered.
            ops <- Opaque::try_ffi_init(move |slot: *mut bindings::nf_hook_ops| {
                let mut ops: bindings::nf_hook_ops = pin_init::zeroed();
                ops.hook = Some(hook_trampoline::<T>);
                ops.priv_ = this.as_ptr().cast::<c_void>();
                ops.pf = pf;
                ops.hooknum = hooknum;
                ops.priority = prio;
                // SAFETY: `slot` is valid for writes (`try_ffi_init` guarantee).
                unsafe { slot.write(ops) };
                // SAFETY: `slot` holds initialised ops, whose function has the type netfilter
                // calls it with, and whose private data points to this registration, whose hook
                // is initialised. The memory is pinned, and the ops are unregistered in `drop`
                // (or never registered, if this fails) before it goes away.
                // INVARIANT: registered with a pointer to `this` if this succeeds. If it fails,
                // nothing was registered, and the initialiser drops the hook.
                to_result(unsafe { bindings::nf_register_net_hook(init_net(), slot) })
            }),
        })
    }

    /// The family the hook is registered for.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The point the hook is registered at.
    pub fn hook_point(&self) -> HookPoint {
        self.hook_point
    }

    /// The priority the hook is registered with.
    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// The hook.
    pub fn hook(&self) -> &T {
        &self.hook
    }
}

#[pinned_drop]
impl<T: Hook> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: by the type invariant, `ops` is registered in `init_net`; this unregisters it,
        // once.
        unsafe { bindings::nf_unregister_net_hook(init_net(), self.ops.get()) };
        // Netfilter calls hooks inside RCU read-side critical sections and frees its own copy of
        // the hook list after a grace period, but `nf_unregister_net_hook()` does not wait for
        // the calls that are running. Waiting for a grace period here does: after it, nothing
        // uses `self` or the hook any more, and they can be dropped.
        // SAFETY: `synchronize_net()` may be called from any sleepable context; drop is one
        // (documented on the type).
        unsafe { bindings::synchronize_net() };
    }
}

/// The hook function netfilter calls for the registrations of hooks of type `T`.
///
/// # Safety
///
/// Called by netfilter only, as registered by [`Registration::register`]: `private` points to a
/// `Registration<T>` whose hook is initialised and that stays alive until this returns; `skb`
/// is a valid packet that this call has to itself until it returns its verdict, and `state` is
/// valid for the call.
unsafe extern "C" fn hook_trampoline<T: Hook>(
    private: *mut c_void,
    skb: *mut bindings::sk_buff,
    state: *const bindings::nf_hook_state,
) -> c_uint {
    let registration = private.cast::<Registration<T>>();
    // SAFETY: `registration` points to a live `Registration<T>` with an initialised hook
    // (function safety requirements). Only the hook is referenced, not the registration, which
    // may still be initialising; the hook is only ever accessed through shared references once
    // registered.
    let hook = unsafe { &*ptr::addr_of!((*registration).hook) };
    // SAFETY: netfilter hands the hook a valid packet that nobody else changes until the hook
    // returns (function safety requirements); the reference does not outlive this call.
    let skb = unsafe { SkBuff::from_raw(skb) };
    // SAFETY: `state` is valid for the call (function safety requirements).
    let raw = unsafe { &*state };
    hook.hook(skb, &HookState { raw }).as_raw()
}

#[cfg(CONFIG_RUST_NETFILTER_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_netfilter)]
mod tests {
    use super::*;
    use crate::ffi::c_int;
    use crate::net::skbuff::{ETH_P_IP, ETH_P_IPV6};
    use crate::prelude::*;
    use crate::str::CStrExt;
    use crate::sync::{
        atomic::{Atomic, Relaxed},
        Arc,
    };
    use crate::time::{delay::fsleep, Delta};

    /// The interface index of the loopback device.
    const LO_IFINDEX: i32 = 1;

    /// Brings the loopback device up, which gives it 127.0.0.1 (and ::1): nothing else does in a
    /// KUnit kernel, where no userspace runs. It stays up.
    ///
    /// The device is looked up by name rather than read from `init_net.loopback_dev`: the
    /// bindings' layout of `struct net` is wrong past its `struct ns_common`, whose anonymous
    /// `struct ns_tree` member (a Microsoft extension) bindgen leaves out.
    fn loopback_up() -> Result {
        // SAFETY: `rtnl_lock()` may be called from any sleepable context; the name is a
        // `NUL`-terminated string; a device found with the RTNL held stays registered while
        // it is held, and `dev_change_flags()` wants it held.
        let ret = unsafe {
            bindings::rtnl_lock();
            let lo = bindings::__dev_get_by_name(init_net(), c"lo".as_char_ptr());
            let ret = if lo.is_null() {
                ENODEV.to_errno()
            } else {
                let flags = bindings::netif_get_flags(lo) | bindings::net_device_flags_IFF_UP;
                bindings::dev_change_flags(lo, flags, ptr::null_mut())
            };
            bindings::rtnl_unlock();
            ret
        };
        to_result(ret)
    }

    /// A kernel UDP socket on the loopback addresses, IPv4 or IPv6.
    struct Udp {
        sock: *mut bindings::socket,
        v6: bool,
    }

    /// A socket address for the loopback address of one family and a port.
    enum Addr {
        V4(bindings::sockaddr_in),
        V6(bindings::sockaddr_in6),
    }

    impl Addr {
        fn loopback(v6: bool, port: u16) -> Self {
            if v6 {
                let mut addr: bindings::sockaddr_in6 = pin_init::zeroed();
                addr.sin6_family = bindings::AF_INET6 as u16;
                addr.sin6_port = port.to_be();
                // SAFETY: every bit pattern is a valid `[u8; 16]`, so writing this union member
                // is sound; `::1`.
                unsafe { addr.sin6_addr.in6_u.u6_addr8[15] = 1 };
                Self::V6(addr)
            } else {
                let mut addr: bindings::sockaddr_in = pin_init::zeroed();
                addr.sin_family = bindings::AF_INET as u16;
                addr.sin_port = port.to_be();
                addr.sin_addr.s_addr = 0x7f00_0001u32.to_be();
                Self::V4(addr)
            }
        }

        fn as_ptr(&mut self) -> (*mut c_void, c_int) {
            match self {
                Self::V4(a) => (
                    ptr::from_mut(a).cast(),
                    size_of::<bindings::sockaddr_in>() as c_int,
                ),
                Self::V6(a) => (
                    ptr::from_mut(a).cast(),
                    size_of::<bindings::sockaddr_in6>() as c_int,
                ),
            }
        }
    }

    impl Udp {
        fn new(v6: bool) -> Result<Self> {
            let family = if v6 {
                bindings::AF_INET6
            } else {
                bindings::AF_INET
            };
            let mut sock = ptr::null_mut();
            // SAFETY: `init_net` lives forever and `sock` is valid for writes.
            to_result(unsafe {
                bindings::sock_create_kern(
                    init_net(),
                    family as c_int,
                    bindings::sock_type_SOCK_DGRAM as c_int,
                    bindings::IPPROTO_UDP as c_int,
                    &mut sock,
                )
            })?;
            Ok(Self { sock, v6 })
        }

        fn bind(&self, port: u16) -> Result {
            let mut addr = Addr::loopback(self.v6, port);
            let (addr, len) = addr.as_ptr();
            // SAFETY: `self.sock` is a socket; `addr` is a socket address of `len` bytes.
            to_result(unsafe { bindings::kernel_bind(self.sock, addr.cast(), len) })
        }

        /// Sends `payload` to `port` on the loopback address; returns what `sendmsg()` did.
        fn send(&self, port: u16, payload: &[u8]) -> Result<usize> {
            let mut addr = Addr::loopback(self.v6, port);
            let (name, namelen) = addr.as_ptr();
            // SAFETY: `struct msghdr` holds integers, pointers and unions of such, for all of
            // which zero bytes are a valid value (C code initialises it with `= {}`).
            let mut msg: bindings::msghdr = unsafe { core::mem::zeroed() };
            msg.msg_name = name;
            msg.msg_namelen = namelen;
            let mut vec = bindings::kvec {
                iov_base: payload.as_ptr().cast_mut().cast(),
                iov_len: payload.len(),
            };
            // SAFETY: `self.sock` is a socket; `msg`, `vec` and what they point to are valid for
            // the call, which only reads the payload.
            let ret = unsafe {
                bindings::kernel_sendmsg(self.sock, &mut msg, &mut vec, 1, payload.len())
            };
            to_result(ret).map(|()| ret as usize)
        }

        /// Receives a datagram into `buf`, waiting up to `ms` milliseconds for one.
        fn recv(&self, buf: &mut [u8], ms: u32) -> Result<usize> {
            for _ in 0..=ms {
                // SAFETY: as in `send`.
                let mut msg: bindings::msghdr = unsafe { core::mem::zeroed() };
                let mut vec = bindings::kvec {
                    iov_base: buf.as_mut_ptr().cast(),
                    iov_len: buf.len(),
                };
                // SAFETY: `self.sock` is a socket; `msg`, `vec` and `buf` are valid for the call.
                let ret = unsafe {
                    bindings::kernel_recvmsg(
                        self.sock,
                        &mut msg,
                        &mut vec,
                        1,
                        buf.len(),
                        bindings::MSG_DONTWAIT as c_int,
                    )
                };
                if ret >= 0 {
                    return Ok(ret as usize);
                }
                if ret != EAGAIN.to_errno() {
                    return Err(Error::from_errno(ret));
                }
                fsleep(Delta::from_millis(1));
            }
            Err(EAGAIN)
        }
    }

    impl Drop for Udp {
        fn drop(&mut self) {
            // SAFETY: `self.sock` was created by `new` and is not used after this.
            unsafe { bindings::sock_release(self.sock) };
        }
    }

    fn payload_byte(i: usize) -> u8 {
        (i % 247) as u8 ^ 0x5a
    }

    fn payload(len: usize) -> Result<KVec<u8>> {
        let mut v = KVec::with_capacity(len, GFP_KERNEL)?;
        for i in 0..len {
            v.push(payload_byte(i), GFP_KERNEL)?;
        }
        Ok(v)
    }

    /// Returns the destination port of a UDP packet, and the offset of its payload.
    fn udp_dest(skb: &SkBuff) -> Option<(u16, usize)> {
        let mut head = [0u8; 48];
        let n = skb.copy_prefix(&mut head);
        let head = head.get(..n)?;
        let (proto, udp_at) = match head.first()? >> 4 {
            4 => (*head.get(9)?, usize::from(head.first()? & 0xf) * 4),
            6 => (*head.get(6)?, 40),
            _ => return None,
        };
        if u32::from(proto) != bindings::IPPROTO_UDP {
            return None;
        }
        let port = head.get(udp_at + 2..udp_at + 4)?;
        Some((u16::from_be_bytes([port[0], port[1]]), udp_at + 8))
    }

    /// What a [`PortFilter`] saw of the last packet to its port.
    struct Seen {
        /// Packets to the port.
        packets: Atomic<u32>,
        /// A counter shared by hooks, to see the order they ran in.
        clock: Arc<Atomic<u32>>,
        /// The value of `clock` when this hook last saw a packet.
        at: Atomic<u32>,
        len: Atomic<u32>,
        linear_len: Atomic<u32>,
        protocol: Atomic<u32>,
        family: Atomic<u32>,
        in_ifindex: Atomic<i32>,
        out_ifindex: Atomic<i32>,
        right_point: Atomic<bool>,
        /// The payload had the expected bytes, read with `copy_bits()`.
        payload_ok: Atomic<bool>,
        /// `copy_bits()` refused to read beyond the end.
        bounded: Atomic<bool>,
    }

    /// Counts and records the UDP packets to `port`, and accepts or drops them.
    struct PortFilter {
        port: u16,
        point: HookPoint,
        drop: Atomic<bool>,
        seen: Seen,
    }

    fn filter(port: u16, point: HookPoint, clock: &Arc<Atomic<u32>>) -> PortFilter {
        PortFilter {
            port,
            point,
            drop: Atomic::new(false),
            seen: Seen {
                packets: Atomic::new(0),
                clock: clock.clone(),
                at: Atomic::new(0),
                len: Atomic::new(0),
                linear_len: Atomic::new(0),
                protocol: Atomic::new(0),
                family: Atomic::new(0),
                in_ifindex: Atomic::new(-1),
                out_ifindex: Atomic::new(-1),
                right_point: Atomic::new(false),
                payload_ok: Atomic::new(false),
                bounded: Atomic::new(false),
            },
        }
    }

    impl Hook for PortFilter {
        fn hook(&self, skb: &SkBuff, state: &HookState<'_>) -> Verdict {
            let Some((port, payload_at)) = udp_dest(skb) else {
                return Verdict::Accept;
            };
            if port != self.port {
                return Verdict::Accept;
            }
            let seen = &self.seen;
            seen.packets.fetch_add(1, Relaxed);
            seen.at.store(seen.clock.fetch_add(1, Relaxed) + 1, Relaxed);
            seen.len.store(skb.len(), Relaxed);
            seen.linear_len.store(skb.linear_len(), Relaxed);
            seen.protocol.store(skb.protocol().into(), Relaxed);
            let family = match state.family() {
                Some(Family::Ipv4) => 4,
                Some(Family::Ipv6) => 6,
                _ => 0,
            };
            seen.family.store(family, Relaxed);
            seen.in_ifindex
                .store(state.in_ifindex().unwrap_or(0), Relaxed);
            seen.out_ifindex
                .store(state.out_ifindex().unwrap_or(0), Relaxed);
            seen.right_point
                .store(state.hook_point() == Some(self.point), Relaxed);
            // Read the whole payload back, in chunks, wherever the stack put it.
            let mut ok = true;
            let mut chunk = [0u8; 64];
            let mut at = payload_at;
            while at < skb.len() as usize {
                let n = chunk.len().min(skb.len() as usize - at);
                if skb.copy_bits(at, &mut chunk[..n]).is_err()
                    || (0..n).any(|i| chunk[i] != payload_byte(at - payload_at + i))
                {
                    ok = false;
                    break;
                }
                at += n;
            }
            seen.payload_ok.store(ok, Relaxed);
            let mut two = [0u8; 2];
            seen.bounded.store(
                skb.copy_bits(skb.len() as usize - 1, &mut two) == Err(EINVAL),
                Relaxed,
            );
            if self.drop.load(Relaxed) {
                Verdict::Drop
            } else {
                Verdict::Accept
            }
        }
    }

    fn register(
        family: Family,
        point: HookPoint,
        priority: i32,
        filter: PortFilter,
    ) -> Result<Pin<KBox<Registration<PortFilter>>>> {
        KBox::pin_init(
            Registration::register(family, point, priority, filter),
            GFP_KERNEL,
        )
    }

    #[test]
    fn local_out_hook_sees_accepts_and_drops_ipv4() -> Result {
        loopback_up()?;
        const PORT: u16 = 47001;
        let clock = Arc::new(Atomic::new(0), GFP_KERNEL)?;
        let rx = Udp::new(false)?;
        rx.bind(PORT)?;
        let tx = Udp::new(false)?;
        let data = payload(100)?;
        let mut buf = [0u8; 200];

        let reg = register(
            Family::Ipv4,
            HookPoint::LocalOut,
            PRIORITY_FILTER,
            filter(PORT, HookPoint::LocalOut, &clock),
        )?;
        assert_eq!(reg.family(), Family::Ipv4);
        assert_eq!(reg.hook_point(), HookPoint::LocalOut);
        assert_eq!(reg.priority(), 0);
        let seen = &reg.hook().seen;

        // Accepted: sent, seen once, delivered.
        assert_eq!(tx.send(PORT, &data)?, 100);
        assert_eq!(seen.packets.load(Relaxed), 1);
        assert_eq!(rx.recv(&mut buf, 1000)?, 100);
        assert_eq!(buf[..100], data[..]);
        assert_eq!(seen.len.load(Relaxed), 20 + 8 + 100);
        assert_eq!(seen.linear_len.load(Relaxed), 20 + 8 + 100);
        assert_eq!(seen.protocol.load(Relaxed), u32::from(ETH_P_IP));
        assert_eq!(seen.family.load(Relaxed), 4);
        assert_eq!(seen.in_ifindex.load(Relaxed), 0);
        assert_eq!(seen.out_ifindex.load(Relaxed), LO_IFINDEX);
        assert!(seen.right_point.load(Relaxed));
        assert!(seen.payload_ok.load(Relaxed));
        assert!(seen.bounded.load(Relaxed));

        // Dropped: the sender gets EPERM, nothing arrives.
        reg.hook().drop.store(true, Relaxed);
        assert_eq!(tx.send(PORT, &data), Err(EPERM));
        assert_eq!(seen.packets.load(Relaxed), 2);
        assert_eq!(rx.recv(&mut buf, 50), Err(EAGAIN));
        // Other ports are not the hook's business.
        assert_eq!(tx.send(PORT + 1, &data)?, 100);
        assert_eq!(seen.packets.load(Relaxed), 2);

        // Unregistered: the traffic passes again.
        drop(reg);
        assert_eq!(tx.send(PORT, &data)?, 100);
        assert_eq!(rx.recv(&mut buf, 1000)?, 100);
        Ok(())
    }

    #[test]
    fn local_in_hook_drops_before_delivery() -> Result {
        loopback_up()?;
        const PORT: u16 = 47011;
        let clock = Arc::new(Atomic::new(0), GFP_KERNEL)?;
        let rx = Udp::new(false)?;
        rx.bind(PORT)?;
        let tx = Udp::new(false)?;
        let data = payload(10)?;
        let mut buf = [0u8; 64];

        let reg = register(
            Family::Ipv4,
            HookPoint::LocalIn,
            PRIORITY_FILTER,
            filter(PORT, HookPoint::LocalIn, &clock),
        )?;
        reg.hook().drop.store(true, Relaxed);
        let seen = &reg.hook().seen;
        // The way out is open, so the sender succeeds; the packet dies on the way in.
        assert_eq!(tx.send(PORT, &data)?, 10);
        assert_eq!(rx.recv(&mut buf, 200), Err(EAGAIN));
        assert_eq!(seen.packets.load(Relaxed), 1);
        assert_eq!(seen.in_ifindex.load(Relaxed), LO_IFINDEX);
        assert_eq!(seen.out_ifindex.load(Relaxed), 0);
        assert!(seen.right_point.load(Relaxed));
        assert!(seen.payload_ok.load(Relaxed));

        reg.hook().drop.store(false, Relaxed);
        assert_eq!(tx.send(PORT, &data)?, 10);
        assert_eq!(rx.recv(&mut buf, 1000)?, 10);
        assert_eq!(seen.packets.load(Relaxed), 2);
        Ok(())
    }

    #[test]
    fn a_paged_packet_is_read_whole() -> Result {
        loopback_up()?;
        const PORT: u16 = 47021;
        const LEN: usize = 20000;
        let clock = Arc::new(Atomic::new(0), GFP_KERNEL)?;
        let rx = Udp::new(false)?;
        rx.bind(PORT)?;
        let tx = Udp::new(false)?;
        let data = payload(LEN)?;
        let reg = register(
            Family::Ipv4,
            HookPoint::LocalOut,
            PRIORITY_FILTER,
            filter(PORT, HookPoint::LocalOut, &clock),
        )?;
        let seen = &reg.hook().seen;
        assert_eq!(tx.send(PORT, &data)?, LEN);
        assert_eq!(seen.packets.load(Relaxed), 1);
        assert_eq!(seen.len.load(Relaxed) as usize, 20 + 8 + LEN);
        // Too big for one linear buffer: most of it is in page fragments, and still read right.
        assert!((seen.linear_len.load(Relaxed) as usize) < LEN);
        assert!(seen.payload_ok.load(Relaxed));
        assert!(seen.bounded.load(Relaxed));
        let mut buf = KVec::new();
        buf.resize(LEN + 1, 0u8, GFP_KERNEL)?;
        assert_eq!(rx.recv(&mut buf, 1000)?, LEN);
        Ok(())
    }

    #[test]
    fn hooks_run_by_priority_and_a_drop_stops_the_rest() -> Result {
        loopback_up()?;
        const PORT: u16 = 47031;
        let clock = Arc::new(Atomic::new(0), GFP_KERNEL)?;
        let tx = Udp::new(false)?;
        // Registered in the opposite order of their priorities, with the same hook type: each
        // registration reaches its own hook through its private data.
        let late = register(
            Family::Ipv4,
            HookPoint::LocalOut,
            10,
            filter(PORT, HookPoint::LocalOut, &clock),
        )?;
        let early = register(
            Family::Ipv4,
            HookPoint::LocalOut,
            -10,
            filter(PORT, HookPoint::LocalOut, &clock),
        )?;
        assert_eq!(tx.send(PORT, b"x")?, 1);
        assert_eq!(early.hook().seen.at.load(Relaxed), 1);
        assert_eq!(late.hook().seen.at.load(Relaxed), 2);

        early.hook().drop.store(true, Relaxed);
        assert_eq!(tx.send(PORT, b"x"), Err(EPERM));
        assert_eq!(early.hook().seen.packets.load(Relaxed), 2);
        assert_eq!(late.hook().seen.packets.load(Relaxed), 1);

        // Without the first, the second sees the traffic again.
        drop(early);
        assert_eq!(tx.send(PORT, b"x")?, 1);
        assert_eq!(late.hook().seen.packets.load(Relaxed), 2);
        Ok(())
    }

    #[cfg(CONFIG_IPV6)]
    #[test]
    fn an_inet_hook_sees_ipv4_and_ipv6() -> Result {
        loopback_up()?;
        const PORT: u16 = 47051;
        let clock = Arc::new(Atomic::new(0), GFP_KERNEL)?;
        let (rx4, rx6) = (Udp::new(false)?, Udp::new(true)?);
        rx4.bind(PORT)?;
        rx6.bind(PORT)?;
        let (tx4, tx6) = (Udp::new(false)?, Udp::new(true)?);
        let data = payload(32)?;
        let mut buf = [0u8; 64];
        let reg = register(
            Family::Inet,
            HookPoint::LocalOut,
            PRIORITY_FILTER,
            filter(PORT, HookPoint::LocalOut, &clock),
        )?;
        let seen = &reg.hook().seen;

        assert_eq!(tx6.send(PORT, &data)?, 32);
        assert_eq!(seen.packets.load(Relaxed), 1);
        assert_eq!(seen.family.load(Relaxed), 6);
        assert_eq!(seen.protocol.load(Relaxed), u32::from(ETH_P_IPV6));
        assert_eq!(seen.len.load(Relaxed), 40 + 8 + 32);
        assert!(seen.payload_ok.load(Relaxed));
        assert_eq!(rx6.recv(&mut buf, 1000)?, 32);

        assert_eq!(tx4.send(PORT, &data)?, 32);
        assert_eq!(seen.packets.load(Relaxed), 2);
        assert_eq!(seen.family.load(Relaxed), 4);
        assert_eq!(rx4.recv(&mut buf, 1000)?, 32);

        reg.hook().drop.store(true, Relaxed);
        assert_eq!(tx6.send(PORT, &data), Err(EPERM));
        assert_eq!(tx4.send(PORT, &data), Err(EPERM));
        assert_eq!(seen.packets.load(Relaxed), 4);
        drop(reg);

        // An IPv6 hook does not see IPv4.
        let reg6 = register(
            Family::Ipv6,
            HookPoint::LocalOut,
            PRIORITY_FILTER,
            filter(PORT, HookPoint::LocalOut, &clock),
        )?;
        assert_eq!(tx4.send(PORT, &data)?, 32);
        assert_eq!(tx6.send(PORT, &data)?, 32);
        assert_eq!(reg6.hook().seen.packets.load(Relaxed), 1);
        assert_eq!(reg6.hook().seen.family.load(Relaxed), 6);
        Ok(())
    }

    #[test]
    fn constants_match_c() {
        assert_eq!(PRIORITY_FIRST, i32::MIN);
        assert_eq!(PRIORITY_FILTER, 0);
        assert_eq!(PRIORITY_LAST, i32::MAX);
        assert_eq!(Verdict::Accept.as_raw(), 1);
        assert_eq!(Verdict::Drop.as_raw(), 0);
        for point in [
            HookPoint::PreRouting,
            HookPoint::LocalIn,
            HookPoint::Forward,
            HookPoint::LocalOut,
            HookPoint::PostRouting,
        ] {
            assert_eq!(HookPoint::from_raw(point.as_raw()), Some(point));
        }
        assert_eq!(HookPoint::LocalIn.as_raw(), 1);
        for family in [Family::Ipv4, Family::Ipv6, Family::Inet] {
            assert_eq!(Family::from_raw(family.as_raw()), Some(family));
        }
        assert_eq!(Family::Ipv4.as_raw(), 2);
        assert_eq!(Family::Ipv6.as_raw(), 10);
    }
}
