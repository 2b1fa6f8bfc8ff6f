// SPDX-License-Identifier: GPL-2.0

//! Kernel-mode floating point on x86_64.
//!
//! C header: [`arch/x86/include/asm/fpu/api.h`](srctree/arch/x86/include/asm/fpu/api.h)
//!
//! Rust code in the kernel is built for a soft-float target: `f32` and `f64` arithmetic
//! compiles to calls of integer routines, and no FPU or SSE state is ever touched. Code that
//! does a lot of float arithmetic (an interpreter of a language with floats, for example) can
//! instead open a [`Section`], the Rust form of `kernel_fpu_begin()`/`kernel_fpu_end()`, and
//! run the basic IEEE 754 operations on SSE2 inside it.
//!
//! A section disables preemption and softirq processing until it is dropped, so it must be
//! short and must not contain anything that may sleep. Sections do not nest.
//!
//! The section loads the default MXCSR: round to nearest, ties to even, exceptions masked,
//! denormals neither flushed nor treated as zero. So every operation here is correctly
//! rounded, and its result is bit-for-bit the result of the soft-float routine for the same
//! operation unless it is a NaN: IEEE 754 leaves the sign and payload of NaN results open,
//! and SSE's (the negative "default NaN" for invalid operations, for example) differ from
//! the soft-float routines'. Callers needing identical NaNs check for a NaN result and redo
//! the operation in soft float.

use core::{arch::asm, cmp::Ordering};

use crate::{bindings, types::NotThreadSafe};

/// An open kernel-mode FPU section on the current CPU.
///
/// Created by [`Section::try_begin`]; ends (`kernel_fpu_end()`) when dropped. Preemption and
/// softirqs are disabled while it lives.
///
/// # Invariants
///
/// `kernel_fpu_begin()` was called on this CPU when the section was created, and
/// `kernel_fpu_end()` was not called since: the SSE registers and MXCSR belong to the section.
///
/// # Examples
///
/// ```
/// use kernel::fpu::Section;
///
/// fn scale(values: &mut [u64], factor: f64) {
///     for chunk in values.chunks_mut(64) {
///         // One short section per chunk keeps preemption latency bounded.
///         let Some(fpu) = Section::try_begin() else {
///             return;
///         };
///         for v in chunk {
///             *v = fpu.mul_f64(f64::from_bits(*v), factor).to_bits();
///         }
///     }
/// }
///
/// let mut v = [3.0f64.to_bits(), 0.5f64.to_bits()];
/// scale(&mut v, 2.0);
/// assert_eq!(v, [6.0f64.to_bits(), 1.0f64.to_bits()]);
/// ```
pub struct Section {
    /// `kernel_fpu_end()` must run on the CPU that began the section.
    _not_send: NotThreadSafe,
}

impl Section {
    /// Begins a section, or returns `None` where the FPU cannot be used: in NMI context, in a
    /// hard interrupt that interrupted a section or a softirq-disabled region, or inside
    /// another section.
    #[inline]
    pub fn try_begin() -> Option<Self> {
        // SAFETY: FFI call without preconditions.
        if !unsafe { bindings::irq_fpu_usable() } {
            return None;
        }
        // SAFETY: the FPU is usable in this context, as just checked (the
        // `kernel_fpu_begin()` inline of the C header, for x86_64).
        unsafe { bindings::kernel_fpu_begin_mask(bindings::KFPU_MXCSR) };
        // INVARIANT: the section has just begun.
        Some(Self {
            _not_send: NotThreadSafe,
        })
    }

    /// Converts `x` to the nearest `f64` (ties to even).
    #[inline]
    pub fn i64_to_f64(&self, x: i64) -> f64 {
        let r: u64;
        // SAFETY: as in the comparisons (`compare!`).
        unsafe {
            asm!(
                "cvtsi2sd xmm0, {x}",
                "movq {r}, xmm0",
                x = in(reg) x,
                r = lateout(reg) r,
                out("xmm0") _,
                options(pure, nomem, nostack),
            )
        };
        f64::from_bits(r)
    }

    /// Converts `x` to the nearest `f32` (ties to even).
    #[inline]
    pub fn i64_to_f32(&self, x: i64) -> f32 {
        let r: u32;
        // SAFETY: as in the comparisons (`compare!`).
        unsafe {
            asm!(
                "cvtsi2ss xmm0, {x}",
                "movd {r:e}, xmm0",
                x = in(reg) x,
                r = lateout(reg) r,
                out("xmm0") _,
                options(pure, nomem, nostack),
            )
        };
        f32::from_bits(r)
    }
}

/// `compare_*`'s result from `ucomisd`'s flags: PF (unordered), CF = ZF = 0 (above), ZF.
#[inline]
fn order(unordered: u8, above: u8, equal: u8) -> Option<Ordering> {
    if unordered != 0 {
        None
    } else if above != 0 {
        Some(Ordering::Greater)
    } else if equal != 0 {
        Some(Ordering::Equal)
    } else {
        Some(Ordering::Less)
    }
}

/// Defines `Section` methods comparing two operands with one SSE instruction.
macro_rules! compare {
    ($($(#[$doc:meta])* $name:ident: $ty:ty, $mov:literal, $m:literal, $insn:literal;)*) => {
        impl Section {$(
            $(#[$doc])*
            #[inline]
            pub fn $name(&self, a: $ty, b: $ty) -> Option<Ordering> {
                let (unordered, above, equal): (u8, u8, u8);
                // SAFETY: by the type invariant the SSE registers are ours until the section
                // ends. The instructions access no memory and cannot fault with exceptions
                // masked.
                unsafe {
                    asm!(
                        concat!($mov, " xmm0, {a", $m, "}"),
                        concat!($mov, " xmm1, {b", $m, "}"),
                        concat!($insn, " xmm0, xmm1"),
                        "setp {unordered}",
                        "seta {above}",
                        "sete {equal}",
                        a = in(reg) a.to_bits(),
                        b = in(reg) b.to_bits(),
                        unordered = out(reg_byte) unordered,
                        above = out(reg_byte) above,
                        equal = out(reg_byte) equal,
                        out("xmm0") _,
                        out("xmm1") _,
                        options(pure, nomem, nostack),
                    )
                };
                order(unordered, above, equal)
            }
        )*}
    };
}

/// Defines `Section` methods running one SSE instruction on two operands.
macro_rules! binary {
    ($($(#[$doc:meta])* $name:ident: $ty:ty, $bits:ty,
       $mov:literal, $m:literal, $insn:literal;)*) => {
        impl Section {$(
            $(#[$doc])*
            #[inline]
            pub fn $name(&self, a: $ty, b: $ty) -> $ty {
                let r: $bits;
                // SAFETY: as in the comparisons (`compare!`).
                unsafe {
                    asm!(
                        concat!($mov, " xmm0, {a", $m, "}"),
                        concat!($mov, " xmm1, {b", $m, "}"),
                        concat!($insn, " xmm0, xmm1"),
                        concat!($mov, " {r", $m, "}, xmm0"),
                        a = in(reg) a.to_bits(),
                        b = in(reg) b.to_bits(),
                        r = lateout(reg) r,
                        out("xmm0") _,
                        out("xmm1") _,
                        options(pure, nomem, nostack),
                    )
                };
                <$ty>::from_bits(r)
            }
        )*}
    };
}

/// Defines `Section` methods running one SSE instruction on one operand.
macro_rules! unary {
    ($($(#[$doc:meta])* $name:ident: $ty:ty, $bits:ty,
       $mov:literal, $m:literal, $insn:literal;)*) => {
        impl Section {$(
            $(#[$doc])*
            #[inline]
            pub fn $name(&self, a: $ty) -> $ty {
                let r: $bits;
                // SAFETY: as in the comparisons (`compare!`).
                unsafe {
                    asm!(
                        concat!($mov, " xmm0, {a", $m, "}"),
                        concat!($insn, " xmm0, xmm0"),
                        concat!($mov, " {r", $m, "}, xmm0"),
                        a = in(reg) a.to_bits(),
                        r = lateout(reg) r,
                        out("xmm0") _,
                        options(pure, nomem, nostack),
                    )
                };
                <$ty>::from_bits(r)
            }
        )*}
    };
}

compare! {
    /// Compares `a` and `b` as IEEE 754 does: `None` if either is a NaN, and `-0.0` equal to
    /// `0.0`.
    compare_f64: f64, "movq", "", "ucomisd";
    /// As [`Section::compare_f64`], for `f32`.
    compare_f32: f32, "movd", ":e", "ucomiss";
}

binary! {
    /// `a + b`, correctly rounded.
    add_f64: f64, u64, "movq", "", "addsd";
    /// `a - b`, correctly rounded.
    sub_f64: f64, u64, "movq", "", "subsd";
    /// `a * b`, correctly rounded.
    mul_f64: f64, u64, "movq", "", "mulsd";
    /// `a / b`, correctly rounded.
    div_f64: f64, u64, "movq", "", "divsd";
    /// `a + b`, correctly rounded.
    add_f32: f32, u32, "movd", ":e", "addss";
    /// `a - b`, correctly rounded.
    sub_f32: f32, u32, "movd", ":e", "subss";
    /// `a * b`, correctly rounded.
    mul_f32: f32, u32, "movd", ":e", "mulss";
    /// `a / b`, correctly rounded.
    div_f32: f32, u32, "movd", ":e", "divss";
}

unary! {
    /// The square root of `a`, correctly rounded.
    sqrt_f64: f64, u64, "movq", "", "sqrtsd";
    /// The square root of `a`, correctly rounded.
    sqrt_f32: f32, u32, "movd", ":e", "sqrtss";
}

impl Drop for Section {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: by the type invariant a section began on this CPU and has not ended.
        unsafe { bindings::kernel_fpu_end() };
    }
}
