// SPDX-License-Identifier: GPL-2.0
/* Memory-heavy sorting: quicksort of 256 Ki pseudo-random words, n times. */
#include "bench.h"

#define LEN (1u << 18)

static uint32_t a[LEN];

static void swap(uint32_t *x, uint32_t *y)
{
	uint32_t t = *x;

	*x = *y;
	*y = t;
}

/* Hoare partitioning around the median of three; recurses into the smaller side only. */
NOINLINE static void quicksort(uint32_t *v, int32_t lo, int32_t hi)
{
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2, i = lo - 1, j = hi + 1;
		uint32_t pivot;

		if (v[mid] < v[lo])
			swap(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap(&v[hi], &v[mid]);
		pivot = v[mid];
		for (;;) {
			do
				i++;
			while (v[i] < pivot);
			do
				j--;
			while (v[j] > pivot);
			if (i >= j)
				break;
			swap(&v[i], &v[j]);
		}
		if (j - lo < hi - j) {
			quicksort(v, lo, j);
			lo = j + 1;
		} else {
			quicksort(v, j + 1, hi);
			hi = j;
		}
	}
}

uint32_t run(uint32_t n)
{
	uint32_t h = 2166136261u, seed = 2463534242u;

	for (uint32_t r = 0; r < n; r++) {
		for (uint32_t i = 0; i < LEN; i++)
			a[i] = xorshift32(&seed);
		quicksort(a, 0, LEN - 1);
		for (uint32_t i = 1; i < LEN; i++)
			if (a[i - 1] > a[i])
				return 0;
		for (uint32_t i = 0; i < LEN; i += 997)
			h = mix32(h, a[i]);
	}
	return h;
}
