/*
 * logd.h: the real kt-logd (path in $KT_LOGD) for end-to-end tests. Each
 * server gets a fresh temporary folder (its data, key, tokens and config
 * files, and its stderr) and a free 127.0.0.1 port: it is started with
 * --listen 127.0.0.1:0 and its start-up line says the port. It is stopped
 * with SIGTERM, a bounded wait, then SIGKILL, and as a child started by
 * proc.h it never outlives the test.
 */
#ifndef KT_TESTS_LOGD_H
#define KT_TESTS_LOGD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness/http.h"
#include "kt/checkpoint.h"
#include "kt/err.h"
#include "kt/lookup.h"
#include "kt/merkle.h"
#include "kt/note.h"

struct logd {
	char dir[256]; /* temp folder, removed by logd_cleanup */
	char data[300], key[300], tokens[300], conf[300], log[300];
	char origin[64];
	char vkey[KT_KEY_TEXT_MAX];
	struct kt_verifier v;
	char token[128];       /* a valid bearer token */
	char url[64];          /* http://127.0.0.1:PORT */
	pid_t pid;             /* 0 when not running */
	unsigned startup_size; /* size printed on the start-up line */
	/* The VRF public key from GET /v1/log, read by logd_start. */
	uint8_t vrf_pk[KT_VRF_PUBLIC_LEN];
	int have_vrf_pk;
};

/* Makes the temp folder, a key (keygen) and a token (token). config_text
 * (or NULL) is written to the config file. Returns 0 or -1. */
KT_MUST_CHECK int logd_setup(struct logd *s, const char *config_text);

/*
 * Starts kt-logd serve on s's folder. extra: NULL-terminated extra
 * arguments, or NULL for "--tokens FILE --config FILE". Waits for the
 * start-up line and for /healthz. Returns 0, or -1 (the server is not
 * running then).
 */
KT_MUST_CHECK int logd_start(struct logd *s, const char *const *extra);

/* SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit status (0..255),
 * 256 + signal if killed by a signal, or -1 if it was not running. */
int logd_stop(struct logd *s);

/* SIGKILL at once (crash simulation) and reap. */
void logd_kill9(struct logd *s);

/* Stops if running and removes the temp folder (kept if $KT_E2E_KEEP is
 * set, for a look after a failure). */
void logd_cleanup(struct logd *s);

/* For a Check fixture: logd_setup and logd_start, failing the test if
 * either fails. */
void logd_up(struct logd *s, const char *config_text);

/* For a Check teardown: stops and cleans up, and fails the test unless
 * kt-logd exited 0 on SIGTERM (so no sanitizer report either) or was not
 * running. */
void logd_down(struct logd *s);

/* Runs kt-logd with args (NULL-terminated), capturing stdout and stderr
 * (each up to cap bytes, NUL-terminated; either may be NULL). Killed after
 * 30 s. Returns the exit status, 256 + signal, or -1. */
KT_MUST_CHECK int logd_run(const char *const *args, char *out, size_t outcap,
    char *err, size_t errcap);

/* GET s->url + path; returns the status (or -1). */
long logd_get(struct logd *s, const char *path, struct http_resp *r);
/* POST s->url + path with s->token; returns the status (or -1). */
long logd_post(struct logd *s, const char *path, const char *json,
    struct http_resp *r);

/* The current tree size from /healthz, or UINT64_MAX on failure. */
uint64_t logd_size(struct logd *s);

/* The number of update leaves (kind 0x03) in the log's first `size`
 * leaves, read with /v1/entries; UINT64_MAX on failure. A write that
 * appends n updates adds n + 1 leaves or fewer (its map head may close
 * other writes' updates too), so tests count updates, not leaves. */
uint64_t logd_count_updates(struct logd *s, uint64_t size);

/* Opens a note with the log's key and parses its checkpoint. 0 or -1. */
KT_MUST_CHECK int logd_open_checkpoint(const struct logd *s, const char *note,
    size_t len, struct kt_checkpoint *cp);

/* Decodes standard base64; returns the length or -1. */
long logd_b64(const char *s, uint8_t *out, size_t cap);

/*
 * Checks that proof {"index","size","hashes"} proves entry (base64) at
 * index in the checkpoint cp. Returns 0 or -1.
 */
KT_MUST_CHECK int logd_check_inclusion(const char *entry_b64, uint64_t index,
    json_t *proof, const struct kt_checkpoint *cp);

/*
 * Checks a lookup proof (base64 of kt_lookup_encode, as the log answers
 * it in "lookup_proof") for label against cp (opened by the caller) and the
 * VRF public key /v1/log gave at start: decodes it into *p and verifies it
 * with kt_lookup_verify into *res (which borrows from *p). label is
 * canonicalised first, so any spelling the log accepts will do. Returns 0,
 * or -1 (with the reason on stderr).
 */
KT_MUST_CHECK int logd_check_lookup(const struct logd *s, const char *proof_b64,
    const char *label, const struct kt_checkpoint *cp,
    struct kt_lookup_proof *p, struct kt_lookup_result *res);

/*
 * GET /v1/keys/<label> (label as a path segment: the caller escapes it)
 * and checks the answer: its checkpoint opens with the log's key into *cp,
 * and its lookup proof verifies for label (logd_check_lookup) into *p and
 * *res. Returns the HTTP status (200 present, 404 absent) when all of it
 * verifies, -1 otherwise.
 */
KT_MUST_CHECK long
logd_lookup(const struct logd *s, const char *label, struct kt_checkpoint *cp,
    struct kt_lookup_proof *p, struct kt_lookup_result *res);

#endif /* KT_TESTS_LOGD_H */
