// SPDX-License-Identifier: GPL-2.0
/* Hashing: table-driven CRC-32 (IEEE 802.3) over 64 KiB, n times. */
#include "bench.h"

#define LEN (64u << 10)

static uint32_t table[256];
static uint8_t buf[LEN];

uint32_t run(uint32_t n)
{
	uint32_t seed = 12345, crc = 0;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	for (uint32_t i = 0; i < LEN; i++)
		buf[i] = (uint8_t)xorshift32(&seed);
	for (uint32_t r = 0; r < n; r++) {
		uint32_t c = ~crc;

		for (uint32_t i = 0; i < LEN; i++)
			c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
		crc = ~c;
	}
	return crc;
}
