/*
 * handle.c: the kt_verify handle (the locked state folder, the log's
 * configuration and witness policy, the stored checkpoint) and `init`,
 * which writes that configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kt/fmt.h"
#include "verify_internal.h"

/* ---- handle --------------------------------------------------------------- */

kt_err
kt_verify_default_dir(char *buf, size_t cap)
{
	const char *x = getenv("XDG_STATE_HOME");
	const char *h = getenv("HOME");

	if (x != NULL && x[0] == '/')
		return kt_fmt(buf, cap, "%s/kt-verify", x);
	if (h != NULL && h[0] != '\0')
		return kt_fmt(buf, cap, "%s/.local/state/kt-verify", h);
	return KT_ERR_NOT_FOUND;
}

static kt_err
mkdir_p(const char *dir, char *err, size_t errlen)
{
	char tmp[KT_VERIFY_PATH_MAX];

	if (kt_fmt(tmp, sizeof(tmp), "%s", dir) != KT_OK) {
		kt_msg(err, errlen, "state folder path too long");
		return KT_ERR_RANGE;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
			kt_msg(err, errlen, "mkdir %s: %s", tmp,
			    strerror(errno));
			return KT_ERR_IO;
		}
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
		kt_msg(err, errlen, "mkdir %s: %s", tmp, strerror(errno));
		return KT_ERR_IO;
	}
	return KT_OK;
}

/* Parses witness keys into wit[]: cosignature keys, distinct.
 * KT_ERR_MALFORMED if one is not. */
static kt_err
parse_witnesses(const char *const *keys, size_t n, struct kt_verifier *wit)
{
	if (n > KT_VERIFY_WITNESS_MAX)
		return KT_ERR_MALFORMED;
	for (size_t i = 0; i < n; i++) {
		if (kt_verifier_parse(keys[i], strlen(keys[i]), &wit[i]) !=
		        KT_OK ||
		    wit[i].type != KT_KEY_COSIG)
			return KT_ERR_MALFORMED;
		/* One key counted twice would let one witness make a
		 * quorum of two. */
		for (size_t j = 0; j < i; j++)
			if (memcmp(wit[j].pub, wit[i].pub, KT_PUBKEY_LEN) ==
			        0 ||
			    (strcmp(wit[j].name, wit[i].name) == 0 &&
			        memcmp(wit[j].id, wit[i].id, KT_KEY_ID_LEN) ==
			            0))
				return KT_ERR_MALFORMED;
	}
	return KT_OK;
}

/* config.json's optional witness policy into v->wit. KT_ERR_MALFORMED if
 * present but bad. */
static kt_err
load_policy(struct kt_verify *v, const json_t *c)
{
	json_t *jw = json_object_get(c, "witnesses");
	json_t *jq = json_object_get(c, "quorum");
	json_t *ja = json_object_get(c, "max_age");
	const char *keys[KT_VERIFY_WITNESS_MAX];
	size_t n;

	if (jw == NULL && jq == NULL && ja == NULL)
		return KT_OK;
	if (!json_is_array(jw) || (n = json_array_size(jw)) == 0 ||
	    n > KT_VERIFY_WITNESS_MAX || !json_is_integer(jq) ||
	    json_integer_value(jq) < 1 || (size_t)json_integer_value(jq) > n ||
	    !json_is_integer(ja) || json_integer_value(ja) < 1)
		return KT_ERR_MALFORMED;
	for (size_t i = 0; i < n; i++) {
		keys[i] = json_string_value(json_array_get(jw, i));
		if (keys[i] == NULL)
			return KT_ERR_MALFORMED;
	}
	if (parse_witnesses(keys, n, v->wit.keys) != KT_OK)
		return KT_ERR_MALFORMED;
	v->wit.n = n;
	v->wit.quorum = (unsigned)json_integer_value(jq);
	v->wit.max_age = (uint64_t)json_integer_value(ja);
	return KT_OK;
}

static kt_err
load_config(struct kt_verify *v, char *err, size_t errlen)
{
	json_t *c = NULL, *jl, *jk;
	kt_err e;

	e = kt_vstate_load_json(v->dir, KT_VSTATE_CONFIG, &c, err, errlen);
	if (e != KT_OK)
		return e;
	if (json_object_size(c) == 0) {
		json_decref(c);
		return KT_OK; /* not initialised yet */
	}
	jl = json_object_get(c, "log");
	jk = json_object_get(c, "key");
	if (!json_is_string(jl) || !json_is_string(jk) ||
	    kt_fmt(v->url, sizeof(v->url), "%s", json_string_value(jl)) !=
	        KT_OK ||
	    kt_fmt(v->vkey_text, sizeof(v->vkey_text), "%s",
	        json_string_value(jk)) != KT_OK ||
	    kt_verifier_parse(json_string_value(jk), json_string_length(jk),
	        &v->vk) != KT_OK ||
	    v->vk.type != KT_KEY_ED25519) {
		kt_msg(err, errlen,
		    "state file %s/%s is corrupt (bad \"log\" "
		    "or \"key\"); refusing to continue",
		    v->dir, KT_VSTATE_CONFIG);
		json_decref(c);
		return KT_ERR_MALFORMED;
	}
	if (json_object_get(c, "vrf_key") != NULL) {
		if (kt_vparse_b64n(c, "vrf_key", v->vrf_pk,
		        KT_VRF_PUBLIC_LEN) != KT_OK ||
		    kt_vrf_public_check(v->vrf_pk) != KT_OK) {
			kt_msg(err, errlen,
			    "state file %s/%s is corrupt (bad "
			    "\"vrf_key\"); refusing to continue",
			    v->dir, KT_VSTATE_CONFIG);
			json_decref(c);
			return KT_ERR_MALFORMED;
		}
		v->have_vrf = 1;
	}
	if (load_policy(v, c) != KT_OK) {
		kt_msg(err, errlen,
		    "state file %s/%s is corrupt (bad "
		    "\"witnesses\", \"quorum\" or \"max_age\"); refusing "
		    "to continue",
		    v->dir, KT_VSTATE_CONFIG);
		json_decref(c);
		return KT_ERR_MALFORMED;
	}
	v->have_config = 1;
	json_decref(c);
	return KT_OK;
}

static kt_err
load_checkpoint(struct kt_verify *v, char *err, size_t errlen)
{
	struct kt_buf b = { 0 };
	char d[256];
	kt_err e;

	e = kt_vstate_read(v->dir, KT_VSTATE_CHECKPOINT, KT_NOTE_MAX, &b, err,
	    errlen);
	if (e == KT_ERR_NOT_FOUND)
		return KT_OK;
	if (e != KT_OK)
		return e;
	/* The stored checkpoint is re-verified: a tampered or torn state
	 * file must not become the new trust anchor. */
	if (!v->have_config ||
	    kt_vcheck_checkpoint(b.p, b.len, &v->vk, &v->stored, d,
	        sizeof(d)) != KT_OK) {
		kt_msg(err, errlen,
		    "state file %s/%s is corrupt (%s); "
		    "refusing to continue",
		    v->dir, KT_VSTATE_CHECKPOINT,
		    v->have_config ? d : "no configuration");
		kt_buf_free(&b);
		return KT_ERR_MALFORMED;
	}
	v->stored_buf = b.p;
	v->have_stored = 1;
	return KT_OK;
}

kt_err
kt_verify_open(const char *dir, int create, struct kt_verify **out, char *err,
    size_t errlen)
{
	struct kt_verify *v = NULL;
	char lock[KT_VERIFY_PATH_MAX + 8];
	struct stat st;
	kt_err e;

	*out = NULL;
	if (strlen(dir) == 0 || strlen(dir) >= KT_VERIFY_PATH_MAX - 64) {
		kt_msg(err, errlen, "bad state folder path");
		return KT_ERR_RANGE;
	}
	if (stat(dir, &st) != 0) {
		if (!create) {
			kt_msg(err, errlen,
			    "state folder %s does not exist "
			    "(run kt-verify init)",
			    dir);
			return KT_ERR_NOT_FOUND;
		}
		if ((e = mkdir_p(dir, err, errlen)) != KT_OK)
			return e;
	} else if (!S_ISDIR(st.st_mode)) {
		kt_msg(err, errlen, "%s is not a folder", dir);
		return KT_ERR_IO;
	}
	if (sodium_init() < 0)
		return KT_ERR_INTERNAL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return KT_ERR_NOMEM;
	v->lockfd = -1;
	v->connect_s = 10;
	v->total_s = 60;
	if (kt_fmt(v->dir, sizeof(v->dir), "%s", dir) != KT_OK ||
	    kt_fmt(lock, sizeof(lock), "%s/%s", dir, KT_VSTATE_LOCK) != KT_OK) {
		/* cannot happen: dir's length is checked above */
		kt_msg(err, errlen, "state folder path too long");
		e = KT_ERR_RANGE;
		goto fail;
	}
	/* One kt-verify at a time per state folder: two concurrent
	 * read-modify-write cycles could lose a pin or cursor. */
	v->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (v->lockfd < 0 || flock(v->lockfd, LOCK_EX) != 0) {
		kt_msg(err, errlen, "lock %s: %s", lock, strerror(errno));
		e = KT_ERR_IO;
		goto fail;
	}
	if ((e = load_config(v, err, errlen)) != KT_OK ||
	    (e = load_checkpoint(v, err, errlen)) != KT_OK)
		goto fail;
	*out = v;
	return KT_OK;
fail:
	kt_verify_close(v);
	return e;
}

void
kt_verify_close(struct kt_verify *v)
{
	if (v == NULL)
		return;
	kt_fetch_close(v->fetch);
	if (v->lockfd >= 0)
		close(v->lockfd);
	free(v->stored_buf);
	free(v);
}

void
kt_verify_set_timeouts(struct kt_verify *v, long connect_s, long total_s)
{
	v->connect_s = connect_s;
	v->total_s = total_s;
}

const struct kt_verifier *
kt_verify_log_key(const struct kt_verify *v)
{
	return v->have_config ? &v->vk : NULL;
}

const uint8_t *
kt_verify_vrf_key(const struct kt_verify *v)
{
	return v->have_vrf ? v->vrf_pk : NULL;
}

enum kt_verify_outcome
kt_verify_need_config(struct kt_verify *v, struct kt_vresult *r)
{
	if (!v->have_config)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "state folder %s is not "
		    "initialised: run kt-verify init --log URL --key KEY "
		    "--vrf-key VRFKEY",
		    v->dir);
	return KT_VERIFY_OK;
}

enum kt_verify_outcome
kt_verify_need_vrf(struct kt_verify *v, struct kt_vresult *r)
{
	enum kt_verify_outcome st;

	if ((st = kt_verify_need_config(v, r)) != KT_VERIFY_OK)
		return st;
	/* Never taken from the log unasked: a log that chose the key its
	 * clients check lookups with could prove anything. */
	if (!v->have_vrf)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "state folder %s has no VRF key: run kt-verify init "
		    "--log %s --key KEY --vrf-key VRFKEY (vrf_public_key of "
		    "GET /v1/log, as the log's operator published it)",
		    v->dir, v->url);
	return KT_VERIFY_OK;
}

/* ---- init ----------------------------------------------------------------- */

enum kt_verify_outcome
kt_verify_init(struct kt_verify *v, const char *url, const char *vkey,
    const char *vrf_key, struct kt_vresult *r)
{
	return kt_verify_init_policy(v, url, vkey, vrf_key, NULL, r);
}

/* --vrf-key's base64 into pk, checked (kt_vrf_public_check). */
static kt_err
parse_vrf_key(const char *b64, uint8_t pk[KT_VRF_PUBLIC_LEN])
{
	uint8_t buf[KT_VRF_PUBLIC_LEN + 3];
	size_t n;

	if (strlen(b64) != KT_B64_LEN(KT_VRF_PUBLIC_LEN) ||
	    kt_b64_decode(b64, strlen(b64), buf, sizeof(buf), &n) != KT_OK ||
	    n != KT_VRF_PUBLIC_LEN)
		return KT_ERR_MALFORMED;
	memcpy(pk, buf, KT_VRF_PUBLIC_LEN);
	return kt_vrf_public_check(pk);
}

static enum kt_verify_outcome
save_config(struct kt_verify *v, const char *url, const char *vkey,
    const struct kt_verifier *vk, const struct kt_vpolicy *pol,
    struct kt_vresult *r)
{
	json_t *c, *a;
	char d[256];

	c = json_pack("{s:i,s:s,s:s,s:s}", "version", 1, "log", url, "key",
	    vkey, "origin", vk->name);
	if (c == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if (v->have_vrf)
		json_object_set_new(c, "vrf_key",
		    kt_vb64_json(v->vrf_pk, KT_VRF_PUBLIC_LEN));
	if (pol == NULL && v->wit.n > 0) {
		/* Keep the stored witness policy. */
		a = json_array();
		for (size_t i = 0; i < v->wit.n; i++) {
			char t[KT_KEY_TEXT_MAX];
			if (kt_verifier_format(&v->wit.keys[i], t, sizeof(t)) ==
			    KT_OK)
				json_array_append_new(a, json_string(t));
		}
		json_object_set_new(c, "witnesses", a);
		json_object_set_new(c, "quorum", json_integer(v->wit.quorum));
		json_object_set_new(c, "max_age",
		    json_integer((json_int_t)v->wit.max_age));
	}
	if (pol != NULL && pol->nwitnesses > 0) {
		a = json_array();
		for (size_t i = 0; i < pol->nwitnesses; i++)
			json_array_append_new(a,
			    json_string(pol->witnesses[i]));
		json_object_set_new(c, "witnesses", a);
		json_object_set_new(c, "quorum", json_integer(pol->quorum));
		json_object_set_new(c, "max_age",
		    json_integer((json_int_t)(pol->max_age
		            ? pol->max_age
		            : KT_VERIFY_MAX_AGE_DEFAULT)));
	}
	if (kt_vstate_save_json(v->dir, KT_VSTATE_CONFIG, c, d, sizeof(d)) !=
	    KT_OK) {
		json_decref(c);
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	}
	if (load_policy(v, c) != KT_OK) {
		json_decref(c);
		return kt_vres(r, KT_VERIFY_ERROR, "internal: bad policy");
	}
	json_decref(c);
	return KT_VERIFY_OK;
}

enum kt_verify_outcome
kt_verify_init_policy(struct kt_verify *v, const char *url, const char *vkey,
    const char *vrf_key, const struct kt_vpolicy *pol, struct kt_vresult *r)
{
	struct kt_verifier vk, wit[KT_VERIFY_WITNESS_MAX];
	uint8_t vrf[KT_VRF_PUBLIC_LEN];
	char u[KT_URL_MAX];
	size_t n;
	enum kt_verify_outcome st;
	int haspol = pol != NULL && pol->nwitnesses > 0;

	if (kt_verifier_parse(vkey, strlen(vkey), &vk) != KT_OK ||
	    vk.type != KT_KEY_ED25519)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "--key is not an Ed25519 "
		    "signed-note verifier key (name+hexid+base64)");
	if (vrf_key != NULL && parse_vrf_key(vrf_key, vrf) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "--vrf-key is not a VRF public key (base64 of 32 bytes, a "
		    "valid ristretto255 point: vrf_public_key of GET /v1/log)");
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "--log must be an http:// "
		    "or https:// URL");
	if (pol != NULL &&
	    (pol->nwitnesses > KT_VERIFY_WITNESS_MAX ||
	        (haspol &&
	            (pol->quorum < 1 || pol->quorum > pol->nwitnesses)) ||
	        (!haspol && pol->quorum != 0) ||
	        parse_witnesses(pol->witnesses, pol->nwitnesses, wit) != KT_OK))
		return kt_vres(r, KT_VERIFY_ERROR,
		    "bad witness policy: each "
		    "--witness must be a distinct cosignature verifier key "
		    "(type 0x04, from kt-witness keygen), at most %d, and "
		    "--quorum between 1 and their number",
		    KT_VERIFY_WITNESS_MAX);
	n = strlen(url);
	if (n >= sizeof(u) - 1)
		return kt_vres(r, KT_VERIFY_ERROR, "--log URL too long");
	if (strlen(vkey) >= sizeof(v->vkey_text))
		return kt_vres(r, KT_VERIFY_ERROR, "--key too long");
	memcpy(u, url, n + 1);
	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	if (v->have_config) {
		if (strcmp(v->url, u) != 0 || strcmp(v->vkey_text, vkey) != 0)
			/* Re-pointing a state at another log or key would
			 * silently drop every guarantee the stored checkpoint
			 * gives. */
			return kt_vres(r, KT_VERIFY_ERROR,
			    "state folder %s is "
			    "already initialised for %s with another log or "
			    "key; use another --state",
			    v->dir, v->url);
		if (vrf_key != NULL && v->have_vrf &&
		    sodium_memcmp(vrf, v->vrf_pk, KT_VRF_PUBLIC_LEN) != 0)
			/* A new VRF key is a new log (map.md). */
			return kt_vres(r, KT_VERIFY_ERROR,
			    "state folder %s already pins another VRF key for "
			    "%s; a log with a new VRF key is a new log: use "
			    "another --state",
			    v->dir, v->url);
		if (vrf_key != NULL && !v->have_vrf) {
			memcpy(v->vrf_pk, vrf, KT_VRF_PUBLIC_LEN);
			v->have_vrf = 1;
			if ((st = save_config(v, u, vkey, &vk,
			         haspol ? pol : NULL, r)) != 0)
				return st;
			if (!haspol)
				return kt_vres(r, KT_VERIFY_OK,
				    "VRF key of %s pinned", u);
		}
		if (!haspol)
			return kt_vres(r, KT_VERIFY_OK,
			    "already initialised "
			    "for %s",
			    u);
		/* Same log: the stored checkpoint stays the anchor; only
		 * the acceptance rule for later ones changes. */
		if ((st = save_config(v, u, vkey, &vk, pol, r)) != 0)
			return st;
		return kt_vres(r, KT_VERIFY_OK,
		    "witness policy of %s set: "
		    "quorum %u of %zu witnesses, max age %" PRIu64 " s",
		    v->dir, v->wit.quorum, v->wit.n, v->wit.max_age);
	}
	if (vrf_key != NULL) {
		memcpy(v->vrf_pk, vrf, KT_VRF_PUBLIC_LEN);
		v->have_vrf = 1;
	}
	if ((st = save_config(v, u, vkey, &vk, pol, r)) != 0)
		return st;
	/* Both lengths are checked above, before the configuration was
	 * saved. */
	if (kt_fmt(v->url, sizeof(v->url), "%s", u) != KT_OK ||
	    kt_fmt(v->vkey_text, sizeof(v->vkey_text), "%s", vkey) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "internal: --log or --key "
		    "too long");
	v->vk = vk;
	v->have_config = 1;
	json_object_set_new(r->info, "log", json_string(u));
	json_object_set_new(r->info, "origin", json_string(vk.name));
	json_object_set_new(r->info, "state", json_string(v->dir));
	json_object_set_new(r->info, "vrf_key", json_boolean(v->have_vrf));
	if (haspol)
		return kt_vres(r, KT_VERIFY_OK,
		    "initialised %s for log %s "
		    "(origin %s); checkpoints need %u of %zu witness "
		    "cosignatures, max age %" PRIu64 " s",
		    v->dir, u, vk.name, v->wit.quorum, v->wit.n,
		    v->wit.max_age);
	return kt_vres(r, KT_VERIFY_OK,
	    "initialised %s for log %s (origin "
	    "%s)",
	    v->dir, u, vk.name);
}
