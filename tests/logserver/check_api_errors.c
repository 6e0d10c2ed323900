/*
 * check_api_errors.c: end-to-end tests of kt-logd's HTTP API with the real
 * binary: authorisation, and a table of malformed requests answered with
 * their exact status and leaving the tree unchanged.
 */
#include <check.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_testlib.h"
#include "harness/logd.h"
#include "harness/runner.h"
#include "kt/merkle.h"
#include "kt/tile.h"

/* ---- authorisation ---------------------------------------------------- */

START_TEST(test_auth)
{
	static const char body[] = "{\"label\":\"mallory\",\"key_type\":"
	                           "\"ed25519\",\"key\":\"" KEY_A "\"}";
	static const char batch[] =
	    "{\"entries\":[{\"label\":\"mallory\","
	    "\"key_type\":\"ed25519\",\"key\":\"" KEY_A "\"}]}";
	const char *tokens[] = { NULL, "wrong-token", "", NULL };
	char url[128], url2[128];
	struct http_resp r;

	snprintf(url, sizeof url, "%s/v1/keys", S.url);
	snprintf(url2, sizeof url2, "%s/v1/keys:batch", S.url);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(http_request(NULL, "POST", url, tokens[i],
		                     NULL, body, strlen(body), &r),
		    0);
		ck_assert_int_eq(r.status, 401);
		ck_assert_str_eq(r.www_auth, "Bearer");
		ck_assert(strstr(r.body, "\"error\"") != NULL);
		http_resp_free(&r);
		ck_assert_int_eq(http_request(NULL, "POST", url2, tokens[i],
		                     NULL, batch, strlen(batch), &r),
		    0);
		ck_assert_int_eq(r.status, 401);
		http_resp_free(&r);
	}
	{
		/* Another scheme, and the token's hash instead of the token. */
		char h1[200], h2[200];
		const char *hs1[] = { h1, NULL }, *hs2[] = { h2, NULL };
		char line[128];
		FILE *f = fopen(S.tokens, "r");
		ck_assert(f != NULL && fgets(line, sizeof line, f) != NULL);
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		snprintf(h1, sizeof h1, "Authorization: Basic %s", S.token);
		snprintf(h2, sizeof h2, "Authorization: Bearer %s", line);
		ck_assert_int_eq(http_request(NULL, "POST", url, NULL, hs1,
		                     body, strlen(body), &r),
		    0);
		ck_assert_int_eq(r.status, 401);
		http_resp_free(&r);
		ck_assert_int_eq(http_request(NULL, "POST", url, NULL, hs2,
		                     body, strlen(body), &r),
		    0);
		ck_assert_int_eq(r.status, 401);
		http_resp_free(&r);
	}
	ck_assert_uint_eq(logd_size(&S), 1);
	ck_assert_int_eq(logd_get(&S, "/v1/keys/mallory", &r), 404);
	http_resp_free(&r);
	/* The right token works. */
	ck_assert_int_eq(http_request(NULL, "POST", url, S.token, NULL, body,
	                     strlen(body), &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
	ck_assert_uint_eq(logd_size(&S), 3);
	/* Erasure is a write: it needs the token too. */
	snprintf(url, sizeof url, "%s/v1/keys/mallory/openings", S.url);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(http_request(NULL, "DELETE", url, tokens[i],
		                     NULL, NULL, 0, &r),
		    0);
		ck_assert_int_eq(r.status, 401);
		ck_assert_str_eq(r.www_auth, "Bearer");
		ck_assert(strstr(r.body, "\"error\"") != NULL);
		http_resp_free(&r);
	}
	ck_assert_int_eq(http_request(NULL, "DELETE", url, S.token, NULL, NULL,
	                     0, &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
	ck_assert_uint_eq(logd_size(&S), 3);
}
END_TEST

/* ---- malformed requests: exact status, tree unchanged ----------------- */

struct bad {
	const char *method;
	const char *path;
	const char *body; /* NULL: none */
	long status;
	const char *ctype; /* NULL: application/json for POST */
};

#define PUB(l, t, k) "{\"label\":" l ",\"key_type\":" t ",\"key\":" k "}"
#define KA "\"" KEY_A "\""
#define HEX63 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"

static const struct bad bads[] = {
	/* JSON syntax and shape */
	{ "POST", "/v1/keys", "not json", 400, NULL },
	{ "POST", "/v1/keys", "", 400, NULL },
	{ "POST", "/v1/keys", "[]", 400, NULL },
	{ "POST", "/v1/keys", "{}", 400, NULL },
	{ "POST", "/v1/keys", "{\"label\":\"x\"", 400, NULL },
	{ "POST", "/v1/keys", PUB("\"x\"", "\"ed25519\"", KA) " trailing", 400,
	    NULL },
	{ "POST", "/v1/keys",
	    "{\"label\":\"x\",\"label\":\"y\","
	    "\"key_type\":\"ed25519\",\"key\":" KA "}",
	    400, NULL },
	{ "POST", "/v1/keys",
	    "{\"label\":\"\xc3\x28\",\"key_type\":"
	    "\"ed25519\",\"key\":" KA "}",
	    400, NULL },
	/* wrong types */
	{ "POST", "/v1/keys", PUB("42", "\"ed25519\"", KA), 400, NULL },
	{ "POST", "/v1/keys", PUB("\"x\"", "7", KA), 400, NULL },
	{ "POST", "/v1/keys", PUB("\"x\"", "\"ed25519\"", "[1,2]"), 400, NULL },
	{ "POST", "/v1/keys", "{\"label\":\"x\",\"revoke\":\"yes\"}", 400,
	    NULL },
	{ "POST", "/v1/keys",
	    "{\"label\":\"x\",\"revoke\":true,\"key\":" KA "}", 400, NULL },
	{ "POST", "/v1/keys", "{\"label\":\"x\",\"key\":" KA "}", 400, NULL },
	{ "POST", "/v1/keys",
	    "{\"label\":\"x\",\"key_type\":\"ed25519\","
	    "\"key\":" KA ",\"extra\":1}",
	    400, NULL },
	/* bad base64 and keys */
	{ "POST", "/v1/keys", PUB("\"x\"", "\"ed25519\"", "\"!!!!\""), 400,
	    NULL },
	{ "POST", "/v1/keys",
	    PUB("\"x\"", "\"ed25519\"",
	        "\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\""),
	    400, NULL },
	{ "POST", "/v1/keys",
	    PUB("\"x\"", "\"ed25519\"",
	        "\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURp=\""),
	    400, NULL },
	{ "POST", "/v1/keys", PUB("\"x\"", "\"ed25519\"", "\"AAAA\""), 400,
	    NULL },
	{ "POST", "/v1/keys", PUB("\"x\"", "\"ed25519\"", "\"\""), 400, NULL },
	{ "POST", "/v1/keys", PUB("\"x\"", "\"Ed25519\"", KA), 400, NULL },
	{ "POST", "/v1/keys", PUB("\"x\"", "\"abcdefghijklmnopq\"", KA), 400,
	    NULL },
	/* bad labels */
	{ "POST", "/v1/keys", PUB("\"\"", "\"ed25519\"", KA), 400, NULL },
	{ "POST", "/v1/keys", PUB("\"a\\u0001b\"", "\"ed25519\"", KA), 400,
	    NULL },
	{ "POST", "/v1/keys", PUB("\"a\\u0000b\"", "\"ed25519\"", KA), 400,
	    NULL },
	{ "POST", "/v1/keys", PUB("\"a\\u007fb\"", "\"ed25519\"", KA), 400,
	    NULL },
	/* conflicts */
	{ "POST", "/v1/keys",
	    "{\"label\":\"never-published\","
	    "\"revoke\":true}",
	    409, NULL },
	/* batches */
	{ "POST", "/v1/keys:batch", "{\"entries\":{}}", 400, NULL },
	{ "POST", "/v1/keys:batch", "{\"entries\":[]}", 400, NULL },
	{ "POST", "/v1/keys:batch", "{\"items\":[]}", 400, NULL },
	{ "POST", "/v1/keys:batch",
	    "{\"entries\":[" PUB("\"ok1\"", "\"ed25519\"",
	        KA) "," PUB("\"ok2\"", "\"ed25519\"", "\"bad\"") "]}",
	    400, NULL },
	{ "POST", "/v1/keys:batch", "{\"entries\":[1]}", 400, NULL },
	/* content type and query on a write */
	{ "POST", "/v1/keys", PUB("\"x\"", "\"ed25519\"", KA), 415,
	    "Content-Type: multipart/form-data; boundary=x" },
	{ "POST", "/v1/keys?debug=1", PUB("\"x\"", "\"ed25519\"", KA), 400,
	    NULL },
	/* wrong methods */
	{ "GET", "/v1/keys", NULL, 405, NULL },
	{ "GET", "/v1/keys:batch", NULL, 405, NULL },
	{ "POST", "/checkpoint", "{}", 405, NULL },
	{ "DELETE", "/v1/keys/alice", NULL, 405, NULL },
	{ "PUT", "/v1/keys", "{}", 405, NULL },
	{ "POST", "/v1/entries?start=0&end=1", "{}", 405, NULL },
	/* unknown routes */
	{ "GET", "/", NULL, 404, NULL },
	{ "GET", "/v1/nothing", NULL, 404, NULL },
	{ "GET", "/checkpoint/", NULL, 404, NULL },
	{ "GET", "/v2/keys/alice", NULL, 404, NULL },
	/* bad labels in the path */
	{ "GET", "/v1/keys/%ZZ", NULL, 400, NULL },
	{ "GET", "/v1/keys/%4", NULL, 400, NULL },
	{ "GET", "/v1/keys/%01abc", NULL, 400, NULL },
	{ "GET", "/v1/keys/%C3%28", NULL, 400, NULL },
	{ "GET", "/v1/keys/", NULL, 400, NULL },
	{ "GET", "/v1/keys/a/b", NULL, 400, NULL },
	{ "GET", "/v1/keys/never-published", NULL, 404, NULL },
	{ "GET", "/v1/keys/never-published/history", NULL, 404, NULL },
	/* bad query parameters */
	{ "GET", "/v1/proof/inclusion?index=0", NULL, 400, NULL },
	{ "GET", "/v1/proof/inclusion?index=-1&size=1", NULL, 400, NULL },
	{ "GET", "/v1/proof/inclusion?index=01&size=2", NULL, 400, NULL },
	{ "GET", "/v1/proof/inclusion?index=+1&size=2", NULL, 400, NULL },
	{ "GET", "/v1/proof/inclusion?index=5&size=2", NULL, 400, NULL },
	{ "GET", "/v1/proof/inclusion?index=0&size=999999", NULL, 400, NULL },
	{ "GET", "/v1/proof/inclusion?index=0&size=0", NULL, 400, NULL },
	{ "GET", "/v1/proof/inclusion?index=99999999999999999999&size=1", NULL,
	    400, NULL },
	{ "GET", "/v1/proof/inclusion?index=0&size=1&leaf_hash=AAAA", NULL, 400,
	    NULL },
	{ "GET", "/v1/proof/inclusion?leaf_hash=notbase64&size=1", NULL, 400,
	    NULL },
	{ "GET",
	    "/v1/proof/inclusion?leaf_hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAA%3D&size=1",
	    NULL, 404, NULL },
	{ "GET", "/v1/proof/inclusion?index=0&size=1&size=1", NULL, 400, NULL },
	{ "GET", "/v1/proof/inclusion?index=0&size=1&x=1", NULL, 400, NULL },
	{ "GET", "/v1/proof/inclusion?index=&size=1", NULL, 400, NULL },
	{ "GET", "/v1/proof/inclusion?index=%ZZ&size=1", NULL, 400, NULL },
	{ "GET", "/v1/proof/consistency?old=3&new=2", NULL, 400, NULL },
	{ "GET", "/v1/proof/consistency?old=1", NULL, 400, NULL },
	{ "GET", "/v1/proof/consistency?old=1&new=999999", NULL, 400, NULL },
	{ "GET", "/v1/proof/consistency?old=1&new=2x", NULL, 400, NULL },
	{ "GET", "/v1/proof/consistency?old=0%00junk&new=1", NULL, 400, NULL },
	{ "GET", "/v1/entries?start=2&end=1", NULL, 400, NULL },
	{ "GET", "/v1/entries?start=0&end=0", NULL, 400, NULL },
	{ "GET", "/v1/entries?start=0&end=999999", NULL, 400, NULL },
	{ "GET", "/v1/entries?start=0&end=1001", NULL, 400, NULL },
	{ "GET", "/v1/entries?start=abc&end=1", NULL, 400, NULL },
	{ "GET", "/v1/entries?start=0&start=0&end=1", NULL, 400, NULL },
	{ "GET", "/v1/entries?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", NULL, 400,
	    NULL },
	{ "GET", "/checkpoint?x=1", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice?from=1", NULL, 400, NULL },
	/* lookups at a size: not a number, 0, an update's size (leaf 1 is
	 * alice's update), past the tree; formats */
	{ "GET", "/v1/keys/alice?checkpoint_size=abc", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice?checkpoint_size=-1", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice?checkpoint_size=0", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice?checkpoint_size=2", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice?checkpoint_size=4", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice?checkpoint_size=999", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice?checkpoint_size=3&checkpoint_size=3", NULL,
	    400, NULL },
	{ "GET", "/v1/keys/alice?format=xml", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice?format=", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice?format=tlog-proof&checkpoint_size=3", NULL,
	    400, NULL },
	{ "GET", "/v1/keys/alice/history?from=0", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice/history?from=x", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice/history?from=9", NULL, 400, NULL },
	{ "GET", "/v1/keys/alice/history?since=1", NULL, 400, NULL },
	/* map paths: the index is 64 lowercase hex digits */
	{ "GET", "/v1/map/", NULL, 400, NULL },
	{ "GET", "/v1/map/zz", NULL, 400, NULL },
	{ "GET", "/v1/map/" HEX63, NULL, 400, NULL },
	{ "GET", "/v1/map/" HEX63 "00", NULL, 400, NULL },
	{ "GET", "/v1/map/" HEX63 "g", NULL, 400, NULL },
	{ "GET", "/v1/map/" HEX63 "A", NULL, 400, NULL },
	{ "GET", "/v1/map/" HEX63 "0?checkpoint_size=2", NULL, 400, NULL },
	{ "GET", "/v1/map/" HEX63 "0?checkpoint_size=0", NULL, 400, NULL },
	{ "GET", "/v1/map/" HEX63 "0?checkpoint_size=999", NULL, 400, NULL },
	{ "GET", "/v1/map/" HEX63 "0?since=x", NULL, 400, NULL },
	{ "GET", "/v1/map/" HEX63 "0?x=1", NULL, 400, NULL },
	/* audits: of a map head closing a batch only */
	{ "GET", "/v1/map/audit/", NULL, 400, NULL },
	{ "GET", "/v1/map/audit/abc", NULL, 400, NULL },
	{ "GET", "/v1/map/audit/0", NULL, 400, NULL },
	{ "GET", "/v1/map/audit/1", NULL, 400, NULL },
	{ "GET", "/v1/map/audit/3", NULL, 400, NULL },
	{ "GET", "/v1/map/audit/5", NULL, 400, NULL },
	{ "GET", "/v1/map/audit/18446744073709551615", NULL, 400, NULL },
	{ "GET", "/v1/map/audit/99999999999999999999", NULL, 400, NULL },
	{ "GET", "/v1/map/audit/2?x=1", NULL, 400, NULL },
	/* batch options */
	{ "POST", "/v1/keys:batch?proofs=bogus",
	    "{\"entries\":[" PUB("\"ok1\"", "\"ed25519\"", KA) "]}", 400,
	    NULL },
	{ "POST", "/v1/keys:batch?proofs=",
	    "{\"entries\":[" PUB("\"ok1\"", "\"ed25519\"", KA) "]}", 400,
	    NULL },
	{ "POST", "/v1/keys:batch?proofs=full&proofs=full",
	    "{\"entries\":[" PUB("\"ok1\"", "\"ed25519\"", KA) "]}", 400,
	    NULL },
	/* erasure: a label never published; a body or a query is refused */
	{ "DELETE", "/v1/keys/never-published/openings", NULL, 404, NULL },
	{ "DELETE", "/v1/keys/%ZZ/openings", NULL, 400, NULL },
	{ "DELETE", "/v1/keys/alice/openings?all=1", NULL, 400, NULL },
	/* the new routes' wrong methods */
	{ "GET", "/v1/keys/alice/openings", NULL, 405, NULL },
	{ "POST", "/v1/keys/alice/openings", "{}", 405, NULL },
	{ "PUT", "/v1/keys/alice/openings", "{}", 405, NULL },
	{ "POST", "/v1/keys/alice/history", "{}", 405, NULL },
	{ "DELETE", "/v1/keys/alice/history", NULL, 405, NULL },
	{ "POST", "/v1/map/" HEX63 "0", "{}", 405, NULL },
	{ "DELETE", "/v1/map/audit/2", NULL, 405, NULL },
	{ "POST", "/v1/log", "{}", 405, NULL },
	/* tiles */
	{ "GET", "/tile/0/1000", NULL, 404, NULL },
	{ "GET", "/tile/0/x001/000", NULL, 404, NULL },
	{ "GET", "/tile/0/000.p/0", NULL, 404, NULL },
	{ "GET", "/tile/0/000.p/256", NULL, 404, NULL },
	{ "GET", "/tile/64/000", NULL, 404, NULL },
	{ "GET", "/tile/entries/abc", NULL, 404, NULL },
};

START_TEST(test_malformed)
{
	struct http_resp r, cp0, cp1;
	char url[1024];
	uint64_t size;
	json_t *j;

	/* Some state first, so "unchanged" means something. */
	j = publish("alice", KEY_A, 200);
	json_decref(j);
	j = publish("bob", KEY_B, 200);
	json_decref(j);
	size = logd_size(&S);
	ck_assert_uint_eq(size, 5);
	ck_assert_int_eq(logd_get(&S, "/checkpoint", &cp0), 200);

	ck_assert_uint_ge(sizeof bads / sizeof bads[0], 30);
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		const struct bad *b = &bads[i];
		const char *hdrs[] = { b->ctype, NULL };
		snprintf(url, sizeof url, "%s%s", S.url, b->path);
		ck_assert_int_eq(http_request(NULL, b->method, url, S.token,
		                     b->ctype ? hdrs : NULL, b->body,
		                     b->body ? strlen(b->body) : 0, &r),
		    0);
		ck_assert_msg(r.status == b->status,
		    "case %zu: %s %s: got %ld "
		    "want %ld (%s)",
		    i, b->method, b->path, r.status, b->status, r.body);
		/* Every error says what was wrong, in JSON. */
		if (strcmp(b->method, "HEAD") != 0) {
			json_t *e = json_loads(r.body, 0, NULL);
			ck_assert_msg(e != NULL &&
			        json_is_string(json_object_get(e, "error")),
			    "case %zu: body %s", i, r.body);
			ck_assert_uint_gt(strlen(json_string_value(
			                      json_object_get(e, "error"))),
			    5);
			json_decref(e);
		}
		if (b->status == 405)
			ck_assert(r.allow[0] != '\0');
		if (b->status == 405 && strstr(b->path, "/openings") != NULL)
			ck_assert_str_eq(r.allow, "DELETE");
		http_resp_free(&r);
	}
	ck_assert_uint_eq(logd_size(&S), size);
	ck_assert_int_eq(logd_get(&S, "/checkpoint", &cp1), 200);
	ck_assert_str_eq(cp0.body, cp1.body);
	http_resp_free(&cp0);
	http_resp_free(&cp1);
	/* Still serving normally. */
	j = publish("carol", KEY_C, 200);
	ck_assert_uint_eq(jint(j, "index"), 5);
	json_decref(j);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd api errors");

	/* Each case on a fresh server. */
	kt_test_fixture_case(s, "auth", 60, setup, teardown, test_auth, NULL);
	kt_test_fixture_case(s, "malformed", 60, setup, teardown,
	    test_malformed, NULL);
	return kt_test_run(s);
}
