// SPDX-License-Identifier: GPL-2.0
/*
 * Memory access: loads and stores of every width (8 to 64 bits, signed and
 * unsigned) over a 256 KiB buffer in a pseudo-random but cache-friendly
 * order, n passes.
 */
#include "bench.h"

#define LEN (256u << 10)

static union {
	uint8_t b[LEN];
	uint64_t align;
} m;

/* Unaligned-safe accesses; both compilers turn these into single loads and stores. */
#define LOAD(type, i) ({ type v_; __builtin_memcpy(&v_, &m.b[i], sizeof(v_)); v_; })
#define STORE(type, i, v) do { type v_ = (v); __builtin_memcpy(&m.b[i], &v_, sizeof(v_)); } while (0)

uint32_t run(uint32_t n)
{
	uint64_t acc = 0;

	for (uint32_t i = 0; i < LEN; i++)
		m.b[i] = (uint8_t)(i * 31 + 7);
	for (uint32_t r = 0; r < n; r++) {
		/* Walk in 64-byte strides, visiting each line once per pass. */
		for (uint32_t line = 0; line < LEN / 64; line++) {
			uint32_t i = ((line * 97) & (LEN / 64 - 1)) * 64;

			acc += (int8_t)m.b[i] + LOAD(uint16_t, i + 2) + LOAD(int16_t, i + 4);
			acc += LOAD(uint32_t, i + 8) + (uint64_t)LOAD(int32_t, i + 12);
			acc ^= LOAD(uint64_t, i + 16) + LOAD(uint64_t, i + 24);
			m.b[i + 1] = (uint8_t)acc;
			STORE(uint16_t, i + 6, (uint16_t)(acc >> 8));
			STORE(uint32_t, i + 32, (uint32_t)(acc >> 16));
			STORE(uint64_t, i + 40, acc * 3);
		}
	}
	return mix64(2166136261u, acc);
}
