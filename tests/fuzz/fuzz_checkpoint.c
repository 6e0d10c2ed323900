/*
 * fuzz_checkpoint.c: kt_checkpoint_parse on an untrusted checkpoint body
 * (the text of a note from a log or a witness).
 *
 * The parser is strict, so whatever parses must format back to the exact
 * input: a checkpoint has one text, hence one signature message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kt_checkpoint c;
	static char buf[KT_CHECKPOINT_TEXT_MAX + KT_CHECKPOINT_EXT_MAX];
	size_t n = 0;

	if (kt_checkpoint_parse((const char *)data, size, &c) != KT_OK)
		return 0;
	if (strlen(c.origin) == 0 || c.ext_len > KT_CHECKPOINT_EXT_MAX)
		abort();
	if (kt_checkpoint_format(&c, buf, sizeof(buf), &n) != KT_OK)
		abort();
	if (n != size || memcmp(buf, data, size) != 0)
		abort();
	return 0;
}
