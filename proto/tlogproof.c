/*
 * tlogproof.c: C2SP tlog-proof, the offline inclusion proof text.
 *
 *   c2sp.org/tlog-proof@v1\n
 *   [extra <base64>\n]
 *   index <decimal>\n
 *   <base64 hash>\n ...   (0..63 lines)
 *   \n
 *   <signed checkpoint note>
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "kt/b64.h"
#include "kt/tlogproof.h"
#include "text_internal.h"

static const char header[] = "c2sp.org/tlog-proof@v1\n";
#define HEADER_LEN (sizeof(header) - 1)
#define HASH_B64_LEN 44
/* C2SP tlog-proof: at most 63 inclusion proof lines. */
#define PROOF_LINES_MAX 63
#define EXTRA_B64_MAX ((KT_TLOGPROOF_EXTRA_MAX + 2) / 3 * 4)

/* Appends n bytes to buf at *off, failing if the NUL would not fit. */
static int
put(char *buf, size_t cap, size_t *off, const void *p, size_t n)
{
	if (n >= cap - *off)
		return 0;
	memcpy(buf + *off, p, n);
	*off += n;
	return 1;
}

kt_err
kt_tlogproof_format(const uint8_t *extra, size_t extra_len, uint64_t index,
    const struct kt_proof *proof, const char *note, size_t note_len, char *buf,
    size_t cap, size_t *out_len)
{
	char b64[EXTRA_B64_MAX + 1];
	char line[32];
	size_t off = 0;
	int n;

	if (cap > 0)
		buf[0] = '\0';
	if (cap == 0)
		return KT_ERR_TOO_LARGE;
	if (proof == NULL || note == NULL || note_len == 0)
		return KT_ERR_MALFORMED;
	if (extra == NULL)
		extra_len = 0;
	if (extra_len > KT_TLOGPROOF_EXTRA_MAX || note_len > KT_NOTE_MAX)
		return KT_ERR_TOO_LARGE;
	if (proof->n > PROOF_LINES_MAX)
		return KT_ERR_MALFORMED;
	if (!put(buf, cap, &off, header, HEADER_LEN))
		goto small;
	if (extra_len > 0) {
		sodium_bin2base64(b64, sizeof(b64), extra, extra_len,
		    sodium_base64_VARIANT_ORIGINAL);
		if (!put(buf, cap, &off, "extra ", 6) ||
		    !put(buf, cap, &off, b64, strlen(b64)) ||
		    !put(buf, cap, &off, "\n", 1))
			goto small;
	}
	n = snprintf(line, sizeof(line), "index %" PRIu64 "\n", index);
	if (n < 0 || !put(buf, cap, &off, line, (size_t)n))
		goto small;
	for (size_t i = 0; i < proof->n; i++) {
		sodium_bin2base64(b64, sizeof(b64), proof->h[i].b, KT_HASH_LEN,
		    sodium_base64_VARIANT_ORIGINAL);
		if (!put(buf, cap, &off, b64, HASH_B64_LEN) ||
		    !put(buf, cap, &off, "\n", 1))
			goto small;
	}
	if (!put(buf, cap, &off, "\n", 1) ||
	    !put(buf, cap, &off, note, note_len))
		goto small;
	buf[off] = '\0';
	if (out_len != NULL)
		*out_len = off;
	return KT_OK;
small:
	buf[0] = '\0';
	return KT_ERR_TOO_LARGE;
}

kt_err
kt_tlogproof_parse(const char *buf, size_t len, struct kt_tlogproof *out)
{
	const char *p = buf, *end, *line;
	size_t line_len = 0, n = 0;
	kt_err err = KT_ERR_MALFORMED;

	out->extra_len = 0;
	out->index = 0;
	out->proof.n = 0;
	out->note = NULL;
	out->note_len = 0;
	if (buf == NULL)
		return KT_ERR_MALFORMED;
	if (len > KT_TLOGPROOF_MAX)
		return KT_ERR_TOO_LARGE;
	end = buf + len;
	if (len < HEADER_LEN || memcmp(buf, header, HEADER_LEN) != 0)
		return KT_ERR_MALFORMED;
	p += HEADER_LEN;

	if (!kt_text_next_line(&p, end, &line, &line_len))
		goto fail;
	if (line_len >= 6 && memcmp(line, "extra ", 6) == 0) {
		if (line_len - 6 > EXTRA_B64_MAX) {
			err = KT_ERR_TOO_LARGE;
			goto fail;
		}
		err = kt_b64_decode(line + 6, line_len - 6, out->extra,
		    sizeof(out->extra), &n);
		if (err != KT_OK)
			goto fail;
		err = KT_ERR_MALFORMED;
		/* An empty extra would be indistinguishable from none. */
		if (n == 0)
			goto fail;
		out->extra_len = n;
		if (!kt_text_next_line(&p, end, &line, &line_len))
			goto fail;
	}
	if (line_len < 6 || memcmp(line, "index ", 6) != 0 ||
	    !kt_text_parse_u64(line + 6, line_len - 6, &out->index))
		goto fail;

	for (;;) {
		if (!kt_text_next_line(&p, end, &line, &line_len))
			goto fail;
		if (line_len == 0)
			break;
		if (out->proof.n == PROOF_LINES_MAX) {
			err = KT_ERR_TOO_LARGE;
			goto fail;
		}
		if (line_len != HASH_B64_LEN ||
		    kt_b64_decode(line, line_len, out->proof.h[out->proof.n].b,
		        KT_HASH_LEN, &n) != KT_OK ||
		    n != KT_HASH_LEN)
			goto fail;
		out->proof.n++;
	}

	if (p == end)
		goto fail;
	if ((size_t)(end - p) > KT_NOTE_MAX) {
		err = KT_ERR_TOO_LARGE;
		goto fail;
	}
	out->note = p;
	out->note_len = (size_t)(end - p);
	return KT_OK;
fail:
	out->extra_len = 0;
	out->index = 0;
	out->proof.n = 0;
	return err;
}
