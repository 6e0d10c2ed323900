/*
 * tmpdir.h: fresh temporary folders for tests (stores, key files, the
 * data folders of the servers an end-to-end test starts).
 */
#ifndef KT_TESTS_TMPDIR_H
#define KT_TESTS_TMPDIR_H

#include <stddef.h>

#include "kt/err.h"

/*
 * Makes a new empty folder $TMPDIR/<prefix>-XXXXXX (/tmp without TMPDIR),
 * mode 0700, and writes its path into buf (cap bytes). Returns 0, or -1
 * (nothing made) if it cannot.
 */
KT_MUST_CHECK int tmpdir_make(const char *prefix, char *buf, size_t cap);

/* Removes path and everything below it, not following links. Returns 0
 * when path is gone (or was never there), -1 if something is left. */
int tmpdir_remove(const char *path);

/* Writes text to path (made or truncated) with mode. Returns 0 or -1. */
KT_MUST_CHECK int tmpdir_write_file(const char *path, const char *text, unsigned mode);

#endif /* KT_TESTS_TMPDIR_H */
