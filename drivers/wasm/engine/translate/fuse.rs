// SPDX-License-Identifier: GPL-2.0

//! Peephole fusion: which two instructions, or which comparison and the branch on its
//! result, make one instruction of [`crate::ir`], and that instruction's operands.

use crate::ir::{Op, Slot};

/// The fused form of integer `second` reading `t`, the result of `first` of the same width,
/// once (see [`Op`]).
/// The second operations that take two slots are commutative: `t` may be either.
pub(super) fn fuse_int(first: Op, second: Op, t: Slot) -> Option<Op> {
    // The operand of `second` that is not `t`.
    let other = |x: Slot, y: Slot| match (x == t, y == t) {
        (true, false) => Some(y),
        (false, true) => Some(x),
        _ => None,
    };
    match (first, second) {
        (Op::I32ShlImm { a, imm, .. }, Op::I32Xor { d, a: x, b: y }) => Some(Op::I32ShlImmXor {
            d,
            a,
            b: other(x, y)?,
            imm,
        }),
        (Op::I32ShlImm { a, imm, .. }, Op::I32Add { d, a: x, b: y }) => Some(Op::I32ShlImmAdd {
            d,
            a,
            b: other(x, y)?,
            imm,
        }),
        (Op::I32ShlImm { a, imm, .. }, Op::I32Or { d, a: x, b: y }) => Some(Op::I32ShlImmOr {
            d,
            a,
            b: other(x, y)?,
            imm,
        }),
        (Op::I32ShrUImm { a, imm, .. }, Op::I32Xor { d, a: x, b: y }) => Some(Op::I32ShrUImmXor {
            d,
            a,
            b: other(x, y)?,
            imm,
        }),
        (Op::I32ShrUImm { a, imm, .. }, Op::I32Add { d, a: x, b: y }) => Some(Op::I32ShrUImmAdd {
            d,
            a,
            b: other(x, y)?,
            imm,
        }),
        (Op::I32ShrUImm { a, imm, .. }, Op::I32Or { d, a: x, b: y }) => Some(Op::I32ShrUImmOr {
            d,
            a,
            b: other(x, y)?,
            imm,
        }),
        (Op::I32AndImm { a, imm, .. }, Op::I32Xor { d, a: x, b: y }) => Some(Op::I32AndImmXor {
            d,
            a,
            b: other(x, y)?,
            imm,
        }),
        (Op::I32AndImm { a, imm, .. }, Op::I32Add { d, a: x, b: y }) => Some(Op::I32AndImmAdd {
            d,
            a,
            b: other(x, y)?,
            imm,
        }),
        (Op::I32AndImm { a, imm, .. }, Op::I32Or { d, a: x, b: y }) => Some(Op::I32AndImmOr {
            d,
            a,
            b: other(x, y)?,
            imm,
        }),
        (Op::I32Xor { a, b, .. }, Op::I32AndImm { d, imm, .. }) => {
            Some(Op::I32XorAndImm { d, a, b, imm })
        }
        (Op::I32Xor { a, b, .. }, Op::I32MulImm { d, imm, .. }) => {
            Some(Op::I32XorMulImm { d, a, b, imm })
        }
        (Op::I32Xor { a, b, .. }, Op::I32ShrUImm { d, imm, .. }) => {
            Some(Op::I32XorShrUImm { d, a, b, imm })
        }
        (Op::I32Xor { a, b, .. }, Op::I32ShlImm { d, imm, .. }) => {
            Some(Op::I32XorShlImm { d, a, b, imm })
        }
        (Op::I32Add { a, b, .. }, Op::I32AndImm { d, imm, .. }) => {
            Some(Op::I32AddAndImm { d, a, b, imm })
        }
        (Op::I32Add { a, b, .. }, Op::I32ShlImm { d, imm, .. }) => {
            Some(Op::I32AddShlImm { d, a, b, imm })
        }
        (Op::I32AndImm { a, imm, .. }, Op::I32ShlImm { d, imm: k, .. }) => {
            Some(Op::I32AndImmShlImm {
                d,
                a,
                imm,
                k: (k & 31) as i16,
            })
        }
        (Op::I32ShrUImm { a, imm: k, .. }, Op::I32AndImm { d, imm, .. }) => {
            Some(Op::I32ShrUImmAndImm {
                d,
                a,
                imm,
                k: (k & 31) as i16,
            })
        }
        (Op::I32AddImm { a, imm: k, .. }, Op::I32AndImm { d, imm, .. }) => {
            Some(Op::I32AddImmAndImm {
                d,
                a,
                imm,
                k: i16::try_from(k).ok()?,
            })
        }
        (Op::I32MulImm { a, imm, .. }, Op::I32ShrUImm { d, imm: k, .. }) => {
            Some(Op::I32MulImmShrUImm {
                d,
                a,
                imm,
                k: (k & 31) as i16,
            })
        }
        (Op::I32MulImm { a, imm, .. }, Op::I32AddImm { d, imm: k, .. }) => {
            Some(Op::I32MulImmAddImm {
                d,
                a,
                imm,
                k: i16::try_from(k).ok()?,
            })
        }
        // An array element's address, `base + (i << k)` with a constant base (C's static
        // arrays): the add's constant takes the 32-bit field, the shift the small one.
        (Op::I32ShlImm { a, imm: k, .. }, Op::I32AddImm { d, imm, .. }) => {
            Some(Op::I32ShlImmAddImm {
                d,
                a,
                imm,
                k: (k & 31) as i16,
            })
        }
        (Op::I64MulImm { a, imm, .. }, Op::I64AddImm { d, imm: k, .. }) => {
            Some(Op::I64MulImmAddImm {
                d,
                a,
                imm,
                k: i16::try_from(k).ok()?,
            })
        }
        (Op::I32Mul { a, b, .. }, Op::I32Add { d, a: x, b: y }) => Some(Op::I32MulAdd {
            d,
            a,
            b,
            c: other(x, y)?,
        }),
        (Op::I32Xor { a, b, .. }, Op::I32Xor { d, a: x, b: y }) => Some(Op::I32XorXor {
            d,
            a,
            b,
            c: other(x, y)?,
        }),
        (Op::I32Add { a, b, .. }, Op::I32Add { d, a: x, b: y }) => Some(Op::I32AddAdd {
            d,
            a,
            b,
            c: other(x, y)?,
        }),
        _ => None,
    }
}

/// The fused form of f64 `second` reading the result of f64 `first` on its right (`rev`) or
/// left, and its other operand `c`: `(a X b) Y c` or `c Y (a X b)`, with `X` and `Y` each
/// `+`, `-` or `*`.
pub(super) fn fuse_f64(first: Op, second: Op, rev: bool) -> Option<Op> {
    macro_rules! fuse {
        ($(($x:ident, $y:ident, $rev:literal) => $fused:ident,)*) => {
            match (first, second, rev) {
                $((Op::$x { a, b, .. }, Op::$y { d, a: l, b: r }, $rev) => {
                    Some(Op::$fused { d, a, b, c: if $rev { l } else { r } })
                })*
                _ => None,
            }
        };
    }
    fuse!(
        (F64Add, F64Add, false) => F64AddAdd,
        (F64Add, F64Add, true) => F64AddAddR,
        (F64Add, F64Sub, false) => F64AddSub,
        (F64Add, F64Sub, true) => F64AddSubR,
        (F64Add, F64Mul, false) => F64AddMul,
        (F64Add, F64Mul, true) => F64AddMulR,
        (F64Sub, F64Add, false) => F64SubAdd,
        (F64Sub, F64Add, true) => F64SubAddR,
        (F64Sub, F64Sub, false) => F64SubSub,
        (F64Sub, F64Sub, true) => F64SubSubR,
        (F64Sub, F64Mul, false) => F64SubMul,
        (F64Sub, F64Mul, true) => F64SubMulR,
        (F64Mul, F64Add, false) => F64MulAdd,
        (F64Mul, F64Add, true) => F64MulAddR,
        (F64Mul, F64Sub, false) => F64MulSub,
        (F64Mul, F64Sub, true) => F64MulSubR,
        (F64Mul, F64Mul, false) => F64MulMul,
        (F64Mul, F64Mul, true) => F64MulMulR,
    )
}

/// The compare-and-branch for a comparison `op` whose result is the branch condition:
/// branching when it holds, or when it does not (`negate`). Float comparisons are not
/// negated (NaN makes `!(a < b)` differ from `a >= b`).
pub(super) fn fuse_branch(op: &Op, negate: bool) -> Option<Op> {
    macro_rules! fuse {
        ($($cmp:ident => $br:ident / $nbr:ident),* ; $($cmpi:ident => $bri:ident / $nbri:ident),* ;
         $($fcmp:ident => $fbr:ident),*) => {
            match *op {
                $(Op::$cmp { a, b, .. } => Some(if negate {
                    Op::$nbr { a, b, cost: 0, offset: 0 }
                } else {
                    Op::$br { a, b, cost: 0, offset: 0 }
                }),)*
                $(Op::$cmpi { a, imm, .. } => {
                    let imm = i16::try_from(imm).ok()?;
                    Some(if negate {
                        Op::$nbri { a, imm, cost: 0, offset: 0 }
                    } else {
                        Op::$bri { a, imm, cost: 0, offset: 0 }
                    })
                })*
                $(Op::$fcmp { a, b, .. } if !negate => {
                    Some(Op::$fbr { a, b, cost: 0, offset: 0 })
                })*
                Op::I32Eqz { s, .. } => Some(if negate {
                    Op::BrNez { c: s, cost: 0, offset: 0 }
                } else {
                    Op::BrEqz { c: s, cost: 0, offset: 0 }
                }),
                Op::I64Eqz { s, .. } => Some(if negate {
                    Op::BrNez64 { c: s, cost: 0, offset: 0 }
                } else {
                    Op::BrEqz64 { c: s, cost: 0, offset: 0 }
                }),
                _ => None,
            }
        };
    }
    fuse!(
        I32Eq => BrI32Eq / BrI32Ne, I32Ne => BrI32Ne / BrI32Eq,
        I32LtS => BrI32LtS / BrI32GeS, I32LtU => BrI32LtU / BrI32GeU,
        I32GtS => BrI32GtS / BrI32LeS, I32GtU => BrI32GtU / BrI32LeU,
        I32LeS => BrI32LeS / BrI32GtS, I32LeU => BrI32LeU / BrI32GtU,
        I32GeS => BrI32GeS / BrI32LtS, I32GeU => BrI32GeU / BrI32LtU,
        I64Eq => BrI64Eq / BrI64Ne, I64Ne => BrI64Ne / BrI64Eq,
        I64LtS => BrI64LtS / BrI64GeS, I64LtU => BrI64LtU / BrI64GeU,
        I64GtS => BrI64GtS / BrI64LeS, I64GtU => BrI64GtU / BrI64LeU,
        I64LeS => BrI64LeS / BrI64GtS, I64LeU => BrI64LeU / BrI64GtU,
        I64GeS => BrI64GeS / BrI64LtS, I64GeU => BrI64GeU / BrI64LtU;
        I32EqImm => BrI32EqImm / BrI32NeImm, I32NeImm => BrI32NeImm / BrI32EqImm,
        I32LtSImm => BrI32LtSImm / BrI32GeSImm, I32LtUImm => BrI32LtUImm / BrI32GeUImm,
        I32GtSImm => BrI32GtSImm / BrI32LeSImm, I32GtUImm => BrI32GtUImm / BrI32LeUImm,
        I32LeSImm => BrI32LeSImm / BrI32GtSImm, I32LeUImm => BrI32LeUImm / BrI32GtUImm,
        I32GeSImm => BrI32GeSImm / BrI32LtSImm, I32GeUImm => BrI32GeUImm / BrI32LtUImm,
        I64EqImm => BrI64EqImm / BrI64NeImm, I64NeImm => BrI64NeImm / BrI64EqImm,
        I64LtSImm => BrI64LtSImm / BrI64GeSImm, I64LtUImm => BrI64LtUImm / BrI64GeUImm,
        I64GtSImm => BrI64GtSImm / BrI64LeSImm, I64GtUImm => BrI64GtUImm / BrI64LeUImm,
        I64LeSImm => BrI64LeSImm / BrI64GtSImm, I64LeUImm => BrI64LeUImm / BrI64GtUImm,
        I64GeSImm => BrI64GeSImm / BrI64LtSImm, I64GeUImm => BrI64GeUImm / BrI64LtUImm;
        F32Eq => BrF32Eq, F32Ne => BrF32Ne, F32Lt => BrF32Lt, F32Gt => BrF32Gt,
        F32Le => BrF32Le, F32Ge => BrF32Ge, F64Eq => BrF64Eq, F64Ne => BrF64Ne,
        F64Lt => BrF64Lt, F64Gt => BrF64Gt, F64Le => BrF64Le, F64Ge => BrF64Ge
    )
}
