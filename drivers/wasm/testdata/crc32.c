// SPDX-License-Identifier: GPL-2.0
/*
 * CRC-32 (IEEE 802.3) and a small sort, in freestanding C, for the KUnit
 * suite to run in the kernel as WebAssembly. crc32.rs holds the module,
 * compiled with clang --target=wasm32 (no libc); the tree this series is
 * developed in regenerates it and checks that it is up to date.
 */

typedef unsigned int u32;
typedef unsigned char u8;

static u32 table[256];
static u8 buffer[4096];

static void make_table(void)
{
	for (u32 n = 0; n < 256; n++) {
		u32 c = n;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[n] = c;
	}
}

/* The buffer the host writes input into. */
__attribute__((export_name("buffer")))
u8 *get_buffer(void)
{
	return buffer;
}

__attribute__((export_name("crc32")))
u32 crc32(const u8 *data, u32 len)
{
	u32 c = 0xffffffffu;

	if (!table[1])
		make_table();
	if (len > sizeof(buffer))
		len = sizeof(buffer);
	for (u32 i = 0; i < len; i++)
		c = table[(c ^ data[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* The standard check value: CRC-32 of "123456789" is 0xcbf43926. */
__attribute__((export_name("crc32_check")))
int crc32_check(void)
{
	static const char digits[] = "123456789";

	return crc32((const u8 *)digits, 9) == 0xcbf43926u;
}

/* Insertion sort of n pseudo-random numbers; returns a checksum of the order. */
__attribute__((export_name("sort_checksum")))
u32 sort_checksum(u32 n, u32 seed)
{
	static u32 v[1024];
	u32 sum = 0;

	if (n > 1024)
		n = 1024;
	for (u32 i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = seed >> 8;
	}
	for (u32 i = 1; i < n; i++) {
		u32 x = v[i], j = i;

		while (j > 0 && v[j - 1] > x) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
	for (u32 i = 0; i < n; i++)
		sum = sum * 31 + v[i];
	return sum;
}
