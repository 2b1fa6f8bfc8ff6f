// SPDX-License-Identifier: GPL-2.0
/* Recursion: the doubly recursive Fibonacci function, fib(n). */
#include "bench.h"

NOINLINE static uint32_t fib(uint32_t n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

uint32_t run(uint32_t n)
{
	return fib(n);
}
