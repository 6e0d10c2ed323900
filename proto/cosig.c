/*
 * cosig.c: C2SP tlog-cosignature, Ed25519 timestamped cosignatures (key
 * type 0x04) over checkpoint texts.
 *
 * Signed message: "cosignature/v1\ntime <decimal seconds>\n" || text, where
 * text is the whole checkpoint body with its final newline and without any
 * signature lines. The note signature carries key ID (4 bytes) || u64be
 * timestamp (8 bytes) || Ed25519 signature (64 bytes). The message does not
 * name the cosigner.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kt/bytes.h"
#include "kt/note.h"
#include "key_internal.h"
#include "text_internal.h"

/* "cosignature/v1\ntime " + 20 digits + "\n" */
#define COSIG_HDR_MAX 48

/*
 * Builds the signed message in a fresh buffer. Ed25519 (not Ed25519ph)
 * needs the message contiguous, so the text is copied once.
 */
static kt_err
cosig_message(const char *text, size_t text_len, uint64_t timestamp,
    uint8_t **msg, size_t *msg_len)
{
	char hdr[COSIG_HDR_MAX];
	int n;

	*msg = NULL;
	n = snprintf(hdr, sizeof(hdr), "cosignature/v1\ntime %" PRIu64 "\n",
	    timestamp);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return KT_ERR_INTERNAL;
	*msg = malloc((size_t)n + text_len);
	if (*msg == NULL)
		return KT_ERR_NOMEM;
	memcpy(*msg, hdr, (size_t)n);
	memcpy(*msg + n, text, text_len);
	*msg_len = (size_t)n + text_len;
	return KT_OK;
}

kt_err
kt_cosig_sign(const struct kt_signer *s, const char *text, size_t text_len,
    uint64_t timestamp, char *buf, size_t cap, size_t *out_len)
{
	struct kt_verifier v;
	uint8_t payload[KT_COSIG_LEN - KT_KEY_ID_LEN];
	uint8_t *msg = NULL;
	size_t msg_len = 0;
	kt_err err;

	if (cap > 0)
		buf[0] = '\0';
	if (s == NULL || !kt_text_note_valid(text, text_len))
		return KT_ERR_MALFORMED;
	if (text_len > KT_NOTE_MAX)
		return KT_ERR_TOO_LARGE;
	kt_signer_verifier(s, &v);
	if (v.type != KT_KEY_COSIG)
		return KT_ERR_MALFORMED;
	err = cosig_message(text, text_len, timestamp, &msg, &msg_len);
	if (err != KT_OK)
		goto out;
	kt_put_be64(payload, timestamp);
	kt_signer_sign_raw(s, msg, msg_len, payload + 8);
	/* kt_note_sig_line prepends the key ID: id || time || sig. */
	err = kt_note_sig_line(v.name, v.id, payload, sizeof(payload), buf, cap,
	    out_len);
out:
	free(msg);
	return err;
}

kt_err
kt_cosig_verify(const struct kt_verifier *v, const char *text, size_t text_len,
    const uint8_t sig[KT_COSIG_LEN], uint64_t *timestamp)
{
	uint8_t *msg = NULL;
	size_t msg_len = 0;
	uint64_t t;
	kt_err err;

	if (timestamp != NULL)
		*timestamp = 0;
	if (v == NULL || sig == NULL || text == NULL)
		return KT_ERR_MALFORMED;
	if (v->type != KT_KEY_COSIG ||
	    sodium_memcmp(sig, v->id, KT_KEY_ID_LEN) != 0)
		return KT_ERR_VERIFY;
	if (text_len > KT_NOTE_MAX)
		return KT_ERR_TOO_LARGE;
	t = kt_get_be64(sig + KT_KEY_ID_LEN);
	err = cosig_message(text, text_len, t, &msg, &msg_len);
	if (err != KT_OK)
		goto out;
	if (crypto_sign_verify_detached(sig + KT_KEY_ID_LEN + 8, msg, msg_len,
	        v->pub) != 0) {
		err = KT_ERR_VERIFY;
		goto out;
	}
	if (timestamp != NULL)
		*timestamp = t;
out:
	free(msg);
	return err;
}
