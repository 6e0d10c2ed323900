/*
 * check_witness.c: units of the kt-witness logic (verifier/witness/witness.c)
 * against C2SP tlog-witness: opening, then every status path of
 * add-checkpoint, replays, old-size-0 discovery, consistency proofs from
 * in-memory trees, and the documented example. Serving, restart and
 * concurrency are check_witness_state.c.
 *
 * Test checkpoints are signed with proto; consistency proofs come from
 * kt_merkle_consistency_proof over a wt_tree (the fixture is
 * witness_fixture.h).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "harness/runner.h"
#include "witness.h"
#include "witness_fixture.h"
#include "witness_testlib.h"

/* ---- kt_witness_open ---------------------------------------------------- */

START_TEST(test_open_rejects)
{
	struct kt_verifier logs[1];
	struct kt_witness *w2 = (struct kt_witness *)1;
	char detail[256];

	kt_signer_verifier(log_a, &logs[0]);
	ck_assert_int_eq(kt_witness_open(dir, wit, logs, 0, &w2, detail,
	                     sizeof(detail)),
	    KT_ERR_RANGE);
	ck_assert_ptr_null(w2);
	/* A note-signing key cannot be a witness key... */
	ck_assert_int_eq(kt_witness_open(dir, log_a, logs, 1, &w2, detail,
	                     sizeof(detail)),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_null(w2);
	/* ...and a cosignature key is not a log key. */
	logs[0] = wit_v;
	ck_assert_int_eq(kt_witness_open(dir, wit, logs, 1, &w2, detail,
	                     sizeof(detail)),
	    KT_ERR_MALFORMED);
	kt_signer_verifier(log_a, &logs[0]);
	ck_assert_int_eq(kt_witness_open("/nonexistent/kt-witness", wit, logs,
	                     1, &w2, detail, sizeof(detail)),
	    KT_ERR_IO);
	ck_assert_ptr_null(w2);
	ck_assert_ptr_nonnull(strstr(detail, "lmdb"));
}
END_TEST

/* ---- kt_witness_add_checkpoint: 200 ------------------------------------- */

START_TEST(test_first_checkpoint)
{
	char note[4096];
	size_t nl = wt_checkpoint_note(log_a, &ta, 5, note, sizeof(note));
	size_t len = wt_body(0, NULL, note, nl, body, sizeof(body));
	uint64_t ts = 0;

	ck_assert_int_eq(submit(len, NOW), KT_OK);
	ck_assert_uint_eq(ans.cosig_len, strlen(ans.cosig));
	/* One tlog-cosignature line by the witness key, at NOW. */
	ck_assert_int_eq(memcmp(ans.cosig, "\xe2\x80\x94 witness.example/w1 ",
	                     4 + 19),
	    0);
	ck_assert_int_eq(ans.cosig[ans.cosig_len - 1], '\n');
	ck_assert(wt_cosig_ok(&wit_v, note, nl, ans.cosig, ans.cosig_len, &ts));
	ck_assert_uint_eq(ts, NOW);
	/* Not over any other checkpoint. */
	nl = wt_checkpoint_note(log_a, &ta, 6, note, sizeof(note));
	ck_assert(
	    !wt_cosig_ok(&wit_v, note, nl, ans.cosig, ans.cosig_len, NULL));
	ck_assert_uint_eq(probe_a(), 5);
}
END_TEST

START_TEST(test_grow_with_proofs)
{
	uint64_t sizes[] = { 1, 2, 3, 4, 7, 8, 9, 16, 17, 31, 32, 33, 64 };
	uint64_t old = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cosign_a(old, sizes[i]);
		old = sizes[i];
	}
	ck_assert_uint_eq(probe_a(), 64);
}
END_TEST

START_TEST(test_second_key_and_origin)
{
	/* A checkpoint signed only by the log's second trusted key. */
	size_t len = wt_body_for(log_a2, &ta, 0, 3, body, sizeof(body));

	ck_assert_msg(submit(len, NOW) == KT_OK, "%s", ans.detail);
	/* Logs are independent: log B starts at 0. */
	len = wt_body_for(log_b, &tb, 0, 9, body, sizeof(body));
	ck_assert_msg(submit(len, NOW) == KT_OK, "%s", ans.detail);
	ck_assert_uint_eq(probe_a(), 3);
}
END_TEST

START_TEST(test_replay_same_checkpoint)
{
	char note[4096];
	size_t nl, len;
	uint64_t ts = 0;

	cosign_a(0, 10);
	/* Same size and root again (old == size, empty proof): re-cosigned
	 * with the new time. */
	nl = wt_checkpoint_note(log_a, &ta, 10, note, sizeof(note));
	len = wt_body(10, NULL, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW + 60), KT_OK);
	ck_assert(wt_cosig_ok(&wit_v, note, nl, ans.cosig, ans.cosig_len, &ts));
	ck_assert_uint_eq(ts, NOW + 60);
	ck_assert_uint_eq(probe_a(), 10);
}
END_TEST

/* ---- 409 ---------------------------------------------------------------- */

START_TEST(test_conflict_discovery)
{
	size_t len;

	/* Old 0 to learn the size, then follow the answer. */
	cosign_a(0, 7);
	len = wt_body_for(log_a, &ta, 0, 12, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_CONFLICT);
	ck_assert_uint_eq(ans.latest_size, 7);
	ck_assert_uint_eq(ans.cosig_len, 0);
	ck_assert_str_eq(ans.cosig, "");
	/* A wrong, non-zero old size (with a proof that would be right for
	 * it) is also 409. */
	len = wt_body_for(log_a, &ta, 5, 12, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_CONFLICT);
	ck_assert_uint_eq(ans.latest_size, 7);
	len = wt_body_for(log_a, &ta, ans.latest_size, 12, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_OK);
	/* A replay of an older checkpoint claims an old size the witness is
	 * past: 409, never a rollback. */
	len = wt_body_for(log_a, &ta, 7, 7, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_CONFLICT);
	ck_assert_uint_eq(ans.latest_size, 12);
	ck_assert_uint_eq(probe_a(), 12);
}
END_TEST

/* ---- 400 ---------------------------------------------------------------- */

START_TEST(test_old_larger_than_size)
{
	char note[4096];
	size_t nl, len;

	cosign_a(0, 12);
	/* A replayed older checkpoint sent with the witness's size. */
	nl = wt_checkpoint_note(log_a, &ta, 7, note, sizeof(note));
	len = wt_body(12, NULL, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(ans.detail, "larger"));
	ck_assert_uint_eq(probe_a(), 12);
}
END_TEST

START_TEST(test_malformed_bodies)
{
	static const char *bad[] = {
		"",
		"old",
		"old \n\n",
		"old 5",
		"old 5\n",
		"OLD 0\n\n",
		"old 05\n\n",
		"old -1\n\n",
		"old +1\n\n",
		"old 1 \n\n",
		"old  1\n\n",
		"old 0\r\n\r\n",
		"old 18446744073709551616\n\n",
		"old 99999999999999999999999\n\n",
		"old 0\n\n",
		"old 0\nnot base64\n\n",
		/* 43 and 45 characters */
		"old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\n",
		"old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\n",
		/* non-canonical: padding bits set */
		"old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\n",
		/* URL-safe alphabet */
		"old 0\n____________________________________________\n\n",
		"old 0\n\nnot a note\n",
		"old 0\n\nexample.com/log-a\n5\n\n",
	};
	char note[4096];
	size_t nl, len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(body, bad[i], strlen(bad[i]));
		ck_assert_msg(submit(strlen(bad[i]), NOW) == KT_ERR_MALFORMED,
		    "case %zu", i);
		ck_assert(ans.detail[0] != '\0');
		ck_assert_uint_eq(ans.cosig_len, 0);
	}

	/* A valid body with the checkpoint's text broken (size "05"). */
	nl = wt_checkpoint_note(log_a, &ta, 5, note, sizeof(note));
	len = wt_body(0, NULL, note, nl, body, sizeof(body));
	{
		char *p = strstr(body, "\n5\n");

		ck_assert_ptr_nonnull(p);
		p[1] = 'x';
		ck_assert_int_eq(submit(len, NOW), KT_ERR_MALFORMED);
	}

	/* Every strict prefix of a valid body is rejected, never crashes. */
	len = wt_body_for(log_a, &ta, 0, 5, body, sizeof(body));
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_msg(submit(cut, NOW) == KT_ERR_MALFORMED,
		    "prefix %zu of %zu", cut, len);
	/* A NUL byte anywhere in the body is rejected. */
	for (size_t i = 0; i < len; i += 7) {
		char saved = body[i];

		body[i] = '\0';
		ck_assert_msg(submit(len, NOW) != KT_OK, "NUL at %zu", i);
		body[i] = saved;
	}
	ck_assert_int_eq(submit(len, NOW), KT_OK);
}
END_TEST

/*
 * libsodium 1.0.18 decodes bytes 0x80..0xff as '/': a proof line with a
 * high byte in place of a '/' was a second spelling of the same proof and
 * was cosigned. kt_b64_decode rejects it.
 */
START_TEST(test_proof_line_high_byte)
{
	size_t tried = 0;
	uint64_t old = 1;

	cosign_a(0, old);
	for (uint64_t size = 2; size <= 64 && tried < 3; size++) {
		size_t len =
		    wt_body_for(log_a, &ta, old, size, body, sizeof(body));
		char *proof = (char *)memchr(body, '\n', len) + 1;
		char *end = strstr(proof, "\n\n");
		char *slash;

		ck_assert_ptr_nonnull(end);
		slash = memchr(proof, '/', (size_t)(end - proof));
		if (slash == NULL)
			continue;
		*slash = (char)0x80;
		ck_assert_int_eq(submit(len, NOW), KT_ERR_MALFORMED);
		*slash = (char)0xff;
		ck_assert_int_eq(submit(len, NOW), KT_ERR_MALFORMED);
		*slash = '/';
		ck_assert_msg(submit(len, NOW) == KT_OK, "%s", ans.detail);
		old = size;
		tried++;
	}
	ck_assert_uint_gt(tried, 0);
}
END_TEST

START_TEST(test_proof_line_count)
{
	char note[4096];
	struct kt_proof p;
	size_t nl, len;

	/* 64 proof lines: malformed whatever they hold. */
	memset(&p, 0, sizeof(p));
	p.n = 64;
	nl = wt_checkpoint_note(log_a, &ta, 5, note, sizeof(note));
	len = wt_body(1, &p, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_MALFORMED);
	ck_assert_ptr_nonnull(strstr(ans.detail, "63"));
	/* 63 lines parse; here they are a wrong proof (422 after 409). */
	cosign_a(0, 1);
	p.n = 63;
	len = wt_body(1, &p, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
}
END_TEST

START_TEST(test_too_large)
{
	memset(body, 'a', sizeof(body));
	ck_assert_int_eq(kt_witness_add_checkpoint(w, body,
	                     KT_WITNESS_BODY_MAX + 1, NOW, &ans),
	    KT_ERR_TOO_LARGE);
}
END_TEST

/* ---- 404 and 403 -------------------------------------------------------- */

START_TEST(test_unknown_origin)
{
	struct kt_signer *other =
	    wt_signer("example.com/other", KT_KEY_ED25519, 0xc1);
	size_t len = wt_body_for(other, &ta, 0, 3, body, sizeof(body));

	ck_assert_int_eq(submit(len, NOW), KT_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(ans.detail, "example.com/other"));
	kt_signer_free(other);
}
END_TEST

START_TEST(test_untrusted_signature)
{
	/* Right origin, wrong key: no trusted signature. */
	struct kt_signer *imp = wt_signer(ORIGIN_A, KT_KEY_ED25519, 0xee);
	size_t len = wt_body_for(imp, &ta, 0, 3, body, sizeof(body));

	ck_assert_int_eq(submit(len, NOW), KT_ERR_UNKNOWN_KEY);
	kt_signer_free(imp);
	/* A witness cosignature is not a log signature either. */
	{
		char text[KT_CHECKPOINT_TEXT_MAX], line[512];
		struct kt_hash root;
		size_t tl, ll, n;

		wt_root(&ta, 3, &root);
		tl = wt_checkpoint_text(ORIGIN_A, 3, &root, text, sizeof(text));
		ck_assert_int_eq(kt_cosig_sign(wit, text, tl, NOW, line,
		                     sizeof(line), &ll),
		    KT_OK);
		n = (size_t)snprintf(body, sizeof(body), "old 0\n\n%s\n%s",
		    text, line);
		ck_assert_int_eq(submit(n, NOW), KT_ERR_UNKNOWN_KEY);
	}
	ck_assert_int_eq(submit(wt_body_for(log_a, &ta, 0, 3, body,
	                            sizeof(body)),
	                     NOW),
	    KT_OK);
}
END_TEST

START_TEST(test_bad_known_signature)
{
	char good[4096], other[4096], note[8192];
	size_t gl, ol, len;
	const char *gsig, *osig;

	/* Splice log A's signature over size 4 onto the text of size 3: a
	 * known key's signature that fails. */
	gl = wt_checkpoint_note(log_a, &ta, 3, good, sizeof(good));
	ol = wt_checkpoint_note(log_a, &ta, 4, other, sizeof(other));
	gsig = strstr(good, "\n\n") + 2;
	osig = strstr(other, "\n\n") + 2;
	len = (size_t)(gsig - good);
	memcpy(note, good, len);
	memcpy(note + len, osig, (size_t)(other + ol - osig));
	len += (size_t)(other + ol - osig);
	len = wt_body(0, NULL, note, len, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_PERM);

	/* A valid signature by one trusted key does not excuse a bad one by
	 * another (signed-note: reject when a known key's signature fails).
	 * Key a2's line, copied from its note over size 4, follows key a's
	 * good line. */
	ol = wt_checkpoint_note(log_a2, &ta, 4, other, sizeof(other));
	osig = strstr(other, "\n\n") + 2;
	memcpy(note, good, gl);
	memcpy(note + gl, osig, (size_t)(other + ol - osig));
	len = wt_body(0, NULL, note, gl + (size_t)(other + ol - osig), body,
	    sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_PERM);

	/* Every single-character change of the signature is refused. */
	len = wt_body(0, NULL, good, gl, body, sizeof(body));
	{
		char *sig = strstr(body, ORIGIN_A " ") + strlen(ORIGIN_A) + 1;
		size_t sl = strlen(sig) - 1;

		for (size_t i = 0; i < sl; i++) {
			char saved = sig[i];

			sig[i] = saved == 'A' ? 'B' : 'A';
			ck_assert_msg(submit(len, NOW) != KT_OK, "sig[%zu]", i);
			sig[i] = saved;
		}
	}
	/* Nothing was cosigned: a fresh probe is accepted. */
	ck_assert_int_eq(submit(len, NOW), KT_OK);
}
END_TEST

START_TEST(test_unknown_lines_ignored)
{
	char note[4096], junk[8192], got[KT_WITNESS_NOTE_MAX];
	struct kt_signer *other =
	    wt_signer("example.com/other", KT_KEY_ED25519, 0xc1);
	uint8_t hash[KT_HASH_LEN];
	size_t nl, ol, len, gl;
	const char *osig;

	/* The log's note plus an unknown key's line: accepted, and the
	 * unknown line is not kept for gossip. */
	nl = wt_checkpoint_note(log_a, &ta, 6, note, sizeof(note));
	ol = wt_checkpoint_note(other, &ta, 6, junk, sizeof(junk));
	osig = strstr(junk, "\n\n") + 2;
	memmove(junk, osig, (size_t)(junk + ol - osig));
	ol = (size_t)(junk + ol - osig);
	memcpy(note + nl, junk, ol);
	len = wt_body(0, NULL, note, nl + ol, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_OK);
	crypto_hash_sha256(hash, (const uint8_t *)ORIGIN_A, strlen(ORIGIN_A));
	ck_assert_int_eq(kt_witness_get_checkpoint(w, hash, got, sizeof(got),
	                     &gl),
	    KT_OK);
	ck_assert_uint_eq(gl, nl + ans.cosig_len);
	ck_assert_int_eq(memcmp(got, note, nl), 0);
	ck_assert_int_eq(memcmp(got + nl, ans.cosig, ans.cosig_len), 0);
	kt_signer_free(other);
}
END_TEST

/* ---- 422 ---------------------------------------------------------------- */

START_TEST(test_bad_proofs)
{
	char note[4096];
	struct kt_proof p;
	size_t nl, len;

	cosign_a(0, 13);
	wt_proof(&ta, 13, 40, &p);
	nl = wt_checkpoint_note(log_a, &ta, 40, note, sizeof(note));
	ck_assert_uint_gt(p.n, 1);
	/* Every bit of every proof hash matters (one bit per byte). */
	for (size_t i = 0; i < p.n; i++)
		for (size_t j = 0; j < KT_HASH_LEN; j++) {
			p.h[i].b[j] ^= (uint8_t)(1u << (j % 8));
			len = wt_body(13, &p, note, nl, body, sizeof(body));
			ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
			p.h[i].b[j] ^= (uint8_t)(1u << (j % 8));
		}
	/* Truncated, extended and reordered proofs. */
	p.n--;
	len = wt_body(13, &p, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
	p.n++;
	p.h[p.n] = p.h[0];
	p.n++;
	len = wt_body(13, &p, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
	p.n--;
	{
		struct kt_hash t = p.h[0];

		p.h[0] = p.h[1];
		p.h[1] = t;
		len = wt_body(13, &p, note, nl, body, sizeof(body));
		ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
		p.h[1] = p.h[0];
		p.h[0] = t;
	}
	/* An empty proof for a growing tree. */
	len = wt_body(13, NULL, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
	ck_assert_ptr_nonnull(strstr(ans.detail, "consistency"));
	/* The untouched proof still works: nothing was changed. */
	ck_assert_uint_eq(probe_a(), 13);
	len = wt_body(13, &p, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_OK);
}
END_TEST

START_TEST(test_fork_refused)
{
	size_t len;

	/* Witness at A[8]; B shares only 5 leaves: any B checkpoint past 5
	 * is inconsistent, whatever proof comes with it. */
	cosign_a(0, 8);
	len = wt_body_for(log_a, &tb, 8, 20, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
	/* Same size, different root: 422 (older spec versions said 409). */
	len = wt_body_for(log_a, &tb, 8, 8, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
	ck_assert_ptr_nonnull(strstr(ans.detail, "different root"));
	/* Same size, same root, but with a (junk) proof: 422. */
	{
		char note[4096];
		struct kt_proof p;
		size_t nl =
		    wt_checkpoint_note(log_a, &ta, 8, note, sizeof(note));

		wt_proof(&ta, 4, 8, &p);
		len = wt_body(8, &p, note, nl, body, sizeof(body));
		ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
	}
	ck_assert_uint_eq(probe_a(), 8);
}
END_TEST

START_TEST(test_old_zero_with_proof)
{
	char note[4096];
	struct kt_proof p;
	size_t nl, len;

	/* Fresh witness, old 0 (correct), but a proof: 422. */
	wt_proof(&ta, 3, 9, &p);
	nl = wt_checkpoint_note(log_a, &ta, 9, note, sizeof(note));
	len = wt_body(0, &p, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
	ck_assert_ptr_nonnull(strstr(ans.detail, "empty"));
	/* With state, old 0 is answered 409 first. */
	cosign_a(0, 2);
	len = wt_body(0, &p, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_CONFLICT);
	ck_assert_uint_eq(ans.latest_size, 2);
}
END_TEST

START_TEST(test_size_zero)
{
	char text[KT_CHECKPOINT_TEXT_MAX], note[4096];
	struct kt_hash root;
	size_t tl, nl, len;

	/* A size-0 checkpoint must carry H(""). */
	wt_root(&ta, 1, &root);
	tl = wt_checkpoint_text(ORIGIN_A, 0, &root, text, sizeof(text));
	ck_assert_int_eq(kt_note_sign(log_a, text, tl, note, sizeof(note), &nl),
	    KT_OK);
	len = wt_body(0, NULL, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
	ck_assert_ptr_nonnull(strstr(ans.detail, "empty tree"));

	kt_hash_empty(&root);
	tl = wt_checkpoint_text(ORIGIN_A, 0, &root, text, sizeof(text));
	ck_assert_int_eq(kt_note_sign(log_a, text, tl, note, sizeof(note), &nl),
	    KT_OK);
	len = wt_body(0, NULL, note, nl, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_OK);
	/* Again (replay of size 0) and then growth from 0. */
	ck_assert_int_eq(submit(len, NOW), KT_OK);
	cosign_a(0, 4);
	ck_assert_uint_eq(probe_a(), 4);
}
END_TEST

/* ---- the documented example --------------------------------------------- */

/*
 * The cosigned checkpoint shown in docs/witness.md: fixed keys, fixed time.
 * With KT_WITNESS_EXAMPLE=<file> it is also written out (with the keys).
 */
START_TEST(test_doc_example)
{
	struct kt_signer *dlog =
	    wt_signer("example.com/kt-log", KT_KEY_ED25519, 0x11);
	struct kt_signer *dwit =
	    wt_signer("witness.example/w1", KT_KEY_COSIG, 0x22);
	struct kt_verifier lv, wv;
	struct kt_witness *dw = NULL;
	struct wt_tree t;
	char note[4096], full[8192], lk[KT_KEY_TEXT_MAX], wk[KT_KEY_TEXT_MAX];
	char ddir[96], detail[256];
	size_t nl, len;
	const char *out = getenv("KT_WITNESS_EXAMPLE");

	snprintf(ddir, sizeof(ddir), "%s/doc", dir);
	ck_assert_int_eq(mkdir(ddir, 0700), 0);
	kt_signer_verifier(dlog, &lv);
	kt_signer_verifier(dwit, &wv);
	ck_assert_int_eq(kt_witness_open(ddir, dwit, &lv, 1, &dw, detail,
	                     sizeof(detail)),
	    KT_OK);
	wt_tree_init(&t, 3, 1, 3);
	nl = wt_checkpoint_note(dlog, &t, 3, note, sizeof(note));
	len = wt_body(0, NULL, note, nl, body, sizeof(body));
	ck_assert_int_eq(kt_witness_add_checkpoint(dw, body, len, NOW, &ans),
	    KT_OK);
	ck_assert(wt_cosig_ok(&wv, note, nl, ans.cosig, ans.cosig_len, NULL));
	snprintf(full, sizeof(full), "%.*s%s", (int)nl, note, ans.cosig);
	wt_verifier_string(dlog, lk);
	wt_verifier_string(dwit, wk);
	/*
	 * Known answer, shown byte by byte in docs/witness.md (Ed25519 is
	 * deterministic). Both signatures were also checked with Python's
	 * `cryptography` Ed25519, independently of proto.
	 */
	ck_assert_str_eq(lk,
	    "example.com/kt-log+16933aa5+"
	    "AdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3");
	ck_assert_str_eq(wk,
	    "witness.example/w1+e0cd2864+"
	    "BKCapfR6Z1mAL/lV+NwtKhSlyZ0jvpf4ZBJ/+Tg0VaTw");
	ck_assert_str_eq(full,
	    "example.com/kt-log\n"
	    "3\n"
	    "Yvz0LcPHTj/pTkwZZVNRbNVGgZNd4ka54VdUe0fwYJU=\n"
	    "\n"
	    "\xe2\x80\x94 example.com/kt-log FpM6pfch0hHEAGBV6xiN52+DmyuSy3x"
	    "gpCGtrxgxJkZ81OqQstwKgEmltUcrcPNczNiNpwU+4siAKHrioR+enm7LGwc=\n"
	    "\xe2\x80\x94 witness.example/w1 4M0oZAAAAABpJkMA8LOZrDk/+T1anHM"
	    "LzpuqtbGA75CmAJZPkR2Zf/kmHrb/ezXQ1FGLG96AfoEYAkRs5POffZvdUTi1B6"
	    "IJWm8lCA==\n");
	if (out != NULL) {
		FILE *f = fopen(out, "w");

		ck_assert_ptr_nonnull(f);
		fprintf(f,
		    "log key: %s\nwitness key: %s\nbody:\n%s\n"
		    "response:\n%s\ncosigned:\n%s",
		    lk, wk, body, ans.cosig, full);
		fclose(f);
	}
	wt_tree_free(&t);
	kt_witness_close(dw);
	kt_signer_free(dlog);
	kt_signer_free(dwit);
}
END_TEST

static Suite *
witness_suite(void)
{
	Suite *s = suite_create("witness");
	TCase *tc;

#define TC(name, ...) \
	do { \
		tc = tcase_create(name); \
		tcase_add_checked_fixture(tc, setup, teardown); \
		tcase_set_timeout(tc, 120); \
		__VA_ARGS__ \
		suite_add_tcase(s, tc); \
	} while (0)

	TC("kt_witness_open", tcase_add_test(tc, test_open_rejects););
	TC("kt_witness_add_checkpoint",
	    tcase_add_test(tc, test_first_checkpoint);
	    tcase_add_test(tc, test_grow_with_proofs);
	    tcase_add_test(tc, test_second_key_and_origin);
	    tcase_add_test(tc, test_replay_same_checkpoint);
	    tcase_add_test(tc, test_conflict_discovery);
	    tcase_add_test(tc, test_old_larger_than_size);
	    tcase_add_test(tc, test_malformed_bodies);
	    tcase_add_test(tc, test_proof_line_count);
	    tcase_add_test(tc, test_proof_line_high_byte);
	    tcase_add_test(tc, test_too_large);
	    tcase_add_test(tc, test_unknown_origin);
	    tcase_add_test(tc, test_untrusted_signature);
	    tcase_add_test(tc, test_bad_known_signature);
	    tcase_add_test(tc, test_unknown_lines_ignored);
	    tcase_add_test(tc, test_bad_proofs);
	    tcase_add_test(tc, test_fork_refused);
	    tcase_add_test(tc, test_old_zero_with_proof);
	    tcase_add_test(tc, test_size_zero);
	    tcase_add_test(tc, test_doc_example););
#undef TC
	return s;
}

int
main(void)
{
	return kt_test_run(witness_suite());
}
