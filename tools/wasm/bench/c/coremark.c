// SPDX-License-Identifier: GPL-2.0
/*
 * A CoreMark-like mix (written for this suite, not EEMBC's code): each
 * iteration runs the three kinds of work CoreMark runs -- linked-list
 * processing (find, reverse, merge sort), small integer matrix operations
 * and a state machine that classifies the tokens of a string -- and folds
 * their results into a CRC-16, n iterations.
 */
#include "bench.h"

/* CRC-16/ARC, bit by bit, as CoreMark folds its results. */
static uint16_t crc16(uint16_t crc, uint16_t v)
{
	for (int i = 0; i < 16; i++) {
		uint16_t bit = (crc ^ (v >> i)) & 1;

		crc >>= 1;
		if (bit)
			crc ^= 0xa001;
	}
	return crc;
}

/* Linked lists. */
#define NODES 64

struct node {
	struct node *next;
	int16_t data, idx;
};

static struct node pool[NODES];

static struct node *list_build(uint32_t seed)
{
	struct node *head = 0;

	for (int i = NODES - 1; i >= 0; i--) {
		pool[i].data = (int16_t)(xorshift32(&seed) & 0x7fff);
		pool[i].idx = (int16_t)i;
		pool[i].next = head;
		head = &pool[i];
	}
	return head;
}

static struct node *list_reverse(struct node *l)
{
	struct node *prev = 0;

	while (l) {
		struct node *next = l->next;

		l->next = prev;
		prev = l;
		l = next;
	}
	return prev;
}

static struct node *list_find(struct node *l, int16_t data)
{
	while (l && l->data != data)
		l = l->next;
	return l;
}

/* Bottom-up merge sort of a list by data (descending = 0) or idx (1). */
static struct node *list_sort(struct node *list, int by_idx)
{
	for (int insize = 1;; insize *= 2) {
		struct node *p = list, *tail = 0;
		int merges = 0;

		list = 0;
		while (p) {
			struct node *q = p;
			int psize = 0, qsize = insize;

			merges++;
			while (psize < insize && q) {
				psize++;
				q = q->next;
			}
			while (psize > 0 || (qsize > 0 && q)) {
				struct node *e;
				int take_p;

				if (psize == 0)
					take_p = 0;
				else if (qsize == 0 || !q)
					take_p = 1;
				else if (by_idx)
					take_p = p->idx <= q->idx;
				else
					take_p = p->data <= q->data;
				if (take_p) {
					e = p;
					p = p->next;
					psize--;
				} else {
					e = q;
					q = q->next;
					qsize--;
				}
				if (tail)
					tail->next = e;
				else
					list = e;
				tail = e;
			}
			p = q;
		}
		tail->next = 0;
		if (merges <= 1)
			return list;
	}
}

static uint16_t bench_list(uint32_t seed, uint16_t crc)
{
	struct node *l = list_build(seed);

	for (int i = 0; i < 8; i++) {
		struct node *f = list_find(l, pool[(i * 7) % NODES].data);

		crc = crc16(crc, f ? (uint16_t)f->idx : 0xffff);
		l = list_reverse(l);
		crc = crc16(crc, (uint16_t)l->data);
	}
	l = list_sort(l, 0);
	for (struct node *p = l; p; p = p->next)
		crc = crc16(crc, (uint16_t)p->data);
	l = list_sort(l, 1);
	return crc16(crc, (uint16_t)l->next->data);
}

/* Matrices. */
#define DIM 12

static int16_t ma[DIM][DIM], mb[DIM][DIM];
static int32_t mc[DIM][DIM];

static uint16_t bench_matrix(uint32_t seed, uint16_t crc)
{
	int16_t k = (int16_t)(seed & 0xff);
	int32_t acc = 0;

	for (int i = 0; i < DIM; i++)
		for (int j = 0; j < DIM; j++) {
			ma[i][j] = (int16_t)(xorshift32(&seed) & 0xfff);
			mb[i][j] = (int16_t)(xorshift32(&seed) & 0xfff);
		}
	for (int i = 0; i < DIM; i++)
		for (int j = 0; j < DIM; j++)
			ma[i][j] += k;
	for (int i = 0; i < DIM; i++)
		for (int j = 0; j < DIM; j++) {
			int32_t s = 0;

			for (int x = 0; x < DIM; x++)
				s += (int32_t)ma[i][x] * mb[x][j];
			mc[i][j] = s;
		}
	for (int i = 0; i < DIM; i++)
		for (int j = 0; j < DIM; j++) {
			/* Bit extraction, as CoreMark's matrix_mul_matrix_bitextract. */
			int32_t bits = (mc[i][j] >> 2) & 0xf;

			acc += bits > 10 ? bits * 2 : -bits;
			if (acc > 1000000)
				acc = 0;
		}
	return crc16(crc, (uint16_t)acc);
}

/* The state machine: classify comma-separated tokens as int, float, scientific or invalid. */
enum state { START, INT, S1, FLOAT, EXP, S2, SCI, INVALID, NSTATES };

static const char *const tokens[] = {
	"5012", "1234", "-874", "+122", "35.54", ".1234", "-110.7", "+0.64",
	"5.500e+3", "-.123e-2", "-87e+832", "+0.6e-12", "T0.3e-1F", "-T.T++Tq", "1T3.4e4z", "34.0e-T^",
};

static enum state step(enum state s, char c, uint32_t *transitions)
{
	int digit = c >= '0' && c <= '9';
	enum state next = INVALID;

	switch (s) {
	case START:
		next = digit ? INT : (c == '+' || c == '-') ? S1 : c == '.' ? FLOAT : INVALID;
		break;
	case S1:
		next = digit ? INT : c == '.' ? FLOAT : INVALID;
		break;
	case INT:
		next = digit ? INT : c == '.' ? FLOAT : INVALID;
		break;
	case FLOAT:
		next = digit ? FLOAT : (c == 'e' || c == 'E') ? S2 : INVALID;
		break;
	case S2:
		next = (c == '+' || c == '-') ? EXP : INVALID;
		break;
	case EXP:
		next = digit ? SCI : INVALID;
		break;
	case SCI:
		next = digit ? SCI : INVALID;
		break;
	default:
		break;
	}
	transitions[next]++;
	return next;
}

static char text[512];

static uint16_t bench_state(uint32_t seed, uint16_t crc)
{
	uint32_t final[NSTATES] = { 0 }, transitions[NSTATES] = { 0 };
	uint32_t len = 0;

	for (int t = 0; t < 40; t++) {
		const char *tok = tokens[xorshift32(&seed) % 16];

		while (*tok && len < sizeof(text) - 2)
			text[len++] = *tok++;
		text[len++] = ',';
	}
	text[len] = 0;
	for (const char *p = text; *p;) {
		enum state s = START;

		while (*p && *p != ',') {
			s = step(s, *p++, transitions);
			if (s == INVALID) {
				while (*p && *p != ',')
					p++;
				break;
			}
		}
		final[s]++;
		if (*p == ',')
			p++;
	}
	for (int i = 0; i < NSTATES; i++)
		crc = crc16(crc16(crc, (uint16_t)final[i]), (uint16_t)transitions[i]);
	return crc;
}

uint32_t run(uint32_t n)
{
	uint16_t crc = 0;
	uint32_t seed = 0x3415;

	for (uint32_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		crc = bench_list(seed | 1, crc);
		crc = bench_matrix(seed | 1, crc);
		crc = bench_state(seed | 1, crc);
	}
	return crc;
}
