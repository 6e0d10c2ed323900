/*
 * log.c: kt-logd's JSON-lines logger. A line is built in a fixed buffer
 * (no allocation, so logging works when memory is short) and written with
 * one write(2).
 */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#include "kt/fmt.h"

#define TAIL_TRUNCATED ",\"truncated\":true}\n"
#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, marks a cut value */

static enum kt_log_level min_level = KT_LOG_INFO;
static int log_fd = 2;

void
kt_log_set_level(enum kt_log_level min)
{
	min_level = min;
}

void
kt_log_set_fd(int fd)
{
	log_fd = fd;
}

int
kt_log_enabled(enum kt_log_level level)
{
	return level >= min_level && log_fd >= 0;
}

static const char *
level_name(enum kt_log_level l)
{
	switch (l) {
	case KT_LOG_DEBUG:
		return "debug";
	case KT_LOG_INFO:
		return "info";
	case KT_LOG_WARN:
		return "warn";
	case KT_LOG_ERROR:
		return "error";
	}
	return "info";
}

/* ---- escaping ----------------------------------------------------------- */

/*
 * Length of the valid UTF-8 sequence at p (n > 0 bytes left), or 0 if p
 * does not start one. RFC 3629 section 4: no overlong forms (C0, C1,
 * E0 80..9F, F0 80..8F), no surrogates (ED A0..BF), nothing above
 * U+10FFFF (F4 90.., F5..FF).
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		if (p[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/*
 * Writes the JSON text for the character at p (n > 0 bytes left) into out
 * and returns its length (at most 6); *used gets the input bytes it stands
 * for. A byte that starts no valid UTF-8 sequence stands for itself alone
 * and becomes U+FFFD.
 */
static size_t
escape_char(const unsigned char *p, size_t n, char out[8], size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = utf8_len(p, n);

	*used = k != 0 ? k : 1;
	if (k == 0) {
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	if (k > 1) {
		memcpy(out, p, k);
		return k;
	}
	out[0] = '\\';
	switch (p[0]) {
	case '"':
		out[1] = '"';
		return 2;
	case '\\':
		out[1] = '\\';
		return 2;
	case '\n':
		out[1] = 'n';
		return 2;
	case '\r':
		out[1] = 'r';
		return 2;
	case '\t':
		out[1] = 't';
		return 2;
	case '\b':
		out[1] = 'b';
		return 2;
	case '\f':
		out[1] = 'f';
		return 2;
	default:
		break;
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

/* Bytes s takes once escaped, counted no further than just past limit. */
static size_t
escaped_len(const char *s, size_t len, size_t limit)
{
	size_t i = 0, out = 0, used;
	char tmp[8];

	while (i < len && out <= limit) {
		out += escape_char((const unsigned char *)s + i, len - i, tmp,
		    &used);
		i += used;
	}
	return out;
}

/* ---- one line in a fixed buffer ----------------------------------------- */

struct line {
	char *b;
	size_t len;
	size_t cap; /* bytes fields may use: the tail stays free */
	int full;   /* something did not fit */
};

static void
put(struct line *l, const char *p, size_t n)
{
	if (l->full || n > l->cap - l->len) {
		l->full = 1;
		return;
	}
	memcpy(l->b + l->len, p, n);
	l->len += n;
}

/* Appends s as a JSON string of at most KT_LOG_VALUE_MAX bytes between its
 * quotes; a longer one is cut at a character boundary and marked. */
static void
put_string(struct line *l, const char *s, size_t len)
{
	size_t i = 0, out = 0, room = KT_LOG_VALUE_MAX, n, used;
	int cut = escaped_len(s, len, KT_LOG_VALUE_MAX) > KT_LOG_VALUE_MAX;
	char tmp[8];

	if (cut)
		room -= sizeof ELLIPSIS - 1;
	put(l, "\"", 1);
	while (i < len) {
		n = escape_char((const unsigned char *)s + i, len - i, tmp,
		    &used);
		if (out + n > room)
			break;
		put(l, tmp, n);
		out += n;
		i += used;
	}
	if (cut)
		put(l, ELLIPSIS, sizeof ELLIPSIS - 1);
	put(l, "\"", 1);
}

static void
put_field(struct line *l, const struct kt_log_field *f)
{
	char num[24];
	kt_err e = KT_ERR_INTERNAL;

	put(l, ",", 1);
	put_string(l, f->key, strlen(f->key));
	put(l, ":", 1);
	switch (f->type) {
	case KT_LOG_T_STR:
		if (f->s == NULL)
			put(l, "null", 4);
		else
			put_string(l, f->s, f->len);
		return;
	case KT_LOG_T_INT:
		e = kt_fmt(num, sizeof num, "%" PRId64, f->i);
		break;
	case KT_LOG_T_UINT:
		e = kt_fmt(num, sizeof num, "%" PRIu64, f->u);
		break;
	case KT_LOG_T_BOOL:
		e = kt_fmt(num, sizeof num, "%s", f->i ? "true" : "false");
		break;
	}
	/* num holds any 64-bit number, so only a type no constructor makes
	 * fails here. */
	if (e != KT_OK)
		put(l, "null", 4);
	else
		put(l, num, strlen(num));
}

/* The line's own keys: a field never overrides them. */
static int
reserved(const char *key)
{
	return key == NULL || strcmp(key, "ts") == 0 ||
	    strcmp(key, "level") == 0 || strcmp(key, "event") == 0;
}

size_t
kt_log_format(char buf[KT_LOG_LINE_MAX], const char *ts,
    enum kt_log_level level, const char *event,
    const struct kt_log_field *fields, size_t n)
{
	struct line l = {
		.b = buf,
		.cap = KT_LOG_LINE_MAX - (sizeof TAIL_TRUNCATED - 1),
	};
	const char *lv = level_name(level);
	int truncated = 0;
	size_t i, mark;

	if (event == NULL)
		event = "";
	/* ts, level and event always fit: each string is at most
	 * KT_LOG_VALUE_MAX bytes, far below the line's room. */
	put(&l, "{\"ts\":", 6);
	put_string(&l, ts, strlen(ts));
	put(&l, ",\"level\":\"", 10);
	put(&l, lv, strlen(lv));
	put(&l, "\",\"event\":", 10);
	put_string(&l, event, strlen(event));
	for (i = 0; i < n && !truncated; i++) {
		if (reserved(fields[i].key))
			continue;
		mark = l.len;
		put_field(&l, &fields[i]);
		if (l.full) {
			/* Drop the field that did not fit, and all after it. */
			l.len = mark;
			l.full = 0;
			truncated = 1;
		}
	}
	l.cap = KT_LOG_LINE_MAX;
	if (truncated)
		put(&l, TAIL_TRUNCATED, sizeof TAIL_TRUNCATED - 1);
	else
		put(&l, "}\n", 2);
	return l.len;
}

/* The wall clock as 2026-01-01T00:00:00.123Z; "" if the clock cannot be
 * read (the line is still worth writing without its time). */
static void
timestamp(char ts[32])
{
	struct timespec now;
	struct tm tm;

	ts[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
	    gmtime_r(&now.tv_sec, &tm) == NULL)
		return;
	/* The modulos bound every field, so the text always fits; were it
	 * cut, the line would go out without a time rather than a wrong one. */
	if (kt_fmt(ts, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	        (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
	        tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
	        tm.tm_sec % 100, (int)(now.tv_nsec / 1000000) % 1000) != KT_OK)
		ts[0] = '\0';
}

void
kt_log_write(enum kt_log_level level, const char *event,
    const struct kt_log_field *fields, size_t n)
{
	char buf[KT_LOG_LINE_MAX], ts[32];
	size_t len;

	if (!kt_log_enabled(level))
		return;
	timestamp(ts);
	len = kt_log_format(buf, ts, level, event, fields, n);
	/* One write per line: lines of concurrent threads stay whole. A
	 * failing write has nowhere left to be reported. */
	while (write(log_fd, buf, len) < 0 && errno == EINTR)
		continue;
}
