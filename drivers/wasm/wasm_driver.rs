// SPDX-License-Identifier: GPL-2.0

//! WebAssembly runtime.
//!
//! Runs WebAssembly modules in the kernel. Userspace (`wasmctl`, in the
//! kernel tree's companion `tools/wasm/`) loads, instantiates and invokes
//! modules over the netlink Connector API; see `Documentation/wasm/`.

use kernel::{connector, prelude::*};
use wasm_engine::Dispatch;

mod attach;
mod float_unit;
mod group;
#[cfg(CONFIG_WASM_SPECTEST)]
mod host;
mod platform;
pub mod protocol;
mod registry;
mod service;
#[cfg(CONFIG_WASM_SPECTEST)]
pub mod spectest;
mod uapi;
pub mod wire;

module! {
    type: WasmModule,
    name: "wasm",
    authors: ["The WebAssembly subsystem developers"],
    description: "WebAssembly runtime",
    license: "GPL",
    params: {
        max_module_kib: u32 {
            default: 16384,
            description: "Largest module accepted, in KiB (at most 65536)",
        },
        max_memory_pages: u32 {
            default: 16384,
            description: "Largest linear memory of an instance, in 64 KiB pages",
        },
        default_fuel: u64 {
            default: 0,
            description: "Fuel of an invocation unless INSTANTIATE sets one; 0 is unlimited",
        },
        max_handles: u32 {
            default: 1024,
            description: "Most uploads, modules and instances at once",
        },
        max_group_mib: u32 {
            default: 1152,
            description: "Most MiB the instances of one link group may allocate",
        },
        fpu: u32 {
            default: 0,
            description: "1: float arithmetic on the FPU (x86_64); 0: soft float",
        },
        threaded: u32 {
            default: 0,
            description: "1: a call per wasm instruction instead of a match (faster unless \
                indirect calls are mitigated); 0: match",
        },
    },
}

/// The runtime's version, `major.minor.patch`. `tools/wasm` reads the same
/// file, so the kernel and its tools cannot disagree on it.
pub(crate) const VERSION: &str = include_str!("version.txt").trim_ascii_end();

/// Splits a `major.minor.patch` version into its three numbers.
///
/// Returns `None` unless there are exactly three dot-separated decimal
/// numbers, each fitting in a `u16`.
pub(crate) fn parse_version(version: &str) -> Option<[u16; 3]> {
    let mut out = [0u16; 3];
    let mut parts = version.split('.');
    for slot in &mut out {
        let part = parts.next()?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(out)
}

struct WasmModule {
    _service: Pin<KBox<connector::Registration<service::Service>>>,
    _reaper: Pin<KBox<connector::ReleaseNotifier<service::Reaper>>>,
}

impl kernel::Module for WasmModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let Some([major, minor, patch]) = parse_version(VERSION) else {
            pr_err!("malformed version {VERSION:?}\n");
            return Err(EINVAL);
        };
        let dispatch = if module_parameters::threaded.value() != 0 {
            Dispatch::Threaded
        } else {
            Dispatch::Match
        };
        let limits = service::Limits {
            max_module_len: module_parameters::max_module_kib
                .value()
                .saturating_mul(1024)
                .min(protocol::MAX_MODULE_LEN),
            max_memory_pages: module_parameters::max_memory_pages.value().min(65536),
            default_fuel: module_parameters::default_fuel.value(),
            max_handles: module_parameters::max_handles.value() as usize,
            max_group_bytes: (module_parameters::max_group_mib.value() as usize)
                .saturating_mul(1 << 20),
            dispatch,
        };
        let (service, reaper) = service::Service::new(limits)?;
        let reaper = KBox::pin_init(connector::ReleaseNotifier::new(reaper), GFP_KERNEL)?;
        let id = connector::CbId::new(protocol::CONNECTOR_IDX, protocol::CONNECTOR_VAL);
        let service = KBox::pin_init(
            connector::Registration::register(id, c"wasm", service),
            GFP_KERNEL,
        )?;
        pr_info!(
            "WebAssembly runtime {major}.{minor}.{patch} loaded (connector {{{}, {}}}, {}, {})\n",
            id.idx,
            id.val,
            float_unit::describe(),
            match dispatch {
                Dispatch::Match => "match dispatch",
                Dispatch::Threaded => "threaded dispatch",
            }
        );
        Ok(WasmModule {
            _service: service,
            _reaper: reaper,
        })
    }
}

impl Drop for WasmModule {
    fn drop(&mut self) {
        // Runs in progress stop at their next interrupt check, so that dropping the
        // registration below (which waits for running handlers) completes in bounded time.
        group::SHUTDOWN.store(true, kernel::sync::atomic::Relaxed);
        pr_info!("WebAssembly runtime unloaded\n");
    }
}

#[cfg(CONFIG_WASM_KUNIT_TEST)]
mod engine_tests;

#[cfg(CONFIG_WASM_KUNIT_TEST)]
#[kunit_tests(wasm_driver)]
mod tests {
    use super::*;

    #[test]
    fn alloc_crate_works() {
        // The kernel's `alloc` crate (CONFIG_RUST_ALLOC), through `alloc_shim`'s KVmalloc shim.
        let mut v = alloc::vec::Vec::new();
        assert!(v.try_reserve(3 << 20).is_ok());
        v.extend((0u32..1000).map(|i| i.wrapping_mul(2_654_435_761)));
        assert_eq!(v.iter().fold(0u32, |a, &x| a ^ x), 0x713a_9f80);
        assert!(v.try_reserve(usize::MAX / 2).is_err());
    }

    // The point of the test: float arithmetic, compiled to soft-float calls.
    #[allow(clippy::float_arithmetic)]
    #[test]
    fn soft_float_is_ieee() {
        // Compiled to compiler-builtins calls (`__addsf3`, `__divdf3`, ...).
        let third = core::hint::black_box(1.0f64) / core::hint::black_box(3.0f64);
        assert_eq!(third.to_bits(), 0x3fd5_5555_5555_5555);
        let sum = core::hint::black_box(0.1f32) + core::hint::black_box(0.2f32);
        assert_eq!(sum.to_bits(), 0x3e99_999a);
        let big = core::hint::black_box(1e300f64);
        assert_eq!((big * big).to_bits(), f64::INFINITY.to_bits());
        assert_eq!(core::hint::black_box(-2.75f64) as i64, -2);
        assert_eq!(core::hint::black_box(3e9f32) as u32, 3_000_000_000);
    }

    #[test]
    fn nofail_scope_covers_its_task_until_dropped() {
        assert!(!alloc_shim::in_nofail_scope());
        let outer = alloc_shim::NoFailScope::enter();
        assert!(outer.is_some());
        assert!(alloc_shim::in_nofail_scope());
        let inner = alloc_shim::NoFailScope::enter();
        assert!(inner.is_some());
        drop(inner);
        // The outer scope still holds its slot.
        assert!(alloc_shim::in_nofail_scope());
        drop(outer);
        assert!(!alloc_shim::in_nofail_scope());
    }

    #[test]
    fn nofail_scopes_are_bounded() {
        let mut scopes = KVec::new();
        while let Some(scope) = alloc_shim::NoFailScope::enter() {
            assert!(scopes.push(scope, GFP_KERNEL).is_ok());
            assert!(scopes.len() <= alloc_shim::MAX_NOFAIL_SCOPES);
        }
        assert_eq!(scopes.len(), alloc_shim::MAX_NOFAIL_SCOPES);
        scopes.clear();
        assert!(!alloc_shim::in_nofail_scope());
        assert!(alloc_shim::NoFailScope::enter().is_some());
    }

    #[test]
    fn own_version_is_well_formed() {
        assert!(parse_version(VERSION).is_some());
    }

    #[test]
    fn parse_version_accepts_three_numbers() {
        assert_eq!(parse_version("0.1.0"), Some([0, 1, 0]));
        assert_eq!(parse_version("65535.2.31"), Some([65535, 2, 31]));
    }

    #[test]
    fn parse_version_rejects_malformed() {
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "1..3",
            "1.2.x",
            "-1.2.3",
            "+1.2.3",
            "65536.0.0",
        ] {
            assert_eq!(parse_version(bad), None);
        }
    }
}
