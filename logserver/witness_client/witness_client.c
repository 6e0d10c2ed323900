/*
 * witness_client.c: submits kt-logd's newest checkpoint to witnesses
 * (C2SP tlog-witness, client side) and keeps the newest cosigned one.
 *
 * One thread runs the rounds: it polls the log, sends each witness the
 * request the protocol wants (protocol.c makes the bytes, transport.c
 * carries them), reads the answers and keeps the verified cosignatures. All network state is touched by the thread
 * alone; the mutex guards only what readers copy out (the served note, the
 * counters).
 */
#include "witness_client/witness_client.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kt/checkpoint.h"
#include "kt/fmt.h"
#include "log.h"
#include "witness_client/protocol.h"
#include "witness_client/transport.h"

#define POLL_MAX_MS 1000 /* upper bound of one transport wait */

/* ---- types -------------------------------------------------------------- */

/*
 * A checkpoint of the log, with the cosignature lines gathered for it.
 * Only the thread touches these. Reference counted: the newest one, the
 * served one and every request in flight hold references.
 */
struct cp {
	unsigned refs;
	uint64_t gen; /* 1, 2, ... in order of appearance */
	uint64_t size;
	char *note; /* the log's signed note, NUL-terminated */
	size_t note_len;
	size_t nsigs; /* signature lines in note */
	size_t ncosig;
	char *lines[KT_WCLIENT_MAX]; /* verified line per witness, or NULL */
};

/* How the last submission ended: state changes are logged, repeats not. */
enum why {
	WHY_START = 0, /* nothing sent yet */
	WHY_OK,
	WHY_NETWORK,
	WHY_HTTP,
	WHY_SIZE,     /* 409 we could not act on */
	WHY_CONFLICT, /* 422 */
	WHY_INVALID,  /* 200 without a valid cosignature */
	WHY_AHEAD,    /* witness size above the log's */
	WHY_LOCAL,    /* our side: proof, memory */
};

struct witness {
	struct kt_wclient *w;
	size_t idx; /* also its transport slot */
	struct kt_wclient_cfg cfg;
	char post_url[KT_WCLIENT_URL_MAX + 32];

	/* thread only */
	int busy;
	struct cp *cp;        /* the checkpoint in flight */
	int retried;          /* a 409 retry was made for cp */
	char *body;           /* the request in flight */
	uint64_t size;        /* the witness's tree size, as we know it */
	uint64_t done_gen;    /* gen of the last checkpoint it cosigned */
	uint64_t done_ms;     /* when it did */
	uint64_t tried_round; /* last round it was sent a submission in */
	uint64_t started_ms;
	enum why why;

	/* under w->mu */
	uint64_t n_ok;
	uint64_t n_fail;
	uint64_t n_conflict;
	uint64_t latency_ms;
	uint64_t known_size;
	int up;
};

struct kt_wclient {
	struct kt_wclient_source src;
	unsigned interval_ms;
	unsigned connect_ms;
	unsigned timeout_ms;
	unsigned quorum;
	unsigned refresh_ms;

	size_t n;
	struct witness *ws;
	struct kt_wtransport *tr;
	pthread_t thread;
	int thread_started;
	atomic_int stop;
	atomic_int notified;

	/* thread only */
	struct cp *cur;    /* newest checkpoint from the source */
	struct cp *served; /* the one published */
	uint64_t gens;
	char *scratch; /* KT_NOTE_MAX + 1 bytes */
	uint64_t next_poll_ms;
	/*
	 * Rounds keep the witnesses on the same checkpoint, so that their
	 * cosignatures combine: at most once per interval a round starts with
	 * the newest checkpoint, and every witness that has not cosigned it
	 * gets it once in that round (at once if idle, else when its request
	 * in flight ends).
	 */
	struct cp *round_cp;
	uint64_t round;
	uint64_t next_round_ms;

	/* under mu */
	pthread_mutex_t mu;
	char *pub; /* served note with cosignatures, or NULL */
	size_t pub_len;
	uint64_t pub_size;
	size_t pub_ncosig;
	uint64_t log_size;
	int have_log_size;
};

/* ---- small helpers ------------------------------------------------------ */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
cp_unref(struct cp *c)
{
	size_t i;

	if (c == NULL || --c->refs > 0)
		return;
	for (i = 0; i < KT_WCLIENT_MAX; i++)
		free(c->lines[i]);
	free(c->note);
	free(c);
}

static struct cp *
cp_ref(struct cp *c)
{
	c->refs++;
	return c;
}

/* ---- publishing --------------------------------------------------------- */

/* Rebuilds the served note from w->served and swaps it in under the lock. */
static void
publish(struct kt_wclient *w)
{
	struct cp *c = w->served;
	size_t i, len, nsigs, ncosig = 0;
	char *buf, *old;

	buf = malloc(KT_NOTE_MAX + 1);
	if (buf == NULL)
		return; /* keep serving the previous one */
	memcpy(buf, c->note, c->note_len);
	len = c->note_len;
	nsigs = c->nsigs;
	/* Cosignature lines follow the log's signature: a note may carry
	 * several signatures and verifiers skip keys they do not know. Stay
	 * within what kt_note_parse accepts. */
	for (i = 0; i < KT_WCLIENT_MAX; i++) {
		size_t l;

		if (c->lines[i] == NULL)
			continue;
		l = strlen(c->lines[i]);
		if (len + l > KT_NOTE_MAX || nsigs + 1 > KT_NOTE_MAX_SIGS)
			break;
		memcpy(buf + len, c->lines[i], l);
		len += l;
		nsigs++;
		ncosig++;
	}
	buf[len] = '\0';
	pthread_mutex_lock(&w->mu);
	old = w->pub;
	w->pub = buf;
	w->pub_len = len;
	w->pub_size = c->size;
	w->pub_ncosig = ncosig;
	pthread_mutex_unlock(&w->mu);
	free(old);
}

/* A cosignature for c arrived: serve c if it is newer (and has the quorum)
 * or if it is the served one and so gained a line. */
static void
consider(struct kt_wclient *w, struct cp *c)
{
	struct cp *s = w->served;

	if (c == s) {
		publish(w);
		return;
	}
	if (c->ncosig < w->quorum)
		return;
	if (s != NULL &&
	    (c->size < s->size ||
	        (c->size == s->size && c->ncosig <= s->ncosig)))
		return;
	cp_unref(s);
	w->served = cp_ref(c);
	publish(w);
}

/* ---- the source --------------------------------------------------------- */

static void
poll_source(struct kt_wclient *w)
{
	struct kt_note note;
	struct kt_checkpoint ck;
	struct cp *c;
	size_t len = 0;
	kt_err rc;

	rc = w->src.latest(w->src.ctx, w->scratch, KT_NOTE_MAX, &len);
	if (rc != KT_OK || len == 0 || len > KT_NOTE_MAX)
		return;
	if (w->cur != NULL && w->cur->note_len == len &&
	    memcmp(w->cur->note, w->scratch, len) == 0)
		return;
	if (kt_note_parse(w->scratch, len, &note) != KT_OK ||
	    kt_checkpoint_parse(note.text, note.text_len, &ck) != KT_OK) {
		KT_LOG(KT_LOG_ERROR, "witness",
		    kt_log_str("msg",
		        "the log's latest checkpoint does not parse"));
		return;
	}
	if (w->cur != NULL && ck.size < w->cur->size) {
		KT_LOG(KT_LOG_ERROR, "witness",
		    kt_log_str("msg",
		        "the log's checkpoint went back; not submitted"),
		    kt_log_uint("from_size", w->cur->size),
		    kt_log_uint("to_size", ck.size));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	c->note = malloc(len + 1);
	if (c->note == NULL) {
		free(c);
		return;
	}
	memcpy(c->note, w->scratch, len);
	c->note[len] = '\0';
	c->note_len = len;
	c->nsigs = note.nsigs;
	c->size = ck.size;
	c->refs = 1;
	c->gen = ++w->gens;
	cp_unref(w->cur);
	w->cur = c;
	pthread_mutex_lock(&w->mu);
	w->log_size = c->size;
	w->have_log_size = 1;
	pthread_mutex_unlock(&w->mu);
}

/* ---- requests ----------------------------------------------------------- */

static const char *
why_name(enum why why)
{
	switch (why) {
	case WHY_START:
		return "start";
	case WHY_OK:
		return "ok";
	case WHY_NETWORK:
		return "network";
	case WHY_HTTP:
		return "http";
	case WHY_SIZE:
		return "size";
	case WHY_CONFLICT:
		return "conflict";
	case WHY_INVALID:
		return "invalid";
	case WHY_AHEAD:
		return "ahead";
	case WHY_LOCAL:
		return "local";
	}
	return "unknown";
}

/* Records the end of a submission for the metrics, logs state changes. */
static void
finish(struct witness *ws, enum why why, const char *fmt, ...) KT_PRINTF(3, 4);

static void
finish(struct witness *ws, enum why why, const char *fmt, ...)
{
	struct kt_wclient *w = ws->w;
	char msg[400];
	va_list ap;
	uint64_t lat = now_ms() - ws->started_ms;

	pthread_mutex_lock(&w->mu);
	if (why == WHY_OK)
		ws->n_ok++;
	else
		ws->n_fail++;
	if (why == WHY_CONFLICT)
		ws->n_conflict++;
	ws->latency_ms = lat;
	ws->known_size = ws->size;
	ws->up = why == WHY_OK;
	pthread_mutex_unlock(&w->mu);

	if (why != ws->why) {
		va_start(ap, fmt);
		kt_vmsg(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		KT_LOG(why == WHY_OK          ? KT_LOG_INFO
		        : why == WHY_CONFLICT ? KT_LOG_ERROR
		                              : KT_LOG_WARN,
		    "witness", kt_log_str("witness", ws->cfg.key.name),
		    kt_log_str("url", ws->cfg.url),
		    kt_log_str("state", why_name(why)), kt_log_str("msg", msg));
	}
	ws->why = why;
	free(ws->body);
	ws->body = NULL;
	cp_unref(ws->cp);
	ws->cp = NULL;
	ws->busy = 0;
}

/* Builds the request body for ws->cp from ws->size and sends it. */
static void
submit(struct witness *ws)
{
	struct kt_wclient *w = ws->w;
	struct cp *c = ws->cp;
	struct kt_proof proof;
	size_t len;

	/* A witness last seen ahead of the log: ask again with old 0 (the
	 * 409 answer gives its size), in case it was reset or restored. */
	if (ws->size > c->size)
		ws->size = 0;
	proof.n = 0;
	if (ws->size > 0 && ws->size < c->size &&
	    w->src.consistency(w->src.ctx, ws->size, c->size, &proof) !=
	        KT_OK) {
		finish(ws, WHY_LOCAL,
		    "no consistency proof from %" PRIu64 " to %" PRIu64,
		    ws->size, c->size);
		return;
	}
	if (proof.n > KT_MAX_PROOF) {
		finish(ws, WHY_LOCAL, "consistency proof too long");
		return;
	}
	free(ws->body);
	ws->body =
	    kt_wproto_request(c->note, c->note_len, ws->size, &proof, &len);
	if (ws->body == NULL) {
		finish(ws, WHY_LOCAL, "out of memory");
		return;
	}
	if (kt_wtransport_send(w->tr, ws->idx, ws->body, len) != KT_OK)
		finish(ws, WHY_LOCAL, "the request could not be started");
}

static void
start(struct witness *ws, struct cp *c, uint64_t now)
{
	ws->busy = 1;
	ws->cp = cp_ref(c);
	ws->retried = 0;
	ws->started_ms = now;
	ws->tried_round = ws->w->round;
	submit(ws);
}

static void
on_200(struct witness *ws, const struct kt_wtransport_done *d)
{
	struct kt_wclient *w = ws->w;
	struct cp *c = ws->cp;
	char *line;

	line = kt_wproto_cosig_line(c->note, c->note_len, c->nsigs,
	    &ws->cfg.key, d->body, d->body_len);
	if (line == NULL) {
		finish(ws, WHY_INVALID,
		    "200 without a valid cosignature by "
		    "its key");
		return;
	}
	if (c->lines[ws->idx] == NULL)
		c->ncosig++;
	free(c->lines[ws->idx]);
	c->lines[ws->idx] = line;
	ws->size = c->size;
	ws->done_gen = c->gen;
	ws->done_ms = now_ms();
	cp_ref(c); /* finish drops ws->cp */
	finish(ws, WHY_OK, "cosigning at size %" PRIu64, c->size);
	consider(w, c);
	cp_unref(c);
}

/* A 409: our "old" was not its size. Only the text/x.tlog.size answer
 * carries a size (older spec versions sent 409 for conflicts too, without
 * one). Retry once at once with the right size. */
static void
on_409(struct witness *ws, const struct kt_wtransport_done *d)
{
	uint64_t size;

	if (!kt_wproto_size(d->content_type, d->body, d->body_len, &size)) {
		finish(ws, WHY_SIZE, "409 without a size");
		return;
	}
	ws->size = size;
	if (size > ws->cp->size) {
		/* It saw a bigger tree of this origin than we have: another
		 * log instance, or we lost data. */
		finish(ws, WHY_AHEAD,
		    "409: the witness is at size %" PRIu64
		    ", ahead of the log's %" PRIu64,
		    size, ws->cp->size);
		return;
	}
	if (ws->retried) {
		finish(ws, WHY_SIZE,
		    "409 again: witness at size %" PRIu64 ", log at %" PRIu64,
		    size, ws->cp->size);
		return;
	}
	ws->retried = 1;
	submit(ws);
}

static void
on_done(struct witness *ws, const struct kt_wtransport_done *d)
{
	size_t i;

	if (d->error != NULL) {
		finish(ws, WHY_NETWORK, "%s", d->error);
		return;
	}
	switch (d->status) {
	case 200:
		on_200(ws, d);
		return;
	case 409:
		on_409(ws, d);
		return;
	case 422:
		finish(ws, WHY_CONFLICT,
		    "422: the witness holds a checkpoint "
		    "inconsistent with size %" PRIu64 " (split view?)",
		    ws->cp->size);
		return;
	default:
		/* Quote the start of the error text: it says what to fix. */
		for (i = 0; i < d->body_len && i < 120; i++)
			if (d->body[i] == '\n' ||
			    (unsigned char)d->body[i] < 0x20)
				break;
		finish(ws, WHY_HTTP, "HTTP %ld: %.*s", d->status, (int)i,
		    d->body);
		return;
	}
}

/* ---- the thread --------------------------------------------------------- */

/*
 * Whether witness ws should be sent checkpoint c: it has not cosigned c, or
 * its cosignature is older than refresh_ms. Resubmitting an unchanged
 * checkpoint gets a fresh cosignature time, so clients that bound the age
 * of what they accept (kt-verify --max-age) keep accepting an idle log.
 */
static int
owes(const struct witness *ws, const struct cp *c, uint64_t now)
{
	return ws->done_gen != c->gen || now - ws->done_ms >= ws->w->refresh_ms;
}

/*
 * Starts a round when one is due and some witness lacks the newest
 * checkpoint (if none does, the next checkpoint, after an idle spell,
 * starts a round at once), then sends the round's checkpoint to every idle
 * witness that owes it. Returns how long the thread may sleep, at most
 * wait ms.
 */
static uint64_t
run_round(struct kt_wclient *w, uint64_t now, uint64_t wait)
{
	struct witness *ws;
	size_t i;

	for (i = 0; i < w->n && w->cur != NULL; i++)
		if (owes(&w->ws[i], w->cur, now))
			break;
	if (w->cur != NULL && i < w->n) {
		if (now >= w->next_round_ms) {
			cp_unref(w->round_cp);
			w->round_cp = cp_ref(w->cur);
			w->round++;
			w->next_round_ms = now + w->interval_ms;
		}
		if (w->next_round_ms - now < wait)
			wait = w->next_round_ms - now;
	}
	for (i = 0; i < w->n && w->round_cp != NULL; i++) {
		ws = &w->ws[i];
		if (!ws->busy && ws->tried_round != w->round &&
		    owes(ws, w->round_cp, now))
			start(ws, w->round_cp, now);
	}
	return wait;
}

static void *
run(void *arg)
{
	struct kt_wclient *w = arg;
	struct kt_wtransport_done d;
	uint64_t now, wait;

	while (!atomic_load(&w->stop)) {
		now = now_ms();
		if (atomic_exchange(&w->notified, 0) ||
		    now >= w->next_poll_ms) {
			poll_source(w);
			now = now_ms();
			w->next_poll_ms = now + w->interval_ms;
		}
		wait = run_round(w, now, w->next_poll_ms - now);
		kt_wtransport_perform(w->tr);
		while (kt_wtransport_next_done(w->tr, &d)) {
			on_done(&w->ws[d.slot], &d);
			/* it may owe this round a submission: loop at once */
			wait = 0;
		}
		if (wait > POLL_MAX_MS)
			wait = POLL_MAX_MS;
		/* Wakes early for the network, a 409 retry just sent, and
		 * kt_wclient_notify or kt_wclient_stop. */
		kt_wtransport_wait(w->tr, (unsigned)wait);
	}
	return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

static kt_err
check_witnesses(const struct kt_wclient_cfg *ws, size_t n,
    const struct kt_wclient_source *src, const struct kt_wclient_opts *opts)
{
	size_t i, j;

	/* A quorum these witnesses cannot meet is refused, never lowered:
	 * it is a security setting. */
	if (n < 1 || n > KT_WCLIENT_MAX || (opts != NULL && opts->quorum > n))
		return KT_ERR_RANGE;
	if (src == NULL || src->latest == NULL || src->consistency == NULL)
		return KT_ERR_MALFORMED;
	for (i = 0; i < n; i++) {
		if (ws[i].key.type != KT_KEY_COSIG)
			return KT_ERR_MALFORMED;
		/* Two witnesses with one key would put two lines of the same
		 * key in a note. */
		for (j = 0; j < i; j++)
			if (strcmp(ws[i].key.name, ws[j].key.name) == 0 &&
			    memcmp(ws[i].key.id, ws[j].key.id, KT_KEY_ID_LEN) ==
			        0)
				return KT_ERR_MALFORMED;
	}
	return KT_OK;
}

static void
apply_opts(struct kt_wclient *w, const struct kt_wclient_opts *opts)
{
	w->interval_ms = 1000;
	w->connect_ms = 2000;
	w->timeout_ms = 5000;
	w->quorum = 1;
	w->refresh_ms = 60000;
	if (opts == NULL)
		return;
	if (opts->interval_ms != 0)
		w->interval_ms = opts->interval_ms;
	if (opts->connect_timeout_ms != 0)
		w->connect_ms = opts->connect_timeout_ms;
	if (opts->timeout_ms != 0)
		w->timeout_ms = opts->timeout_ms;
	if (opts->quorum != 0)
		w->quorum = opts->quorum;
	if (opts->refresh_ms != 0)
		w->refresh_ms = opts->refresh_ms;
}

/* Copies the witnesses in and opens the transport with one slot each. */
static kt_err
setup_witnesses(struct kt_wclient *w, const struct kt_wclient_cfg *cfg)
{
	const char *urls[KT_WCLIENT_MAX];
	struct witness *ws;
	size_t i;

	for (i = 0; i < w->n; i++) {
		ws = &w->ws[i];
		ws->w = w;
		ws->idx = i;
		ws->cfg = cfg[i];
		ws->cfg.url[KT_WCLIENT_URL_MAX - 1] = '\0';
		/* post_url has room for the longest URL and the suffix. */
		if (kt_fmt(ws->post_url, sizeof(ws->post_url),
		        "%s/add-checkpoint", ws->cfg.url) != KT_OK)
			return KT_ERR_INTERNAL;
		urls[i] = ws->post_url;
	}
	return kt_wtransport_open(&w->tr, urls, w->n, w->connect_ms,
	    w->timeout_ms);
}

kt_err
kt_wclient_start(struct kt_wclient **out, const struct kt_wclient_cfg *ws,
    size_t n, const struct kt_wclient_source *src,
    const struct kt_wclient_opts *opts)
{
	struct kt_wclient *w = NULL;
	kt_err rc;

	*out = NULL;
	rc = check_witnesses(ws, n, src, opts);
	if (rc != KT_OK)
		return rc;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return KT_ERR_NOMEM;
	w->src = *src;
	apply_opts(w, opts);
	atomic_init(&w->stop, 0);
	atomic_init(&w->notified, 0);
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		return KT_ERR_INTERNAL;
	}
	w->n = n;
	rc = KT_ERR_NOMEM;
	w->ws = calloc(n, sizeof(*w->ws));
	w->scratch = malloc(KT_NOTE_MAX + 1);
	if (w->ws == NULL || w->scratch == NULL)
		goto fail;
	rc = setup_witnesses(w, ws);
	if (rc != KT_OK)
		goto fail;
	rc = KT_ERR_INTERNAL;
	if (pthread_create(&w->thread, NULL, run, w) != 0)
		goto fail;
	w->thread_started = 1;
	*out = w;
	return KT_OK;
fail:
	kt_wclient_stop(w);
	return rc;
}

void
kt_wclient_notify(struct kt_wclient *w)
{
	if (w == NULL)
		return;
	/* Coalesce: one wake-up write per pending notification. */
	if (atomic_exchange(&w->notified, 1) == 0)
		kt_wtransport_wakeup(w->tr);
}

kt_err
kt_wclient_checkpoint(struct kt_wclient *w, char *buf, size_t cap, size_t *len,
    uint64_t *size)
{
	kt_err rc = KT_OK;

	if (w == NULL)
		return KT_ERR_NOT_FOUND;
	pthread_mutex_lock(&w->mu);
	if (w->pub == NULL) {
		rc = KT_ERR_NOT_FOUND;
	} else if (w->pub_len + 1 > cap) {
		rc = KT_ERR_TOO_LARGE;
	} else {
		memcpy(buf, w->pub, w->pub_len + 1);
		if (len != NULL)
			*len = w->pub_len;
		if (size != NULL)
			*size = w->pub_size;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void
kt_wclient_stats(struct kt_wclient *w, struct kt_wclient_stats *out)
{
	struct kt_wclient_witness_stats *o;
	const struct witness *ws;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	out->n = w->n;
	for (i = 0; i < w->n; i++) {
		ws = &w->ws[i];
		o = &out->w[i];
		o->name = ws->cfg.key.name;
		o->url = ws->cfg.url;
		o->ok = ws->n_ok;
		o->fail = ws->n_fail;
		o->conflicts = ws->n_conflict;
		o->latency_ms = ws->latency_ms;
		o->size = ws->known_size;
		o->lag = w->have_log_size
		    ? (int64_t)(w->log_size - ws->known_size)
		    : 0;
		o->up = ws->up;
	}
	out->cosigned_size = w->pub_size;
	out->cosignatures = w->pub_ncosig;
	pthread_mutex_unlock(&w->mu);
}

void
kt_wclient_stop(struct kt_wclient *w)
{
	size_t i;

	if (w == NULL)
		return;
	if (w->thread_started) {
		atomic_store(&w->stop, 1);
		kt_wtransport_wakeup(w->tr);
		pthread_join(w->thread, NULL);
	}
	/* Abandons requests in flight before their bodies are freed. */
	kt_wtransport_close(w->tr);
	for (i = 0; w->ws != NULL && i < w->n; i++) {
		free(w->ws[i].body);
		cp_unref(w->ws[i].cp);
	}
	cp_unref(w->cur);
	cp_unref(w->round_cp);
	cp_unref(w->served);
	free(w->pub);
	free(w->scratch);
	free(w->ws);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
