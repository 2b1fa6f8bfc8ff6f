// SPDX-License-Identifier: GPL-2.0

//! The engine's internal instruction set: a register machine.
//!
//! [`crate::translate`] turns each validated function body into a flat array of [`Op`]s that
//! operate on the *slots* of the running function's frame: untyped 64-bit cells addressed by
//! a 16-bit index relative to the frame pointer. A frame is laid out as
//!
//! ```text
//! fp -> [ parameters | declared locals | constants | operand temporaries ... ]
//!        0            num_params         num_locals  num_locals + consts.len() = t
//! ```
//!
//! so `local.get` and constants cost nothing at run time: they become operands of the
//! instructions that use them (small constants as immediates, the constants of loops that
//! cannot be immediates from slots written once on entry, see [`FuncCode::consts`]). Every
//! value the wasm operand stack would hold at depth `p` lives in slot `t + p`, so the results
//! of a block, the arguments of a call and the values a branch carries are already where they
//! must be in the common case. A call's arguments are the caller's topmost temporaries, and
//! the callee's frame starts there: frames overlap and nothing is copied.
//!
//! Instructions are fused where compilers emit sequences: a comparison followed by `br_if` or
//! `if` is one compare-and-branch, an operand that is a small constant is an immediate
//! (`I32AddImm`), a constant address is folded into the load's offset, and a result written to
//! a local by `local.set`/`local.tee` goes there directly.
//!
//! # Fuel
//!
//! Fuel is charged for work, not per call or loop: every instruction has a weight
//! ([`Op::weight`]), and a function's code is cut into *regions* at loop headers, at the
//! instruction after each loop and at least every [`MAX_REGION_WEIGHT`] units of straight-line
//! code. Entering a region pays for all of it at once: by the [`Op::Fuel`] instruction at its
//! start when execution falls into it, by the `cost` of the branch that jumps into it
//! (backward branches always pay, forward branches within a region never do), or, for the
//! first region of a function, by the call ([`FuncCode::entry_cost`]). Execution inside a region
//! only moves forward, so no region runs more instructions than it paid for. Bulk operations
//! pay by length. The same countdown drives the embedder's interrupt hook, so the time between
//! two hook calls is bounded whatever the module does (see [`crate::Config`]).
//!
//! # Encoding
//!
//! Slot encoding: `i32` and `f32` are zero-extended to 64 bits, floats are bit patterns,
//! references are their store address plus one with 0 for null. Branch offsets are relative to
//! the branch instruction. Instructions that need more operands than fit in 12 bytes are
//! followed by [`Op::Aux`] words. Function, table, memory, global, element, data and type
//! indices are those of the module: the code is shared by every instance of the module, and
//! the executor maps them through the running instance.

use alloc::vec::Vec;

/// A frame-relative slot index.
pub type Slot = u16;

/// The most weight a region accumulates before the translator starts a new one. Small enough
/// that paying for a region never delays the interrupt hook noticeably, large enough that the
/// extra [`Op::Fuel`] instructions cost nothing.
pub const MAX_REGION_WEIGHT: u32 = 1024;

/// Defines [`Op`] from its instructions, grouped by operand shape within each dispatch tier.
///
/// The tiers put the instructions in order of how often they run (counted on the benchmark
/// suite of `tools/wasm/bench` and bzip2's library, see `Documentation/wasm/engine.rst`;
/// within a tier the order does not matter), and the order of the variants is the order of
/// their discriminants: a tier is a contiguous range of them, which the predicate the tier
/// names (true for it and every tier before it) tests with one comparison. Builds without
/// jump tables (the kernel's) dispatch in tiers, see [`crate::exec`]; the others ignore them.
///
/// Implemented as a muncher over the shape groups, because a macro cannot expand to part of
/// an enum: each step appends one group's variants, its arms of [`Op::shape_slots`] and its
/// patterns to the accumulated tokens, and the last step emits them.
macro_rules! ops {
    // A tier: its groups, then the end of the tier.
    (@munch $v:tt $s:tt $p:tt $f:tt
        $(#[$tdoc:meta])* tier $pred:ident { $($groups:tt)* } $($rest:tt)*) => {
        ops!(@munch $v $s $p $f $($groups)* @end_tier [$(#[$tdoc])*] $pred $($rest)*);
    };
    (@munch $v:tt $s:tt [$($p:tt)*] [$($f:tt)*]
        @end_tier [$($tdoc:tt)*] $pred:ident $($rest:tt)*) => {
        ops!(@munch $v $s [$($p)*] [$($f)*
            $($tdoc)*
            #[cfg_attr(not(no_jump_tables), allow(dead_code))]
            #[inline(always)]
            pub(crate) fn $pred(&self) -> bool {
                matches!(self, $($p)*)
            }
        ] $($rest)*);
    };
    // The last tier, which needs no predicate.
    (@munch $v:tt $s:tt $p:tt $f:tt $(#[$tdoc:meta])* tier { $($groups:tt)* }) => {
        ops!(@munch $v $s $p $f $($groups)*);
    };
    // The shape groups. `shape_slots` arms give the slots and their count, so that the
    // closure is named in one expansion only (local names are hygienic per expansion).
    (@munch [$($v:tt)*] $s:tt [$($p:tt)*] $f:tt other {
        $($(#[$doc:meta])* $name:ident $({ $($field:ident : $fty:ty),* })?,)*
    } $($rest:tt)*) => {
        ops!(@munch [$($v)* $($(#[$doc])* $name $({ $($field: $fty),* })?,)*] $s
            [$($p)* $(| Op::$name { .. })*] $f $($rest)*);
    };
    (@munch $v:tt $s:tt $p:tt $f:tt
        $shape:ident { $($name:ident),* $(,)? } $($rest:tt)*) => {
        ops!(@shape $shape $v $s $p $f [$($name)*] $($rest)*);
    };
    (@shape un [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { d: Slot, s: Slot },)*]
            [$($s)* $(Op::$n { d, s } => ([d, s, 0, 0], 2),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape bin [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { d: Slot, a: Slot, b: Slot },)*]
            [$($s)* $(Op::$n { d, a, b } => ([d, a, b, 0], 3),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape bin_imm [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { d: Slot, a: Slot, imm: i32 },)*]
            [$($s)* $(Op::$n { d, a, .. } => ([d, a, 0, 0], 2),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape bin2 [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { d: Slot, a: Slot, b: Slot, c: Slot },)*]
            [$($s)* $(Op::$n { d, a, b, c } => ([d, a, b, c], 4),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape bin_imm2 [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { d: Slot, a: Slot, b: Slot, imm: i32 },)*]
            [$($s)* $(Op::$n { d, a, b, .. } => ([d, a, b, 0], 3),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape imm_imm [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { d: Slot, a: Slot, k: i16, imm: i32 },)*]
            [$($s)* $(Op::$n { d, a, .. } => ([d, a, 0, 0], 2),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape br_cmp [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { a: Slot, b: Slot, cost: u16, offset: i32 },)*]
            [$($s)* $(Op::$n { a, b, .. } => ([a, b, 0, 0], 2),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape br_cmp_imm [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { a: Slot, imm: i16, cost: u16, offset: i32 },)*]
            [$($s)* $(Op::$n { a, .. } => ([a, 0, 0, 0], 1),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape br_cond [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { c: Slot, cost: u16, offset: i32 },)*]
            [$($s)* $(Op::$n { c, .. } => ([c, 0, 0, 0], 1),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape load [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { d: Slot, addr: Slot, offset: u32 },)*]
            [$($s)* $(Op::$n { d, addr, .. } => ([d, addr, 0, 0], 2),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape load_abs [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { d: Slot, addr: u32 },)*]
            [$($s)* $(Op::$n { d, .. } => ([d, 0, 0, 0], 1),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape store [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { addr: Slot, v: Slot, offset: u32 },)*]
            [$($s)* $(Op::$n { addr, v, .. } => ([addr, v, 0, 0], 2),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape store_imm [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { addr: Slot, v: i16, offset: u32 },)*]
            [$($s)* $(Op::$n { addr, .. } => ([addr, 0, 0, 0], 1),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape load_idx [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { d: Slot, a: Slot, b: Slot, offset: u32 },)*]
            [$($s)* $(Op::$n { d, a, b, .. } => ([d, a, b, 0], 3),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape store_idx [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*] $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { a: Slot, b: Slot, v: Slot, offset: u32 },)*]
            [$($s)* $(Op::$n { a, b, v, .. } => ([a, b, v, 0], 3),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    (@shape store_idx_imm [$($v:tt)*] [$($s:tt)*] [$($p:tt)*] $f:tt [$($n:ident)*]
        $($rest:tt)*) => {
        ops!(@munch [$($v)* $($n { a: Slot, b: Slot, v: i16, offset: u32 },)*]
            [$($s)* $(Op::$n { a, b, .. } => ([a, b, 0, 0], 2),)*]
            [$($p)* $(| Op::$n { .. })*] $f $($rest)*);
    };
    // One per instruction, for `KINDS`.
    (@one $n:ident) => {
        1
    };
    // Everything is munched: the enum and its shape-derived methods.
    (@munch [$($v:tt)*] [$($s:tt)*] [$(| Op::$n:ident { .. })*] [$($f:tt)*]) => {
        /// One instruction of the internal form, 12 bytes.
        ///
        /// Operand shapes: unary `{ d, s }` is `d = f(s)`; binary `{ d, a, b }` is
        /// `d = f(a, b)`; two fused f64 operations `F64XY { d, a, b, c }` are
        /// `d = (a X b) Y c` and `F64XYR` are `d = c Y (a X b)`, each rounded as two
        /// instructions; `...Imm { d, a, imm }` is `d = f(a, imm)` with the immediate
        /// sign-extended for 64-bit operations (`...ImmLhs` is `d = f(imm, a)`);
        /// compare-and-branch `Br... { a, b, cost, offset }` branches by `offset`, paying
        /// `cost`, if `f(a, b)` (the `...Imm` ones compare with a sign-extended 16-bit `imm`);
        /// loads `{ d, addr, offset }` read memory 0 at `slot addr + offset` (`...Abs { d, addr }`:
        /// a constant address); stores `{ addr, v, offset }` write slot `v` (`...Imm`: a
        /// sign-extended 16-bit `v`). The `...W` loads and stores add `offset` to the address
        /// modulo 2^32, as an `i32.add` of a constant before an access with offset 0 does:
        /// they are that pair fused. The indexed loads and stores (`...X`) access `slot a +
        /// slot b` (modulo 2^32, as an `i32.add`) `+ offset`: `{ d, a, b, offset }` and
        /// `{ a, b, v, offset }`.
        ///
        /// `repr(u16)` makes the discriminants the declaration order, which the dispatch
        /// tiers rely on for speed (not for correctness).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(missing_docs)]
        #[repr(u16)]
        pub enum Op {
            $($v)*
        }

        /// The kinds of [`Op`], without their operands, in the same order: `Kind::X as u16` is
        /// the discriminant of `Op::X`. The interpreter's threaded dispatch tells its handlers
        /// apart by it (see [`crate::exec`]).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u16)]
        pub(crate) enum Kind {
            $($n,)*
        }

        impl Op {
            /// How many instructions there are: their discriminants are `0..KINDS`.
            pub(crate) const KINDS: usize = 0 $(+ ops!(@one $n))*;

            /// Calls `f` with every slot the instruction names directly, for the verifier.
            /// Returns `false` for instructions outside the regular shapes (the verifier
            /// handles those itself).
            pub(crate) fn shape_slots(&self, f: &mut dyn FnMut(u32)) -> bool {
                let (slots, n): ([Slot; 4], usize) = match *self {
                    $($s)*
                    _ => return false,
                };
                for &slot in slots.iter().take(n) {
                    f(slot.into());
                }
                true
            }

            $($f)*
        }
    };
    // The entry: the tiers, fastest first.
    ($($tiers:tt)*) => {
        ops!(@munch [] [] [] [] $($tiers)*);
    };
}

ops! {
    /// Tier 1, tested first: the 17 instructions that run most often.
    tier up_to_tier1 {
        other {
            /// Pay for the region this starts (see the module documentation).
            Fuel { cost: u32 },
            /// [`Op::BrI32AddImmNe`], adding slot `x` and branching if `a < b` (unsigned).
            BrI32AddLtU { a: Slot, x: Slot, b: Slot, cost: u16, offset: i16 },
            /// `d = v`.
            Const32 { d: Slot, v: u32 },
            /// `d = (c & imm) != 0 ? a : b`, `imm` sign-extended to 64 bits: an `and` with a
            /// constant fused into the `select` it feeds, directly or through an `eqz` (then with
            /// `a` and `b` swapped). One form serves both widths: an i32's high half is zero.
            SelectAndImm { d: Slot, c: Slot, a: Slot, b: Slot, imm: i16 },
        }
        un { Copy }
        bin { I32Add }
        bin_imm { I32AddImm, I32ShlImm, I64ShrUImm }
        bin_imm2 { I32ShlImmAdd, I32ShrUImmXor }
        br_cmp { BrI32Eq }
        load { I32Load, I32LoadW, I64LoadW }
        load_idx { I32Load8UX }
        store_idx_imm { I32Store8ImmX }
    }
    /// Tier 2: the next 26.
    tier up_to_tier2 {
        other {
            /// Branch by `offset`, paying `cost`.
            Br { cost: u32, offset: i32 },
            /// `a = a + imm` (an i32, wrapping), then branch by `offset`, paying `cost`, if
            /// `a != b`: a loop's counter advanced and tested at its back edge. The `...Add...`
            /// forms add slot `x`, the `...LtU`/`...LtS` forms branch if `a < b`, `...Nez` if
            /// `a != 0`. Backward branches only, within 2^15 instructions.
            BrI32AddImmNe { a: Slot, imm: i16, b: Slot, cost: u16, offset: i16 },
            BrI32AddImmNez { a: Slot, imm: i16, cost: u16, offset: i16 },
            /// Return slot `s`.
            Return1 { s: Slot },
            /// Call defined function `func` of this module; its arguments start at slot `base`,
            /// where its results are left.
            Call { base: Slot, func: u32 },
            /// `d = a + imm` (an i32, wrapping), then `d2 = d`: an add of a constant and a copy
            /// of its result.
            I32AddImmCopy { d: Slot, d2: Slot, a: Slot, imm: i32 },
            /// `d1 = s1`, then `d2 = s2`: two copies in a row.
            Copy2 { d1: Slot, s1: Slot, d2: Slot, s2: Slot },
        }
        bin { I32Sub, I32Mul, I64Add, F64Add, F64Mul }
        bin_imm { I32MulImm, I32AndImm }
        bin2 { I32AddAdd }
        bin_imm2 { I32XorAndImm }
        imm_imm { I64MulImmAddImm }
        br_cmp { BrI32Ne }
        br_cmp_imm { BrI32GtUImm, BrI64NeImm }
        br_cond { BrNez, BrEqz }
        load { I32Load16U, I32Load8UW }
        store { I32Store, I32Store8 }
    }
    /// Tier 3: the next 45.
    tier up_to_tier3 {
        other {
            /// Call through table 0 with the i32 in slot `index`, expecting module type `ty`.
            CallIndirect { base: Slot, index: Slot, ty: u32 },
            /// `p = p + k` (an i32, wrapping; `k` sign-extended), then `d = ` the i32 in memory 0
            /// at `p + offset`: a pointer advanced and read through.
            I32LoadAdv { d: Slot, p: Slot, k: i16, offset: u32 },
            /// `d = c != 0 ? a : b` (`c` is an i32).
            Select { d: Slot, c: Slot, a: Slot, b: Slot },
        }
        bin { I32And, I32Xor, I32ShrU, I64Xor, F64Sub }
        bin_imm { I32XorImm, I32ShrSImm, I32ShrUImm, I64MulImm }
        bin2 { F64AddAddR, F64SubAddR, F64MulAdd, F64MulMul, I32MulAdd }
        bin_imm2 { I32ShlImmXor }
        imm_imm {
            I32AndImmShlImm, I32ShrUImmAndImm, I32AddImmAndImm, I32ShlImmAddImm, I32LoadScaledW
        }
        br_cmp { BrI32LtU, BrI32GtS, BrI32GtU, BrI32GeS, BrF64Le }
        br_cmp_imm { BrI32NeImm, BrI32LtUImm, BrI32GtSImm }
        load {
            I64Load, I32Load8U, I32Load16S, I32Load16SW, I32Load16UW, I64Load8SW, I64Load16SW,
            I64Load32SW, I64Load32UW
        }
        store { I64Store, I32StoreW, I64StoreW, I32Store8W, I32Store16W }
        load_idx { I32LoadX }
    }
    /// Everything else: rare, or costly enough that three comparisons more do not matter.
    tier {
        other {
            /// Trap with "unreachable".
            Unreachable,
            /// Extra operands of the instruction before it; never executed.
            Aux { a: u32, b: u32 },
            BrI32AddImmLtU { a: Slot, imm: i16, b: Slot, cost: u16, offset: i16 },
            BrI32AddImmLtS { a: Slot, imm: i16, b: Slot, cost: u16, offset: i16 },
            BrI32AddNe { a: Slot, x: Slot, b: Slot, cost: u16, offset: i16 },
            BrI32AddLtS { a: Slot, x: Slot, b: Slot, cost: u16, offset: i16 },
            /// Branch through the `len + 1` [`Op::Br`]s that follow, by the i32 in slot `s` (the
            /// last one is the default).
            BrTable { s: Slot, len: u32 },
            /// Return nothing.
            Return0,
            /// Return a 32-bit constant.
            ReturnImm32 { v: u32 },
            /// Return slots `first..first + n`.
            ReturnN { first: Slot, n: u16 },
            /// Call imported function `func`.
            CallImport { base: Slot, func: u32 },
            /// Call through the table in the next [`Op::Aux`] (`a`).
            CallIndirectTable { base: Slot, index: Slot, ty: u32 },
            /// As [`Op::I32LoadAdv`], for an i64.
            I64LoadAdv { d: Slot, p: Slot, k: i16, offset: u32 },
            /// Store slot `v` as an i32 at constant address `addr` of memory 0 (the offset
            /// folded in): C's static variables.
            I32StoreAbs { v: Slot, addr: u32 },
            /// As [`Op::I32StoreAbs`], for an i64.
            I64StoreAbs { v: Slot, addr: u32 },
            /// `d = lo | hi << 32`.
            Const64 { d: Slot, lo: u32, hi: u32 },
            /// `d = c != 0 ? a : b` (`c` is an i64): an `i64.eqz` fused into the `select` it
            /// feeds, with `a` and `b` swapped.
            Select64 { d: Slot, c: Slot, a: Slot, b: Slot },
            GlobalGet { d: Slot, global: u32 },
            GlobalSet { s: Slot, global: u32 },
            TableGet { d: Slot, i: Slot, table: u32 },
            TableSet { i: Slot, v: Slot, table: u32 },
            TableSize { d: Slot, table: u32 },
            /// `d = table.grow(init = slot base, n = slot base + 1)`.
            TableGrow { d: Slot, base: Slot, table: u32 },
            /// `table.fill(i = base, v = base + 1, n = base + 2)`.
            TableFill { base: Slot, table: u32 },
            /// `table.copy(d = base, s = base + 1, n = base + 2)`.
            TableCopy { base: Slot, dst: u32, src: u32 },
            /// `table.init(d = base, s = base + 1, n = base + 2)`.
            TableInit { base: Slot, table: u32, elem: u32 },
            ElemDrop { elem: u32 },
            RefFunc { d: Slot, func: u32 },
            MemorySize { d: Slot },
            /// `memory.fill(d = base, v = base + 1, n = base + 2)`.
            MemoryFill { base: Slot },
            /// `memory.copy(d = base, s = base + 1, n = base + 2)`.
            MemoryCopy { base: Slot },
            /// `memory.init(d = base, s = base + 1, n = base + 2)`.
            MemoryInit { base: Slot, data: u32 },
            DataDrop { data: u32 },
        }
        un {
            RefIsNull, MemoryGrow, I32Eqz, I64Eqz, I32Clz, I32Ctz, I32Popcnt, I64Clz, I64Ctz,
            I64Popcnt, F32Abs, F32Neg, F32Ceil, F32Floor, F32Trunc, F32Nearest, F32Sqrt, F64Abs,
            F64Neg, F64Ceil, F64Floor, F64Trunc, F64Nearest, F64Sqrt, I32WrapI64, I32TruncF32S,
            I32TruncF32U, I32TruncF64S, I32TruncF64U, I64ExtendI32S, I64ExtendI32U, I64TruncF32S,
            I64TruncF32U, I64TruncF64S, I64TruncF64U, F32ConvertI32S, F32ConvertI32U,
            F32ConvertI64S, F32ConvertI64U, F32DemoteF64, F64ConvertI32S, F64ConvertI32U,
            F64ConvertI64S, F64ConvertI64U, F64PromoteF32, I32Extend8S, I32Extend16S, I64Extend8S,
            I64Extend16S, I64Extend32S, I32TruncSatF32S, I32TruncSatF32U, I32TruncSatF64S,
            I32TruncSatF64U, I64TruncSatF32S, I64TruncSatF32U, I64TruncSatF64S, I64TruncSatF64U
        }
        bin {
            I32Eq, I32Ne, I32LtS, I32LtU, I32GtS, I32GtU, I32LeS, I32LeU, I32GeS, I32GeU, I64Eq,
            I64Ne, I64LtS, I64LtU, I64GtS, I64GtU, I64LeS, I64LeU, I64GeS, I64GeU, F32Eq, F32Ne,
            F32Lt, F32Gt, F32Le, F32Ge, F64Eq, F64Ne, F64Lt, F64Gt, F64Le, F64Ge, I32DivS, I32DivU,
            I32RemS, I32RemU, I32Or, I32Shl, I32ShrS, I32Rotl, I32Rotr, I64Sub, I64Mul, I64DivS,
            I64DivU, I64RemS, I64RemU, I64And, I64Or, I64Shl, I64ShrS, I64ShrU, I64Rotl, I64Rotr,
            F32Add, F32Sub, F32Mul, F32Div, F32Min, F32Max, F32Copysign, F64Div, F64Min, F64Max,
            F64Copysign
        }
        bin_imm {
            I32EqImm, I32NeImm, I32LtSImm, I32LtUImm, I32GtSImm, I32GtUImm, I32LeSImm, I32LeUImm,
            I32GeSImm, I32GeUImm, I64EqImm, I64NeImm, I64LtSImm, I64LtUImm, I64GtSImm, I64GtUImm,
            I64LeSImm, I64LeUImm, I64GeSImm, I64GeUImm, I32SubImmLhs, I32DivSImm, I32DivUImm,
            I32RemSImm, I32RemUImm, I32OrImm, I32RotlImm, I32RotrImm, I64AddImm, I64SubImmLhs,
            I64DivSImm, I64DivUImm, I64RemSImm, I64RemUImm, I64AndImm, I64OrImm, I64XorImm,
            I64ShlImm, I64ShrSImm, I64RotlImm, I64RotrImm
        }
        bin2 {
            F64AddAdd, F64AddSub, F64AddSubR, F64AddMul, F64AddMulR, F64SubAdd, F64SubSub,
            F64SubSubR, F64SubMul, F64SubMulR, F64MulAddR, F64MulSub, F64MulSubR, F64MulMulR,
            I32XorXor
        }
        bin_imm2 {
            I32ShlImmOr, I32ShrUImmAdd, I32ShrUImmOr, I32AndImmXor, I32AndImmAdd, I32AndImmOr,
            I32XorMulImm, I32XorShrUImm, I32XorShlImm, I32AddAndImm, I32AddShlImm
        }
        imm_imm { I32MulImmShrUImm, I32MulImmAddImm }
        br_cmp {
            BrI32LtS, BrI32LeS, BrI32LeU, BrI32GeU, BrI64Eq, BrI64Ne, BrI64LtS, BrI64LtU, BrI64GtS,
            BrI64GtU, BrI64LeS, BrI64LeU, BrI64GeS, BrI64GeU, BrF32Eq, BrF32Ne, BrF32Lt, BrF32Gt,
            BrF32Le, BrF32Ge, BrF64Eq, BrF64Ne, BrF64Lt, BrF64Gt, BrF64Ge
        }
        br_cmp_imm {
            BrI32EqImm, BrI32LtSImm, BrI32LeSImm, BrI32LeUImm, BrI32GeSImm, BrI32GeUImm, BrI64EqImm,
            BrI64LtSImm, BrI64LtUImm, BrI64GtSImm, BrI64GtUImm, BrI64LeSImm, BrI64LeUImm,
            BrI64GeSImm, BrI64GeUImm
        }
        br_cond { BrNez64, BrEqz64 }
        load { I32Load8S, I64Load8S, I64Load16S, I64Load32S, I64Load32U, I32Load8SW }
        load_abs { I32LoadAbs, I64LoadAbs }
        store { I32Store16 }
        store_imm {
            I32StoreImm, I64StoreImm, I32Store8Imm, I32Store16Imm, I32StoreImmW, I64StoreImmW,
            I32Store8ImmW, I32Store16ImmW
        }
        load_idx {
            I64LoadX, I32Load8SX, I32Load16SX, I32Load16UX, I64Load8SX, I64Load16SX, I64Load32SX,
            I64Load32UX
        }
        store_idx { I32StoreX, I64StoreX, I32Store8X, I32Store16X }
        store_idx_imm { I32StoreImmX, I64StoreImmX, I32Store16ImmX }
    }
}

// The executor's speed depends on instructions staying small: keep them at 12 bytes.
const _: () = assert!(core::mem::size_of::<Op>() == 12);

impl Op {
    /// The fuel weight of the instruction: about what it costs relative to an integer add,
    /// with soft-float in mind (the kernel has no FPU for Rust code). Calls pay the callee's
    /// entry region on top; bulk operations pay by length when they run.
    pub fn weight(&self) -> u32 {
        match self {
            Op::Aux { .. } | Op::Fuel { .. } => 0,
            Op::Call { .. }
            | Op::CallImport { .. }
            | Op::CallIndirect { .. }
            | Op::CallIndirectTable { .. } => 4,
            Op::MemoryGrow { .. }
            | Op::TableGrow { .. }
            | Op::MemoryFill { .. }
            | Op::MemoryCopy { .. }
            | Op::MemoryInit { .. }
            | Op::TableFill { .. }
            | Op::TableCopy { .. }
            | Op::TableInit { .. } => 8,
            Op::F32Div { .. } | Op::F64Div { .. } | Op::F32Sqrt { .. } | Op::F64Sqrt { .. } => 8,
            // Two integer operations or copies, an add and a load, an add and a branch.
            Op::Copy2 { .. }
            | Op::BrI32AddImmNe { .. }
            | Op::BrI32AddImmLtU { .. }
            | Op::BrI32AddImmLtS { .. }
            | Op::BrI32AddImmNez { .. }
            | Op::BrI32AddNe { .. }
            | Op::BrI32AddLtU { .. }
            | Op::BrI32AddLtS { .. }
            | Op::I32AddImmCopy { .. }
            | Op::I32LoadAdv { .. }
            | Op::I64LoadAdv { .. }
            | Op::I32LoadScaledW { .. }
            | Op::I32ShlImmXor { .. }
            | Op::I32ShlImmAdd { .. }
            | Op::I32ShlImmOr { .. }
            | Op::I32ShrUImmXor { .. }
            | Op::I32ShrUImmAdd { .. }
            | Op::I32ShrUImmOr { .. }
            | Op::I32AndImmXor { .. }
            | Op::I32AndImmAdd { .. }
            | Op::I32AndImmOr { .. }
            | Op::I32XorAndImm { .. }
            | Op::I32XorMulImm { .. }
            | Op::I32XorShrUImm { .. }
            | Op::I32XorShlImm { .. }
            | Op::I32AddAndImm { .. }
            | Op::I32AddShlImm { .. }
            | Op::I32AndImmShlImm { .. }
            | Op::I32ShrUImmAndImm { .. }
            | Op::I32AddImmAndImm { .. }
            | Op::I32MulImmShrUImm { .. }
            | Op::I32MulImmAddImm { .. }
            | Op::I32ShlImmAddImm { .. }
            | Op::I64MulImmAddImm { .. }
            | Op::SelectAndImm { .. }
            | Op::I32MulAdd { .. }
            | Op::I32XorXor { .. }
            | Op::I32AddAdd { .. } => 2,
            // Two of the 3-unit float operations.
            Op::F64AddAdd { .. }
            | Op::F64AddAddR { .. }
            | Op::F64AddSub { .. }
            | Op::F64AddSubR { .. }
            | Op::F64AddMul { .. }
            | Op::F64AddMulR { .. }
            | Op::F64SubAdd { .. }
            | Op::F64SubAddR { .. }
            | Op::F64SubSub { .. }
            | Op::F64SubSubR { .. }
            | Op::F64SubMul { .. }
            | Op::F64SubMulR { .. }
            | Op::F64MulAdd { .. }
            | Op::F64MulAddR { .. }
            | Op::F64MulSub { .. }
            | Op::F64MulSubR { .. }
            | Op::F64MulMul { .. }
            | Op::F64MulMulR { .. } => 6,
            Op::F32Add { .. }
            | Op::F32Sub { .. }
            | Op::F32Mul { .. }
            | Op::F64Add { .. }
            | Op::F64Sub { .. }
            | Op::F64Mul { .. }
            | Op::F32Ceil { .. }
            | Op::F32Floor { .. }
            | Op::F32Trunc { .. }
            | Op::F32Nearest { .. }
            | Op::F64Ceil { .. }
            | Op::F64Floor { .. }
            | Op::F64Trunc { .. }
            | Op::F64Nearest { .. }
            | Op::F32ConvertI64S { .. }
            | Op::F32ConvertI64U { .. }
            | Op::F64ConvertI64S { .. }
            | Op::F64ConvertI64U { .. }
            | Op::F32ConvertI32S { .. }
            | Op::F32ConvertI32U { .. }
            | Op::F64ConvertI32S { .. }
            | Op::F64ConvertI32U { .. }
            | Op::F32DemoteF64 { .. }
            | Op::F64PromoteF32 { .. } => 3,
            Op::I32DivS { .. }
            | Op::I32DivU { .. }
            | Op::I32RemS { .. }
            | Op::I32RemU { .. }
            | Op::I64DivS { .. }
            | Op::I64DivU { .. }
            | Op::I64RemS { .. }
            | Op::I64RemU { .. }
            | Op::F32Eq { .. }
            | Op::F32Ne { .. }
            | Op::F32Lt { .. }
            | Op::F32Gt { .. }
            | Op::F32Le { .. }
            | Op::F32Ge { .. }
            | Op::F64Eq { .. }
            | Op::F64Ne { .. }
            | Op::F64Lt { .. }
            | Op::F64Gt { .. }
            | Op::F64Le { .. }
            | Op::F64Ge { .. } => 2,
            _ => 1,
        }
    }
}

/// A translated function body, shared by every instance of its module.
#[derive(Debug, Default)]
pub struct FuncCode {
    /// The instructions; the last one returns or traps.
    pub ops: Vec<Op>,
    /// For each instruction, the byte offset in the module of the wasm instruction it came
    /// from (for trap reports).
    pub offsets: Vec<u32>,
    /// Index of the function in its module's function index space.
    pub func_index: u32,
    /// Number of parameters.
    pub num_params: u16,
    /// Number of parameters and declared locals: the declared ones are zeroed on entry.
    pub num_locals: u16,
    /// Number of results.
    pub num_results: u16,
    /// Slots of a frame: locals and the deepest operand stack. Checked once on entry, so the
    /// body itself never runs out of stack.
    pub num_slots: u16,
    /// Fuel of the function's first region, paid by the call.
    pub entry_cost: u32,
    /// Constants the code reads from slots `num_locals..num_locals + consts.len()`, written
    /// there on entry (see [`crate::translate::MAX_FRAME_CONSTS`]).
    pub consts: Vec<u64>,
}
