/*
 * check_verify.c: Check units for libktverify: atomic state files and
 * corrupt-state errors, the rejection table for untrusted lookup responses,
 * strict base64, proof shapes, fetch protocols.
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

/* Two valid VRF public keys (ristretto255 points: 2*B and 3*B, from the
 * generator's multiples in RFC 9496 appendix A.1). */
#define VRF_PK "akkyEPdJnNF/7LUQrgzqI6EQ6NW5AfisrdMJXHOjuRk="
#define VRF_PK2 "lHQfXV1SdV7OTyPwRO4n1dHqHivRlrRiFmsWFSqdAlk="

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
	/* a VRF key that is not a valid point (the identity, all zero; a
	 * short one) is refused before anything is stored */
	ck_assert_int_eq(kt_verify_init(v, "http://127.0.0.1:1/", vkey,
	                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	                     &r),
	    KT_VERIFY_ERROR);
	ck_assert_int_eq(kt_verify_init(v, "http://127.0.0.1:1/", vkey, "AAAA",
	                     &r),
	    KT_VERIFY_ERROR);
	ck_assert(!v->have_config);
	/* without one: configured, but lookups say what is missing */
	ck_assert_int_eq(kt_verify_init(v, "http://127.0.0.1:1/", vkey, NULL,
	                     &r),
	    KT_VERIFY_OK);
	ck_assert_int_eq(kt_verify_lookup(v, "alice", 0, &r), KT_VERIFY_ERROR);
	ck_assert_ptr_nonnull(strstr(r.msg, "--vrf-key"));
	ck_assert_ptr_null(kt_verify_vrf_key(v));
	/* another log for the same state is refused */
	ck_assert_int_eq(kt_verify_init(v, "http://127.0.0.1:2", vkey, NULL,
	                     &r),
	    KT_VERIFY_ERROR);
	/* the same log: the VRF key is pinned, then kept */
	ck_assert_int_eq(kt_verify_init(v, "http://127.0.0.1:1", vkey, VRF_PK,
	                     &r),
	    KT_VERIFY_OK);
	kt_vresult_free(&r);
	kt_verify_close(v);
	ck_assert_int_eq(kt_verify_open(d, 0, &v, err, sizeof(err)), KT_OK);
	ck_assert_ptr_nonnull(kt_verify_log_key(v));
	ck_assert_ptr_nonnull(kt_verify_vrf_key(v));
	kt_vresult_init(&r);
	ck_assert_int_eq(kt_verify_init(v, "http://127.0.0.1:1", vkey, VRF_PK2,
	                     &r),
	    KT_VERIFY_ERROR);
	ck_assert_ptr_nonnull(strstr(r.msg, "new log"));
	kt_vresult_free(&r);
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

/* Lookup responses that are not JSON, not an object, have duplicate keys,
 * lack or garble their fields, or are any truncation of a well-shaped one,
 * are refused before any verification (valid proofs are decoded and
 * verified against the real kt-logd in e2e_verify_honest.sh). */
static void
check_unparseable_lookups(void)
{
	struct kt_vlookup *lk = malloc(sizeof(*lk));
	char d[512], *s;
	json_t *o;
	const char *bad[] = { "", "null", "[]", "<html>",
		"{\"label\":\"alice\",\"label\":\"alice\"}",
		"{\"label\":\"bob\",\"checkpoint_size\":3,"
		"\"lookup_proof\":\"AAAA\"}",
		"{\"label\":\"alice\",\"lookup_proof\":\"AAAA\"}",
		"{\"label\":\"alice\",\"checkpoint_size\":-1,"
		"\"lookup_proof\":\"AAAA\"}",
		"{\"label\":\"alice\",\"checkpoint_size\":3}",
		"{\"label\":\"alice\",\"checkpoint_size\":3,"
		"\"lookup_proof\":\"!!!!\"}",
		"{\"label\":\"alice\",\"checkpoint_size\":3,"
		"\"lookup_proof\":\"AAAA\"}",
		"{\"label\":\"alice\",\"checkpoint_size\":3,"
		"\"lookup_proof\":\"AAAA\",\"checkpoint\":1}" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_ne(kt_vparse_lookup(bad[i], strlen(bad[i]), 200,
		                     "alice", lk, d, sizeof(d)),
		    KT_OK);
		ck_assert_int_ne(kt_vparse_lookup(bad[i], strlen(bad[i]), 404,
		                     "alice", lk, d, sizeof(d)),
		    KT_OK);
	}
	o = json_pack("{s:s,s:i,s:s,s:s}", "label", "alice", "checkpoint_size",
	    3, "lookup_proof", "AAAA", "checkpoint", "x\n");
	s = json_dumps(o, JSON_COMPACT);
	for (size_t len = 0; len <= strlen(s); len++)
		ck_assert_int_ne(kt_vparse_lookup(s, len, 200, "alice", lk, d,
		                     sizeof(d)),
		    KT_OK);
	free(s);
	json_decref(o);
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
	/* No line of the log key (another key of the same name): the
	 * client was most likely given another log's key; it is told to
	 * check the key given at init. */
	s = note_of(t, t->n, other);
	ck_assert_int_eq(kt_vcheck_checkpoint(s, strlen(s), &vk, &sc, d,
	                     sizeof(d)),
	    KT_ERR_UNKNOWN_KEY);
	ck_assert_ptr_nonnull(strstr(d, "not signed by the log key"));
	ck_assert_ptr_nonnull(strstr(d, "kt-verify init --key"));
	free(s);
	/* The log key's own line with one signature byte changed: forged or
	 * damaged on the way, not a wrong key. The change is in the middle
	 * of the base64 (the last characters carry padding), so it stays
	 * canonical. */
	s = note_of(t, t->n, signer);
	tl = strlen(s);
	s[tl - 10] = s[tl - 10] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(kt_vcheck_checkpoint(s, tl, &vk, &sc, d, sizeof(d)),
	    KT_ERR_VERIFY);
	ck_assert_ptr_nonnull(strstr(d, "does not verify"));
	ck_assert_ptr_null(strstr(d, "init --key"));
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
	char *note;

	fill(t, 7);
	note = note_of(t, t->n, signer);
	check_unparseable_lookups();
	check_checkpoint_steps(t, note);
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
		{ "kt_inclusion_len", test_inclusion_len },
		{ "kt_b64_decode", test_vb64_decode },
		{ "kt_fetch_get", test_fetch_protocols },
	};

	for (size_t i = 0; i < sizeof(tcs) / sizeof(tcs[0]); i++)
		verify_add(s, tcs[i].name, tcs[i].t);
	return s;
}

int
main(void)
{
	return kt_test_run(verify_suite());
}
