// SPDX-License-Identifier: GPL-2.0
/*
 * The native runner: `NAME.native N` calls run(N) once and prints the
 * result and the CPU time of the call in nanoseconds, like the other
 * runners. The host function of the host-call benchmark lives here, in
 * another translation unit, so that its calls stay real calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

uint32_t args_sizes_get(uint32_t *argc, uint32_t *argv_buf_size);

NOINLINE uint32_t args_sizes_get(uint32_t *argc, uint32_t *argv_buf_size)
{
	*argc = 1;
	*argv_buf_size = 6;
	return 0;
}

static long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long long t0, t1;
	uint32_t r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s N\n", argv[0]);
		return 2;
	}
	t0 = cpu_ns();
	r = run((uint32_t)strtoul(argv[1], NULL, 0));
	t1 = cpu_ns();
	printf("%u %lld\n", r, t1 - t0);
	return 0;
}
