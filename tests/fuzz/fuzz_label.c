/*
 * fuzz_label.c: kt_label_canonical on untrusted bytes (a label typed by a
 * user, sent to kt-logd, or read from a contact card).
 *
 * Beyond "no crash": an accepted label's canonical form is printable
 * ASCII, of the kind its syntax says, canonical itself, its own canonical
 * form (idempotent) and has a skeleton; a refused label comes with a
 * sentence, an empty output and is never canonical.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt/label.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_accepted(const char *in, size_t size, const char *out, size_t n,
    enum kt_label_kind k)
{
	static char again[KT_CANON_MAX + 1], sk[KT_LABEL_SKELETON_MAX + 1];
	enum kt_label_kind k2 = 0;
	const char *why = "x";
	size_t n2 = 0;

	if (n == 0 || n > 254 || out[n] != '\0')
		abort();
	for (size_t i = 0; i < n; i++)
		if (out[i] <= ' ' || out[i] >= 0x7f)
			abort();
	/* The kind is read back from the canonical form's syntax. */
	if ((out[0] == '+') != (k == KT_LABEL_PHONE) ||
	    (k != KT_LABEL_PHONE &&
	        (memchr(out, '@', n) != NULL) != (k == KT_LABEL_EMAIL)))
		abort();
	if (kt_label_canonical(out, n, again, &n2, &k2, &why) != KT_OK ||
	    why != NULL || n2 != n || memcmp(again, out, n) != 0 || k2 != k)
		abort();
	if (!kt_label_is_canonical(out, n))
		abort();
	if (kt_label_is_canonical(in, size) !=
	    (size == n && memcmp(in, out, n) == 0))
		abort();
	if (kt_label_skeleton(out, n, sk, &n2) != KT_OK || sk[n2] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[KT_CANON_MAX + 1];
	const char *in = (const char *)data, *why = NULL;
	enum kt_label_kind k = 0;
	size_t n = 99;
	kt_err err;

	err = kt_label_canonical(in, size, out, &n, &k, &why);
	if (err == KT_OK) {
		if (why != NULL)
			abort();
		check_accepted(in, size, out, n, k);
		return 0;
	}
	if (why == NULL || n != 0 || out[0] != '\0')
		abort();
	if (err == KT_ERR_TOO_LARGE) {
		if (size <= KT_LABEL_INPUT_MAX)
			abort();
	} else if (err != KT_ERR_MALFORMED) {
		abort();
	}
	if (kt_label_is_canonical(in, size))
		abort();
	return 0;
}
