/*
 * verify_testlib.c: fixtures shared by the check_verify*.c suites
 * (verify_testlib.h).
 */
#include "verify_testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* ---- fixtures: a signer, entries, small in-memory trees -------------------- */

#define ORIGIN "check.example/log"
struct kt_signer *signer, *other;
struct kt_verifier vk;
static struct kt_verifier vk_other;

kt_err
node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	struct tree *t = ctx;
	struct kt_hash l, r;

	if (level == 0) {
		if (index >= t->n)
			return KT_ERR_RANGE;
		*out = t->leaf[index];
		return KT_OK;
	}
	if (node(ctx, level - 1, 2 * index, &l) != KT_OK ||
	    node(ctx, level - 1, 2 * index + 1, &r) != KT_OK)
		return KT_ERR_RANGE;
	kt_hash_node(&l, &r, out);
	return KT_OK;
}
size_t
mkentry(uint8_t *buf, const char *label, uint8_t type, uint64_t version,
    uint64_t prev, uint8_t keybyte, uint64_t ts)
{
	uint8_t key[32], op[KT_OPENING_LEN];
	struct kt_value val = { KT_VALUE_REVOKE, NULL, 0, NULL, 0 };
	struct kt_update u;

	(void)ts; /* updates carry no time; map heads do (mkhead) */
	memset(key, keybyte, sizeof(key));
	mkopening(keybyte, op);
	if (type == KT_VALUE_KEY) {
		val.kind = KT_VALUE_KEY;
		val.key_type = "ed25519";
		val.key_type_len = 7;
		val.key = key;
		val.key_len = 32;
	}
	/* The index stands in for VRF(label): evidence checks never
	 * recompute it. */
	crypto_hash_sha256(u.index.b, (const uint8_t *)label, strlen(label));
	u.version = version;
	u.prev_index = prev;
	ck_assert_int_eq(kt_commit(op, label, strlen(label), version, &val,
	                     &u.commitment),
	    KT_OK);
	ck_assert_int_eq(kt_update_encode(&u, buf), KT_OK);
	return KT_UPDATE_LEN;
}

void
mkopening(uint8_t keybyte, uint8_t op[KT_OPENING_LEN])
{
	memset(op, keybyte ^ 0x5a, KT_OPENING_LEN);
}

void
addhead(struct tree *t, uint64_t log_size, uint64_t ts)
{
	struct kt_map_head h;

	memset(&h, 0, sizeof(h));
	kt_map_empty_root(&h.root);
	h.timestamp_ms = ts;
	h.log_size = log_size;
	h.prev_head = KT_NO_PREV;
	ck_assert_int_eq(kt_map_head_encode(&h, t->ent[t->n]), KT_OK);
	t->elen[t->n] = KT_MAP_HEAD_LEN;
	kt_hash_leaf(t->ent[t->n], t->elen[t->n], &t->leaf[t->n]);
	t->n++;
}

void
add(struct tree *t, const char *label, uint8_t type, uint64_t version,
    uint64_t prev, uint8_t keybyte, uint64_t ts)
{
	t->elen[t->n] =
	    mkentry(t->ent[t->n], label, type, version, prev, keybyte, ts);
	kt_hash_leaf(t->ent[t->n], t->elen[t->n], &t->leaf[t->n]);
	t->n++;
}

/* n filler entries for labels f0..f(n-1). */
void
fill(struct tree *t, size_t n)
{
	char l[16];

	for (size_t i = 0; i < n; i++) {
		snprintf(l, sizeof(l), "f%zu", t->n);
		add(t, l, KT_VALUE_KEY, 1, KT_NO_PREV, (uint8_t)t->n, 1000);
	}
}

char *
note_of(struct tree *t, size_t size, struct kt_signer *s)
{
	struct kt_checkpoint c;
	char text[KT_CHECKPOINT_TEXT_MAX];
	char *buf = malloc(KT_NOTE_MAX);
	size_t tl;

	memset(&c, 0, sizeof(c));
	snprintf(c.origin, sizeof(c.origin), "%s", ORIGIN);
	c.size = size;
	ck_assert_int_eq(kt_merkle_root(node, t, size, &c.root), KT_OK);
	ck_assert_int_eq(kt_checkpoint_format(&c, text, sizeof(text), &tl),
	    KT_OK);
	ck_assert_int_eq(kt_note_sign(s, text, tl, buf, KT_NOTE_MAX, NULL),
	    KT_OK);
	return buf;
}

json_t *
hashes(const struct kt_proof *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(a, kt_vb64_json(p->h[i].b, KT_HASH_LEN));
	return a;
}

/* {"index","entry","hashes"} with a proof of leaf i in the size tree. */
json_t *
leaf_rec(struct tree *t, uint64_t i, uint64_t size)
{
	struct kt_proof p;

	ck_assert_int_eq(kt_merkle_inclusion_proof(node, t, i, size, &p),
	    KT_OK);
	return json_pack("{s:I,s:o,s:o}", "index", (json_int_t)i, "entry",
	    kt_vb64_json(t->ent[i], t->elen[i]), "hashes", hashes(&p));
}

void
setup(void)
{
	uint8_t seed[KT_SEED_LEN];

	ck_assert_int_ge(sodium_init(), 0);
	memset(seed, 7, sizeof(seed));
	ck_assert_int_eq(kt_signer_from_seed(ORIGIN, KT_KEY_ED25519, seed,
	                     &signer),
	    KT_OK);
	memset(seed, 8, sizeof(seed));
	ck_assert_int_eq(kt_signer_from_seed(ORIGIN, KT_KEY_ED25519, seed,
	                     &other),
	    KT_OK);
	kt_signer_verifier(signer, &vk);
	kt_signer_verifier(other, &vk_other);
}

void
teardown(void)
{
	kt_signer_free(signer);
	kt_signer_free(other);
}

char *
tmpdir(void)
{
	char *d = strdup("/tmp/check_verify.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

void
rmrf(const char *d)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
}

int
status_of(const char *json_text)
{
	struct kt_vresult r;
	int st;

	kt_vresult_init(&r);
	st = kt_verify_evidence(json_text, strlen(json_text), &vk, NULL, &r);
	kt_vresult_free(&r);
	return st;
}

int
status_ev(json_t *ev)
{
	char *s = json_dumps(ev, JSON_COMPACT);
	int st = status_of(s);

	free(s);
	json_decref(ev);
	return st;
}

/* ---- state ---------------------------------------------------------------- */

void
verify_add(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
}
