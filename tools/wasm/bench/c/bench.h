/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every benchmark kernel shares. A kernel is one C file that defines
 *
 *	uint32_t run(uint32_t n);
 *
 * doing an amount of work proportional to n (n = 0 does next to nothing)
 * and returning a checksum of everything it computed, so that a runtime that
 * gets anything wrong gives another result than native code. The same file
 * is built to WebAssembly by clang (run is the module's export "run") and
 * natively by gcc, linked with native.c, which times one call.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

#ifdef __wasm__
#define BENCH_EXPORT __attribute__((export_name("run")))
#else
#define BENCH_EXPORT
#endif

#define NOINLINE __attribute__((noinline))

BENCH_EXPORT uint32_t run(uint32_t n);

/* A small deterministic generator (xorshift32); never returns 0 for s != 0. */
static inline uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* Folds a value into a checksum (FNV-1a style on 32-bit words). */
static inline uint32_t mix32(uint32_t h, uint32_t v)
{
	return (h ^ v) * 16777619u;
}

static inline uint32_t mix64(uint32_t h, uint64_t v)
{
	return mix32(mix32(h, (uint32_t)v), (uint32_t)(v >> 32));
}

/* The bits of a double: results are compared bit for bit. */
static inline uint64_t f64_bits(double d)
{
	union {
		double d;
		uint64_t u;
	} b = { .d = d };

	return b.u;
}

#endif
