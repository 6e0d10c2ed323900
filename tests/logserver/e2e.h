/*
 * e2e.h: end-to-end harness for kt-logd. Starts the real binary (path in
 * $KT_LOGD) on a fresh temporary folder and a free 127.0.0.1 port (it is
 * started with --listen 127.0.0.1:0 and its start-up line gives the port),
 * drives it over HTTP with libcurl, and always stops it: SIGTERM, a bounded
 * wait, then SIGKILL. A started server also dies with the test process
 * (PR_SET_PDEATHSIG) and is killed at exit if still registered.
 */
#ifndef KT_TESTS_E2E_H
#define KT_TESTS_E2E_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kt/checkpoint.h"
#include "kt/merkle.h"
#include "kt/note.h"

struct e2e_server {
	char dir[256];            /* temp folder, removed by e2e_cleanup */
	char data[300], key[300], tokens[300], conf[300], log[300];
	char origin[64];
	char vkey[KT_KEY_TEXT_MAX];
	struct kt_verifier v;
	char token[128];          /* a valid bearer token */
	char url[64];             /* http://127.0.0.1:PORT */
	pid_t pid;                /* 0 when not running */
	unsigned startup_size;    /* size printed on the start-up line */
};

struct e2e_resp {
	long status;
	char *body;               /* NUL-terminated, free with e2e_resp_free */
	size_t len;
	char ctype[128];
	char cache[128];
	char allow[64];
	char www_auth[64];
};

/* Makes the temp folder, a key (keygen) and a token (token). config_text
 * (or NULL) is written to the config file. Returns 0 or -1. */
int e2e_setup(struct e2e_server *s, const char *config_text);

/*
 * Starts kt-logd serve on s's folder. extra: NULL-terminated extra
 * arguments, or NULL for "--tokens FILE --config FILE". Waits for the
 * start-up line and for /healthz. Returns 0, or -1 (the server is not
 * running then).
 */
int e2e_start(struct e2e_server *s, const char *const *extra);

/* SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit status (0..255),
 * 256 + signal if killed by a signal, or -1 if it was not running. */
int e2e_stop(struct e2e_server *s);

/*
 * For other processes a test starts (witnesses, test servers): e2e_track
 * kills pid at exit unless it was stopped (0, or -1 when the registry is
 * full: pid is then killed at once); e2e_stop_pid stops it like e2e_stop,
 * waiting wait_s seconds before SIGKILL, with the same return values.
 */
int e2e_track(pid_t pid);
int e2e_stop_pid(pid_t pid, unsigned wait_s);

/* SIGKILL at once (crash simulation) and reap. */
void e2e_kill9(struct e2e_server *s);

/* Stops if running and removes the temp folder. */
void e2e_cleanup(struct e2e_server *s);

/* Runs KT_LOGD with args (NULL-terminated), capturing stdout and stderr
 * (each up to cap bytes, NUL-terminated; either may be NULL). Returns the
 * exit status or -1. */
int e2e_run(const char *const *args, char *out, size_t outcap, char *err,
    size_t errcap);

/*
 * One HTTP request with a fresh or given curl handle (h may be NULL).
 * token: NULL for no Authorization header. headers: extra header lines
 * (NULL-terminated) or NULL. Returns 0 when an HTTP answer came (any
 * status), -1 on a transport error.
 */
int e2e_http(CURL *h, const char *method, const char *url, const char *token,
    const char *const *headers, const void *body, size_t len,
    struct e2e_resp *r);
void e2e_resp_free(struct e2e_resp *r);

/* GET s->url + path; returns the status (or -1). */
long e2e_get(struct e2e_server *s, const char *path, struct e2e_resp *r);
/* POST s->url + path with s->token; returns the status (or -1). */
long e2e_post(struct e2e_server *s, const char *path, const char *json,
    struct e2e_resp *r);

/* The current tree size from /healthz, or UINT64_MAX on failure. */
uint64_t e2e_size(struct e2e_server *s);

/* Opens a note with the log's key and parses its checkpoint. 0 or -1. */
int e2e_open_checkpoint(const struct e2e_server *s, const char *note,
    size_t len, struct kt_checkpoint *cp);

/* Decodes standard base64; returns the length or -1. */
long e2e_b64(const char *s, uint8_t *out, size_t cap);

/*
 * Checks that proof {"index","size","hashes"} proves entry (base64) at
 * index in the checkpoint cp. Returns 0 or -1.
 */
int e2e_check_inclusion(const char *entry_b64, uint64_t index, json_t *proof,
    const struct kt_checkpoint *cp);

#endif /* KT_TESTS_E2E_H */
