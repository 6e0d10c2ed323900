/*
 * check_verify.c: Check units for libktverify: atomic state files and
 * corrupt-state errors, the rejection table for untrusted lookup responses,
 * the accept/reject table for evidence files, strict base64, proof shapes.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "harness/runner.h"
#include "kt/tlogproof.h"
#include "verify_internal.h"

/* ---- fixtures: a signer, entries, small in-memory trees -------------------- */

#define ORIGIN "check.example/log"
static struct kt_signer *signer, *other;
static struct kt_verifier vk, vk_other;

struct tree {
	size_t n;
	struct kt_hash leaf[64];
	uint8_t ent[64][128];
	size_t elen[64];
};

static kt_err
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

static size_t
mkentry(uint8_t *buf, const char *label, uint8_t type, uint64_t version,
    uint64_t prev, uint8_t keybyte, uint64_t ts)
{
	uint8_t key[32];
	struct kt_entry e = { type, ts, label, strlen(label), version, prev,
		NULL, 0, NULL, 0 };
	size_t len = 0;

	memset(key, keybyte, sizeof(key));
	if (type == KT_ENTRY_KEY) {
		e.key_type = "ed25519";
		e.key_type_len = 7;
		e.key = key;
		e.key_len = 32;
	}
	ck_assert_int_eq(kt_entry_encode(&e, buf, 128, &len), KT_OK);
	return len;
}

static void
add(struct tree *t, const char *label, uint8_t type, uint64_t version,
    uint64_t prev, uint8_t keybyte, uint64_t ts)
{
	t->elen[t->n] =
	    mkentry(t->ent[t->n], label, type, version, prev, keybyte, ts);
	kt_hash_leaf(t->ent[t->n], t->elen[t->n], &t->leaf[t->n]);
	t->n++;
}

/* n filler entries for labels f0..f(n-1). */
static void
fill(struct tree *t, size_t n)
{
	char l[16];

	for (size_t i = 0; i < n; i++) {
		snprintf(l, sizeof(l), "f%zu", t->n);
		add(t, l, KT_ENTRY_KEY, 1, KT_NO_PREV, (uint8_t)t->n, 1000);
	}
}

static char *
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

static json_t *
hashes(const struct kt_proof *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(a, kt_vb64_json(p->h[i].b, KT_HASH_LEN));
	return a;
}

/* {"index","entry","hashes"} with a proof of leaf i in the size tree. */
static json_t *
leaf_rec(struct tree *t, uint64_t i, uint64_t size)
{
	struct kt_proof p;

	ck_assert_int_eq(kt_merkle_inclusion_proof(node, t, i, size, &p),
	    KT_OK);
	return json_pack("{s:I,s:o,s:o}", "index", (json_int_t)i, "entry",
	    kt_vb64_json(t->ent[i], t->elen[i]), "hashes", hashes(&p));
}

static void
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

static void
teardown(void)
{
	kt_signer_free(signer);
	kt_signer_free(other);
}

static char *
tmpdir(void)
{
	char *d = strdup("/tmp/check_verify.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static void
rmrf(const char *d)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
}

static int
status_of(const char *json_text)
{
	struct kt_vresult r;
	int st;

	kt_vresult_init(&r);
	st = kt_verify_evidence(json_text, strlen(json_text), &vk, &r);
	kt_vresult_free(&r);
	return st;
}

static int
status_ev(json_t *ev)
{
	char *s = json_dumps(ev, JSON_COMPACT);
	int st = status_of(s);

	free(s);
	json_decref(ev);
	return st;
}

/* ---- state ---------------------------------------------------------------- */

START_TEST(test_vstate_write)
{
	char *d = tmpdir(), detail[256];
	struct kt_buf b = { 0 };
	DIR *dir;
	struct dirent *de;
	int files = 0;

	ck_assert_int_eq(kt_vstate_read(d, "x", 100, &b, detail,
	                     sizeof(detail)),
	    KT_ERR_NOT_FOUND);
	ck_assert_int_eq(kt_vstate_write(d, "x", "one", 3, detail,
	                     sizeof(detail)),
	    KT_OK);
	ck_assert_int_eq(kt_vstate_write(d, "x", "second", 6, detail,
	                     sizeof(detail)),
	    KT_OK);
	ck_assert_int_eq(kt_vstate_read(d, "x", 100, &b, detail,
	                     sizeof(detail)),
	    KT_OK);
	ck_assert_str_eq(b.p, "second");
	/* Over the cap: a state file that large is corrupt, not truncated. */
	ck_assert_int_eq(kt_vstate_read(d, "x", 3, &b, detail, sizeof(detail)),
	    KT_ERR_MALFORMED);
	/* No temporary file is left behind. */
	dir = opendir(d);
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.') {
			files++;
			ck_assert_str_eq(de->d_name, "x");
		}
	closedir(dir);
	ck_assert_int_eq(files, 1);
	/* A folder that cannot be written is an error, not a silent loss. */
	ck_assert_int_eq(kt_vstate_write("/nonexistent/dir", "x", "1", 1,
	                     detail, sizeof(detail)),
	    KT_ERR_IO);
	kt_buf_free(&b);
	rmrf(d);
	free(d);
}
END_TEST

/* kill -9 a writer in the middle of a stream of rewrites: the file is
 * always one whole version, never a mix or a truncation. */
START_TEST(test_vstate_write_crash)
{
	enum { LEN = 256 * 1024 };
	char *d = tmpdir(), detail[256];
	char *a = malloc(LEN), *b = malloc(LEN);
	struct kt_buf got = { 0 };

	memset(a, 'A', LEN);
	memset(b, 'B', LEN);
	ck_assert_int_eq(kt_vstate_write(d, "f", a, LEN, detail,
	                     sizeof(detail)),
	    KT_OK);
	for (int round = 0; round < 5; round++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			for (int i = 0;; i++)
				if (kt_vstate_write(d, "f", i & 1 ? a : b, LEN,
				        detail, sizeof(detail)) != KT_OK)
					_exit(1);
		}
		usleep(20000 + 15000 * round);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ck_assert_int_eq(kt_vstate_read(d, "f", LEN, &got, detail,
		                     sizeof(detail)),
		    KT_OK);
		ck_assert_uint_eq(got.len, LEN);
		ck_assert(
		    memcmp(got.p, a, LEN) == 0 || memcmp(got.p, b, LEN) == 0);
		kt_buf_free(&got);
	}
	free(a);
	free(b);
	rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_vstate_load_json)
{
	static const char *bad[] = { "{", "[1,2]", "\"s\"", "{\"a\":1,\"a\":2}",
		"\x01\x02", "{} trailing", "" };
	char *d = tmpdir(), detail[512];
	json_t *o = NULL;

	ck_assert_int_eq(kt_vstate_load_json(d, "absent.json", &o, detail,
	                     sizeof(detail)),
	    KT_OK);
	ck_assert_int_eq(json_object_size(o), 0);
	json_decref(o);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(kt_vstate_write(d, "s.json", bad[i],
		                     strlen(bad[i]), detail, sizeof(detail)),
		    KT_OK);
		ck_assert_int_eq(kt_vstate_load_json(d, "s.json", &o, detail,
		                     sizeof(detail)),
		    KT_ERR_MALFORMED);
		ck_assert_ptr_null(o);
		ck_assert_ptr_nonnull(strstr(detail, "corrupt"));
	}
	/* A FIFO (or device) in place of a state file is refused at once;
	 * opening it blocking would hang until a writer appears. */
	{
		char fifo[512];

		snprintf(fifo, sizeof(fifo), "%s/fifo.json", d);
		ck_assert_int_eq(mkfifo(fifo, 0600), 0);
		ck_assert_int_eq(kt_vstate_load_json(d, "fifo.json", &o, detail,
		                     sizeof(detail)),
		    KT_ERR_IO);
		ck_assert_ptr_null(o);
		ck_assert_ptr_nonnull(strstr(detail, "not a regular file"));
		unlink(fifo);
	}
	rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_verify_open)
{
	char *d = tmpdir(), err[512], vkey[KT_KEY_TEXT_MAX], detail[256];
	struct kt_verify *v = NULL;
	struct kt_vresult r;
	struct tree *t = calloc(1, sizeof(*t));
	char *note;

	ck_assert_int_eq(kt_verifier_format(&vk, vkey, sizeof(vkey)), KT_OK);
	ck_assert_int_eq(kt_verify_open(d, 0, &v, err, sizeof(err)), KT_OK);
	kt_vresult_init(&r);
	ck_assert_int_eq(kt_verify_init(v, "http://127.0.0.1:1/", vkey, &r),
	    KT_VERIFY_OK);
	/* another log for the same state is refused */
	ck_assert_int_eq(kt_verify_init(v, "http://127.0.0.1:2", vkey, &r),
	    KT_VERIFY_ERROR);
	kt_vresult_free(&r);
	kt_verify_close(v);
	ck_assert_int_eq(kt_verify_open(d, 0, &v, err, sizeof(err)), KT_OK);
	ck_assert_ptr_nonnull(kt_verify_log_key(v));
	kt_verify_close(v);

	/* a valid stored checkpoint loads; one signed by another key, or
	 * garbage, is a corrupt state, never a reset */
	fill(t, 3);
	note = note_of(t, 3, signer);
	ck_assert_int_eq(kt_vstate_write(d, "checkpoint", note, strlen(note),
	                     detail, sizeof(detail)),
	    KT_OK);
	ck_assert_int_eq(kt_verify_open(d, 0, &v, err, sizeof(err)), KT_OK);
	kt_verify_close(v);
	free(note);
	note = note_of(t, 3, other);
	ck_assert_int_eq(kt_vstate_write(d, "checkpoint", note, strlen(note),
	                     detail, sizeof(detail)),
	    KT_OK);
	ck_assert_int_eq(kt_verify_open(d, 0, &v, err, sizeof(err)),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(err, "corrupt"));
	ck_assert_int_eq(kt_vstate_write(d, "checkpoint", "x\n", 2, detail,
	                     sizeof(detail)),
	    KT_OK);
	ck_assert_int_eq(kt_verify_open(d, 0, &v, err, sizeof(err)),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_vstate_write(d, "config.json", "{\"log\":1}", 9,
	                     detail, sizeof(detail)),
	    KT_OK);
	ck_assert_int_eq(kt_verify_open(d, 0, &v, err, sizeof(err)),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "corrupt"));
	ck_assert_int_eq(kt_verify_open("/nonexistent/kt", 0, &v, err,
	                     sizeof(err)),
	    KT_ERR_NOT_FOUND);
	free(note);
	free(t);
	rmrf(d);
	free(d);
}
END_TEST

/* ---- untrusted lookup responses ---------------------------------------------- */

static json_t *
good_lookup(struct tree *t, char **note_out)
{
	struct kt_hash h;
	char *note;
	json_t *o, *rec;

	fill(t, 5);
	add(t, "alice", KT_ENTRY_KEY, 1, KT_NO_PREV, 0xaa, 2000); /* 5 */
	fill(t, 2);
	note = note_of(t, t->n, signer);
	rec = leaf_rec(t, 5, t->n);
	kt_hash_leaf(t->ent[5], t->elen[5], &h);
	o = json_pack("{s:s,s:i,s:i,s:O,s:o,s:s,s:{s:i,s:I,s:O}}", "label",
	    "alice", "version", 1, "index", 5, "entry",
	    json_object_get(rec, "entry"), "leaf_hash",
	    kt_vb64_json(h.b, KT_HASH_LEN), "checkpoint", note, "proof",
	    "index", 5, "size", (json_int_t)t->n, "hashes",
	    json_object_get(rec, "hashes"));
	json_decref(rec);
	*note_out = note;
	return o;
}

static kt_err
parse_obj(json_t *o)
{
	struct kt_vlookup *lk = malloc(sizeof(*lk));
	char *s = json_dumps(o, JSON_COMPACT), d[512];
	kt_err e = kt_vparse_lookup(s, strlen(s), "alice", lk, d, sizeof(d));
	struct kt_signed_checkpoint sc;

	if (e == KT_OK) {
		e = kt_vcheck_checkpoint(lk->note, lk->note_len, &vk, &sc, d,
		    sizeof(d));
		if (e == KT_OK)
			e = kt_vcheck_inclusion(&lk->leaf, &sc.cp, d,
			    sizeof(d));
	}
	free(s);
	free(lk);
	return e;
}

/* Lookup responses that are not JSON, not an object, have duplicate keys,
 * or are any truncation of the good one, are refused. */
static void
check_unparseable_lookups(json_t *good)
{
	char *s;
	struct kt_vlookup *lk = malloc(sizeof(*lk));
	char d[512];
	const char *bad[] = { "", "null", "[]", "<html>",
		"{\"label\":\"alice\",\"label\":\"alice\"}" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_ne(kt_vparse_lookup(bad[i], strlen(bad[i]),
		                     "alice", lk, d, sizeof(d)),
		    KT_OK);
	s = json_dumps(good, JSON_COMPACT);
	for (size_t len = 0; len < strlen(s); len++)
		ck_assert_int_ne(kt_vparse_lookup(s, len, "alice", lk, d,
		                     sizeof(d)),
		    KT_OK);
	free(s);
	free(lk);
}

/* The signed checkpoint note (of tree t) alone: each refusal says which
 * step failed (kt_signed_checkpoint_open first, then the steps one by one). */
static void
check_checkpoint_steps(struct tree *t, const char *note)
{
	char *s;
	struct kt_signed_checkpoint sc;
	struct kt_checkpoint c;
	char text[KT_CHECKPOINT_TEXT_MAX], d[512];
	char *n = malloc(KT_NOTE_MAX);
	size_t tl;

	ck_assert_int_eq(kt_vcheck_checkpoint(note, strlen(note), &vk, &sc, d,
	                     sizeof(d)),
	    KT_OK);
	ck_assert_ptr_eq(sc.note, note);
	ck_assert_uint_eq(sc.cp.size, t->n);
	ck_assert_int_eq(kt_vcheck_checkpoint("x\n", 2, &vk, &sc, d, sizeof(d)),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_nonnull(strstr(d, "not a well-formed signed"));
	s = note_of(t, t->n, other);
	ck_assert_int_eq(kt_vcheck_checkpoint(s, strlen(s), &vk, &sc, d,
	                     sizeof(d)),
	    KT_ERR_VERIFY);
	ck_assert_ptr_nonnull(strstr(d, "not signed by the log key"));
	free(s);
	ck_assert_int_eq(kt_note_sign(signer, "not a checkpoint\n", 17, n,
	                     KT_NOTE_MAX, NULL),
	    KT_OK);
	ck_assert_int_eq(kt_vcheck_checkpoint(n, strlen(n), &vk, &sc, d,
	                     sizeof(d)),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_nonnull(strstr(d, "not a well-formed checkpoint"));
	memset(&c, 0, sizeof(c));
	snprintf(c.origin, sizeof(c.origin), "other.example/log");
	c.size = 1;
	ck_assert_int_eq(kt_checkpoint_format(&c, text, sizeof(text), &tl),
	    KT_OK);
	ck_assert_int_eq(kt_note_sign(signer, text, tl, n, KT_NOTE_MAX, NULL),
	    KT_OK);
	ck_assert_int_eq(kt_vcheck_checkpoint(n, strlen(n), &vk, &sc, d,
	                     sizeof(d)),
	    KT_ERR_VERIFY);
	ck_assert_ptr_nonnull(strstr(d, "is not the log's"));
	free(n);
}

START_TEST(test_vparse_lookup)
{
	struct tree *t = calloc(1, sizeof(*t));
	char *note = NULL, *s;
	json_t *good = good_lookup(t, &note), *o;
	uint8_t ent[128];
	size_t elen;
	struct {
		const char *what;
		const char *field;
		json_t *value; /* NULL: delete the field */
	} table[] = {
		{ "no label", "label", NULL },
		{ "other label", "label", json_string("bob") },
		{ "label not a string", "label", json_integer(1) },
		{ "no version", "version", NULL },
		{ "negative version", "version", json_integer(-1) },
		{ "version as string", "version", json_string("1") },
		{ "wrong version", "version", json_integer(2) },
		{ "no index", "index", NULL },
		{ "real index", "index", json_real(5.0) },
		{ "no entry", "entry", NULL },
		{ "entry not base64", "entry", json_string("!!!!") },
		{ "entry unpadded", "entry", json_string("AAA") },
		{ "entry garbage", "entry", json_string("AAAA") },
		{ "entry too long", "entry", NULL /* set below */ },
		{ "entry of another label", "entry", NULL /* set below */ },
		{ "bad leaf_hash", "leaf_hash", json_string("AAAA") },
		{ "wrong leaf_hash", "leaf_hash", NULL /* set below */ },
		{ "no checkpoint", "checkpoint", NULL },
		{ "checkpoint by other key", "checkpoint", NULL /* below */ },
		{ "checkpoint not a note", "checkpoint", json_string("x\n") },
		{ "no proof", "proof", NULL },
		{ "proof not object", "proof", json_array() },
		{ "proof for another index", "proof", NULL /* below */ },
		{ "proof for another size", "proof", NULL /* below */ },
		{ "proof too long", "proof", NULL /* below */ },
		{ "proof hash short", "proof", NULL /* below */ },
		{ "proof wrong hash", "proof", NULL /* below */ },
	};
	size_t n = sizeof(table) / sizeof(table[0]);

	ck_assert_int_eq(parse_obj(good), KT_OK);
	/* values that need the fixture */
	{
		uint8_t big[KT_ENTRY_MAX + 10];
		memset(big, 1, sizeof(big));
		table[13].value = kt_vb64_json(big, sizeof(big));
		elen = mkentry(ent, "bob", KT_ENTRY_KEY, 1, KT_NO_PREV, 0xaa,
		    2000);
		table[14].value = kt_vb64_json(ent, elen);
		table[16].value = kt_vb64_json(t->leaf[0].b, KT_HASH_LEN);
		s = note_of(t, t->n, other);
		table[18].value = json_string(s);
		free(s);
		o = json_deep_copy(json_object_get(good, "proof"));
		json_object_set_new(o, "index", json_integer(4));
		table[22].value = o;
		o = json_deep_copy(json_object_get(good, "proof"));
		json_object_set_new(o, "size", json_integer(6));
		table[23].value = o;
		o = json_deep_copy(json_object_get(good, "proof"));
		for (int i = 0; i < 70; i++)
			json_array_append_new(json_object_get(o, "hashes"),
			    kt_vb64_json(t->leaf[0].b, KT_HASH_LEN));
		table[24].value = o;
		o = json_deep_copy(json_object_get(good, "proof"));
		json_array_set_new(json_object_get(o, "hashes"), 0,
		    kt_vb64_json(t->leaf[0].b, 31));
		table[25].value = o;
		o = json_deep_copy(json_object_get(good, "proof"));
		json_array_set_new(json_object_get(o, "hashes"), 0,
		    kt_vb64_json(t->leaf[0].b, KT_HASH_LEN));
		table[26].value = o;
	}
	for (size_t i = 0; i < n; i++) {
		o = json_deep_copy(good);
		if (table[i].value == NULL)
			json_object_del(o, table[i].field);
		else
			json_object_set(o, table[i].field, table[i].value);
		if (parse_obj(o) == KT_OK)
			ck_abort_msg("accepted: %s", table[i].what);
		json_decref(o);
		json_decref(table[i].value);
	}
	check_unparseable_lookups(good);
	check_checkpoint_steps(t, note);
	json_decref(good);
	free(note);
	free(t);
}
END_TEST

/* ---- evidence accept / reject table ------------------------------------------ */

/* The status of fork evidence from two checkpoint notes without claims. */
static int
fork_views(const char *n1, const char *n2)
{
	return status_ev(json_pack("{s:i,s:s,s:[{s:s},{s:s}]}", "kt_evidence",
	    1, "type", "fork", "views", "checkpoint", n1, "checkpoint", n2));
}

/* The status of fork evidence from two checkpoint notes with a claim
 * each (the claims are not consumed). */
static int
fork_claims(const char *n1, json_t *c1, const char *n2, json_t *c2)
{
	return status_ev(json_pack("{s:i,s:s,s:[{s:s,s:O},{s:s,s:O}]}",
	    "kt_evidence", 1, "type", "fork", "views", "checkpoint", n1,
	    "claim", c1, "checkpoint", n2, "claim", c2));
}

/* A frontier claim on a's subtree [4, 6) (bit 1 of size 6) against
 * b's leaf claim on it: proven; a frontier of the wrong length, or
 * one that does not fold to a's signed root: refused */
static void
check_frontier_claim(struct tree *a, const char *na, const char *nb, json_t *cb)
{
	struct kt_frontier fr;
	json_t *fc;

	kt_frontier_init(&fr);
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(kt_frontier_append(&fr, &a->leaf[i]), KT_OK);
	fc = json_pack("{s:i,s:i,s:o}", "level", 1, "index", 4, "frontier",
	    kt_vfrontier_json(&fr));
	ck_assert_int_eq(fork_claims(na, fc, nb, cb), KT_VERIFY_OK);
	json_array_remove(json_object_get(fc, "frontier"), 0);
	ck_assert_int_eq(fork_claims(na, fc, nb, cb), KT_VERIFY_FAILED);
	json_array_insert_new(json_object_get(fc, "frontier"), 0,
	    kt_vb64_json(a->leaf[0].b, KT_HASH_LEN));
	ck_assert_int_eq(fork_claims(na, fc, nb, cb), KT_VERIFY_FAILED);
	json_decref(fc);
}

START_TEST(test_verify_evidence_fork)
{
	struct tree *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char *na, *nb, *na2;
	json_t *ca, *cb;

	/* a and b share leaves 0..3, then differ at index 4 */
	fill(a, 4);
	*b = *a;
	add(a, "alice", KT_ENTRY_KEY, 1, KT_NO_PREV, 0x11, 2000);
	add(b, "carol", KT_ENTRY_KEY, 1, KT_NO_PREV, 0x22, 2000);
	fill(a, 1);
	fill(b, 3);
	na = note_of(a, 6, signer);
	na2 = note_of(a, 6, other);
	nb = note_of(b, 6, signer);

	/* same size, different roots: proven */
	ck_assert_int_eq(fork_views(na, nb), KT_VERIFY_OK);
	/* the same checkpoint twice: nothing */
	ck_assert_int_eq(fork_views(na, na), KT_VERIFY_FAILED);
	/* one checkpoint signed by another key: forged */
	ck_assert_int_eq(fork_views(na2, nb), KT_VERIFY_FAILED);
	free(nb);
	nb = note_of(b, 8, signer);
	/* different sizes, no claims: a smaller tree proves nothing */
	ck_assert_int_eq(fork_views(na, nb), KT_VERIFY_FAILED);
	/* leaf claims at index 4 in size 6 and size 8: proven */
	ca = leaf_rec(a, 4, 6);
	cb = leaf_rec(b, 4, 8);
	json_object_set_new(ca, "level", json_integer(0));
	json_object_set_new(cb, "level", json_integer(0));
	ck_assert_int_eq(fork_claims(na, ca, nb, cb), KT_VERIFY_OK);
	/* level-1 claims on subtree [4, 6): proven */
	json_object_set_new(ca, "level", json_integer(1));
	json_object_set_new(cb, "level", json_integer(1));
	ck_assert_int_eq(fork_claims(na, ca, nb, cb), KT_VERIFY_OK);
	check_frontier_claim(a, na, nb, cb);
	/* a claim about a subtree sticking out of the tree: refused */
	json_object_set_new(ca, "level", json_integer(2));
	json_object_set_new(cb, "level", json_integer(2));
	ck_assert_int_eq(fork_claims(na, ca, nb, cb), KT_VERIFY_FAILED);
	json_decref(ca);
	json_decref(cb);
	/* both claims on the same (shared) leaf 2: they agree, nothing */
	ca = leaf_rec(a, 2, 6);
	cb = leaf_rec(b, 2, 8);
	json_object_set_new(ca, "level", json_integer(0));
	json_object_set_new(cb, "level", json_integer(0));
	ck_assert_int_eq(fork_claims(na, ca, nb, cb), KT_VERIFY_FAILED);
	/* a claim whose proof is for the other tree: does not verify */
	ck_assert_int_eq(fork_claims(nb, ca, na, cb), KT_VERIFY_FAILED);
	json_decref(ca);
	json_decref(cb);
	free(na);
	free(na2);
	free(nb);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_verify_evidence_other)
{
	struct tree *t = calloc(1, sizeof(*t));
	uint8_t k11[32], kff[32];
	char *note, *tp = malloc(KT_TLOGPROOF_MAX);
	struct kt_proof p;
	size_t len;
	json_t *leaf;

	memset(k11, 0x11, 32);
	memset(kff, 0xff, 32);
	fill(t, 3);
	add(t, "alice", KT_ENTRY_KEY, 1, KT_NO_PREV, 0x11, 2000); /* 3 */
	add(t, "alice", KT_ENTRY_KEY, 2, 3, 0xff, 2000);          /* 4 */
	add(t, "z", KT_ENTRY_KEY, 1, KT_NO_PREV, 0x01, 1500);     /* 5 */
	note = note_of(t, 6, signer);

	/* ghost key: proven; with the key expected, or another label: not */
	leaf = leaf_rec(t, 4, 6);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:[o],s:s,s:O}",
	                     "kt_evidence", 1, "type", "ghost-key", "label",
	                     "alice", "expected_keys", kt_vb64_json(k11, 32),
	                     "checkpoint", note, "leaf", leaf)),
	    KT_VERIFY_OK);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:[o,o],s:s,s:O}",
	                     "kt_evidence", 1, "type", "ghost-key", "label",
	                     "alice", "expected_keys", kt_vb64_json(k11, 32),
	                     kt_vb64_json(kff, 32), "checkpoint", note, "leaf",
	                     leaf)),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:[o],s:s,s:O}",
	                     "kt_evidence", 1, "type", "ghost-key", "label",
	                     "bob", "expected_keys", kt_vb64_json(k11, 32),
	                     "checkpoint", note, "leaf", leaf)),
	    KT_VERIFY_FAILED);
	json_object_set_new(leaf, "index", json_integer(3));
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:[o],s:s,s:O}",
	                     "kt_evidence", 1, "type", "ghost-key", "label",
	                     "alice", "expected_keys", kt_vb64_json(k11, 32),
	                     "checkpoint", note, "leaf", leaf)),
	    KT_VERIFY_FAILED);
	json_decref(leaf);

	/* bad entries: timestamp 4 -> 5 goes back: proven; 3 -> 4 does not */
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:s,s:[o,o]}",
	                     "kt_evidence", 1, "type", "bad-entries", "rule",
	                     "timestamp", "checkpoint", note, "entries",
	                     leaf_rec(t, 4, 6), leaf_rec(t, 5, 6))),
	    KT_VERIFY_OK);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:s,s:[o,o]}",
	                     "kt_evidence", 1, "type", "bad-entries", "rule",
	                     "timestamp", "checkpoint", note, "entries",
	                     leaf_rec(t, 3, 6), leaf_rec(t, 4, 6))),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:s,s:[o,o]}",
	                     "kt_evidence", 1, "type", "bad-entries", "rule",
	                     "prev-link", "checkpoint", note, "entries",
	                     leaf_rec(t, 4, 6), leaf_rec(t, 3, 6))),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:s,s:[o,o]}",
	                     "kt_evidence", 1, "type", "bad-entries", "rule",
	                     "whatever", "checkpoint", note, "entries",
	                     leaf_rec(t, 4, 6), leaf_rec(t, 5, 6))),
	    KT_VERIFY_FAILED);

	/* records that are not proof */
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:[{s:s},{s:s}]}",
	                     "kt_evidence", 1, "type", "rollback", "views",
	                     "checkpoint", note, "checkpoint", note)),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s}", "kt_evidence", 1,
	                     "type", "unlogged-key")),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(status_of("{\"type\":\"fork\"}"), KT_VERIFY_FAILED);
	ck_assert_int_eq(status_of("not json"), KT_VERIFY_FAILED);
	ck_assert_int_eq(status_of(""), KT_VERIFY_FAILED);

	/* tlog-proof: valid, then with a changed index */
	ck_assert_int_eq(kt_merkle_inclusion_proof(node, t, 4, 6, &p), KT_OK);
	ck_assert_int_eq(kt_tlogproof_format(t->ent[4], t->elen[4], 4, &p, note,
	                     strlen(note), tp, KT_TLOGPROOF_MAX, &len),
	    KT_OK);
	ck_assert_int_eq(status_of(tp), KT_VERIFY_OK);
	ck_assert_int_eq(kt_tlogproof_format(t->ent[4], t->elen[4], 3, &p, note,
	                     strlen(note), tp, KT_TLOGPROOF_MAX, &len),
	    KT_OK);
	ck_assert_int_eq(status_of(tp), KT_VERIFY_FAILED);
	free(tp);
	free(note);
	free(t);
}
END_TEST

/* ---- small helpers ---------------------------------------------------------- */

START_TEST(test_inclusion_len)
{
	struct tree *t = calloc(1, sizeof(*t));
	struct kt_proof p;

	fill(t, 64);
	for (uint64_t size = 1; size <= 64; size++)
		for (uint64_t i = 0; i < size; i++) {
			ck_assert_int_eq(kt_merkle_inclusion_proof(node, t, i,
			                     size, &p),
			    KT_OK);
			ck_assert_uint_eq(kt_inclusion_len(i, size), p.n);
		}
	free(t);
}
END_TEST

/*
 * The log is untrusted: only http and https are fetched, so a base URL or
 * a redirect cannot make the client read local files (file://).
 */
START_TEST(test_fetch_protocols)
{
	struct kt_fetch *f = NULL;
	struct kt_buf body = { 0 };
	char detail[256], long_url[KT_URL_MAX + 8];
	long status = -1;
	char path[] = "/tmp/kt-fetch-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\"secret\":1}", 12), 12);
	close(fd);
	ck_assert_int_eq(kt_fetch_open("file://", 2, 5, &f), KT_OK);
	ck_assert_int_eq(kt_fetch_get(f, path, 1024, &body, &status, detail,
	                     sizeof(detail)),
	    KT_ERR_NETWORK);
	ck_assert_uint_eq(body.len, 0);
	ck_assert(body.p == NULL || strstr(body.p, "secret") == NULL);
	kt_fetch_close(f);
	kt_buf_free(&body);
	unlink(path);

	memset(long_url, 'a', sizeof(long_url) - 1);
	long_url[sizeof(long_url) - 1] = '\0';
	ck_assert_int_eq(kt_fetch_open(long_url, 2, 5, &f), KT_ERR_TOO_LARGE);
	ck_assert_ptr_null(f);
}
END_TEST

START_TEST(test_vb64_decode)
{
	uint8_t out[64];
	size_t n;

	ck_assert_int_eq(kt_b64_decode("AAEC", 4, out, sizeof(out), &n), KT_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(kt_b64_decode("AQ==", 4, out, sizeof(out), &n), KT_OK);
	/* non-zero padding bits: a second spelling of the same byte */
	ck_assert_int_ne(kt_b64_decode("AR==", 4, out, sizeof(out), &n), KT_OK);
	ck_assert_int_ne(kt_b64_decode("AQ", 2, out, sizeof(out), &n), KT_OK);
	ck_assert_int_ne(kt_b64_decode("AQ=\n", 4, out, sizeof(out), &n),
	    KT_OK);
	ck_assert_int_ne(kt_b64_decode("A-_B", 4, out, sizeof(out), &n), KT_OK);
	ck_assert_int_ne(kt_b64_decode("AAECAwQF", 8, out, 5, &n), KT_OK);
}
END_TEST

/* ---- witness quorum -------------------------------------------------------- */

static struct kt_signer *
cosigner(const char *name, uint8_t seedbyte, struct kt_verifier *out)
{
	uint8_t seed[KT_SEED_LEN];
	struct kt_signer *w = NULL;

	memset(seed, seedbyte, sizeof(seed));
	ck_assert_int_eq(kt_signer_from_seed(name, KT_KEY_COSIG, seed, &w),
	    KT_OK);
	kt_signer_verifier(w, out);
	return w;
}

/* note (malloc'd, KT_NOTE_MAX) += w's cosignature over text_of at time t.
 * text_of is the note whose text is signed (note itself unless forging). */
static void
cosign(char *note, const char *text_of, struct kt_signer *w, uint64_t t)
{
	const char *end = strstr(text_of, "\n\n");
	char line[512];
	size_t n;

	ck_assert_ptr_nonnull(end);
	ck_assert_int_eq(kt_cosig_sign(w, text_of, (size_t)(end - text_of) + 1,
	                     t, line, sizeof(line), &n),
	    KT_OK);
	ck_assert_uint_lt(strlen(note) + n, KT_NOTE_MAX);
	strcat(note, line);
}

/* A witness policy of wit[0..nwit) and quorum. */
static struct kt_vwitnesses *
policy(const struct kt_verifier *wit, size_t nwit, unsigned quorum)
{
	static struct kt_vwitnesses w;

	memset(&w, 0, sizeof(w));
	memcpy(w.keys, wit, nwit * sizeof(*wit));
	w.n = nwit;
	w.quorum = quorum;
	return &w;
}

static size_t
count(const char *note, const struct kt_verifier *wit, size_t nwit,
    unsigned quorum, struct kt_vquorum *q)
{
	char d[256];

	ck_assert_int_eq(kt_vquorum_count(note, strlen(note), &vk,
	                     policy(wit, nwit, quorum), q, d, sizeof(d)),
	    KT_OK);
	return q->valid;
}

/* kt_vaccept of a note the log signed, opened as kt_vaccept_fetch does. */
static int
accept_note(struct kt_verify *v, const char *note, struct kt_vresult *r)
{
	struct kt_signed_checkpoint sc;
	char d[256];

	ck_assert_int_eq(kt_vcheck_checkpoint(note, strlen(note), &vk, &sc, d,
	                     sizeof(d)),
	    KT_OK);
	return kt_vaccept(v, &sc, r);
}

START_TEST(test_quorum_count)
{
	struct kt_signer *w[4];
	struct kt_verifier wv[4];
	struct tree *t = calloc(1, sizeof(*t));
	struct kt_vquorum q;
	char *note, *other_note, *forged, d[256];

	w[0] = cosigner("w1.example", 0x31, &wv[0]);
	w[1] = cosigner("w2.example", 0x32, &wv[1]);
	w[2] = cosigner("w3.example", 0x33, &wv[2]);
	w[3] = cosigner("w4.example", 0x34, &wv[3]); /* not configured */
	fill(t, 5);
	note = note_of(t, 5, signer);
	other_note = note_of(t, 4, signer);

	/* 0, 1, 2, 3 valid cosignatures; times 100, 300, 200 */
	ck_assert_uint_eq(count(note, wv, 3, 2, &q), 0);
	ck_assert_uint_eq(q.witnessed, 0);
	cosign(note, note, w[0], 100);
	ck_assert_uint_eq(count(note, wv, 3, 2, &q), 1);
	ck_assert_uint_eq(q.witnessed, 100); /* below quorum: the newest */
	/* an unknown witness's cosignature is ignored */
	cosign(note, note, w[3], 999);
	ck_assert_uint_eq(count(note, wv, 3, 2, &q), 1);
	cosign(note, note, w[1], 300);
	ck_assert_uint_eq(count(note, wv, 3, 2, &q), 2);
	ck_assert_uint_eq(q.witnessed, 100); /* 2nd newest of 300, 100 */
	ck_assert_uint_eq(q.newest, 300);
	cosign(note, note, w[2], 200);
	ck_assert_uint_eq(count(note, wv, 3, 2, &q), 3);
	ck_assert_uint_eq(q.witnessed, 200); /* 2nd newest of 300, 200, 100 */
	ck_assert_uint_eq(count(note, wv, 3, 3, &q), 3);
	ck_assert_uint_eq(q.witnessed, 100);
	ck_assert_uint_eq(count(note, wv, 3, 1, &q), 3);
	ck_assert_uint_eq(q.witnessed, 300);
	/* a witness that is not configured counts for nothing */
	ck_assert_uint_eq(count(note, wv, 1, 1, &q), 1);
	/* the same witness twice counts once */
	cosign(note, note, w[0], 150);
	ck_assert_uint_eq(count(note, wv, 3, 2, &q), 3);

	/* a configured witness's cosignature over another checkpoint's text
	 * (or any bad one) rejects the note */
	forged = note_of(t, 5, signer);
	cosign(forged, note, w[0], 100);
	cosign(forged, other_note, w[1], 100);
	ck_assert_int_eq(kt_vquorum_count(forged, strlen(forged), &vk,
	                     policy(wv, 3, 2), &q, d, sizeof(d)),
	    KT_ERR_VERIFY);
	ck_assert_uint_eq(q.valid, 0);
	/* ... but the same line by an unconfigured key is ignored */
	ck_assert_uint_eq(count(forged, wv, 1, 1, &q), 1);
	/* the log's signature is required, cosignatures do not replace it */
	free(forged);
	forged = note_of(t, 5, other);
	cosign(forged, forged, w[0], 100);
	cosign(forged, forged, w[1], 100);
	ck_assert_int_eq(kt_vquorum_count(forged, strlen(forged), &vk,
	                     policy(wv, 3, 2), &q, d, sizeof(d)),
	    KT_ERR_VERIFY);
	ck_assert_int_eq(kt_vquorum_count("junk", 4, &vk, policy(wv, 3, 2), &q,
	                     d, sizeof(d)),
	    KT_ERR_MALFORMED);
	for (int i = 0; i < 4; i++)
		kt_signer_free(w[i]);
	free(note);
	free(other_note);
	free(forged);
	free(t);
}
END_TEST

/* kt_verify_init_policy refuses bad policies (quorum 0 or above the
 * count, a repeated witness, a log (0x01) key as a witness) and stores
 * none of them, then accepts keys[0..2] with quorum 2 and max age 3600.
 * keys has room for 4; wk0 is keys[0]'s text, vkey the log key's. */
static void
check_policies(struct kt_verify *v, const char **keys, const char *wk0,
    const char *vkey, struct kt_vresult *r)
{
	struct kt_vpolicy pol;

	pol = (struct kt_vpolicy){ keys, 3, 0, 0 };
	ck_assert_int_eq(kt_verify_init_policy(v, "http://127.0.0.1:1", vkey,
	                     &pol, r),
	    KT_VERIFY_ERROR);
	pol.quorum = 4;
	ck_assert_int_eq(kt_verify_init_policy(v, "http://127.0.0.1:1", vkey,
	                     &pol, r),
	    KT_VERIFY_ERROR);
	keys[3] = wk0;
	pol = (struct kt_vpolicy){ keys, 4, 2, 0 };
	ck_assert_int_eq(kt_verify_init_policy(v, "http://127.0.0.1:1", vkey,
	                     &pol, r),
	    KT_VERIFY_ERROR);
	keys[3] = vkey;
	ck_assert_int_eq(kt_verify_init_policy(v, "http://127.0.0.1:1", vkey,
	                     &pol, r),
	    KT_VERIFY_ERROR);
	ck_assert(!v->have_config);
	pol = (struct kt_vpolicy){ keys, 3, 2, 3600 };
	ck_assert_int_eq(kt_verify_init_policy(v, "http://127.0.0.1:1", vkey,
	                     &pol, r),
	    KT_VERIFY_OK);
}

/* Staleness of the stored checkpoint (witnessed at 1000, max age 3600)
 * with an injected clock; only status 0 turns into 5. */
static void
check_staleness(struct kt_verify *v, struct kt_vresult *r)
{
	json_t *o;

	kt_verify_set_now(v, 1000 + 3600);
	ck_assert_int_eq(kt_vquorum_stale(v, r, KT_VERIFY_OK), KT_VERIFY_OK);
	o = json_object_get(r->info, "witnesses");
	ck_assert(json_is_false(json_object_get(o, "stale")));
	kt_verify_set_now(v, 1000 + 3601);
	ck_assert_int_eq(kt_vquorum_stale(v, r, KT_VERIFY_KEY_CHANGED),
	    KT_VERIFY_KEY_CHANGED);
	r->msg[0] = '\0';
	ck_assert_int_eq(kt_vquorum_stale(v, r, KT_VERIFY_OK), KT_VERIFY_STALE);
	ck_assert_int_eq(r->outcome, KT_VERIFY_STALE);
	ck_assert_ptr_nonnull(strstr(r->msg, "STALE"));
	o = json_object_get(r->info, "witnesses");
	ck_assert(json_is_true(json_object_get(o, "stale")));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "age_seconds")),
	    3601);
	/* a cosignature from the future is not stale */
	kt_verify_set_now(v, 10);
	ck_assert_int_eq(kt_vquorum_stale(v, r, KT_VERIFY_OK), KT_VERIFY_OK);
}

/* The verifier's stored checkpoint (in state directory d) is want. */
static void
stored_note_is(const char *d, const char *want)
{
	struct kt_buf b = { 0 };
	char err[512];

	ck_assert_int_eq(kt_vstate_read(d, "checkpoint", KT_NOTE_MAX, &b, err,
	                     sizeof(err)),
	    KT_OK);
	ck_assert_str_eq(b.p, want);
	kt_buf_free(&b);
}

/* The other branch t2, same size 6 as the stored n2 (in d): a fork proven
 * even without its quorum (one cosignature by w); the evidence checks
 * offline and n2 stays stored. */
static void
check_other_branch(struct kt_verify *v, const char *d, struct kt_signer *w,
    struct tree *t2, const char *n2, struct kt_vresult *r)
{
	struct kt_buf b = { 0 };
	char err[512], *fork;

	fill(t2, 5);
	add(t2, "forked", KT_ENTRY_KEY, 1, KT_NO_PREV, 0x99, 1000);
	fork = note_of(t2, 6, signer);
	cosign(fork, fork, w, 8000);
	ck_assert_int_eq(accept_note(v, fork, r), KT_VERIFY_ATTACK);
	ck_assert_str_ne(r->evidence, "");
	ck_assert_int_eq(kt_vstate_read("/", r->evidence + 1, KT_NOTE_MAX * 4,
	                     &b, err, sizeof(err)),
	    KT_OK);
	ck_assert_int_eq(status_of(b.p), KT_VERIFY_OK);
	stored_note_is(d, n2);
	free(fork);
	kt_buf_free(&b);
}

START_TEST(test_quorum_policy)
{
	struct kt_signer *w[3];
	struct kt_verifier wv[3];
	char wk[3][KT_KEY_TEXT_MAX], vkey[KT_KEY_TEXT_MAX], err[512];
	const char *keys[4];
	char *d = tmpdir(), *n1, *n2, *n3, *fork;
	struct tree *t = calloc(1, sizeof(*t)), *t2 = calloc(1, sizeof(*t2));
	struct kt_verify *v = NULL;
	struct kt_vresult r;

	w[0] = cosigner("w1.example", 0x31, &wv[0]);
	w[1] = cosigner("w2.example", 0x32, &wv[1]);
	w[2] = cosigner("w3.example", 0x33, &wv[2]);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(kt_verifier_format(&wv[i], wk[i],
		                     sizeof(wk[i])),
		    KT_OK);
		keys[i] = wk[i];
	}
	ck_assert_int_eq(kt_verifier_format(&vk, vkey, sizeof(vkey)), KT_OK);
	ck_assert_int_eq(kt_verify_open(d, 0, &v, err, sizeof(err)), KT_OK);
	kt_vresult_init(&r);
	check_policies(v, keys, wk[0], vkey, &r);
	kt_verify_close(v);
	/* the policy survives a reopen */
	ck_assert_int_eq(kt_verify_open(d, 0, &v, err, sizeof(err)), KT_OK);
	ck_assert_uint_eq(v->wit.n, 3);
	ck_assert_uint_eq(v->wit.quorum, 2);
	ck_assert_uint_eq(v->wit.max_age, 3600);

	fill(t, 6);
	/* one cosignature of the two needed: refused, nothing stored */
	n1 = note_of(t, 6, signer);
	cosign(n1, n1, w[0], 1000);
	ck_assert_int_eq(accept_note(v, n1, &r), KT_VERIFY_FAILED);
	ck_assert_ptr_nonnull(strstr(r.msg, "quorum is 2"));
	ck_assert(!v->have_stored);
	/* two: accepted on first use; witnessed at the 2nd newest time */
	cosign(n1, n1, w[1], 2000);
	ck_assert_int_eq(accept_note(v, n1, &r), KT_VERIFY_OK);
	ck_assert(v->have_stored);
	ck_assert_uint_eq(v->seen_witnessed, 1000);
	check_staleness(v, &r);

	/* the same tree freshly cosigned replaces the stored copy */
	n2 = note_of(t, 6, signer);
	cosign(n2, n2, w[2], 5000);
	cosign(n2, n2, w[0], 6000);
	ck_assert_int_eq(accept_note(v, n2, &r), KT_VERIFY_OK);
	ck_assert_uint_eq(v->seen_witnessed, 5000);
	stored_note_is(d, n2);
	/* ... but an older cosigned copy does not */
	ck_assert_int_eq(accept_note(v, n1, &r), KT_VERIFY_OK);
	stored_note_is(d, n2);
	/* a bad cosignature by a configured witness is refused */
	n3 = note_of(t, 5, signer);
	fork = note_of(t, 6, signer);
	cosign(fork, fork, w[0], 7000);
	cosign(fork, n3, w[1], 7000); /* w2's signature over another text */
	ck_assert_int_eq(accept_note(v, fork, &r), KT_VERIFY_FAILED);
	ck_assert_ptr_nonnull(strstr(r.msg, "does not verify"));
	free(fork);

	check_other_branch(v, d, w[2], t2, n2, &r);

	kt_vresult_free(&r);
	kt_verify_close(v);
	for (int i = 0; i < 3; i++)
		kt_signer_free(w[i]);
	free(n1);
	free(n2);
	free(n3);
	free(t);
	free(t2);
	rmrf(d);
	free(d);
}
END_TEST

/* A prefix claim: a consistency proof from the smaller view's size that
 * reaches the larger view's root from another prefix root. */
static json_t *
prefix_ev(const char *ns, const char *nl, uint64_t m, const struct kt_hash *x,
    const struct kt_proof *p)
{
	return json_pack("{s:i,s:s,s:[{s:s,s:n},{s:s,s:{s:I,s:o,s:o}}]}",
	    "kt_evidence", 1, "type", "fork", "views", "checkpoint", ns,
	    "claim", "checkpoint", nl, "claim", "prefix_size", (json_int_t)m,
	    "prefix_root", kt_vb64_json(x->b, KT_HASH_LEN), "hashes",
	    hashes(p));
}

START_TEST(test_verify_evidence_prefix)
{
	struct tree *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct kt_hash ra, rb6;
	struct kt_proof p;
	char *na, *nb, *nb6;

	fill(a, 4);
	*b = *a;
	add(a, "alice", KT_ENTRY_KEY, 1, KT_NO_PREV, 0x11, 2000);
	add(b, "carol", KT_ENTRY_KEY, 1, KT_NO_PREV, 0x22, 2000);
	fill(a, 1);
	fill(b, 4);
	na = note_of(a, 6, signer);
	nb = note_of(b, 9, signer);
	nb6 = note_of(b, 6, signer);
	ck_assert_int_eq(kt_merkle_root(node, a, 6, &ra), KT_OK);
	ck_assert_int_eq(kt_merkle_root(node, b, 6, &rb6), KT_OK);
	ck_assert_int_eq(kt_merkle_consistency_proof(node, b, 6, 9, &p), KT_OK);
	/* b's own proof binds b's prefix root, which is not a's: proven */
	ck_assert_int_eq(status_ev(prefix_ev(na, nb, 6, &rb6, &p)),
	    KT_VERIFY_OK);
	/* claiming a's root as the prefix: the proof does not reach */
	ck_assert_int_eq(status_ev(prefix_ev(na, nb, 6, &ra, &p)),
	    KT_VERIFY_FAILED);
	/* a consistent pair (b at 6 and 9) proves nothing */
	ck_assert_int_eq(status_ev(prefix_ev(nb6, nb, 6, &rb6, &p)),
	    KT_VERIFY_FAILED);
	/* a prefix claim for another size */
	ck_assert_int_eq(status_ev(prefix_ev(na, nb, 5, &rb6, &p)),
	    KT_VERIFY_FAILED);
	/* every single flipped bit of every proof hash breaks it */
	for (size_t i = 0; i < p.n; i++) {
		p.h[i].b[i % KT_HASH_LEN] ^= 1;
		ck_assert_int_eq(status_ev(prefix_ev(na, nb, 6, &rb6, &p)),
		    KT_VERIFY_FAILED);
		p.h[i].b[i % KT_HASH_LEN] ^= 1;
	}
	/* the larger view signed by another key: forged */
	free(nb);
	nb = note_of(b, 9, other);
	ck_assert_int_eq(status_ev(prefix_ev(na, nb, 6, &rb6, &p)),
	    KT_VERIFY_FAILED);
	free(na);
	free(nb);
	free(nb6);
	free(a);
	free(b);
}
END_TEST

static Suite *
verify_suite(void)
{
	Suite *s = suite_create("verify");
	struct {
		const char *name;
		const TTest *t;
	} tcs[] = {
		{ "kt_vstate_write", test_vstate_write },
		{ "kt_vstate_write_crash", test_vstate_write_crash },
		{ "kt_vstate_load_json", test_vstate_load_json },
		{ "kt_verify_open", test_verify_open },
		{ "kt_vparse_lookup", test_vparse_lookup },
		{ "kt_verify_evidence_fork", test_verify_evidence_fork },
		{ "kt_verify_evidence_other", test_verify_evidence_other },
		{ "kt_inclusion_len", test_inclusion_len },
		{ "kt_b64_decode", test_vb64_decode },
		{ "kt_fetch_get", test_fetch_protocols },
		{ "kt_vquorum_count", test_quorum_count },
		{ "kt_verify_evidence_prefix", test_verify_evidence_prefix },
		{ "kt_verify_quorum_policy", test_quorum_policy },
	};

	for (size_t i = 0; i < sizeof(tcs) / sizeof(tcs[0]); i++) {
		TCase *tc = tcase_create(tcs[i].name);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, tcs[i].t);
		tcase_set_timeout(tc, 60);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	return kt_test_run(verify_suite());
}
