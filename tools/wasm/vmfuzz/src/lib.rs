// SPDX-License-Identifier: GPL-2.0

//! The VM fuzzer of the kernel's WebAssembly runtime: random and mutated modules and protocol
//! messages, sent through the connector protocol by several concurrent clients.
//!
//! - [`corpus`]: the modules to start from, and wasm-smith's random ones;
//! - [`mutate`]: byte-level mutations;
//! - [`garbage`]: malformed and random requests;
//! - [`worker`]: one client's loop (load, make transient, instantiate with small limits,
//!   invoke with random arguments, link, unload or abandon; garbage; reconnections).
//!
//! The `wasm-vmfuzz` binary runs several workers against the kernel and then checks that the
//! driver still answers. Everything is reproducible from the seed, up to the interleaving of
//! the workers.

pub mod corpus;
pub mod garbage;
pub mod mutate;
pub mod rng;
pub mod worker;
