/*
 * print.c: how kt-verify shows an outcome: one JSON object on stdout
 * (--json), or its message and details for humans, on stdout when it is
 * news and on stderr when it is trouble; and its exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

/* No default in these switches: a new outcome must be placed here. */
int
kt_cli_exit_status(enum kt_verify_outcome o)
{
	switch (o) {
	case KT_VERIFY_OK:
		return 0;
	case KT_VERIFY_ERROR:
		return 1;
	case KT_VERIFY_FAILED:
		return 2;
	case KT_VERIFY_ATTACK:
		return 3;
	case KT_VERIFY_KEY_CHANGED:
		return 4;
	case KT_VERIFY_STALE:
		return 5;
	case KT_VERIFY_UNWITNESSED:
		return 6;
	case KT_VERIFY_ABSENT:
		return 7;
	}
	return 1;
}

/* Whether an outcome is news (stdout) rather than trouble (stderr). */
static int
to_stdout(enum kt_verify_outcome o)
{
	switch (o) {
	case KT_VERIFY_OK:
	case KT_VERIFY_KEY_CHANGED:
	case KT_VERIFY_STALE:
	case KT_VERIFY_UNWITNESSED:
	case KT_VERIFY_ABSENT:
		return 1;
	case KT_VERIFY_ERROR:
	case KT_VERIFY_FAILED:
	case KT_VERIFY_ATTACK:
		return 0;
	}
	return 0;
}

static long long
int_of(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static const char *
str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* lookup: the verified versions since the pin. */
static void
print_changes(FILE *to, const json_t *a)
{
	fprintf(to, "verified changes since the pinned key:\n");
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *x = json_array_get(a, i);

		fprintf(to, "  version %lld  index %lld  %s %s\n",
		    int_of(x, "version"), int_of(x, "index"), str_of(x, "type"),
		    json_object_get(x, "fingerprint") ? str_of(x, "fingerprint")
		                                      : "");
	}
}

/* monitor: every version of the label seen. */
static void
print_versions(FILE *to, const json_t *a)
{
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *x = json_array_get(a, i);

		fprintf(to, "  version %lld  index %lld  %s  %s\n",
		    int_of(x, "version"), int_of(x, "index"),
		    json_object_get(x, "fingerprint") ? str_of(x, "fingerprint")
		                                      : str_of(x, "type"),
		    json_is_true(json_object_get(x, "expected"))
		        ? "expected"
		        : "NOT EXPECTED");
	}
}

/* gossip: each peer's view, or why there is none. */
static void
print_peers(FILE *to, const json_t *a)
{
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *x = json_array_get(a, i);
		const json_t *c = json_object_get(x, "cosignatures");

		if (json_object_get(x, "size") != NULL && json_is_integer(c))
			fprintf(to,
			    "  %s: tree size %lld, %lld valid "
			    "cosignature(s)\n",
			    str_of(x, "peer"), int_of(x, "size"),
			    (long long)json_integer_value(c));
		else if (json_object_get(x, "size") != NULL)
			fprintf(to, "  %s: tree size %lld\n", str_of(x, "peer"),
			    int_of(x, "size"));
		else
			fprintf(to, "  %s: %s: %s\n", str_of(x, "peer"),
			    str_of(x, "status"), str_of(x, "message"));
	}
}

static void
print_human(const char *cmd, const struct kt_vresult *r,
    enum kt_verify_outcome o)
{
	FILE *to = to_stdout(o) ? stdout : stderr;
	const json_t *a;

	fprintf(to, "%s\n", r->msg);
	a = json_object_get(r->info, "changes");
	if (strcmp(cmd, "lookup") == 0 && json_is_array(a))
		print_changes(to, a);
	a = json_object_get(r->info, "versions");
	if (strcmp(cmd, "monitor") == 0 && json_is_array(a))
		print_versions(to, a);
	a = json_object_get(r->info, "peers");
	if (strcmp(cmd, "gossip") == 0 && json_is_array(a))
		print_peers(to, a);
	a = json_object_get(r->info, "evidence_files");
	if (json_is_array(a) && json_array_size(a) > 0) {
		for (size_t i = 0; i < json_array_size(a); i++)
			fprintf(to, "evidence: %s\n",
			    json_string_value(json_array_get(a, i)));
	} else if (r->evidence[0] != '\0') {
		fprintf(to, "evidence: %s\n", r->evidence);
	}
}

/* r's details with "status", "message" and "evidence" added. */
static void
print_json(const struct kt_vresult *r, enum kt_verify_outcome o)
{
	json_t *j = json_deep_copy(r->info);
	char *s;

	if (j == NULL)
		j = json_object();
	json_object_set_new(j, "status", json_integer(kt_cli_exit_status(o)));
	json_object_set_new(j, "message", json_string(r->msg));
	if (r->evidence[0] != '\0')
		json_object_set_new(j, "evidence", json_string(r->evidence));
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(j);
}

int
kt_cli_report(const char *cmd, int json, const struct kt_vresult *r,
    enum kt_verify_outcome o)
{
	if (json)
		print_json(r, o);
	else
		print_human(cmd, r, o);
	return kt_cli_exit_status(o);
}
