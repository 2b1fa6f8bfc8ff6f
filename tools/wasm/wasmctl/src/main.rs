// SPDX-License-Identifier: GPL-2.0

//! `wasmctl`: load, run and manage WebAssembly modules in the kernel.

/// The driver version this tool speaks to, taken from the driver source so
/// the two cannot drift apart.
const DRIVER_VERSION: &str = driver_version(include_str!("../../../../drivers/wasm/version.txt"));

/// Trims the trailing newline of `version.txt` at compile time.
const fn driver_version(s: &str) -> &str {
    let b = s.as_bytes();
    let mut n = b.len();
    while n > 0 && (b[n - 1] == b'\n' || b[n - 1] == b'\r') {
        n -= 1;
    }
    match b.split_at(n).0 {
        trimmed => match core::str::from_utf8(trimmed) {
            Ok(s) => s,
            Err(_) => panic!("drivers/wasm/version.txt is not UTF-8"),
        },
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("--version") | Some("-V") => println!("wasmctl {DRIVER_VERSION}"),
        _ => {
            eprintln!("usage: wasmctl --version");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_version_is_semver() {
        let parts: Vec<&str> = DRIVER_VERSION.split('.').collect();
        assert_eq!(parts.len(), 3, "{DRIVER_VERSION:?}");
        assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()), "{DRIVER_VERSION:?}");
    }
}
