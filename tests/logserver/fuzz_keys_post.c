/*
 * fuzz_keys_post.c: the JSON bodies of POST /v1/keys and POST
 * /v1/keys:batch, untrusted bytes from any writer, through kt-logd's own
 * request path (kt_api_admit, then kt_api_handle, then kt_api_finish) over
 * a store in a temporary folder (removed at exit). The first input byte
 * picks the route; the rest is the body.
 *
 * No sequencer is attached, so a body that decodes is answered 503 (not
 * committed) and the store never grows: each input exercises admission,
 * JSON parsing, field checks and the answers. Beyond "no crash": every
 * answer has a status from the documented set and, unless 2xx, a JSON
 * object with an "error" string.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fuzz/fuzz_keys.h"
#include "config.h"
#include "http/api.h"
#include "metrics.h"
#include "kt/vrf.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kt_api *api;
static struct kt_store *store;
static struct kt_vrf_key *vrf_key;
static struct kt_metrics metrics;
static struct kt_config cfg;
static char dir[] = "/tmp/kt-fuzz-keys.XXXXXX";

static void
cleanup(void)
{
	char cmd[sizeof(dir) + 16];

	kt_api_free(api);
	kt_vrf_key_free(vrf_key);
	kt_store_close(store);
	/* The store's files (LMDB and kt's own) go with the folder. */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_keys_post: could not remove %s\n", dir);
}

static void
setup(void)
{
	char vkey[KT_KEY_TEXT_MAX], err[256];
	struct kt_api_opts o;
	static const uint8_t sk[KT_VRF_SECRET_LEN] = { 1 };
	static uint8_t vrf[KT_VRF_PUBLIC_LEN];

	fuzz_keys_init();
	kt_config_defaults(&cfg);
	kt_metrics_init(&metrics);
	if (kt_verifier_format(&fuzz_vs[0], vkey, sizeof(vkey)) != KT_OK ||
	    mkdtemp(dir) == NULL ||
	    kt_store_open(&store, dir, FUZZ_LOG_NAME, vkey, err, sizeof(err)) !=
	        KT_OK)
		abort();
	memset(&o, 0, sizeof(o));
	o.store = store;
	o.limits = &cfg.limits;
	o.allow_anonymous_writes = 1;
	o.metrics = &metrics;
	o.origin = FUZZ_LOG_NAME;
	o.vkey = vkey;
	/* A real VRF key, so that valid writes get as far as the sequencer
	 * (none here: 503) instead of failing at the VRF proof. */
	if (kt_vrf_key_from_secret(sk, &vrf_key) != KT_OK)
		abort();
	kt_vrf_public(vrf_key, vrf);
	o.vrf_public = vrf;
	o.vrf = vrf_key;
	if (kt_api_new(&api, &o) != KT_OK)
		abort();
	atexit(cleanup);
}

static void
nothing(void *arg)
{
	(void)arg;
}

static void
check_answer(const struct kt_api_resp *r)
{
	json_t *j, *e;

	if (r->status < 200 || r->status > 599)
		abort();
	if (r->status < 300)
		return;
	j = json_loadb(r->body, r->len, 0, NULL);
	e = j != NULL ? json_object_get(j, "error") : NULL;
	if (e == NULL || !json_is_string(e))
		abort();
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_api_waiter wt = { nothing, nothing, NULL };
	struct kt_api_req req;
	struct kt_api_resp resp;
	struct kt_api_write *w = NULL;
	enum kt_route route;

	if (api == NULL)
		setup();
	if (size == 0)
		return 0;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = data[0] & 1 ? "/v1/keys:batch" : "/v1/keys";
	req.content_type = "application/json";
	req.body = data + 1;
	req.body_len = size - 1;
	memset(&resp, 0, sizeof(resp));
	if (!kt_api_admit(api, &req, 1, &resp)) {
		check_answer(&resp);
		free(resp.body);
		return 0;
	}
	kt_api_handle(api, &req, &wt, &resp, &w, &route);
	if (w != NULL) {
		/* No sequencer: woken at once; answer as the server would. */
		kt_api_finish(api, w, &resp);
		if (resp.status != 503)
			abort();
	}
	check_answer(&resp);
	free(resp.body);
	return 0;
}
