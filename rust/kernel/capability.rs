// SPDX-License-Identifier: GPL-2.0

//! POSIX capabilities.
//!
//! C headers: [`include/linux/capability.h`](srctree/include/linux/capability.h) and
//! [`include/uapi/linux/capability.h`](srctree/include/uapi/linux/capability.h).

use crate::bindings;

/// A POSIX capability, one of the `CAP_*` values.
///
/// # Invariants
///
/// The value is a capability number the kernel knows, at most `CAP_LAST_CAP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability(u32);

impl Capability {
    /// `CAP_NET_ADMIN`: network administration.
    // INVARIANT: a `CAP_*` constant.
    pub const NET_ADMIN: Self = Self(bindings::CAP_NET_ADMIN);
    /// `CAP_SYS_ADMIN`: system administration.
    // INVARIANT: a `CAP_*` constant.
    pub const SYS_ADMIN: Self = Self(bindings::CAP_SYS_ADMIN);

    /// Returns the capability with number `raw`, if the kernel knows it.
    pub const fn from_raw(raw: u32) -> Option<Self> {
        if raw <= bindings::CAP_LAST_CAP {
            // INVARIANT: checked just above.
            Some(Self(raw))
        } else {
            None
        }
    }

    /// Returns the capability number, as C's `int cap` arguments take it.
    pub const fn as_raw(self) -> i32 {
        // The type invariant bounds the value by `CAP_LAST_CAP`, far below `i32::MAX`.
        self.0 as i32
    }
}

/// Returns whether the current task has `cap` in the initial user namespace.
///
/// This is C's `capable()`, and like it marks the task as having used the
/// capability (`PF_SUPERPRIV`) when it returns `true`.
///
/// # Examples
///
/// ```
/// use kernel::capability::{capable, Capability};
///
/// fn may_reconfigure() -> Result {
///     if !capable(Capability::SYS_ADMIN) {
///         return Err(EPERM);
///     }
///     Ok(())
/// }
/// # let _ = may_reconfigure();
/// ```
pub fn capable(cap: Capability) -> bool {
    #[cfg(CONFIG_MULTIUSER)]
    {
        // SAFETY: `capable()` may be called from any task context; it BUG()s on a number
        // that is not a capability, and `as_raw` returns one by the type invariant.
        unsafe { bindings::capable(cap.as_raw()) }
    }
    #[cfg(not(CONFIG_MULTIUSER))]
    {
        // Without multi-user support every task has every capability, as the C inline says.
        let _ = cap;
        true
    }
}
