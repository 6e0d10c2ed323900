/*
 * result.c: struct kt_vresult, the outcome of a command (docs/verify.md,
 * "Exit statuses"), with its message, evidence path and details.
 */
#include <stdarg.h>
#include <string.h>

#include "kt/fmt.h"
#include "verify_internal.h"

void
kt_vresult_init(struct kt_vresult *r)
{
	r->outcome = KT_VERIFY_OK;
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

enum kt_verify_outcome
kt_vres(struct kt_vresult *r, enum kt_verify_outcome outcome, const char *fmt,
    ...)
{
	va_list ap;

	if (r == NULL)
		return outcome;
	va_start(ap, fmt);
	kt_vmsg(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->outcome = outcome;
	return outcome;
}

enum kt_verify_outcome
kt_vres_append(struct kt_vresult *r, enum kt_verify_outcome outcome,
    const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (r == NULL)
		return outcome;
	n = strlen(r->msg);
	va_start(ap, fmt);
	kt_vmsg(r->msg + n, sizeof(r->msg) - n, fmt, ap);
	va_end(ap);
	r->outcome = outcome;
	return outcome;
}

enum kt_verify_outcome
kt_vres_outcome(struct kt_vresult *r, enum kt_verify_outcome outcome)
{
	if (r != NULL)
		r->outcome = outcome;
	return outcome;
}
