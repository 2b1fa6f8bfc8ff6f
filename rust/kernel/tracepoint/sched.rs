// SPDX-License-Identifier: GPL-2.0

//! The process lifecycle tracepoints of the scheduler: fork, exec and exit.
//!
//! Each tracepoint is a [`Tracepoint`] type to attach a [`Probe`](super::probe::Probe) to with a
//! [`Registration`](super::probe::Registration); its probes receive the event as safe values:
//! process ids, and names copied from the tasks.
//!
//! All three fire in process context, in the task concerned (the parent for a fork), inside the
//! tracepoint's read-side critical section. Like every probe, theirs must not sleep.
//!
//! C header: [`include/trace/events/sched.h`](srctree/include/trace/events/sched.h)
//!
//! # Examples
//!
//! Counting the processes that start and printing what they run:
//!
//! ```
//! use kernel::prelude::*;
//! use kernel::sync::atomic::{Atomic, Relaxed};
//! use kernel::tracepoint::probe::{Probe, Registration};
//! use kernel::tracepoint::sched::{ExecEvent, ProcessExec};
//!
//! struct ExecSnoop {
//!     execs: Atomic<u64>,
//! }
//!
//! impl Probe<ProcessExec> for ExecSnoop {
//!     fn probe(&self, event: &ExecEvent<'_>) {
//!         self.execs.fetch_add(1, Relaxed);
//!         pr_debug!("exec {} {:?}\n", event.task().pid(), event.filename());
//!     }
//! }
//!
//! let snoop = KBox::pin_init(
//!     Registration::<ProcessExec, _>::register(ExecSnoop { execs: Atomic::new(0) }),
//!     GFP_KERNEL,
//! );
//! // Registering fails with `ENOSYS` in a kernel without tracepoints.
//! if let Ok(snoop) = snoop {
//!     let _execs = snoop.probe().execs.load(Relaxed);
//!     // Detaches, and returns once no call to the probe runs.
//!     drop(snoop);
//! }
//! # Ok::<(), Error>(())
//! ```

use super::probe::{declare_tracepoint, Tracepoint};
use crate::{
    bindings,
    ffi::c_char,
    str::{CStr, CStrExt},
    task::Pid,
};
use core::{fmt, ptr};

/// The length of a task's name, its `NUL` terminator included (`TASK_COMM_LEN`).
pub const COMM_LEN: usize = bindings::TASK_COMM_LEN as usize;

/// A task's name (`task->comm`), copied: the executable's base name, or what the task set with
/// `prctl(PR_SET_NAME)`, truncated to `COMM_LEN - 1` bytes ([`COMM_LEN`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Comm([u8; COMM_LEN]);

impl Comm {
    /// Copies the name of `task`.
    ///
    /// # Safety
    ///
    /// `task` must point to a valid `task_struct`.
    unsafe fn of(task: *const bindings::task_struct) -> Self {
        let mut comm = [0u8; COMM_LEN];
        // SAFETY: `task` is valid (function safety requirements); `comm` is valid for writes of
        // `COMM_LEN` bytes and `task->comm` for reads of as many. The name may be changed
        // concurrently: `strscpy()` is how C reads it (`get_task_comm()`), and the writer keeps
        // it `NUL`-terminated.
        unsafe {
            bindings::sized_strscpy(
                comm.as_mut_ptr().cast::<c_char>(),
                ptr::addr_of!((*task).comm).cast::<c_char>(),
                COMM_LEN,
            )
        };
        Self(comm)
    }

    /// The name's bytes, without the `NUL` terminator and padding.
    pub fn as_bytes(&self) -> &[u8] {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(COMM_LEN);
        self.0.get(..len).unwrap_or(&self.0)
    }

    /// The whole array: the name, then `NUL` bytes.
    pub fn as_array(&self) -> &[u8; COMM_LEN] {
        &self.0
    }
}

impl fmt::Debug for Comm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(crate::str::BStr::from_bytes(self.as_bytes()), f)
    }
}

/// A task as an event saw it: its ids in the initial pid namespace, and its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    pid: Pid,
    tgid: Pid,
    comm: Comm,
}

impl TaskInfo {
    /// Reads what the event reports of `task`.
    ///
    /// # Safety
    ///
    /// `task` must point to a valid `task_struct` whose ids do not change during the call:
    /// the current task, or a new one that does not run yet.
    unsafe fn of(task: *const bindings::task_struct) -> Self {
        // SAFETY: `task` is valid and its ids are stable (function safety requirements).
        let (pid, tgid) = unsafe { ((*task).pid, (*task).tgid) };
        Self {
            pid,
            tgid,
            // SAFETY: `task` is valid (function safety requirements).
            comm: unsafe { Comm::of(task) },
        }
    }

    /// The task's id (the thread id, `task->pid`).
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The id of the task's thread group (the process id, `task->tgid`).
    pub fn tgid(&self) -> Pid {
        self.tgid
    }

    /// The task's name.
    pub fn comm(&self) -> &Comm {
        &self.comm
    }
}

/// A new task (`sched_process_fork`): a process, a thread or a kernel thread.
#[derive(Debug)]
pub struct ForkEvent {
    parent: TaskInfo,
    child: TaskInfo,
}

impl ForkEvent {
    /// The task that forked (for kernel threads, `kthreadd`).
    pub fn parent(&self) -> &TaskInfo {
        &self.parent
    }

    /// The new task, which has not run yet. Its name is its parent's, or for a kernel thread the
    /// thread's name.
    pub fn child(&self) -> &TaskInfo {
        &self.child
    }
}

/// A successful `execve()` (`sched_process_exec`).
#[derive(Debug)]
pub struct ExecEvent<'a> {
    task: TaskInfo,
    old_pid: Pid,
    filename: &'a CStr,
}

impl<'a> ExecEvent<'a> {
    /// The task, with its new name.
    pub fn task(&self) -> &TaskInfo {
        &self.task
    }

    /// The task's id before the exec: it differs from [`TaskInfo::pid`] when a thread other than
    /// the leader called `execve()` and took over the process's id.
    pub fn old_pid(&self) -> Pid {
        self.old_pid
    }

    /// The path of the executed file as the caller of `execve()` gave it (`bprm->filename`),
    /// borrowed for the duration of the probe call; copy what should be kept.
    pub fn filename(&self) -> &'a CStr {
        self.filename
    }
}

/// A task exiting (`sched_process_exit`).
#[derive(Debug)]
pub struct ExitEvent {
    task: TaskInfo,
    group_dead: bool,
}

impl ExitEvent {
    /// The exiting task.
    pub fn task(&self) -> &TaskInfo {
        &self.task
    }

    /// Whether it is the last task of its thread group: the process ends with it.
    pub fn group_dead(&self) -> bool {
        self.group_dead
    }
}

declare_tracepoint! {
    /// The `sched_process_fork` tracepoint: a task forked another one.
    ///
    /// Fires in the parent (`kernel_clone()`), once the child is set up but before it runs, for
    /// processes, threads and kernel threads alike.
    pub ProcessFork = sched_process_fork(
        parent: *mut bindings::task_struct,
        child: *mut bindings::task_struct,
    ) -> for<'a> ForkEvent {
        ForkEvent {
            // SAFETY: the tracepoint passes the current task and a new task that does not run
            // yet, both valid for the call.
            parent: unsafe { TaskInfo::of(parent) },
            // SAFETY: as above.
            child: unsafe { TaskInfo::of(child) },
        }
    }
}

declare_tracepoint! {
    /// The `sched_process_exec` tracepoint: a task executed a new program.
    ///
    /// Fires in the task, after `execve()` has succeeded and the task has its new name, before
    /// the program starts.
    pub ProcessExec = sched_process_exec(
        task: *mut bindings::task_struct,
        old_pid: bindings::pid_t,
        bprm: *mut bindings::linux_binprm,
    ) -> for<'a> ExecEvent<'a> {
        ExecEvent {
            // SAFETY: the tracepoint passes the current task, valid for the call.
            task: unsafe { TaskInfo::of(task) },
            old_pid,
            // SAFETY: `bprm` is the exec's valid `linux_binprm`, whose `filename` is a
            // `NUL`-terminated string that lives as long as it, beyond this call.
            filename: unsafe { CStr::from_char_ptr((*bprm).filename) },
        }
    }
}

declare_tracepoint! {
    /// The `sched_process_exit` tracepoint: a task is exiting.
    ///
    /// Fires in the task (`do_exit()`), early: its memory and files are still there.
    pub ProcessExit = sched_process_exit(
        task: *mut bindings::task_struct,
        group_dead: bool,
    ) -> for<'a> ExitEvent {
        ExitEvent {
            // SAFETY: the tracepoint passes the current task, valid for the call.
            task: unsafe { TaskInfo::of(task) },
            group_dead,
        }
    }
}

/// The names of the tracepoints declared here, for listing them.
pub const NAMES: [&CStr; 3] = [ProcessFork::NAME, ProcessExec::NAME, ProcessExit::NAME];

#[cfg(CONFIG_RUST_TRACEPOINT_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_tracepoint_sched)]
mod tests {
    use super::*;
    use crate::error::from_err_ptr;
    use crate::ffi::{c_int, c_void};
    use crate::prelude::*;
    use crate::sync::{new_spinlock, Arc, SpinLock};
    use crate::tracepoint::probe::{Probe, Registration};

    /// How many events of each kind a [`Log`] keeps.
    const KEEP: usize = 32;

    /// The last events of one kind.
    struct Ring<R: Copy> {
        items: [Option<R>; KEEP],
        total: usize,
    }

    impl<R: Copy> Ring<R> {
        const fn new() -> Self {
            Self {
                items: [None; KEEP],
                total: 0,
            }
        }

        fn push(&mut self, record: R) {
            self.items[self.total % KEEP] = Some(record);
            self.total += 1;
        }

        fn find(&self, pred: impl Fn(&R) -> bool) -> Option<R> {
            self.items.iter().flatten().copied().find(pred)
        }
    }

    #[derive(Clone, Copy)]
    struct ExecRecord {
        task: TaskInfo,
        old_pid: Pid,
        filename: [u8; 64],
        filename_len: usize,
    }

    #[derive(Clone, Copy)]
    struct ExitRecord {
        task: TaskInfo,
        group_dead: bool,
    }

    /// What the probes of a test saw.
    #[pin_data]
    struct Log {
        #[pin]
        forks: SpinLock<Ring<(TaskInfo, TaskInfo)>>,
        #[pin]
        execs: SpinLock<Ring<ExecRecord>>,
        #[pin]
        exits: SpinLock<Ring<ExitRecord>>,
    }

    fn new_log() -> Result<Arc<Log>> {
        Arc::pin_init(
            pin_init!(Log {
                forks <- new_spinlock!(Ring::new()),
                execs <- new_spinlock!(Ring::new()),
                exits <- new_spinlock!(Ring::new()),
            }),
            GFP_KERNEL,
        )
    }

    /// One probe type for the three tracepoints: each registration holds its own.
    struct Recorder(Arc<Log>);

    impl Probe<ProcessFork> for Recorder {
        fn probe(&self, event: &ForkEvent) {
            self.0.forks.lock().push((*event.parent(), *event.child()));
        }
    }

    impl Probe<ProcessExec> for Recorder {
        fn probe(&self, event: &ExecEvent<'_>) {
            let name = event.filename().to_bytes();
            let mut filename = [0u8; 64];
            let filename_len = name.len().min(filename.len());
            filename[..filename_len].copy_from_slice(&name[..filename_len]);
            self.0.execs.lock().push(ExecRecord {
                task: *event.task(),
                old_pid: event.old_pid(),
                filename,
                filename_len,
            });
        }
    }

    impl Probe<ProcessExit> for Recorder {
        fn probe(&self, event: &ExitEvent) {
            self.0.exits.lock().push(ExitRecord {
                task: *event.task(),
                group_dead: event.group_dead(),
            });
        }
    }

    fn attach<T: Tracepoint>(log: &Arc<Log>) -> Result<Pin<KBox<Registration<T, Recorder>>>>
    where
        Recorder: Probe<T>,
    {
        KBox::pin_init(Registration::register(Recorder(log.clone())), GFP_KERNEL)
    }

    /// The function of a kernel thread that is stopped before it runs.
    extern "C" fn never_runs(_data: *mut c_void) -> c_int {
        0
    }

    /// Creates a kernel thread named `rust_tp_kthread` and stops it before it runs: kthreadd
    /// forks it, then it exits. Returns its pid.
    fn fork_and_stop_a_kthread() -> Result<Pid> {
        // SAFETY: `never_runs` has the type of a thread function, the name is a
        // `NUL`-terminated string without format specifiers.
        let task = from_err_ptr(unsafe {
            bindings::kthread_create_on_node(
                Some(never_runs),
                ptr::null_mut(),
                bindings::NUMA_NO_NODE,
                c"rust_tp_kthread".as_char_ptr(),
            )
        })?;
        // SAFETY: `task` is a new thread that has not been woken, valid until `kthread_stop()`.
        let pid = unsafe { (*task).pid };
        // SAFETY: `task` is a kernel thread created above and not woken yet: this wakes it, it
        // exits without calling its function, and `kthread_stop()` waits for that.
        unsafe { bindings::kthread_stop(task) };
        Ok(pid)
    }

    #[test]
    fn names_match_the_tracepoints() {
        assert_eq!(NAMES[0], c"sched_process_fork");
        assert_eq!(NAMES[1], c"sched_process_exec");
        assert_eq!(NAMES[2], c"sched_process_exit");
        assert_eq!(COMM_LEN, 16);
    }

    #[test]
    fn fork_and_exit_of_a_kernel_thread_are_seen() -> Result {
        let log = new_log()?;
        let fork = attach::<ProcessFork>(&log)?;
        let exit = attach::<ProcessExit>(&log)?;

        let pid = fork_and_stop_a_kthread()?;
        assert!(pid > 2);
        let forked = log.forks.lock().find(|(_, child)| child.pid() == pid);
        assert!(forked.is_some());
        let Some((parent, child)) = forked else {
            return Err(ENOENT);
        };
        // Kernel threads are forked by kthreadd, pid 2, with their name set already.
        assert_eq!(parent.pid(), 2);
        assert_eq!(parent.comm().as_bytes(), b"kthreadd");
        assert_eq!(child.tgid(), pid);
        assert_eq!(child.comm().as_bytes(), b"rust_tp_kthread");
        let exited = log.exits.lock().find(|e| e.task.pid() == pid);
        assert!(exited.is_some());
        let Some(exited) = exited else {
            return Err(ENOENT);
        };
        assert_eq!(exited.task.comm().as_bytes(), b"rust_tp_kthread");
        assert_eq!(exited.task.tgid(), pid);
        assert!(exited.group_dead);
        let comm = exited.task.comm().as_array();
        assert_eq!(&comm[..15], b"rust_tp_kthread");
        assert_eq!(comm[15], 0);

        // Detached, the probes see nothing more.
        let (forks, exits) = (log.forks.lock().total, log.exits.lock().total);
        drop(fork);
        drop(exit);
        let pid = fork_and_stop_a_kthread()?;
        assert!(log.forks.lock().find(|(_, c)| c.pid() == pid).is_none());
        assert_eq!(log.forks.lock().total, forks);
        assert_eq!(log.exits.lock().total, exits);
        Ok(())
    }

    #[test]
    fn two_registrations_of_one_probe_type_each_see_the_events() -> Result {
        let (a, b) = (new_log()?, new_log()?);
        let reg_a = attach::<ProcessFork>(&a)?;
        let reg_b = attach::<ProcessFork>(&b)?;
        let pid = fork_and_stop_a_kthread()?;
        assert!(a.forks.lock().find(|(_, c)| c.pid() == pid).is_some());
        assert!(b.forks.lock().find(|(_, c)| c.pid() == pid).is_some());
        drop(reg_a);
        let pid = fork_and_stop_a_kthread()?;
        assert!(a.forks.lock().find(|(_, c)| c.pid() == pid).is_none());
        assert!(b.forks.lock().find(|(_, c)| c.pid() == pid).is_some());
        assert!(Arc::ptr_eq(&reg_b.probe().0, &b));
        Ok(())
    }

    /// A static ELF executable for this architecture that calls `exit(0)`: the ELF header, one
    /// loadable segment (the whole file, at 0x400000) and the code at 0x400078.
    #[cfg(any(CONFIG_X86_64, CONFIG_ARM64))]
    fn exit_0_executable() -> Result<KVec<u8>> {
        // e_machine x86-64; `mov eax, 60; xor edi, edi; syscall`.
        #[cfg(CONFIG_X86_64)]
        const MACHINE_CODE: (u8, &[u8]) = (0x3e, &[0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05]);
        // e_machine AArch64; `mov x0, #0; mov x8, #93; svc #0`.
        #[cfg(CONFIG_ARM64)]
        #[rustfmt::skip]
        const MACHINE_CODE: (u8, &[u8]) = (0xb7, &[
            0x00, 0x00, 0x80, 0xd2, 0xa8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4,
        ]);
        let (machine, code) = MACHINE_CODE;
        // At most 120 + 12 bytes: fits the one-byte size fields below.
        let size = (120 + code.len()) as u8;
        #[rustfmt::skip]
        let header: [u8; 120] = [
            // e_ident: magic, 64-bit, little-endian, version 1, System V ABI.
            0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            2, 0, machine, 0, 1, 0, 0, 0, // e_type EXEC, e_machine, e_version
            0x78, 0, 0x40, 0, 0, 0, 0, 0, // e_entry
            64, 0, 0, 0, 0, 0, 0, 0, // e_phoff
            0, 0, 0, 0, 0, 0, 0, 0, // e_shoff
            0, 0, 0, 0, 64, 0, 56, 0, // e_flags, e_ehsize, e_phentsize
            1, 0, 0, 0, 0, 0, 0, 0, // e_phnum, e_shentsize, e_shnum, e_shstrndx
            1, 0, 0, 0, 5, 0, 0, 0, // p_type LOAD, p_flags R+X
            0, 0, 0, 0, 0, 0, 0, 0, // p_offset
            0, 0, 0x40, 0, 0, 0, 0, 0, // p_vaddr
            0, 0, 0x40, 0, 0, 0, 0, 0, // p_paddr
            size, 0, 0, 0, 0, 0, 0, 0, // p_filesz
            size, 0, 0, 0, 0, 0, 0, 0, // p_memsz
            0, 0x10, 0, 0, 0, 0, 0, 0, // p_align
        ];
        let mut elf = KVec::with_capacity(header.len() + code.len(), GFP_KERNEL)?;
        elf.extend_from_slice(&header, GFP_KERNEL)?;
        elf.extend_from_slice(code, GFP_KERNEL)?;
        Ok(elf)
    }

    /// Writes `bytes` to a new executable file at `path` (in the initramfs, which KUnit kernels
    /// have to themselves) and closes it completely, so that it can be executed.
    #[cfg(any(CONFIG_X86_64, CONFIG_ARM64))]
    fn write_executable(path: &CStr, bytes: &[u8]) -> Result {
        let flags = (bindings::O_CREAT | bindings::O_WRONLY | bindings::O_TRUNC) as c_int;
        // Kernel threads, this test's included, resolve paths against an empty, immutable
        // root: look `path` up where userspace's init (and so the usermode helper) does, as
        // C's `scoped_with_init_fs()`.
        // SAFETY: FFI call without preconditions; reverted just below, in this thread.
        let old_fs = unsafe { bindings::__override_init_fs() };
        // SAFETY: `path` is a `NUL`-terminated string.
        let file = unsafe { bindings::filp_open(path.as_char_ptr(), flags, 0o755) };
        // SAFETY: `old_fs` is what `__override_init_fs()` returned in this thread.
        unsafe { bindings::__revert_init_fs(old_fs) };
        let file = from_err_ptr(file)?;
        let mut pos: bindings::loff_t = 0;
        // SAFETY: `file` is open for writing; `bytes` is valid for reads of its length.
        let written =
            unsafe { bindings::kernel_write(file, bytes.as_ptr().cast(), bytes.len(), &mut pos) };
        // SAFETY: `file` was opened above and is not used after this. A kernel thread's last
        // `fput()` is deferred: flushing it drops the write access, which `execve()` refuses
        // while it lasts.
        unsafe {
            bindings::filp_close(file, ptr::null_mut());
            bindings::flush_delayed_fput();
        }
        if written != bytes.len() as isize {
            return Err(EIO);
        }
        Ok(())
    }

    #[cfg(any(CONFIG_X86_64, CONFIG_ARM64))]
    #[test]
    fn exec_of_a_program_is_seen_with_its_filename() -> Result {
        let path = c"/rust_tp_exec";
        write_executable(path, &exit_0_executable()?)?;
        let log = new_log()?;
        let exec = attach::<ProcessExec>(&log)?;
        let exit = attach::<ProcessExit>(&log)?;

        let mut argv = [path.as_char_ptr().cast_mut(), ptr::null_mut()];
        let mut envp = [ptr::null_mut()];
        // SAFETY: `path`, `argv` and `envp` are `NUL`-terminated and valid until the helper
        // has run, which `UMH_WAIT_PROC` waits for.
        let status = unsafe {
            bindings::call_usermodehelper(
                path.as_char_ptr(),
                argv.as_mut_ptr(),
                envp.as_mut_ptr(),
                bindings::UMH_WAIT_PROC as c_int,
            )
        };
        assert_eq!(status, 0);
        drop(exec);
        drop(exit);

        let execs = log.execs.lock();
        assert_eq!(execs.total, 1);
        let exec = execs.find(|_| true);
        assert!(exec.is_some());
        let Some(exec) = exec else {
            return Err(ENOENT);
        };
        assert_eq!(&exec.filename[..exec.filename_len], b"/rust_tp_exec");
        assert_eq!(exec.task.comm().as_bytes(), b"rust_tp_exec");
        assert_eq!(exec.old_pid, exec.task.pid());
        assert_eq!(exec.task.tgid(), exec.task.pid());
        let exited = log.exits.lock().find(|e| e.task.pid() == exec.task.pid());
        assert!(exited.is_some());
        let Some(exited) = exited else {
            return Err(ENOENT);
        };
        assert_eq!(exited.task.comm().as_bytes(), b"rust_tp_exec");
        assert!(exited.group_dead);
        Ok(())
    }
}
