/*
 * exact.h: inputs for parser tests. A parser of untrusted bytes is given
 * a heap copy of exactly the bytes it may read, so that AddressSanitizer
 * (the sanitizer CI builds) reports any read past the end.
 */
#ifndef KT_TESTS_EXACT_H
#define KT_TESTS_EXACT_H

#include <stddef.h>

/* A malloc'ed copy of the len bytes at p (an empty copy still has an
 * address). The caller frees it. Aborts when memory runs out. */
char *exact_copy(const void *p, size_t len);

#endif /* KT_TESTS_EXACT_H */
