/*
 * text.c: the text rules of proto/'s line-based formats (see
 * text_internal.h): allowed characters, note text, lines, decimals.
 */
#include <string.h>

#include "text_internal.h"
#include "utf8_internal.h"

int
kt_text_chars_ok(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n;

		if (u[i] < 0x80) {
			/* Fast path for ASCII. */
			if ((u[i] < 0x20 && u[i] != '\n') || u[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		n = kt_utf8_next(u + i, len - i, &cp);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

int
kt_text_note_valid(const char *t, size_t len)
{
	if (t == NULL || len < 2 || t[len - 1] != '\n' || t[len - 2] == '\n')
		return 0;
	return kt_text_chars_ok(t, len);
}

int
kt_text_next_line(const char **p, const char *end, const char **line,
    size_t *len)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (nl == NULL)
		return 0;
	*line = *p;
	*len = (size_t)(nl - *p);
	*p = nl + 1;
	return 1;
}

int
kt_text_parse_u64(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (p[0] == '0' && len > 1))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (p[i] < '0' || p[i] > '9')
			return 0;
		d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return 1;
}
