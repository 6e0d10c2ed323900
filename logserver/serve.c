#include "serve.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "http/api.h"
#include "http/http.h"
#include "keyfile.h"
#include "kt/b64.h"
#include "kt/fmt.h"
#include "log.h"
#include "metrics.h"
#include "sequencer.h"
#include "store/store.h"
#include "token.h"
#include "witness_client/witness_client.h"

/* ---- the witness client reads the log through these (its own thread) -- */

static kt_err
wc_latest(void *ctx, char *buf, size_t cap, size_t *len)
{
	struct kt_store_read *r = NULL;
	const char *note;
	kt_err e = kt_store_read_begin(ctx, &r);

	if (e != KT_OK)
		return e;
	e = kt_store_read_checkpoint(r, &note, len);
	if (e == KT_OK && *len > cap)
		e = KT_ERR_TOO_LARGE;
	if (e == KT_OK)
		memcpy(buf, note, *len); /* borrowed until read_end */
	kt_store_read_end(r);
	return e;
}

static kt_err
wc_consistency(void *ctx, uint64_t old, uint64_t new_size, struct kt_proof *out)
{
	struct kt_store_read *r = NULL;
	kt_err e = kt_store_read_begin(ctx, &r);

	if (e != KT_OK)
		return e;
	e = kt_store_consistency(r, old, new_size, out);
	kt_store_read_end(r);
	return e;
}

/* ---- the running server -------------------------------------------------- */

/* What kt_serve starts, in the order it starts it; stop_all takes it down
 * in the order that lets queued writes finish. */
struct server {
	const struct kt_config *c;
	struct kt_metrics *metrics;
	sigset_t sigs; /* the signals only sigwait sees */
	char host[256];
	uint16_t port;
	struct kt_signer *signer;
	char vkey[KT_KEY_TEXT_MAX];
	struct kt_vrf_key *vrf;
	char vrf_pub[KT_VRF_PUBLIC_B64_LEN];
	struct kt_tokens *tokens; /* NULL: no tokens file */
	struct kt_store *store;
	struct kt_seq *seq;
	struct kt_wclient *wc; /* NULL: no witnesses */
	struct kt_api *api;
	struct kt_http *http;
};

/*
 * SIGHUP: reads the tokens file again. A file that cannot be used keeps
 * the tokens in force (and says why, in the log and in
 * kt_tokens_reload_ok); one without a token line revokes them all. The
 * key, the listen address and the limits are read at start only.
 */
static void
reload_tokens(struct server *s)
{
	struct kt_tokens *nt = NULL;
	char err[512];
	kt_err e;

	if (s->tokens == NULL) {
		KT_LOG(KT_LOG_WARN, "sighup_ignored",
		    kt_log_str("reason",
		        "no tokens file to reload (the key and settings are read "
		        "at start only)"));
		return;
	}
	e = kt_tokens_load(s->c->tokens, 1, &nt, err, sizeof err);
	if (e != KT_OK) {
		atomic_store(&s->metrics->tokens_reload_ok, 0);
		KT_LOG(KT_LOG_ERROR, "tokens_reload_failed",
		    kt_log_str("error", err),
		    kt_log_int("tokens_in_force",
		        (int64_t)kt_tokens_count(s->tokens)));
		return;
	}
	if (kt_api_set_tokens(s->api, nt) != KT_OK) {
		/* s->tokens != NULL above, so the api checks tokens: this
		 * cannot happen, but a new set it refused is not in force. */
		kt_tokens_free(nt);
		return;
	}
	kt_tokens_free(s->tokens);
	s->tokens = nt;
	atomic_store(&s->metrics->tokens, (int)kt_tokens_count(nt));
	atomic_store(&s->metrics->tokens_reload_ok, 1);
	KT_LOG(KT_LOG_INFO, "tokens_reloaded",
	    kt_log_int("tokens", (int64_t)kt_tokens_count(nt)));
}

/* Blocks the stop signals before any thread starts, so every thread
 * inherits the mask and only wait_for_signals sees them; ignores SIGPIPE
 * from closed sockets. */
static kt_err
block_signals(sigset_t *sigs, char *err, size_t errlen)
{
	int rc;

	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP); /* its default would kill the log */
	rc = pthread_sigmask(SIG_BLOCK, sigs, NULL);
	if (rc != 0) {
		kt_msg(err, errlen, "cannot block the stop signals: %s",
		    strerror(rc));
		return KT_ERR_INTERNAL;
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		kt_msg(err, errlen, "cannot ignore SIGPIPE: %s",
		    strerror(errno));
		return KT_ERR_INTERNAL;
	}
	return KT_OK;
}

/* The listen address, the signer key and the tokens file. */
static kt_err
load_settings(struct server *s, char *err, size_t errlen)
{
	const struct kt_config *c = s->c;
	uint8_t pk[KT_VRF_PUBLIC_LEN];
	struct kt_verifier v;
	kt_err e;

	e = kt_config_split_listen(c->listen, s->host, sizeof s->host,
	    &s->port);
	if (e != KT_OK) {
		kt_msg(err, errlen, "listen address '%s' is not HOST:PORT",
		    c->listen);
		return e;
	}
	e = kt_keyfile_load(c->key, &s->signer, err, errlen);
	if (e != KT_OK)
		return e;
	kt_signer_verifier(s->signer, &v);
	e = kt_verifier_format(&v, s->vkey, sizeof s->vkey);
	if (e != KT_OK) {
		kt_msg(err, errlen, "cannot format the verifier key");
		return e;
	}
	e = kt_keyfile_load_vrf(c->key, kt_signer_name(s->signer), &s->vrf, err,
	    errlen);
	if (e != KT_OK)
		return e;
	kt_vrf_public(s->vrf, pk);
	e = kt_b64_encode(pk, sizeof pk, s->vrf_pub, sizeof s->vrf_pub, NULL);
	if (e != KT_OK) {
		kt_msg(err, errlen, "cannot format the VRF public key");
		return e;
	}
	if (c->tokens[0] == '\0' || c->read_only)
		return KT_OK; /* a replica takes no writes */
	/* No token line is allowed (every write is then refused) so that a
	 * log whose tokens were all revoked by a reload still starts; it is
	 * warned about in announce. */
	return kt_tokens_load(c->tokens, 1, &s->tokens, err, errlen);
}

static kt_err
open_store(struct server *s, char *err, size_t errlen)
{
	kt_err e;

	/* A replica reads the writer's folder: it creates nothing. */
	if (s->c->read_only)
		return kt_store_open_reader(&s->store, s->c->data,
		    kt_signer_name(s->signer), s->vkey, err, errlen);
	if (mkdir(s->c->data, 0700) != 0 && errno != EEXIST) {
		kt_msg(err, errlen, "%s: %s", s->c->data, strerror(errno));
		return KT_ERR_IO;
	}
	e = kt_store_open(&s->store, s->c->data, kt_signer_name(s->signer),
	    s->vkey, err, errlen);
	if (e == KT_OK)
		kt_store_set_max_bytes(s->store, s->c->max_db_size);
	return e;
}

static kt_err
start_sequencer(struct server *s, char *err, size_t errlen)
{
	struct kt_seq_opts so = {
		.max_batch = s->c->seq_max_batch,
		.max_queue = s->c->seq_max_queue,
		.map_retention_ms = (uint64_t)s->c->map_retention * 1000,
	};
	kt_err e;

	if (s->c->read_only)
		return KT_OK; /* the writer sequences; a replica only reads */
	e = kt_seq_start(&s->seq, s->store, s->signer, &so);
	if (e != KT_OK)
		kt_msg(err, errlen, "cannot start the sequencer: %s",
		    kt_strerror(e));
	return e;
}

/* Starts the witness client when witnesses are configured. */
static kt_err
start_witness_client(struct server *s, char *err, size_t errlen)
{
	const struct kt_config *c = s->c;
	struct kt_wclient_source src = { wc_latest, wc_consistency, s->store };
	struct kt_wclient_opts wo = {
		.interval_ms = c->witness_interval_ms,
		.quorum = c->witness_quorum,
	};
	kt_err e;

	if (c->nwitnesses == 0)
		return KT_OK;
	e = kt_wclient_start(&s->wc, c->witnesses, c->nwitnesses, &src, &wo);
	if (e != KT_OK)
		kt_msg(err, errlen, "cannot start the witness client: %s",
		    kt_strerror(e));
	return e;
}

/* The metrics, the API over store, sequencer and witness client, and the
 * HTTP server in front of it. */
static kt_err
start_http(struct server *s, char *err, size_t errlen)
{
	const struct kt_config *c = s->c;
	uint8_t vrf_public[KT_VRF_PUBLIC_LEN];
	struct kt_api_opts ao = {
		.store = s->store,
		.limits = &c->limits,
		.tokens = s->tokens,
		.allow_anonymous_writes = c->allow_anonymous_writes,
		.metrics = s->metrics,
		.wclient = s->wc,
		.origin = kt_signer_name(s->signer),
		.vkey = s->vkey,
		.vrf_public = vrf_public,
		.vrf = s->vrf,
		.read_only = c->read_only,
		.writer_url = c->writer_url,
	};

	kt_vrf_public(s->vrf, vrf_public);
	struct kt_http_opts ho = {
		.host = s->host,
		.port = s->port,
		.threads = c->threads,
		.limits = &c->limits,
		.metrics = s->metrics,
	};
	kt_err e;

	kt_metrics_init(s->metrics);
	if (s->tokens != NULL)
		atomic_store(&s->metrics->tokens,
		    (int)kt_tokens_count(s->tokens));
	e = kt_api_new(&s->api, &ao);
	if (e != KT_OK) {
		kt_msg(err, errlen, "out of memory");
		return e;
	}
	kt_api_set_seq(s->api, s->seq);
	ho.api = s->api;
	return kt_http_start(&s->http, &ho, err, errlen);
}

/* The start-up line on out, and the start event with its warnings. */
static kt_err
announce(struct server *s, FILE *out, char *err, size_t errlen)
{
	const struct kt_config *c = s->c;
	struct kt_store_read *r = NULL;
	char listen[300];
	uint64_t size;
	kt_err e;

	e = kt_store_read_begin(s->store, &r);
	if (e != KT_OK) {
		kt_msg(err, errlen, "cannot read the store: %s",
		    kt_strerror(e));
		return e;
	}
	size = kt_store_read_size(r);
	kt_store_read_end(r);
	/* listen has room for any host of s->host's size, brackets and a
	 * port. */
	if (kt_fmt(listen, sizeof listen,
	        strchr(s->host, ':') != NULL ? "[%s]:%u" : "%s:%u", s->host,
	        (unsigned)kt_http_port(s->http)) != KT_OK) {
		kt_msg(err, errlen, "cannot format the listen address");
		return KT_ERR_INTERNAL;
	}
	fprintf(out,
	    "kt-logd: origin=%s vkey=%s vrf=%s listen=%s size=%llu%s\n",
	    kt_signer_name(s->signer), s->vkey, s->vrf_pub, listen,
	    (unsigned long long)size, c->read_only ? " read-only" : "");
	/* The log's whole public identity, as a client pins it. */
	fprintf(out, "kt-logd: identity: --key '%s' --vrf-key %s\n", s->vkey,
	    s->vrf_pub);
	/* Whoever started kt-logd may be waiting for this line (it holds
	 * the port): a line that cannot be written stops the start. */
	if (fflush(out) != 0) {
		kt_msg(err, errlen, "writing the start line: %s",
		    strerror(errno));
		return KT_ERR_IO;
	}
	KT_LOG(KT_LOG_INFO, "start",
	    kt_log_str("origin", kt_signer_name(s->signer)),
	    kt_log_str("vkey", s->vkey), kt_log_str("vrf", s->vrf_pub),
	    kt_log_str("listen", listen), kt_log_uint("size", size),
	    kt_log_bool("read_only", c->read_only),
	    kt_log_bool("auth", s->tokens != NULL),
	    kt_log_int("tokens", (int64_t)kt_tokens_count(s->tokens)));
	if (c->read_only) {
		if (c->tokens[0] != '\0')
			KT_LOG(KT_LOG_WARN, "tokens_unused",
			    kt_log_str("hint",
			        "a read-only replica takes no writes: its tokens "
			        "file is not read"));
		return KT_OK; /* no warning about writes: the writer's */
	}
	if (s->tokens == NULL)
		kt_log_write(KT_LOG_WARN,
		    c->allow_anonymous_writes ? "anonymous_writes"
		                              : "writes_disabled",
		    NULL, 0);
	if (c->nwitnesses == 0 && c->witness_quorum > 1)
		KT_LOG(KT_LOG_WARN, "witness_quorum_unused",
		    kt_log_uint("witness_quorum", c->witness_quorum));
	if (s->tokens != NULL && kt_tokens_count(s->tokens) == 0)
		KT_LOG(KT_LOG_WARN, "no_tokens",
		    kt_log_str("hint",
		        "the tokens file holds no token: every write is refused "
		        "(401) until one is added and kt-logd gets SIGHUP"));
	return KT_OK;
}

/* Serves until SIGTERM or SIGINT, reloading the tokens on SIGHUP. */
static void
wait_for_signals(struct server *s)
{
	int sig = 0;

	for (;;) {
		if (sigwait(&s->sigs, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		reload_tokens(s);
	}
	KT_LOG(KT_LOG_INFO, "stopping",
	    kt_log_str("signal", sig == SIGINT ? "SIGINT" : "SIGTERM"));
}

/*
 * Takes down whatever was started. Order matters: stop accepting; detach
 * and stop the sequencer (it commits what is queued and wakes every parked
 * write); let those writes be answered; only then stop HTTP and close the
 * store.
 */
static void
stop_all(struct server *s)
{
	kt_http_quiesce(s->http);
	if (s->api != NULL)
		s->seq = kt_api_detach_seq(s->api);
	kt_seq_stop(s->seq);
	kt_http_stop(s->http, 5000);
	kt_wclient_stop(s->wc); /* its thread reads the store */
	kt_api_free(s->api);
	kt_store_close(s->store);
	kt_tokens_free(s->tokens);
	kt_signer_free(s->signer);
	kt_vrf_key_free(s->vrf);
}

kt_err
kt_serve(const struct kt_config *c, FILE *out, char *err, size_t errlen)
{
	static struct kt_metrics metrics;
	struct server s;
	kt_err e;

	memset(&s, 0, sizeof s);
	s.c = c;
	s.metrics = &metrics;
	if (c->log_debug)
		kt_log_set_level(KT_LOG_DEBUG);
	e = block_signals(&s.sigs, err, errlen);
	if (e != KT_OK)
		goto out;
	e = load_settings(&s, err, errlen);
	if (e != KT_OK)
		goto out;
	e = open_store(&s, err, errlen);
	if (e != KT_OK)
		goto out;
	e = start_sequencer(&s, err, errlen);
	if (e != KT_OK)
		goto out;
	e = start_witness_client(&s, err, errlen);
	if (e != KT_OK)
		goto out;
	e = start_http(&s, err, errlen);
	if (e != KT_OK)
		goto out;
	e = announce(&s, out, err, errlen);
	if (e != KT_OK)
		goto out;
	wait_for_signals(&s);
out:
	stop_all(&s);
	if (e == KT_OK)
		kt_log_write(KT_LOG_INFO, "stopped", NULL, 0);
	return e;
}
