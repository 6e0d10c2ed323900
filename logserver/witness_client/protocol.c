/*
 * protocol.c: C2SP tlog-witness request and answer bytes (client side).
 */
#include "witness_client/protocol.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kt/fmt.h"

#define B64_HASH_LEN 44 /* base64 of 32 bytes, padded */
#define SIZE_TYPE "text/x.tlog.size"

char *
kt_wproto_request(const char *note, size_t note_len, uint64_t old,
    const struct kt_proof *proof, size_t *len)
{
	size_t i, off, cap = 32 + proof->n * (B64_HASH_LEN + 1) + 1 + note_len;
	char *body = malloc(cap);

	if (body == NULL)
		return NULL;
	/* cap's first 32 bytes hold any "old <uint64>\n" (25 at most). */
	if (kt_fmt(body, cap, "old %" PRIu64 "\n", old) != KT_OK) {
		free(body);
		return NULL;
	}
	off = strlen(body);
	for (i = 0; i < proof->n; i++) {
		sodium_bin2base64(body + off, B64_HASH_LEN + 1, proof->h[i].b,
		    KT_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
		off += B64_HASH_LEN;
		body[off++] = '\n';
	}
	body[off++] = '\n';
	memcpy(body + off, note, note_len);
	*len = off + note_len;
	return body;
}

/* Parses "<decimal>\n" exactly: no sign, no leading zeros, no overflow. */
static int
parse_size_body(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len < 2 || len > 21 || p[len - 1] != '\n')
		return -1;
	if (p[0] == '0' && len != 2)
		return -1;
	for (i = 0; i + 1 < len; i++) {
		unsigned d;

		if (p[i] < '0' || p[i] > '9')
			return -1;
		d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
kt_wproto_size(const char *content_type, const char *body, size_t len,
    uint64_t *size)
{
	const char *ct = content_type;
	size_t n = strlen(SIZE_TYPE);

	return ct != NULL && strncmp(ct, SIZE_TYPE, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';') &&
	    parse_size_body(body, len, size) == 0;
}

char *
kt_wproto_cosig_line(const char *note, size_t note_len, size_t nsigs,
    const struct kt_verifier *key, const char *resp, size_t resp_len)
{
	struct kt_note *parsed = NULL;
	const struct kt_note_sig *sg;
	char *buf = NULL, *line = NULL;
	size_t i, len = note_len + resp_len;
	uint8_t ok = 0;

	if (len > KT_NOTE_MAX)
		goto out;
	buf = malloc(len);
	parsed = malloc(sizeof(*parsed));
	if (buf == NULL || parsed == NULL)
		goto out;
	memcpy(buf, note, note_len);
	memcpy(buf + note_len, resp, resp_len);
	/* The answer appended to our note must give a valid note in which
	 * the witness's key signed validly (kt_note_verify checks type 0x04
	 * keys as tlog-cosignatures over the checkpoint text). */
	if (kt_note_parse(buf, len, parsed) != KT_OK)
		goto out;
	if (kt_note_verify(parsed, key, 1, &ok, NULL) != KT_OK || !ok)
		goto out;
	/* Keep only this witness's line; others in the answer are not ours
	 * to vouch for. */
	for (i = nsigs; i < parsed->nsigs; i++) {
		sg = &parsed->sigs[i];
		if (sg->name_len != strlen(key->name) ||
		    memcmp(sg->name, key->name, sg->name_len) != 0 ||
		    memcmp(sg->id, key->id, KT_KEY_ID_LEN) != 0)
			continue;
		/* Room for the dash (3 bytes), two spaces, the newline and
		 * the NUL. */
		line = malloc(sg->name_len + sg->b64_len + 8);
		if (line == NULL)
			goto out;
		if (kt_fmt(line, sg->name_len + sg->b64_len + 8,
		        "\xe2\x80\x94 %.*s %.*s\n", (int)sg->name_len, sg->name,
		        (int)sg->b64_len, sg->b64) != KT_OK) {
			free(line);
			line = NULL;
		}
		break;
	}
out:
	free(parsed);
	free(buf);
	return line;
}
