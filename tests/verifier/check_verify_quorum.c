/*
 * check_verify_quorum.c: Check units for libktverify's witness policy:
 * quorum counting and the policies, staleness and other-branch checks built
 * on it.
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
#include "verify_testlib.h"

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
	/* the log's signature is required, cosignatures do not replace it;
	 * none at all is most likely another log's key given at init */
	free(forged);
	forged = note_of(t, 5, other);
	cosign(forged, forged, w[0], 100);
	cosign(forged, forged, w[1], 100);
	ck_assert_int_eq(kt_vquorum_count(forged, strlen(forged), &vk,
	                     policy(wv, 3, 2), &q, d, sizeof(d)),
	    KT_ERR_UNKNOWN_KEY);
	ck_assert_ptr_nonnull(strstr(d, "kt-verify init --key"));
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
	                     NULL, &pol, r),
	    KT_VERIFY_ERROR);
	pol.quorum = 4;
	ck_assert_int_eq(kt_verify_init_policy(v, "http://127.0.0.1:1", vkey,
	                     NULL, &pol, r),
	    KT_VERIFY_ERROR);
	keys[3] = wk0;
	pol = (struct kt_vpolicy){ keys, 4, 2, 0 };
	ck_assert_int_eq(kt_verify_init_policy(v, "http://127.0.0.1:1", vkey,
	                     NULL, &pol, r),
	    KT_VERIFY_ERROR);
	keys[3] = vkey;
	ck_assert_int_eq(kt_verify_init_policy(v, "http://127.0.0.1:1", vkey,
	                     NULL, &pol, r),
	    KT_VERIFY_ERROR);
	ck_assert(!v->have_config);
	pol = (struct kt_vpolicy){ keys, 3, 2, 3600 };
	ck_assert_int_eq(kt_verify_init_policy(v, "http://127.0.0.1:1", vkey,
	                     NULL, &pol, r),
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
	add(t2, "forked", KT_VALUE_KEY, 1, KT_NO_PREV, 0x99, 1000);
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

static Suite *
verify_quorum_suite(void)
{
	Suite *s = suite_create("verify_quorum");
	struct {
		const char *name;
		const TTest *t;
	} tcs[] = {
		{ "kt_vquorum_count", test_quorum_count },
		{ "kt_verify_quorum_policy", test_quorum_policy },
	};

	for (size_t i = 0; i < sizeof(tcs) / sizeof(tcs[0]); i++)
		verify_add(s, tcs[i].name, tcs[i].t);
	return s;
}

int
main(void)
{
	return kt_test_run(verify_quorum_suite());
}
