/*
 * json.c: the JSON string escaper (kt/json.h).
 */
#include <stdint.h>
#include <string.h>

#include "kt/json.h"
#include "utf8_internal.h"

size_t
kt_json_escape_char(const unsigned char *p, size_t n,
    char out[KT_JSON_CHAR_MAX], size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	static const char shortform[0x20] = { ['\n'] = 'n',
		['\r'] = 'r',
		['\t'] = 't',
		['\b'] = 'b',
		['\f'] = 'f' };
	uint32_t cp;
	size_t k;

	if (p[0] >= 0x80) {
		k = kt_utf8_next(p, n, &cp);
		if (k == 0) {
			*used = 1;
			memcpy(out, "\\ufffd", 6);
			return 6;
		}
		*used = k;
		memcpy(out, p, k);
		return k;
	}
	*used = 1;
	if (p[0] == '"' || p[0] == '\\') {
		out[0] = '\\';
		out[1] = (char)p[0];
		return 2;
	}
	if (p[0] < 0x20 && shortform[p[0]] != 0) {
		out[0] = '\\';
		out[1] = shortform[p[0]];
		return 2;
	}
	if (p[0] < 0x20 || p[0] == 0x7f) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[p[0] >> 4];
		out[5] = hex[p[0] & 0xf];
		return 6;
	}
	out[0] = (char)p[0];
	return 1;
}

size_t
kt_json_escape(const char *s, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, used;

	while (i < n) {
		/* Printable ASCII but '"' and '\\' stands for itself: the
		 * common case, kept to one test per byte. */
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' &&
		    p[i] != '\\') {
			out[o++] = (char)p[i++];
			continue;
		}
		o += kt_json_escape_char(p + i, n - i, out + o, &used);
		i += used;
	}
	return o;
}
