#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static const char *
level_name(enum kt_log_level l)
{
	switch (l) {
	case KT_LOG_DEBUG: return "debug";
	case KT_LOG_INFO: return "info";
	case KT_LOG_WARN: return "warn";
	case KT_LOG_ERROR: return "error";
	}
	return "info";
}

void
kt_log(enum kt_log_level level, const char *event, const char *fmt, ...)
{
	json_t *obj = NULL, *extra = NULL;
	char ts[40], *line = NULL;
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
	    tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
	    tm.tm_sec % 100, (int)(now.tv_nsec / 1000000) % 1000);

	obj = json_pack("{s:s, s:s, s:s}", "ts", ts, "level",
	    level_name(level), "event", event ? event : "");
	if (obj == NULL)
		goto out;
	if (fmt != NULL) {
		va_start(ap, fmt);
		extra = json_vpack_ex(NULL, 0, fmt, ap);
		va_end(ap);
		/* Fields never override ts, level and event. */
		if (extra != NULL && json_is_object(extra))
			json_object_update_missing(obj, extra);
	}
	line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line == NULL)
		goto out;
	{
		size_t n = strlen(line);
		char *nl = realloc(line, n + 2);
		if (nl == NULL)
			goto out;
		line = nl;
		line[n] = '\n';
		/* One write per line: lines of concurrent threads stay whole. */
		if (write(log_fd, line, n + 1) < 0) {
			/* Nowhere left to report a failing log. */
		}
	}
out:
	free(line);
	json_decref(extra);
	json_decref(obj);
}
