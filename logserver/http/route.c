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
/* clang-format off */
#define ROUTE(path, prefix, suffix, route) \
	{ path, sizeof(path) - 1, prefix, suffix, route }
/* clang-format on */

static const struct {
	const char *path;
	size_t len;
	int prefix;
	const char *suffix;
	enum kt_route route;
} routes[] = {
	ROUTE("/v1/keys", 0, NULL, KT_ROUTE_KEYS_POST),
	ROUTE("/v1/keys:batch", 0, NULL, KT_ROUTE_KEYS_BATCH),
	ROUTE("/v1/keys/", 1, "/history", KT_ROUTE_KEY_HISTORY),
	ROUTE("/v1/keys/", 1, "/openings", KT_ROUTE_KEY_ERASE),
	ROUTE("/v1/map/audit/", 1, NULL, KT_ROUTE_MAP_AUDIT),
	ROUTE("/v1/map/", 1, NULL, KT_ROUTE_MAP_PATH),
	ROUTE("/v1/keys/", 1, NULL, KT_ROUTE_KEY_GET),
	ROUTE("/checkpoint", 0, NULL, KT_ROUTE_CHECKPOINT),
	ROUTE("/v1/proof/inclusion", 0, NULL, KT_ROUTE_PROOF_INCLUSION),
	ROUTE("/v1/proof/consistency", 0, NULL, KT_ROUTE_PROOF_CONSISTENCY),
	ROUTE("/v1/entries", 0, NULL, KT_ROUTE_ENTRIES),
	ROUTE("/tile/", 1, NULL, KT_ROUTE_TILE),
	ROUTE("/healthz", 0, NULL, KT_ROUTE_HEALTHZ),
	ROUTE("/metrics", 0, NULL, KT_ROUTE_METRICS),
	ROUTE("/v1/log", 0, NULL, KT_ROUTE_LOG),
};

enum kt_route
kt_api_route(const char *path)
{
	size_t n = strlen(path), slen;

	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		size_t len = routes[i].len;
		const char *suffix = routes[i].suffix;

		if (n < len || (!routes[i].prefix && n != len) ||
		    memcmp(path, routes[i].path, len) != 0)
			continue;
		if (suffix == NULL)
			return routes[i].route;
		slen = strlen(suffix);
		if (n >= len + slen &&
		    memcmp(path + n - slen, suffix, slen) == 0)
			return routes[i].route;
	}
	return KT_ROUTE_OTHER;
}

int
kt_api_route_is_write(enum kt_route r)
{
	return r == KT_ROUTE_KEYS_POST || r == KT_ROUTE_KEYS_BATCH ||
	    r == KT_ROUTE_KEY_ERASE;
}

const char *
route_methods(enum kt_route r)
{
	if (r == KT_ROUTE_KEY_ERASE)
		return "DELETE";
	return kt_api_route_is_write(r) ? "POST" : "GET, HEAD";
}

int
route_takes(enum kt_route r, const char *method)
{
	if (r == KT_ROUTE_KEY_ERASE)
		return strcmp(method, "DELETE") == 0;
	if (kt_api_route_is_write(r))
		return strcmp(method, "POST") == 0;
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}
