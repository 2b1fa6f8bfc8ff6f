// SPDX-License-Identifier: GPL-2.0
/* Integer matrix multiply: C = A * B on 128 x 128 32-bit matrices, n times. */
#include "bench.h"

#define N 128

static uint32_t a[N][N], b[N][N], c[N][N];

uint32_t run(uint32_t n)
{
	uint32_t seed = 7, h = 2166136261u;

	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			a[i][j] = xorshift32(&seed) & 0xffff;
			b[i][j] = xorshift32(&seed) & 0xffff;
		}
	for (uint32_t r = 0; r < n; r++) {
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				uint32_t s = 0;

				for (int k = 0; k < N; k++)
					s += a[i][k] * b[k][j];
				c[i][j] = s;
			}
		/* Feed the result back so that every round depends on the last. */
		a[r % N][(r * 7) % N] ^= c[(r * 3) % N][(r * 5) % N];
		for (int i = 0; i < N; i += 5)
			h = mix32(h, c[i][(i * 11) % N]);
	}
	return h;
}
