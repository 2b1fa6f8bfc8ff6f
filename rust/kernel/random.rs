// SPDX-License-Identifier: GPL-2.0

//! Random numbers from the kernel's cryptographically secure generator.
//!
//! These never sleep and may be called in any context, atomic context included.
//!
//! C header: [`include/linux/random.h`](srctree/include/linux/random.h)

use crate::bindings;

/// Fills `buf` with random bytes.
///
/// # Examples
///
/// ```
/// use kernel::random;
///
/// let mut a = [0u8; 32];
/// let mut b = [0u8; 32];
/// random::fill_bytes(&mut a);
/// random::fill_bytes(&mut b);
/// // Two draws of 256 bits agree with probability 2^-256.
/// assert_ne!(a, b);
/// ```
#[inline]
pub fn fill_bytes(buf: &mut [u8]) {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes; `get_random_bytes()` may be
    // called in any context.
    unsafe { bindings::get_random_bytes(buf.as_mut_ptr().cast(), buf.len()) }
}

/// Returns a random `u32`.
#[inline]
pub fn u32() -> u32 {
    // SAFETY: `get_random_u32()` may be called in any context.
    unsafe { bindings::get_random_u32() }
}

/// Returns a random `u64`.
///
/// # Examples
///
/// ```
/// use kernel::random;
///
/// // Four draws of 64 bits are not all equal, but with probability 2^-192.
/// let draws = [random::u64(), random::u64(), random::u64(), random::u64()];
/// assert!(draws.iter().any(|&d| d != draws[0]));
/// ```
#[inline]
pub fn u64() -> u64 {
    // SAFETY: `get_random_u64()` may be called in any context.
    unsafe { bindings::get_random_u64() }
}
