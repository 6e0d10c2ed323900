/*
 * log.h: kt-logd's one logger. Every line kt-logd writes about itself goes
 * through here, as one JSON object per line on stderr:
 *   {"ts":"2026-01-01T00:00:00.123Z","level":"info","event":"start",...}
 * ts (UTC, milliseconds), level and event come first, then the line's
 * typed fields in the order given.
 *
 * Every string (event, keys, values) is escaped: quotes, backslashes and
 * control characters (and DEL) as JSON escapes, and each byte that is not
 * part of valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF) becomes \ufffd. So a hostile value (a URL, a witness's
 * error text, a file name) can neither break the line nor forge fields.
 *
 * Each line is at most KT_LOG_LINE_MAX bytes and written with a single
 * write(2), so lines of several threads never interleave, even through a
 * pipe. A string value longer than KT_LOG_VALUE_MAX bytes once escaped is
 * cut at a character boundary and ends in an ellipsis (U+2026); fields
 * that no longer fit the line are left out and the line ends in
 * "truncated":true.
 *
 * Secrets (keys, tokens) are never passed here.
 */
#ifndef KT_LOGSERVER_LOG_H
#define KT_LOGSERVER_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define KT_LOG_LINE_MAX \
	4096                  /* bytes in one line with its newline
				 (PIPE_BUF: one write to a pipe stays whole) */
#define KT_LOG_VALUE_MAX 1024 /* bytes of one escaped string value */

enum kt_log_level {
	KT_LOG_DEBUG = 0,
	KT_LOG_INFO,
	KT_LOG_WARN,
	KT_LOG_ERROR,
};

enum kt_log_type {
	KT_LOG_T_STR = 0, /* s, len bytes (any bytes); s NULL: null */
	KT_LOG_T_INT,     /* i */
	KT_LOG_T_UINT,    /* u */
	KT_LOG_T_BOOL,    /* i, written as true (non-zero) or false */
};

/* One field of a line. Make them with the constructors below. */
struct kt_log_field {
	const char *key; /* NUL-terminated */
	enum kt_log_type type;
	const char *s;
	size_t len;
	int64_t i;
	uint64_t u;
};

static inline struct kt_log_field
kt_log_strn(const char *key, const char *s, size_t len)
{
	struct kt_log_field f = { .key = key,
		.type = KT_LOG_T_STR,
		.s = s,
		.len = len };
	return f;
}

static inline struct kt_log_field
kt_log_str(const char *key, const char *s)
{
	return kt_log_strn(key, s, s != NULL ? strlen(s) : 0);
}

static inline struct kt_log_field
kt_log_int(const char *key, int64_t i)
{
	struct kt_log_field f = { .key = key, .type = KT_LOG_T_INT, .i = i };
	return f;
}

static inline struct kt_log_field
kt_log_uint(const char *key, uint64_t u)
{
	struct kt_log_field f = { .key = key, .type = KT_LOG_T_UINT, .u = u };
	return f;
}

static inline struct kt_log_field
kt_log_bool(const char *key, int b)
{
	struct kt_log_field f = { .key = key,
		.type = KT_LOG_T_BOOL,
		.i = b != 0 };
	return f;
}

/* Lines below `min` are dropped (default KT_LOG_INFO). Not thread-safe:
 * call before starting threads. */
void kt_log_set_level(enum kt_log_level min);

/* Writes lines to file descriptor fd instead of stderr (2); -1 drops them
 * all (tests). Not thread-safe, as kt_log_set_level. */
void kt_log_set_fd(int fd);

/* 1 if a line of this level would be written. */
int kt_log_enabled(enum kt_log_level level);

/*
 * Formats one line into buf (KT_LOG_LINE_MAX bytes), newline included, and
 * returns its length. ts is the timestamp text to use (tests pass a fixed
 * one; kt_log_write passes the clock's). Fields named ts, level or event
 * are left out: they never override the line's own.
 */
size_t kt_log_format(char buf[KT_LOG_LINE_MAX], const char *ts,
    enum kt_log_level level, const char *event,
    const struct kt_log_field *fields, size_t n);

/* Writes one line with fields[0..n) (fields may be NULL when n is 0). */
void kt_log_write(enum kt_log_level level, const char *event,
    const struct kt_log_field *fields, size_t n);

/*
 * Logs one line with the fields given as constructor calls:
 *   KT_LOG(KT_LOG_INFO, "start", kt_log_str("origin", o),
 *       kt_log_uint("size", n));
 * The fields are not even built when the level is filtered out. A line
 * without fields: kt_log_write(level, event, NULL, 0).
 */
#define KT_LOG(level, event, ...) \
	do { \
		if (kt_log_enabled(level)) \
			kt_log_write((level), (event), \
			    (const struct kt_log_field[]){ __VA_ARGS__ }, \
			    sizeof((const struct kt_log_field[]){ \
			        __VA_ARGS__ }) / \
			        sizeof(struct kt_log_field)); \
	} while (0)

#endif /* KT_LOGSERVER_LOG_H */
