/*
 * result.c: struct kt_vresult, the outcome of a command (docs/verify.md,
 * "Exit statuses"), with its message, evidence path and details.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "verify_internal.h"

void
kt_vresult_init(struct kt_vresult *r)
{
	r->status = KT_VERIFY_OK;
	r->msg[0] = '\0';
	r->evidence[0] = '\0';
	r->info = json_object();
}

void
kt_vresult_free(struct kt_vresult *r)
{
	if (r == NULL)
		return;
	json_decref(r->info);
	r->info = NULL;
}

int
kt_vres(struct kt_vresult *r, int status, const char *fmt, ...)
{
	va_list ap;

	if (r == NULL)
		return status;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->status = status;
	return status;
}

int
kt_vres_append(struct kt_vresult *r, int status, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (r == NULL)
		return status;
	n = strlen(r->msg);
	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - n, fmt, ap);
	va_end(ap);
	r->status = status;
	return status;
}
