// SPDX-License-Identifier: GPL-2.0
/*
 * flood: writes MIB mebibytes (default 10) of numbered lines to standard
 * output, then a line with their count and a checksum, so that a reader can
 * tell that nothing was lost, repeated or reordered:
 *
 *   wasmctl run -f flood.wasm 10 | tail -1
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 10;
	unsigned long long bytes = 0, target = (unsigned long long)mib << 20;
	unsigned int hash = 2166136261u;
	char line[64];
	long n = 0;

	while (bytes < target) {
		int len = snprintf(line, sizeof(line), "line %08ld %08x\n", n, hash);

		for (int i = 0; i < len; i++)
			hash = (hash ^ (unsigned char)line[i]) * 16777619u;
		fputs(line, stdout);
		bytes += len;
		n++;
	}
	printf("%ld lines, %llu bytes, checksum %08x\n", n, bytes, hash);
	return 0;
}
