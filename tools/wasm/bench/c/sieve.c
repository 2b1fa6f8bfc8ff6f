// SPDX-License-Identifier: GPL-2.0
/* The sieve of Eratosthenes over 1 MiB of byte flags, n times. */
#include "bench.h"

#define SIZE (1u << 20)

static uint8_t composite[SIZE];

uint32_t run(uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t r = 0; r < n; r++) {
		uint32_t count = 0;

		for (uint32_t i = 0; i < SIZE; i++)
			composite[i] = 0;
		for (uint32_t i = 2; i < SIZE; i++) {
			if (composite[i])
				continue;
			count++;
			for (uint32_t j = i * 2; j < SIZE; j += i)
				composite[j] = 1;
		}
		h = mix32(h, count + r);
	}
	return h;
}
