// SPDX-License-Identifier: GPL-2.0

//! Command-line arguments to WebAssembly values and values to text, typed by the function's
//! signature.

use serde_json::{json, Value as Json};
use wasm_protocol::{ValType, Value};

/// The syntax of arguments, for `--help`.
pub const ARGUMENT_HELP: &str = "\
Arguments are converted to the types of the function's parameters:
  i32, i64  decimal or 0x-hexadecimal, signed or unsigned (4294967295 is -1 as i32)
  f32, f64  decimal (1.5, -2e-3), inf, -inf, nan, nan:0xPAYLOAD, or bits:0xBITS for
            an exact bit pattern
  funcref   null
  externref null or a number
Options go before the arguments: everything after the first argument is an
argument (so -1 and -inf need no quoting; -- also works).
Results are printed one per line: integers as signed decimals, floats as
decimals (NaN for any NaN; --json gives the exact bits).";

/// Parses an integer of at most `bits` bits, signed or unsigned, decimal or `0x` hexadecimal,
/// with optional `_` separators; returns the bits.
fn parse_int(text: &str, bits: u32) -> Result<u64, String> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u128::from_str_radix(hex, 16),
        None => digits.parse::<u128>(),
    }
    .map_err(|_| format!("{text:?} is not an integer"))?;
    let unsigned_max = (1u128 << bits) - 1;
    let signed_min = 1u128 << (bits - 1);
    let out_of_range = || format!("{text:?} is out of range for i{bits}");
    let value = if negative {
        if magnitude > signed_min {
            return Err(out_of_range());
        }
        (unsigned_max + 1 - magnitude) & unsigned_max
    } else {
        if magnitude > unsigned_max {
            return Err(out_of_range());
        }
        magnitude
    };
    u64::try_from(value).map_err(|_| out_of_range())
}

/// Parses a float of type `f32` (`bits` 32) or `f64` (`bits` 64), returning its bits.
fn parse_float(text: &str, bits: u32) -> Result<u64, String> {
    let (exp_bits, mantissa_bits) = if bits == 32 { (8, 23) } else { (11, 52) };
    let sign_bit = 1u64 << (bits - 1);
    let exponent_mask = ((1u64 << exp_bits) - 1) << mantissa_bits;
    let mantissa_mask = (1u64 << mantissa_bits) - 1;
    let lower = text.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("bits:") {
        return parse_int(hex, bits).map_err(|_| format!("{text:?}: bits must fit in {bits} bits"));
    }
    let (sign, rest) = match lower.strip_prefix('-') {
        Some(rest) => (sign_bit, rest),
        None => (0, lower.strip_prefix('+').unwrap_or(&lower)),
    };
    if rest == "nan" {
        return Ok(sign | exponent_mask | (1u64 << (mantissa_bits - 1)));
    }
    if let Some(payload) = rest.strip_prefix("nan:") {
        let payload = parse_int(payload, 64)?;
        if payload == 0 || payload > mantissa_mask {
            return Err(format!(
                "{text:?}: a NaN payload is 1 to {mantissa_mask:#x}"
            ));
        }
        return Ok(sign | exponent_mask | payload);
    }
    let not_a_float = || format!("{text:?} is not a number of type f{bits}");
    if rest.starts_with("0x") || rest.is_empty() {
        return Err(not_a_float());
    }
    if bits == 32 {
        let value: f32 = lower.parse().map_err(|_| not_a_float())?;
        Ok(u64::from(value.to_bits()))
    } else {
        let value: f64 = lower.parse().map_err(|_| not_a_float())?;
        Ok(value.to_bits())
    }
}

/// Parses `text` as a value of type `ty`.
pub fn parse_value(ty: ValType, text: &str) -> Result<Value, String> {
    let null = matches!(text, "null" | "ref.null");
    Ok(match ty {
        ValType::I32 => Value::I32(parse_int(text, 32)? as u32 as i32),
        ValType::I64 => Value::I64(parse_int(text, 64)? as i64),
        ValType::F32 => Value::F32(parse_float(text, 32)? as u32),
        ValType::F64 => Value::F64(parse_float(text, 64)?),
        ValType::FuncRef if null => Value::FuncRef(None),
        ValType::FuncRef => {
            return Err(format!(
                "{text:?}: only a null funcref can be passed from the command line"
            ))
        }
        ValType::ExternRef if null => Value::ExternRef(None),
        ValType::ExternRef if text.starts_with('-') => {
            return Err(format!(
                "{text:?}: an externref is null or a number from 0 to 4294967295"
            ))
        }
        ValType::ExternRef => Value::ExternRef(Some(
            u32::try_from(parse_int(text, 32)?).map_err(|_| format!("{text:?}: not a u32"))?,
        )),
    })
}

/// Parses the arguments of a function with parameters `params`.
pub fn parse_args(
    function: &str,
    params: &[ValType],
    args: &[String],
) -> Result<Vec<Value>, String> {
    if params.len() != args.len() {
        return Err(format!(
            "{function} takes {} argument{} ({}), {} given",
            params.len(),
            if params.len() == 1 { "" } else { "s" },
            type_list(params),
            args.len()
        ));
    }
    params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (&ty, text))| {
            parse_value(ty, text).map_err(|e| format!("argument {} of {function}: {e}", i + 1))
        })
        .collect()
}

/// `i32, i64`, or `none`.
pub fn type_list(types: &[ValType]) -> String {
    if types.is_empty() {
        return "none".to_string();
    }
    types
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value as `wasmtime run --invoke` prints it: integers signed decimal, floats decimal.
pub fn format_value(value: Value) -> String {
    match value {
        Value::I32(v) => v.to_string(),
        Value::I64(v) => v.to_string(),
        Value::F32(bits) => f32::from_bits(bits).to_string(),
        Value::F64(bits) => f64::from_bits(bits).to_string(),
        Value::FuncRef(None) | Value::ExternRef(None) => "null".to_string(),
        Value::FuncRef(Some(n)) => format!("funcref:{n}"),
        Value::ExternRef(Some(n)) => format!("externref:{n}"),
    }
}

/// A value in JSON: `{"type": "i32", "value": 5}`; floats have their text as `value` and
/// their exact `bits`.
pub fn json_value(value: Value) -> Json {
    let ty = value.ty().name();
    match value {
        Value::I32(v) => json!({ "type": ty, "value": v }),
        Value::I64(v) => json!({ "type": ty, "value": v }),
        Value::F32(bits) => {
            json!({ "type": ty, "value": format_value(value), "bits": format!("{bits:#010x}") })
        }
        Value::F64(bits) => {
            json!({ "type": ty, "value": format_value(value), "bits": format!("{bits:#018x}") })
        }
        Value::FuncRef(r) | Value::ExternRef(r) => json!({ "type": ty, "value": r }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_value(ValType::I32, "5"), Ok(Value::I32(5)));
        assert_eq!(parse_value(ValType::I32, "-1"), Ok(Value::I32(-1)));
        assert_eq!(parse_value(ValType::I32, "4294967295"), Ok(Value::I32(-1)));
        assert_eq!(
            parse_value(ValType::I32, "0x80000000"),
            Ok(Value::I32(i32::MIN))
        );
        assert_eq!(
            parse_value(ValType::I32, "-2147483648"),
            Ok(Value::I32(i32::MIN))
        );
        assert_eq!(parse_value(ValType::I32, "1_000"), Ok(Value::I32(1000)));
        assert!(parse_value(ValType::I32, "4294967296").is_err());
        assert!(parse_value(ValType::I32, "-2147483649").is_err());
        assert!(parse_value(ValType::I32, "1.5").is_err());
        assert!(parse_value(ValType::I32, "").is_err());
        assert!(parse_value(ValType::I32, "-").is_err());
        assert_eq!(
            parse_value(ValType::I64, "-9223372036854775808"),
            Ok(Value::I64(i64::MIN))
        );
        assert_eq!(
            parse_value(ValType::I64, "18446744073709551615"),
            Ok(Value::I64(-1))
        );
        assert!(parse_value(ValType::I64, "18446744073709551616").is_err());
        assert_eq!(parse_value(ValType::I64, "-0x10"), Ok(Value::I64(-16)));
    }

    #[test]
    fn floats() {
        assert_eq!(
            parse_value(ValType::F32, "1.5"),
            Ok(Value::F32(1.5f32.to_bits()))
        );
        assert_eq!(
            parse_value(ValType::F64, "-2e-3"),
            Ok(Value::F64((-2e-3f64).to_bits()))
        );
        assert_eq!(parse_value(ValType::F32, "-0"), Ok(Value::F32(0x8000_0000)));
        assert_eq!(
            parse_value(ValType::F32, "inf"),
            Ok(Value::F32(0x7f80_0000))
        );
        assert_eq!(
            parse_value(ValType::F64, "-inf"),
            Ok(Value::F64(0xfff0_0000_0000_0000))
        );
        assert_eq!(
            parse_value(ValType::F32, "nan"),
            Ok(Value::F32(0x7fc0_0000))
        );
        assert_eq!(
            parse_value(ValType::F32, "-nan"),
            Ok(Value::F32(0xffc0_0000))
        );
        assert_eq!(
            parse_value(ValType::F32, "nan:0x1"),
            Ok(Value::F32(0x7f80_0001))
        );
        assert_eq!(
            parse_value(ValType::F64, "nan:0x8000000000000"),
            Ok(Value::F64(0x7ff8_0000_0000_0000))
        );
        assert!(parse_value(ValType::F32, "nan:0x800000").is_err());
        assert!(parse_value(ValType::F32, "nan:0").is_err());
        assert_eq!(
            parse_value(ValType::F32, "bits:0x7fc00001"),
            Ok(Value::F32(0x7fc0_0001))
        );
        assert!(parse_value(ValType::F32, "bits:0x100000000").is_err());
        assert!(parse_value(ValType::F32, "one").is_err());
        assert!(parse_value(ValType::F64, "0x1p3").is_err());
        // Correct rounding of the text.
        assert_eq!(
            parse_value(ValType::F32, "0.1"),
            Ok(Value::F32(0x3dcc_cccd))
        );
    }

    #[test]
    fn references() {
        assert_eq!(
            parse_value(ValType::FuncRef, "null"),
            Ok(Value::FuncRef(None))
        );
        assert!(parse_value(ValType::FuncRef, "3").is_err());
        assert_eq!(
            parse_value(ValType::ExternRef, "null"),
            Ok(Value::ExternRef(None))
        );
        assert_eq!(
            parse_value(ValType::ExternRef, "7"),
            Ok(Value::ExternRef(Some(7)))
        );
        assert!(parse_value(ValType::ExternRef, "-1").is_err());
    }

    #[test]
    fn argument_lists() {
        let params = [ValType::I32, ValType::I32];
        assert_eq!(
            parse_args("add", &params, &["2".into(), "3".into()]),
            Ok(vec![Value::I32(2), Value::I32(3)])
        );
        assert_eq!(
            parse_args("add", &params, &["2".into()]).unwrap_err(),
            "add takes 2 arguments (i32, i32), 1 given"
        );
        assert_eq!(
            parse_args("add", &params, &["2".into(), "x".into()]).unwrap_err(),
            "argument 2 of add: \"x\" is not an integer"
        );
        assert_eq!(parse_args("f", &[], &[]), Ok(vec![]));
        assert_eq!(type_list(&[]), "none");
    }

    #[test]
    fn formatting() {
        assert_eq!(format_value(Value::I32(-5)), "-5");
        assert_eq!(format_value(Value::I64(i64::MAX)), "9223372036854775807");
        assert_eq!(format_value(Value::F32(1.5f32.to_bits())), "1.5");
        assert_eq!(format_value(Value::F64(0.1f64.to_bits())), "0.1");
        assert_eq!(format_value(Value::F32(0x8000_0000)), "-0");
        assert_eq!(format_value(Value::F64(f64::INFINITY.to_bits())), "inf");
        assert_eq!(format_value(Value::F32(0x7fc0_0001)), "NaN");
        assert_eq!(format_value(Value::FuncRef(None)), "null");
        assert_eq!(format_value(Value::ExternRef(Some(3))), "externref:3");
        assert_eq!(
            json_value(Value::F32(0x7fc0_0001)),
            json!({"type": "f32", "value": "NaN", "bits": "0x7fc00001"})
        );
        assert_eq!(
            json_value(Value::I32(5)),
            json!({"type": "i32", "value": 5})
        );
        assert_eq!(
            json_value(Value::ExternRef(None)),
            json!({"type": "externref", "value": null})
        );
    }
}
