// SPDX-License-Identifier: GPL-2.0
/*
 * The two functions clang may call on its own in freestanding WebAssembly
 * code (for struct copies and initialisers). Built with -fno-builtin so that
 * these loops stay loops.
 */
#include <stddef.h>

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}
