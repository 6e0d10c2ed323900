/*
 * check_verify_audit.c: the stateless audit's pieces without a server:
 * its position (kt_vaudit_pos_encode/decode, as kt-witness stores it),
 * the judge of a map head (kt_vmap_judge: every rule, and paths that do
 * not verify or cover refused) and the offline check of "wrong-map"
 * evidence (a good file accepted; every tampering refused).
 *
 * The log: leaf 0 the empty map's head; updates a1, b1; head 3 (honest);
 * updates a2, c1; head 6, honest or lying as each test needs.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "harness/runner.h"
#include "verify_testlib.h"

/* ---- a small map store ---------------------------------------------------- */

static struct {
	struct kt_hash h;
	struct kt_map_node n;
} store[256];
static size_t nstore;

static kt_err
sread(void *ctx, const struct kt_hash *h, const struct kt_hash *index,
    unsigned depth, struct kt_map_node *out)
{
	(void)ctx;
	(void)index;
	(void)depth;
	for (size_t i = 0; i < nstore; i++)
		if (kt_hash_eq(&store[i].h, h)) {
			*out = store[i].n;
			return KT_OK;
		}
	return KT_ERR_NOT_FOUND;
}

static kt_err
swrite(void *ctx, const struct kt_hash *h, const struct kt_map_node *n)
{
	(void)ctx;
	ck_assert_uint_lt(nstore, 256);
	store[nstore].h = *h;
	store[nstore].n = *n;
	nstore++;
	return KT_OK;
}

/* ---- the log ------------------------------------------------------------------ */

static struct tree T;
static struct kt_map_head H3, H6; /* H6 honest */

static void
head_at(struct tree *t, const struct kt_map_head *h)
{
	ck_assert_int_eq(kt_map_head_encode(h, t->ent[t->n]), KT_OK);
	t->elen[t->n] = KT_MAP_HEAD_LEN;
	kt_hash_leaf(t->ent[t->n], t->elen[t->n], &t->leaf[t->n]);
	t->n++;
}

static void
upd(struct kt_map_update *u, uint64_t i)
{
	struct kt_update x;

	ck_assert_int_eq(kt_update_decode(T.ent[i], T.elen[i], &x), KT_OK);
	u->index = x.index;
	u->version = x.version;
	u->prev_index = x.prev_index;
	u->log_index = i;
	u->leaf_hash = T.leaf[i];
}

/* The map after batch [from, to) on root, nodes stored. */
static void
apply(const struct kt_hash *root, uint64_t from, uint64_t to,
    struct kt_map_result *res)
{
	struct kt_map_reader r = { sread, NULL, 0 };
	struct kt_map_writer w = { swrite, NULL };
	struct kt_map_update u[8];

	for (uint64_t i = from; i < to; i++)
		upd(&u[i - from], i);
	ck_assert_int_eq(kt_map_apply(&r, root, u, to - from, &w, res), KT_OK);
}

/* Leaves 0..6 with head 6 as given (fields over the honest one's). */
static void
build(const struct kt_map_head *h6)
{
	struct kt_map_result res;
	struct kt_hash empty;

	memset(&T, 0, sizeof(T));
	nstore = 0;
	kt_map_empty_root(&empty);
	addhead(&T, 0, 1000);
	add(&T, "a", KT_VALUE_KEY, 1, KT_NO_PREV, 1, 0);
	add(&T, "b", KT_VALUE_KEY, 1, KT_NO_PREV, 2, 0);
	apply(&empty, 1, 3, &res);
	H3 = (struct kt_map_head){ res.root, 2000, 3, 0, 2 };
	head_at(&T, &H3);
	add(&T, "a", KT_VALUE_KEY, 2, 1, 3, 0);
	add(&T, "c", KT_VALUE_KEY, 1, KT_NO_PREV, 4, 0);
	apply(&H3.root, 4, 6, &res);
	H6 = (struct kt_map_head){ res.root, 3000, 6, 3, 3 };
	head_at(&T, h6 != NULL ? h6 : &H6);
}

static int
hcmp(const void *a, const void *b)
{
	return memcmp(a, b, KT_HASH_LEN);
}

/* The paths in head 3's map of the batch's indexes, sorted, as base64. */
static json_t *
paths(struct kt_map_proof *out)
{
	struct kt_map_reader r = { sread, NULL, 0 };
	struct kt_map_update u[2];
	struct kt_hash idx[2];
	uint8_t buf[KT_MAP_PROOF_MAX];
	struct kt_map_proof p;
	json_t *a = json_array();
	size_t len;

	upd(&u[0], 4);
	upd(&u[1], 5);
	idx[0] = u[0].index;
	idx[1] = u[1].index;
	qsort(idx, 2, sizeof(idx[0]), hcmp);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(kt_map_prove(&r, &H3.root, &idx[i], &p),
		    KT_OK);
		if (out != NULL)
			out[i] = p;
		ck_assert_int_eq(kt_map_proof_encode(&p, buf, sizeof(buf),
		                     &len),
		    KT_OK);
		json_array_append_new(a, kt_vb64_json(buf, len));
	}
	return a;
}

/* A wrong-map file for head 6 naming rule. */
static json_t *
evidence(const char *rule)
{
	char *note = note_of(&T, T.n, signer);
	json_t *ev = json_pack("{s:i,s:s,s:s,s:s,s:o,s:o,s:[o,o],s:o}",
	    "kt_evidence", 1, "type", "wrong-map", "rule", rule, "checkpoint",
	    note, "previous", leaf_rec(&T, 3, T.n), "head",
	    leaf_rec(&T, 6, T.n), "updates", leaf_rec(&T, 4, T.n),
	    leaf_rec(&T, 5, T.n), "paths", paths(NULL));

	free(note);
	ck_assert_ptr_nonnull(ev);
	return ev;
}

/* ---- kt_vaudit_pos_encode / decode ----------------------------------------- */

START_TEST(test_pos_codec)
{
	struct kt_vaudit_pos p, q;
	uint8_t buf[KT_VAUDIT_POS_MAX];
	size_t len;

	kt_vaudit_pos_init(&p);
	ck_assert_int_eq(kt_vaudit_pos_encode(&p, buf, sizeof(buf), &len),
	    KT_OK);
	ck_assert_uint_eq(len, 16 + KT_MAP_HEAD_LEN);
	ck_assert_int_eq(kt_vaudit_pos_decode(buf, len, &q), KT_OK);
	ck_assert_uint_eq(q.size, 0);
	ck_assert(q.head_index == KT_NO_PREV);
	/* A position at head 6 of the log above. */
	build(NULL);
	kt_frontier_init(&p.frontier);
	for (size_t i = 0; i < 7; i++)
		ck_assert_int_eq(kt_frontier_append(&p.frontier, &T.leaf[i]),
		    KT_OK);
	p.size = 7;
	p.head_index = 6;
	p.head = H6;
	ck_assert_int_eq(kt_vaudit_pos_encode(&p, buf, sizeof(buf), &len),
	    KT_OK);
	ck_assert_uint_eq(len, 16 + KT_MAP_HEAD_LEN + 3 * KT_HASH_LEN);
	ck_assert_int_eq(kt_vaudit_pos_encode(&p, buf, len - 1, &len),
	    KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_vaudit_pos_decode(buf, len, &q), KT_OK);
	ck_assert_uint_eq(q.size, 7);
	ck_assert(memcmp(&q.head, &H6, sizeof(H6)) == 0);
	for (int k = 0; k < 3; k++)
		ck_assert(kt_hash_eq(&q.frontier.h[k], &p.frontier.h[k]));
	/* Every truncation, a byte more, a head at another index, a head
	 * whose log_size is not its index: refused. */
	for (size_t n = 0; n < len; n++)
		ck_assert_int_eq(kt_vaudit_pos_decode(buf, n, &q),
		    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_vaudit_pos_decode(buf, len + 1, &q),
	    KT_ERR_MALFORMED);
	buf[15] ^= 1;
	ck_assert_int_eq(kt_vaudit_pos_decode(buf, len, &q), KT_ERR_MALFORMED);
	buf[15] ^= 1;
	p.head.log_size = 5;
	p.head.prev_head = 3;
	ck_assert_int_eq(kt_vaudit_pos_encode(&p, buf, sizeof(buf), &len),
	    KT_OK);
	ck_assert_int_eq(kt_vaudit_pos_decode(buf, len, &q), KT_ERR_MALFORMED);
	/* A frontier of another size does not encode. */
	p.frontier.size = 6;
	ck_assert_int_eq(kt_vaudit_pos_encode(&p, buf, sizeof(buf), &len),
	    KT_ERR_MALFORMED);
}
END_TEST

/* ---- kt_vmap_judge ------------------------------------------------------------ */

/* The judge on head 6 (h) with the batch's paths p (np of them). */
static kt_err
judge(const struct kt_map_head *h, const struct kt_map_proof *p, size_t np,
    struct kt_vmap_verdict *vd)
{
	static uint8_t buf[2][KT_MAP_PROOF_MAX];
	struct kt_map_update u[2];
	struct kt_vpath vp[2];
	struct kt_vpaths *t;
	kt_err e;

	upd(&u[0], 4);
	upd(&u[1], 5);
	for (size_t i = 0; i < np; i++) {
		ck_assert_int_eq(kt_map_proof_encode(&p[i], buf[i],
		                     sizeof(buf[i]), &vp[i].len),
		    KT_OK);
		vp[i].b = buf[i];
	}
	ck_assert_int_eq(kt_vpaths_open(&t), KT_OK);
	e = kt_vmap_judge(t, &H3, 3, h, 6, u, 2, vp, np, vd);
	kt_vpaths_close(t);
	return e;
}

START_TEST(test_judge)
{
	struct kt_map_proof *p = malloc(2 * sizeof(*p)), sw;
	struct kt_vmap_verdict vd;
	struct kt_map_head h;
	json_t *a;

	build(NULL);
	a = paths(p);
	json_decref(a);
	ck_assert_int_eq(judge(&H6, p, 2, &vd), KT_OK);
	ck_assert_ptr_null(vd.rule);
	ck_assert_uint_eq(vd.inserted, 1);
	/* Each rule, one at a time. */
	h = H6;
	h.log_size = 5;
	h.prev_head = 3;
	ck_assert_int_eq(judge(&h, p, 2, &vd), KT_OK);
	ck_assert_str_eq(vd.rule, "log-size");
	h = H6;
	h.prev_head = 0;
	ck_assert_int_eq(judge(&h, p, 2, &vd), KT_OK);
	ck_assert_str_eq(vd.rule, "head-link");
	h = H6;
	h.timestamp_ms = 1999;
	ck_assert_int_eq(judge(&h, p, 2, &vd), KT_OK);
	ck_assert_str_eq(vd.rule, "timestamp");
	h = H6;
	h.root = H3.root;
	ck_assert_int_eq(judge(&h, p, 2, &vd), KT_OK);
	ck_assert_str_eq(vd.rule, "map-root");
	h = H6;
	h.label_count = 4;
	ck_assert_int_eq(judge(&h, p, 2, &vd), KT_OK);
	ck_assert_str_eq(vd.rule, "label-count");
	/* Paths missing, in the wrong order, or not for the previous root:
	 * they prove nothing. */
	ck_assert_int_eq(judge(&H6, p, 1, &vd), KT_ERR_VERIFY);
	ck_assert_int_eq(judge(&H6, p, 0, &vd), KT_ERR_VERIFY);
	sw = p[0];
	p[0] = p[1];
	p[1] = sw;
	ck_assert_int_eq(judge(&H6, p, 2, &vd), KT_ERR_VERIFY);
	p[1] = p[0];
	p[0] = sw;
	p[0].step[0].sibling.b[0] ^= 1;
	ck_assert_int_eq(judge(&H6, p, 2, &vd), KT_ERR_VERIFY);
	p[0].step[0].sibling.b[0] ^= 1;
	/* A leaf altered below a node both paths share. */
	p[1].leaf.version++;
	ck_assert_int_eq(judge(&H6, p, 2, &vd), KT_ERR_VERIFY);
	free(p);
}
END_TEST

/* Hashes of a trie of many leaves and paths of neighbouring indexes: the
 * second path shares upper nodes with the first, which are not hashed
 * again; a path whose shared nodes differ must still be refused. */
START_TEST(test_vpaths)
{
	struct kt_map_reader r = { sread, NULL, 0 };
	struct kt_map_writer w = { swrite, NULL };
	struct kt_map_update u[64];
	struct kt_map_result res;
	struct kt_map_proof p;
	struct kt_map_node nd;
	struct kt_hash empty, idx[64];
	uint8_t buf[64][KT_MAP_PROOF_MAX];
	size_t len[64];
	struct kt_vpaths *t;

	nstore = 0;
	kt_map_empty_root(&empty);
	for (int i = 0; i < 64; i++) {
		memset(&u[i], 0, sizeof(u[i]));
		randombytes_buf(u[i].index.b, KT_HASH_LEN);
		u[i].version = 1;
		u[i].prev_index = KT_MAP_NO_PREV;
		u[i].log_index = (uint64_t)i + 1;
		idx[i] = u[i].index;
	}
	ck_assert_int_eq(kt_map_apply(&r, &empty, u, 64, &w, &res), KT_OK);
	qsort(idx, 64, sizeof(idx[0]), hcmp);
	for (int i = 0; i < 64; i++) {
		ck_assert_int_eq(kt_map_prove(&r, &res.root, &idx[i], &p),
		    KT_OK);
		ck_assert_int_eq(kt_map_proof_encode(&p, buf[i], sizeof(buf[i]),
		                     &len[i]),
		    KT_OK);
	}
	ck_assert_int_eq(kt_vpaths_open(&t), KT_OK);
	for (int round = 0; round < 2; round++) {
		kt_vpaths_reset(t);
		for (int i = 0; i < 64; i++)
			ck_assert_int_eq(kt_vpaths_add(t, &res.root, &idx[i],
			                     buf[i], len[i]),
			    KT_OK);
	}
	/* Every node the batch step needs is readable, and is what it
	 * hashes to. */
	kt_vpaths_reader(t, &r);
	ck_assert_int_eq(r.read(r.ctx, &res.root, &idx[0], 0, &nd), KT_OK);
	ck_assert_int_eq(r.read(r.ctx, &empty, &idx[0], 0, &nd),
	    KT_ERR_NOT_FOUND);
	/* Another index's path, the empty map's claim: refused. */
	ck_assert_int_eq(kt_vpaths_add(t, &res.root, &idx[1], buf[0], len[0]),
	    KT_ERR_VERIFY);
	ck_assert_int_eq(kt_vpaths_add(t, &res.root, &idx[0],
	                     (const uint8_t *)"\0\0\0", 3),
	    KT_ERR_VERIFY);
	ck_assert_int_eq(kt_vpaths_add(t, &res.root, &idx[0], buf[0],
	                     len[0] - 1),
	    KT_ERR_MALFORMED);
	/* Every byte of a path, flipped right after its neighbour was
	 * added (so the memo of shared nodes is live): refused. */
	for (int i = 1; i < 64; i += 9)
		for (size_t k = 0; k < len[i]; k++) {
			kt_vpaths_reset(t);
			ck_assert_int_eq(kt_vpaths_add(t, &res.root,
			                     &idx[i - 1], buf[i - 1],
			                     len[i - 1]),
			    KT_OK);
			buf[i][k] ^= 1;
			ck_assert_int_ne(kt_vpaths_add(t, &res.root, &idx[i],
			                     buf[i], len[i]),
			    KT_OK);
			buf[i][k] ^= 1;
		}
	kt_vpaths_close(t);
}
END_TEST

/* ---- kt_vb64_decode_public ---------------------------------------------- */

/* Same answers as kt_b64_decode: random bytes' encodings, every
 * truncation, and every character changed to each of a set of others. */
START_TEST(test_b64_public)
{
	static const char alt[] = "A/+=-_ a9\x80\n";
	uint8_t in[40], o1[64], o2[64];
	char s[128];
	size_t l1, l2, n;

	for (size_t len = 0; len <= sizeof(in); len++) {
		randombytes_buf(in, len);
		ck_assert_int_eq(kt_b64_encode(in, len, s, sizeof(s), &n),
		    KT_OK);
		for (size_t cut = 0; cut <= n; cut++)
			for (size_t at = 0; at <= cut; at++)
				for (size_t c = 0; c < sizeof(alt); c++) {
					char save = s[at < cut ? at : 0];

					if (at < cut)
						s[at] = alt[c];
					ck_assert_int_eq(
					    kt_vb64_decode_public(s, cut, o1,
					        sizeof(o1), &l1),
					    kt_b64_decode(s, cut, o2,
					        sizeof(o2), &l2));
					ck_assert_uint_eq(l1, l2);
					ck_assert(memcmp(o1, o2, l1) == 0);
					s[at < cut ? at : 0] = save;
					if (at == cut)
						break;
				}
		/* A buffer one byte short. */
		if (len > 0)
			ck_assert_int_eq(kt_vb64_decode_public(s, n, o1,
			                     len - 1, &l1),
			    KT_ERR_TOO_LARGE);
	}
}
END_TEST

START_TEST(test_judge_rules)
{
	struct kt_map_update u[2];
	struct kt_map_head h = H3;
	struct kt_vmap_verdict vd;
	struct kt_vpaths *t;

	build(NULL);
	ck_assert_int_eq(kt_vpaths_open(&t), KT_OK);
	/* Version 1 of "a" twice in the first batch: the map's rules. */
	upd(&u[0], 1);
	upd(&u[1], 1);
	u[1].log_index = 2;
	h = H3;
	ck_assert_int_eq(kt_vmap_judge(t, NULL, KT_NO_PREV, &h, 3, u, 2, NULL,
	                     0, &vd),
	    KT_OK);
	ck_assert_str_eq(vd.rule, "head-link");
	h.prev_head = KT_NO_PREV;
	ck_assert_int_eq(kt_vmap_judge(t, NULL, KT_NO_PREV, &h, 3, u, 2, NULL,
	                     0, &vd),
	    KT_OK);
	ck_assert_str_eq(vd.rule, "map-rules");
	/* The honest first batch on the empty map needs no paths. */
	upd(&u[1], 2);
	ck_assert_int_eq(kt_vmap_judge(t, NULL, KT_NO_PREV, &h, 3, u, 2, NULL,
	                     0, &vd),
	    KT_OK);
	ck_assert_ptr_null(vd.rule);
	kt_vpaths_close(t);
}
END_TEST

/* ---- wrong-map evidence ---------------------------------------------------------- */

START_TEST(test_wrong_map_accepted)
{
	struct kt_map_head h;

	build(NULL);
	/* The honest head: proves nothing. */
	ck_assert_int_eq(status_ev(evidence("map-root")), KT_VERIFY_FAILED);
	h = H6;
	h.root = H3.root; /* a map that ignores its batch */
	build(&h);
	ck_assert_int_eq(status_ev(evidence("map-root")), KT_VERIFY_OK);
	h = H6;
	h.label_count = 2;
	build(&h);
	ck_assert_int_eq(status_ev(evidence("label-count")), KT_VERIFY_OK);
	ck_assert_int_eq(status_ev(evidence("map-root")), KT_VERIFY_FAILED);
}
END_TEST

/* Flips a character in the middle of string field key of o. */
static void
flip(json_t *o, const char *key)
{
	char *s = strdup(json_string_value(json_object_get(o, key)));

	s[10] = s[10] == 'A' ? 'B' : 'A';
	json_object_set_new(o, key, json_string(s));
	free(s);
}

START_TEST(test_wrong_map_tampered)
{
	struct kt_map_head h = H6;
	json_t *ev, *x;
	char *other_note;

	build(NULL);
	h = H6;
	h.root = H3.root;
	build(&h);
	for (int k = 0; k < 11; k++) {
		ev = evidence("map-root");
		switch (k) {
		case 0: /* an update's bytes */
			flip(json_array_get(json_object_get(ev, "updates"), 0),
			    "entry");
			break;
		case 1: /* an update left out */
			json_array_remove(json_object_get(ev, "updates"), 1);
			break;
		case 2: /* the updates in another order */
			x = json_incref(
			    json_array_get(json_object_get(ev, "updates"), 0));
			json_array_remove(json_object_get(ev, "updates"), 0);
			json_array_append_new(json_object_get(ev, "updates"),
			    x);
			break;
		case 3: /* a path left out */
			json_array_remove(json_object_get(ev, "paths"), 0);
			break;
		case 4: /* a path altered */
			x = json_object_get(ev, "paths");
			{
				char *s = strdup(
				    json_string_value(json_array_get(x, 0)));
				s[20] = s[20] == 'A' ? 'B' : 'A';
				json_array_set_new(x, 0, json_string(s));
				free(s);
			}
			break;
		case 5: /* the head's bytes */
			flip(json_object_get(ev, "head"), "entry");
			break;
		case 6: /* no previous head: the batch is not from leaf 0 */
			json_object_set_new(ev, "previous", json_null());
			break;
		case 7: /* another rule named */
			json_object_set_new(ev, "rule",
			    json_string("map-rules"));
			break;
		case 8: /* signed by another key of the log's name */
			other_note = note_of(&T, T.n, other);
			json_object_set_new(ev, "checkpoint",
			    json_string(other_note));
			free(other_note);
			break;
		case 9: /* a checkpoint of a smaller tree */
			other_note = note_of(&T, 6, signer);
			json_object_set_new(ev, "checkpoint",
			    json_string(other_note));
			free(other_note);
			break;
		case 10: /* a leaf_hash that is not the entry's */
			json_object_set_new(json_object_get(ev, "head"),
			    "leaf_hash", kt_vb64_json(H3.root.b, KT_HASH_LEN));
			break;
		}
		ck_assert_msg(status_ev(ev) == KT_VERIFY_FAILED,
		    "tampering %d accepted", k);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("verify_audit");

	verify_add(s, "kt_vaudit_pos_encode", test_pos_codec);
	verify_add(s, "kt_vmap_judge", test_judge);
	verify_add(s, "kt_vmap_judge_rules", test_judge_rules);
	verify_add(s, "kt_vpaths_add", test_vpaths);
	verify_add(s, "kt_vb64_decode_public", test_b64_public);
	verify_add(s, "wrong_map_accepted", test_wrong_map_accepted);
	verify_add(s, "wrong_map_tampered", test_wrong_map_tampered);
	return kt_test_run(s);
}
