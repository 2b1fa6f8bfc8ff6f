// SPDX-License-Identifier: GPL-2.0
/* Integer loops: the total length of the Collatz sequences of 1..n (64-bit arithmetic). */
#include "bench.h"

uint32_t run(uint32_t n)
{
	uint32_t steps = 0, h = 2166136261u;

	for (uint32_t i = 1; i <= n; i++) {
		uint64_t x = i;
		uint32_t len = 0;

		while (x != 1) {
			x = (x & 1) ? 3 * x + 1 : x >> 1;
			len++;
		}
		steps += len;
		if ((i & 1023) == 0)
			h = mix32(h, steps);
	}
	return mix32(h, steps);
}
