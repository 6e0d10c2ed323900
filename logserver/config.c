#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/commit.h"
#include "kt/fmt.h"
#include "kt/label.h"

void
kt_config_defaults(struct kt_config *c)
{
	static const char listen[] = "127.0.0.1:8080";

	_Static_assert(sizeof listen <= sizeof c->listen,
	    "the default listen address fits its field");
	memset(c, 0, sizeof *c);
	memcpy(c->listen, listen, sizeof listen);
	c->threads = 2;
	c->seq_max_batch = 4096;
	c->map_retention = 600;
	c->seq_max_queue = 65536;
	/* A batch of 1000 publications of 4 KiB keys is about 5.5 MB of JSON. */
	c->limits.max_body = 8u << 20;
	c->limits.max_batch = 1000;
	c->limits.max_label = KT_LABEL_MAX;
	c->limits.max_key = KT_KEY_MAX;
	c->limits.max_connections = 1024;
	/* A quarter of the connections: one address cannot take them all,
	 * and a proxy in front (one address for everyone) still gets many
	 * (set it to max_connections behind one). */
	c->limits.max_per_ip = 256;
	c->limits.conn_timeout = 30;
	c->limits.request_timeout = 30;
	/* Eight largest bodies at once, or hundreds of usual batches. */
	c->limits.max_buffered = 64u << 20;
	c->limits.page_size = 1000;
	c->witness_interval_ms = 1000;
	c->witness_quorum = 1;
}

/* Strict unsigned decimal in [lo, hi]: digits only, no sign or spaces. */
static kt_err
parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return KT_ERR_MALFORMED;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return KT_ERR_MALFORMED;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return KT_ERR_RANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v < lo || v > hi)
		return KT_ERR_RANGE;
	*out = v;
	return KT_OK;
}

static kt_err
parse_bool(const char *s, int *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 ||
	    strcmp(s, "1") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 ||
	    strcmp(s, "0") == 0)
		*out = 0;
	else
		return KT_ERR_MALFORMED;
	return KT_OK;
}

static kt_err
set_path(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);
	if (n == 0)
		return KT_ERR_MALFORMED;
	if (n >= cap)
		return KT_ERR_TOO_LARGE;
	memcpy(dst, v, n + 1);
	return KT_OK;
}

enum kind { K_PATH, K_SIZE, K_UINT, K_BOOL };

struct setting {
	const char *name;
	enum kind kind;
	size_t off;      /* offset in struct kt_config */
	size_t cap;      /* K_PATH: buffer size */
	uint64_t lo, hi; /* K_SIZE, K_UINT bounds */
	const char *help;
};

#define OFF(f) offsetof(struct kt_config, f)
static const struct setting settings[] = {
	{ "data", K_PATH, OFF(data), KT_CONFIG_PATH_MAX, 0, 0,
	    "data folder (LMDB environment)" },
	{ "key", K_PATH, OFF(key), KT_CONFIG_PATH_MAX, 0, 0,
	    "signer key file (mode 0600)" },
	{ "tokens", K_PATH, OFF(tokens), KT_CONFIG_PATH_MAX, 0, 0,
	    "bearer tokens file (sha256:<hex> lines)" },
	{ "listen", K_PATH, OFF(listen), 256, 0, 0, "HOST:PORT" },
	{ "allow_anonymous_writes", K_BOOL, OFF(allow_anonymous_writes), 0, 0,
	    0, "accept writes without a token (loopback only)" },
	{ "threads", K_UINT, OFF(threads), 0, 1, 64, "HTTP worker threads" },
	{ "seq_max_batch", K_SIZE, OFF(seq_max_batch), 0, 1, 1u << 20,
	    "entries per commit" },
	{ "seq_max_queue", K_SIZE, OFF(seq_max_queue), 0, 1, 1u << 24,
	    "entries queued before 503" },
	{ "map_retention", K_UINT, OFF(map_retention), 0, 1, 30 * 86400,
	    "seconds an older map stays readable (lookups at an older "
	    "checkpoint_size, audit paths)" },
	{ "log_debug", K_BOOL, OFF(log_debug), 0, 0, 0, "debug log lines" },
	{ "read_only", K_BOOL, OFF(read_only), 0, 0, 0,
	    "serve reads of the writer's data folder, take no writes" },
	{ "writer_url", K_PATH, OFF(writer_url), 256, 0, 0,
	    "the writer's URL, named in a replica's answer to a write" },
	{ "max_body", K_SIZE, OFF(limits.max_body), 0, 64, 1u << 30,
	    "bytes in a request body" },
	{ "max_batch", K_SIZE, OFF(limits.max_batch), 0, 1, 1u << 20,
	    "entries in one batch request" },
	{ "max_label", K_SIZE, OFF(limits.max_label), 0, 1, KT_LABEL_MAX,
	    "bytes in a label" },
	{ "max_key", K_SIZE, OFF(limits.max_key), 0, 1, KT_KEY_MAX,
	    "bytes in a key" },
	{ "max_connections", K_UINT, OFF(limits.max_connections), 0, 1, 100000,
	    "open HTTP connections" },
	{ "max_connections_per_ip", K_UINT, OFF(limits.max_per_ip), 0, 1,
	    100000, "open HTTP connections from one address" },
	{ "connection_timeout", K_UINT, OFF(limits.conn_timeout), 0, 1, 86400,
	    "seconds before an idle connection is closed" },
	{ "request_timeout", K_UINT, OFF(limits.request_timeout), 0, 1, 86400,
	    "seconds to read a whole request, or to send its answer" },
	{ "max_buffered", K_SIZE, OFF(limits.max_buffered), 0, 64, 1ull << 40,
	    "request body bytes held at once, all connections together" },
	{ "max_db_size", K_SIZE, OFF(max_db_size), 0, 0, 1ull << 50,
	    "bytes the data file may grow to (0: no limit)" },
	{ "page_size", K_SIZE, OFF(limits.page_size), 0, 1, 100000,
	    "entries in one GET /v1/entries page" },
	{ "witness_quorum", K_UINT, OFF(witness_quorum), 0, 1, KT_WCLIENT_MAX,
	    "cosignatures a newer checkpoint needs before /checkpoint serves it" },
};
#undef OFF

kt_err
kt_config_set(struct kt_config *c, const char *name, const char *value,
    char *err, size_t errlen)
{
	const struct setting *st = NULL;
	uint64_t v = 0;
	kt_err e = KT_OK;
	char *base = (char *)c;

	/* "witness" repeats: each one appends a witness. */
	if (strcmp(name, "witness") == 0) {
		if (c->nwitnesses == KT_WCLIENT_MAX) {
			kt_msg(err, errlen, "witness: at most %d witnesses",
			    KT_WCLIENT_MAX);
			return KT_ERR_RANGE;
		}
		if (kt_wclient_parse_spec(value, strlen(value),
		        &c->witnesses[c->nwitnesses]) != KT_OK) {
			kt_msg(err, errlen,
			    "witness: '%s' is not "
			    "URL=VERIFIERKEY (an http(s) URL and a cosignature "
			    "verifier key, type 0x04)",
			    value);
			return KT_ERR_MALFORMED;
		}
		c->nwitnesses++;
		return KT_OK;
	}
	if (strcmp(name, "witness_interval") == 0) {
		if (kt_wclient_parse_interval(value, strlen(value),
		        &c->witness_interval_ms) != KT_OK) {
			kt_msg(err, errlen,
			    "witness_interval: '%s' is not a "
			    "duration like 500ms, 1s or 2m",
			    value);
			return KT_ERR_MALFORMED;
		}
		return KT_OK;
	}
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
		if (strcmp(settings[i].name, name) == 0)
			st = &settings[i];
	if (st == NULL) {
		kt_msg(err, errlen, "unknown setting '%s'", name);
		return KT_ERR_NOT_FOUND;
	}
	switch (st->kind) {
	case K_PATH:
		e = set_path(base + st->off, st->cap, value);
		break;
	case K_BOOL:
		e = parse_bool(value, (int *)(void *)(base + st->off));
		break;
	case K_SIZE:
		e = parse_u64(value, st->lo, st->hi, &v);
		if (e == KT_OK)
			*(size_t *)(void *)(base + st->off) = (size_t)v;
		break;
	case K_UINT:
		e = parse_u64(value, st->lo, st->hi, &v);
		if (e == KT_OK)
			*(unsigned *)(void *)(base + st->off) = (unsigned)v;
		break;
	}
	if (e != KT_OK) {
		if (st->kind == K_SIZE || st->kind == K_UINT)
			kt_msg(err, errlen,
			    "%s: '%s' is not a whole number "
			    "in %llu..%llu (%s)",
			    name, value, (unsigned long long)st->lo,
			    (unsigned long long)st->hi, st->help);
		else if (st->kind == K_BOOL)
			kt_msg(err, errlen, "%s: '%s' is not true or false",
			    name, value);
		else
			kt_msg(err, errlen, "%s: bad value (empty or too long)",
			    name);
	}
	return e;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s &&
	    (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
	        end[-1] == '\r'))
		*--end = '\0';
	return s;
}

kt_err
kt_config_load(struct kt_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = NULL;
	char line[KT_CONFIG_PATH_MAX + 128], msg[256];
	unsigned lineno = 0;
	kt_err e = KT_OK;

	f = fopen(path, "r");
	if (f == NULL) {
		e = errno == ENOENT ? KT_ERR_NOT_FOUND : KT_ERR_IO;
		kt_msg(err, errlen, "%s: %s", path, strerror(errno));
		return e;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *s, *eq, *name, *value;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			kt_msg(err, errlen, "%s:%u: line too long", path,
			    lineno);
			e = KT_ERR_TOO_LARGE;
			goto out;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			kt_msg(err, errlen, "%s:%u: expected 'name = value'",
			    path, lineno);
			e = KT_ERR_MALFORMED;
			goto out;
		}
		*eq = '\0';
		name = trim(s);
		value = trim(eq + 1);
		e = kt_config_set(c, name, value, msg, sizeof msg);
		if (e != KT_OK) {
			kt_msg(err, errlen, "%s:%u: %s", path, lineno, msg);
			goto out;
		}
	}
	if (ferror(f)) {
		kt_msg(err, errlen, "%s: read error", path);
		e = KT_ERR_IO;
	}
out:
	(void)fclose(f); /* read-only, data already read */
	return e;
}

kt_err
kt_config_split_listen(const char *listen, char *host, size_t hostcap,
    uint16_t *port)
{
	const char *colon, *h = listen;
	size_t hlen;
	uint64_t p;

	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');
		if (close == NULL || close[1] != ':')
			return KT_ERR_MALFORMED;
		h = listen + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			return KT_ERR_MALFORMED;
		hlen = (size_t)(colon - listen);
		if (memchr(listen, ':', hlen) != NULL)
			return KT_ERR_MALFORMED; /* bare IPv6 needs brackets */
	}
	if (hlen == 0 || hlen >= hostcap)
		return KT_ERR_MALFORMED;
	if (parse_u64(colon + 1, 0, 65535, &p) != KT_OK)
		return KT_ERR_MALFORMED;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return KT_OK;
}

int
kt_config_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

kt_err
kt_config_check(const struct kt_config *c, char *err, size_t errlen)
{
	char host[256];
	uint16_t port;

	if (c->data[0] == '\0') {
		kt_msg(err, errlen, "no data folder: give --data DIR");
		return KT_ERR_MALFORMED;
	}
	if (c->key[0] == '\0') {
		kt_msg(err, errlen, "no key file: give --key KEYFILE");
		return KT_ERR_MALFORMED;
	}
	if (kt_config_split_listen(c->listen, host, sizeof host, &port) !=
	    KT_OK) {
		kt_msg(err, errlen,
		    "listen address '%s' is not HOST:PORT "
		    "(or [IPv6]:PORT)",
		    c->listen);
		return KT_ERR_MALFORMED;
	}
	if (c->allow_anonymous_writes && c->tokens[0] != '\0') {
		kt_msg(err, errlen,
		    "--allow-anonymous-writes and --tokens "
		    "exclude each other");
		return KT_ERR_MALFORMED;
	}
	/* Anonymous writes on a reachable address would let anyone rewrite
	 * every user's key history: refuse rather than warn. */
	if (c->allow_anonymous_writes && !kt_config_host_is_loopback(host)) {
		kt_msg(err, errlen,
		    "--allow-anonymous-writes is only allowed "
		    "on a loopback address (127.0.0.1, ::1), not '%s'",
		    host);
		return KT_ERR_PERM;
	}
	if (c->seq_max_batch < c->limits.max_batch) {
		kt_msg(err, errlen,
		    "seq_max_batch (%zu) must be at least "
		    "max_batch (%zu)",
		    c->seq_max_batch, c->limits.max_batch);
		return KT_ERR_RANGE;
	}
	if (c->limits.max_buffered < c->limits.max_body) {
		kt_msg(err, errlen,
		    "max_buffered (%zu) must be at least "
		    "max_body (%zu)",
		    c->limits.max_buffered, c->limits.max_body);
		return KT_ERR_RANGE;
	}
	if (c->seq_max_queue < c->seq_max_batch) {
		kt_msg(err, errlen,
		    "seq_max_queue (%zu) must be at least "
		    "seq_max_batch (%zu)",
		    c->seq_max_queue, c->seq_max_batch);
		return KT_ERR_RANGE;
	}
	/* A replica takes no writes and submits nothing: the writer does. */
	if (c->read_only && c->allow_anonymous_writes) {
		kt_msg(err, errlen,
		    "--read-only and --allow-anonymous-writes exclude each "
		    "other (a replica takes no writes)");
		return KT_ERR_MALFORMED;
	}
	for (const char *p = c->writer_url; *p != '\0'; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\') {
			kt_msg(err, errlen,
			    "writer_url: printable ASCII with no spaces, quotes "
			    "or backslashes");
			return KT_ERR_MALFORMED;
		}
	}
	if (c->read_only && c->nwitnesses > 0) {
		kt_msg(err, errlen,
		    "--read-only and --witness exclude each other (the "
		    "writer submits checkpoints to witnesses)");
		return KT_ERR_MALFORMED;
	}
	/* A quorum no set of these witnesses can meet would leave
	 * /checkpoint on the log's own signature for ever. */
	if (c->nwitnesses > 0 && c->witness_quorum > c->nwitnesses) {
		kt_msg(err, errlen,
		    "witness_quorum (%u) is more than the %zu "
		    "witness(es) given",
		    (unsigned)c->witness_quorum, (size_t)c->nwitnesses);
		return KT_ERR_RANGE;
	}
	return KT_OK;
}
