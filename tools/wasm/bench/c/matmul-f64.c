// SPDX-License-Identifier: GPL-2.0
/* Floating point matrix multiply: C = A * B on 96 x 96 doubles, n times. */
#include "bench.h"

#define N 96

static double a[N][N], b[N][N], c[N][N];

uint32_t run(uint32_t n)
{
	uint32_t seed = 99, h = 2166136261u;

	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			a[i][j] = (double)(xorshift32(&seed) % 2001) / 1000.0 - 1.0;
			b[i][j] = (double)(xorshift32(&seed) % 2001) / 1000.0 - 1.0;
		}
	for (uint32_t r = 0; r < n; r++) {
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				double s = 0.0;

				for (int k = 0; k < N; k++)
					s += a[i][k] * b[k][j];
				c[i][j] = s;
			}
		/* Feed the result back, scaled to stay bounded. */
		a[r % N][(r * 7) % N] = c[(r * 3) % N][(r * 5) % N] * 0.01;
		for (int i = 0; i < N; i += 5)
			h = mix64(h, f64_bits(c[i][(i * 11) % N]));
	}
	return h;
}
