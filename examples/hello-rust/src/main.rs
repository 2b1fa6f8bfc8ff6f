// SPDX-License-Identifier: GPL-2.0

//! hello-rust: an ordinary Rust program, built for `wasm32-wasip1` with the
//! standard library, that runs in the kernel. It prints a greeting, its
//! arguments and the CPU it runs on, which it asks the kernel's import module
//! for.
//!
//! ```text
//! wasmctl run -f hello-rust.wasm a b          # in the kernel
//! wasmctl --local run -f hello-rust.wasm a b  # the same on the host
//! ```
//!
//! An argument `exit=N` makes it exit with status N, which becomes
//! `wasmctl`'s.

use std::process::ExitCode;

// The `kernel` import module (Documentation/wasm/host-api.rst).
#[link(wasm_import_module = "kernel")]
extern "C" {
    /// The CPU the program runs on.
    fn cpu_id() -> i32;
    /// How many CPUs are online.
    fn cpus_online() -> i32;
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("Hello from Rust in the kernel!");
    println!("arguments: {}", args.join(" "));
    // SAFETY: both imports take no arguments and touch no memory of ours.
    let (cpu, cpus) = unsafe { (cpu_id(), cpus_online()) };
    println!("CPU {cpu} of {cpus}");
    let status = args
        .iter()
        .find_map(|a| a.strip_prefix("exit="))
        .map_or(0, |n| n.parse().unwrap_or(255));
    ExitCode::from(status)
}
