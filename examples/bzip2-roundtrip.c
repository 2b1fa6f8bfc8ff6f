// SPDX-License-Identifier: GPL-2.0
/*
 * bzip2-roundtrip: a larger real program for the runtime. It links bzip2
 * 1.0.8's library (about 5 000 lines of C, unmodified, from the bzip2-sys
 * crate of the Rust crate registry; scripts/examples.sh fetches it) and
 * compresses a generated input of KIB kibibytes (default 1024) at block sizes
 * 1, 5 and 9, decompresses each stream with the fast and the small
 * algorithm, and prints the sizes, CRC-32s and a digest of every compressed
 * stream. The input is the same on every machine, so the output is too:
 * byte for byte what the same program built natively prints.
 *
 *   wasmctl run -f bzip2-roundtrip.wasm 1024
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bzlib.h"

/* Built with BZ_NO_STDIO, the library reports broken invariants here. */
void bz_internal_error(int errcode)
{
	printf("bzip2: internal error %d\n", errcode);
	exit(3);
}

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: the same numbers everywhere. */
static unsigned int rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned int)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static const char *const words[] = {
	"the", "kernel", "runs", "WebAssembly", "in", "ring", "zero", "with",
	"fuel", "and", "bounded", "memory", "a", "module", "imports", "wasi",
	"functions", "from", "host", "translation", "interpreter", "stack",
	"of", "values", "block", "sorting", "Burrows-Wheeler", "transform",
	"Huffman", "coding", "move-to-front", "run-length", "encoding",
	"is", "what", "bzip2", "does", "to", "compress", "text",
};

/*
 * The input: 16 KiB sections of four kinds in a fixed pseudo-random order --
 * text from a small vocabulary (compresses well), runs of one byte and
 * short repeated patterns (bzip2's run-length stage and its fallback sort
 * for repetitive blocks), counters (structured binary) and random bytes
 * (incompressible).
 */
static void generate(unsigned char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t end = i + 16384 < len ? i + 16384 : len;
		unsigned int kind = rng() % 8;

		if (kind < 4) {
			while (i < end) {
				const char *w = words[rng() % (sizeof(words) / sizeof(words[0]))];
				unsigned int sep = rng() % 16;

				while (*w && i < end)
					buf[i++] = (unsigned char)*w++;
				if (i < end)
					buf[i++] = sep == 0 ? '\n' : sep == 1 ? ',' : ' ';
			}
		} else if (kind == 4) {
			while (i < end) {
				unsigned char c = (unsigned char)rng();
				size_t run = 1 + rng() % 600;

				while (run-- && i < end)
					buf[i++] = c;
			}
		} else if (kind == 5) {
			unsigned char pattern[7];
			size_t plen = 1 + rng() % sizeof(pattern);

			for (size_t k = 0; k < plen; k++)
				pattern[k] = (unsigned char)rng();
			for (size_t k = 0; i < end; k++)
				buf[i++] = pattern[k % plen];
		} else if (kind == 6) {
			for (unsigned int n = rng() % 1000; i < end; n++) {
				for (int b = 0; b < 4 && i < end; b++)
					buf[i++] = (unsigned char)(n >> (8 * b));
			}
		} else {
			while (i < end)
				buf[i++] = (unsigned char)rng();
		}
	}
}

static unsigned int crc_table[256];

static unsigned int crc32(const unsigned char *p, size_t len)
{
	unsigned int crc = 0xffffffffu;

	if (!crc_table[1]) {
		for (unsigned int n = 0; n < 256; n++) {
			unsigned int c = n;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			crc_table[n] = c;
		}
	}
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* FNV-1a, 64 bits: a digest of the compressed stream. */
static unsigned long long fnv64(const unsigned char *p, size_t len)
{
	unsigned long long h = 0xcbf29ce484222325ull;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static void *xmalloc(size_t len)
{
	void *p = malloc(len);

	if (!p) {
		printf("out of memory (%zu bytes)\n", len);
		exit(1);
	}
	return p;
}

static void fail(const char *what, int ret)
{
	printf("%s failed: %d\n", what, ret);
	exit(1);
}

/*
 * Compresses with the streaming interface, feeding the input and taking the
 * output 64 KiB at a time, as a program reading and writing files would.
 * Returns the stream's length in out.
 */
static size_t compress(const unsigned char *in, size_t len, unsigned char *out,
		       size_t cap, int block)
{
	bz_stream s;
	size_t done = 0;
	int ret;

	memset(&s, 0, sizeof(s));
	ret = BZ2_bzCompressInit(&s, block, 0, 0);
	if (ret != BZ_OK)
		fail("BZ2_bzCompressInit", ret);
	s.next_out = (char *)out;
	do {
		size_t chunk = len - done < 65536 ? len - done : 65536;
		int action = done + chunk == len ? BZ_FINISH : BZ_RUN;

		if (s.avail_in == 0) {
			s.next_in = (char *)in + done;
			s.avail_in = (unsigned int)chunk;
			done += chunk;
		}
		if (s.avail_out == 0) {
			size_t used = (size_t)(s.next_out - (char *)out);

			s.avail_out = (unsigned int)(cap - used < 65536 ? cap - used : 65536);
		}
		ret = BZ2_bzCompress(&s, action);
		if (ret != BZ_RUN_OK && ret != BZ_FINISH_OK && ret != BZ_STREAM_END)
			fail("BZ2_bzCompress", ret);
	} while (ret != BZ_STREAM_END);
	BZ2_bzCompressEnd(&s);
	return (size_t)(s.next_out - (char *)out);
}

/*
 * Decompresses with the streaming interface, 4 KiB of input and 32 KiB of
 * output at a time, with the fast or the small algorithm; returns how many
 * bytes came out, and their CRC-32 in crc.
 */
static size_t decompress(const unsigned char *in, size_t len, unsigned char *out,
			 size_t cap, int small)
{
	bz_stream s;
	size_t fed = 0;
	int ret;

	memset(&s, 0, sizeof(s));
	ret = BZ2_bzDecompressInit(&s, 0, small);
	if (ret != BZ_OK)
		fail("BZ2_bzDecompressInit", ret);
	s.next_out = (char *)out;
	do {
		if (s.avail_in == 0 && fed < len) {
			size_t chunk = len - fed < 4096 ? len - fed : 4096;

			s.next_in = (char *)in + fed;
			s.avail_in = (unsigned int)chunk;
			fed += chunk;
		}
		if (s.avail_out == 0) {
			size_t used = (size_t)(s.next_out - (char *)out);

			if (used == cap)
				fail("decompression: too much output", 0);
			s.avail_out = (unsigned int)(cap - used < 32768 ? cap - used : 32768);
		}
		ret = BZ2_bzDecompress(&s);
		if (ret != BZ_OK && ret != BZ_STREAM_END)
			fail("BZ2_bzDecompress", ret);
		if (ret == BZ_OK && s.avail_in == 0 && fed == len && s.avail_out != 0)
			fail("decompression: truncated stream", 0);
	} while (ret != BZ_STREAM_END);
	BZ2_bzDecompressEnd(&s);
	return (size_t)(s.next_out - (char *)out);
}

int main(int argc, char **argv)
{
	long kib = argc > 1 ? atol(argv[1]) : 1024;
	static const int blocks[] = { 1, 5, 9 };
	size_t len, cap;
	unsigned char *in, *packed, *out;
	unsigned int crc;
	int errors = 0;

	if (kib <= 0 || kib > 65536) {
		printf("usage: bzip2-roundtrip [KIB]  (1 to 65536, default 1024)\n");
		return 2;
	}
	len = (size_t)kib << 10;
	/* bzip2's worst case: 1% and 600 bytes more than the input. */
	cap = len + len / 100 + 600;
	in = xmalloc(len);
	packed = xmalloc(cap);
	out = xmalloc(len + 1);
	generate(in, len);
	crc = crc32(in, len);
	printf("%s\n", BZ2_bzlibVersion());
	printf("input: %zu bytes, crc32 %08x\n", len, crc);
	for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
		size_t plen = compress(in, len, packed, cap, blocks[b]);

		printf("-%d: %zu bytes (%.2f bits/byte), stream %016llx\n", blocks[b],
		       plen, 8.0 * (double)plen / (double)len, fnv64(packed, plen));
		for (int small = 0; small < 2; small++) {
			size_t olen;
			unsigned int ocrc;

			memset(out, 0, len + 1);
			olen = decompress(packed, plen, out, len + 1, small);
			ocrc = crc32(out, olen);
			printf("  %s: %zu bytes, crc32 %08x, %s\n",
			       small ? "small" : "fast ", olen, ocrc,
			       olen == len && !memcmp(in, out, len) ? "identical" : "DIFFERENT");
			errors += olen != len || memcmp(in, out, len);
		}
	}
	printf("%s\n", errors ? "round trip FAILED" : "round trip ok");
	free(out);
	free(packed);
	free(in);
	return errors ? 1 : 0;
}
