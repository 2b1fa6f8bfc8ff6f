// SPDX-License-Identifier: GPL-2.0
/*
 * Call overhead: n iterations of a direct call and an indirect call (through
 * a function pointer, a call_indirect in WebAssembly) to small functions
 * that are never inlined.
 */
#include "bench.h"

NOINLINE static uint32_t add3(uint32_t a, uint32_t b, uint32_t c)
{
	return a + b * 3 + c;
}

NOINLINE static uint32_t sub1(uint32_t a, uint32_t b, uint32_t c)
{
	return (a ^ c) - b;
}

typedef uint32_t (*fn3)(uint32_t, uint32_t, uint32_t);

/* volatile: the compiler cannot see which function it calls. */
static fn3 volatile table[2] = { add3, sub1 };

uint32_t run(uint32_t n)
{
	uint32_t x = 1;

	for (uint32_t i = 0; i < n; i++) {
		x = add3(x, i, 7);
		x = table[i & 1](x, i, 3);
	}
	return x;
}
