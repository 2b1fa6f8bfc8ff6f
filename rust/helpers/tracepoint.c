// SPDX-License-Identifier: GPL-2.0

/*
 * Typed probe registration for the tracepoints kernel::tracepoint supports.
 * Each helper takes the probe with the tracepoint's exact prototype, so the
 * compiler checks the Rust trampoline's type against it (kCFI).
 */

#include <linux/fs_struct.h>
#include <linux/tracepoint.h>
#include <trace/events/sched.h>

__rust_helper void rust_helper_tracepoint_synchronize_unregister(void)
{
	tracepoint_synchronize_unregister();
}

__rust_helper int
rust_helper_register_trace_sched_process_fork(void (*probe)(void *, struct task_struct *,
							    struct task_struct *),
					      void *data)
{
	return register_trace_sched_process_fork(probe, data);
}

__rust_helper int
rust_helper_unregister_trace_sched_process_fork(void (*probe)(void *, struct task_struct *,
							      struct task_struct *),
						void *data)
{
	return unregister_trace_sched_process_fork(probe, data);
}

__rust_helper int
rust_helper_register_trace_sched_process_exec(void (*probe)(void *, struct task_struct *, pid_t,
							    struct linux_binprm *),
					      void *data)
{
	return register_trace_sched_process_exec(probe, data);
}

__rust_helper int
rust_helper_unregister_trace_sched_process_exec(void (*probe)(void *, struct task_struct *, pid_t,
							      struct linux_binprm *),
						void *data)
{
	return unregister_trace_sched_process_exec(probe, data);
}

__rust_helper int
rust_helper_register_trace_sched_process_exit(void (*probe)(void *, struct task_struct *, bool),
					      void *data)
{
	return register_trace_sched_process_exit(probe, data);
}

__rust_helper int
rust_helper_unregister_trace_sched_process_exit(void (*probe)(void *, struct task_struct *, bool),
						void *data)
{
	return unregister_trace_sched_process_exit(probe, data);
}

/*
 * For the exec tracepoint's KUnit test, which writes the program it runs
 * from a kernel thread: kernel threads resolve paths against an empty,
 * immutable root, and C's scoped_with_init_fs() is a scope guard Rust
 * cannot call.
 */
__rust_helper struct fs_struct *rust_helper___override_init_fs(void)
{
	return __override_init_fs();
}

__rust_helper void rust_helper___revert_init_fs(struct fs_struct *old_fs)
{
	__revert_init_fs(old_fs);
}
