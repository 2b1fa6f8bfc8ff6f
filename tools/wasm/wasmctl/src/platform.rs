// SPDX-License-Identifier: GPL-2.0

//! The host's side of the ABI programs import ([`wasm_abi`]), for `--local`: what the
//! kernel's driver gets from the `kernel` crate, taken from the C library, and output
//! written straight to this process's standard output and error.

use std::io::Write;

use wasm_abi::{
    wasi::{self, errno},
    Clock, Context, Fault, Platform,
};

/// The [`Platform`] of `wasmctl --local`: the store's data.
pub struct LocalPlatform {
    /// The running instance's arguments and environment (ARGS), NUL-terminated entries.
    pub args: Vec<u8>,
    /// See `args`.
    pub env: Vec<u8>,
    /// The running instance's module name, for the log.
    pub name: String,
    fault: Option<Fault>,
}

impl Default for LocalPlatform {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalPlatform {
    /// A platform with nothing running.
    pub fn new() -> Self {
        Self {
            args: Vec::new(),
            env: Vec::new(),
            name: String::new(),
            fault: None,
        }
    }

    /// Why the last host call trapped, if one did; clears it.
    pub fn take_fault(&mut self) -> Option<Fault> {
        self.fault.take()
    }
}

fn clock_ns(id: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid for writes; the clock ids are the C library's constants.
    unsafe { libc::clock_gettime(id, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// The CPU and the NUMA node this thread runs on.
fn getcpu() -> (u32, u32) {
    let (mut cpu, mut node) = (0u32, 0u32);
    // SAFETY: `getcpu` writes two `unsigned int`s; the third argument is unused (NULL).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_getcpu,
            &mut cpu as *mut u32,
            &mut node as *mut u32,
            std::ptr::null_mut::<libc::c_void>(),
        )
    };
    if ret < 0 {
        (0, 0)
    } else {
        (cpu, node)
    }
}

impl Platform for LocalPlatform {
    fn context(&self) -> Context {
        // Programs run on request, in this process: they may sleep.
        Context::Process
    }

    fn set_fault(&mut self, fault: Fault) {
        self.fault = Some(fault);
    }

    fn time_ns(&self, clock: Clock) -> u64 {
        clock_ns(match clock {
            Clock::Monotonic => libc::CLOCK_MONOTONIC,
            Clock::Boot => libc::CLOCK_BOOTTIME,
            Clock::Real => libc::CLOCK_REALTIME,
        })
    }

    fn resolution_ns(&self, _clock: Clock) -> u64 {
        1
    }

    fn jiffies(&self) -> u64 {
        // Userspace has no tick counter: the monotonic clock at the kernel's usual 250 Hz.
        clock_ns(libc::CLOCK_MONOTONIC) / 4_000_000
    }

    fn cpu_id(&self) -> u32 {
        getcpu().0
    }

    fn cpus_online(&self) -> u32 {
        // SAFETY: `sysconf` only reads a value.
        let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        u32::try_from(n).unwrap_or(1).max(1)
    }

    fn numa_node(&self) -> u32 {
        getcpu().1
    }

    fn random_fill(&mut self, buf: &mut [u8]) {
        let mut filled = 0;
        while filled < buf.len() {
            let rest = &mut buf[filled..];
            // SAFETY: `rest` is valid for writes of its length.
            let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
            if n <= 0 {
                continue;
            }
            filled += n as usize;
        }
    }

    fn tgid(&self) -> u32 {
        std::process::id()
    }

    fn pid(&self) -> u32 {
        // SAFETY: `gettid` has no preconditions.
        unsafe { libc::gettid() as u32 }
    }

    fn uid(&self) -> u32 {
        // SAFETY: `getuid` has no preconditions.
        unsafe { libc::getuid() }
    }

    fn comm(&self) -> [u8; 16] {
        let mut name = [0u8; 16];
        // SAFETY: PR_GET_NAME writes at most 16 bytes, NUL included, into `name`.
        unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr()) };
        name
    }

    fn log(&mut self, level: u32, message: &[u8]) {
        eprintln!(
            "<{level}>wasm: {}: {}",
            self.name,
            String::from_utf8_lossy(message)
        );
    }

    fn write(&mut self, fd: u32, data: &[u8]) -> Result<(), wasi::Errno> {
        let written = match fd {
            1 => {
                let mut out = std::io::stdout().lock();
                out.write_all(data).and_then(|()| out.flush())
            }
            _ => std::io::stderr().lock().write_all(data),
        };
        written.map_err(|_| errno::IO)
    }

    fn args(&self) -> &[u8] {
        &self.args
    }

    fn environ(&self) -> &[u8] {
        &self.env
    }

    fn sched_yield(&mut self) {
        std::thread::yield_now();
    }

    fn event(&self) -> &[u8] {
        // Programs are not attached to kernel events on the host.
        &[]
    }

    fn emit(&mut self, _record: &[u8]) -> i32 {
        // -ENODEV: not attached.
        -19
    }
}
