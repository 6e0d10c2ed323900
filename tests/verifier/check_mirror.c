/*
 * check_mirror.c: units of kt-mirror's parts below the network: the
 * shared cosigner (verifier/cosigner/: keygen, loading, cosigning a note)
 * and the mirror's store (verifier/mirror/mirror_store.c: only published
 * tiles served, the checkpoint with its tiles, purge).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cosigner.h"
#include "harness/runner.h"
#include "harness/tmpdir.h"
#include "kt/checkpoint.h"
#include "kt/tile.h"
#include "mirror_store.h"

#define NOW 1764115200u

static char dir[512];

static void
setup(void)
{
	ck_assert_int_eq(tmpdir_make("mirror", dir, sizeof(dir)), 0);
}

static void
teardown(void)
{
	(void)tmpdir_remove(dir);
}

/* A signed checkpoint note of size 3 by a fresh log key into buf. */
static struct kt_signer *
log_note(char *buf, size_t cap, size_t *len)
{
	uint8_t seed[KT_SEED_LEN];
	struct kt_signer *s = NULL;
	struct kt_checkpoint cp = { .size = 3 };
	char text[KT_CHECKPOINT_TEXT_MAX];
	size_t tl;

	memset(seed, 0x11, sizeof(seed));
	strcpy(cp.origin, "example.com/log");
	memset(cp.root.b, 0x42, KT_HASH_LEN);
	ck_assert_int_eq(kt_signer_from_seed(cp.origin, KT_KEY_ED25519, seed,
	                     &s),
	    KT_OK);
	ck_assert_int_eq(kt_checkpoint_format(&cp, text, sizeof(text), &tl),
	    KT_OK);
	ck_assert_int_eq(kt_note_sign(s, text, tl, buf, cap, len), KT_OK);
	return s;
}

/* ---- kt_cosigner_keygen, kt_cosigner_load ------------------------------- */

START_TEST(test_cosigner_keygen)
{
	char path[600], vkey[KT_KEY_TEXT_MAX], vkey2[KT_KEY_TEXT_MAX], d[512];
	struct kt_signer *s = NULL;
	struct kt_verifier v, pv;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/m.key", dir);
	ck_assert_int_eq(kt_cosigner_keygen("a b", path, vkey, d, sizeof(d)),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(stat(path, &sb), -1); /* nothing written */
	ck_assert_int_eq(kt_cosigner_keygen("mirror.example", path, vkey, d,
	                     sizeof(d)),
	    KT_OK);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	/* Never overwritten. */
	ck_assert_int_eq(kt_cosigner_keygen("mirror.example", path, vkey2, d,
	                     sizeof(d)),
	    KT_ERR_IO);
	ck_assert_ptr_nonnull(strstr(d, "exists"));
	ck_assert_int_eq(kt_cosigner_load(path, &s, d, sizeof(d)), KT_OK);
	kt_signer_verifier(s, &v);
	ck_assert_int_eq(kt_verifier_parse(vkey, strlen(vkey), &pv), KT_OK);
	ck_assert_int_eq(pv.type, KT_KEY_COSIG);
	ck_assert_int_eq(memcmp(pv.pub, v.pub, KT_PUBKEY_LEN), 0);
	kt_signer_free(s);
	/* A key others may read is refused. */
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(kt_cosigner_load(path, &s, d, sizeof(d)), KT_ERR_PERM);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(d, "chmod 600"));
	/* Not a key. */
	snprintf(path, sizeof(path), "%s/junk", dir);
	ck_assert_int_eq(tmpdir_write_file(path, "PRIVATE+KEY+x\n", 0600), 0);
	ck_assert_int_eq(kt_cosigner_load(path, &s, d, sizeof(d)),
	    KT_ERR_MALFORMED);
	snprintf(path, sizeof(path), "%s/none", dir);
	ck_assert_int_eq(kt_cosigner_load(path, &s, d, sizeof(d)), KT_ERR_IO);
}
END_TEST

/* ---- kt_cosigner_cosign_note -------------------------------------------- */

START_TEST(test_cosigner_cosign_note)
{
	static char note[KT_NOTE_MAX], out[KT_NOTE_MAX], again[KT_NOTE_MAX];
	static struct kt_note n;
	uint8_t seed[KT_SEED_LEN], ok[2];
	uint64_t times[2];
	struct kt_signer *lg, *m = NULL;
	struct kt_verifier vs[2];
	size_t len, ol, al;

	lg = log_note(note, sizeof(note), &len);
	memset(seed, 0x22, sizeof(seed));
	ck_assert_int_eq(kt_signer_from_seed("mirror.example", KT_KEY_COSIG,
	                     seed, &m),
	    KT_OK);
	ck_assert_int_eq(kt_cosigner_cosign_note(m, note, len, NOW, out,
	                     sizeof(out), &ol),
	    KT_OK);
	ck_assert_uint_eq(strlen(out), ol);
	ck_assert_int_eq(memcmp(out, note, len), 0); /* the log's note first */
	kt_signer_verifier(lg, &vs[0]);
	kt_signer_verifier(m, &vs[1]);
	ck_assert_int_eq(kt_note_open(out, ol, vs, 2, &n, ok, times), KT_OK);
	ck_assert_int_eq(ok[0] && ok[1], 1);
	ck_assert_uint_eq(times[1], NOW);
	/* Cosigning the cosigned note again replaces our line. */
	ck_assert_int_eq(kt_cosigner_cosign_note(m, out, ol, NOW + 5, again,
	                     sizeof(again), &al),
	    KT_OK);
	ck_assert_uint_eq(al, ol);
	ck_assert_int_eq(kt_note_open(again, al, vs, 2, &n, ok, times), KT_OK);
	ck_assert_uint_eq(n.nsigs, 2);
	ck_assert_uint_eq(times[1], NOW + 5);
	/* Short buffers, a log key, a note that does not parse. */
	for (size_t cap = 0; cap < ol + 1; cap += 7)
		ck_assert_int_eq(kt_cosigner_cosign_note(m, note, len, NOW, out,
		                     cap, &ol),
		    KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_cosigner_cosign_note(lg, note, len, NOW, out,
	                     sizeof(out), &ol),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_cosigner_cosign_note(m, note, len - 1, NOW, out,
	                     sizeof(out), &ol),
	    KT_ERR_MALFORMED);
	kt_signer_free(lg);
	kt_signer_free(m);
}
END_TEST

/* ---- the store ---------------------------------------------------------- */

static const uint8_t OH[KT_HASH_LEN] = { 1, 2, 3 };

static void
put(struct kt_mstore *s, unsigned level, uint64_t index, unsigned width,
    uint8_t fill)
{
	struct kt_mstore_txn *t;
	uint8_t b[KT_TILE_WIDTH * KT_HASH_LEN];
	char d[256];

	memset(b, fill, sizeof(b));
	ck_assert_int_eq(kt_mstore_begin(s, &t, d, sizeof(d)), KT_OK);
	ck_assert_int_eq(kt_mstore_put_tile(t, OH, level, index, width, b,
	                     (size_t)width * KT_HASH_LEN, d, sizeof(d)),
	    KT_OK);
	ck_assert_int_eq(kt_mstore_commit(t, d, sizeof(d)), KT_OK);
}

static void
set_size(struct kt_mstore *s, uint64_t size)
{
	static struct kt_mstore_state st;
	struct kt_mstore_txn *t;
	char d[256];

	st.size = size;
	memset(st.root.b, (int)size, KT_HASH_LEN);
	st.note_len = (size_t)snprintf(st.note, sizeof(st.note), "note %llu\n",
	    (unsigned long long)size);
	ck_assert_int_eq(kt_mstore_begin(s, &t, d, sizeof(d)), KT_OK);
	ck_assert_int_eq(kt_mstore_put_state(t, OH, &st, d, sizeof(d)), KT_OK);
	ck_assert_int_eq(kt_mstore_commit(t, d, sizeof(d)), KT_OK);
}

/* KT_OK and the width served, or the error. */
static int
served(struct kt_mstore *s, unsigned level, uint64_t index, unsigned *w)
{
	uint8_t *b = NULL;
	size_t len = 0;
	kt_err e = kt_mstore_served_tile(s, OH, level, index, w, &b, &len);

	if (e == KT_OK)
		ck_assert_uint_eq(len, (size_t)*w * KT_HASH_LEN);
	free(b);
	return e;
}

START_TEST(test_mstore_served_tile)
{
	static struct kt_mstore_state st;
	struct kt_mstore *s = NULL;
	unsigned w = 0;
	char d[256];

	ck_assert_int_eq(kt_mstore_open(dir, 1 << 24, &s, d, sizeof(d)), KT_OK);
	ck_assert_int_eq(kt_mstore_get_state(s, OH, &st), KT_ERR_NOT_FOUND);
	ck_assert_int_eq(served(s, 0, 0, &w), KT_ERR_NOT_FOUND);
	/* Size 300: tile 0/0 full, 0/1.p/44, 1/0.p/1. Staged first. */
	put(s, 0, 0, 256, 0xa0);
	put(s, 0, 1, 44, 0xa1);
	put(s, 1, 0, 1, 0xa2);
	ck_assert_int_eq(served(s, 0, 0, &w), KT_ERR_NOT_FOUND);
	set_size(s, 300);
	ck_assert_int_eq(kt_mstore_get_state(s, OH, &st), KT_OK);
	ck_assert_uint_eq(st.size, 300);
	ck_assert_str_eq(st.note, "note 300\n");
	ck_assert_int_eq(served(s, 0, 0, &w), KT_OK);
	ck_assert_uint_eq(w, 256);
	ck_assert_int_eq(served(s, 0, 1, &w), KT_OK);
	ck_assert_uint_eq(w, 44);
	ck_assert_int_eq(served(s, 1, 0, &w), KT_OK);
	ck_assert_uint_eq(w, 1);
	ck_assert_int_eq(served(s, 0, 2, &w), KT_ERR_NOT_FOUND);
	/* A staged wider tile is not served until the size says so. */
	put(s, 0, 1, 100, 0xb1);
	ck_assert_int_eq(served(s, 0, 1, &w), KT_OK);
	ck_assert_uint_eq(w, 44);
	/* A published tile that is missing is a bug, said as such. */
	set_size(s, 600);
	ck_assert_int_eq(served(s, 0, 2, &w), KT_ERR_INTERNAL);
	kt_mstore_close(s);
}
END_TEST

START_TEST(test_mstore_purge)
{
	struct kt_mstore *s = NULL;
	uint8_t *b = NULL;
	size_t len, removed = 99;
	unsigned w;
	char d[256];

	ck_assert_int_eq(kt_mstore_open(dir, 1 << 24, &s, d, sizeof(d)), KT_OK);
	/* Published at 300 ... */
	put(s, 0, 0, 256, 1);
	put(s, 0, 1, 44, 2);
	put(s, 1, 0, 1, 3);
	set_size(s, 300);
	/* ... and staged for 700 (0/1, 0/2.p/188, 1/0.p/2). */
	put(s, 0, 1, 256, 4);
	put(s, 0, 2, 188, 5);
	put(s, 1, 0, 2, 6);
	put(s, KT_MSTORE_ENTRIES, 2, 188, 7);
	ck_assert_int_eq(kt_mstore_purge(s, OH, 300, &removed, d, sizeof(d)),
	    KT_OK);
	ck_assert_uint_eq(removed, 4);
	ck_assert_int_eq(kt_mstore_get_tile(s, OH, 0, 1, 256, &b, &len),
	    KT_ERR_NOT_FOUND);
	ck_assert_int_eq(kt_mstore_get_tile(s, OH, 1, 0, 2, &b, &len),
	    KT_ERR_NOT_FOUND);
	ck_assert_int_eq(served(s, 0, 0, &w), KT_OK);
	ck_assert_int_eq(served(s, 0, 1, &w), KT_OK);
	ck_assert_int_eq(served(s, 1, 0, &w), KT_OK);
	ck_assert_int_eq(kt_mstore_purge(s, OH, 300, &removed, d, sizeof(d)),
	    KT_OK);
	ck_assert_uint_eq(removed, 0);
	kt_mstore_close(s);
}
END_TEST

static Suite *
mirror_suite(void)
{
	Suite *s = suite_create("mirror");

	kt_test_fixture_case(s, "kt_cosigner_keygen", 0, setup, teardown,
	    test_cosigner_keygen, NULL);
	kt_test_case(s, "kt_cosigner_cosign_note", 0, test_cosigner_cosign_note,
	    NULL);
	kt_test_fixture_case(s, "kt_mstore_served_tile", 0, setup, teardown,
	    test_mstore_served_tile, NULL);
	kt_test_fixture_case(s, "kt_mstore_purge", 0, setup, teardown,
	    test_mstore_purge, NULL);
	return s;
}

int
main(void)
{
	return kt_test_run(mirror_suite());
}
