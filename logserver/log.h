/*
 * log.h: kt-logd's structured log. One JSON object per line on stderr:
 *   {"ts":"2026-01-01T00:00:00.123Z","level":"info","event":"start",...}
 * Each line is written with a single write(2), so lines from several
 * threads never interleave. Secrets (keys, tokens) are never passed here.
 */
#ifndef KT_LOGSERVER_LOGJSON_H
#define KT_LOGSERVER_LOGJSON_H

enum kt_log_level {
	KT_LOG_DEBUG = 0,
	KT_LOG_INFO,
	KT_LOG_WARN,
	KT_LOG_ERROR,
};

/* Lines below `min` are dropped (default KT_LOG_INFO). Not thread-safe:
 * call before starting threads. */
void kt_log_set_level(enum kt_log_level min);

/* Writes one line to file descriptor fd instead of stderr (tests). */
void kt_log_set_fd(int fd);

/*
 * Logs `event` with extra fields given as a jansson json_pack() format for
 * an object and its arguments, e.g.
 *   kt_log(KT_LOG_INFO, "start", "{s:s, s:I}", "origin", o, "size", n);
 * fmt may be NULL for no extra fields. A bad format logs the event alone.
 */
void kt_log(enum kt_log_level level, const char *event, const char *fmt, ...);

#endif /* KT_LOGSERVER_LOGJSON_H */
