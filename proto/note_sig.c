/*
 * note_sig.c: one signature line of a C2SP signed note,
 * "— <key name> <base64(key ID || signature)>\n": parsing it into a
 * struct kt_note_sig and formatting it (kt_note_sig_line). Both note.c and
 * cosig.c build on this file; it calls only key.c and b64.c.
 */
#include <string.h>

#include <sodium.h>

#include "kt/b64.h"
#include "kt/note.h"
#include "note_sig_internal.h"

/* The em dash U+2014 and a space: the prefix of every signature line. */
static const char sig_prefix[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_LEN 4

kt_err
kt_note_sig_parse(const char *line, size_t len, struct kt_note_sig *sig)
{
	uint8_t bin[KT_NOTE_SIG_BIN_MAX];
	const char *sp;
	size_t bin_len = 0;
	kt_err err;

	if (len < SIG_PREFIX_LEN || memcmp(line, sig_prefix, SIG_PREFIX_LEN))
		return KT_ERR_MALFORMED;
	line += SIG_PREFIX_LEN;
	len -= SIG_PREFIX_LEN;
	sp = memchr(line, ' ', len);
	if (sp == NULL)
		return KT_ERR_MALFORMED;
	sig->name = line;
	sig->name_len = (size_t)(sp - line);
	if (!kt_key_name_valid(sig->name, sig->name_len))
		return KT_ERR_MALFORMED;
	sig->b64 = sp + 1;
	sig->b64_len = len - sig->name_len - 1;
	if (sig->b64_len > KT_NOTE_SIG_B64_MAX)
		return KT_ERR_TOO_LARGE;
	/* A second space (or any non-alphabet byte) fails the decode. */
	err = kt_b64_decode(sig->b64, sig->b64_len, bin, sizeof(bin), &bin_len);
	if (err != KT_OK)
		return KT_ERR_MALFORMED;
	if (bin_len <= KT_KEY_ID_LEN)
		return KT_ERR_MALFORMED;
	memcpy(sig->id, bin, KT_KEY_ID_LEN);
	return KT_OK;
}

kt_err
kt_note_sig_line(const char *name, const uint8_t id[KT_KEY_ID_LEN],
    const uint8_t *sig, size_t sig_len, char *buf, size_t cap, size_t *out_len)
{
	uint8_t bin[KT_NOTE_SIG_BIN_MAX];
	size_t name_len, b64_len, need;

	if (cap > 0)
		buf[0] = '\0';
	if (name == NULL)
		return KT_ERR_MALFORMED;
	name_len = strnlen(name, KT_KEY_NAME_MAX + 1);
	if (!kt_key_name_valid(name, name_len) || sig_len == 0 || sig == NULL)
		return KT_ERR_MALFORMED;
	if (sig_len > KT_NOTE_SIG_BIN_MAX - KT_KEY_ID_LEN)
		return KT_ERR_TOO_LARGE;
	memcpy(bin, id, KT_KEY_ID_LEN);
	memcpy(bin + KT_KEY_ID_LEN, sig, sig_len);
	b64_len = sodium_base64_encoded_len(KT_KEY_ID_LEN + sig_len,
	              sodium_base64_VARIANT_ORIGINAL) -
	    1;
	need = SIG_PREFIX_LEN + name_len + 1 + b64_len + 1;
	if (need >= cap)
		return KT_ERR_TOO_LARGE;
	memcpy(buf, sig_prefix, SIG_PREFIX_LEN);
	memcpy(buf + SIG_PREFIX_LEN, name, name_len);
	buf[SIG_PREFIX_LEN + name_len] = ' ';
	sodium_bin2base64(buf + SIG_PREFIX_LEN + name_len + 1, b64_len + 1, bin,
	    KT_KEY_ID_LEN + sig_len, sodium_base64_VARIANT_ORIGINAL);
	buf[need - 1] = '\n';
	buf[need] = '\0';
	if (out_len != NULL)
		*out_len = need;
	return KT_OK;
}
