// SPDX-License-Identifier: GPL-2.0
/*
 * Hashing: an open-addressing hash table (linear probing, 64 Ki slots) filled
 * to 75 %, then probed for present and absent keys and emptied, n times.
 */
#include "bench.h"

#define SLOTS (1u << 16)
#define MASK (SLOTS - 1)
#define FILL (SLOTS / 4 * 3)

struct slot {
	uint32_t key; /* 0: empty */
	uint32_t value;
};

static struct slot table[SLOTS];

static uint32_t hash(uint32_t k)
{
	k ^= k >> 16;
	k *= 0x7feb352du;
	k ^= k >> 15;
	k *= 0x846ca68bu;
	k ^= k >> 16;
	return k;
}

static void insert(uint32_t key, uint32_t value)
{
	uint32_t i = hash(key) & MASK;

	while (table[i].key != 0 && table[i].key != key)
		i = (i + 1) & MASK;
	table[i].key = key;
	table[i].value = value;
}

static uint32_t lookup(uint32_t key, uint32_t *value)
{
	uint32_t i = hash(key) & MASK;

	while (table[i].key != 0) {
		if (table[i].key == key) {
			*value = table[i].value;
			return 1;
		}
		i = (i + 1) & MASK;
	}
	return 0;
}

uint32_t run(uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t r = 0; r < n; r++) {
		uint32_t seed = 88172645u + r, found = 0, sum = 0, v;

		for (uint32_t i = 0; i < SLOTS; i++)
			table[i].key = 0;
		for (uint32_t i = 0; i < FILL; i++) {
			uint32_t k = xorshift32(&seed) | 1;

			insert(k, i);
		}
		seed = 88172645u + r;
		for (uint32_t i = 0; i < FILL; i++) {
			uint32_t k = xorshift32(&seed) | 1;

			if (lookup(k, &v)) {
				found++;
				sum += v;
			}
			/* Even keys are never inserted: a miss. */
			if (lookup(k & ~1u ? k & ~1u : 2, &v))
				return 0;
		}
		h = mix32(mix32(h, found), sum);
	}
	return h;
}
