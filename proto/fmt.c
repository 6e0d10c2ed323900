/*
 * fmt.c: checked formatting into fixed buffers (kt/fmt.h).
 */
#include <stdio.h>
#include <string.h>

#include "kt/fmt.h"

kt_err
kt_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
	int n;

	if (buf == NULL || cap == 0)
		return KT_ERR_TOO_LARGE;
	n = vsnprintf(buf, cap, fmt, ap);
	if (n < 0 || (size_t)n >= cap) {
		/* Never leave a cut value behind: it could pass for the real
		 * one. After an encoding error buf's content is unspecified. */
		buf[0] = '\0';
		return KT_ERR_TOO_LARGE;
	}
	return KT_OK;
}

kt_err
kt_fmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	kt_err e;

	va_start(ap, fmt);
	e = kt_vfmt(buf, cap, fmt, ap);
	va_end(ap);
	return e;
}

/*
 * Ends the text in buf[0..cap) (cap > 0) with as much of "..." as fits
 * (three dots from cap 4 up), keeping at most its first keep bytes. The
 * dots start at the first byte of a UTF-8 character (never at a
 * continuation byte, 10xxxxxx), so no character is left cut in half.
 */
static void
mark_cut(char *buf, size_t cap, size_t keep)
{
	size_t dots = cap - 1 < 3 ? cap - 1 : 3;
	size_t p = cap - 1 - dots;

	if (p > keep)
		p = keep;
	while (p > 0 && ((unsigned char)buf[p] & 0xc0) == 0x80)
		p--;
	memcpy(buf + p, "...", dots);
	buf[p + dots] = '\0';
}

void
kt_vmsg(char *buf, size_t cap, const char *fmt, va_list ap)
{
	int n;

	if (buf == NULL || cap == 0)
		return;
	n = vsnprintf(buf, cap, fmt, ap);
	if (n < 0)
		mark_cut(buf, cap, 0); /* unspecified content: keep none */
	else if ((size_t)n >= cap)
		mark_cut(buf, cap, cap - 1);
}

void
kt_msg(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_vmsg(buf, cap, fmt, ap);
	va_end(ap);
}
