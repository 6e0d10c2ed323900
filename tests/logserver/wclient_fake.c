/*
 * wclient_fake.c: an in-memory log and a fake tlog-witness for
 * check_witness_client. See wclient_fake.h.
 */
#include "wclient_fake.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "harness/proc.h"
#include "kt/checkpoint.h"

static void
die(const char *what)
{
	fprintf(stderr, "wclient_fake: %s\n", what);
	abort();
}

/* ---- in-memory log ------------------------------------------------------ */

struct fake_log {
	pthread_mutex_t mu;
	struct kt_signer *signer;
	struct kt_verifier key;
	char origin[KT_KEY_NAME_MAX + 1];
	uint64_t size;
	struct kt_hash *leaves;
	char note[KT_NOTE_MAX];
	size_t note_len;
};

static kt_err
node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	struct fake_log *l = ctx;
	struct kt_hash a, b;
	kt_err rc;

	if (level == 0) {
		if (index >= l->size)
			return KT_ERR_INTERNAL;
		*out = l->leaves[index];
		return KT_OK;
	}
	if ((rc = node(ctx, level - 1, 2 * index, &a)) != KT_OK ||
	    (rc = node(ctx, level - 1, 2 * index + 1, &b)) != KT_OK)
		return rc;
	kt_hash_node(&a, &b, out);
	return KT_OK;
}

struct fake_log *
fake_log_new(const char *origin)
{
	struct fake_log *l;
	uint8_t seed[KT_SEED_LEN];

	if (sodium_init() < 0)
		die("sodium_init");
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		die("calloc");
	l->leaves = calloc(FAKE_LOG_MAX, sizeof(*l->leaves));
	if (l->leaves == NULL)
		die("calloc");
	pthread_mutex_init(&l->mu, NULL);
	snprintf(l->origin, sizeof(l->origin), "%s", origin);
	randombytes_buf(seed, sizeof(seed));
	if (kt_signer_from_seed(origin, KT_KEY_ED25519, seed, &l->signer) !=
	    KT_OK)
		die("kt_signer_from_seed");
	sodium_memzero(seed, sizeof(seed));
	kt_signer_verifier(l->signer, &l->key);
	return l;
}

void
fake_log_free(struct fake_log *l)
{
	if (l == NULL)
		return;
	kt_signer_free(l->signer);
	pthread_mutex_destroy(&l->mu);
	free(l->leaves);
	free(l);
}

void
fake_log_append(struct fake_log *l, size_t n)
{
	struct kt_checkpoint ck;
	char text[KT_CHECKPOINT_TEXT_MAX];
	size_t i, tlen;
	uint8_t entry[16];

	pthread_mutex_lock(&l->mu);
	if (l->size + n > FAKE_LOG_MAX)
		die("fake log full");
	for (i = 0; i < n; i++) {
		uint64_t idx = l->size;

		memcpy(entry, "entry:", 6);
		memcpy(entry + 6, &idx, sizeof(idx));
		kt_hash_leaf(entry, 14, &l->leaves[idx]);
		l->size++;
	}
	memset(&ck, 0, sizeof(ck));
	snprintf(ck.origin, sizeof(ck.origin), "%s", l->origin);
	ck.size = l->size;
	if (kt_merkle_root(node, l, l->size, &ck.root) != KT_OK ||
	    kt_checkpoint_format(&ck, text, sizeof(text), &tlen) != KT_OK ||
	    kt_note_sign(l->signer, text, tlen, l->note, sizeof(l->note),
	        &l->note_len) != KT_OK)
		die("signing a checkpoint");
	pthread_mutex_unlock(&l->mu);
}

const struct kt_verifier *
fake_log_key(const struct fake_log *l)
{
	return &l->key;
}

uint64_t
fake_log_size(struct fake_log *l)
{
	uint64_t s;

	pthread_mutex_lock(&l->mu);
	s = l->size;
	pthread_mutex_unlock(&l->mu);
	return s;
}

void
fake_log_root(struct fake_log *l, uint64_t size, struct kt_hash *out)
{
	pthread_mutex_lock(&l->mu);
	if (kt_merkle_root(node, l, size, out) != KT_OK)
		die("kt_merkle_root");
	pthread_mutex_unlock(&l->mu);
}

void
fake_log_note(struct fake_log *l, char *buf, size_t cap, size_t *len)
{
	pthread_mutex_lock(&l->mu);
	if (l->note_len + 1 > cap)
		die("note buffer");
	memcpy(buf, l->note, l->note_len);
	buf[l->note_len] = '\0';
	*len = l->note_len;
	pthread_mutex_unlock(&l->mu);
}

kt_err
fake_log_consistency(struct fake_log *l, uint64_t old, uint64_t n,
    struct kt_proof *out)
{
	kt_err rc;

	pthread_mutex_lock(&l->mu);
	rc = n > l->size ? KT_ERR_RANGE
	                 : kt_merkle_consistency_proof(node, l, old, n, out);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

static kt_err
src_latest(void *ctx, char *buf, size_t cap, size_t *len)
{
	struct fake_log *l = ctx;
	kt_err rc = KT_OK;

	pthread_mutex_lock(&l->mu);
	if (l->note_len == 0)
		rc = KT_ERR_NOT_FOUND;
	else if (l->note_len > cap)
		rc = KT_ERR_TOO_LARGE;
	else
		memcpy(buf, l->note, l->note_len);
	*len = l->note_len;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

static kt_err
src_consistency(void *ctx, uint64_t old, uint64_t n, struct kt_proof *out)
{
	return fake_log_consistency(ctx, old, n, out);
}

struct kt_wclient_source
fake_log_source(struct fake_log *l)
{
	struct kt_wclient_source s = { src_latest, src_consistency, l };

	return s;
}

/* ---- fake witness ------------------------------------------------------- */

#define BODY_MAX (KT_NOTE_MAX + 64 * 64)

struct fake_witness {
	struct MHD_Daemon *d;
	unsigned port;
	enum fake_mode mode;
	unsigned slow_ms;
	atomic_int stopping;
	struct kt_signer *signer;
	struct kt_verifier key;
	struct kt_verifier logkey;

	pthread_mutex_t mu;
	struct fake_stats st;
	int have_root;
	struct kt_hash root;
};

struct upload {
	size_t len;
	int over;
	char buf[BODY_MAX];
};

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *ctype,
    const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ctype);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
count(struct fake_witness *fw, unsigned status)
{
	pthread_mutex_lock(&fw->mu);
	switch (status) {
	case 200:
		fw->st.n200++;
		break;
	case 400:
		fw->st.n400++;
		break;
	case 403:
		fw->st.n403++;
		break;
	case 404:
		fw->st.n404++;
		break;
	case 409:
		fw->st.n409++;
		break;
	case 422:
		fw->st.n422++;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&fw->mu);
}

/* Parses the tlog-witness request body; 0 or an HTTP status. */
static unsigned
parse_body(const char *p, size_t len, uint64_t *old, struct kt_proof *proof,
    const char **note, size_t *note_len)
{
	const char *e = p + len, *nl;
	uint64_t v = 0;
	size_t bl;

	if (len < 5 || memcmp(p, "old ", 4) != 0)
		return 400;
	p += 4;
	if (p >= e || *p < '0' || *p > '9')
		return 400;
	while (p < e && *p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (p >= e || *p++ != '\n')
		return 400;
	proof->n = 0;
	for (;;) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			return 400;
		if (nl == p) {
			p++;
			break;
		}
		if (proof->n >= 63 || (size_t)(nl - p) != 44 ||
		    sodium_base642bin(proof->h[proof->n].b, KT_HASH_LEN, p, 44,
		        NULL, &bl, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    bl != KT_HASH_LEN)
			return 400;
		proof->n++;
		p = nl + 1;
	}
	*old = v;
	*note = p;
	*note_len = (size_t)(e - p);
	return 0;
}

/* FAKE_SLOW: waits fw->slow_ms before answering (counted in
 * st.sleeping meanwhile), or less if the witness is stopping. */
static void
slow_wait(struct fake_witness *fw)
{
	unsigned waited = 0;

	pthread_mutex_lock(&fw->mu);
	fw->st.sleeping++;
	pthread_mutex_unlock(&fw->mu);
	while (waited < fw->slow_ms && !atomic_load(&fw->stopping)) {
		usleep(10000);
		waited += 10;
	}
	pthread_mutex_lock(&fw->mu);
	fw->st.sleeping--;
	pthread_mutex_unlock(&fw->mu);
}

/* FAKE_HUGE: answers 200 with a 1 MiB body of 'A's. */
static enum MHD_Result
reply_huge(struct fake_witness *fw, struct MHD_Connection *c)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *big = malloc(1u << 20);

	if (big == NULL)
		return MHD_NO;
	memset(big, 'A', 1u << 20);
	count(fw, 200);
	r = MHD_create_response_from_buffer(1u << 20, big,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(big);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handle(struct fake_witness *fw, struct MHD_Connection *c, struct upload *u)
{
	struct kt_note note;
	struct kt_checkpoint ck;
	struct kt_proof proof;
	struct kt_hash empty;
	const char *nb;
	size_t nlen, llen;
	uint64_t old;
	unsigned st;
	char line[1024], text[KT_CHECKPOINT_TEXT_MAX + 16];
	uint8_t ok = 0;
	kt_err rc;

	if (u->over)
		return count(fw, 400), reply(c, 400, "text/plain", "too big\n");
	st = parse_body(u->buf, u->len, &old, &proof, &nb, &nlen);
	if (st != 0)
		return count(fw, st), reply(c, st, "text/plain", "bad body\n");
	if (kt_note_open(nb, nlen, &fw->logkey, 1, &note, &ok, NULL) != KT_OK ||
	    !ok)
		return count(fw, 403), reply(c, 403, "text/plain", "sig\n");
	if (kt_checkpoint_parse(note.text, note.text_len, &ck) != KT_OK)
		return count(fw, 400), reply(c, 400, "text/plain", "ckpt\n");
	if (strcmp(ck.origin, fw->logkey.name) != 0)
		return count(fw, 404), reply(c, 404, "text/plain", "origin\n");
	if (old > ck.size)
		return count(fw, 400), reply(c, 400, "text/plain", "old\n");

	/* Check and update under one lock, as a real witness does in one
	 * transaction. */
	pthread_mutex_lock(&fw->mu);
	if (old != fw->st.size) {
		char sz[32];

		snprintf(sz, sizeof(sz), "%" PRIu64 "\n", fw->st.size);
		fw->st.n409++;
		pthread_mutex_unlock(&fw->mu);
		return reply(c, 409, "text/x.tlog.size", sz);
	}
	kt_hash_empty(&empty);
	if (old == 0 && proof.n > 0)
		st = 422;
	else if (ck.size == 0 && !kt_hash_eq(&ck.root, &empty))
		st = 422;
	else if (old == ck.size && fw->have_root &&
	    (proof.n != 0 || !kt_hash_eq(&ck.root, &fw->root)))
		st = 422;
	else if (old > 0 && old < ck.size &&
	    kt_merkle_verify_consistency(old, ck.size, proof.h, proof.n,
	        &fw->root, &ck.root) != KT_OK)
		st = 422;
	if (st == 422) {
		fw->st.n422++;
		pthread_mutex_unlock(&fw->mu);
		return reply(c, 422, "text/plain", "inconsistent\n");
	}
	fw->st.size = ck.size;
	fw->root = ck.root;
	fw->have_root = 1;
	pthread_mutex_unlock(&fw->mu);

	if (fw->mode == FAKE_SLOW)
		slow_wait(fw);
	if (fw->mode == FAKE_GARBAGE) {
		count(fw, 200);
		return reply(c, 200, "text/plain", "thanks\n");
	}
	if (fw->mode == FAKE_HUGE)
		return reply_huge(fw, c);
	memcpy(text, note.text, note.text_len);
	llen = note.text_len;
	if (fw->mode == FAKE_BADSIG) {
		/* A well-formed line by the right key over other text. */
		memcpy(text + llen - 1, "x\n", 2);
		llen++;
	}
	rc = kt_cosig_sign(fw->signer, text, llen, (uint64_t)time(NULL), line,
	    sizeof(line), NULL);
	if (rc != KT_OK)
		return reply(c, 500, "text/plain", "cosign\n");
	count(fw, 200);
	return reply(c, 200, "text/plain; charset=utf-8", line);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **con_cls)
{
	struct fake_witness *fw = cls;
	struct upload *u = *con_cls;

	(void)version;
	if (u == NULL) {
		u = malloc(sizeof(*u));
		if (u == NULL)
			return MHD_NO;
		u->len = 0;
		u->over = 0;
		*con_cls = u;
		pthread_mutex_lock(&fw->mu);
		fw->st.requests++;
		pthread_mutex_unlock(&fw->mu);
		return MHD_YES;
	}
	if (*size > 0) {
		if (*size > BODY_MAX - u->len)
			u->over = 1;
		else
			memcpy(u->buf + u->len, data, *size);
		if (!u->over)
			u->len += *size;
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") != 0 ||
	    strcmp(url, "/add-checkpoint") != 0) {
		count(fw, 404);
		return reply(c, 404, "text/plain", "not found\n");
	}
	if (fw->mode == FAKE_OLD409) {
		count(fw, 409);
		return reply(c, 409, "text/plain", "0\n");
	}
	return handle(fw, c, u);
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

struct fake_witness *
fake_witness_start(const char *name, const struct kt_verifier *logkey,
    enum fake_mode mode, unsigned slow_ms)
{
	struct fake_witness *fw;
	const union MHD_DaemonInfo *info;
	uint8_t seed[KT_SEED_LEN];

	if (sodium_init() < 0)
		die("sodium_init");
	fw = calloc(1, sizeof(*fw));
	if (fw == NULL)
		die("calloc");
	pthread_mutex_init(&fw->mu, NULL);
	atomic_init(&fw->stopping, 0);
	fw->mode = mode;
	fw->slow_ms = slow_ms;
	fw->logkey = *logkey;
	randombytes_buf(seed, sizeof(seed));
	if (kt_signer_from_seed(name, KT_KEY_COSIG, seed, &fw->signer) != KT_OK)
		die("kt_signer_from_seed");
	kt_signer_verifier(fw->signer, &fw->key);
	{
		struct sockaddr_in sa;

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = 0;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		/* A thread per connection, so a sleeping answer does not
		 * stall the daemon. */
		fw->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
		        MHD_USE_THREAD_PER_CONNECTION,
		    0, NULL, NULL, on_request, fw, MHD_OPTION_SOCK_ADDR,
		    (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
		    on_done, fw, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
		    MHD_OPTION_END);
	}
	if (fw->d == NULL)
		die("MHD_start_daemon");
	info = MHD_get_daemon_info(fw->d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		die("MHD_DAEMON_INFO_BIND_PORT");
	fw->port = info->port;
	return fw;
}

void
fake_witness_stop(struct fake_witness *fw)
{
	if (fw == NULL)
		return;
	atomic_store(&fw->stopping, 1);
	MHD_stop_daemon(fw->d);
	kt_signer_free(fw->signer);
	pthread_mutex_destroy(&fw->mu);
	free(fw);
}

const struct kt_verifier *
fake_witness_key(const struct fake_witness *fw)
{
	return &fw->key;
}

unsigned
fake_witness_port(const struct fake_witness *fw)
{
	return fw->port;
}

void
fake_witness_url(const struct fake_witness *fw, char *buf, size_t cap)
{
	snprintf(buf, cap, "http://127.0.0.1:%u", fw->port);
}

void
fake_witness_set_state(struct fake_witness *fw, uint64_t size,
    const struct kt_hash *root)
{
	pthread_mutex_lock(&fw->mu);
	fw->st.size = size;
	fw->root = *root;
	fw->have_root = 1;
	pthread_mutex_unlock(&fw->mu);
}

void
fake_witness_stats(struct fake_witness *fw, struct fake_stats *out)
{
	pthread_mutex_lock(&fw->mu);
	*out = fw->st;
	pthread_mutex_unlock(&fw->mu);
}

unsigned
fake_dead_port(void)
{
	unsigned port = proc_free_port();

	if (port == 0)
		die("no free port");
	return port;
}
