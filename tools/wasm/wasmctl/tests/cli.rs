// SPDX-License-Identifier: GPL-2.0

//! End-to-end tests of the `wasmctl` binary: `--local` runs the examples on the host engine,
//! and the kernel path must fail cleanly when the driver is not there.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../examples")
}

fn example(name: &str) -> String {
    examples().join(name).display().to_string()
}

fn wasmctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmctl"))
        .args(args)
        .output()
        .expect("wasmctl runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs and checks the exit status, showing the output when it is not the expected one.
fn expect(args: &[&str], status: i32) -> Output {
    let out = wasmctl(args);
    assert_eq!(
        out.status.code(),
        Some(status),
        "wasmctl {args:?}\nstdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    out
}

/// A file in a fresh temporary directory.
fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wasmctl-test-{}-{}",
        std::process::id(),
        name.replace('.', "-")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn add_gives_5() {
    let add = example("add.wat");
    let out = expect(
        &["--local", "run", "-f", &add, "--invoke", "add", "2", "3"],
        0,
    );
    assert_eq!(stdout(&out), "5\n");
    let out = expect(
        &[
            "--local", "run", "-f", &add, "--invoke", "add", "-7", "0x10",
        ],
        0,
    );
    assert_eq!(stdout(&out), "9\n");
    // i32 arithmetic wraps.
    let out = expect(
        &[
            "--local",
            "run",
            "-f",
            &add,
            "--invoke",
            "add",
            "2147483647",
            "1",
        ],
        0,
    );
    assert_eq!(stdout(&out), "-2147483648\n");
}

#[test]
fn binary_modules_too() {
    let wasm = wat::parse_file(examples().join("add.wat")).unwrap();
    let path = temp_file("add.wasm", &wasm);
    let out = expect(
        &[
            "--local",
            "run",
            "-f",
            path.to_str().unwrap(),
            "--invoke",
            "add",
            "40",
            "2",
        ],
        0,
    );
    assert_eq!(stdout(&out), "42\n");
}

#[test]
fn default_export_and_loops() {
    let fib = example("fib.wat");
    let out = expect(&["--local", "run", "-f", &fib], 0);
    assert_eq!(stdout(&out), "2880067194370816120\n");
    let out = expect(&["--local", "run", "-f", &fib, "--invoke", "fib", "50"], 0);
    assert_eq!(stdout(&out), "12586269025\n");
}

#[test]
fn floats() {
    let float = example("float.wat");
    let out = expect(
        &[
            "--local", "run", "-f", &float, "--invoke", "hypot", "3", "4",
        ],
        0,
    );
    assert_eq!(stdout(&out), "5\n");
    let out = expect(
        &[
            "--local", "run", "-f", &float, "--invoke", "average", "1", "2", "4",
        ],
        0,
    );
    assert_eq!(stdout(&out), "2.3333333333333335\n");
}

#[test]
fn traps_exit_4() {
    let trap = example("trap.wat");
    for (args, message) in [
        (vec![], "unreachable"),
        (vec!["--invoke", "div", "7", "0"], "integer divide by zero"),
        (
            vec!["--invoke", "load", "65536"],
            "out of bounds memory access",
        ),
        (vec!["--invoke", "recurse"], "call stack exhausted"),
    ] {
        let mut full = vec!["--local", "run", "-f", &trap];
        full.extend(args);
        let out = expect(&full, 4);
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
        assert!(stderr(&out).contains("in function"), "{}", stderr(&out));
    }
    let out = expect(
        &["--local", "run", "-f", &example("fib.wat"), "--fuel", "10"],
        4,
    );
    assert!(stderr(&out).contains("out of fuel"), "{}", stderr(&out));
}

#[test]
fn invalid_modules_exit_3() {
    let bad = temp_file("bad.wat", b"(module (func (result i32) i64.const 1))");
    let out = expect(&["--local", "run", "-f", bad.to_str().unwrap()], 3);
    assert!(
        stderr(&out).contains("invalid module at offset"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("type mismatch"), "{}", stderr(&out));
    let out = expect(&["--local", "load", "-f", bad.to_str().unwrap()], 3);
    assert!(stderr(&out).contains("type mismatch"));

    let garbage = temp_file("garbage.wasm", b"\0asm\x01\0\0\0\x01\x05garbage");
    expect(&["--local", "run", "-f", garbage.to_str().unwrap()], 3);
    let syntax = temp_file("syntax.wat", b"(module (func");
    let out = expect(&["--local", "run", "-f", syntax.to_str().unwrap()], 3);
    assert!(stderr(&out).contains("syntax.wat:1:14"), "{}", stderr(&out));
    let empty = temp_file("empty.wasm", b"");
    expect(&["--local", "run", "-f", empty.to_str().unwrap()], 3);
    // Imports the runtime cannot satisfy.
    let imports = temp_file(
        "imports.wat",
        br#"(module (import "env" "f" (func)) (func (export "main")))"#,
    );
    expect(&["--local", "run", "-f", imports.to_str().unwrap()], 3);
}

#[test]
fn usage_errors_exit_2() {
    let add = example("add.wat");
    expect(&[], 2);
    expect(&["--local"], 2);
    expect(&["--local", "frobnicate"], 2);
    expect(&["--local", "run"], 2);
    expect(&["--local", "unload", "not-a-number"], 2);
    // No _start or main.
    let out = expect(&["--local", "run", "-f", &add], 2);
    assert!(stderr(&out).contains("--invoke"), "{}", stderr(&out));
    let out = expect(&["--local", "run", "-f", &add, "--invoke", "add", "1"], 2);
    assert!(stderr(&out).contains("add takes 2 arguments (i32, i32), 1 given"));
    let out = expect(
        &["--local", "run", "-f", &add, "--invoke", "add", "1", "x"],
        2,
    );
    assert!(stderr(&out).contains("argument 2 of add"));
    expect(
        &[
            "--local",
            "run",
            "-f",
            &add,
            "--invoke",
            "add",
            "1",
            "4294967296",
        ],
        2,
    );
    expect(
        &["--local", "run", "-f", &add, "--invoke", "sub", "1", "2"],
        2,
    );
    expect(&["--local", "run", "-f", "/nonexistent/add.wat"], 2);
}

#[test]
fn handles_do_not_outlive_a_local_command() {
    let out = expect(&["--local", "invoke", "1", "add", "1", "2"], 8);
    assert!(stderr(&out).contains("no handle 1"), "{}", stderr(&out));
    expect(&["--local", "unload", "1"], 8);
    let out = expect(&["--local", "load", "-f", &example("add.wat")], 0);
    assert_eq!(stdout(&out), "1\n");
}

#[test]
fn json_output() {
    let out = expect(
        &[
            "--local",
            "--json",
            "run",
            "-f",
            &example("add.wat"),
            "--invoke",
            "add",
            "2",
            "3",
        ],
        0,
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["results"][0]["type"], "i32");
    assert_eq!(json["results"][0]["value"], 5);
    assert_eq!(json["export"], "add");
    // The call's own time, which benchmarks read: a number of nanoseconds.
    assert!(json["invoke_ns"].as_u64().is_some_and(|ns| ns > 0));

    let out = expect(
        &[
            "--local",
            "--json",
            "run",
            "-f",
            &example("trap.wat"),
            "--invoke",
            "div",
            "1",
            "0",
        ],
        4,
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["exit_code"], 4);
    assert_eq!(json["error"]["trap"]["message"], "integer divide by zero");

    let out = expect(&["--local", "--json", "version"], 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["protocol"], wasm_protocol::PROTOCOL_VERSION);
    assert_eq!(json["privileged"], true);
}

#[test]
fn verbose_traces_the_protocol() {
    let out = expect(
        &[
            "--local",
            "-v",
            "run",
            "-f",
            &example("add.wat"),
            "--invoke",
            "add",
            "2",
            "3",
        ],
        0,
    );
    let trace = stderr(&out);
    for line in [
        "-> VERSION",
        "-> LOAD_BEGIN total_size=",
        "-> LOAD_END",
        "-> INVOKE instance=2 \"add\" (i32 2, i32 3)",
        // Fuel counts work: `i32.add` and the return.
        "<- OK  fuel 2, results (i32 5)",
        "-> UNLOAD handle=1 cascade",
    ] {
        assert!(trace.contains(line), "{line:?} not in\n{trace}");
    }
}

#[test]
fn local_version_and_stats() {
    let out = expect(&["--local", "version"], 0);
    let protocol = format!("protocol {}", wasm_protocol::PROTOCOL_VERSION);
    assert!(stdout(&out).contains(&protocol));
    let out = expect(&["--local", "stats"], 0);
    assert!(stdout(&out).contains("modules: 0"));
    let out = expect(&["--version"], 0);
    assert!(stdout(&out).starts_with("wasmctl "));
    let out = expect(&["--help"], 0);
    assert!(stdout(&out).contains("Exit status"));
}

/// Without the driver (as on the build machine), the kernel path fails with status 6 and
/// says so, whether the connector exists (no reply) or not (no socket).
#[test]
fn missing_driver_exits_6() {
    let out = expect(&["--timeout", "200", "version"], 6);
    let err = stderr(&out);
    assert!(
        err.contains("is the driver loaded") || err.contains("connector"),
        "{err}"
    );
    expect(
        &[
            "--timeout",
            "200",
            "run",
            "-f",
            &example("add.wat"),
            "--invoke",
            "add",
            "1",
            "2",
        ],
        6,
    );
}

/// Where `scripts/examples.sh` put the WASI examples it built (`WASM_EXAMPLES`) and their
/// native builds (`WASM_EXAMPLES_NATIVE`); `make host-test` builds them first and sets both.
/// `None` (and a note) when the test runs outside the pipeline.
fn built_examples() -> Option<(PathBuf, PathBuf)> {
    match (
        std::env::var_os("WASM_EXAMPLES"),
        std::env::var_os("WASM_EXAMPLES_NATIVE"),
    ) {
        (Some(wasm), Some(native)) => Some((wasm.into(), native.into())),
        _ => {
            eprintln!(
                "skipped: WASM_EXAMPLES and WASM_EXAMPLES_NATIVE unset (make host-test sets them)"
            );
            None
        }
    }
}

/// Every run in `examples/expected.list` prints byte for byte the same with `--local` as the
/// program built natively, and exits alike: among them bzip2's library compressing and
/// decompressing at three block sizes, and 10 MiB of output.
#[test]
fn wasi_examples_match_native() {
    let Some((wasm, native)) = built_examples() else {
        return;
    };
    let list = std::fs::read_to_string(examples().join("expected.list")).unwrap();
    let mut runs = 0;
    for line in list.lines() {
        let mut words = line.split_whitespace();
        let Some(name) = words.next().filter(|n| !n.starts_with('#')) else {
            continue;
        };
        let args: Vec<&str> = words.collect();
        let module = wasm.join(format!("{name}.wasm"));
        let mut full = vec!["--local", "run", "-f", module.to_str().unwrap()];
        full.extend(&args);
        let local = wasmctl(&full);
        let expected = Command::new(native.join(name))
            .args(&args)
            .output()
            .expect("the native build runs");
        assert_eq!(
            local.status.code(),
            expected.status.code(),
            "{name} {args:?}: {}",
            stderr(&local)
        );
        assert!(
            local.stdout == expected.stdout,
            "{name} {args:?}: --local printed {} bytes, natively {}; --local ends with\n{}",
            local.stdout.len(),
            expected.stdout.len(),
            stdout(&local)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
        runs += 1;
    }
    assert!(runs >= 3, "expected.list lists {runs} runs");
}

/// The Rust example (`examples/hello-rust`, built for `wasm32-wasip1` with the standard
/// library): its arguments, the `kernel` import module, and its exit status.
#[test]
fn rust_example() {
    let Some((wasm, _)) = built_examples() else {
        return;
    };
    let module = wasm.join("hello-rust.wasm");
    if !module.exists() {
        let why = std::fs::read_to_string(wasm.join("hello-rust.skipped")).unwrap_or_default();
        eprintln!("skipped: hello-rust.wasm not built: {why}");
        return;
    }
    let module = module.to_str().unwrap();
    let out = expect(&["--local", "run", "-f", module, "a", "b c"], 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "Hello from Rust in the kernel!");
    assert_eq!(lines[1], "arguments: a b c");
    let (cpu, cpus) = lines[2]
        .strip_prefix("CPU ")
        .and_then(|l| l.split_once(" of "))
        .unwrap_or_else(|| panic!("{text}"));
    let (cpu, cpus): (u32, u32) = (cpu.parse().unwrap(), cpus.parse().unwrap());
    assert!(cpu < cpus, "{text}");
    expect(&["--local", "run", "-f", module, "exit=7"], 7);
}
