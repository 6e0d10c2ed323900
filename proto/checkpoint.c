/*
 * checkpoint.c: C2SP tlog-checkpoint note bodies.
 *
 *   <origin>\n<size>\n<base64 root>\n[<extension line>\n ...]
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "kt/b64.h"
#include "kt/checkpoint.h"
#include "text_internal.h"

#define ROOT_B64_LEN 44 /* padded base64 of 32 bytes */

/* Extension lines: each non-empty, newline-terminated, note text chars. */
static int
ext_valid(const char *p, size_t len)
{
	const char *end = p + len;

	if (len == 0)
		return 1;
	if (p[len - 1] != '\n' || !kt_text_chars_ok(p, len))
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == p)
			return 0;
		p = nl + 1;
	}
	return 1;
}

kt_err
kt_checkpoint_format(const struct kt_checkpoint *c, char *buf, size_t cap,
    size_t *out_len)
{
	char root[ROOT_B64_LEN + 1];
	size_t origin_len;
	int n;

	if (cap > 0)
		buf[0] = '\0';
	if (c == NULL)
		return KT_ERR_MALFORMED;
	origin_len = strnlen(c->origin, sizeof(c->origin));
	if (!kt_key_name_valid(c->origin, origin_len))
		return KT_ERR_MALFORMED;
	if (c->ext_len > KT_CHECKPOINT_EXT_MAX)
		return KT_ERR_TOO_LARGE;
	if (!ext_valid(c->ext, c->ext_len))
		return KT_ERR_MALFORMED;
	sodium_bin2base64(root, sizeof(root), c->root.b, KT_HASH_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(buf, cap, "%s\n%" PRIu64 "\n%s\n", c->origin, c->size,
	    root);
	if (n < 0 || (size_t)n + c->ext_len >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return KT_ERR_TOO_LARGE;
	}
	memcpy(buf + n, c->ext, c->ext_len);
	buf[(size_t)n + c->ext_len] = '\0';
	if (out_len != NULL)
		*out_len = (size_t)n + c->ext_len;
	return KT_OK;
}

kt_err
kt_checkpoint_parse(const char *text, size_t len, struct kt_checkpoint *out)
{
	const char *p = text, *end, *line;
	size_t line_len = 0, root_len = 0;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return KT_ERR_MALFORMED;
	if (len > KT_CHECKPOINT_TEXT_MAX)
		return KT_ERR_TOO_LARGE;
	end = text + len;

	if (!kt_text_next_line(&p, end, &line, &line_len) ||
	    !kt_key_name_valid(line, line_len))
		goto bad;
	memcpy(out->origin, line, line_len);
	out->origin[line_len] = '\0';

	if (!kt_text_next_line(&p, end, &line, &line_len) ||
	    !kt_text_parse_u64(line, line_len, &out->size))
		goto bad;

	/* Exactly 44 characters, so 31 or 33 bytes can never slip through. */
	if (!kt_text_next_line(&p, end, &line, &line_len) ||
	    line_len != ROOT_B64_LEN ||
	    kt_b64_decode(line, line_len, out->root.b, KT_HASH_LEN,
	        &root_len) != KT_OK ||
	    root_len != KT_HASH_LEN)
		goto bad;

	/* The rest: extension lines, kept verbatim. */
	if ((size_t)(end - p) > KT_CHECKPOINT_EXT_MAX) {
		memset(out, 0, sizeof(*out));
		return KT_ERR_TOO_LARGE;
	}
	if (!ext_valid(p, (size_t)(end - p)))
		goto bad;
	out->ext_len = (size_t)(end - p);
	memcpy(out->ext, p, out->ext_len);
	return KT_OK;
bad:
	memset(out, 0, sizeof(*out));
	return KT_ERR_MALFORMED;
}

kt_err
kt_signed_checkpoint_open(const char *note, size_t len,
    const struct kt_verifier *log, struct kt_signed_checkpoint *out)
{
	struct kt_note n;
	struct kt_checkpoint cp;
	uint8_t ok = 0;
	kt_err err;

	err = kt_note_parse(note, len, &n);
	if (err != KT_OK)
		return err;
	err = kt_note_verify(&n, log, 1, &ok, NULL);
	if (err != KT_OK)
		return err;
	if (!ok)
		return KT_ERR_VERIFY;
	err = kt_checkpoint_parse(n.text, n.text_len, &cp);
	if (err != KT_OK)
		return err;
	if (strcmp(cp.origin, log->name) != 0)
		return KT_ERR_VERIFY;
	out->note = note;
	out->note_len = len;
	out->cp = cp;
	return KT_OK;
}
