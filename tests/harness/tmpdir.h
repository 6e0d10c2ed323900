/*
 * tmpdir.h: fresh temporary folders for tests (stores, key files, the
 * data folders of the servers an end-to-end test starts).
 */
#ifndef KT_TESTS_TMPDIR_H
#define KT_TESTS_TMPDIR_H

#include <stddef.h>

#include "kt/err.h"

/*
 * Makes a new empty folder <prefix>-XXXXXX, mode 0700, and writes its path
 * into buf (cap bytes): inside the run's folder during a test run, else in
 * $TMPDIR (/tmp without it). Returns 0, or -1 (nothing made) if it cannot.
 */
KT_MUST_CHECK int tmpdir_make(const char *prefix, char *buf, size_t cap);

/*
 * The folder of a test run, which kt_test_run makes before the first test
 * and removes after the last: whatever a test leaves behind (a failed
 * check ends a forked test before its teardown) goes with it, unless
 * $KT_E2E_KEEP is set (its path is then printed, to look at). begin
 * returns 0, or -1 if it cannot make it (tests then use $TMPDIR).
 */
KT_MUST_CHECK int tmpdir_run_begin(void);
void tmpdir_run_end(void);

/* Removes path and everything below it, not following links. Returns 0
 * when path is gone (or was never there), -1 if something is left. */
int tmpdir_remove(const char *path);

/* Writes text to path (made or truncated) with mode. Returns 0 or -1. */
KT_MUST_CHECK int
tmpdir_write_file(const char *path, const char *text, unsigned mode);

#endif /* KT_TESTS_TMPDIR_H */
