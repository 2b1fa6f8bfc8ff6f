// SPDX-License-Identifier: GPL-2.0
/*
 * tcg-count.c - a QEMU TCG plugin for `make bench-kernel`: how many guest
 * instructions and translation blocks a run executes, per block address.
 *
 * TCG's cost is not the guest's instruction count alone. It runs guest code
 * as translation blocks (straight-line code up to a branch), and links one
 * block directly to the next only when the jump stays in the guest page the
 * block starts in; every other transfer (an indirect jump, a return, a jump
 * to another page) looks the next block up in a hash table. So for each
 * block this counts its executions, its instructions per execution, and the
 * executions entered from a block that starts in another page.
 *
 * At exit it writes one line per block that ran,
 * "ADDRESS INSTRUCTIONS EXECUTIONS ENTRIES_FROM_ANOTHER_PAGE" (hexadecimal
 * address, decimal counts), to the file named by the plugin's out= argument;
 * tools/wasm/bench/kernel.py sums the lines that fall in the engine's code.
 *
 * Built by scripts/bench.sh against QEMU's plugin interface version 1 (QEMU
 * 7.2 in Debian 12). Debian does not ship qemu-plugin.h, so the few
 * declarations used are written out below; their meaning is that of
 * include/qemu/qemu-plugin.h in QEMU's source.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct {
	const char *target_name;
	int min_version;
	int cur_version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
		void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb));
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
		enum qemu_plugin_op op, void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
		void (*cb)(unsigned int vcpu_index, void *userdata),
		enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
		void (*cb)(qemu_plugin_id_t id, void *userdata), void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define PAGE_SHIFT 12
#define MAX_VCPUS 64

/* One translation of a block. A block translated again gets a new record. */
struct block {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t executions;
	uint64_t cross_page_entries;
};

static struct block **blocks;
static size_t nr_blocks, blocks_cap;
static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *out_path;
/* The page of the block each vCPU ran last; each vCPU writes only its own. */
static uint64_t last_page[MAX_VCPUS];

static void block_entered(unsigned int vcpu, void *userdata)
{
	struct block *b = userdata;
	uint64_t page = b->vaddr >> PAGE_SHIFT;
	unsigned int i = vcpu % MAX_VCPUS;

	if (last_page[i] != page)
		__atomic_fetch_add(&b->cross_page_entries, 1, __ATOMIC_RELAXED);
	last_page[i] = page;
}

static void block_translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct block *b = calloc(1, sizeof(*b));

	/* A block left uncounted would make every total silently low. */
	if (!b) {
		fprintf(stderr, "tcg-count: out of memory\n");
		abort();
	}
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->insns = qemu_plugin_tb_n_insns(tb);
	pthread_mutex_lock(&blocks_lock);
	if (nr_blocks == blocks_cap) {
		size_t cap = blocks_cap ? 2 * blocks_cap : 1 << 16;
		struct block **grown = realloc(blocks, cap * sizeof(*blocks));

		if (!grown) {
			fprintf(stderr, "tcg-count: out of memory\n");
			abort();
		}
		blocks = grown;
		blocks_cap = cap;
	}
	blocks[nr_blocks++] = b;
	pthread_mutex_unlock(&blocks_lock);
	/*
	 * The inline add is not atomic; the one benchmark runs on one vCPU at
	 * a time, and this is a count, not a lock.
	 */
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &b->executions, 1);
	qemu_plugin_register_vcpu_tb_exec_cb(tb, block_entered,
					     QEMU_PLUGIN_CB_NO_REGS, b);
}

static void write_counts(qemu_plugin_id_t id, void *userdata)
{
	FILE *f = fopen(out_path, "w");
	size_t i;

	if (!f) {
		perror(out_path);
		return;
	}
	for (i = 0; i < nr_blocks; i++) {
		const struct block *b = blocks[i];

		if (b->executions)
			fprintf(f, "%llx %llu %llu %llu\n",
				(unsigned long long)b->vaddr,
				(unsigned long long)b->insns,
				(unsigned long long)b->executions,
				(unsigned long long)b->cross_page_entries);
	}
	fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			out_path = strdup(argv[i] + 4);	/* argv is QEMU's */
	if (!out_path) {
		fprintf(stderr, "tcg-count: needs out=FILE\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, block_translated);
	qemu_plugin_register_atexit_cb(id, write_counts, NULL);
	return 0;
}
