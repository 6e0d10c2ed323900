/*
 * fuzz_tlogproof.c: kt_tlogproof_parse on an untrusted C2SP tlog-proof (an
 * offline proof handed to the verifier), then the note inside it opened
 * against the fuzz keys, then the extra bytes decoded as a kt entry, as the
 * verifier does. Whatever parses must format back to the exact input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt/entry.h"
#include "kt/note.h"
#include "kt/tlogproof.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kt_tlogproof p;
	static struct kt_note note;
	static char buf[KT_TLOGPROOF_MAX + 1];
	const char *in = (const char *)data;
	struct kt_entry e;
	size_t n = 0;

	if (kt_tlogproof_parse(in, size, &p) != KT_OK)
		return 0;
	if (p.extra_len > KT_ENTRY_MAX || p.proof.n > KT_MAX_PROOF ||
	    p.note < in || p.note + p.note_len > in + size)
		abort();
	if (kt_tlogproof_format(p.extra_len ? p.extra : NULL, p.extra_len,
	        p.index, &p.proof, p.note, p.note_len, buf, sizeof(buf),
	        &n) != KT_OK)
		abort();
	if (n != size || memcmp(buf, data, size) != 0)
		abort();
	(void)kt_note_open(p.note, p.note_len, fuzz_vs, 2, &note, NULL, NULL);
	(void)kt_entry_decode(p.extra, p.extra_len, &e);
	return 0;
}
