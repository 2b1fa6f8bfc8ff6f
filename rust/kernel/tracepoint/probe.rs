// SPDX-License-Identifier: GPL-2.0

//! Probes attached to tracepoints.
//!
//! A tracepoint calls the probes attached to it with its arguments each time the code it sits in
//! passes it. Each tracepoint has its own prototype, and a probe must have exactly that type:
//! the call is indirect, and with kCFI a probe of another type is a fatal CFI failure rather than
//! a silent mismatch. So probes are not attached to tracepoints by name here; each supported
//! tracepoint is a type implementing [`Tracepoint`] (see [`super::sched`]), whose C trampoline
//! has the tracepoint's prototype, is registered through the tracepoint's own typed
//! `register_trace_<name>()`, and turns the raw arguments into a safe event for the [`Probe`].
//!
//! A [`Registration`] attaches a probe, with a pointer to itself as the probe's data, so no
//! global table is needed; dropping it detaches the probe and waits until no call to it runs.
//!
//! # Context
//!
//! A probe runs synchronously in the context of the event, on the CPU where it happens, inside
//! the tracepoint's read-side critical section; other CPUs may run it at the same time. Many
//! tracepoints fire with preemption or interrupts disabled, and the tracepoint API requires
//! that probes never sleep: a probe must not block, take a mutex or allocate with `GFP_KERNEL`,
//! and should be quick, since it delays the traced code.
//!
//! C header: [`include/linux/tracepoint.h`](srctree/include/linux/tracepoint.h)

use crate::{
    bindings,
    error::{to_result, Error},
    ffi::{c_int, c_void},
    prelude::{pin_data, pinned_drop, try_pin_init, PinInit},
    str::CStr,
};
use core::{
    marker::{PhantomData, PhantomPinned},
    pin::Pin,
    ptr,
};

mod private {
    pub trait Sealed {}
}

pub(crate) use private::Sealed;

/// A tracepoint that probes can be attached to.
///
/// Implemented only by this crate, for the tracepoints whose prototypes it knows (see
/// [`super::sched`]).
pub trait Tracepoint: Sealed + Sized + 'static {
    /// What a probe of this tracepoint receives for an event: the tracepoint's arguments as safe
    /// values, borrowed for the duration of the call where they borrow from the event.
    type Event<'a>;

    /// The tracepoint's name, as in `/sys/kernel/tracing/events/`.
    const NAME: &'static CStr;

    /// The C type of the tracepoint's probes: `void (*)(void *data, <the tracepoint's
    /// arguments>)`.
    #[doc(hidden)]
    type Func: Copy + Send + Sync + 'static;

    /// Returns the trampoline that calls probes of type `P`, with the tracepoint's prototype.
    #[doc(hidden)]
    fn trampoline<P: Probe<Self>>() -> Self::Func;

    /// Attaches `func` to the tracepoint, with `data` as its data.
    ///
    /// Returns 0 or a negative errno (`-ENOSYS` when the kernel has no tracepoints).
    ///
    /// # Safety
    ///
    /// `func` must be `Self::trampoline::<P>()` and `data` point to a `P` that stays valid and
    /// pinned until [`Tracepoint::unregister`] has been called for the pair and
    /// `tracepoint_synchronize_unregister()` has returned; the pair must not be attached
    /// already.
    #[doc(hidden)]
    unsafe fn register(func: Self::Func, data: *mut c_void) -> c_int;

    /// Detaches `func` attached with `data`.
    ///
    /// # Safety
    ///
    /// The pair must have been attached by [`Tracepoint::register`] and not detached since.
    #[doc(hidden)]
    unsafe fn unregister(func: Self::Func, data: *mut c_void);
}

/// A probe for the events of tracepoint `T`.
///
/// A type may implement it for several tracepoints; each [`Registration`] attaches it to one.
pub trait Probe<T: Tracepoint>: Send + Sync + 'static {
    /// Handles one event.
    ///
    /// Called in the context of the event, which must not sleep (see the
    /// [module documentation](self)), possibly on several CPUs at once; the first call may come
    /// before [`Registration::register`] has returned.
    fn probe(&self, event: &T::Event<'_>);
}

/// Declares a [`Tracepoint`]: a marker type, and the trampoline with the tracepoint's prototype
/// that builds the event from the raw arguments with `$event` (a block over the arguments, whose
/// `unsafe` parts the caller justifies) and calls the probe.
///
/// The trampoline's type is checked against the prototype by the C compiler: it is passed to
/// helpers that take it as the probe argument of the tracepoint's `register_trace_<name>()` and
/// `unregister_trace_<name>()`.
macro_rules! declare_tracepoint {
    (
        $(#[$attr:meta])*
        $vis:vis $tp:ident = $name:ident($($arg:ident: $ty:ty),* $(,)?)
            -> for<$lt:lifetime> $event_ty:ty $event:block
    ) => {
        $(#[$attr])*
        $vis enum $tp {}

        impl $crate::tracepoint::probe::Sealed for $tp {}

        impl $crate::tracepoint::probe::Tracepoint for $tp {
            type Event<$lt> = $event_ty;

            const NAME: &'static $crate::str::CStr = $crate::c_str!(::core::stringify!($name));

            type Func = ::core::option::Option<
                unsafe extern "C" fn(*mut $crate::ffi::c_void, $($ty),*),
            >;

            fn trampoline<P: $crate::tracepoint::probe::Probe<Self>>() -> Self::Func {
                /// Calls the probe, with the tracepoint's prototype.
                ///
                /// # Safety
                ///
                /// Called by the tracepoint only, with the data it was attached with: a pointer
                /// to a `P` that stays valid until this returns; the arguments are the
                /// tracepoint's, valid for the call.
                unsafe extern "C" fn trampoline<P: $crate::tracepoint::probe::Probe<$tp>>(
                    data: *mut $crate::ffi::c_void,
                    $($arg: $ty),*
                ) {
                    // SAFETY: `data` points to a live `P` (function safety requirements), only
                    // ever accessed through shared references once attached.
                    let probe = unsafe { &*data.cast_const().cast::<P>() };
                    let event = $event;
                    probe.probe(&event);
                }
                Some(trampoline::<P>)
            }

            unsafe fn register(
                func: Self::Func,
                data: *mut $crate::ffi::c_void,
            ) -> $crate::ffi::c_int {
                $crate::macros::paste! {
                    // SAFETY: `func` has the tracepoint's prototype (the helper's parameter type
                    // makes the C compiler check it); the caller guarantees that `data` stays
                    // valid until the probe is detached and synchronised.
                    unsafe { $crate::bindings::[<register_trace_ $name>](func, data) }
                }
            }

            unsafe fn unregister(func: Self::Func, data: *mut $crate::ffi::c_void) {
                $crate::macros::paste! {
                    // SAFETY: the caller guarantees that the pair is attached. Detaching an
                    // attached probe does not fail (the tracepoint code falls back to a stub
                    // when memory is short), so the result carries no information.
                    let _ = unsafe { $crate::bindings::[<unregister_trace_ $name>](func, data) };
                }
            }
        }
    };
}

pub(crate) use declare_tracepoint;

/// The registration of a [`Probe`] with tracepoint `T`.
///
/// Created in place, pinned, by [`Registration::register`]: the tracepoint is given a pointer to
/// the probe inside the registration as the probe's data. Dropping the registration detaches
/// the probe and waits (`tracepoint_synchronize_unregister()`) until no call to it is running,
/// so the probe outlives every call to it. Dropping sleeps: it must not happen in a probe.
///
/// # Invariants
///
/// From the end of its initialisation until it is dropped, `func`, which is
/// `T::trampoline::<P>()`, is attached to `T` with a pointer to `self.probe` as its data.
#[pin_data(PinnedDrop)]
pub struct Registration<T: Tracepoint, P: Probe<T>> {
    /// The function attached, `T::trampoline::<P>()`, as detaching needs the same pointer.
    func: T::Func,
    #[pin]
    probe: P,
    /// The tracepoint keeps a pointer to `probe`.
    #[pin]
    _pin: PhantomPinned,
    _tracepoint: PhantomData<fn() -> T>,
}

impl<T: Tracepoint, P: Probe<T>> Registration<T, P> {
    /// Attaches `probe` to tracepoint `T`.
    ///
    /// The probe is initialised first, as it may be called as soon as it is attached. Fails
    /// with `ENOSYS` if the kernel has no tracepoints (`CONFIG_TRACEPOINTS`), `ENOMEM` if memory
    /// runs out, and with the error of `probe`; then nothing stays attached and the probe, if
    /// initialised, is dropped.
    pub fn register<E>(probe: impl PinInit<P, E>) -> impl PinInit<Self, Error>
    where
        Error: From<E>,
    {
        // Named apart from the field: inside the initialiser, `func` refers to the field.
        let attached = T::trampoline::<P>();
        try_pin_init!(&this in Self {
            func: attached,
            probe <- probe,
            _pin: PhantomPinned,
            _tracepoint: PhantomData,
            // Last: the probe may be called as soon as it is attached.
            _: {
                // SAFETY: `this` points to the registration being initialised; no reference
                // is created.
                let data = unsafe { ptr::addr_of_mut!((*this.as_ptr()).probe) };
                // SAFETY: `attached` is `T::trampoline::<P>()`, and `data` points to the
                // initialised, pinned probe, which is detached in `drop` (or never attached, if
                // this fails) before it goes away; a new registration has a new address, so the
                // pair is not attached yet.
                // INVARIANT: attached with a pointer to `self.probe` if this succeeds. If it
                // fails, nothing was attached, and the initialiser drops the probe.
                to_result(unsafe { T::register(attached, data.cast()) })?;
            },
        })
    }

    /// The probe.
    pub fn probe(&self) -> &P {
        &self.probe
    }
}

#[pinned_drop]
impl<T: Tracepoint, P: Probe<T>> PinnedDrop for Registration<T, P> {
    fn drop(self: Pin<&mut Self>) {
        let data = ptr::from_ref(&self.probe).cast_mut();
        // SAFETY: by the type invariant, `self.func` is attached with a pointer to `self.probe`;
        // this detaches it, once.
        unsafe { T::unregister(self.func, data.cast()) };
        // SAFETY: called from a sleepable context (documented on the type). When it returns, no
        // call of the probe runs, and `self.probe` can be dropped.
        unsafe { bindings::tracepoint_synchronize_unregister() };
    }
}
