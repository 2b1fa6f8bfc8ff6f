// SPDX-License-Identifier: GPL-2.0

//! WASI preview1 (`wasi_snapshot_preview1`), as far as a program in the kernel needs it.
//!
//! A program gets its arguments and environment from `wasmctl run`, clocks, random bytes,
//! `sched_yield`, `proc_exit`, and three file descriptors: 0, standard input, always at its
//! end; 1 and 2, standard output and error, streamed to the invoking `wasmctl` while the
//! program runs. There is no file system (no preopened directories) and there are no
//! sockets: those functions are present, so that ordinary programs instantiate, and fail with
//! `ENOSYS` (or `EBADF` for a descriptor that does not exist). [`IMPORTS`] says which is
//! which.
//!
//! Writing output may sleep (it waits for the client to read), so `fd_write` is
//! [`Context::Process`]; so are `proc_exit`, `sched_yield` and `poll_oneoff`.
//!
//! Error numbers are WASI's ([`Errno`]), not Linux's.

use crate::{set, Call, Clock, Context, Import, Platform, Support, MAX_BYTES_PER_CALL};
use wasm_engine::{Trap, TrapKind, ValType, Value};

/// The module name.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// A WASI error number.
pub type Errno = u16;

/// WASI's error numbers that these functions return.
pub mod errno {
    use super::Errno;

    /// No error.
    pub const SUCCESS: Errno = 0;
    /// Argument list too long.
    pub const TOOBIG: Errno = 1;
    /// Bad file descriptor.
    pub const BADF: Errno = 8;
    /// Invalid argument.
    pub const INVAL: Errno = 28;
    /// I/O error.
    pub const IO: Errno = 29;
    /// Function not supported.
    pub const NOSYS: Errno = 52;
    /// Not supported.
    pub const NOTSUP: Errno = 58;
    /// Invalid seek.
    pub const SPIPE: Errno = 70;
}

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;

const fn imp(
    name: &'static str,
    params: &'static [ValType],
    results: &'static [ValType],
    context: Context,
) -> Import {
    Import {
        module: MODULE,
        name,
        params,
        results,
        context,
        support: Support::Yes,
    }
}

/// An implemented function that neither sleeps nor allocates.
const fn ok(name: &'static str, params: &'static [ValType]) -> Import {
    imp(name, params, &[I32], Context::Atomic)
}

/// A function that always fails with `errno`.
const fn fails(name: &'static str, params: &'static [ValType], errno: Errno) -> Import {
    Import {
        support: Support::Fails(errno),
        ..ok(name, params)
    }
}

/// Every function of WASI preview1, with what each does here.
pub const IMPORTS: &[Import] = &[
    ok("args_get", &[I32, I32]),
    ok("args_sizes_get", &[I32, I32]),
    ok("environ_get", &[I32, I32]),
    ok("environ_sizes_get", &[I32, I32]),
    ok("clock_res_get", &[I32, I32]),
    ok("clock_time_get", &[I32, I64, I32]),
    ok("fd_advise", &[I32, I64, I64, I32]),
    fails("fd_allocate", &[I32, I64, I64], errno::BADF),
    ok("fd_close", &[I32]),
    ok("fd_datasync", &[I32]),
    ok("fd_fdstat_get", &[I32, I32]),
    ok("fd_fdstat_set_flags", &[I32, I32]),
    fails("fd_fdstat_set_rights", &[I32, I64, I64], errno::NOTSUP),
    ok("fd_filestat_get", &[I32, I32]),
    fails("fd_filestat_set_size", &[I32, I64], errno::BADF),
    fails("fd_filestat_set_times", &[I32, I64, I64, I32], errno::BADF),
    fails("fd_pread", &[I32, I32, I32, I64, I32], errno::SPIPE),
    ok("fd_prestat_get", &[I32, I32]),
    ok("fd_prestat_dir_name", &[I32, I32, I32]),
    fails("fd_pwrite", &[I32, I32, I32, I64, I32], errno::SPIPE),
    ok("fd_read", &[I32, I32, I32, I32]),
    fails("fd_readdir", &[I32, I32, I32, I64, I32], errno::BADF),
    fails("fd_renumber", &[I32, I32], errno::NOTSUP),
    ok("fd_seek", &[I32, I64, I32, I32]),
    ok("fd_sync", &[I32]),
    ok("fd_tell", &[I32, I32]),
    imp("fd_write", &[I32, I32, I32, I32], &[I32], Context::Process),
    fails("path_create_directory", &[I32, I32, I32], errno::NOSYS),
    fails(
        "path_filestat_get",
        &[I32, I32, I32, I32, I32],
        errno::NOSYS,
    ),
    fails(
        "path_filestat_set_times",
        &[I32, I32, I32, I32, I64, I64, I32],
        errno::NOSYS,
    ),
    fails(
        "path_link",
        &[I32, I32, I32, I32, I32, I32, I32],
        errno::NOSYS,
    ),
    fails(
        "path_open",
        &[I32, I32, I32, I32, I32, I64, I64, I32, I32],
        errno::NOSYS,
    ),
    fails(
        "path_readlink",
        &[I32, I32, I32, I32, I32, I32],
        errno::NOSYS,
    ),
    fails("path_remove_directory", &[I32, I32, I32], errno::NOSYS),
    fails("path_rename", &[I32, I32, I32, I32, I32, I32], errno::NOSYS),
    fails("path_symlink", &[I32, I32, I32, I32, I32], errno::NOSYS),
    fails("path_unlink_file", &[I32, I32, I32], errno::NOSYS),
    fails("poll_oneoff", &[I32, I32, I32, I32], errno::NOSYS),
    imp("proc_exit", &[I32], &[], Context::Atomic),
    fails("proc_raise", &[I32], errno::NOSYS),
    imp("sched_yield", &[], &[I32], Context::Process),
    ok("random_get", &[I32, I32]),
    fails("sock_accept", &[I32, I32, I32], errno::NOSYS),
    fails("sock_recv", &[I32, I32, I32, I32, I32, I32], errno::NOSYS),
    fails("sock_send", &[I32, I32, I32, I32, I32], errno::NOSYS),
    fails("sock_shutdown", &[I32, I32], errno::NOSYS),
];

/// `filetype::character_device`.
const CHARACTER_DEVICE: u8 = 2;
/// `rights::fd_read`.
const RIGHT_FD_READ: u64 = 1 << 1;
/// `rights::fd_write`.
const RIGHT_FD_WRITE: u64 = 1 << 6;
/// `rights::poll_fd_readwrite`.
const RIGHT_POLL_FD_READWRITE: u64 = 1 << 27;
/// `fdflags::append`.
const FDFLAG_APPEND: u16 = 1;

/// The three descriptors, which are all there is.
fn is_stdio(fd: u32) -> bool {
    fd <= 2
}

/// Calls function `index` of [`IMPORTS`].
pub(crate) fn call<P: Platform>(
    call: &mut Call<'_, '_, P>,
    index: usize,
    results: &mut [Value],
) -> Result<(), Trap> {
    let import = IMPORTS.get(index).ok_or(Trap::new(TrapKind::Internal))?;
    let errno = match import.support {
        Support::Fails(errno) => errno,
        Support::Yes => match import.name {
            "args_get" => list_get(call, List::Args)?,
            "args_sizes_get" => list_sizes_get(call, List::Args)?,
            "environ_get" => list_get(call, List::Environ)?,
            "environ_sizes_get" => list_sizes_get(call, List::Environ)?,
            "clock_res_get" => match clock(call.u32(0)?) {
                Some(clock) => {
                    let res = call.platform().resolution_ns(clock);
                    call.store_u64(call.u32(1)?, res)?;
                    errno::SUCCESS
                }
                None => errno::INVAL,
            },
            "clock_time_get" => match clock(call.u32(0)?) {
                Some(clock) => {
                    let now = call.platform().time_ns(clock);
                    call.store_u64(call.u32(2)?, now)?;
                    errno::SUCCESS
                }
                None => errno::INVAL,
            },
            "fd_advise" | "fd_datasync" | "fd_sync" | "fd_close" | "fd_fdstat_set_flags" => {
                if is_stdio(call.u32(0)?) {
                    errno::SUCCESS
                } else {
                    errno::BADF
                }
            }
            "fd_fdstat_get" => fdstat_get(call)?,
            "fd_filestat_get" => filestat_get(call)?,
            "fd_prestat_get" | "fd_prestat_dir_name" => errno::BADF,
            "fd_read" => fd_read(call)?,
            "fd_seek" | "fd_tell" => {
                if is_stdio(call.u32(0)?) {
                    errno::SPIPE
                } else {
                    errno::BADF
                }
            }
            "fd_write" => fd_write(call)?,
            "proc_exit" => {
                let code = call.u32(0)?;
                return Err(Trap::new(TrapKind::Exit(code as i32)));
            }
            "sched_yield" => {
                call.platform().sched_yield();
                errno::SUCCESS
            }
            "random_get" => {
                let (ptr, len) = (call.u32(0)?, call.u32(1)?);
                if len > MAX_BYTES_PER_CALL {
                    errno::INVAL
                } else {
                    let (memory, platform) = call.memory_and_platform(ptr, u64::from(len))?;
                    let Some(buf) = crate::guest::slice_mut(memory, ptr, u64::from(len)) else {
                        return Err(call.out_of_bounds(ptr, u64::from(len)));
                    };
                    platform.random_fill(buf);
                    call.pay_bytes(len as usize);
                    errno::SUCCESS
                }
            }
            _ => return Err(Trap::new(TrapKind::Internal)),
        },
    };
    if import.results.is_empty() {
        return Ok(());
    }
    set(results, 0, Value::I32(i32::from(errno)))
}

/// WASI's clock ids: 0 realtime, 1 monotonic; the CPU-time clocks are not offered.
fn clock(id: u32) -> Option<Clock> {
    match id {
        0 => Some(Clock::Real),
        1 => Some(Clock::Monotonic),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum List {
    Args,
    Environ,
}

fn list<P: Platform>(platform: &P, list: List) -> &[u8] {
    match list {
        List::Args => platform.args(),
        List::Environ => platform.environ(),
    }
}

/// `args_sizes_get(argc_ptr, buf_size_ptr)` and `environ_sizes_get`.
fn list_sizes_get<P: Platform>(call: &mut Call<'_, '_, P>, which: List) -> Result<Errno, Trap> {
    let blob = list(call.platform(), which);
    let count = blob.iter().filter(|&&b| b == 0).count() as u32;
    let size = blob.len() as u32;
    call.store_u32(call.u32(0)?, count)?;
    call.store_u32(call.u32(1)?, size)?;
    Ok(errno::SUCCESS)
}

/// `args_get(argv, argv_buf)` and `environ_get`: the strings, NUL-terminated, into
/// `argv_buf`, and a pointer to each into the array at `argv`.
fn list_get<P: Platform>(call: &mut Call<'_, '_, P>, which: List) -> Result<Errno, Trap> {
    let (array, buf) = (call.u32(0)?, call.u32(1)?);
    let (memory, platform) = call.memory_and_platform(buf, 0)?;
    let blob = list(platform, which);
    let count = blob.iter().filter(|&&b| b == 0).count() as u64;
    // Both ranges must be inside the memory before anything is written.
    let (blob_len, array_len) = (blob.len() as u64, count * 4);
    if crate::guest::slice(memory, array, array_len).is_none() {
        return Err(call.out_of_bounds(array, array_len));
    }
    let Some(dst) = crate::guest::slice_mut(memory, buf, blob_len) else {
        return Err(call.out_of_bounds(buf, blob_len));
    };
    dst.copy_from_slice(blob);
    let mut offset = 0u32;
    let mut at = array;
    for s in blob.split_inclusive(|&b| b == 0) {
        let entry = buf.wrapping_add(offset).to_le_bytes();
        if let Some(slot) = crate::guest::slice_mut(memory, at, 4) {
            slot.copy_from_slice(&entry);
        }
        offset = offset.wrapping_add(s.len() as u32);
        at = at.wrapping_add(4);
    }
    let moved = blob.len() + count as usize * 4;
    call.pay_bytes(moved);
    Ok(errno::SUCCESS)
}

/// `fd_fdstat_get(fd, buf)`: a 24-byte `fdstat`.
fn fdstat_get<P: Platform>(call: &mut Call<'_, '_, P>) -> Result<Errno, Trap> {
    let (fd, ptr) = (call.u32(0)?, call.u32(1)?);
    if !is_stdio(fd) {
        return Ok(errno::BADF);
    }
    let (rights, flags) = match fd {
        0 => (RIGHT_FD_READ | RIGHT_POLL_FD_READWRITE, 0),
        _ => (RIGHT_FD_WRITE | RIGHT_POLL_FD_READWRITE, FDFLAG_APPEND),
    };
    let mut stat = [0u8; 24];
    stat[0] = CHARACTER_DEVICE;
    stat[2..4].copy_from_slice(&flags.to_le_bytes());
    stat[8..16].copy_from_slice(&rights.to_le_bytes());
    call.store(ptr, &stat)?;
    Ok(errno::SUCCESS)
}

/// `fd_filestat_get(fd, buf)`: a 64-byte `filestat` of a character device.
fn filestat_get<P: Platform>(call: &mut Call<'_, '_, P>) -> Result<Errno, Trap> {
    let (fd, ptr) = (call.u32(0)?, call.u32(1)?);
    if !is_stdio(fd) {
        return Ok(errno::BADF);
    }
    let mut stat = [0u8; 64];
    stat[16] = CHARACTER_DEVICE;
    call.store(ptr, &stat)?;
    Ok(errno::SUCCESS)
}

/// `fd_read(fd, iovs, iovs_len, nread_ptr)`: standard input is always at its end.
fn fd_read<P: Platform>(call: &mut Call<'_, '_, P>) -> Result<Errno, Trap> {
    let (fd, nread) = (call.u32(0)?, call.u32(3)?);
    match fd {
        0 => {
            call.store_u32(nread, 0)?;
            Ok(errno::SUCCESS)
        }
        1 | 2 => Ok(errno::BADF),
        _ => Ok(errno::BADF),
    }
}

/// `fd_write(fd, iovs, iovs_len, nwritten_ptr)`: to standard output or error, at most
/// [`MAX_BYTES_PER_CALL`] bytes per call (a short write otherwise).
fn fd_write<P: Platform>(call: &mut Call<'_, '_, P>) -> Result<Errno, Trap> {
    let (fd, iovs, iovs_len, nwritten) = (call.u32(0)?, call.u32(1)?, call.u32(2)?, call.u32(3)?);
    if fd != 1 && fd != 2 {
        return Ok(errno::BADF);
    }
    let mut written = 0u32;
    let mut i = 0;
    while i < iovs_len && written < MAX_BYTES_PER_CALL {
        let at = iovs.wrapping_add(i.wrapping_mul(8));
        let (ptr, len) = (call.load_u32(at)?, call.load_u32(at.wrapping_add(4))?);
        let take = len.min(MAX_BYTES_PER_CALL - written);
        let (memory, platform) = call.memory_and_platform(ptr, u64::from(len))?;
        let Some(data) = crate::guest::slice(memory, ptr, u64::from(take)) else {
            return Err(call.out_of_bounds(ptr, u64::from(len)));
        };
        if let Err(errno) = platform.write(fd, data) {
            // What was written before stays written.
            if written > 0 {
                break;
            }
            return Ok(errno);
        }
        call.pay_bytes(take as usize);
        written += take;
        if take < len {
            break;
        }
        i += 1;
    }
    call.store_u32(nwritten, written)?;
    Ok(errno::SUCCESS)
}
