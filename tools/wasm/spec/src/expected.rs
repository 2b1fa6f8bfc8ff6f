// SPDX-License-Identifier: GPL-2.0

//! What a script expects: result patterns for `assert_return` and the trap-message rule.
//!
//! This module knows nothing of the `.wast` syntax or of any backend; it compares expectations
//! with the plain [`Value`]s a backend returns.

use std::fmt;

use crate::backend::Value;

/// The expected value of one float result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatPattern<T> {
    /// Exactly these bits: sign, exponent and mantissa (a NaN payload included) must all match.
    Bits(T),
    /// `nan:canonical`: a NaN of either sign whose payload is exactly the quiet bit.
    CanonicalNan,
    /// `nan:arithmetic`: a NaN of either sign with the quiet bit set and any other payload.
    ArithmeticNan,
}

/// The type of a reference, as `ref.null` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefType {
    /// `funcref`.
    Func,
    /// `externref`.
    Extern,
}

/// The expected value of one result of an `assert_return`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// An `i32` with this value.
    I32(i32),
    /// An `i64` with this value.
    I64(i64),
    /// An `f32` matching this pattern (bits of an `f32`).
    F32(FloatPattern<u32>),
    /// An `f64` matching this pattern (bits of an `f64`).
    F64(FloatPattern<u64>),
    /// `ref.null func`, `ref.null extern`, or a null reference of either type.
    NullRef(Option<RefType>),
    /// `ref.extern n`, or any non-null `externref` when `None`.
    ExternRef(Option<u32>),
    /// `ref.func`: any non-null `funcref` (scripts cannot name a function's identity, so the
    /// index a script may give is not checked).
    FuncRef,
    /// `(either …)`: any one of these.
    Either(Vec<Expected>),
}

/// The sign bit of an `f32`.
const F32_SIGN: u32 = 0x8000_0000;
/// The exponent and quiet bit of an `f32`: a canonical NaN without its sign.
const F32_QUIET_NAN: u32 = 0x7fc0_0000;
/// The sign bit of an `f64`.
const F64_SIGN: u64 = 0x8000_0000_0000_0000;
/// The exponent and quiet bit of an `f64`: a canonical NaN without its sign.
const F64_QUIET_NAN: u64 = 0x7ff8_0000_0000_0000;

impl FloatPattern<u32> {
    /// Whether the `f32` with bits `bits` matches.
    pub fn matches_f32(self, bits: u32) -> bool {
        match self {
            FloatPattern::Bits(expected) => bits == expected,
            FloatPattern::CanonicalNan => bits & !F32_SIGN == F32_QUIET_NAN,
            FloatPattern::ArithmeticNan => bits & F32_QUIET_NAN == F32_QUIET_NAN,
        }
    }
}

impl FloatPattern<u64> {
    /// Whether the `f64` with bits `bits` matches.
    pub fn matches_f64(self, bits: u64) -> bool {
        match self {
            FloatPattern::Bits(expected) => bits == expected,
            FloatPattern::CanonicalNan => bits & !F64_SIGN == F64_QUIET_NAN,
            FloatPattern::ArithmeticNan => bits & F64_QUIET_NAN == F64_QUIET_NAN,
        }
    }
}

impl Expected {
    /// Whether `got` matches this expectation. Values of another type never match.
    pub fn matches(&self, got: &Value) -> bool {
        match (self, got) {
            (Expected::I32(e), Value::I32(g)) => e == g,
            (Expected::I64(e), Value::I64(g)) => e == g,
            (Expected::F32(p), Value::F32(bits)) => p.matches_f32(*bits),
            (Expected::F64(p), Value::F64(bits)) => p.matches_f64(*bits),
            (Expected::NullRef(None), Value::FuncRef(None) | Value::ExternRef(None)) => true,
            (Expected::NullRef(Some(RefType::Func)), Value::FuncRef(None)) => true,
            (Expected::NullRef(Some(RefType::Extern)), Value::ExternRef(None)) => true,
            (Expected::ExternRef(None), Value::ExternRef(Some(_))) => true,
            (Expected::ExternRef(Some(e)), Value::ExternRef(Some(g))) => e == g,
            (Expected::FuncRef, Value::FuncRef(Some(_))) => true,
            (Expected::Either(cases), got) => cases.iter().any(|case| case.matches(got)),
            _ => false,
        }
    }
}

/// Whether `got` matches `expected` element by element, with the same length.
pub fn results_match(expected: &[Expected], got: &[Value]) -> bool {
    expected.len() == got.len() && expected.iter().zip(got).all(|(e, g)| e.matches(g))
}

/// Whether a trap with message `got` satisfies an assertion that expects `expected`.
///
/// The engine's trap messages use the spec's wording, but the scripts sometimes say more
/// ("uninitialized element 2") or less ("unreachable" for the reference interpreter's
/// "unreachable executed") than the engine. The rule: the messages match when one is a prefix of
/// the other, and the engine's message is not empty.
pub fn trap_message_matches(expected: &str, got: &str) -> bool {
    !got.is_empty() && (expected.starts_with(got) || got.starts_with(expected))
}

/// Formats an `f32` pattern as the value and its bits.
fn fmt_f32(f: &mut fmt::Formatter<'_>, pattern: FloatPattern<u32>) -> fmt::Result {
    match pattern {
        FloatPattern::Bits(bits) => write!(f, "f32:{} (0x{bits:08x})", f32::from_bits(bits)),
        FloatPattern::CanonicalNan => f.write_str("f32:nan:canonical"),
        FloatPattern::ArithmeticNan => f.write_str("f32:nan:arithmetic"),
    }
}

/// Formats an `f64` pattern as the value and its bits.
fn fmt_f64(f: &mut fmt::Formatter<'_>, pattern: FloatPattern<u64>) -> fmt::Result {
    match pattern {
        FloatPattern::Bits(bits) => write!(f, "f64:{} (0x{bits:016x})", f64::from_bits(bits)),
        FloatPattern::CanonicalNan => f.write_str("f64:nan:canonical"),
        FloatPattern::ArithmeticNan => f.write_str("f64:nan:arithmetic"),
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::I32(v) => write!(f, "i32:{v}"),
            Expected::I64(v) => write!(f, "i64:{v}"),
            Expected::F32(p) => fmt_f32(f, *p),
            Expected::F64(p) => fmt_f64(f, *p),
            Expected::NullRef(None) => f.write_str("ref.null"),
            Expected::NullRef(Some(RefType::Func)) => f.write_str("ref.null func"),
            Expected::NullRef(Some(RefType::Extern)) => f.write_str("ref.null extern"),
            Expected::ExternRef(None) => f.write_str("ref.extern"),
            Expected::ExternRef(Some(n)) => write!(f, "ref.extern {n}"),
            Expected::FuncRef => f.write_str("ref.func"),
            Expected::Either(cases) => {
                f.write_str("either(")?;
                for (i, case) in cases.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{case}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Formats a list of expectations as `[e1, e2]`, for failure reports.
pub fn display_expected(expected: &[Expected]) -> String {
    let items: Vec<String> = expected.iter().map(Expected::to_string).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_nan_patterns() {
        let canonical = FloatPattern::<u32>::CanonicalNan;
        let arithmetic = FloatPattern::<u32>::ArithmeticNan;
        // Canonical NaNs of both signs.
        assert!(canonical.matches_f32(0x7fc0_0000));
        assert!(canonical.matches_f32(0xffc0_0000));
        // A quiet NaN with a payload is arithmetic but not canonical.
        assert!(!canonical.matches_f32(0x7fc0_0001));
        assert!(arithmetic.matches_f32(0x7fc0_0001));
        assert!(arithmetic.matches_f32(0xffc0_0000));
        // A signalling NaN is neither; nor is infinity or a number.
        assert!(!arithmetic.matches_f32(0x7fa0_0000));
        assert!(!canonical.matches_f32(0x7fa0_0000));
        assert!(!arithmetic.matches_f32(f32::INFINITY.to_bits()));
        assert!(!canonical.matches_f32(1.0f32.to_bits()));
    }

    #[test]
    fn f64_nan_patterns() {
        let canonical = FloatPattern::<u64>::CanonicalNan;
        let arithmetic = FloatPattern::<u64>::ArithmeticNan;
        assert!(canonical.matches_f64(0x7ff8_0000_0000_0000));
        assert!(canonical.matches_f64(0xfff8_0000_0000_0000));
        assert!(!canonical.matches_f64(0x7ff8_0000_0000_0001));
        assert!(arithmetic.matches_f64(0x7ff8_0000_0000_0001));
        assert!(!arithmetic.matches_f64(0x7ff4_0000_0000_0000));
        assert!(!arithmetic.matches_f64(f64::NEG_INFINITY.to_bits()));
    }

    #[test]
    fn floats_compare_bit_exactly() {
        let zero = Expected::F32(FloatPattern::Bits(0.0f32.to_bits()));
        assert!(zero.matches(&Value::F32(0.0f32.to_bits())));
        // -0.0 == 0.0 numerically, but not bit for bit.
        assert!(!zero.matches(&Value::F32((-0.0f32).to_bits())));
        // A specific NaN payload must be reproduced exactly.
        let nan = Expected::F64(FloatPattern::Bits(0x7ff0_0000_0000_0001));
        assert!(nan.matches(&Value::F64(0x7ff0_0000_0000_0001)));
        assert!(!nan.matches(&Value::F64(0x7ff8_0000_0000_0000)));
        // The same bits under another type do not match.
        assert!(!zero.matches(&Value::I32(0)));
    }

    #[test]
    fn references() {
        assert!(Expected::NullRef(None).matches(&Value::FuncRef(None)));
        assert!(Expected::NullRef(None).matches(&Value::ExternRef(None)));
        assert!(Expected::NullRef(Some(RefType::Func)).matches(&Value::FuncRef(None)));
        assert!(!Expected::NullRef(Some(RefType::Func)).matches(&Value::ExternRef(None)));
        assert!(!Expected::NullRef(Some(RefType::Extern)).matches(&Value::ExternRef(Some(0))));
        assert!(Expected::ExternRef(Some(3)).matches(&Value::ExternRef(Some(3))));
        assert!(!Expected::ExternRef(Some(3)).matches(&Value::ExternRef(Some(4))));
        assert!(Expected::ExternRef(None).matches(&Value::ExternRef(Some(4))));
        assert!(Expected::FuncRef.matches(&Value::FuncRef(Some(7))));
        assert!(!Expected::FuncRef.matches(&Value::FuncRef(None)));
    }

    #[test]
    fn result_lists_and_either() {
        let expected = [Expected::I32(1), Expected::I64(2)];
        assert!(results_match(&expected, &[Value::I32(1), Value::I64(2)]));
        assert!(!results_match(&expected, &[Value::I32(1)]));
        assert!(!results_match(&expected, &[Value::I64(1), Value::I64(2)]));
        assert!(results_match(&[], &[]));
        let either = Expected::Either(vec![Expected::I32(1), Expected::I32(2)]);
        assert!(either.matches(&Value::I32(2)));
        assert!(!either.matches(&Value::I32(3)));
    }

    #[test]
    fn trap_messages_match_by_prefix() {
        assert!(trap_message_matches("unreachable", "unreachable"));
        assert!(trap_message_matches("unreachable executed", "unreachable"));
        assert!(trap_message_matches(
            "uninitialized element",
            "uninitialized element 2"
        ));
        assert!(!trap_message_matches(
            "integer overflow",
            "integer divide by zero"
        ));
        assert!(!trap_message_matches("unreachable", ""));
    }
}
