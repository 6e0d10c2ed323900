/*
 * witness_client.c: submits kt-logd's newest checkpoint to witnesses
 * (C2SP tlog-witness, client side) and keeps the newest cosigned one.
 *
 * One thread drives one libcurl multi handle. Each witness has one easy
 * handle and at most one request in flight, so a slow witness ties up only
 * its own handle. All network state is touched by the thread alone; the
 * mutex guards only what readers copy out (the served note, the counters).
 */
#include "witness_client/witness_client.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "kt/checkpoint.h"

#define RESP_MAX 16384          /* bytes of a witness's answer we read */
#define INTERVAL_MAX_MS (24u * 3600u * 1000u)
#define POLL_MAX_MS 1000        /* upper bound of one curl_multi_poll wait */
#define B64_HASH_LEN 44         /* base64 of 32 bytes, padded */
#define SIZE_TYPE "text/x.tlog.size"

/* ---- types -------------------------------------------------------------- */

/*
 * A checkpoint of the log, with the cosignature lines gathered for it.
 * Only the thread touches these. Reference counted: the newest one, the
 * served one and every request in flight hold references.
 */
struct cp {
	unsigned refs;
	uint64_t gen;               /* 1, 2, ... in order of appearance */
	uint64_t size;
	char *note;                 /* the log's signed note, NUL-terminated */
	size_t note_len;
	size_t nsigs;               /* signature lines in note */
	size_t ncosig;
	char *lines[KT_WCLIENT_MAX]; /* verified line per witness, or NULL */
};

/* How the last submission ended: state changes are logged, repeats not. */
enum why {
	WHY_START = 0, /* nothing sent yet */
	WHY_OK,
	WHY_NETWORK,
	WHY_HTTP,
	WHY_SIZE,      /* 409 we could not act on */
	WHY_CONFLICT,  /* 422 */
	WHY_INVALID,   /* 200 without a valid cosignature */
	WHY_AHEAD,     /* witness size above the log's */
	WHY_LOCAL,     /* our side: proof, memory */
};

struct witness {
	struct kt_wclient *w;
	size_t idx;
	struct kt_wclient_cfg cfg;
	char post_url[KT_WCLIENT_URL_MAX + 32];
	char *labels;               /* escaped Prometheus labels */
	CURL *easy;
	struct curl_slist *hdrs;

	/* thread only */
	int busy;
	struct cp *cp;              /* the checkpoint in flight */
	int retried;                /* a 409 retry was made for cp */
	char *body;
	char resp[RESP_MAX];
	size_t resp_len;
	int resp_over;
	uint64_t size;              /* the witness's tree size, as we know it */
	uint64_t done_gen;          /* gen of the last checkpoint it cosigned */
	uint64_t done_ms;           /* when it did */
	uint64_t tried_round;       /* last round it was sent a submission in */
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
	kt_wclient_log_fn log;
	void *log_ctx;

	size_t n;
	struct witness *ws;
	CURLM *multi;
	pthread_t thread;
	int thread_started;
	int curl_inited;
	atomic_int stop;
	atomic_int notified;

	/* thread only */
	struct cp *cur;             /* newest checkpoint from the source */
	struct cp *served;          /* the one published */
	uint64_t gens;
	char *scratch;              /* KT_NOTE_MAX + 1 bytes */
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
	char *pub;                  /* served note with cosignatures, or NULL */
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
say(struct kt_wclient *w, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct kt_wclient *w, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->log != NULL)
		w->log(w->log_ctx, level, msg);
	else
		fprintf(stderr, "kt-logd: witness: %s\n", msg);
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

/* Parses "<decimal>\n" exactly: no sign, no leading zeros, no overflow. */
static int
parse_size_body(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len < 2 || len > 21 || p[len - 1] != '\n')
		return -1;
	if (p[0] == '0' && len != 2)
		return -1;
	for (i = 0; i + 1 < len; i++) {
		unsigned d;

		if (p[i] < '0' || p[i] > '9')
			return -1;
		d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* ---- parsing arguments -------------------------------------------------- */

static kt_err
parse_url(const char *p, size_t len, char *out)
{
	size_t i, skip;

	if (len >= 7 && memcmp(p, "http://", 7) == 0)
		skip = 7;
	else if (len >= 8 && memcmp(p, "https://", 8) == 0)
		skip = 8;
	else
		return KT_ERR_MALFORMED;
	while (len > skip && p[len - 1] == '/')
		len--;
	if (len == skip)
		return KT_ERR_MALFORMED;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] == 0x7f)
			return KT_ERR_MALFORMED;
	if (len >= KT_WCLIENT_URL_MAX)
		return KT_ERR_TOO_LARGE;
	memcpy(out, p, len);
	out[len] = '\0';
	return KT_OK;
}

kt_err
kt_wclient_parse_spec(const char *spec, size_t len, struct kt_wclient_cfg *out)
{
	struct kt_verifier v;
	kt_err rc;
	size_t i;

	memset(out, 0, sizeof(*out));
	/* The key's base64 may hold '=' padding and a URL may hold '=':
	 * split at the first '=' that leaves a valid key on its right. */
	for (i = 0; i < len; i++) {
		if (spec[i] != '=')
			continue;
		if (kt_verifier_parse(spec + i + 1, len - i - 1, &v) != KT_OK)
			continue;
		if (v.type != KT_KEY_COSIG)
			return KT_ERR_MALFORMED;
		rc = parse_url(spec, i, out->url);
		if (rc != KT_OK)
			return rc;
		out->key = v;
		return KT_OK;
	}
	return KT_ERR_MALFORMED;
}

kt_err
kt_wclient_parse_interval(const char *text, size_t len, unsigned *ms)
{
	uint64_t v = 0, mul;
	size_t i = 0;

	while (i < len && text[i] >= '0' && text[i] <= '9') {
		if (i >= 9)
			return KT_ERR_RANGE;
		v = v * 10 + (uint64_t)(text[i] - '0');
		i++;
	}
	if (i == 0)
		return KT_ERR_MALFORMED;
	if (len - i == 0 || (len - i == 1 && text[i] == 's'))
		mul = 1000;
	else if (len - i == 2 && memcmp(text + i, "ms", 2) == 0)
		mul = 1;
	else if (len - i == 1 && text[i] == 'm')
		mul = 60000;
	else
		return KT_ERR_MALFORMED;
	v *= mul;
	if (v < 1 || v > INTERVAL_MAX_MS)
		return KT_ERR_RANGE;
	*ms = (unsigned)v;
	return KT_OK;
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
	if (s != NULL && (c->size < s->size ||
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
		say(w, 0, "the log's latest checkpoint does not parse");
		return;
	}
	if (w->cur != NULL && ck.size < w->cur->size) {
		say(w, 0, "the log's checkpoint went back from size %" PRIu64
		    " to %" PRIu64 "; not submitted", w->cur->size, ck.size);
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

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct witness *ws = arg;
	size_t n = size * nmemb;

	if (n > RESP_MAX - ws->resp_len) {
		ws->resp_over = 1;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	memcpy(ws->resp + ws->resp_len, p, n);
	ws->resp_len += n;
	return n;
}

/* Records the end of a submission for the metrics, logs state changes. */
static void
finish(struct witness *ws, enum why why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		say(w, why == WHY_OK ? 2 : why == WHY_CONFLICT ? 0 : 1,
		    "%s (%s): %s", ws->cfg.key.name, ws->cfg.url, msg);
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
	size_t i, off, cap;
	char *body;
	int n;

	/* A witness last seen ahead of the log: ask again with old 0 (the
	 * 409 answer gives its size), in case it was reset or restored. */
	if (ws->size > c->size)
		ws->size = 0;
	proof.n = 0;
	if (ws->size > 0 && ws->size < c->size &&
	    w->src.consistency(w->src.ctx, ws->size, c->size, &proof) !=
	    KT_OK) {
		finish(ws, WHY_LOCAL, "no consistency proof from %" PRIu64
		    " to %" PRIu64, ws->size, c->size);
		return;
	}
	if (proof.n > KT_MAX_PROOF) {
		finish(ws, WHY_LOCAL, "consistency proof too long");
		return;
	}
	/* C2SP tlog-witness: "old N", proof lines, empty line, checkpoint. */
	cap = 32 + proof.n * (B64_HASH_LEN + 1) + 1 + c->note_len;
	body = malloc(cap);
	if (body == NULL) {
		finish(ws, WHY_LOCAL, "out of memory");
		return;
	}
	n = snprintf(body, cap, "old %" PRIu64 "\n", ws->size);
	off = (size_t)n;
	for (i = 0; i < proof.n; i++) {
		sodium_bin2base64(body + off, B64_HASH_LEN + 1, proof.h[i].b,
		    KT_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
		off += B64_HASH_LEN;
		body[off++] = '\n';
	}
	body[off++] = '\n';
	memcpy(body + off, c->note, c->note_len);
	off += c->note_len;
	free(ws->body);
	ws->body = body;
	ws->resp_len = 0;
	ws->resp_over = 0;
	curl_easy_setopt(ws->easy, CURLOPT_POSTFIELDS, ws->body);
	curl_easy_setopt(ws->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)off);
	if (curl_multi_add_handle(w->multi, ws->easy) != CURLM_OK) {
		finish(ws, WHY_LOCAL, "curl_multi_add_handle failed");
		return;
	}
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

/* A 200: the body must be cosignature lines by this witness's key over
 * exactly our checkpoint. Returns the verified line (malloc'd) or NULL. */
static char *
verify_cosig(struct witness *ws, struct cp *c)
{
	struct kt_note *note = NULL;
	const struct kt_note_sig *sg;
	char *buf = NULL, *line = NULL;
	size_t i, len = c->note_len + ws->resp_len;
	uint8_t ok = 0;
	int n;

	if (len > KT_NOTE_MAX)
		goto out;
	buf = malloc(len);
	note = malloc(sizeof(*note));
	if (buf == NULL || note == NULL)
		goto out;
	memcpy(buf, c->note, c->note_len);
	memcpy(buf + c->note_len, ws->resp, ws->resp_len);
	/* The answer appended to our note must give a valid note in which
	 * the witness's key signed validly (kt_note_verify checks type 0x04
	 * keys as tlog-cosignatures over the checkpoint text). */
	if (kt_note_parse(buf, len, note) != KT_OK)
		goto out;
	if (kt_note_verify(note, &ws->cfg.key, 1, &ok, NULL) != KT_OK ||
	    !ok)
		goto out;
	/* Keep only this witness's line; others in the answer are not ours
	 * to vouch for. */
	for (i = c->nsigs; i < note->nsigs; i++) {
		sg = &note->sigs[i];
		if (sg->name_len != strlen(ws->cfg.key.name) ||
		    memcmp(sg->name, ws->cfg.key.name, sg->name_len) != 0 ||
		    memcmp(sg->id, ws->cfg.key.id, KT_KEY_ID_LEN) != 0)
			continue;
		line = malloc(sg->name_len + sg->b64_len + 8);
		if (line == NULL)
			goto out;
		n = snprintf(line, sg->name_len + sg->b64_len + 8,
		    "\xe2\x80\x94 %.*s %.*s\n", (int)sg->name_len, sg->name,
		    (int)sg->b64_len, sg->b64);
		(void)n;
		break;
	}
out:
	free(note);
	free(buf);
	return line;
}

static void
on_200(struct witness *ws)
{
	struct kt_wclient *w = ws->w;
	struct cp *c = ws->cp;
	char *line;

	line = verify_cosig(ws, c);
	if (line == NULL) {
		finish(ws, WHY_INVALID, "200 without a valid cosignature by "
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

static void
on_done(struct witness *ws, CURLcode res)
{
	struct kt_wclient *w = ws->w;
	long status = 0;
	char *ctype = NULL;
	uint64_t size;
	size_t i;

	curl_multi_remove_handle(w->multi, ws->easy);
	if (res != CURLE_OK) {
		finish(ws, WHY_NETWORK, "%s", ws->resp_over ?
		    "answer too large" : curl_easy_strerror(res));
		return;
	}
	curl_easy_getinfo(ws->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(ws->easy, CURLINFO_CONTENT_TYPE, &ctype);
	switch (status) {
	case 200:
		on_200(ws);
		return;
	case 409:
		/* Our "old" was not its size. Only the text/x.tlog.size answer
		 * carries a size (older spec versions sent 409 for conflicts
		 * too, without one). Retry once at once with the right size. */
		if (ctype == NULL ||
		    strncmp(ctype, SIZE_TYPE, strlen(SIZE_TYPE)) != 0 ||
		    (ctype[strlen(SIZE_TYPE)] != '\0' &&
		    ctype[strlen(SIZE_TYPE)] != ';') ||
		    parse_size_body(ws->resp, ws->resp_len, &size) != 0) {
			finish(ws, WHY_SIZE, "409 without a size");
			return;
		}
		ws->size = size;
		if (size > ws->cp->size) {
			/* It saw a bigger tree of this origin than we have:
			 * another log instance, or we lost data. */
			finish(ws, WHY_AHEAD, "409: the witness is at size %"
			    PRIu64 ", ahead of the log's %" PRIu64, size,
			    ws->cp->size);
			return;
		}
		if (ws->retried) {
			finish(ws, WHY_SIZE, "409 again: witness at size %"
			    PRIu64 ", log at %" PRIu64, size, ws->cp->size);
			return;
		}
		ws->retried = 1;
		submit(ws);
		return;
	case 422:
		finish(ws, WHY_CONFLICT, "422: the witness holds a checkpoint "
		    "inconsistent with size %" PRIu64 " (split view?)",
		    ws->cp->size);
		return;
	default:
		/* Quote the start of the error text: it says what to fix. */
		for (i = 0; i < ws->resp_len && i < 120; i++)
			if (ws->resp[i] == '\n' ||
			    (unsigned char)ws->resp[i] < 0x20)
				break;
		finish(ws, WHY_HTTP, "HTTP %ld: %.*s", status, (int)i,
		    ws->resp);
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
	return ws->done_gen != c->gen ||
	    now - ws->done_ms >= ws->w->refresh_ms;
}

static void *
run(void *arg)
{
	struct kt_wclient *w = arg;
	struct witness *ws;
	CURLMsg *msg;
	char *priv;
	uint64_t now, wait;
	size_t i;
	int running, left;

	while (!atomic_load(&w->stop)) {
		now = now_ms();
		if (atomic_exchange(&w->notified, 0) || now >= w->next_poll_ms) {
			poll_source(w);
			now = now_ms();
			w->next_poll_ms = now + w->interval_ms;
		}
		wait = w->next_poll_ms - now;
		/* A new round when one is due and some witness lacks the
		 * newest checkpoint; if none does, the next checkpoint (after
		 * an idle spell) starts a round at once. */
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
		curl_multi_perform(w->multi, &running);
		while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			priv = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    &priv);
			ws = (void *)priv;
			if (ws != NULL)
				on_done(ws, msg->data.result);
			/* it may owe this round a submission: loop at once */
			wait = 0;
		}
		if (wait > POLL_MAX_MS)
			wait = POLL_MAX_MS;
		/* Returns early on socket activity, curl's own timers (a
		 * handle just added by a 409 retry fires at once), and
		 * curl_multi_wakeup from notify or stop. */
		curl_multi_poll(w->multi, NULL, 0, (int)wait, NULL);
	}
	return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

/* Prometheus label values escape '\\', '"' and newline. */
static char *
make_labels(const struct kt_wclient_cfg *c)
{
	const char *parts[2] = { c->key.name, c->url };
	const char *keys[2] = { "witness=\"", "\",url=\"" };
	size_t cap = 32 + 2 * (strlen(c->key.name) + strlen(c->url));
	size_t off = 0, k;
	const char *p;
	char *s;

	s = malloc(cap);
	if (s == NULL)
		return NULL;
	for (k = 0; k < 2; k++) {
		off += (size_t)snprintf(s + off, cap - off, "%s", keys[k]);
		for (p = parts[k]; *p != '\0'; p++) {
			if (*p == '\\' || *p == '"') {
				s[off++] = '\\';
				s[off++] = *p;
			} else if (*p == '\n') {
				s[off++] = '\\';
				s[off++] = 'n';
			} else {
				s[off++] = *p;
			}
		}
	}
	s[off++] = '"';
	s[off] = '\0';
	return s;
}

static kt_err
setup_witness(struct kt_wclient *w, size_t i, const struct kt_wclient_cfg *c)
{
	struct witness *ws = &w->ws[i];

	ws->w = w;
	ws->idx = i;
	ws->cfg = *c;
	ws->cfg.url[KT_WCLIENT_URL_MAX - 1] = '\0';
	snprintf(ws->post_url, sizeof(ws->post_url), "%s/add-checkpoint",
	    ws->cfg.url);
	ws->labels = make_labels(&ws->cfg);
	ws->easy = curl_easy_init();
	ws->hdrs = curl_slist_append(NULL,
	    "Content-Type: text/plain; charset=utf-8");
	if (ws->hdrs != NULL)
		/* no "Expect: 100-continue" round trip for larger bodies */
		ws->hdrs = curl_slist_append(ws->hdrs, "Expect:");
	if (ws->labels == NULL || ws->easy == NULL || ws->hdrs == NULL)
		return KT_ERR_NOMEM;
	if (curl_easy_setopt(ws->easy, CURLOPT_URL, ws->post_url) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    curl_easy_setopt(ws->easy, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
#endif
	    curl_easy_setopt(ws->easy, CURLOPT_HTTPHEADER, ws->hdrs) !=
	    CURLE_OK ||
	    curl_easy_setopt(ws->easy, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(ws->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(ws->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)w->connect_ms) != CURLE_OK ||
	    curl_easy_setopt(ws->easy, CURLOPT_TIMEOUT_MS,
	    (long)w->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(ws->easy, CURLOPT_WRITEFUNCTION, on_data) !=
	    CURLE_OK ||
	    curl_easy_setopt(ws->easy, CURLOPT_WRITEDATA, ws) != CURLE_OK ||
	    curl_easy_setopt(ws->easy, CURLOPT_PRIVATE, ws) != CURLE_OK ||
	    curl_easy_setopt(ws->easy, CURLOPT_USERAGENT, "kt-logd") !=
	    CURLE_OK)
		return KT_ERR_INTERNAL;
	return KT_OK;
}

kt_err
kt_wclient_start(struct kt_wclient **out, const struct kt_wclient_cfg *ws,
    size_t n, const struct kt_wclient_source *src,
    const struct kt_wclient_opts *opts)
{
	struct kt_wclient *w = NULL;
	size_t i, j;
	kt_err rc;

	*out = NULL;
	/* A quorum these witnesses cannot meet is refused, never lowered:
	 * it is a security setting. */
	if (n < 1 || n > KT_WCLIENT_MAX ||
	    (opts != NULL && opts->quorum > n))
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
			    memcmp(ws[i].key.id, ws[j].key.id,
			    KT_KEY_ID_LEN) == 0)
				return KT_ERR_MALFORMED;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return KT_ERR_NOMEM;
	w->src = *src;
	w->interval_ms = 1000;
	w->connect_ms = 2000;
	w->timeout_ms = 5000;
	w->quorum = 1;
	w->refresh_ms = 60000;
	if (opts != NULL) {
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
		w->log = opts->log;
		w->log_ctx = opts->log_ctx;
	}
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
	rc = KT_ERR_INTERNAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto fail;
	w->curl_inited = 1;
	w->multi = curl_multi_init();
	if (w->multi == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		rc = setup_witness(w, i, &ws[i]);
		if (rc != KT_OK)
			goto fail;
	}
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
		curl_multi_wakeup(w->multi);
}

kt_err
kt_wclient_checkpoint(struct kt_wclient *w, char *buf, size_t cap,
    size_t *len, uint64_t *size)
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

/* Appends formatted text; counts what would be needed past cap. */
static void
app(char *buf, size_t cap, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
app(char *buf, size_t cap, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (*off < cap)
		n = vsnprintf(buf + *off, cap - *off, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

kt_err
kt_wclient_metrics(struct kt_wclient *w, char *buf, size_t cap, size_t *len)
{
	struct witness *ws;
	size_t off = 0, i;
	int64_t lag;

	if (w == NULL) {
		if (cap > 0)
			buf[0] = '\0';
		if (len != NULL)
			*len = 0;
		return cap > 0 ? KT_OK : KT_ERR_TOO_LARGE;
	}
	pthread_mutex_lock(&w->mu);
	app(buf, cap, &off,
	    "# HELP kt_witness_requests_total Checkpoint submissions to a "
	    "witness, by outcome.\n"
	    "# TYPE kt_witness_requests_total counter\n");
	for (i = 0; i < w->n; i++) {
		ws = &w->ws[i];
		app(buf, cap, &off, "kt_witness_requests_total{%s,result=\"ok\"} "
		    "%" PRIu64 "\n", ws->labels, ws->n_ok);
		app(buf, cap, &off, "kt_witness_requests_total{%s,result="
		    "\"fail\"} %" PRIu64 "\n", ws->labels, ws->n_fail);
	}
	app(buf, cap, &off,
	    "# HELP kt_witness_conflicts_total 422 answers: the witness holds "
	    "a checkpoint inconsistent with the log's.\n"
	    "# TYPE kt_witness_conflicts_total counter\n");
	for (i = 0; i < w->n; i++)
		app(buf, cap, &off, "kt_witness_conflicts_total{%s} %" PRIu64
		    "\n", w->ws[i].labels, w->ws[i].n_conflict);
	app(buf, cap, &off,
	    "# HELP kt_witness_latency_seconds Duration of the last "
	    "submission.\n# TYPE kt_witness_latency_seconds gauge\n");
	for (i = 0; i < w->n; i++)
		app(buf, cap, &off, "kt_witness_latency_seconds{%s} %.3f\n",
		    w->ws[i].labels, (double)w->ws[i].latency_ms / 1000.0);
	app(buf, cap, &off,
	    "# HELP kt_witness_size Tree size the witness last reported or "
	    "cosigned.\n# TYPE kt_witness_size gauge\n");
	for (i = 0; i < w->n; i++)
		app(buf, cap, &off, "kt_witness_size{%s} %" PRIu64 "\n",
		    w->ws[i].labels, w->ws[i].known_size);
	app(buf, cap, &off,
	    "# HELP kt_witness_lag Log tree size minus the witness's size.\n"
	    "# TYPE kt_witness_lag gauge\n");
	for (i = 0; i < w->n; i++) {
		lag = w->have_log_size ?
		    (int64_t)(w->log_size - w->ws[i].known_size) : 0;
		app(buf, cap, &off, "kt_witness_lag{%s} %" PRId64 "\n",
		    w->ws[i].labels, lag);
	}
	app(buf, cap, &off,
	    "# HELP kt_witness_up 1 if the last submission was cosigned.\n"
	    "# TYPE kt_witness_up gauge\n");
	for (i = 0; i < w->n; i++)
		app(buf, cap, &off, "kt_witness_up{%s} %d\n", w->ws[i].labels,
		    w->ws[i].up);
	app(buf, cap, &off,
	    "# HELP kt_witness_cosigned_size Tree size of the cosigned "
	    "checkpoint served.\n# TYPE kt_witness_cosigned_size gauge\n"
	    "kt_witness_cosigned_size %" PRIu64 "\n"
	    "# HELP kt_witness_cosignatures Cosignatures on the checkpoint "
	    "served.\n# TYPE kt_witness_cosignatures gauge\n"
	    "kt_witness_cosignatures %zu\n", w->pub_size, w->pub_ncosig);
	pthread_mutex_unlock(&w->mu);
	if (len != NULL)
		*len = off;
	if (off >= cap)
		return KT_ERR_TOO_LARGE;
	return KT_OK;
}

void
kt_wclient_stop(struct kt_wclient *w)
{
	struct witness *ws;
	size_t i;

	if (w == NULL)
		return;
	if (w->thread_started) {
		atomic_store(&w->stop, 1);
		curl_multi_wakeup(w->multi);
		pthread_join(w->thread, NULL);
	}
	for (i = 0; w->ws != NULL && i < w->n; i++) {
		ws = &w->ws[i];
		if (ws->easy != NULL) {
			if (ws->busy)
				curl_multi_remove_handle(w->multi, ws->easy);
			curl_easy_cleanup(ws->easy);
		}
		curl_slist_free_all(ws->hdrs);
		free(ws->labels);
		free(ws->body);
		cp_unref(ws->cp);
	}
	if (w->multi != NULL)
		curl_multi_cleanup(w->multi);
	if (w->curl_inited)
		curl_global_cleanup();
	cp_unref(w->cur);
	cp_unref(w->round_cp);
	cp_unref(w->served);
	free(w->pub);
	free(w->scratch);
	free(w->ws);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
