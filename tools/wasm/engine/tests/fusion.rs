// SPDX-License-Identifier: GPL-2.0

//! The translator fuses common instruction sequences into one instruction of the internal
//! form. Each test here checks that the fused instruction is used for the sequence, and that
//! it computes exactly what the sequence does, at the edges too (wrap-around, bounds, traps
//! and where they are reported).

use std::sync::Arc;

use wasm_engine::ir::Op;
use wasm_engine::{Config, Error, Module, TrapKind, Value};

mod common;

fn module(wat: &str) -> Arc<Module> {
    common::module(&Config::default(), wat)
}

/// The instructions of defined function `i`.
fn ops(m: &Module, i: usize) -> Vec<Op> {
    m.translated()[i].ops.clone()
}

fn call(m: &Arc<Module>, func: &str, args: &[Value]) -> Result<Vec<Value>, Error> {
    common::call_export(m, Config::default(), func, args)
}

fn trap(r: Result<Vec<Value>, Error>) -> (TrapKind, Option<u32>) {
    match r {
        Err(Error::Trap(t)) => (t.kind, t.offset),
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// `i32.add` of a constant feeding a load or store at offset 0 is one access whose address
/// wraps modulo 2^32 like the add.
#[test]
fn add_constant_then_access_wraps() {
    let m = module(
        r#"(module (memory 1)
            (data (i32.const 4) "\01\02\03\04\05\06\07\08")
            (func (export "load") (param i32) (result i32)
                (i32.load (i32.add (local.get 0) (i32.const 8))))
            (func (export "load8") (param i32) (result i32)
                (i32.load8_s (i32.add (local.get 0) (i32.const 8))))
            (func (export "load64") (param i32) (result i64)
                (i64.load (i32.add (local.get 0) (i32.const 8))))
            (func (export "store") (param i32 i32) (result i32)
                (i32.store (i32.add (local.get 0) (i32.const 8)) (local.get 1))
                (i32.load (i32.and (i32.add (local.get 0) (i32.const 8)) (i32.const 0xffff))))
            (func (export "store_imm") (param i32) (result i32)
                (i32.store16 (i32.add (local.get 0) (i32.const 8)) (i32.const -2))
                (i32.load (i32.const 100))))"#,
    );
    let fused = |i: usize| {
        ops(&m, i).iter().any(|op| {
            matches!(
                op,
                Op::I32LoadW { .. }
                    | Op::I32Load8SW { .. }
                    | Op::I64LoadW { .. }
                    | Op::I32StoreW { .. }
                    | Op::I32Store16ImmW { .. }
            )
        })
    };
    assert!((0..5).all(fused), "every access is fused with its add");
    assert!(
        ops(&m, 0)
            .iter()
            .all(|op| !matches!(op, Op::I32AddImm { .. })),
        "the add is gone"
    );
    let i = |v: i32| Value::I32(v);
    // -4 + 8 wraps to 4.
    assert_eq!(call(&m, "load", &[i(-4)]).unwrap(), [i(0x0403_0201)]);
    assert_eq!(call(&m, "load8", &[i(-3)]).unwrap(), [i(2)]);
    assert_eq!(
        call(&m, "load64", &[i(-4)]).unwrap(),
        [Value::I64(0x0807_0605_0403_0201)]
    );
    assert_eq!(call(&m, "store", &[i(92), i(77)]).unwrap(), [i(77)]);
    assert_eq!(call(&m, "store", &[i(-8), i(5)]).unwrap(), [i(5)]);
    assert_eq!(call(&m, "store_imm", &[i(92)]).unwrap(), [i(0xfffe)]);
    // Out of bounds, with and without wrapping: a trap, reported at the access.
    for a in [65536 - 8, 65536 - 7, i32::MAX, -9] {
        let (kind, offset) = trap(call(&m, "load", &[i(a)]));
        assert_eq!(kind, TrapKind::MemoryOutOfBounds, "address {a} + 8");
        let load_at = ops(&m, 0)
            .iter()
            .position(|op| matches!(op, Op::I32LoadW { .. }))
            .unwrap();
        assert_eq!(offset, Some(m.translated()[0].offsets[load_at]));
    }
    let (kind, _) = trap(call(&m, "store", &[i(65536 - 11), i(1)]));
    assert_eq!(kind, TrapKind::MemoryOutOfBounds);
}

/// The add is not fused when the access has an offset of its own (the sum of the two must
/// not wrap), nor when its result is used again.
#[test]
fn add_constant_stays_when_it_must() {
    let m = module(
        r#"(module (memory 1)
            (data (i32.const 0) "\01\02\03\04\05\06\07\08")
            (func (export "offset") (param i32) (result i32)
                (i32.load offset=4 (i32.add (local.get 0) (i32.const 8))))
            (func (export "tee") (param i32) (result i32) (local i32)
                (i32.load (local.tee 1 (i32.add (local.get 0) (i32.const 8))))
                (local.get 1)
                (i32.add)))"#,
    );
    assert!(ops(&m, 0)
        .iter()
        .any(|op| matches!(op, Op::I32AddImm { .. })));
    assert!(ops(&m, 1)
        .iter()
        .any(|op| matches!(op, Op::I32AddImm { .. })));
    let i = |v: i32| Value::I32(v);
    // -8 + 8 = 0, then offset 4 (no wrap of the offset itself).
    assert_eq!(call(&m, "offset", &[i(-8)]).unwrap(), [i(0x0807_0605)]);
    let (kind, _) = trap(call(&m, "offset", &[i(-12)]));
    assert_eq!(kind, TrapKind::MemoryOutOfBounds);
    assert_eq!(call(&m, "tee", &[i(-8)]).unwrap(), [i(0x0403_0201)]);
}

/// `i32.add` of two values feeding a load or store is one indexed access: the sum wraps
/// modulo 2^32 like the add, the access's own offset does not.
#[test]
fn add_then_access_is_indexed() {
    let m = module(
        r#"(module (memory 1)
            (data (i32.const 0) "\01\02\03\04\05\06\07\08\09")
            (func (export "load") (param i32 i32) (result i32)
                (i32.load offset=1 (i32.add (local.get 0) (local.get 1))))
            (func (export "load16") (param i32 i32) (result i64)
                (i64.load16_s (i32.add (local.get 0) (local.get 1))))
            (func (export "store") (param i32 i32 i32) (result i32)
                (i32.store8 offset=2 (i32.add (local.get 0) (local.get 1)) (local.get 2))
                (i32.load (i32.const 0)))
            (func (export "store_imm") (param i32 i32) (result i64)
                (i64.store (i32.add (local.get 0) (local.get 1)) (i64.const -3))
                (i64.load (i32.const 8))))"#,
    );
    let fused = |i: usize| {
        ops(&m, i).iter().any(|op| {
            matches!(
                op,
                Op::I32LoadX { .. }
                    | Op::I64Load16SX { .. }
                    | Op::I32Store8X { .. }
                    | Op::I64StoreImmX { .. }
            )
        })
    };
    assert!((0..4).all(fused), "every access is indexed");
    assert!(
        ops(&m, 0).iter().all(|op| !matches!(op, Op::I32Add { .. })),
        "the add is gone"
    );
    let i = |v: i32| Value::I32(v);
    assert_eq!(call(&m, "load", &[i(1), i(2)]).unwrap(), [i(0x0807_0605)]);
    // 10 + -10 wraps to 0, then offset 1.
    assert_eq!(
        call(&m, "load", &[i(10), i(-10)]).unwrap(),
        [i(0x0504_0302)]
    );
    assert_eq!(
        call(&m, "load16", &[i(-1), i(1)]).unwrap(),
        [Value::I64(0x0201)]
    );
    assert_eq!(
        call(&m, "store", &[i(-2), i(2), i(0xaa)]).unwrap(),
        [i(0x04aa_0201)]
    );
    assert_eq!(
        call(&m, "store_imm", &[i(4), i(4)]).unwrap(),
        [Value::I64(-3)]
    );
    // The offset is added without wrapping: -1 + 0 + 1 is out of bounds.
    let (kind, offset) = trap(call(&m, "load", &[i(-1), i(0)]));
    assert_eq!(kind, TrapKind::MemoryOutOfBounds);
    let at = ops(&m, 0)
        .iter()
        .position(|op| matches!(op, Op::I32LoadX { .. }))
        .unwrap();
    assert_eq!(offset, Some(m.translated()[0].offsets[at]));
    for (a, b) in [(65536, 0), (65530, 3), (i32::MAX, 1)] {
        let (kind, _) = trap(call(&m, "load", &[i(a), i(b)]));
        assert_eq!(kind, TrapKind::MemoryOutOfBounds, "{a} + {b} + 1");
    }
    let (kind, _) = trap(call(&m, "store_imm", &[i(65530), i(0)]));
    assert_eq!(kind, TrapKind::MemoryOutOfBounds);
}

/// The constants of a loop that cannot be immediates live in slots of the frame, written on
/// entry: the loop names them instead of rewriting them on every iteration, and a comparison
/// with a wide constant fuses with the branch after it. Recursion gets fresh copies.
#[test]
fn loop_constants_live_in_the_frame() {
    let m = module(
        r#"(module
            (func (export "count") (param i32) (result i32)
                (local f64)
                (loop $l
                    (local.set 1 (f64.add (local.get 1) (f64.const 0.5)))
                    (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                    (br_if $l (i32.lt_u (local.get 0) (i32.const 100000))))
                (i32.add (local.get 0) (i32.trunc_f64_s (local.get 1))))
            (func (export "once") (result f64)
                (f64.add (f64.const 1.5) (f64.const 2.25)))
            (func $rec (export "rec") (param i32) (result i64)
                (local i64)
                (loop $l
                    (local.set 1 (i64.add (local.get 1) (i64.const 0x1_0000_0000)))
                    (br_if $l (i64.lt_u (local.get 1) (i64.const 0x3_0000_0000))))
                (if (result i64) (local.get 0)
                    (then (i64.add (local.get 1)
                        (call $rec (i32.sub (local.get 0) (i32.const 1)))))
                    (else (local.get 1)))))"#,
    );
    let code = &m.translated()[0];
    assert_eq!(code.consts, [0.5f64.to_bits(), 100000]);
    let loop_ops = &code.ops;
    assert!(
        loop_ops
            .iter()
            .all(|op| !matches!(op, Op::Const32 { .. } | Op::Const64 { .. })),
        "no constant is rewritten: {loop_ops:?}"
    );
    assert!(
        loop_ops
            .iter()
            .any(|op| matches!(op, Op::BrI32AddImmLtU { .. })),
        "the wide comparison fuses with the branch (and the add before it): {loop_ops:?}"
    );
    assert!(m.translated()[1].consts.is_empty(), "no loop, no constants");
    let i = |v: i32| Value::I32(v);
    // From 0: 100000 iterations, 0.5 each.
    assert_eq!(call(&m, "count", &[i(0)]).unwrap(), [i(150000)]);
    // From past the bound: one iteration.
    assert_eq!(call(&m, "count", &[i(200000)]).unwrap(), [i(200001)]);
    assert_eq!(
        call(&m, "once", &[]).unwrap(),
        [Value::F64(3.75f64.to_bits())]
    );
    assert_eq!(
        call(&m, "rec", &[i(3)]).unwrap(),
        [Value::I64(4 * 0x3_0000_0000)]
    );
}

/// `select` on an `i32.eqz` or `i64.eqz` is one instruction, its operands swapped; the
/// 64-bit form tests all 64 bits. A constant operand written after the `eqz` keeps them apart.
#[test]
fn select_absorbs_eqz() {
    let m = module(
        r#"(module
            (func (export "s32") (param i32 i32 i32) (result i32)
                (select (local.get 0) (local.get 1) (i32.eqz (local.get 2))))
            (func (export "s64") (param i64 i64 i64) (result i64)
                (select (local.get 0) (local.get 1) (i64.eqz (local.get 2))))
            (func (export "konst") (param i32 i32) (result i32)
                (select (local.get 0) (i32.const 100000) (i32.eqz (local.get 1)))))"#,
    );
    assert!(ops(&m, 0).iter().all(|op| !matches!(op, Op::I32Eqz { .. })));
    assert!(ops(&m, 1)
        .iter()
        .any(|op| matches!(op, Op::Select64 { .. })));
    assert!(ops(&m, 1).iter().all(|op| !matches!(op, Op::I64Eqz { .. })));
    let (i, l) = (Value::I32, Value::I64);
    assert_eq!(call(&m, "s32", &[i(1), i(2), i(0)]).unwrap(), [i(1)]);
    assert_eq!(call(&m, "s32", &[i(1), i(2), i(-1)]).unwrap(), [i(2)]);
    assert_eq!(call(&m, "s64", &[l(1), l(2), l(0)]).unwrap(), [l(1)]);
    // Only the high half set: not zero.
    assert_eq!(call(&m, "s64", &[l(1), l(2), l(1 << 40)]).unwrap(), [l(2)]);
    assert_eq!(call(&m, "konst", &[i(7), i(0)]).unwrap(), [i(7)]);
    assert_eq!(call(&m, "konst", &[i(7), i(3)]).unwrap(), [i(100000)]);
}

/// An f64 `+`, `-` or `*` of the result of another is one instruction that still rounds
/// twice (no fused multiply-add), with its operands in their order; a result kept in a local
/// is not fused away.
#[test]
fn f64_pairs_fuse_and_round_twice() {
    let m = module(
        r#"(module
            (func (export "mul_add") (param f64 f64 f64) (result f64)
                (f64.add (f64.mul (local.get 0) (local.get 1)) (local.get 2)))
            (func (export "sub_r") (param f64 f64 f64) (result f64)
                (f64.sub (local.get 2) (f64.sub (local.get 0) (local.get 1))))
            (func (export "mul_mul_r") (param f64 f64 f64) (result f64)
                (f64.mul (local.get 2) (f64.mul (local.get 0) (local.get 1))))
            (func (export "add_sub") (param f64 f64 f64) (result f64)
                (f64.sub (f64.add (local.get 0) (local.get 1)) (local.get 2)))
            (func (export "teed") (param f64 f64 f64) (result f64)
                (f64.add (local.tee 0 (f64.mul (local.get 0) (local.get 1))) (local.get 0))))"#,
    );
    let fused = |i: usize, f: fn(&Op) -> bool| ops(&m, i).iter().filter(|op| f(op)).count();
    assert_eq!(fused(0, |op| matches!(op, Op::F64MulAdd { .. })), 1);
    assert_eq!(fused(1, |op| matches!(op, Op::F64SubSubR { .. })), 1);
    assert_eq!(fused(2, |op| matches!(op, Op::F64MulMulR { .. })), 1);
    assert_eq!(fused(3, |op| matches!(op, Op::F64AddSub { .. })), 1);
    assert_eq!(fused(4, |op| matches!(op, Op::F64MulAdd { .. })), 0);
    let f = |x: f64| Value::F64(x.to_bits());
    let run = |name: &str, a: f64, b: f64, c: f64| call(&m, name, &[f(a), f(b), f(c)]).unwrap();
    // (1 + 2^-30)(1 - 2^-30) = 1 - 2^-60 rounds to 1: the sum is 0, where a fused
    // multiply-add would give -2^-60.
    // Written out rather than computed with `powi`, which Miri may round differently.
    let e = 1.0 / 1_073_741_824.0;
    assert_eq!(run("mul_add", 1.0 + e, 1.0 - e, -1.0), [f(0.0)]);
    assert_eq!(run("sub_r", 5.0, 3.0, 10.0), [f(8.0)]);
    assert_eq!(run("mul_mul_r", 1.5, 4.0, -2.0), [f(-12.0)]);
    // 2^53 + 1 rounds to 2^53 before the subtraction.
    let big = 9_007_199_254_740_992.0;
    assert_eq!(run("add_sub", big, 1.0, big), [f(0.0)]);
    assert_eq!(run("teed", 3.0, 4.0, 0.0), [f(24.0)]);
}

/// Pairs of i32 operations where the second reads the first's result are one instruction
/// (shift-and-xor, mask-and-shift, multiply-add, ...). Each pair computes what it computes
/// unfused (the intermediate kept in a local by `local.tee`), over edge-case operands:
/// shift counts beyond 31, wrap-around, either operand order.
#[test]
fn i32_pairs_fuse() {
    let ops2 = ["xor", "add", "or"];
    let mut exprs: Vec<(String, usize)> = Vec::new();
    let x = |op: &str, a: &str, b: &str| format!("(i32.{op} {a} {b})");
    for k in ["0", "1", "13", "31", "32", "33", "-1", "255", "65535", "-2"] {
        let k = format!("(i32.const {k})");
        for p in ["shl", "shr_u", "and"] {
            for s in ops2 {
                // (a P k) S b, and b S (a P k).
                exprs.push((x(s, &x(p, "FIRST", &k), "(local.get 1)"), 1));
                exprs.push((x(s, "(local.get 1)", &x(p, "FIRST", &k)), 1));
            }
        }
        for (p, s) in [
            ("xor", "and"),
            ("xor", "mul"),
            ("xor", "shr_u"),
            ("xor", "shl"),
            ("add", "and"),
            ("add", "shl"),
        ] {
            // (a P b) S k.
            let first = x(p, "(local.get 0)", "(local.get 1)");
            exprs.push((x(s, &first.replace("(local.get 0)", "FIRST0"), &k), 1));
        }
        for (p, s, k2) in [
            ("and", "shl", "(i32.const 3)"),
            ("shr_u", "and", "(i32.const 255)"),
            ("add", "and", "(i32.const 65535)"),
            ("mul", "shr_u", "(i32.const 15)"),
            ("mul", "shr_u", "(i32.const 47)"),
        ] {
            // (a P k) S k2.
            exprs.push((x(s, &x(p, "FIRST", &k), k2), 1));
        }
    }
    for (p, s) in [("mul", "add"), ("xor", "xor"), ("add", "add")] {
        let first = x(p, "FIRST0", "(local.get 1)");
        exprs.push((x(s, &first, "(local.get 2)"), 1));
        exprs.push((x(s, "(local.get 2)", &first), 1));
    }
    let mut funcs = String::new();
    for (i, (e, _)) in exprs.iter().enumerate() {
        // The first operation's operand, a local; unfused: its result teed into local 3.
        let fused = e
            .replace("FIRST0", "(local.get 0)")
            .replace("FIRST", "(local.get 0)");
        let plain = tee_first(e);
        funcs.push_str(&format!(
            "(func (export \"f{i}\") (param i32 i32 i32) (result i32) (local i32) {fused})\n\
             (func (export \"g{i}\") (param i32 i32 i32) (result i32) (local i32) {plain})\n"
        ));
    }
    let m = module(&format!("(module {funcs})"));
    let inputs = [
        0,
        1,
        -1,
        7,
        0x1234_5678,
        i32::MIN,
        i32::MAX,
        0x8000,
        -0x10000,
    ];
    let mut fused_count = 0;
    for (i, (e, _)) in exprs.iter().enumerate() {
        if ops(&m, 2 * i).len() < ops(&m, 2 * i + 1).len() {
            fused_count += 1;
        }
        for &a in &inputs {
            for &b in &inputs[..5] {
                let args = [Value::I32(a), Value::I32(b), Value::I32(b ^ 0x55)];
                let f = call(&m, &format!("f{i}"), &args).unwrap();
                let g = call(&m, &format!("g{i}"), &args).unwrap();
                assert_eq!(f, g, "{e} on {a}, {b}");
            }
        }
    }
    // All but `(a + 65535) & 65535`: an add beyond 16 bits stays two instructions.
    assert_eq!(fused_count, exprs.len() - 1);
}

/// `e` with the first operation's result (the innermost `(i32.OP FIRST..)`) teed into local 3,
/// which keeps the two operations apart.
fn tee_first(e: &str) -> String {
    let marker = if e.contains("FIRST0") {
        "FIRST0"
    } else {
        "FIRST"
    };
    let at = e.find(marker).unwrap();
    let start = e[..at].rfind("(i32.").unwrap();
    // The matching parenthesis of the first operation.
    let mut depth = 0;
    let mut end = start;
    for (j, ch) in e[start..].char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = start + j + 1;
                    break;
                }
            }
            _ => {}
        }
    }
    let inner = e[start..end].replace(marker, "(local.get 0)");
    format!("{}(local.tee 3 {inner}){}", &e[..start], &e[end..])
}

/// Two copies in a row are one instruction, which makes them one after the other: the
/// second sees what the first wrote.
#[test]
fn copies_in_a_row_fuse() {
    let m = module(
        r#"(module
            (func (export "swap") (param i32 i32) (result i32) (local i32)
                (local.set 2 (local.get 0))
                (local.set 0 (local.get 1))
                (local.set 1 (local.get 2))
                (i32.add (i32.mul (local.get 0) (i32.const 10)) (local.get 1)))
            (func (export "chain") (param i32 i32) (result i32) (local i32)
                (local.set 2 (local.get 0))
                (local.set 1 (local.get 2))
                (local.get 1)))"#,
    );
    for i in 0..2 {
        assert!(
            ops(&m, i).iter().any(|op| matches!(op, Op::Copy2 { .. })),
            "{:?}",
            ops(&m, i)
        );
    }
    let i = |v: i32| Value::I32(v);
    assert_eq!(call(&m, "swap", &[i(1), i(2)]).unwrap(), [i(21)]);
    assert_eq!(call(&m, "chain", &[i(7), i(3)]).unwrap(), [i(7)]);
}

/// A store of a computed value at `address + constant`: the add fuses into the store even
/// though the value's instruction came after it; the address still wraps like the add, and
/// traps are reported where the value's instruction and the store are.
#[test]
fn add_constant_fuses_into_store_of_computed_value() {
    let m = module(
        r#"(module (memory 1)
            (func (export "st") (param i32 i32) (result i32)
                (i32.store (i32.add (local.get 0) (i32.const 8))
                    (i32.div_s (local.get 1) (i32.const 2)))
                (i32.load (i32.and (i32.add (local.get 0) (i32.const 8)) (i32.const 0xffff))))
            (func (export "st_trap") (param i32 i32)
                (i32.store16 (i32.add (local.get 0) (i32.const 8))
                    (i32.div_s (local.get 1) (local.get 1)))))"#,
    );
    for f in 0..2 {
        let code = ops(&m, f);
        assert!(
            code.iter()
                .any(|op| matches!(op, Op::I32StoreW { .. } | Op::I32Store16W { .. })),
            "{code:?}"
        );
        assert!(
            !code.iter().any(|op| matches!(op, Op::I32AddImm { .. })),
            "{code:?}"
        );
    }
    let i = |v: i32| Value::I32(v);
    assert_eq!(call(&m, "st", &[i(4), i(-10)]).unwrap(), [i(-5)]);
    // -4 + 8 wraps to 4.
    assert_eq!(call(&m, "st", &[i(-4), i(100)]).unwrap(), [i(50)]);
    let (kind, offset) = trap(call(&m, "st", &[i(65532), i(2)]));
    assert_eq!(kind, TrapKind::MemoryOutOfBounds);
    let at = |f: usize, pred: fn(&Op) -> bool| {
        let i = ops(&m, f).iter().position(pred).unwrap();
        Some(m.translated()[f].offsets[i])
    };
    assert_eq!(offset, at(0, |op| matches!(op, Op::I32StoreW { .. })));
    // The value traps first, at the division.
    let (kind, offset) = trap(call(&m, "st_trap", &[i(65535), i(0)]));
    assert_eq!(kind, TrapKind::IntegerDivideByZero);
    assert_eq!(offset, at(1, |op| matches!(op, Op::I32DivS { .. })));
    let (kind, offset) = trap(call(&m, "st_trap", &[i(65535), i(1)]));
    assert_eq!(kind, TrapKind::MemoryOutOfBounds);
    assert_eq!(offset, at(1, |op| matches!(op, Op::I32Store16W { .. })));
}

/// A local advanced by a constant and then read through is one instruction: the local
/// takes its new value (wrapping like the add) and the load reads there; out of bounds, it
/// traps where the load is.
#[test]
fn advancing_load_fuses() {
    let m = module(
        r#"(module (memory 1)
            (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
            (func (export "sum") (param i32) (result i32) (local i32)
                (local.set 1 (i32.const 0))
                (loop $l
                    (local.set 0 (i32.add (local.get 0) (i32.const 4)))
                    (local.set 1 (i32.add (local.get 1) (i32.load offset=0 (local.get 0))))
                    (br_if $l (i32.lt_u (local.get 0) (i32.const 12))))
                (i32.add (i32.mul (local.get 1) (i32.const 100)) (local.get 0)))
            (func (export "wide") (param i32) (result i64)
                (local.set 0 (i32.add (local.get 0) (i32.const -8)))
                (i64.load offset=4 (local.get 0))))"#,
    );
    assert!(ops(&m, 0)
        .iter()
        .any(|op| matches!(op, Op::I32LoadAdv { .. })));
    assert!(ops(&m, 1)
        .iter()
        .any(|op| matches!(op, Op::I64LoadAdv { .. })));
    let i = |v: i32| Value::I32(v);
    // From -4: reads 1, 2, 3, 4 at 0, 4, 8, 12.
    assert_eq!(call(&m, "sum", &[i(-4)]).unwrap(), [i(1012)]);
    // 12 - 8 + 4 = 8: the bytes of 3 and 4.
    assert_eq!(
        call(&m, "wide", &[i(12)]).unwrap(),
        [Value::I64(0x0000_0004_0000_0003)]
    );
    // 4 - 8 wraps to 2^32 - 4: out of bounds.
    let (kind, offset) = trap(call(&m, "wide", &[i(4)]));
    assert_eq!(kind, TrapKind::MemoryOutOfBounds);
    let at = ops(&m, 1)
        .iter()
        .position(|op| matches!(op, Op::I64LoadAdv { .. }))
        .unwrap();
    assert_eq!(offset, Some(m.translated()[1].offsets[at]));
}

/// A load through an advancing pointer whose value goes to a local writes the local
/// directly, even when that local is the pointer itself (the load's value wins).
#[test]
fn advancing_load_writes_its_local() {
    let m = module(
        r#"(module (memory 1)
            (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
            (func (export "scan") (param i32 i32) (result i32) (local i32)
                (loop $l
                    (br_if $l (i32.lt_u
                        (local.tee 2 (i32.load (local.tee 0 (i32.add (local.get 0)
                            (i32.const 4)))))
                        (local.get 1))))
                (i32.add (i32.mul (local.get 2) (i32.const 100)) (local.get 0)))
            (func (export "self") (param i32) (result i32)
                (local.set 0 (i32.load (local.tee 0 (i32.add (local.get 0) (i32.const 4)))))
                (local.get 0)))"#,
    );
    for f in 0..2 {
        let code = ops(&m, f);
        assert!(
            code.iter().any(|op| matches!(op, Op::I32LoadAdv { .. })),
            "{code:?}"
        );
        assert!(
            !code.iter().any(|op| matches!(op, Op::Copy { .. })),
            "{code:?}"
        );
    }
    let i = |v: i32| Value::I32(v);
    // From -4: reads 1, 2, 3 and stops at 3 (not below 3), at address 8.
    assert_eq!(call(&m, "scan", &[i(-4), i(3)]).unwrap(), [i(308)]);
    assert_eq!(call(&m, "self", &[i(4)]).unwrap(), [i(3)]);
}

/// A shift by a constant and an add of a constant, as in the address of a static array's
/// element, are one instruction that wraps as the pair does; the shift count is taken modulo 32.
#[test]
fn shift_add_constants_fuse() {
    let m = module(
        r#"(module
            (func (export "f") (param i32) (result i32)
                (i32.add (i32.shl (local.get 0) (i32.const 2)) (i32.const 1024)))
            (func (export "g") (param i32) (result i32)
                (i32.add (i32.shl (local.get 0) (i32.const 33)) (i32.const -1))))"#,
    );
    for f in 0..2 {
        let ops = ops(&m, f);
        assert!(ops
            .iter()
            .any(|op| matches!(op, Op::I32ShlImmAddImm { .. })));
        assert!(!ops.iter().any(|op| matches!(op, Op::I32ShlImm { .. })));
    }
    let i = Value::I32;
    assert_eq!(call(&m, "f", &[i(5)]).unwrap(), [i(1044)]);
    // 0x4000_0001 << 2 wraps to 4, plus 1024.
    assert_eq!(call(&m, "f", &[i(0x4000_0001)]).unwrap(), [i(1028)]);
    // A count of 33 shifts by 1.
    assert_eq!(call(&m, "g", &[i(3)]).unwrap(), [i(5)]);
    assert_eq!(call(&m, "g", &[i(i32::MIN)]).unwrap(), [i(-1)]);
}

/// When an access reads the element address directly, the add's constant goes into the
/// access: an i32 load of `(i << k) + base` is one instruction that shifts, adds and loads;
/// other accesses are a shift and a `...W` access, as before the fusion of shift and add
/// (which would save nothing there). Either way the sum wraps modulo 2^32 like the add.
#[test]
fn shift_add_constants_split_for_an_access() {
    let m = module(
        r#"(module
            (memory 1)
            (data (i32.const 16) "\01\00\00\00\02\00\00\00")
            (func (export "load") (param i32) (result i32)
                (i32.load (i32.add (i32.shl (local.get 0) (i32.const 2)) (i32.const 16))))
            (func (export "store") (param i32 i32)
                (i32.store (i32.add (i32.shl (local.get 0) (i32.const 2)) (i32.const 16))
                    (local.get 1)))
            (func (export "kept") (param i32) (result i32) (local i32)
                (i32.load (local.tee 1
                    (i32.add (i32.shl (local.get 0) (i32.const 2)) (i32.const 16))))
                (local.get 1)
                (i32.add)))"#,
    );
    let load = ops(&m, 0);
    assert!(
        matches!(
            load.as_slice(),
            [Op::I32LoadScaledW { k: 2, imm: 16, .. }, ..]
        ),
        "{load:?}"
    );
    assert!(!load.iter().any(|op| matches!(
        op,
        Op::I32ShlImm { .. } | Op::I32ShlImmAddImm { .. } | Op::I32LoadW { .. }
    )));
    let store = ops(&m, 1);
    assert!(!store
        .iter()
        .any(|op| matches!(op, Op::I32ShlImmAddImm { .. })));
    assert!(store.iter().any(|op| matches!(op, Op::I32ShlImm { .. })));
    assert!(store
        .iter()
        .any(|op| matches!(op, Op::I32StoreW { offset: 16, .. })));
    // The element address is kept in a local: the shift and add stay one instruction, and
    // the load reads the local.
    assert!(ops(&m, 2)
        .iter()
        .any(|op| matches!(op, Op::I32ShlImmAddImm { .. })));
    let i = Value::I32;
    assert_eq!(call(&m, "load", &[i(1)]).unwrap(), [i(2)]);
    // 0x4000_0001 << 2 wraps to 4: the same element.
    assert_eq!(call(&m, "load", &[i(0x4000_0001)]).unwrap(), [i(2)]);
    // 0x3fff_fffc << 2 is 2^32 - 16, plus 16 wraps to 0: the first four bytes.
    assert_eq!(call(&m, "load", &[i(0x3fff_fffc)]).unwrap(), [i(0)]);
    assert_eq!(call(&m, "kept", &[i(1)]).unwrap(), [i(2 + 20)]);
    // The last whole element is in bounds, the next one is not; the trap is the load's.
    assert_eq!(call(&m, "load", &[i(16379)]).unwrap(), [i(0)]);
    // 0x4000_0000 << 2 wraps to 0: the first element.
    assert_eq!(call(&m, "load", &[i(0x4000_0000)]).unwrap(), [i(1)]);
    for index in [16380, 0x3fff_fff0, 0x7fff_0000] {
        let (kind, offset) = trap(call(&m, "load", &[i(index)]));
        assert_eq!(kind, TrapKind::MemoryOutOfBounds, "index {index}");
        assert_eq!(offset, Some(m.translated()[0].offsets[0]));
    }
}

/// A multiply by a constant and an add of a small one are one instruction, wrapping as the
/// pair does; an addend beyond 16 bits keeps them apart.
#[test]
fn multiply_add_constants_fuse() {
    let m = module(
        r#"(module
            (func (export "m32") (param i32) (result i32)
                (i32.add (i32.mul (local.get 0) (i32.const 3)) (i32.const 1)))
            (func (export "m64") (param i64) (result i64)
                (i64.add (i64.mul (local.get 0) (i64.const -3)) (i64.const -7)))
            (func (export "far") (param i32) (result i32)
                (i32.add (i32.mul (local.get 0) (i32.const 3)) (i32.const 100000))))"#,
    );
    assert!(ops(&m, 0)
        .iter()
        .any(|op| matches!(op, Op::I32MulImmAddImm { .. })));
    assert!(ops(&m, 1)
        .iter()
        .any(|op| matches!(op, Op::I64MulImmAddImm { .. })));
    assert!(ops(&m, 2)
        .iter()
        .any(|op| matches!(op, Op::I32MulImm { .. })));
    let (i, l) = (Value::I32, Value::I64);
    assert_eq!(call(&m, "m32", &[i(5)]).unwrap(), [i(16)]);
    // 0x5555_5556 * 3 + 1 wraps to 3.
    assert_eq!(call(&m, "m32", &[i(0x5555_5556)]).unwrap(), [i(3)]);
    assert_eq!(call(&m, "m64", &[l(5)]).unwrap(), [l(-22)]);
    let big = 0x4000_0000_0000_0001_i64;
    let want = big.wrapping_mul(-3).wrapping_sub(7);
    assert_eq!(call(&m, "m64", &[l(big)]).unwrap(), [l(want)]);
    assert_eq!(call(&m, "far", &[i(1)]).unwrap(), [i(100003)]);
}

/// `select` on an `and` with a small constant, directly or through an `eqz`, is one
/// instruction; the 64-bit form tests the constant's sign-extended high bits. An `and` kept
/// in a local is not fused away.
#[test]
fn select_absorbs_and_constant() {
    let m = module(
        r#"(module
            (func (export "odd") (param i32 i32 i32) (result i32)
                (select (local.get 0) (local.get 1) (i32.and (local.get 2) (i32.const 1))))
            (func (export "even64") (param i64 i64 i64) (result i64)
                (select (local.get 0) (local.get 1)
                    (i64.eqz (i64.and (local.get 2) (i64.const -8)))))
            (func (export "even32") (param i32 i32 i32) (result i32)
                (select (local.get 0) (local.get 1)
                    (i32.eqz (i32.and (local.get 2) (i32.const 6)))))
            (func (export "kept") (param i32 i32 i32) (result i32) (local i32)
                (select (local.get 0) (local.get 1)
                    (local.tee 3 (i32.and (local.get 2) (i32.const 1))))
                (i32.mul (local.get 3) (i32.const 100))
                (i32.add)))"#,
    );
    for f in 0..3 {
        let code = ops(&m, f);
        assert!(
            code.iter().any(|op| matches!(op, Op::SelectAndImm { .. })),
            "{code:?}"
        );
        assert!(
            !code.iter().any(|op| matches!(
                op,
                Op::I32AndImm { .. } | Op::I64AndImm { .. } | Op::I32Eqz { .. } | Op::I64Eqz { .. }
            )),
            "{code:?}"
        );
    }
    assert!(!ops(&m, 3)
        .iter()
        .any(|op| matches!(op, Op::SelectAndImm { .. })));
    let (i, l) = (Value::I32, Value::I64);
    assert_eq!(call(&m, "odd", &[i(1), i(2), i(3)]).unwrap(), [i(1)]);
    assert_eq!(call(&m, "odd", &[i(1), i(2), i(-2)]).unwrap(), [i(2)]);
    // -8 sign-extends: only the high half set still counts.
    assert_eq!(
        call(&m, "even64", &[l(1), l(2), l(1 << 40)]).unwrap(),
        [l(2)]
    );
    assert_eq!(call(&m, "even64", &[l(1), l(2), l(7)]).unwrap(), [l(1)]);
    assert_eq!(call(&m, "even32", &[i(1), i(2), i(9)]).unwrap(), [i(1)]);
    assert_eq!(call(&m, "even32", &[i(1), i(2), i(-1)]).unwrap(), [i(2)]);
    assert_eq!(call(&m, "kept", &[i(1), i(2), i(3)]).unwrap(), [i(101)]);
    assert_eq!(call(&m, "kept", &[i(1), i(2), i(4)]).unwrap(), [i(2)]);
}

/// An add of a constant whose result is copied right away (`local.tee x` `local.set y`) is
/// one instruction writing both, also when one of them is its operand.
#[test]
fn add_constant_and_copy_fuse() {
    let m = module(
        r#"(module
            (func (export "two") (param i32) (result i32) (local i32)
                (local.set 0 (local.tee 1 (i32.add (local.get 0) (i32.const -4))))
                (i32.add (i32.mul (local.get 0) (i32.const 1000)) (local.get 1))))"#,
    );
    let code = ops(&m, 0);
    assert!(
        code.iter().any(|op| matches!(op, Op::I32AddImmCopy { .. })),
        "{code:?}"
    );
    assert!(
        !code.iter().any(|op| matches!(op, Op::Copy { .. })),
        "{code:?}"
    );
    let i = |v: i32| Value::I32(v);
    assert_eq!(call(&m, "two", &[i(10)]).unwrap(), [i(6006)]);
    // 2 - 4 wraps.
    assert_eq!(call(&m, "two", &[i(2)]).unwrap(), [i(-2002)]);
}

/// The back edge of a counted loop (`i = i + k; br_if (i != n)`, or `<`, or `!= 0`) is one
/// instruction with the add; the counter wraps like the add, the test sees its new value,
/// and a loop too long for the fused instruction's 16-bit offset keeps them apart.
#[test]
fn counted_loop_back_edge_fuses() {
    let counted = |name: &str, step: &str, test: &str| {
        format!(
            r#"(func (export "{name}") (param i32 i32 i32) (result i32) (local i32)
                (loop $l
                    (local.set 3 (i32.add (local.get 3) (i32.const 1)))
                    (local.set 0 (i32.add (local.get 0) {step}))
                    (br_if $l {test}))
                (i32.add (i32.mul (local.get 3) (i32.const 1000)) (local.get 0)))"#
        )
    };
    let funcs = [
        counted(
            "ne",
            "(i32.const 3)",
            "(i32.ne (local.get 0) (local.get 1))",
        ),
        counted(
            "ne_r",
            "(i32.const 3)",
            "(i32.ne (local.get 1) (local.get 0))",
        ),
        counted(
            "ltu",
            "(local.get 2)",
            "(i32.lt_u (local.get 0) (local.get 1))",
        ),
        counted(
            "gtu",
            "(local.get 2)",
            "(i32.gt_u (local.get 1) (local.get 0))",
        ),
        counted(
            "lts",
            "(i32.const 2)",
            "(i32.lt_s (local.get 0) (local.get 1))",
        ),
        counted(
            "gts",
            "(local.get 2)",
            "(i32.gt_s (local.get 1) (local.get 0))",
        ),
        counted("nez", "(i32.const -1)", "(local.get 0)"),
        counted(
            "add_ne",
            "(local.get 2)",
            "(i32.ne (local.get 0) (local.get 1))",
        ),
    ];
    let m = module(&format!("(module {})", funcs.join("\n")));
    for f in 0..funcs.len() {
        let code = ops(&m, f);
        assert!(
            code.iter().any(|op| matches!(
                op,
                Op::BrI32AddImmNe { .. }
                    | Op::BrI32AddImmLtU { .. }
                    | Op::BrI32AddImmLtS { .. }
                    | Op::BrI32AddImmNez { .. }
                    | Op::BrI32AddNe { .. }
                    | Op::BrI32AddLtU { .. }
                    | Op::BrI32AddLtS { .. }
            )),
            "function {f}: {code:?}"
        );
    }
    let i = |v: i32| Value::I32(v);
    let run = |f: &str, a: i32, b: i32, c: i32| call(&m, f, &[i(a), i(b), i(c)]).unwrap();
    // 0, 3, ..., 30: ten iterations.
    assert_eq!(run("ne", 0, 30, 0), [i(10030)]);
    assert_eq!(run("ne_r", 0, 30, 0), [i(10030)]);
    // From -6 through 0 to 3.
    assert_eq!(run("ne", -6, 3, 0), [i(3003)]);
    assert_eq!(run("ltu", 0, 100, 7), [i(15105)]);
    assert_eq!(run("gtu", 0, 20, 7), [i(3021)]);
    // Unsigned: -3 is not below 20.
    assert_eq!(run("ltu", -10, 20, 7), [i(997)]);
    // Signed: -8, -6, ..., 4.
    assert_eq!(run("lts", -10, 4, 0), [i(7004)]);
    assert_eq!(run("gts", -10, 10, 4), [i(5010)]);
    // Counts down to zero.
    assert_eq!(run("nez", 7, 0, 0), [i(7000)]);
    assert_eq!(run("add_ne", 0, 35, 5), [i(7035)]);

    // A body of more than 2^15 instructions: the offset does not fit.
    let body = "(local.set 2 (i32.xor (local.get 2) (i32.const 5)))\n".repeat(33_001);
    let far = module(&format!(
        r#"(module (func (export "far") (param i32 i32 i32) (result i32)
            (loop $l {body}
                (local.set 0 (i32.add (local.get 0) (i32.const 1)))
                (br_if $l (i32.ne (local.get 0) (local.get 1))))
            (i32.add (local.get 0) (local.get 2))))"#
    ));
    let code = ops(&far, 0);
    assert!(code.iter().any(|op| matches!(op, Op::BrI32Ne { .. })));
    assert!(!code.iter().any(|op| matches!(op, Op::BrI32AddImmNe { .. })));
    // Three iterations, an odd number of xors each: 2 ^ 5.
    assert_eq!(
        call(&far, "far", &[i(0), i(3), i(2)]).unwrap(),
        [i(3 + (2 ^ 5))]
    );
}

/// A store to a constant address (C's static variables) is one instruction with the offset
/// folded in; at the end of memory it traps where the store is, and an address whose sum with
/// the offset overflows 32 bits still traps.
#[test]
fn constant_address_store_is_absolute() {
    let m = module(
        r#"(module (memory 1)
            (func (export "st") (param i64 f64) (result i64)
                (i64.store offset=8 (i32.const 16) (local.get 0))
                (f64.store (i32.const 32) (local.get 1))
                (i32.store offset=4 (i32.const 64) (i32.wrap_i64 (local.get 0)))
                (i64.add (i64.load (i32.const 24))
                    (i64.add (i64.load (i32.const 32)) (i64.extend_i32_u (i32.load (i32.const 68))))))
            (func (export "edge") (param i64)
                (i64.store offset=65528 (i32.const 1) (local.get 0)))
            (func (export "wrap") (param i32)
                (i32.store offset=0xffffffff (i32.const 2) (local.get 0))))"#,
    );
    let code = ops(&m, 0);
    assert_eq!(
        code.iter()
            .filter(|op| matches!(op, Op::I32StoreAbs { .. } | Op::I64StoreAbs { .. }))
            .count(),
        3,
        "{code:?}"
    );
    assert!(
        !code.iter().any(|op| matches!(op, Op::Const32 { .. })),
        "{code:?}"
    );
    let (l, f) = (Value::I64, Value::F64);
    let x = 0x1234_5678_9abc_def0_i64;
    let want = x
        .wrapping_add(2.5f64.to_bits() as i64)
        .wrapping_add(0x9abc_def0);
    assert_eq!(
        call(&m, "st", &[l(x), f(2.5f64.to_bits())]).unwrap(),
        [l(want)]
    );
    let (kind, offset) = trap(call(&m, "edge", &[l(1)]));
    assert_eq!(kind, TrapKind::MemoryOutOfBounds);
    let at = ops(&m, 1)
        .iter()
        .position(|op| matches!(op, Op::I64StoreAbs { .. }))
        .unwrap();
    assert_eq!(offset, Some(m.translated()[1].offsets[at]));
    let (kind, _) = trap(call(&m, "wrap", &[Value::I32(1)]));
    assert_eq!(kind, TrapKind::MemoryOutOfBounds);
}
