/*
 * note.c: C2SP signed notes (c2sp.org/signed-note): parsing, verifying
 * against known keys (Ed25519 note signatures here, cosignatures through
 * cosig.c) and signing. The keys themselves are key.c's.
 */
#include <string.h>

#include <sodium.h>

#include "kt/b64.h"
#include "kt/note.h"
#include "key_internal.h"
#include "note_sig_internal.h"
#include "text_internal.h"

kt_err
kt_note_parse(const char *buf, size_t len, struct kt_note *out)
{
	const char *sigs, *end, *p;
	size_t split;
	kt_err err;

	out->text = NULL;
	out->text_len = 0;
	out->nsigs = 0;
	if (buf == NULL)
		return KT_ERR_MALFORMED;
	if (len > KT_NOTE_MAX)
		return KT_ERR_TOO_LARGE;
	if (!kt_text_chars_ok(buf, len))
		return KT_ERR_MALFORMED;
	if (len == 0 || buf[len - 1] != '\n')
		return KT_ERR_MALFORMED;
	/*
	 * The signature block follows the last blank line ("\n\n"): signature
	 * lines are never empty, so no blank line can be inside it.
	 */
	split = len;
	for (size_t i = len - 1; i > 0; i--) {
		if (buf[i] == '\n' && buf[i - 1] == '\n') {
			split = i - 1;
			break;
		}
	}
	if (split == len)
		return KT_ERR_MALFORMED;
	/* Exactly one blank line: the text's own last line is not empty. */
	if (!kt_text_note_valid(buf, split + 1))
		return KT_ERR_MALFORMED;
	sigs = buf + split + 2;
	end = buf + len;
	if (sigs == end)
		return KT_ERR_MALFORMED;
	for (p = sigs; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		/* buf ends in '\n', so nl is never NULL. */
		if (out->nsigs == KT_NOTE_MAX_SIGS) {
			err = KT_ERR_TOO_LARGE;
			goto fail;
		}
		err = kt_note_sig_parse(p, (size_t)(nl - p),
		    &out->sigs[out->nsigs]);
		if (err != KT_OK)
			goto fail;
		out->nsigs++;
		p = nl + 1;
	}
	out->text = buf;
	out->text_len = split + 1;
	return KT_OK;
fail:
	out->nsigs = 0;
	return err;
}

/* Whether signature line sig names verifier v. */
static int
sig_matches(const struct kt_note_sig *sig, const struct kt_verifier *v)
{
	size_t vlen = strnlen(v->name, sizeof(v->name));

	return kt_key_sig_type_valid(v->type) && vlen == sig->name_len &&
	    memcmp(v->name, sig->name, vlen) == 0 &&
	    sodium_memcmp(v->id, sig->id, KT_KEY_ID_LEN) == 0;
}

/* Checks one known signature line against v. 1 if valid. */
static int
check_sig(const struct kt_note *note, const struct kt_note_sig *sig,
    const struct kt_verifier *v, uint64_t *time)
{
	uint8_t bin[KT_NOTE_SIG_BIN_MAX];
	size_t bin_len = 0;

	*time = 0;
	if (kt_b64_decode(sig->b64, sig->b64_len, bin, sizeof(bin), &bin_len) !=
	    KT_OK)
		return 0;
	switch (v->type) {
	case KT_KEY_ED25519:
		return bin_len == KT_KEY_ID_LEN + KT_SIG_LEN &&
		    crypto_sign_verify_detached(bin + KT_KEY_ID_LEN,
		        (const uint8_t *)note->text, note->text_len,
		        v->pub) == 0;
	case KT_KEY_COSIG:
		return bin_len == KT_COSIG_LEN &&
		    kt_cosig_verify(v, note->text, note->text_len, bin, time) ==
		    KT_OK;
	default:
		return 0;
	}
}

kt_err
kt_note_verify(const struct kt_note *note, const struct kt_verifier *vs,
    size_t nv, uint8_t *ok, uint64_t *times)
{
	int any = 0;

	if (ok != NULL)
		memset(ok, 0, nv);
	if (times != NULL)
		memset(times, 0, nv * sizeof(*times));
	if (note == NULL || note->text == NULL)
		return KT_ERR_MALFORMED;
	for (size_t i = 0; i < note->nsigs && i < KT_NOTE_MAX_SIGS; i++) {
		const struct kt_note_sig *sig = &note->sigs[i];

		for (size_t j = 0; j < nv; j++) {
			uint64_t t = 0;

			if (!sig_matches(sig, &vs[j]))
				continue;
			/*
			 * A known key whose signature fails means someone
			 * forged or damaged the note: say "no" outright
			 * (C2SP signed-note: verifiers should reject it).
			 */
			if (!check_sig(note, sig, &vs[j], &t)) {
				if (ok != NULL)
					memset(ok, 0, nv);
				if (times != NULL)
					memset(times, 0, nv * sizeof(*times));
				return KT_ERR_VERIFY;
			}
			any = 1;
			if (ok != NULL)
				ok[j] = 1;
			if (times != NULL)
				times[j] = t;
		}
	}
	return any ? KT_OK : KT_ERR_UNKNOWN_KEY;
}

kt_err
kt_note_open(const char *buf, size_t len, const struct kt_verifier *vs,
    size_t nv, struct kt_note *out, uint8_t *ok, uint64_t *times)
{
	kt_err err = kt_note_parse(buf, len, out);

	if (err != KT_OK) {
		if (ok != NULL)
			memset(ok, 0, nv);
		if (times != NULL)
			memset(times, 0, nv * sizeof(*times));
		return err;
	}
	return kt_note_verify(out, vs, nv, ok, times);
}

kt_err
kt_note_sign(const struct kt_signer *s, const char *text, size_t text_len,
    char *buf, size_t cap, size_t *out_len)
{
	struct kt_verifier v;
	uint8_t sig[KT_SIG_LEN];
	size_t line_len = 0;
	kt_err err;

	if (cap > 0)
		buf[0] = '\0';
	if (s == NULL)
		return KT_ERR_MALFORMED;
	kt_signer_verifier(s, &v);
	if (v.type != KT_KEY_ED25519 || !kt_text_note_valid(text, text_len))
		return KT_ERR_MALFORMED;
	/* The note as a whole must still parse: keep it within KT_NOTE_MAX. */
	if (text_len > KT_NOTE_MAX || text_len + 1 >= cap)
		return KT_ERR_TOO_LARGE;
	kt_signer_sign_raw(s, (const uint8_t *)text, text_len, sig);
	err = kt_note_sig_line(v.name, v.id, sig, sizeof(sig),
	    buf + text_len + 1, cap - text_len - 1, &line_len);
	if (err != KT_OK)
		goto out;
	if (text_len + 1 + line_len > KT_NOTE_MAX) {
		err = KT_ERR_TOO_LARGE;
		goto out;
	}
	memcpy(buf, text, text_len);
	buf[text_len] = '\n';
	if (out_len != NULL)
		*out_len = text_len + 1 + line_len;
out:
	if (err != KT_OK && cap > 0)
		buf[0] = '\0';
	return err;
}
