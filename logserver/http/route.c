/*
 * route.c: the routing table. A raw path (not percent-decoded) names one
 * route; the route says which methods it takes. Labels are matched before
 * decoding, so "/v1/keys/<label>/history" is the history of <label> only
 * when the last segment is literally "history".
 */
#include <string.h>

#include "http/internal.h"

/*
 * The first entry that matches wins. An entry without prefix is an exact
 * path; with prefix, any path that starts with path (and, with suffix,
 * also ends with it after at least the prefix).
 */
static const struct {
	const char *path;
	int prefix;
	const char *suffix;
	enum kt_route route;
} routes[] = {
	{ "/v1/keys", 0, NULL, KT_ROUTE_KEYS_POST },
	{ "/v1/keys:batch", 0, NULL, KT_ROUTE_KEYS_BATCH },
	{ "/v1/keys/", 1, "/history", KT_ROUTE_KEY_HISTORY },
	{ "/v1/keys/", 1, NULL, KT_ROUTE_KEY_GET },
	{ "/checkpoint", 0, NULL, KT_ROUTE_CHECKPOINT },
	{ "/v1/proof/inclusion", 0, NULL, KT_ROUTE_PROOF_INCLUSION },
	{ "/v1/proof/consistency", 0, NULL, KT_ROUTE_PROOF_CONSISTENCY },
	{ "/v1/entries", 0, NULL, KT_ROUTE_ENTRIES },
	{ "/tile/", 1, NULL, KT_ROUTE_TILE },
	{ "/healthz", 0, NULL, KT_ROUTE_HEALTHZ },
	{ "/metrics", 0, NULL, KT_ROUTE_METRICS },
};

static int
matches(const char *path, size_t n, const char *p, int prefix,
    const char *suffix)
{
	size_t plen = strlen(p), slen;

	if (!prefix)
		return strcmp(path, p) == 0;
	if (n < plen || memcmp(path, p, plen) != 0)
		return 0;
	if (suffix == NULL)
		return 1;
	slen = strlen(suffix);
	return n >= plen + slen && strcmp(path + n - slen, suffix) == 0;
}

enum kt_route
kt_api_route(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (matches(path, n, routes[i].path, routes[i].prefix,
		    routes[i].suffix))
			return routes[i].route;
	return KT_ROUTE_OTHER;
}

int
kt_api_route_is_write(enum kt_route r)
{
	return r == KT_ROUTE_KEYS_POST || r == KT_ROUTE_KEYS_BATCH;
}

const char *
route_methods(enum kt_route r)
{
	return kt_api_route_is_write(r) ? "POST" : "GET, HEAD";
}

int
route_takes(enum kt_route r, const char *method)
{
	if (kt_api_route_is_write(r))
		return strcmp(method, "POST") == 0;
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}
