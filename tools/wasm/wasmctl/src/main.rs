// SPDX-License-Identifier: GPL-2.0

//! `wasmctl`: load, run and manage WebAssembly modules in the kernel.

/// The driver version this tool speaks to, taken from the driver source so
/// the two cannot drift apart.
const DRIVER_VERSION: &str = include_str!("../../../../drivers/wasm/version.txt").trim_ascii_end();

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
        assert!(
            parts.iter().all(|p| p.parse::<u32>().is_ok()),
            "{DRIVER_VERSION:?}"
        );
    }
}
