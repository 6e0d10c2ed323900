/*
 * check_lookup.c: lookup proofs, kt/lookup.h, made by a small key directory
 * run in memory the way the log runs it (update leaves, then one map head
 * per batch, checkpoints at map heads) and checked against every lie a
 * directory could tell: a stale map head, another label's proof, a changed
 * key, a hidden later version, a forged absence, every bit flip and
 * truncation of the encoding; and the tlog-proof form, offline.
 */
#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runner.h"
#include "kt/lookup.h"
#include "kt/tlogproof.h"
#include "map_testlib.h"

#define MAXLEAVES 512
#define MAXLABELS 64
#define MAXVER 8

/* ---- a key directory in memory ------------------------------------------ */

struct version {
	struct kt_update u;
	uint64_t log_index;
	uint8_t opening[KT_OPENING_LEN];
	uint8_t kind;
	uint8_t key[32];
	struct kt_hash chain_before;
};

struct label {
	char name[KT_CANON_MAX + 1];
	struct kt_hash index;
	uint8_t pi[KT_VRF_PROOF_LEN];
	size_t nver;
	struct version v[MAXVER];
};

struct dir {
	struct kt_vrf_key *vrf;
	uint8_t pk[KT_VRF_PUBLIC_LEN];
	struct kt_hash leaf[MAXLEAVES];
	uint64_t size;
	struct mem_store st;
	struct kt_map_head head; /* the newest */
	int have_head;
	struct kt_map_update pending[MAXLEAVES];
	size_t npending;
	struct label l[MAXLABELS];
	size_t nlabels;
	uint64_t seed;
};

static struct dir d;

static kt_err
tree_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	struct kt_hash a, b;
	kt_err err;

	(void)ctx;
	if (level == 0) {
		*out = d.leaf[index];
		return KT_OK;
	}
	if ((err = tree_node(ctx, level - 1, 2 * index, &a)) != KT_OK ||
	    (err = tree_node(ctx, level - 1, 2 * index + 1, &b)) != KT_OK)
		return err;
	kt_hash_node(&a, &b, out);
	return KT_OK;
}

static void
dir_open(void)
{
	uint8_t sk[KT_VRF_SECRET_LEN] = { 7 };

	memset(&d, 0, sizeof(d));
	d.seed = 99;
	mem_store_init(&d.st);
	ck_assert_int_eq(kt_vrf_key_from_secret(sk, &d.vrf), KT_OK);
	kt_vrf_public(d.vrf, d.pk);
	kt_map_empty_root(&d.head.root);
}

static void
dir_close(void)
{
	kt_vrf_key_free(d.vrf);
	mem_store_free(&d.st);
}

static struct label *
find(const char *name)
{
	size_t i;

	for (i = 0; i < d.nlabels; i++)
		if (strcmp(d.l[i].name, name) == 0)
			return &d.l[i];
	return NULL;
}

/* Appends the next version of label name: a key (byte `k`) or a revoke. */
static void
publish(const char *name, uint8_t k, int revoke)
{
	struct label *l = find(name);
	struct version *v;
	struct kt_value val = { .kind = KT_VALUE_KEY };
	uint8_t beta[KT_VRF_OUTPUT_LEN];

	if (l == NULL) {
		ck_assert_uint_lt(d.nlabels, MAXLABELS);
		l = &d.l[d.nlabels++];
		ck_assert(kt_label_is_canonical(name, strlen(name)));
		strcpy(l->name, name);
		ck_assert_int_eq(kt_vrf_prove(d.vrf, (const uint8_t *)name,
		                     strlen(name), l->pi),
		    KT_OK);
		ck_assert_int_eq(kt_vrf_proof_to_hash(l->pi, beta), KT_OK);
		memcpy(l->index.b, beta, 32);
	}
	ck_assert_uint_lt(l->nver, MAXVER);
	v = &l->v[l->nver];
	memset(v, 0, sizeof(*v));
	randombytes_buf(v->opening, sizeof(v->opening));
	memset(v->key, k, sizeof(v->key));
	v->kind = revoke ? KT_VALUE_REVOKE : KT_VALUE_KEY;
	val.kind = v->kind;
	if (!revoke) {
		val.key_type = "ed25519";
		val.key_type_len = 7;
		val.key = v->key;
		val.key_len = 32;
	}
	v->u.index = l->index;
	v->u.version = l->nver + 1;
	v->u.prev_index = l->nver ? l->v[l->nver - 1].log_index : KT_NO_PREV;
	ck_assert_int_eq(kt_commit(v->opening, name, strlen(name), v->u.version,
	                     &val, &v->u.commitment),
	    KT_OK);
	if (l->nver > 0) {
		struct kt_hash u;

		v->chain_before = l->v[l->nver - 1].chain_before;
		kt_update_leaf_hash(&l->v[l->nver - 1].u, &u);
		kt_map_chain_next(l->nver > 1 ? &v->chain_before : NULL, &u,
		    &v->chain_before);
	}
	v->log_index = d.size;
	kt_update_leaf_hash(&v->u, &d.leaf[d.size]);
	d.pending[d.npending].index = l->index;
	d.pending[d.npending].version = v->u.version;
	d.pending[d.npending].prev_index = v->u.prev_index;
	d.pending[d.npending].log_index = d.size;
	d.pending[d.npending].leaf_hash = d.leaf[d.size];
	d.npending++;
	d.size++;
	l->nver++;
}

/* Ends the batch: applies it to the map and appends the map head. */
static void
seal(uint64_t now_ms)
{
	struct kt_map_reader r = mem_reader(&d.st);
	struct kt_map_writer w = mem_writer(&d.st);
	struct kt_map_result res;
	uint64_t prev = d.have_head ? d.head.log_size : KT_NO_PREV;

	ck_assert_int_eq(kt_map_apply(&r, &d.head.root, d.pending, d.npending,
	                     &w, &res),
	    KT_OK);
	d.head.label_count += res.inserted;
	d.head.root = res.root;
	d.head.timestamp_ms = now_ms;
	d.head.log_size = d.size;
	d.head.prev_head = prev;
	d.have_head = 1;
	kt_map_head_leaf_hash(&d.head, &d.leaf[d.size]);
	d.size++;
	d.npending = 0;
}

static void
checkpoint(struct kt_checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	strcpy(cp->origin, "example.com/kt");
	cp->size = d.size;
	ck_assert_int_eq(kt_merkle_root(tree_node, NULL, d.size, &cp->root),
	    KT_OK);
}

/* The lookup proof for name as an honest directory answers it now. */
static void
answer(const char *name, struct kt_lookup_proof *p)
{
	struct kt_map_reader r = mem_reader(&d.st);
	const struct label *l = find(name);
	uint8_t beta[KT_VRF_OUTPUT_LEN];
	struct kt_hash index;

	memset(p, 0, sizeof(*p));
	strcpy(p->label, name);
	p->label_len = strlen(name);
	if (l != NULL)
		memcpy(p->vrf_proof, l->pi, sizeof(p->vrf_proof));
	else
		ck_assert_int_eq(kt_vrf_prove(d.vrf, (const uint8_t *)name,
		                     strlen(name), p->vrf_proof),
		    KT_OK);
	ck_assert_int_eq(kt_vrf_proof_to_hash(p->vrf_proof, beta), KT_OK);
	memcpy(index.b, beta, 32);
	p->head = d.head;
	ck_assert_int_eq(kt_merkle_inclusion_proof(tree_node, NULL,
	                     d.head.log_size, d.size, &p->head_proof),
	    KT_OK);
	ck_assert_int_eq(kt_map_prove(&r, &d.head.root, &index, &p->map),
	    KT_OK);
	p->present = p->map.has_leaf && kt_hash_eq(&p->map.leaf.index, &index);
	if (!p->present)
		return;
	const struct version *v = &l->v[p->map.leaf.version - 1];

	p->update = v->u;
	ck_assert_int_eq(kt_merkle_inclusion_proof(tree_node, NULL,
	                     v->log_index, d.size, &p->update_proof),
	    KT_OK);
	memcpy(p->opening, v->opening, KT_OPENING_LEN);
	p->prev_chain = v->chain_before;
	p->kind = v->kind;
	if (v->kind == KT_VALUE_KEY) {
		memcpy(p->key_type, "ed25519", 7);
		p->key_type_len = 7;
		memcpy(p->key, v->key, 32);
		p->key_len = 32;
	}
}

static kt_err
check(const struct kt_lookup_proof *p, const char *name,
    struct kt_lookup_result *r)
{
	struct kt_checkpoint cp;

	checkpoint(&cp);
	return kt_lookup_verify(p, d.pk, &cp, name, strlen(name), r);
}

/* A directory with history: several batches, rotations, a revocation. */
static void
populate(void)
{
	char name[64];
	int i;

	dir_open();
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "user%d@example.com", i);
		publish(name, (uint8_t)i, 0);
	}
	seal(1000);
	publish("alice@example.com", 0xa1, 0);
	publish("bob@example.com", 0xb1, 0);
	seal(2000);
	publish("alice@example.com", 0xa2, 0);
	publish("alice@example.com", 0xa3, 0);
	publish("user3@example.com", 0, 1);
	seal(3000);
}

/* ---- verification -------------------------------------------------------- */

START_TEST(test_lookup_verify_honest)
{
	static struct kt_lookup_proof p;
	struct kt_lookup_result r;
	uint8_t want[32];

	populate();
	answer("alice@example.com", &p);
	ck_assert_int_eq(check(&p, "alice@example.com", &r), KT_OK);
	ck_assert_int_eq(r.present, 1);
	ck_assert_uint_eq(r.leaf.version, 3);
	ck_assert_int_eq(r.revoked, 0);
	memset(want, 0xa3, 32);
	ck_assert_uint_eq(r.key_len, 32);
	ck_assert_mem_eq(r.key, want, 32);
	ck_assert_uint_eq(r.head_timestamp_ms, 3000);
	ck_assert_uint_eq(r.head_index, d.size - 1);

	answer("user3@example.com", &p);
	ck_assert_int_eq(check(&p, "user3@example.com", &r), KT_OK);
	ck_assert_int_eq(r.revoked, 1);
	ck_assert_uint_eq(r.leaf.version, 2);
	ck_assert_ptr_null(r.key);

	answer("user7@example.com", &p);
	ck_assert_int_eq(check(&p, "user7@example.com", &r), KT_OK);
	ck_assert_uint_eq(r.leaf.version, 1);

	answer("nobody@example.com", &p);
	ck_assert_int_eq(p.present, 0);
	ck_assert_int_eq(check(&p, "nobody@example.com", &r), KT_OK);
	ck_assert_int_eq(r.present, 0);
	dir_close();
}
END_TEST

/* Every lie a directory could tell in a lookup answer is refused. */
START_TEST(test_lookup_verify_lies)
{
	static struct kt_lookup_proof p, q, stale;
	struct kt_lookup_result r;
	struct kt_checkpoint cp;

	populate();
	answer("alice@example.com", &p);

	/* Another label's answer. */
	ck_assert_int_eq(check(&p, "bob@example.com", &r), KT_ERR_VERIFY);
	ck_assert_int_eq(r.present, 0);
	/* A VRF proof made with another key, or for another label. */
	q = p;
	answer("bob@example.com", &stale);
	memcpy(q.vrf_proof, stale.vrf_proof, KT_VRF_PROOF_LEN);
	ck_assert_int_eq(check(&q, "alice@example.com", &r), KT_ERR_VERIFY);
	/* A changed key, opening, kind or previous chain. */
	q = p;
	q.key[0] ^= 1;
	ck_assert_int_eq(check(&q, "alice@example.com", &r), KT_ERR_VERIFY);
	q = p;
	q.opening[31] ^= 1;
	ck_assert_int_eq(check(&q, "alice@example.com", &r), KT_ERR_VERIFY);
	q = p;
	q.kind = KT_VALUE_REVOKE;
	ck_assert_int_eq(check(&q, "alice@example.com", &r), KT_ERR_VERIFY);
	q = p;
	q.prev_chain.b[0] ^= 1;
	ck_assert_int_eq(check(&q, "alice@example.com", &r), KT_ERR_VERIFY);
	/* An older version's update leaf (a stale key) under the new map. */
	q = p;
	q.update = find("alice@example.com")->v[1].u;
	ck_assert_int_eq(check(&q, "alice@example.com", &r), KT_ERR_VERIFY);
	/* Claiming absence for a label that is present. */
	q = p;
	q.present = 0;
	ck_assert_int_eq(check(&q, "alice@example.com", &r), KT_ERR_VERIFY);

	/*
	 * A stale answer: the whole honest answer as of the previous map head
	 * (alice at version 1), shown with the newer checkpoint. Its map head
	 * is not the checkpoint's last leaf.
	 */
	{
		/* Rebuild the directory up to the second map head only. */
		char name[64];
		int i;

		dir_close();
		dir_open();
		for (i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "user%d@example.com", i);
			publish(name, (uint8_t)i, 0);
		}
		seal(1000);
		publish("alice@example.com", 0xa1, 0);
		publish("bob@example.com", 0xb1, 0);
		seal(2000);
		answer("alice@example.com", &stale);
		ck_assert_int_eq(check(&stale, "alice@example.com", &r), KT_OK);
		ck_assert_uint_eq(r.leaf.version, 1);
		publish("alice@example.com", 0xa2, 0);
		seal(3000);
		/* The same bytes no longer pass at the new checkpoint. */
		ck_assert_int_eq(check(&stale, "alice@example.com", &r),
		    KT_ERR_VERIFY);
		/* Even with both inclusion proofs redone for the new size:
		 * every part is true, but the map head is not the newest. */
		ck_assert_int_eq(kt_merkle_inclusion_proof(tree_node, NULL,
		                     stale.head.log_size, d.size,
		                     &stale.head_proof),
		    KT_OK);
		ck_assert_int_eq(kt_merkle_inclusion_proof(tree_node, NULL,
		                     stale.map.leaf.update_index, d.size,
		                     &stale.update_proof),
		    KT_OK);
		ck_assert_int_eq(check(&stale, "alice@example.com", &r),
		    KT_ERR_VERIFY);
	}
	/* A checkpoint of size 0 proves nothing. */
	answer("alice@example.com", &p);
	checkpoint(&cp);
	cp.size = 0;
	ck_assert_int_eq(kt_lookup_verify(&p, d.pk, &cp, "alice@example.com",
	                     17, &r),
	    KT_ERR_VERIFY);
	/* A VRF key that is not a valid point. */
	checkpoint(&cp);
	{
		uint8_t zero[KT_VRF_PUBLIC_LEN] = { 0 };

		ck_assert_int_eq(kt_lookup_verify(&p, zero, &cp,
		                     "alice@example.com", 17, &r),
		    KT_ERR_MALFORMED);
	}
	dir_close();
}
END_TEST

/* An absence proof cannot be forged for a label that exists. */
START_TEST(test_lookup_verify_absence)
{
	static struct kt_lookup_proof p, q;
	struct kt_lookup_result r;

	populate();
	answer("nobody@example.com", &p);
	ck_assert_int_eq(check(&p, "nobody@example.com", &r), KT_OK);
	/* Reuse nobody's absence path for alice (other VRF proof, label). */
	answer("alice@example.com", &q);
	memcpy(&q.map, &p.map, sizeof(q.map));
	q.present = 0;
	ck_assert_int_eq(check(&q, "alice@example.com", &r), KT_ERR_VERIFY);
	/* Cut alice's membership path short to end at her sibling. */
	answer("alice@example.com", &q);
	ck_assert_uint_gt(q.map.n, 0);
	q.map.n--;
	q.present = 0;
	ck_assert_int_eq(check(&q, "alice@example.com", &r), KT_ERR_VERIFY);
	dir_close();
}
END_TEST

/* ---- codec --------------------------------------------------------------- */

static void
codec_round(const char *name)
{
	static struct kt_lookup_proof p, q;
	static uint8_t buf[KT_LOOKUP_MAX + 1], flip[KT_LOOKUP_MAX];
	struct kt_lookup_result r;
	size_t len, i;

	answer(name, &p);
	ck_assert_int_eq(kt_lookup_encode(&p, buf, sizeof(buf), &len), KT_OK);
	ck_assert_uint_eq(len, kt_lookup_len(&p));
	ck_assert_int_eq(kt_lookup_decode(buf, len, &q), KT_OK);
	ck_assert_int_eq(check(&q, name, &r), KT_OK);
	ck_assert_int_eq(kt_lookup_encode(&p, buf, len - 1, NULL),
	    KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_lookup_encode(&p, buf, len, NULL), KT_OK);
	for (i = 0; i < len; i++)
		ck_assert_int_eq(kt_lookup_decode(buf, i, &q),
		    KT_ERR_INCOMPLETE);
	buf[len] = 0;
	ck_assert_int_eq(kt_lookup_decode(buf, len + 1, &q), KT_ERR_MALFORMED);
	/* Every single-bit flip: refused by decode or by verify. */
	for (i = 0; i < len * 8; i++) {
		memcpy(flip, buf, len);
		flip[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (kt_lookup_decode(flip, len, &q) != KT_OK)
			continue;
		if (check(&q, name, &r) == KT_OK)
			ck_abort_msg("bit %zu of %zu flipped still verifies", i,
			    len * 8);
	}
}

/*
 * A field that breaks its rule is MALFORMED as soon as it is read, even
 * when the input ends right after it: inside the map head, the update and
 * the value, as in the leaf codecs.
 */
START_TEST(test_lookup_decode_malformed_first)
{
	static struct kt_lookup_proof p, q;
	static uint8_t buf[KT_LOOKUP_MAX], m[KT_LOOKUP_MAX];
	size_t len, head;

	populate();
	answer("alice@example.com", &p);
	ck_assert_int_eq(kt_lookup_encode(&p, buf, sizeof(buf), &len), KT_OK);
	head = 2 + p.label_len + KT_VRF_PROOF_LEN;
	/* Map head log_size 2^64-1, cut just after it. */
	memcpy(m, buf, len);
	memset(m + head + 41, 0xff, 8);
	ck_assert_int_eq(kt_lookup_decode(m, head + 49, &q), KT_ERR_MALFORMED);
	/* A key type that is not [a-z0-9-], cut just after it. */
	memcpy(m, buf, len);
	m[len - 41] = 'E';
	ck_assert_int_eq(kt_lookup_decode(m, len - 34, &q), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_lookup_decode(buf, len - 34, &q),
	    KT_ERR_INCOMPLETE);
	/* An ed25519 key of 33 bytes, cut just after the length. */
	memcpy(m, buf, len);
	m[len - 33] = 33;
	ck_assert_int_eq(kt_lookup_decode(m, len - 32, &q), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_lookup_decode(buf, len - 32, &q),
	    KT_ERR_INCOMPLETE);
	dir_close();
}
END_TEST

START_TEST(test_lookup_codec)
{
	populate();
	codec_round("alice@example.com");
	codec_round("user3@example.com"); /* a revocation */
	codec_round("nobody@example.com");
	dir_close();
}
END_TEST

/* ---- the tlog-proof form ------------------------------------------------- */

START_TEST(test_lookup_tlogproof)
{
	static struct kt_lookup_proof p, q;
	static char buf[KT_TLOGPROOF_MAX];
	static struct kt_tlogproof tp;
	const char *note = "example.com/kt\n42\nAAAA\n\n- sig\n", *got;
	struct kt_lookup_result r;
	size_t len, nlen;

	populate();
	answer("alice@example.com", &p);
	ck_assert_int_eq(kt_lookup_tlogproof_format(&p, note, strlen(note), buf,
	                     sizeof(buf), &len),
	    KT_OK);
	ck_assert_uint_eq(len, strlen(buf));
	/* A plain tlog-proof: the map head's index and inclusion proof. */
	ck_assert_int_eq(kt_tlogproof_parse(buf, len, &tp), KT_OK);
	ck_assert_uint_eq(tp.index, d.size - 1);
	ck_assert_uint_eq(tp.proof.n, p.head_proof.n);
	ck_assert_int_eq(kt_lookup_tlogproof_parse(buf, len, &q, &got, &nlen),
	    KT_OK);
	ck_assert_uint_eq(nlen, strlen(note));
	ck_assert_mem_eq(got, note, nlen);
	ck_assert_int_eq(check(&q, "alice@example.com", &r), KT_OK);
	ck_assert_uint_eq(r.leaf.version, 3);

	/* A plain tlog-proof of an entry is not a lookup proof. */
	{
		static const uint8_t e[3] = { 1, 2, 3 };

		ck_assert_int_eq(kt_tlogproof_format(e, 3, 0, &p.head_proof,
		                     note, strlen(note), buf, sizeof(buf),
		                     &len),
		    KT_OK);
		ck_assert_int_eq(kt_lookup_tlogproof_parse(buf, len, &q, &got,
		                     &nlen),
		    KT_ERR_MALFORMED);
	}
	/* The index line must be the map head's. */
	ck_assert_int_eq(kt_lookup_tlogproof_format(&p, note, strlen(note), buf,
	                     sizeof(buf), &len),
	    KT_OK);
	{
		char *at = strstr(buf, "\nindex ");

		ck_assert_ptr_nonnull(at);
		at[7] = at[7] == '9' ? '8' : (char)(at[7] + 1);
		ck_assert_int_ne(kt_lookup_tlogproof_parse(buf, len, &q, &got,
		                     &nlen),
		    KT_OK);
	}
	dir_close();
}
END_TEST

Suite *
lookup_suite(void)
{
	Suite *s = suite_create("lookup");

	kt_test_case(s, "kt_lookup_verify", 60, test_lookup_verify_honest,
	    test_lookup_verify_lies, test_lookup_verify_absence, NULL);
	kt_test_case(s, "kt_lookup_decode", 300, test_lookup_codec,
	    test_lookup_decode_malformed_first, NULL);
	kt_test_case(s, "kt_lookup_tlogproof", 60, test_lookup_tlogproof, NULL);
	return s;
}

int
main(void)
{
	return kt_test_run(lookup_suite());
}
