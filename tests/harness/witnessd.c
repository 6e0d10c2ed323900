/* witnessd.c: see witnessd.h. */
#include "harness/witnessd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/proc.h"

#define LISTENING "listening on port "

int
witnessd_keygen(struct witnessd *w, const char *bin, const char *dir,
    const char *name)
{
	const char *argv[] = { bin, "keygen", "--name", name, "--out", w->key,
		NULL };
	char out[2048], err[2048];
	int st;

	memset(w, 0, sizeof(*w));
	w->bin = bin;
	snprintf(w->key, sizeof(w->key), "%.200s/%.60s.key", dir, name);
	snprintf(w->data, sizeof(w->data), "%.200s/%.60s.data", dir, name);
	snprintf(w->log, sizeof(w->log), "%.200s/%.60s.log", dir, name);
	st = proc_run(argv, out, sizeof(out), err, sizeof(err), 30);
	if (st != 0) {
		fprintf(stderr, "kt-witness keygen: exit %d: %s\n", st, err);
		return -1;
	}
	snprintf(w->vkey, sizeof(w->vkey), "%.*s", (int)sizeof(w->vkey) - 1,
	    proc_last_line(out));
	if (kt_verifier_parse(w->vkey, strlen(w->vkey), &w->v) != KT_OK) {
		fprintf(stderr, "kt-witness keygen: bad key '%s'\n", w->vkey);
		return -1;
	}
	return 0;
}

int
witnessd_start(struct witnessd *w, const char *logvkey)
{
	return witnessd_start_with(w, logvkey, NULL);
}

int
witnessd_start_with(struct witnessd *w, const char *logvkey,
    const char *const *extra)
{
	const char *argv[10 + WITNESSD_EXTRA_MAX + 1] = { w->bin, "serve",
		"--data", w->data, "--key", w->key, "--listen", "127.0.0.1:0",
		"--log", logvkey };
	size_t n = 10;
	char out[2048];
	const char *p;

	for (; extra != NULL && extra[n - 10] != NULL; n++) {
		if (n - 10 == WITNESSD_EXTRA_MAX) {
			fprintf(stderr, "witnessd: more than %d options\n",
			    WITNESSD_EXTRA_MAX);
			return -1;
		}
		argv[n] = extra[n - 10];
	}
	argv[n] = NULL;
	w->pid = proc_start(argv, w->log, LISTENING, out, sizeof(out), 20);
	p = strstr(out, LISTENING);
	if (w->pid <= 0 || p == NULL) {
		fprintf(stderr, "kt-witness did not start; see %s\n", w->log);
		w->pid = 0;
		return -1;
	}
	w->port = (unsigned)atoi(p + strlen(LISTENING));
	snprintf(w->url, sizeof(w->url), "http://127.0.0.1:%u", w->port);
	return 0;
}

int
witnessd_stop(struct witnessd *w, unsigned wait_s)
{
	int st = proc_stop(w->pid, wait_s);

	w->pid = 0;
	return st;
}
