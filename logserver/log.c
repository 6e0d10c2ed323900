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
#include "kt/json.h"

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

/* Bytes s takes once escaped, counted no further than just past limit. */
static size_t
escaped_len(const char *s, size_t len, size_t limit)
{
	size_t i = 0, out = 0, used;
	char tmp[KT_JSON_CHAR_MAX];

	while (i < len && out <= limit) {
		out += kt_json_escape_char((const unsigned char *)s + i,
		    len - i, tmp, &used);
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
	char tmp[KT_JSON_CHAR_MAX];

	if (cut)
		room -= sizeof ELLIPSIS - 1;
	put(l, "\"", 1);
	while (i < len) {
		n = kt_json_escape_char((const unsigned char *)s + i, len - i,
		    tmp, &used);
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
