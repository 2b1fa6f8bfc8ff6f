// SPDX-License-Identifier: GPL-2.0

//! Notification of closed connector sockets.
//!
//! The connector does not tell its users when a client's socket goes away. This is a netlink
//! notifier (`netlink_register_notifier()`) filtered to `NETLINK_CONNECTOR` sockets, for services
//! that keep state per client.
//!
//! C header: [`include/linux/netlink.h`](srctree/include/linux/netlink.h)

use crate::{
    bindings,
    error::{to_result, Error},
    ffi::{c_int, c_ulong, c_void},
    prelude::{pin_data, pinned_drop, try_pin_init, PinInit},
    types::Opaque,
};
use core::{pin::Pin, ptr};

/// Told when a connector socket is closed.
///
/// State a service keeps for a client (uploads in progress, objects it asked to be cleaned up
/// after it) can be dropped when the client's socket goes away, even if the client was killed
/// without saying goodbye.
pub trait ReleaseHandler: Send + Sync + 'static {
    /// The socket with netlink port id `port_id` was closed: the port id is the
    /// [`Sender::port_id`](super::Sender::port_id) of its messages. Called in process context;
    /// may sleep.
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
        try_pin_init!(Self {
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
    event: c_ulong,
    data: *mut c_void,
) -> c_int {
    if event != bindings::NETLINK_URELEASE as c_ulong || data.is_null() {
        return bindings::NOTIFY_DONE as c_int;
    }
    // SAFETY: For `NETLINK_URELEASE`, `data` points to a valid `struct netlink_notify`
    // (function safety requirements).
    let notify = unsafe { &*data.cast::<bindings::netlink_notify>() };
    if notify.protocol != bindings::NETLINK_CONNECTOR as c_int
        || !ptr::eq(notify.net, ptr::addr_of!(bindings::init_net))
    {
        return bindings::NOTIFY_DONE as c_int;
    }
    let notifier = nb.cast::<Opaque<bindings::notifier_block>>();
    // SAFETY: `nb` is the `notifier` field of a registered `ReleaseNotifier<T>` (function
    // safety requirements), which stays alive while it is registered.
    let this = unsafe { &*crate::container_of!(notifier, ReleaseNotifier<T>, notifier) };
    this.handler.released(notify.portid);
    bindings::NOTIFY_DONE as c_int
}
