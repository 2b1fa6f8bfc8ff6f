// SPDX-License-Identifier: GPL-2.0

//! The `kernel` import module: kernel facilities for WebAssembly programs, the way eBPF
//! offers helpers.
//!
//! Every function here is [`Context::Atomic`]: none sleeps or allocates, so programs attached
//! to kernel events may call all of them. Functions that can fail return a negative errno
//! (`-EINVAL` is -22); pointers are checked against the caller's memory (a trap otherwise).
//!
//! - `abi_version() -> i32`: [`ABI_VERSION`].
//! - `log(level: i32, ptr: i32, len: i32)`: logs the bytes to the kernel log at syslog
//!   `level` (0..=7; 0..=2 count as 3), prefixed with the program's name and handle,
//!   rate-limited, at most [`MAX_LOG_LEN`] bytes.
//! - `time_ns(clock: i32) -> i64`: clock 0 monotonic, 1 boot time, 2 real time, in ns;
//!   `-EINVAL` for another clock.
//! - `jiffies() -> i64`: the tick counter.
//! - `cpu_id() -> i32`, `cpus_online() -> i32`, `numa_node() -> i32`: the CPU the program
//!   runs on, how many are online, the NUMA node of that CPU.
//! - `random_u64() -> i64`: 64 random bits.
//! - `random_fill(ptr: i32, len: i32) -> i32`: fills memory with random bytes; 0, or
//!   `-EINVAL` above 64 KiB.
//! - `pid() -> i32`, `tgid() -> i32`, `uid() -> i32`: the thread id, process id and real
//!   user id of the task the call runs for.
//! - `comm(ptr: i32, len: i32) -> i32`: copies its command name (up to `len` bytes, no NUL)
//!   and returns the name's length.
//! - `event_read(offset: i32, ptr: i32, len: i32) -> i32`: copies up to `len` bytes of the
//!   record of the event being handled, from `offset`, and returns how many (0 past its
//!   end); `-ENOENT` outside an event.
//! - `emit(ptr: i32, len: i32) -> i32`: sends the bytes, at most [`MAX_EMIT_LEN`], to the
//!   userspace listeners of the program's events without sleeping: 0 when sent, `-EAGAIN`
//!   when dropped, `-EINVAL` when too long, `-ENODEV` when the program is not attached.
//!
//! "The task the call runs for" is the task that invoked the program (`wasmctl`) when it
//! runs on request, and the task current where the event happened when it is attached to
//! one.

use crate::{set, Call, Context, Import, Platform, Support, MAX_BYTES_PER_CALL};
use wasm_engine::{Trap, TrapKind, ValType, Value};

/// The module name: `(import "kernel" "cpu_id" (func ...))`.
pub const MODULE: &str = "kernel";

/// The version of this module's ABI, which [`IMPORTS`] `abi_version` returns. Functions are
/// only ever added; a change to an existing one bumps it.
pub const ABI_VERSION: i32 = 1;

/// The longest message `log` writes; longer ones are cut.
pub const MAX_LOG_LEN: u32 = 1024;

/// The longest record `emit` sends.
pub const MAX_EMIT_LEN: u32 = 4096;

/// `-EINVAL`.
const EINVAL: i32 = -22;
/// `-ENOENT`.
const ENOENT: i32 = -2;

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;

const fn f(name: &'static str, params: &'static [ValType], results: &'static [ValType]) -> Import {
    Import {
        module: MODULE,
        name,
        params,
        results,
        context: Context::Atomic,
        support: Support::Yes,
    }
}

/// The functions of the module, in the order the dispatcher knows them.
pub const IMPORTS: &[Import] = &[
    f("abi_version", &[], &[I32]),
    f("log", &[I32, I32, I32], &[]),
    f("time_ns", &[I32], &[I64]),
    f("jiffies", &[], &[I64]),
    f("cpu_id", &[], &[I32]),
    f("cpus_online", &[], &[I32]),
    f("numa_node", &[], &[I32]),
    f("random_u64", &[], &[I64]),
    f("random_fill", &[I32, I32], &[I32]),
    f("pid", &[], &[I32]),
    f("tgid", &[], &[I32]),
    f("uid", &[], &[I32]),
    f("comm", &[I32, I32], &[I32]),
    f("event_read", &[I32, I32, I32], &[I32]),
    f("emit", &[I32, I32], &[I32]),
];

/// Calls function `index` of [`IMPORTS`].
pub(crate) fn call<P: Platform>(
    call: &mut Call<'_, '_, P>,
    index: usize,
    results: &mut [Value],
) -> Result<(), Trap> {
    let i32_result = |results: &mut [Value], v: i32| set(results, 0, Value::I32(v));
    let i64_result = |results: &mut [Value], v: i64| set(results, 0, Value::I64(v));
    match index {
        0 => i32_result(results, ABI_VERSION),
        1 => log(call),
        2 => {
            let clock = match call.u32(0)? {
                0 => crate::Clock::Monotonic,
                1 => crate::Clock::Boot,
                2 => crate::Clock::Real,
                _ => return i64_result(results, i64::from(EINVAL)),
            };
            let ns = call.platform().time_ns(clock);
            i64_result(results, ns as i64)
        }
        3 => {
            let j = call.platform().jiffies();
            i64_result(results, j as i64)
        }
        4 => {
            let cpu = call.platform().cpu_id();
            i32_result(results, cpu as i32)
        }
        5 => {
            let n = call.platform().cpus_online();
            i32_result(results, n as i32)
        }
        6 => {
            let node = call.platform().numa_node();
            i32_result(results, node as i32)
        }
        7 => {
            let mut bytes = [0u8; 8];
            call.platform().random_fill(&mut bytes);
            i64_result(results, i64::from_le_bytes(bytes))
        }
        8 => {
            let (ptr, len) = (call.u32(0)?, call.u32(1)?);
            if len > MAX_BYTES_PER_CALL {
                return i32_result(results, EINVAL);
            }
            let (memory, platform) = call.memory_and_platform(ptr, u64::from(len))?;
            let Some(buf) = crate::guest::slice_mut(memory, ptr, u64::from(len)) else {
                return Err(call.out_of_bounds(ptr, u64::from(len)));
            };
            platform.random_fill(buf);
            call.pay_bytes(len as usize);
            i32_result(results, 0)
        }
        9 => {
            let pid = call.platform().pid();
            i32_result(results, pid as i32)
        }
        10 => {
            let tgid = call.platform().tgid();
            i32_result(results, tgid as i32)
        }
        11 => {
            let uid = call.platform().uid();
            i32_result(results, uid as i32)
        }
        12 => {
            let (ptr, len) = (call.u32(0)?, call.u32(1)?);
            let comm = call.platform().comm();
            let name_len = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
            let name = comm.get(..name_len.min(len as usize)).unwrap_or(&[]);
            call.store(ptr, name)?;
            i32_result(results, name_len as i32)
        }
        13 => {
            let (offset, ptr, len) = (call.u32(0)?, call.u32(1)?, call.u32(2)?);
            let (memory, platform) = call.memory_and_platform(ptr, u64::from(len))?;
            let event = platform.event();
            if event.is_empty() {
                return i32_result(results, ENOENT);
            }
            let from = event.get(offset as usize..).unwrap_or(&[]);
            let n = from.len().min(len as usize);
            let Some(dst) = crate::guest::slice_mut(memory, ptr, n as u64) else {
                return Err(call.out_of_bounds(ptr, u64::from(len)));
            };
            if let Some(src) = from.get(..n) {
                dst.copy_from_slice(src);
            }
            call.pay_bytes(n);
            i32_result(results, n as i32)
        }
        14 => {
            let (ptr, len) = (call.u32(0)?, call.u32(1)?);
            if len > MAX_EMIT_LEN {
                return i32_result(results, EINVAL);
            }
            let (memory, platform) = call.memory_and_platform(ptr, u64::from(len))?;
            let Some(record) = crate::guest::slice(memory, ptr, u64::from(len)) else {
                return Err(call.out_of_bounds(ptr, u64::from(len)));
            };
            let sent = platform.emit(record);
            call.pay_bytes(len as usize);
            i32_result(results, sent)
        }
        _ => Err(Trap::new(TrapKind::Internal)),
    }
}

/// `log(level, ptr, len)`.
fn log<P: Platform>(call: &mut Call<'_, '_, P>) -> Result<(), Trap> {
    let (level, ptr, len) = (call.u32(0)?, call.u32(1)?, call.u32(2)?);
    // Programs do not get to raise alarms: emergencies, alerts and critical messages are
    // errors.
    let level = level.clamp(3, 7);
    let shown = len.min(MAX_LOG_LEN);
    let (memory, platform) = call.memory_and_platform(ptr, u64::from(len))?;
    // The whole range must be valid, even the part that is cut.
    if crate::guest::slice(memory, ptr, u64::from(len)).is_none() {
        return Err(call.out_of_bounds(ptr, u64::from(len)));
    }
    let Some(message) = crate::guest::slice(memory, ptr, u64::from(shown)) else {
        return Err(call.out_of_bounds(ptr, u64::from(len)));
    };
    platform.log(level, message);
    call.pay_bytes(shown as usize);
    Ok(())
}
