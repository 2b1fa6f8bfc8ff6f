// SPDX-License-Identifier: GPL-2.0
/* The Mandelbrot set on an n x n grid over [-1.5, 0.5] x [-1, 1], at most 50 iterations a point. */
#include "bench.h"

uint32_t run(uint32_t n)
{
	uint32_t h = 2166136261u, inside = 0;

	for (uint32_t y = 0; y < n; y++) {
		double ci = 2.0 * y / n - 1.0;
		uint32_t row = 0;

		for (uint32_t x = 0; x < n; x++) {
			double cr = 2.0 * x / n - 1.5, zr = 0.0, zi = 0.0, tr = 0.0, ti = 0.0;
			int i = 0;

			while (i < 50 && tr + ti <= 4.0) {
				zi = 2.0 * zr * zi + ci;
				zr = tr - ti + cr;
				tr = zr * zr;
				ti = zi * zi;
				i++;
			}
			row += i;
			inside += i == 50;
		}
		h = mix32(h, row);
	}
	return mix32(h, inside);
}
