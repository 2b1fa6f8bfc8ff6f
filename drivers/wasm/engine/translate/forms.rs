// SPDX-License-Identifier: GPL-2.0

//! Instruction forms: which instruction of [`crate::ir`] a wasm operator becomes (with a
//! constant operand, wrapping or indexed addresses, advancing loads), and where an
//! instruction keeps its result slot, branch offset and cost, which the translator rewrites.

use crate::ir::{Op, Slot};

/// An `i32` immediate for a constant operand, if it fits (64-bit operations sign-extend it).
pub(super) fn imm32(v: u64, wide: bool) -> Option<i32> {
    if wide {
        i32::try_from(v as i64).ok()
    } else {
        Some(v as u32 as i32)
    }
}

#[derive(Clone, Copy)]
pub(super) enum CmpKind {
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
}

impl CmpKind {
    /// The comparison with its operands swapped.
    pub(super) fn flip(self) -> Self {
        use CmpKind::*;
        match self {
            Eq => Eq,
            Ne => Ne,
            LtS => GtS,
            LtU => GtU,
            GtS => LtS,
            GtU => LtU,
            LeS => GeS,
            LeU => GeU,
            GeS => LeS,
            GeU => LeU,
        }
    }
}

#[derive(Clone, Copy)]
pub(super) enum ArithKind {
    Add,
    Sub,
    Mul,
    DivS,
    DivU,
    RemS,
    RemU,
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
}

pub(super) type MakeBin = fn(Slot, Slot, Slot) -> Op;
pub(super) type MakeImm = fn(Slot, Slot, i32) -> Op;

#[derive(Clone, Copy)]
pub(super) enum BinForm {
    Cmp32(CmpKind),
    Cmp64(CmpKind),
    Arith32(ArithKind),
    Arith64(ArithKind),
    Plain(MakeBin),
}

macro_rules! makers {
    ($($f:ident => $o:ident),* $(,)?) => {
        $(pub(super) fn $f(d: Slot, a: Slot, b: Slot) -> Op { Op::$o { d, a, b } })*
    };
}

makers! {
    mk_f32_eq => F32Eq, mk_f32_ne => F32Ne, mk_f32_lt => F32Lt, mk_f32_gt => F32Gt,
    mk_f32_le => F32Le, mk_f32_ge => F32Ge, mk_f64_eq => F64Eq, mk_f64_ne => F64Ne,
    mk_f64_lt => F64Lt, mk_f64_gt => F64Gt, mk_f64_le => F64Le, mk_f64_ge => F64Ge,
    mk_f32_add => F32Add, mk_f32_sub => F32Sub, mk_f32_mul => F32Mul, mk_f32_div => F32Div,
    mk_f32_min => F32Min, mk_f32_max => F32Max, mk_f32_copysign => F32Copysign,
    mk_f64_add => F64Add, mk_f64_sub => F64Sub, mk_f64_mul => F64Mul, mk_f64_div => F64Div,
    mk_f64_min => F64Min, mk_f64_max => F64Max, mk_f64_copysign => F64Copysign,
}

macro_rules! pick {
    ($k:expr; $($v:ident => $o:ident),* $(,)?) => {
        match $k { $(CmpKind::$v => { let f: MakeBin = |d, a, b| Op::$o { d, a, b }; f })* }
    };
}

macro_rules! pick_imm {
    ($k:expr; $($v:ident => $o:ident),* $(,)?) => {
        match $k { $(CmpKind::$v => { let f: MakeImm = |d, a, imm| Op::$o { d, a, imm }; f })* }
    };
}

pub(super) fn cmp32(k: CmpKind) -> MakeBin {
    pick!(k; Eq => I32Eq, Ne => I32Ne, LtS => I32LtS, LtU => I32LtU, GtS => I32GtS,
        GtU => I32GtU, LeS => I32LeS, LeU => I32LeU, GeS => I32GeS, GeU => I32GeU)
}

pub(super) fn cmp64(k: CmpKind) -> MakeBin {
    pick!(k; Eq => I64Eq, Ne => I64Ne, LtS => I64LtS, LtU => I64LtU, GtS => I64GtS,
        GtU => I64GtU, LeS => I64LeS, LeU => I64LeU, GeS => I64GeS, GeU => I64GeU)
}

pub(super) fn cmp32_imm(k: CmpKind) -> MakeImm {
    pick_imm!(k; Eq => I32EqImm, Ne => I32NeImm, LtS => I32LtSImm, LtU => I32LtUImm,
        GtS => I32GtSImm, GtU => I32GtUImm, LeS => I32LeSImm, LeU => I32LeUImm,
        GeS => I32GeSImm, GeU => I32GeUImm)
}

pub(super) fn cmp64_imm(k: CmpKind) -> MakeImm {
    pick_imm!(k; Eq => I64EqImm, Ne => I64NeImm, LtS => I64LtSImm, LtU => I64LtUImm,
        GtS => I64GtSImm, GtU => I64GtUImm, LeS => I64LeSImm, LeU => I64LeUImm,
        GeS => I64GeSImm, GeU => I64GeUImm)
}

macro_rules! arith {
    ($name:ident, $k:ident; $($v:ident => $o:ident),* $(,)?) => {
        fn $name($k: ArithKind) -> MakeBin {
            match $k { $(ArithKind::$v => { let f: MakeBin = |d, a, b| Op::$o { d, a, b }; f })* }
        }
    };
}

arith!(arith32, k; Add => I32Add, Sub => I32Sub, Mul => I32Mul, DivS => I32DivS,
    DivU => I32DivU, RemS => I32RemS, RemU => I32RemU, And => I32And, Or => I32Or,
    Xor => I32Xor, Shl => I32Shl, ShrS => I32ShrS, ShrU => I32ShrU, Rotl => I32Rotl,
    Rotr => I32Rotr);
arith!(arith64, k; Add => I64Add, Sub => I64Sub, Mul => I64Mul, DivS => I64DivS,
    DivU => I64DivU, RemS => I64RemS, RemU => I64RemU, And => I64And, Or => I64Or,
    Xor => I64Xor, Shl => I64Shl, ShrS => I64ShrS, ShrU => I64ShrU, Rotl => I64Rotl,
    Rotr => I64Rotr);

/// The immediate form of `a op imm` for 32-bit (`wide` false) or 64-bit arithmetic, if there
/// is one for this immediate. Division by a constant zero keeps the plain form (it traps).
pub(super) fn arith_imm(k: ArithKind, wide: bool, imm: i32) -> Option<MakeImm> {
    use ArithKind::*;
    let f: MakeImm = match (k, wide) {
        (Add, false) => |d, a, imm| Op::I32AddImm { d, a, imm },
        (Sub, false) => |d, a, imm| Op::I32AddImm {
            d,
            a,
            imm: imm.wrapping_neg(),
        },
        (Mul, false) => |d, a, imm| Op::I32MulImm { d, a, imm },
        (DivS, false) if imm != 0 => |d, a, imm| Op::I32DivSImm { d, a, imm },
        (DivU, false) if imm != 0 => |d, a, imm| Op::I32DivUImm { d, a, imm },
        (RemS, false) if imm != 0 => |d, a, imm| Op::I32RemSImm { d, a, imm },
        (RemU, false) if imm != 0 => |d, a, imm| Op::I32RemUImm { d, a, imm },
        (And, false) => |d, a, imm| Op::I32AndImm { d, a, imm },
        (Or, false) => |d, a, imm| Op::I32OrImm { d, a, imm },
        (Xor, false) => |d, a, imm| Op::I32XorImm { d, a, imm },
        (Shl, false) => |d, a, imm| Op::I32ShlImm { d, a, imm },
        (ShrS, false) => |d, a, imm| Op::I32ShrSImm { d, a, imm },
        (ShrU, false) => |d, a, imm| Op::I32ShrUImm { d, a, imm },
        (Rotl, false) => |d, a, imm| Op::I32RotlImm { d, a, imm },
        (Rotr, false) => |d, a, imm| Op::I32RotrImm { d, a, imm },
        (Add, true) => |d, a, imm| Op::I64AddImm { d, a, imm },
        // `a - imm` is `a + -imm` unless `-imm` does not fit (i32::MIN).
        (Sub, true) if imm != i32::MIN => |d, a, imm| Op::I64AddImm {
            d,
            a,
            imm: imm.wrapping_neg(),
        },
        (Mul, true) => |d, a, imm| Op::I64MulImm { d, a, imm },
        (DivS, true) if imm != 0 => |d, a, imm| Op::I64DivSImm { d, a, imm },
        (DivU, true) if imm != 0 => |d, a, imm| Op::I64DivUImm { d, a, imm },
        (RemS, true) if imm != 0 => |d, a, imm| Op::I64RemSImm { d, a, imm },
        (RemU, true) if imm != 0 => |d, a, imm| Op::I64RemUImm { d, a, imm },
        (And, true) => |d, a, imm| Op::I64AndImm { d, a, imm },
        (Or, true) => |d, a, imm| Op::I64OrImm { d, a, imm },
        (Xor, true) => |d, a, imm| Op::I64XorImm { d, a, imm },
        (Shl, true) => |d, a, imm| Op::I64ShlImm { d, a, imm },
        (ShrS, true) => |d, a, imm| Op::I64ShrSImm { d, a, imm },
        (ShrU, true) => |d, a, imm| Op::I64ShrUImm { d, a, imm },
        (Rotl, true) => |d, a, imm| Op::I64RotlImm { d, a, imm },
        (Rotr, true) => |d, a, imm| Op::I64RotrImm { d, a, imm },
        _ => return None,
    };
    Some(f)
}

impl BinForm {
    pub(super) fn plain(self) -> MakeBin {
        match self {
            BinForm::Cmp32(k) => cmp32(k),
            BinForm::Cmp64(k) => cmp64(k),
            BinForm::Arith32(k) => arith32(k),
            BinForm::Arith64(k) => arith64(k),
            BinForm::Plain(f) => f,
        }
    }

    /// `a op imm`.
    pub(super) fn imm_rhs(self, imm: i32) -> Option<MakeImm> {
        match self {
            BinForm::Cmp32(k) => Some(cmp32_imm(k)),
            BinForm::Cmp64(k) => Some(cmp64_imm(k)),
            BinForm::Arith32(k) => arith_imm(k, false, imm),
            BinForm::Arith64(k) => arith_imm(k, true, imm),
            BinForm::Plain(_) => None,
        }
    }

    /// `imm op b`, as `b op' imm`.
    pub(super) fn imm_lhs(self, _imm: i32) -> Option<MakeImm> {
        use ArithKind::*;
        match self {
            BinForm::Cmp32(k) => Some(cmp32_imm(k.flip())),
            BinForm::Cmp64(k) => Some(cmp64_imm(k.flip())),
            BinForm::Arith32(k @ (Add | Mul | And | Or | Xor)) => arith_imm(k, false, 1),
            BinForm::Arith64(k @ (Add | Mul | And | Or | Xor)) => arith_imm(k, true, 1),
            BinForm::Arith32(Sub) => Some(|d, a, imm| Op::I32SubImmLhs { d, a, imm }),
            BinForm::Arith64(Sub) => Some(|d, a, imm| Op::I64SubImmLhs { d, a, imm }),
            _ => None,
        }
    }
}

/// The fused forms of every load and store (see [`Op`]): the wrapping one (`...W`) and the
/// indexed one (`...X`).
macro_rules! access_forms {
    (load: $($l:ident => $lw:ident / $lx:ident),* ;
     store: $($s:ident => $sw:ident / $sx:ident),*) => {
        /// The wrapping form of a load or store: the same operands, its offset added to the
        /// address modulo 2^32.
        pub(super) fn wrapped(op: Op) -> Option<Op> {
            match op {
                $(Op::$l { d, addr, offset } => Some(Op::$lw { d, addr, offset }),)*
                $(Op::$s { addr, v, offset } => Some(Op::$sw { addr, v, offset }),)*
                _ => None,
            }
        }

        /// The indexed form of a load or store at `slot a + slot b`: the same result or
        /// value and offset.
        pub(super) fn indexed(op: Op, a: Slot, b: Slot) -> Option<Op> {
            match op {
                $(Op::$l { d, offset, .. } => Some(Op::$lx { d, a, b, offset }),)*
                $(Op::$s { v, offset, .. } => Some(Op::$sx { a, b, v, offset }),)*
                _ => None,
            }
        }
    };
}

access_forms!(
    load: I32Load => I32LoadW / I32LoadX, I64Load => I64LoadW / I64LoadX,
    I32Load8S => I32Load8SW / I32Load8SX, I32Load8U => I32Load8UW / I32Load8UX,
    I32Load16S => I32Load16SW / I32Load16SX, I32Load16U => I32Load16UW / I32Load16UX,
    I64Load8S => I64Load8SW / I64Load8SX, I64Load16S => I64Load16SW / I64Load16SX,
    I64Load32S => I64Load32SW / I64Load32SX, I64Load32U => I64Load32UW / I64Load32UX;
    store: I32Store => I32StoreW / I32StoreX, I64Store => I64StoreW / I64StoreX,
    I32Store8 => I32Store8W / I32Store8X, I32Store16 => I32Store16W / I32Store16X,
    I32StoreImm => I32StoreImmW / I32StoreImmX, I64StoreImm => I64StoreImmW / I64StoreImmX,
    I32Store8Imm => I32Store8ImmW / I32Store8ImmX, I32Store16Imm => I32Store16ImmW / I32Store16ImmX
);

/// The form of a 32- or 64-bit load that first advances its address local by a constant.
pub(super) fn advancing(op: Op) -> Option<impl FnOnce(i16) -> Op> {
    let (d, p, offset, wide) = match op {
        Op::I32Load { d, addr, offset } => (d, addr, offset, false),
        Op::I64Load { d, addr, offset } => (d, addr, offset, true),
        _ => return None,
    };
    Some(move |k: i16| {
        if wide {
            Op::I64LoadAdv { d, p, k, offset }
        } else {
            Op::I32LoadAdv { d, p, k, offset }
        }
    })
}

/// The slot an instruction writes the value it computes to: its single result, or the value
/// an advancing load reads (which also writes its pointer, so it is not a
/// [`result_slot_mut`]), mutably.
pub(super) fn value_slot_mut(op: &mut Op) -> Option<&mut Slot> {
    match op {
        Op::I32LoadAdv { d, .. } | Op::I64LoadAdv { d, .. } => Some(d),
        op => result_slot_mut(op),
    }
}

/// The slot an instruction writes its single result to, if it has one.
pub(super) fn result_slot(op: &Op) -> Option<Slot> {
    let mut op = *op;
    result_slot_mut(&mut op).map(|d| *d)
}

macro_rules! with_dst {
    ($op:expr; $($v:ident),* $(,)?) => {
        match $op {
            $(Op::$v { d, .. } => Some(d),)*
            _ => None,
        }
    };
}

/// The result slot of an instruction that writes exactly one, mutably.
pub(super) fn result_slot_mut(op: &mut Op) -> Option<&mut Slot> {
    with_dst!(op;
        Copy, RefIsNull, MemoryGrow, I32Eqz, I64Eqz, I32Clz, I32Ctz, I32Popcnt, I64Clz,
        I64Ctz, I64Popcnt, F32Abs, F32Neg, F32Ceil, F32Floor, F32Trunc, F32Nearest, F32Sqrt,
        F64Abs, F64Neg, F64Ceil, F64Floor, F64Trunc, F64Nearest, F64Sqrt, I32WrapI64,
        I32TruncF32S, I32TruncF32U, I32TruncF64S, I32TruncF64U, I64ExtendI32S, I64ExtendI32U,
        I64TruncF32S, I64TruncF32U, I64TruncF64S, I64TruncF64U, F32ConvertI32S,
        F32ConvertI32U, F32ConvertI64S, F32ConvertI64U, F32DemoteF64, F64ConvertI32S,
        F64ConvertI32U, F64ConvertI64S, F64ConvertI64U, F64PromoteF32, I32Extend8S,
        I32Extend16S, I64Extend8S, I64Extend16S, I64Extend32S, I32TruncSatF32S,
        I32TruncSatF32U, I32TruncSatF64S, I32TruncSatF64U, I64TruncSatF32S, I64TruncSatF32U,
        I64TruncSatF64S, I64TruncSatF64U,
        I32Eq, I32Ne, I32LtS, I32LtU, I32GtS, I32GtU, I32LeS, I32LeU, I32GeS, I32GeU, I64Eq,
        I64Ne, I64LtS, I64LtU, I64GtS, I64GtU, I64LeS, I64LeU, I64GeS, I64GeU, F32Eq, F32Ne,
        F32Lt, F32Gt, F32Le, F32Ge, F64Eq, F64Ne, F64Lt, F64Gt, F64Le, F64Ge, I32Add, I32Sub,
        I32Mul, I32DivS, I32DivU, I32RemS, I32RemU, I32And, I32Or, I32Xor, I32Shl, I32ShrS,
        I32ShrU, I32Rotl, I32Rotr, I64Add, I64Sub, I64Mul, I64DivS, I64DivU, I64RemS, I64RemU,
        I64And, I64Or, I64Xor, I64Shl, I64ShrS, I64ShrU, I64Rotl, I64Rotr, F32Add, F32Sub,
        F32Mul, F32Div, F32Min, F32Max, F32Copysign, F64Add, F64Sub, F64Mul, F64Div, F64Min,
        F64Max, F64Copysign,
        I32EqImm, I32NeImm, I32LtSImm, I32LtUImm, I32GtSImm, I32GtUImm, I32LeSImm, I32LeUImm,
        I32GeSImm, I32GeUImm, I64EqImm, I64NeImm, I64LtSImm, I64LtUImm, I64GtSImm, I64GtUImm,
        I64LeSImm, I64LeUImm, I64GeSImm, I64GeUImm, I32AddImm, I32SubImmLhs, I32MulImm,
        I32DivSImm, I32DivUImm, I32RemSImm, I32RemUImm, I32AndImm, I32OrImm, I32XorImm,
        I32ShlImm, I32ShrSImm, I32ShrUImm, I32RotlImm, I32RotrImm, I64AddImm, I64SubImmLhs,
        I64MulImm, I64DivSImm, I64DivUImm, I64RemSImm, I64RemUImm, I64AndImm, I64OrImm,
        I64XorImm, I64ShlImm, I64ShrSImm, I64ShrUImm, I64RotlImm, I64RotrImm,
        I32Load, I64Load, I32Load8S, I32Load8U, I32Load16S, I32Load16U, I64Load8S, I64Load16S,
        I64Load32S, I64Load32U, I32LoadW, I64LoadW, I32Load8SW, I32Load8UW, I32Load16SW,
        I32Load16UW, I64Load8SW, I64Load16SW, I64Load32SW, I64Load32UW, I32LoadScaledW, I32LoadX,
        I64LoadX,
        I32Load8SX, I32Load8UX, I32Load16SX, I32Load16UX, I64Load8SX, I64Load16SX, I64Load32SX,
        I64Load32UX, I32LoadAbs, I64LoadAbs,
        F64AddAdd, F64AddAddR, F64AddSub, F64AddSubR, F64AddMul, F64AddMulR, F64SubAdd,
        F64SubAddR, F64SubSub, F64SubSubR, F64SubMul, F64SubMulR, F64MulAdd, F64MulAddR,
        F64MulSub, F64MulSubR, F64MulMul, F64MulMulR,
        I32ShlImmXor, I32ShlImmAdd, I32ShlImmOr, I32ShrUImmXor, I32ShrUImmAdd, I32ShrUImmOr,
        I32AndImmXor, I32AndImmAdd, I32AndImmOr, I32XorAndImm, I32XorMulImm, I32XorShrUImm,
        I32XorShlImm, I32AddAndImm, I32AddShlImm, I32AndImmShlImm, I32ShrUImmAndImm,
        I32AddImmAndImm, I32MulImmShrUImm, I32MulImmAddImm, I32ShlImmAddImm, I64MulImmAddImm,
        I32MulAdd, I32XorXor, I32AddAdd,
        Const32, Const64, Select, Select64, SelectAndImm, GlobalGet, TableGet, TableSize,
        TableGrow, RefFunc,
        MemorySize,
    )
}

/// Hands macro `$m` the variants of [`Op`] given after it, then every conditional branch with
/// a 16-bit cost and a 32-bit offset (the `br_cond`, `br_cmp` and `br_cmp_imm` shapes): the
/// one list of them that [`branch_offset`] and [`branch_cost`] share.
macro_rules! with_cond_branches {
    ($m:ident! $($first:ident),*) => {
        $m!($($first,)*
            BrNez, BrEqz, BrNez64, BrEqz64, BrI32Eq, BrI32Ne, BrI32LtS, BrI32LtU, BrI32GtS,
            BrI32GtU, BrI32LeS, BrI32LeU, BrI32GeS, BrI32GeU, BrI64Eq, BrI64Ne, BrI64LtS, BrI64LtU,
            BrI64GtS, BrI64GtU, BrI64LeS, BrI64LeU, BrI64GeS, BrI64GeU, BrF32Eq, BrF32Ne, BrF32Lt,
            BrF32Gt, BrF32Le, BrF32Ge, BrF64Eq, BrF64Ne, BrF64Lt, BrF64Gt, BrF64Le, BrF64Ge,
            BrI32EqImm, BrI32NeImm, BrI32LtSImm, BrI32LtUImm, BrI32GtSImm, BrI32GtUImm,
            BrI32LeSImm, BrI32LeUImm, BrI32GeSImm, BrI32GeUImm, BrI64EqImm, BrI64NeImm,
            BrI64LtSImm, BrI64LtUImm, BrI64GtSImm, BrI64GtUImm, BrI64LeSImm, BrI64LeUImm,
            BrI64GeSImm, BrI64GeUImm
        )
    };
}

/// The offset field of a branch instruction.
pub(super) fn branch_offset(op: &mut Op) -> Option<&mut i32> {
    macro_rules! off {
        ($($v:ident),* $(,)?) => {
            match op {
                $(Op::$v { offset, .. } => Some(offset),)*
                _ => None,
            }
        };
    }
    with_cond_branches!(off! Br)
}

/// The 16-bit offset field of a branch fused with the add before it (see
/// [`Op::BrI32AddImmNe`]).
pub(super) fn short_branch_offset(op: &mut Op) -> Option<&mut i16> {
    match op {
        Op::BrI32AddImmNe { offset, .. }
        | Op::BrI32AddImmLtU { offset, .. }
        | Op::BrI32AddImmLtS { offset, .. }
        | Op::BrI32AddImmNez { offset, .. }
        | Op::BrI32AddNe { offset, .. }
        | Op::BrI32AddLtU { offset, .. }
        | Op::BrI32AddLtS { offset, .. } => Some(offset),
        _ => None,
    }
}

/// The 16-bit cost field of a conditional branch.
pub(super) fn branch_cost(op: &mut Op) -> Option<&mut u16> {
    macro_rules! cost {
        ($($v:ident),* $(,)?) => {
            match op {
                $(Op::$v { cost, .. } => Some(cost),)*
                _ => None,
            }
        };
    }
    with_cond_branches!(cost! BrI32AddImmNe, BrI32AddImmLtU, BrI32AddImmLtS, BrI32AddImmNez,
        BrI32AddNe, BrI32AddLtU, BrI32AddLtS)
}
