// SPDX-License-Identifier: GPL-2.0
/*
 * execsnoop: for every execve(), emits "pid PID comm COMM file FILENAME" to
 * the listeners of `wasmctl events`. Built freestanding (no libc): a handler
 * for the sched_process_exec tracepoint runs where sleeping is not allowed.
 *
 *   h=$(wasmctl attach -f execsnoop.wasm --tracepoint sched_process_exec \
 *       --handler on_exec)
 *   wasmctl events $h
 *
 * The record of sched_process_exec: pid, tgid, old pid (u32 each), comm (16
 * bytes), the file name (NUL-terminated).
 */
#define KERNEL(name) __attribute__((import_module("kernel"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

KERNEL(event_read) int event_read(int offset, void *buf, int len);
KERNEL(emit) int emit(const void *buf, int len);

static unsigned char record[512];
static char line[640];
static int execs;

static int put(char *out, int at, const char *s, int max)
{
	for (int i = 0; i < max && s[i]; i++)
		out[at++] = s[i];
	return at;
}

static int put_uint(char *out, int at, unsigned int v)
{
	char digits[10];
	int n = 0;

	do {
		digits[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		out[at++] = digits[--n];
	return at;
}

EXPORT(on_exec) int on_exec(int len)
{
	int n = event_read(0, record, sizeof(record) - 1);
	unsigned int pid;
	int at = 0;

	if (n < 28)
		return 0;
	record[n] = 0;
	pid = record[0] | record[1] << 8 | record[2] << 16 | (unsigned int)record[3] << 24;
	at = put(line, at, "pid ", 4);
	at = put_uint(line, at, pid);
	at = put(line, at, " comm ", 6);
	at = put(line, at, (const char *)record + 12, 16);
	at = put(line, at, " file ", 6);
	at = put(line, at, (const char *)record + 28, n - 28);
	emit(line, at);
	execs++;
	return len;
}

EXPORT(execs) int count(void)
{
	return execs;
}
