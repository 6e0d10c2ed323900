/*
 * witnessd.h: the real kt-witness for end-to-end tests: a key made with
 * `kt-witness keygen` in a test's folder, and `kt-witness serve` on a free
 * 127.0.0.1 port (--listen 127.0.0.1:0; its "listening on port" line says
 * which), stopped like every child of proc.h.
 */
#ifndef KT_TESTS_WITNESSD_H
#define KT_TESTS_WITNESSD_H

#include <sys/types.h>

#include "kt/err.h"
#include "kt/note.h"

struct witnessd {
	const char *bin;                    /* the kt-witness binary */
	char key[300], data[300], log[300]; /* files in the test's folder */
	char vkey[KT_KEY_TEXT_MAX];         /* its verifier key */
	struct kt_verifier v;
	char url[64]; /* http://127.0.0.1:PORT while serving */
	unsigned port;
	pid_t pid; /* 0 when not running */
};

/*
 * Makes witness key name with bin (kt-witness) into dir: files
 * dir/name.key, dir/name.data (its state) and dir/name.log (its stderr).
 * Returns 0, or -1 (with a message on stderr).
 */
KT_MUST_CHECK int witnessd_keygen(struct witnessd *w, const char *bin,
    const char *dir, const char *name);

/* Serves w's key for the log with verifier key logvkey. Returns 0, or -1
 * (nothing left running). */
KT_MUST_CHECK int witnessd_start(struct witnessd *w, const char *logvkey);

/* The same with more `serve` options (extra: NULL-terminated, at most
 * WITNESSD_EXTRA_MAX of them; NULL for none), such as
 * { "--request-timeout", "3", NULL }. */
#define WITNESSD_EXTRA_MAX 16
KT_MUST_CHECK int witnessd_start_with(struct witnessd *w, const char *logvkey,
    const char *const *extra);

/* Stops a running witness (SIGTERM, wait_s seconds, SIGKILL). Returns its
 * exit status as proc_stop does (-1 if it was not running). */
int witnessd_stop(struct witnessd *w, unsigned wait_s);

#endif /* KT_TESTS_WITNESSD_H */
