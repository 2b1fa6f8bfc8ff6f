// SPDX-License-Identifier: GPL-2.0
/*
 * hello: an ordinary C program, built for WASI with wasi-libc, that runs in
 * the kernel. It prints a greeting, its arguments, what the kernel's import
 * module says about where it runs, and how long that took.
 *
 *   wasmctl run -f hello.wasm a b        # in the kernel
 *   wasmctl --local run -f hello.wasm a b  # the same on the host
 *
 * An argument "exit=N" makes it exit with status N, which becomes
 * wasmctl's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KERNEL_IMPORT(name) \
	__attribute__((import_module("kernel"), import_name(name)))

KERNEL_IMPORT("cpu_id") int kernel_cpu_id(void);
KERNEL_IMPORT("cpus_online") int kernel_cpus_online(void);
KERNEL_IMPORT("comm") int kernel_comm(char *buf, int len);
KERNEL_IMPORT("pid") int kernel_pid(void);

int main(int argc, char **argv)
{
	struct timespec start, end;
	char comm[17] = { 0 };
	int status = 0;
	long ns;

	clock_gettime(CLOCK_MONOTONIC, &start);
	printf("Hello from WebAssembly in the kernel!\n");
	printf("arguments:");
	for (int i = 1; i < argc; i++) {
		printf(" %s", argv[i]);
		if (!strncmp(argv[i], "exit=", 5))
			status = atoi(argv[i] + 5);
	}
	printf("\n");
	kernel_comm(comm, 16);
	printf("CPU %d of %d, for %s (pid %d)\n", kernel_cpu_id(),
	       kernel_cpus_online(), comm, kernel_pid());
	clock_gettime(CLOCK_MONOTONIC, &end);
	ns = (end.tv_sec - start.tv_sec) * 1000000000L +
	     (end.tv_nsec - start.tv_nsec);
	printf("elapsed: %ld us\n", ns / 1000);
	return status;
}
