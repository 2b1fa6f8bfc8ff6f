// SPDX-License-Identifier: GPL-2.0
/*
 * Calls every function of the runtime's "kernel" import module and WASI's
 * fd_write, for the KUnit suite of the kernel's host API (platform.rs):
 * each export passes its arguments straight through, so that the test can
 * give pointers inside and outside the linear memory.
 */
#define KERNEL(name) __attribute__((import_module("kernel"), import_name(#name)))
#define WASI(name) \
	__attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

KERNEL(abi_version) int kernel_abi_version(void);
KERNEL(log) void kernel_log(int level, const char *msg, int len);
KERNEL(time_ns) long long kernel_time_ns(int clock);
KERNEL(jiffies) long long kernel_jiffies(void);
KERNEL(cpu_id) int kernel_cpu_id(void);
KERNEL(cpus_online) int kernel_cpus_online(void);
KERNEL(numa_node) int kernel_numa_node(void);
KERNEL(random_u64) long long kernel_random_u64(void);
KERNEL(random_fill) int kernel_random_fill(char *buf, int len);
KERNEL(pid) int kernel_pid(void);
KERNEL(tgid) int kernel_tgid(void);
KERNEL(uid) int kernel_uid(void);
KERNEL(comm) int kernel_comm(char *buf, int len);
WASI(fd_write) int wasi_fd_write(int fd, const void *iovs, int n, int *written);

#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(abi_version)
int abi_version(void) { return kernel_abi_version(); }
EXPORT(log_at)
void log_at(int level, int ptr, int len) { kernel_log(level, (const char *)ptr, len); }
EXPORT(time_ns)
long long time_ns(int clock) { return kernel_time_ns(clock); }
EXPORT(jiffies)
long long jiffies(void) { return kernel_jiffies(); }
EXPORT(cpu_id)
int cpu_id(void) { return kernel_cpu_id(); }
EXPORT(cpus_online)
int cpus_online(void) { return kernel_cpus_online(); }
EXPORT(numa_node)
int numa_node(void) { return kernel_numa_node(); }
EXPORT(random_u64)
long long random_u64(void) { return kernel_random_u64(); }
EXPORT(random_fill)
int random_fill(int ptr, int len) { return kernel_random_fill((char *)ptr, len); }
EXPORT(pid)
int pid(void) { return kernel_pid(); }
EXPORT(tgid)
int tgid(void) { return kernel_tgid(); }
EXPORT(uid)
int uid(void) { return kernel_uid(); }
EXPORT(comm)
int comm(int ptr, int len) { return kernel_comm((char *)ptr, len); }

static struct {
	const char *buf;
	unsigned long len;
} iov;
static int written;

/* Writes [ptr, ptr + len) to fd; returns the errno, and the count in written. */
EXPORT(write_at)
int write_at(int fd, int ptr, int len)
{
	iov.buf = (const char *)ptr;
	iov.len = len;
	return wasi_fd_write(fd, &iov, 1, &written);
}

EXPORT(last_written)
int last_written(void) { return written; }

/* A buffer the test fills. */
static char buffer[256];
EXPORT(buffer_at)
int buffer_at(void) { return (int)buffer; }
