// SPDX-License-Identifier: GPL-2.0
/*
 * Host-call cost: n calls of an imported function. The import is WASI's
 * args_sizes_get, which every runtime here can provide (wasmi only links
 * WASI): it writes two words to linear memory and returns 0. The checksum
 * depends only on the return values, which are the same everywhere.
 */
#include "bench.h"

#ifdef __wasm__
__attribute__((import_module("wasi_snapshot_preview1"), import_name("args_sizes_get")))
#endif
uint32_t args_sizes_get(uint32_t *argc, uint32_t *argv_buf_size);

uint32_t run(uint32_t n)
{
	uint32_t argc, size, h = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		h = mix32(h, args_sizes_get(&argc, &size) + i);
	return h;
}
