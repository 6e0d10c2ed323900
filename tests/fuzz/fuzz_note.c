/*
 * fuzz_note.c: kt_note_parse then kt_note_verify on an untrusted signed
 * note (a checkpoint from a log, a witness response, a tlog-proof's note),
 * against one Ed25519 log key and one tlog-cosignature witness key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kt/note.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kt_note note;
	uint8_t ok[2];
	uint64_t times[2];
	const char *buf = (const char *)data;
	size_t i;

	if (kt_note_parse(buf, size, &note) != KT_OK)
		return 0;
	/* Borrowed pointers stay inside the input. */
	if (note.text != buf || note.text_len == 0 || note.text_len >= size ||
	    note.nsigs == 0 || note.nsigs > KT_NOTE_MAX_SIGS)
		abort();
	for (i = 0; i < note.nsigs; i++) {
		const struct kt_note_sig *s = &note.sigs[i];

		if (s->name < buf || s->name + s->name_len > buf + size ||
		    s->b64 < buf || s->b64 + s->b64_len > buf + size)
			abort();
	}
	(void)kt_note_verify(&note, fuzz_vs, 2, ok, times);
	return 0;
}
