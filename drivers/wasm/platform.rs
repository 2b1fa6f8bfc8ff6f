// SPDX-License-Identifier: GPL-2.0

//! The kernel's side of the ABI programs import ([`wasm_abi`]): clocks, the calling task,
//! randomness and the kernel log through the `kernel` crate, and program output streamed to
//! the client that invoked it.
//!
//! Context rules: everything here that an [`Context::Atomic`] import reaches neither sleeps
//! nor allocates (the log's rate limit and the clocks are plain reads); only
//! [`Output::write`], behind WASI's `fd_write`, may sleep: it waits for the client to read.

use crate::protocol::{self, MAX_OUTPUT_CHUNK};
use kernel::{
    alloc::{
        flags::{__GFP_NOWARN, GFP_NOWAIT},
        AllocError,
    },
    connector::{self, CbId},
    cpu::{self, CpuId},
    prelude::*,
    random,
    str::BStr,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc,
    },
    task,
    time::{self, BootTime, Instant, Monotonic, RealTime},
};
use wasm_abi::{wasi::errno, Clock, Context, Fault, Platform};

/// What an attachment did, read by ATTACH_INFO and LIST without the program's lock; the
/// platform counts what `emit` sent and dropped.
pub(crate) struct Counters {
    pub(crate) events: Atomic<u64>,
    pub(crate) busy: Atomic<u64>,
    pub(crate) traps: Atomic<u64>,
    pub(crate) out_of_fuel: Atomic<u64>,
    pub(crate) emitted: Atomic<u64>,
    pub(crate) emit_dropped: Atomic<u64>,
    pub(crate) total_ns: Atomic<u64>,
    pub(crate) max_ns: Atomic<u64>,
}

impl Counters {
    /// All zero.
    pub(crate) fn new() -> Self {
        Self {
            events: Atomic::new(0),
            busy: Atomic::new(0),
            traps: Atomic::new(0),
            out_of_fuel: Atomic::new(0),
            emitted: Atomic::new(0),
            emit_dropped: Atomic::new(0),
            total_ns: Atomic::new(0),
            max_ns: Atomic::new(0),
        }
    }
}

/// Where `emit` sends records: the multicast group of the runtime's connector, tagged with
/// the attachment's handle and numbered.
struct Emitter {
    handle: u64,
    seq: u64,
    counters: Arc<Counters>,
}

/// What `wasmctl run` gave a program: its arguments and environment, each entry followed by
/// a NUL byte (ARGS).
pub(crate) struct Environ {
    pub(crate) args: KVec<u8>,
    pub(crate) env: KVec<u8>,
}

/// Messages `kernel.log` may print in a burst, and how often the burst refills.
const LOG_BURST: u32 = 10;
const LOG_INTERVAL_NS: i64 = 5_000_000_000;

/// The longest module name a log line shows.
const LOG_NAME_LEN: usize = 32;

/// `kernel.log`'s rate limit, like `printk_ratelimited()`'s: a burst of [`LOG_BURST`]
/// messages per [`LOG_INTERVAL_NS`], then a count of what was suppressed.
struct LogLimit {
    window_start: i64,
    printed: u32,
    suppressed: u32,
}

/// Where a program's standard output and error go: to the client that invoked it, as
/// OUTPUT messages on the connector, in order, at most [`MAX_OUTPUT_CHUNK`] bytes each.
pub(crate) struct Output {
    /// The client's port and the sequence number of its INVOKE.
    client: Option<(u32, u32)>,
    /// What is not sent yet, all of one descriptor; its capacity is one chunk, made on the
    /// first write and kept for the group's next invocations.
    pending: KVec<u8>,
    fd: u32,
    /// The client went away: the rest of the output is dropped.
    broken: bool,
}

impl Output {
    /// Appends `data` for descriptor `fd`, sending full chunks. Sending waits while the
    /// client's socket is full, so a program that writes a lot writes at the pace its client
    /// reads, holding one chunk of kernel memory.
    fn write(&mut self, fd: u32, data: &[u8]) -> core::result::Result<(), u16> {
        let Some(client) = self.client else {
            // Nobody to send to (a start function run by INSTANTIATE): discard.
            return Ok(());
        };
        if self.broken {
            return Err(errno::IO);
        }
        if self.pending.capacity() == 0 {
            self.pending
                .reserve(MAX_OUTPUT_CHUNK, GFP_KERNEL_ACCOUNT)
                .map_err(|_| errno::IO)?;
        }
        if fd != self.fd {
            self.flush(client)?;
            self.fd = fd;
        }
        let mut rest = data;
        while !rest.is_empty() {
            let room = MAX_OUTPUT_CHUNK - self.pending.len();
            let (now, later) = rest.split_at(rest.len().min(room));
            // Within the capacity reserved above: does not allocate.
            self.pending
                .extend_from_slice(now, GFP_KERNEL_ACCOUNT)
                .map_err(|_| errno::IO)?;
            rest = later;
            if self.pending.len() == MAX_OUTPUT_CHUNK {
                self.flush(client)?;
            }
        }
        Ok(())
    }

    /// Sends what is pending.
    fn flush(&mut self, (port, seq): (u32, u32)) -> core::result::Result<(), u16> {
        if self.pending.is_empty() || self.broken {
            return Ok(());
        }
        let header = protocol::output_header(self.fd, self.pending.len());
        let id = CbId::new(protocol::CONNECTOR_IDX, protocol::CONNECTOR_VAL);
        let sent = connector::unicast(
            id,
            seq,
            seq.wrapping_add(1),
            &[&header, &self.pending],
            port,
            GFP_KERNEL_ACCOUNT,
        );
        self.pending.clear();
        if sent.is_err() {
            // The client closed its socket, or a signal interrupted the wait for it.
            self.broken = true;
            return Err(errno::IO);
        }
        Ok(())
    }
}

/// The engine store's data in the kernel: the [`Platform`] of a link group's programs.
pub(crate) struct KernelPlatform {
    context: Context,
    /// The running instance's environment, if ARGS set one.
    environ: Option<Arc<Environ>>,
    /// Who runs: the instance's handle and its module's name, for the log.
    handle: u64,
    name: [u8; LOG_NAME_LEN],
    name_len: usize,
    log: LogLimit,
    output: Output,
    fault: Option<Fault>,
    /// The record of the event being handled: preallocated by [`KernelPlatform::attach`],
    /// `event_len` bytes of it valid while an event is handled.
    event: KVec<u8>,
    event_len: usize,
    emitter: Option<Emitter>,
}

impl KernelPlatform {
    /// A platform with nothing running.
    pub(crate) fn new() -> Self {
        Self {
            context: Context::Process,
            environ: None,
            handle: 0,
            name: [0; LOG_NAME_LEN],
            name_len: 0,
            log: LogLimit {
                window_start: 0,
                printed: 0,
                suppressed: 0,
            },
            output: Output {
                client: None,
                pending: KVec::new(),
                fd: 1,
                broken: false,
            },
            fault: None,
            event: KVec::new(),
            event_len: 0,
            emitter: None,
        }
    }

    /// Makes this the platform of attachment `handle` (of module `name`): room for event
    /// records of up to `max_event` bytes, and `emit` counting into `counters`. From now on
    /// calls run in atomic context. Process context: this allocates.
    pub(crate) fn attach(
        &mut self,
        handle: u64,
        name: &[u8],
        max_event: usize,
        counters: Arc<Counters>,
    ) -> core::result::Result<(), AllocError> {
        self.event = KVec::from_elem(0u8, max_event, GFP_KERNEL_ACCOUNT)?;
        self.begin(handle, name, None, None);
        self.context = Context::Atomic;
        self.emitter = Some(Emitter {
            handle,
            seq: 0,
            counters,
        });
        Ok(())
    }

    /// Starts handling an event: `fill` writes its record into the preallocated buffer and
    /// returns its length.
    pub(crate) fn begin_event(&mut self, fill: impl FnOnce(&mut [u8]) -> usize) {
        self.fault = None;
        self.event_len = fill(&mut self.event).min(self.event.len());
    }

    /// Ends handling an event.
    pub(crate) fn end_event(&mut self) {
        self.event_len = 0;
    }

    /// Prepares a run of instance `handle` of module `name` for the client at `client`
    /// (port, sequence number), if any.
    pub(crate) fn begin(
        &mut self,
        handle: u64,
        name: &[u8],
        environ: Option<Arc<Environ>>,
        client: Option<(u32, u32)>,
    ) {
        self.context = Context::Process;
        self.environ = environ;
        self.handle = handle;
        let n = name.len().min(LOG_NAME_LEN);
        if let (Some(dst), Some(src)) = (self.name.get_mut(..n), name.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.name_len = n;
        self.output.client = client;
        self.output.broken = false;
        self.output.fd = 1;
        self.fault = None;
    }

    /// Ends the run: sends the output still pending and returns why the last host call
    /// trapped, if one did.
    pub(crate) fn end(&mut self) -> Option<Fault> {
        if let Some(client) = self.output.client {
            let _ = self.output.flush(client);
        }
        self.output.client = None;
        self.environ = None;
        self.fault.take()
    }

    /// Sets where the calls that follow run (atomic context for handlers of kernel events).
    // Only the KUnit suite runs programs in atomic context so far.
    #[cfg_attr(not(CONFIG_WASM_KUNIT_TEST), expect(dead_code))]
    pub(crate) fn set_context(&mut self, context: Context) {
        self.context = context;
    }

    fn who(&self) -> &BStr {
        BStr::from_bytes(self.name.get(..self.name_len).unwrap_or(&[]))
    }
}

impl Platform for KernelPlatform {
    fn context(&self) -> Context {
        self.context
    }

    fn set_fault(&mut self, fault: Fault) {
        self.fault = Some(fault);
    }

    fn time_ns(&self, clock: Clock) -> u64 {
        let ns = match clock {
            Clock::Monotonic => Instant::<Monotonic>::now().as_nanos(),
            Clock::Boot => Instant::<BootTime>::now().as_nanos(),
            Clock::Real => Instant::<RealTime>::now().as_nanos(),
        };
        // `ktime_t` values of these clocks are never negative.
        ns.unsigned_abs()
    }

    fn resolution_ns(&self, _clock: Clock) -> u64 {
        // The clocks are read with ktime_get*(), in nanoseconds.
        1
    }

    fn jiffies(&self) -> u64 {
        time::jiffies_64()
    }

    fn cpu_id(&self) -> u32 {
        CpuId::current().as_u32()
    }

    fn cpus_online(&self) -> u32 {
        cpu::num_online_cpus()
    }

    fn numa_node(&self) -> u32 {
        cpu::numa_node_id()
    }

    fn random_fill(&mut self, buf: &mut [u8]) {
        random::fill_bytes(buf);
    }

    fn tgid(&self) -> u32 {
        current!().tgid_nr_ns(None).unsigned_abs()
    }

    fn pid(&self) -> u32 {
        current!().pid().unsigned_abs()
    }

    fn uid(&self) -> u32 {
        current!().uid().into_uid_in_current_ns()
    }

    fn comm(&self) -> [u8; 16] {
        let comm = current!().comm();
        let mut out = [0u8; 16];
        let n = comm.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), comm.get(..n)) {
            dst.copy_from_slice(src);
        }
        out
    }

    fn log(&mut self, level: u32, message: &[u8]) {
        let now = Instant::<Monotonic>::now().as_nanos();
        if now - self.log.window_start >= LOG_INTERVAL_NS {
            if self.log.suppressed > 0 {
                pr_warn!(
                    "{} (instance {}): {} messages suppressed\n",
                    self.who(),
                    self.handle,
                    self.log.suppressed
                );
            }
            self.log = LogLimit {
                window_start: now,
                printed: 0,
                suppressed: 0,
            };
        }
        if self.log.printed >= LOG_BURST {
            self.log.suppressed = self.log.suppressed.saturating_add(1);
            return;
        }
        self.log.printed += 1;
        let (who, handle, text) = (self.who(), self.handle, BStr::from_bytes(message));
        match level {
            3 => pr_err!("{who} (instance {handle}): {text}\n"),
            4 => pr_warn!("{who} (instance {handle}): {text}\n"),
            5 => pr_notice!("{who} (instance {handle}): {text}\n"),
            6 => pr_info!("{who} (instance {handle}): {text}\n"),
            _ => pr_debug!("{who} (instance {handle}): {text}\n"),
        }
    }

    fn write(&mut self, fd: u32, data: &[u8]) -> core::result::Result<(), u16> {
        self.output.write(fd, data)
    }

    fn args(&self) -> &[u8] {
        self.environ.as_deref().map_or(&[], |e| e.args.as_slice())
    }

    fn environ(&self) -> &[u8] {
        self.environ.as_deref().map_or(&[], |e| e.env.as_slice())
    }

    fn sched_yield(&mut self) {
        task::cond_resched();
    }

    fn event(&self) -> &[u8] {
        self.event.get(..self.event_len).unwrap_or(&[])
    }

    fn emit(&mut self, record: &[u8]) -> i32 {
        let Some(emitter) = self.emitter.as_mut() else {
            return ENODEV.to_errno();
        };
        emitter.seq += 1;
        let header = protocol::event_header(emitter.handle, emitter.seq, record.len());
        let id = CbId::new(protocol::CONNECTOR_IDX, protocol::CONNECTOR_VAL);
        // Never waits: a listener whose socket is full, or no listener at all, loses the
        // record, which is counted.
        let sent = connector::multicast(
            id,
            0,
            0,
            &[&header, record],
            protocol::CONNECTOR_IDX,
            GFP_NOWAIT | __GFP_NOWARN,
        );
        match sent {
            Ok(()) => {
                emitter.counters.emitted.fetch_add(1, Relaxed);
                0
            }
            Err(_) => {
                emitter.counters.emit_dropped.fetch_add(1, Relaxed);
                EAGAIN.to_errno()
            }
        }
    }
}

#[cfg(CONFIG_WASM_KUNIT_TEST)]
#[path = "testdata/hostapi.rs"]
mod hostapi;

#[cfg(CONFIG_WASM_KUNIT_TEST)]
#[kunit_tests(wasm_host_api)]
mod tests {
    use super::*;
    use alloc::{sync::Arc as StdArc, vec::Vec};
    use wasm_abi::FaultKind;
    use wasm_engine::{Config, Error, Extern, InstanceAddr, Module, Store, TrapKind, Value};

    type TestStore = Store<KernelPlatform, StdArc<Module>>;

    /// `testdata/hostapi.c`, instantiated with its imports from the ABI.
    fn setup() -> core::result::Result<(TestStore, InstanceAddr), Error> {
        let config = Config::default();
        let module = StdArc::new(Module::new(&config, hostapi::WASM)?);
        let mut store = Store::new(config, KernelPlatform::new());
        let mut imports = Vec::new();
        for (m, name, _) in module.imports() {
            let id = wasm_abi::lookup(m, name).ok_or(Error::Link("unknown import".into()))?;
            imports.push(Extern::Func(wasm_abi::define(&mut store, id)?));
        }
        let instance = store.instantiate(&module, &imports)?;
        Ok((store, instance))
    }

    fn call(
        store: &mut TestStore,
        instance: InstanceAddr,
        name: &str,
        args: &[Value],
    ) -> core::result::Result<Vec<Value>, Error> {
        let f = store
            .get_export(instance, name)
            .and_then(Extern::func)
            .ok_or(Error::Link("missing export".into()))?;
        store.invoke(f, args)
    }

    fn i32_of(r: &[Value]) -> i32 {
        match r {
            [Value::I32(v)] => *v,
            _ => i32::MIN,
        }
    }

    fn i64_of(r: &[Value]) -> i64 {
        match r {
            [Value::I64(v)] => *v,
            _ => i64::MIN,
        }
    }

    fn trap_of(r: core::result::Result<Vec<Value>, Error>) -> Option<TrapKind> {
        match r {
            Err(Error::Trap(t)) => Some(t.kind),
            _ => None,
        }
    }

    #[test]
    fn kernel_functions_report_the_calling_task_and_cpu() -> core::result::Result<(), Error> {
        let (mut s, i) = setup()?;
        assert_eq!(i32_of(&call(&mut s, i, "abi_version", &[])?), 1);
        let cpu = i32_of(&call(&mut s, i, "cpu_id", &[])?);
        assert!(cpu >= 0 && (cpu as u32) < kernel::cpu::nr_cpu_ids());
        let online = i32_of(&call(&mut s, i, "cpus_online", &[])?);
        assert_eq!(online as u32, cpu::num_online_cpus());
        assert!(i32_of(&call(&mut s, i, "numa_node", &[])?) >= 0);
        let me = current!();
        assert_eq!(i32_of(&call(&mut s, i, "pid", &[])?), me.pid());
        assert_eq!(i32_of(&call(&mut s, i, "tgid", &[])?), me.tgid_nr_ns(None));
        assert_eq!(
            i32_of(&call(&mut s, i, "uid", &[])?) as u32,
            me.uid().into_uid_in_current_ns()
        );
        // comm: the name's length; the bytes land in the module's buffer.
        let buffer = i32_of(&call(&mut s, i, "buffer_at", &[])?);
        let n = i32_of(&call(
            &mut s,
            i,
            "comm",
            &[Value::I32(buffer), Value::I32(16)],
        )?);
        let comm = me.comm();
        let len = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
        assert_eq!(n as usize, len);
        let memory = s
            .get_export(i, "memory")
            .and_then(Extern::memory)
            .ok_or(Error::Link("no memory".into()))?;
        let data = s.memory_data(memory).ok_or(Error::OutOfMemory)?;
        assert_eq!(&data[buffer as usize..buffer as usize + len], &comm[..len]);
        Ok(())
    }

    #[test]
    fn clocks_and_randomness() -> core::result::Result<(), Error> {
        let (mut s, i) = setup()?;
        let before = Instant::<Monotonic>::now().as_nanos();
        let t = i64_of(&call(&mut s, i, "time_ns", &[Value::I32(0)])?);
        let after = Instant::<Monotonic>::now().as_nanos();
        assert!(before <= t && t <= after);
        assert!(i64_of(&call(&mut s, i, "time_ns", &[Value::I32(1)])?) >= t);
        // Real time is after 2020.
        assert!(i64_of(&call(&mut s, i, "time_ns", &[Value::I32(2)])?) > 1_577_836_800_000_000_000);
        assert_eq!(i64_of(&call(&mut s, i, "time_ns", &[Value::I32(9)])?), -22);
        let j0 = time::jiffies_64() as i64;
        let j = i64_of(&call(&mut s, i, "jiffies", &[])?);
        assert!(j >= j0 && j <= time::jiffies_64() as i64);
        let r: Vec<i64> = (0..4)
            .map(|_| call(&mut s, i, "random_u64", &[]).map(|r| i64_of(&r)))
            .collect::<core::result::Result<_, _>>()?;
        assert!(r.iter().any(|&x| x != r[0]));
        let buffer = i32_of(&call(&mut s, i, "buffer_at", &[])?);
        assert_eq!(
            i32_of(&call(
                &mut s,
                i,
                "random_fill",
                &[Value::I32(buffer), Value::I32(64)]
            )?),
            0
        );
        // More than one call may do is refused.
        assert_eq!(
            i32_of(&call(
                &mut s,
                i,
                "random_fill",
                &[Value::I32(0), Value::I32(70_000)]
            )?),
            -22
        );
        Ok(())
    }

    #[test]
    fn bad_pointers_trap_and_name_the_import() -> core::result::Result<(), Error> {
        let (mut s, i) = setup()?;
        // The memory is two pages: 131072 bytes.
        let r = call(&mut s, i, "comm", &[Value::I32(131_070), Value::I32(16)]);
        assert_eq!(trap_of(r), Some(TrapKind::MemoryOutOfBounds));
        let fault = s.data_mut().end();
        assert!(matches!(
            fault,
            Some(Fault {
                kind: FaultKind::OutOfBounds { ptr: 131_070, .. },
                ..
            })
        ));
        assert_eq!(fault.map(|f| f.import.name), Some("comm"));
        let r = call(
            &mut s,
            i,
            "log_at",
            &[Value::I32(6), Value::I32(-16), Value::I32(32)],
        );
        assert_eq!(trap_of(r), Some(TrapKind::MemoryOutOfBounds));
        let r = call(
            &mut s,
            i,
            "write_at",
            &[Value::I32(1), Value::I32(131_000), Value::I32(100)],
        );
        assert_eq!(trap_of(r), Some(TrapKind::MemoryOutOfBounds));
        // The instance goes on working.
        assert_eq!(i32_of(&call(&mut s, i, "abi_version", &[])?), 1);
        Ok(())
    }

    #[test]
    fn oversized_writes_are_cut_and_output_stays_bounded() -> core::result::Result<(), Error> {
        let (mut s, i) = setup()?;
        // 100 000 bytes in one fd_write: the first 64 KiB are taken (a short write).
        let errno = i32_of(&call(
            &mut s,
            i,
            "write_at",
            &[Value::I32(1), Value::I32(0), Value::I32(100_000)],
        )?);
        assert_eq!(errno, 0);
        let written = i32_of(&call(&mut s, i, "last_written", &[])?);
        assert_eq!(written as u32, wasm_abi::MAX_BYTES_PER_CALL);
        // Without a client (a start function), output is discarded: nothing is kept.
        assert_eq!(s.data().output.pending.capacity(), 0);
        // Standard input and unknown descriptors are not for writing (EBADF).
        let bad = i32_of(&call(
            &mut s,
            i,
            "write_at",
            &[Value::I32(7), Value::I32(0), Value::I32(1)],
        )?);
        assert_eq!(bad, 8);
        Ok(())
    }

    #[test]
    fn functions_that_may_sleep_trap_in_atomic_context() -> core::result::Result<(), Error> {
        let (mut s, i) = setup()?;
        s.data_mut().set_context(Context::Atomic);
        let r = call(
            &mut s,
            i,
            "write_at",
            &[Value::I32(1), Value::I32(0), Value::I32(1)],
        );
        assert_eq!(trap_of(r), Some(TrapKind::Host(-1)));
        assert!(matches!(
            s.data_mut().end(),
            Some(Fault {
                kind: FaultKind::Context,
                ..
            })
        ));
        // The kernel module's functions are atomic-safe.
        assert!(i32_of(&call(&mut s, i, "cpu_id", &[])?) >= 0);
        Ok(())
    }

    #[test]
    fn logging_is_rate_limited() -> core::result::Result<(), Error> {
        let (mut s, i) = setup()?;
        for _ in 0..(LOG_BURST + 5) {
            call(
                &mut s,
                i,
                "log_at",
                &[Value::I32(7), Value::I32(0), Value::I32(4)],
            )?;
        }
        assert_eq!(s.data().log.printed, LOG_BURST);
        assert_eq!(s.data().log.suppressed, 5);
        Ok(())
    }
}
