/* witness_testlib.c: see witness_testlib.h. */
#include "witness_testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harness/tmpdir.h"

static void
die(const char *what)
{
	fprintf(stderr, "witness_testlib: %s\n", what);
	abort();
}

void
wt_tree_init(struct wt_tree *t, size_t n, unsigned branch, size_t fork)
{
	t->n = n;
	t->leaf = calloc(n == 0 ? 1 : n, sizeof(*t->leaf));
	if (t->leaf == NULL)
		die("out of memory");
	for (size_t i = 0; i < n; i++) {
		char e[64];
		int len = snprintf(e, sizeof(e), "entry %zu of branch %u", i,
		    i < fork ? 0 : branch);

		kt_hash_leaf((const uint8_t *)e, (size_t)len, &t->leaf[i]);
	}
}

void
wt_tree_free(struct wt_tree *t)
{
	free(t->leaf);
	t->leaf = NULL;
	t->n = 0;
}

kt_err
wt_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	const struct wt_tree *t = ctx;
	struct kt_hash l, r;
	kt_err err;

	if (level >= 32 || ((index + 1) << level) > t->n)
		return KT_ERR_RANGE;
	if (level == 0) {
		*out = t->leaf[index];
		return KT_OK;
	}
	if ((err = wt_node(ctx, level - 1, 2 * index, &l)) != KT_OK ||
	    (err = wt_node(ctx, level - 1, 2 * index + 1, &r)) != KT_OK)
		return err;
	kt_hash_node(&l, &r, out);
	return KT_OK;
}

void
wt_root(const struct wt_tree *t, uint64_t size, struct kt_hash *root)
{
	if (kt_merkle_root(wt_node, (void *)t, size, root) != KT_OK)
		die("kt_merkle_root");
}

void
wt_proof(const struct wt_tree *t, uint64_t old, uint64_t new_size,
    struct kt_proof *p)
{
	if (kt_merkle_consistency_proof(wt_node, (void *)t, old, new_size, p) !=
	    KT_OK)
		die("kt_merkle_consistency_proof");
}

struct kt_signer *
wt_signer(const char *name, uint8_t type, uint8_t seed_byte)
{
	uint8_t seed[KT_SEED_LEN];
	struct kt_signer *s = NULL;

	memset(seed, seed_byte, sizeof(seed));
	if (kt_signer_from_seed(name, type, seed, &s) != KT_OK)
		die("kt_signer_from_seed");
	return s;
}

void
wt_verifier_string(const struct kt_signer *s, char *buf)
{
	struct kt_verifier v;

	kt_signer_verifier(s, &v);
	if (kt_verifier_format(&v, buf, KT_KEY_TEXT_MAX) != KT_OK)
		die("kt_verifier_format");
}

size_t
wt_checkpoint_text(const char *origin, uint64_t size,
    const struct kt_hash *root, char *text, size_t cap)
{
	struct kt_checkpoint c;
	size_t len = 0;

	memset(&c, 0, sizeof(c));
	snprintf(c.origin, sizeof(c.origin), "%s", origin);
	c.size = size;
	c.root = *root;
	if (kt_checkpoint_format(&c, text, cap, &len) != KT_OK)
		die("kt_checkpoint_format");
	return len;
}

size_t
wt_checkpoint_note(const struct kt_signer *log, const struct wt_tree *t,
    uint64_t size, char *buf, size_t cap)
{
	char text[KT_CHECKPOINT_TEXT_MAX];
	struct kt_hash root;
	size_t tl, len = 0;

	wt_root(t, size, &root);
	tl = wt_checkpoint_text(kt_signer_name(log), size, &root, text,
	    sizeof(text));
	if (kt_note_sign(log, text, tl, buf, cap, &len) != KT_OK)
		die("kt_note_sign");
	return len;
}

size_t
wt_body(uint64_t old, const struct kt_proof *p, const char *note,
    size_t note_len, char *buf, size_t cap)
{
	size_t n;

	n = (size_t)snprintf(buf, cap, "old %llu\n", (unsigned long long)old);
	for (size_t i = 0; p != NULL && i < p->n; i++) {
		if (n + 46 > cap)
			die("body buffer too small");
		sodium_bin2base64(buf + n, cap - n, p->h[i].b, KT_HASH_LEN,
		    sodium_base64_VARIANT_ORIGINAL);
		n += 44;
		buf[n++] = '\n';
	}
	if (n + 1 + note_len + 1 > cap)
		die("body buffer too small");
	buf[n++] = '\n';
	memcpy(buf + n, note, note_len);
	n += note_len;
	buf[n] = '\0';
	return n;
}

size_t
wt_body_for(const struct kt_signer *log, const struct wt_tree *t, uint64_t old,
    uint64_t size, char *buf, size_t cap)
{
	char note[4096];
	struct kt_proof p;
	size_t nl;

	nl = wt_checkpoint_note(log, t, size, note, sizeof(note));
	wt_proof(t, old, size, &p);
	return wt_body(old, &p, note, nl, buf, cap);
}

int
wt_cosig_ok(const struct kt_verifier *wv, const char *note, size_t note_len,
    const char *cosig, size_t cosig_len, uint64_t *timestamp)
{
	static _Thread_local struct kt_note n;
	char *buf;
	uint8_t ok = 0;
	uint64_t t = 0;
	int ret = 0;

	buf = malloc(note_len + cosig_len + 1);
	if (buf == NULL)
		die("out of memory");
	memcpy(buf, note, note_len);
	memcpy(buf + note_len, cosig, cosig_len);
	if (kt_note_open(buf, note_len + cosig_len, wv, 1, &n, &ok, &t) ==
	        KT_OK &&
	    ok == 1) {
		if (timestamp != NULL)
			*timestamp = t;
		ret = 1;
	}
	free(buf);
	return ret;
}

int
wt_note_checkpoint(const char *note, size_t len, struct kt_checkpoint *cp)
{
	static _Thread_local struct kt_note n;

	if (kt_note_parse(note, len, &n) != KT_OK ||
	    kt_checkpoint_parse(n.text, n.text_len, cp) != KT_OK)
		return -1;
	return 0;
}

void
wt_rmrf(const char *dir)
{
	(void)tmpdir_remove(dir);
}
