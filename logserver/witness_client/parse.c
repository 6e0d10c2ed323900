/*
 * parse.c: the witness client's command-line and config values: a witness
 * "URL=VERIFIERKEY" and a submission interval. No I/O.
 */
#include "witness_client/witness_client.h"

#include <string.h>

#define INTERVAL_MAX_MS (24u * 3600u * 1000u)

static kt_err
parse_url(const char *p, size_t len, char *out)
{
	size_t i, skip;

	if (len >= 7 && memcmp(p, "http://", 7) == 0)
		skip = 7;
	else if (len >= 8 && memcmp(p, "https://", 8) == 0)
		skip = 8;
	else
		return KT_ERR_MALFORMED;
	while (len > skip && p[len - 1] == '/')
		len--;
	if (len == skip)
		return KT_ERR_MALFORMED;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] == 0x7f)
			return KT_ERR_MALFORMED;
	if (len >= KT_WCLIENT_URL_MAX)
		return KT_ERR_TOO_LARGE;
	memcpy(out, p, len);
	out[len] = '\0';
	return KT_OK;
}

kt_err
kt_wclient_parse_spec(const char *spec, size_t len, struct kt_wclient_cfg *out)
{
	struct kt_verifier v;
	kt_err rc;
	size_t i;

	memset(out, 0, sizeof(*out));
	/* The key's base64 may hold '=' padding and a URL may hold '=':
	 * split at the first '=' that leaves a valid key on its right. */
	for (i = 0; i < len; i++) {
		if (spec[i] != '=')
			continue;
		if (kt_verifier_parse(spec + i + 1, len - i - 1, &v) != KT_OK)
			continue;
		if (v.type != KT_KEY_COSIG)
			return KT_ERR_MALFORMED;
		rc = parse_url(spec, i, out->url);
		if (rc != KT_OK)
			return rc;
		out->key = v;
		return KT_OK;
	}
	return KT_ERR_MALFORMED;
}

kt_err
kt_wclient_parse_interval(const char *text, size_t len, unsigned *ms)
{
	uint64_t v = 0, mul;
	size_t i = 0;

	while (i < len && text[i] >= '0' && text[i] <= '9') {
		if (i >= 9)
			return KT_ERR_RANGE;
		v = v * 10 + (uint64_t)(text[i] - '0');
		i++;
	}
	if (i == 0)
		return KT_ERR_MALFORMED;
	if (len - i == 0 || (len - i == 1 && text[i] == 's'))
		mul = 1000;
	else if (len - i == 2 && memcmp(text + i, "ms", 2) == 0)
		mul = 1;
	else if (len - i == 1 && text[i] == 'm')
		mul = 60000;
	else
		return KT_ERR_MALFORMED;
	v *= mul;
	if (v < 1 || v > INTERVAL_MAX_MS)
		return KT_ERR_RANGE;
	*ms = (unsigned)v;
	return KT_OK;
}
