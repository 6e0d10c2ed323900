/*
 * merkle_testlib.c: the independent Merkle reference and node sources
 * (merkle_testlib.h).
 */
#include "merkle_testlib.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* ---- independent reference ------------------------------------------- */

struct kt_hash leaves[NLEAVES];
struct kt_hash tab[NLEVELS][NLEAVES];

void
ref_leaf(const uint8_t *d, size_t len, struct kt_hash *out)
{
	uint8_t buf[64];

	ck_assert_uint_lt(len, sizeof(buf));
	buf[0] = 0x00;
	if (len > 0)
		memcpy(buf + 1, d, len);
	crypto_hash_sha256(out->b, buf, len + 1);
}

void
ref_node(const struct kt_hash *l, const struct kt_hash *r, struct kt_hash *out)
{
	uint8_t buf[1 + 2 * KT_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, l->b, KT_HASH_LEN);
	memcpy(buf + 1 + KT_HASH_LEN, r->b, KT_HASH_LEN);
	crypto_hash_sha256(out->b, buf, sizeof(buf));
}

/* k: the largest power of two strictly smaller than n (n > 1). */
static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* Memo of ref_mth for small ranges, only to keep the exhaustive loops fast. */
#define MEMO 130
static struct kt_hash memo[MEMO][MEMO];
static unsigned char memo_ok[MEMO][MEMO];

/* RFC 9162 §2.1.1 MTH(D[a:b]) over the leaf hashes. */
void
ref_mth(uint64_t a, uint64_t b, struct kt_hash *out)
{
	struct kt_hash l, r;
	uint64_t k;

	if (b < MEMO && memo_ok[a][b]) {
		*out = memo[a][b];
		return;
	}
	if (b == a) {
		crypto_hash_sha256(out->b, NULL, 0);
		return;
	}
	if (b - a == 1) {
		*out = leaves[a];
		return;
	}
	k = split(b - a);
	ref_mth(a, a + k, &l);
	ref_mth(a + k, b, &r);
	ref_node(&l, &r, out);
	if (b < MEMO) {
		memo[a][b] = *out;
		memo_ok[a][b] = 1;
	}
}

/* RFC 9162 §2.1.3.1 PATH(m, D[a:b]). */
static void
ref_path(uint64_t m, uint64_t a, uint64_t b, struct kt_proof *p)
{
	uint64_t n = b - a, k;

	if (n <= 1)
		return;
	k = split(n);
	if (m < k) {
		ref_path(m, a, a + k, p);
		ref_mth(a + k, b, &p->h[p->n++]);
	} else {
		ref_path(m - k, a + k, b, p);
		ref_mth(a, a + k, &p->h[p->n++]);
	}
}

/* RFC 9162 §2.1.4.1 SUBPROOF(m, D[a:b], first). */
static void
ref_subproof(uint64_t m, uint64_t a, uint64_t b, int first, struct kt_proof *p)
{
	uint64_t n = b - a, k;

	if (m == n) {
		if (!first)
			ref_mth(a, b, &p->h[p->n++]);
		return;
	}
	k = split(n);
	if (m <= k) {
		ref_subproof(m, a, a + k, first, p);
		ref_mth(a + k, b, &p->h[p->n++]);
	} else {
		ref_subproof(m - k, a + k, b, 0, p);
		ref_mth(a, a + k, &p->h[p->n++]);
	}
}

void
ref_consistency(uint64_t m, uint64_t n, struct kt_proof *p)
{
	p->n = 0;
	/* RFC: PROOF(m, D[n]) for 0 < m < n; kt: empty for m == 0 or m == n. */
	if (m > 0 && m < n)
		ref_subproof(m, 0, n, 1, p);
}

void
ref_inclusion(uint64_t m, uint64_t n, struct kt_proof *p)
{
	p->n = 0;
	ref_path(m, 0, n, p);
}

int
proof_eq(const struct kt_proof *a, const struct kt_proof *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!kt_hash_eq(&a->h[i], &b->h[i]))
			return 0;
	return 1;
}

/*
 * The 8 entries of the RFC 6962 reference tree (the CT test tree, also the
 * tree behind ../shared/vectors/merkle), then filler entries "kt-<i>".
 */
static const char *rfc_entries_hex[8] = {
	"",
	"00",
	"10",
	"2021",
	"3031",
	"40414243",
	"5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

void
setup_tree(void)
{
	unsigned i, l;

	memset(memo_ok, 0, sizeof(memo_ok));
	for (i = 0; i < NLEAVES; i++) {
		uint8_t buf[32];
		size_t len = 0;

		if (i < 8) {
			ck_assert_int_eq(sodium_hex2bin(buf, sizeof(buf),
			                     rfc_entries_hex[i],
			                     strlen(rfc_entries_hex[i]), NULL,
			                     &len, NULL),
			    0);
		} else {
			len = (size_t)snprintf((char *)buf, sizeof(buf),
			    "kt-%u", i);
		}
		ref_leaf(buf, len, &leaves[i]);
		tab[0][i] = leaves[i];
	}
	for (l = 1; l < NLEVELS; l++)
		for (i = 0; i < (NLEAVES >> l); i++)
			ref_node(&tab[l - 1][2 * i], &tab[l - 1][2 * i + 1],
			    &tab[l][i]);
}

/* ---- node sources ------------------------------------------------------ */

kt_err
mem_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	struct memsrc *s = ctx;

	s->calls++;
	if (s->fail_at != 0 && s->calls == s->fail_at)
		return KT_ERR_IO;
	if (level >= NLEVELS || index >= (s->size >> level)) {
		s->outside = 1;
		return KT_ERR_INTERNAL;
	}
	*out = tab[level][index];
	return KT_OK;
}

struct kt_hash uniform[64];

kt_err
big_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	struct bigsrc *s = ctx;

	s->calls++;
	if (level >= 64 || index >= (s->size >> level)) {
		s->outside = 1;
		return KT_ERR_INTERNAL;
	}
	*out = uniform[level];
	return KT_OK;
}

void
setup_uniform(void)
{
	unsigned l;

	ref_leaf((const uint8_t *)"u", 1, &uniform[0]);
	for (l = 1; l < 64; l++)
		ref_node(&uniform[l - 1], &uniform[l - 1], &uniform[l]);
}

void
gen_inclusion(uint64_t i, uint64_t n, struct kt_proof *p)
{
	struct memsrc s = { .size = n };

	ck_assert_int_eq(kt_merkle_inclusion_proof(mem_node, &s, i, n, p),
	    KT_OK);
	ck_assert_int_eq(s.outside, 0);
}

void
gen_consistency(uint64_t m, uint64_t n, struct kt_proof *p)
{
	struct memsrc s = { .size = n };

	ck_assert_int_eq(kt_merkle_consistency_proof(mem_node, &s, m, n, p),
	    KT_OK);
	ck_assert_int_eq(s.outside, 0);
}

void
root_of(uint64_t n, struct kt_hash *out)
{
	ref_mth(0, n, out);
}

void
merkle_add(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = kt_test_case(s, name, 300, t, NULL);

	tcase_add_unchecked_fixture(tc, setup_tree, NULL);
	tcase_add_unchecked_fixture(tc, setup_uniform, NULL);
}
