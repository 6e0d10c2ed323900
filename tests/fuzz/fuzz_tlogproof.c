/*
 * fuzz_tlogproof.c: kt_tlogproof_parse on an untrusted C2SP tlog-proof (an
 * offline proof handed to the verifier), then the note inside it opened
 * against the fuzz keys, then the whole proof read as kt's lookup
 * tlog-proof (kt_lookup_tlogproof_parse, whose extra line is a lookup
 * proof), as the verifier does. Whatever parses must format back to the
 * exact input, and the lookup form must agree with the generic one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt/lookup.h"
#include "kt/note.h"
#include "kt/tlogproof.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The lookup form parses only what the generic form parses, borrows the
 * same note and takes its map-head proof from the hash lines. */
static void
lookup(const char *in, size_t size, const struct kt_tlogproof *p, int ok)
{
	static struct kt_lookup_proof lp;
	const char *note = NULL;
	size_t note_len = 0;

	if (kt_lookup_tlogproof_parse(in, size, &lp, &note, &note_len) != KT_OK)
		return;
	if (!ok || p->extra_len == 0 || note != p->note ||
	    note_len != p->note_len || lp.head.log_size != p->index ||
	    lp.head_proof.n != p->proof.n ||
	    memcmp(lp.head_proof.h, p->proof.h,
	        p->proof.n * sizeof(p->proof.h[0])) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kt_tlogproof p;
	static struct kt_note note;
	static char buf[KT_TLOGPROOF_MAX + 1];
	const char *in = (const char *)data;
	size_t n = 0;

	if (kt_tlogproof_parse(in, size, &p) != KT_OK) {
		lookup(in, size, &p, 0);
		return 0;
	}
	if (p.extra_len > KT_TLOGPROOF_EXTRA_MAX || p.proof.n > KT_MAX_PROOF ||
	    p.note < in || p.note + p.note_len > in + size)
		abort();
	if (kt_tlogproof_format(p.extra_len ? p.extra : NULL, p.extra_len,
	        p.index, &p.proof, p.note, p.note_len, buf, sizeof(buf),
	        &n) != KT_OK)
		abort();
	if (n != size || memcmp(buf, data, size) != 0)
		abort();
	(void)kt_note_open(p.note, p.note_len, fuzz_vs, 2, &note, NULL, NULL);
	lookup(in, size, &p, 1);
	return 0;
}
