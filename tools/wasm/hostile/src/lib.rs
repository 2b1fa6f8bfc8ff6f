// SPDX-License-Identifier: GPL-2.0

//! Hostile WebAssembly modules: each is written to make a runtime work, wait or allocate
//! without bound unless its limits hold. The engine's bound tests
//! (`tools/wasm/engine/tests/limits.rs`) and the VM tests (`tests/vm/50-limits.sh`, through
//! the `wasm-hostile` binary) run them against the engine and the kernel.
//!
//! The modules are built in the binary format directly: the big ones would take long to
//! parse from text, and the builders need nothing but `std`.

/// Appends `v` as an unsigned LEB128.
pub fn leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends `v` as a signed LEB128.
pub fn sleb(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        out.push(if done { byte } else { byte | 0x80 });
        if done {
            return;
        }
    }
}

/// Appends a section with id `id`.
pub fn section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
    out.push(id);
    leb(out, content.len() as u32);
    out.extend(content);
}

/// Appends a vector of `items` (a count, then the items).
fn vector(out: &mut Vec<u8>, items: &[Vec<u8>]) {
    leb(out, items.len() as u32);
    for item in items {
        out.extend(item);
    }
}

/// Appends a name.
fn name(out: &mut Vec<u8>, s: &str) {
    leb(out, s.len() as u32);
    out.extend(s.as_bytes());
}

const MAGIC: &[u8] = b"\0asm\x01\0\0\0";
const I32: u8 = 0x7f;
const FUNC: u8 = 0x60;
const END: u8 = 0x0b;

/// A function body with no locals.
fn body(code: &[u8]) -> Vec<u8> {
    let mut b = vec![0];
    b.extend(code);
    let mut out = Vec::new();
    leb(&mut out, b.len() as u32);
    out.extend(b);
    out
}

/// A module with one memory of `pages` pages and one exported function `name` of type
/// `[] -> []` whose body is `code` (without its final `end`).
fn one_function(pages: u32, export: &str, code: &[u8]) -> Vec<u8> {
    let mut m = MAGIC.to_vec();
    section(&mut m, 1, &[1, FUNC, 0, 0]);
    section(&mut m, 3, &[1, 0]);
    let mut memory = vec![1, 0];
    leb(&mut memory, pages);
    section(&mut m, 5, &memory);
    let mut exports = vec![1];
    name(&mut exports, export);
    exports.extend([0, 0]);
    section(&mut m, 7, &exports);
    let mut code = code.to_vec();
    code.push(END);
    let mut bodies = Vec::new();
    vector(&mut bodies, &[body(&code)]);
    section(&mut m, 10, &bodies);
    m
}

/// `fills(count, pages)`: a memory of `pages` pages and an exported function `f` that fills
/// all of it, `count` times, in straight-line code without loops or calls. Unless bulk
/// operations pay fuel by their length and let the interrupt hook run between bounded steps,
/// one call does `count` times the memory's size of work without a check.
pub fn fills(count: u32, pages: u32) -> Vec<u8> {
    let mut code = Vec::new();
    for _ in 0..count {
        // memory.fill(dest 0, value 1, len pages * 64 KiB)
        code.extend([0x41, 0, 0x41, 1, 0x41]);
        sleb(&mut code, i64::from(pages) * 65536);
        code.extend([0xfc, 11, 0]);
    }
    one_function(pages, "f", &code)
}

/// `br_table(targets, arity)`: one function whose `br_table` has `targets` targets, each a
/// label carrying `arity` values. Validating it naively costs `targets * arity` steps.
pub fn br_table(targets: u32, arity: u32) -> Vec<u8> {
    let mut code = Vec::new();
    code.extend([0x02, 0x00]); // block (type 0): [] -> [i32; arity]
    for _ in 0..arity {
        code.extend([0x41, 0x00]); // i32.const 0
    }
    code.extend([0x41, 0x00]); // the index
    code.push(0x0e);
    leb(&mut code, targets);
    // Every target and the default: label 0.
    code.extend(std::iter::repeat_n(0x00, targets as usize + 1));
    code.push(END); // end block
    code.extend(std::iter::repeat_n(0x1a, arity as usize)); // drop
    code.push(END);
    let mut types = vec![2, FUNC, 0];
    leb(&mut types, arity);
    types.extend(std::iter::repeat_n(I32, arity as usize));
    types.extend([FUNC, 0, 0]);
    let mut m = MAGIC.to_vec();
    section(&mut m, 1, &types);
    section(&mut m, 3, &[1, 1]);
    let mut bodies = Vec::new();
    vector(&mut bodies, &[body(&code)]);
    section(&mut m, 10, &bodies);
    m
}

/// `distinct_types(n)`: `n` functions, each of its own type (the parameter list spells the
/// function's index in binary), exported as `f0`. Interning types with a linear search makes
/// instantiation quadratic in `n`.
pub fn distinct_types(n: u32) -> Vec<u8> {
    let mut types = Vec::new();
    leb(&mut types, n);
    for i in 0..n {
        types.push(FUNC);
        let bits = 32 - i.leading_zeros();
        leb(&mut types, bits + 1);
        types.push(0x7e);
        for b in 0..bits {
            types.push(if i >> b & 1 == 1 { I32 } else { 0x7d });
        }
        leb(&mut types, 0);
    }
    let mut funcs = Vec::new();
    leb(&mut funcs, n);
    for i in 0..n {
        leb(&mut funcs, i);
    }
    let mut bodies = Vec::new();
    leb(&mut bodies, n);
    for _ in 0..n {
        bodies.extend([2, 0, END]);
    }
    let mut m = MAGIC.to_vec();
    section(&mut m, 1, &types);
    section(&mut m, 3, &funcs);
    let mut exports = vec![1];
    name(&mut exports, "f0");
    exports.extend([0, 0]);
    section(&mut m, 7, &exports);
    section(&mut m, 10, &bodies);
    m
}

/// `grow(max)`: a memory of 0 pages at most `max`, and `grow`, which grows it one page at a
/// time until it fails and returns how many pages it got. Growing by an exact reservation
/// copies the memory at every step: quadratic.
pub fn grow(max: u32) -> Vec<u8> {
    let mut m = MAGIC.to_vec();
    section(&mut m, 1, &[1, FUNC, 0, 1, I32]);
    section(&mut m, 3, &[1, 0]);
    let mut memory = vec![1, 1, 0];
    leb(&mut memory, max);
    section(&mut m, 5, &memory);
    let mut exports = vec![1];
    name(&mut exports, "grow");
    exports.extend([0, 0]);
    section(&mut m, 7, &exports);
    // (local i32)
    // loop
    //   (memory.grow (i32.const 1)) (i32.const -1) i32.ne
    //   if (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br 1) end
    // end
    // local.get 0
    let code = [
        1, 1, I32, // one local i32
        0x03, 0x40, // loop
        0x41, 1, 0x40, 0, // memory.grow 1
        0x41, 0x7f, 0x47, // i32.const -1, i32.ne
        0x04, 0x40, // if
        0x20, 0, 0x41, 1, 0x6a, 0x21, 0, // local.set 0 (local.get 0 + 1)
        0x0c, 1, // br 1
        END, END, // end if, end loop
        0x20, 0, END,
    ];
    let mut bodies = vec![1];
    leb(&mut bodies, code.len() as u32);
    bodies.extend(code);
    section(&mut m, 10, &bodies);
    m
}

/// `tables(count, elements)`: `count` tables of `elements` funcref elements each.
pub fn tables(count: u32, elements: u32) -> Vec<u8> {
    let mut t = Vec::new();
    leb(&mut t, count);
    for _ in 0..count {
        t.extend([0x70, 0]);
        leb(&mut t, elements);
    }
    let mut m = MAGIC.to_vec();
    section(&mut m, 4, &t);
    m
}

/// `trapping_start(pages)`: imports table `m.tab` (at least 1 element), has a memory of
/// `pages` pages, puts one of its functions into the imported table, then traps in its start
/// function. A failed instantiation whose half-made instance the table still reaches must
/// not keep its memory once nothing does.
pub fn trapping_start(pages: u32) -> Vec<u8> {
    let mut m = MAGIC.to_vec();
    section(&mut m, 1, &[1, FUNC, 0, 0]);
    let mut imports = vec![1];
    name(&mut imports, "m");
    name(&mut imports, "tab");
    imports.extend([1, 0x70, 0, 1]);
    section(&mut m, 2, &imports);
    section(&mut m, 3, &[2, 0, 0]);
    let mut memory = vec![1, 0];
    leb(&mut memory, pages);
    section(&mut m, 5, &memory);
    // start: function 1
    section(&mut m, 8, &[1]);
    // elem: active, table 0, offset (i32.const 0), [func 0]
    section(&mut m, 9, &[1, 0, 0x41, 0, END, 1, 0]);
    let mut bodies = Vec::new();
    vector(&mut bodies, &[body(&[END]), body(&[0x00, END])]);
    section(&mut m, 10, &bodies);
    m
}

/// `table_owner()`: exports a table `tab` of 1 funcref and `clear`, which empties it.
pub fn table_owner() -> Vec<u8> {
    let mut m = MAGIC.to_vec();
    section(&mut m, 1, &[1, FUNC, 0, 0]);
    section(&mut m, 3, &[1, 0]);
    section(&mut m, 4, &[1, 0x70, 0, 1]);
    let mut exports = vec![2];
    name(&mut exports, "tab");
    exports.extend([1, 0]);
    name(&mut exports, "clear");
    exports.extend([0, 0]);
    section(&mut m, 7, &exports);
    // table.fill 0 (i32.const 0) (ref.null func) (i32.const 1)
    let mut bodies = Vec::new();
    vector(
        &mut bodies,
        &[body(&[0x41, 0, 0xd0, 0x70, 0x41, 1, 0xfc, 17, 0, END])],
    );
    section(&mut m, 10, &bodies);
    m
}

/// Every hostile module under a file name, with the sizes the VM tests use.
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        // 20 000 fills of 16 MiB: 320 GB of work unless fuel counts bulk length.
        ("fills.wasm", fills(20_000, 256)),
        ("br-table.wasm", br_table(1_000_000, 1000)),
        ("types.wasm", distinct_types(100_000)),
        // The same, ten times smaller: what the big one's time is judged against.
        ("types-10k.wasm", distinct_types(10_000)),
        // To 256 MiB, a page at a time.
        ("grow.wasm", grow(4096)),
        ("tables.wasm", tables(100, 1_000_000)),
        // 100 MiB each time it fails.
        ("trapping-start.wasm", trapping_start(1600)),
        ("table-owner.wasm", table_owner()),
    ]
}
