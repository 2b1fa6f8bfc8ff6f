// SPDX-License-Identifier: GPL-2.0

//! Numeric instructions on slots: integer arithmetic with its traps, and floating point.
//!
//! Slots hold `i32`/`f32` zero-extended and floats as bit patterns. The four basic f32/f64
//! operations (and int-to-float conversions) are the only float arithmetic of the engine: in
//! the kernel they compile to compiler-builtins' soft-float routines (`__addsf3`,
//! `__divdf3`, ...), since the target has no FPU for Rust code, and on the host to SSE. Both
//! are IEEE 754 exact with round-to-nearest-even, which is what WebAssembly requires, and any
//! NaN they produce is an arithmetic NaN, which the spec allows. Everything else is integer
//! code in [`crate::float`], except square roots in host builds with the `std` feature. The
//! float functions here are the defaults of
//! [`crate::host::FloatUnit`], through which the interpreter calls them, so that an embedder
//! can run them on hardware instead.

use crate::error::TrapKind;
use crate::float::{self, TruncError};

#[inline(always)]
pub(crate) fn b(x: bool) -> u64 {
    u64::from(x)
}

#[inline(always)]
pub(crate) fn w32(x: u32) -> u64 {
    u64::from(x)
}

#[inline(always)]
pub(crate) fn i32s(x: i32) -> u64 {
    u64::from(x as u32)
}

pub(crate) fn trunc_trap(e: TruncError) -> TrapKind {
    match e {
        TruncError::NotANumber => TrapKind::InvalidConversionToInteger,
        TruncError::Overflow => TrapKind::IntegerOverflow,
    }
}

#[inline(always)]
pub(crate) fn i32_div_s(a: u64, b: u64) -> Result<u64, TrapKind> {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        return Err(TrapKind::IntegerDivideByZero);
    }
    a.checked_div(b).map(i32s).ok_or(TrapKind::IntegerOverflow)
}

#[inline(always)]
pub(crate) fn i32_div_u(a: u64, b: u64) -> Result<u64, TrapKind> {
    (a as u32)
        .checked_div(b as u32)
        .map(w32)
        .ok_or(TrapKind::IntegerDivideByZero)
}

#[inline(always)]
pub(crate) fn i32_rem_s(a: u64, b: u64) -> Result<u64, TrapKind> {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        return Err(TrapKind::IntegerDivideByZero);
    }
    Ok(i32s(a.wrapping_rem(b)))
}

#[inline(always)]
pub(crate) fn i32_rem_u(a: u64, b: u64) -> Result<u64, TrapKind> {
    (a as u32)
        .checked_rem(b as u32)
        .map(w32)
        .ok_or(TrapKind::IntegerDivideByZero)
}

#[inline(always)]
pub(crate) fn i64_div_s(a: u64, b: u64) -> Result<u64, TrapKind> {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        return Err(TrapKind::IntegerDivideByZero);
    }
    a.checked_div(b)
        .map(|v| v as u64)
        .ok_or(TrapKind::IntegerOverflow)
}

#[inline(always)]
pub(crate) fn i64_div_u(a: u64, b: u64) -> Result<u64, TrapKind> {
    a.checked_div(b).ok_or(TrapKind::IntegerDivideByZero)
}

#[inline(always)]
pub(crate) fn i64_rem_s(a: u64, b: u64) -> Result<u64, TrapKind> {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        return Err(TrapKind::IntegerDivideByZero);
    }
    Ok(a.wrapping_rem(b) as u64)
}

#[inline(always)]
pub(crate) fn i64_rem_u(a: u64, b: u64) -> Result<u64, TrapKind> {
    a.checked_rem(b).ok_or(TrapKind::IntegerDivideByZero)
}

#[inline(always)]
fn f32v(x: u64) -> f32 {
    f32::from_bits(x as u32)
}

#[inline(always)]
fn f64v(x: u64) -> f64 {
    f64::from_bits(x)
}

#[inline(always)]
fn from_f32(x: f32) -> u64 {
    u64::from(x.to_bits())
}

macro_rules! f32_cmp {
    ($($name:ident: $op:tt),*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: u64, b: u64) -> bool { f32v(a) $op f32v(b) }
    )*};
}
macro_rules! f64_cmp {
    ($($name:ident: $op:tt),*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: u64, b: u64) -> bool { f64v(a) $op f64v(b) }
    )*};
}
f32_cmp!(f32_eq: ==, f32_lt: <, f32_le: <=);
f64_cmp!(f64_eq: ==, f64_lt: <, f64_le: <=);

/// The float arithmetic, the only code using float operators.
#[allow(clippy::float_arithmetic)]
mod arith {
    use super::{f32v, f64v, from_f32};

    pub(crate) fn f32_add(a: u64, b: u64) -> u64 {
        from_f32(f32v(a) + f32v(b))
    }

    pub(crate) fn f32_sub(a: u64, b: u64) -> u64 {
        from_f32(f32v(a) - f32v(b))
    }

    pub(crate) fn f32_mul(a: u64, b: u64) -> u64 {
        from_f32(f32v(a) * f32v(b))
    }

    pub(crate) fn f32_div(a: u64, b: u64) -> u64 {
        from_f32(f32v(a) / f32v(b))
    }

    pub(crate) fn f64_add(a: u64, b: u64) -> u64 {
        (f64v(a) + f64v(b)).to_bits()
    }

    pub(crate) fn f64_sub(a: u64, b: u64) -> u64 {
        (f64v(a) - f64v(b)).to_bits()
    }

    pub(crate) fn f64_mul(a: u64, b: u64) -> u64 {
        (f64v(a) * f64v(b)).to_bits()
    }

    pub(crate) fn f64_div(a: u64, b: u64) -> u64 {
        (f64v(a) / f64v(b)).to_bits()
    }

    pub(crate) fn f32_from_i64(a: u64) -> u64 {
        from_f32(a as i64 as f32)
    }

    pub(crate) fn f32_from_u64(a: u64) -> u64 {
        from_f32(a as f32)
    }

    pub(crate) fn f64_from_i64(a: u64) -> u64 {
        (a as i64 as f64).to_bits()
    }

    pub(crate) fn f64_from_u64(a: u64) -> u64 {
        (a as f64).to_bits()
    }
}

pub(crate) use arith::*;

/// `f32.sqrt` and `f64.sqrt`: `std`'s, hence the CPU's instruction, where the engine is built
/// with its `std` feature (host tools; never the kernel), [`crate::float`]'s integer code
/// otherwise.
///
/// Both round correctly, so they agree bit for bit on what `std` is given: zero, positive
/// numbers and infinity (a pattern at most `+inf`'s). The rest, negative numbers and NaNs, goes
/// to the integer code, so that NaNs are the engine's everywhere (x86's default NaN has the sign
/// bit set). On the benchmarks' nbody the integer code took about a fifth of the engine's time.
#[cfg(feature = "std")]
mod sqrt {
    pub(crate) fn f32_sqrt(a: u32) -> u32 {
        if a <= 0x7f80_0000 {
            f32::from_bits(a).sqrt().to_bits()
        } else {
            crate::float::f32_sqrt(a)
        }
    }

    pub(crate) fn f64_sqrt(a: u64) -> u64 {
        if a <= 0x7ff0_0000_0000_0000 {
            f64::from_bits(a).sqrt().to_bits()
        } else {
            crate::float::f64_sqrt(a)
        }
    }
}

#[cfg(not(feature = "std"))]
mod sqrt {
    pub(crate) use crate::float::{f32_sqrt, f64_sqrt};
}

pub(crate) use sqrt::{f32_sqrt, f64_sqrt};

pub(crate) fn f32_min(a: u64, b: u64) -> u64 {
    w32(float::f32_min(a as u32, b as u32))
}

pub(crate) fn f32_max(a: u64, b: u64) -> u64 {
    w32(float::f32_max(a as u32, b as u32))
}
