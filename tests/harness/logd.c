/* logd.c: see logd.h. */
#include "harness/logd.h"

#include <check.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/proc.h"
#include "harness/tmpdir.h"

#define LISTEN_AT " listen=127.0.0.1:"

int
logd_run(const char *const *args, char *out, size_t outcap, char *err,
    size_t errcap)
{
	const char *argv[32];
	size_t n = 0;

	argv[n++] = proc_bin("KT_LOGD", "kt-logd");
	for (; args[n - 1] != NULL && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	return proc_run(argv, out, outcap, err, errcap, 30);
}

/* keygen: the key file, and the verifier key it prints last. */
static int
make_key(struct logd *s)
{
	const char *a[] = { "keygen", "--origin", s->origin, "--out", s->key,
		NULL };
	char out[2048], err[2048];

	if (logd_run(a, out, sizeof out, err, sizeof err) != 0) {
		fprintf(stderr, "keygen failed: %s\n", err);
		return -1;
	}
	snprintf(s->vkey, sizeof s->vkey, "%.399s", proc_last_line(out));
	if (kt_verifier_parse(s->vkey, strlen(s->vkey), &s->v) != KT_OK) {
		fprintf(stderr, "bad verifier key '%s'\n", s->vkey);
		return -1;
	}
	return 0;
}

/* token: the token for s->token, its hash line into the tokens file. */
static int
make_token(struct logd *s)
{
	const char *a[] = { "token", NULL };
	char out[2048], line2[128];

	if (logd_run(a, out, sizeof out, NULL, 0) != 0 ||
	    sscanf(out, "%127s %126s", s->token, line2) != 2)
		return -1;
	strcat(line2, "\n");
	return tmpdir_write_file(s->tokens, line2, 0600);
}

int
logd_setup(struct logd *s, const char *config_text)
{
	static unsigned seq;

	memset(s, 0, sizeof *s);
	if (tmpdir_make("kt-e2e", s->dir, sizeof s->dir) != 0)
		return -1;
	snprintf(s->data, sizeof s->data, "%s/data", s->dir);
	snprintf(s->key, sizeof s->key, "%s/log.key", s->dir);
	snprintf(s->tokens, sizeof s->tokens, "%s/tokens", s->dir);
	snprintf(s->conf, sizeof s->conf, "%s/kt-logd.conf", s->dir);
	snprintf(s->log, sizeof s->log, "%s/stderr.log", s->dir);
	snprintf(s->origin, sizeof s->origin, "e2e.example/log%u-%d", seq++,
	    (int)getpid());
	if (make_key(s) != 0 || make_token(s) != 0)
		return -1;
	return tmpdir_write_file(s->conf, config_text ? config_text : "", 0600);
}

/* The VRF public key from /v1/log into s (have_vrf_pk says if it came). */
static void
read_vrf_pk(struct logd *s)
{
	struct http_resp r;
	json_t *j = NULL, *v;

	s->have_vrf_pk = 0;
	if (logd_get(s, "/v1/log", &r) == 200 &&
	    (j = json_loads(r.body, 0, NULL)) != NULL &&
	    json_is_string(v = json_object_get(j, "vrf_public_key")) &&
	    logd_b64(json_string_value(v), s->vrf_pk, sizeof s->vrf_pk) ==
	        KT_VRF_PUBLIC_LEN)
		s->have_vrf_pk = 1;
	json_decref(j);
	http_resp_free(&r);
}

int
logd_start(struct logd *s, const char *const *extra)
{
	const char *argv[32];
	char line[1024], url[128];
	size_t n = 0;
	const char *p;

	argv[n++] = proc_bin("KT_LOGD", "kt-logd");
	argv[n++] = "serve";
	argv[n++] = "--data";
	argv[n++] = s->data;
	argv[n++] = "--key";
	argv[n++] = s->key;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	if (extra == NULL) {
		argv[n++] = "--tokens";
		argv[n++] = s->tokens;
		argv[n++] = "--config";
		argv[n++] = s->conf;
	} else {
		for (size_t i = 0; extra[i] != NULL && n < 30; i++)
			argv[n++] = extra[i];
	}
	argv[n] = NULL;
	/* The start-up line: kt-logd: origin=.. vkey=.. listen=H:P size=N */
	s->pid = proc_start(argv, s->log, NULL, line, sizeof line, 20);
	p = strstr(line, LISTEN_AT);
	if (s->pid <= 0 || p == NULL || strstr(line, s->vkey) == NULL) {
		fprintf(stderr, "kt-logd did not start (line '%s'); see %s\n",
		    line, s->log);
		logd_kill9(s);
		return -1;
	}
	snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d",
	    atoi(p + strlen(LISTEN_AT)));
	p = strstr(line, " size=");
	s->startup_size = p ? (unsigned)atoi(p + 6) : 0;
	snprintf(url, sizeof url, "%s/healthz", s->url);
	if (http_wait(url, 200, 20000) != 0) {
		logd_kill9(s);
		return -1;
	}
	read_vrf_pk(s);
	return 0;
}

int
logd_stop(struct logd *s)
{
	int st = proc_stop(s->pid, 10);

	s->pid = 0;
	return st;
}

void
logd_kill9(struct logd *s)
{
	if (s->pid > 0)
		proc_kill(s->pid);
	s->pid = 0;
}

void
logd_cleanup(struct logd *s)
{
	if (s->pid > 0)
		logd_stop(s);
	if (s->dir[0] != '\0' && getenv("KT_E2E_KEEP") == NULL)
		(void)tmpdir_remove(s->dir);
	s->dir[0] = '\0';
}

void
logd_up(struct logd *s, const char *config_text)
{
	ck_assert_int_eq(logd_setup(s, config_text), 0);
	ck_assert_int_eq(logd_start(s, NULL), 0);
}

void
logd_down(struct logd *s)
{
	int st = logd_stop(s);

	logd_cleanup(s);
	ck_assert_msg(st == 0 || st == -1, "kt-logd exited with %d", st);
}

/* ---- asking it ---------------------------------------------------------- */

long
logd_get(struct logd *s, const char *path, struct http_resp *r)
{
	char url[4096];

	snprintf(url, sizeof url, "%s%s", s->url, path);
	return http_get(url, r);
}

long
logd_post(struct logd *s, const char *path, const char *json,
    struct http_resp *r)
{
	char url[4096];

	snprintf(url, sizeof url, "%s%s", s->url, path);
	(void)http_request(NULL, "POST", url, s->token, NULL, json,
	    strlen(json), r);
	return r->status;
}

uint64_t
logd_size(struct logd *s)
{
	struct http_resp r;
	uint64_t size = UINT64_MAX;
	json_t *j;

	if (logd_get(s, "/healthz", &r) == 200 &&
	    (j = json_loads(r.body, 0, NULL)) != NULL) {
		json_t *v = json_object_get(j, "size");

		if (json_is_integer(v))
			size = (uint64_t)json_integer_value(v);
		json_decref(j);
	}
	http_resp_free(&r);
	return size;
}

uint64_t
logd_count_updates(struct logd *s, uint64_t size)
{
	uint64_t n = 0, page = 1000;

	for (uint64_t start = 0; start < size;) {
		uint64_t end = start + page < size ? start + page : size;
		struct http_resp r;
		char path[128];
		json_t *j = NULL, *arr;
		long st;

		snprintf(path, sizeof path, "/v1/entries?start=%llu&end=%llu",
		    (unsigned long long)start, (unsigned long long)end);
		st = logd_get(s, path, &r);
		if (st == 400 && page > 1) {
			/* A log with a smaller page_size: smaller pages. */
			http_resp_free(&r);
			page = page > 10 ? page / 10 : 1;
			continue;
		}
		if (st == 200)
			j = json_loads(r.body, 0, NULL);
		http_resp_free(&r);
		arr = json_object_get(j, "entries");
		if (json_array_size(arr) != end - start) {
			json_decref(j);
			return UINT64_MAX;
		}
		for (size_t i = 0; i < end - start; i++) {
			uint8_t leaf[128];
			const char *b =
			    json_string_value(json_array_get(arr, i));

			if (b != NULL && logd_b64(b, leaf, sizeof leaf) > 0 &&
			    leaf[0] == 0x03)
				n++;
		}
		json_decref(j);
		start = end;
	}
	return n;
}

/* ---- checking its answers ----------------------------------------------- */

int
logd_open_checkpoint(const struct logd *s, const char *note, size_t len,
    struct kt_checkpoint *cp)
{
	struct kt_note n;
	uint8_t ok[1];

	if (kt_note_open(note, len, &s->v, 1, &n, ok, NULL) != KT_OK || !ok[0])
		return -1;
	if (kt_checkpoint_parse(n.text, n.text_len, cp) != KT_OK)
		return -1;
	if (strcmp(cp->origin, s->origin) != 0)
		return -1;
	return 0;
}

long
logd_b64(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (sodium_base642bin(out, cap, s, strlen(s), NULL, &n, NULL,
	        sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (long)n;
}

int
logd_check_inclusion(const char *entry_b64, uint64_t index, json_t *proof,
    const struct kt_checkpoint *cp)
{
	uint8_t ent[8192];
	struct kt_hash leaf, hs[KT_MAX_PROOF];
	json_t *hashes = json_object_get(proof, "hashes");
	long el = logd_b64(entry_b64, ent, sizeof ent);
	size_t n;

	if (el < 0 || !json_is_array(hashes))
		return -1;
	if ((uint64_t)json_integer_value(json_object_get(proof, "index")) !=
	        index ||
	    (uint64_t)json_integer_value(json_object_get(proof, "size")) !=
	        cp->size)
		return -1;
	n = json_array_size(hashes);
	if (n > KT_MAX_PROOF)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (logd_b64(json_string_value(json_array_get(hashes, i)),
		        hs[i].b, KT_HASH_LEN) != KT_HASH_LEN)
			return -1;
	kt_hash_leaf(ent, (size_t)el, &leaf);
	return kt_merkle_verify_inclusion(&leaf, index, cp->size, hs, n,
	           &cp->root) == KT_OK
	    ? 0
	    : -1;
}

int
logd_check_lookup(const struct logd *s, const char *proof_b64,
    const char *label, const struct kt_checkpoint *cp,
    struct kt_lookup_proof *p, struct kt_lookup_result *res)
{
	char canon[KT_CANON_MAX + 1];
	size_t clen = 0, cap = 4 * KT_LOOKUP_MAX / 3 + 8;
	uint8_t *buf = malloc(cap);
	long n;
	kt_err e;
	int rc = -1;

	if (buf == NULL || proof_b64 == NULL || !s->have_vrf_pk) {
		fprintf(stderr, "lookup: no proof or no VRF key\n");
		goto out;
	}
	if (kt_label_canonical(label, strlen(label), canon, &clen, NULL,
	        NULL) != KT_OK) {
		fprintf(stderr, "lookup: label '%s' is not canonical\n", label);
		goto out;
	}
	if ((n = logd_b64(proof_b64, buf, cap)) < 0) {
		fprintf(stderr, "lookup: lookup_proof is not base64\n");
		goto out;
	}
	if ((e = kt_lookup_decode(buf, (size_t)n, p)) != KT_OK) {
		fprintf(stderr, "lookup: decode: %s\n", kt_strerror(e));
		goto out;
	}
	if ((e = kt_lookup_verify(p, s->vrf_pk, cp, canon, clen, res)) !=
	    KT_OK) {
		fprintf(stderr, "lookup of '%s' at size %llu: %s\n", canon,
		    (unsigned long long)cp->size, kt_strerror(e));
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

long
logd_lookup(const struct logd *s, const char *label, struct kt_checkpoint *cp,
    struct kt_lookup_proof *p, struct kt_lookup_result *res)
{
	struct http_resp r;
	char url[1024];
	json_t *j = NULL, *note, *proof;
	long st;

	snprintf(url, sizeof url, "%s/v1/keys/%s", s->url, label);
	st = http_get(url, &r);
	if ((st == 200 || st == 404) &&
	    (j = json_loads(r.body, 0, NULL)) != NULL &&
	    json_is_string(note = json_object_get(j, "checkpoint")) &&
	    json_is_string(proof = json_object_get(j, "lookup_proof")) &&
	    logd_open_checkpoint(s, json_string_value(note),
	        json_string_length(note), cp) == 0 &&
	    logd_check_lookup(s, json_string_value(proof), label, cp, p, res) ==
	        0 &&
	    res->present == (st == 200)) {
		json_decref(j);
		http_resp_free(&r);
		return st;
	}
	fprintf(stderr, "lookup of %s: status %ld, not verified: %.200s\n",
	    label, st, r.body != NULL ? r.body : "");
	json_decref(j);
	http_resp_free(&r);
	return -1;
}
