/*
 * prefetch.c: fetch threads that read ahead of the stateless auditor
 * (map_audit.c), so the network and the log's work overlap the auditor's
 * own (docs/verify.md, "Performance").
 *
 * The auditor reads the entry bundles of a range of leaves in order, and
 * at each map head the head's map audit answer. KT_PREFETCH_THREADS
 * threads, each with its own HTTP client, fetch those ahead: the bundles
 * in order, at most KT_PREFETCH_BUNDLES ahead, and for every map head a
 * fetched bundle shows (one that closes a batch, after the first leaf) its
 * map audit answer, at most KT_PREFETCH_AUDITS ahead. What is fetched is
 * only kept: every byte is checked by the auditor when it takes it, as if
 * it had fetched it then. An answer the auditor asks for first is fetched
 * before anything else; answers it passed by (an empty batch, say) are
 * dropped. Memory is bounded by those counts times the response caps.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "kt/tile.h"
#include "verify_internal.h"

#define KT_PREFETCH_THREADS 2
#define KT_PREFETCH_BUNDLES 32
#define KT_PREFETCH_AUDITS 4

enum { QUEUED, RUNNING, DONE };

struct job {
	struct job *next; /* the list, by priority */
	int kind;         /* KT_VPREFETCH_BUNDLE or _AUDIT */
	uint64_t key;     /* bundle index or map head's leaf index */
	uint64_t prio;    /* the first leaf it serves */
	int state, wanted, dropped;
	struct kt_buf body;
	long status;
	kt_err err;
	char detail[256];
};

struct kt_vprefetch {
	struct kt_verify *v;
	uint64_t start, end; /* leaves */
	uint64_t next_bundle, end_bundle;
	int audits;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct job *jobs;
	size_t nbundles, naudits; /* jobs of each kind not yet taken */
	int stop;
	size_t nthreads;
	pthread_t th[KT_PREFETCH_THREADS];
};

/* ---- paths ------------------------------------------------------------- */

/* The path of job j; a bundle's partial path unless full is set. */
static kt_err
job_path(const struct kt_vprefetch *pf, const struct job *j, int full,
    char *buf, size_t cap)
{
	struct kt_tile t = { KT_TILE_LEVEL_ENTRIES, j->key, 0 };

	if (j->kind == KT_VPREFETCH_AUDIT)
		return kt_fmt(buf, cap, "/v1/map/audit/%" PRIu64, j->key);
	t.width = full ? KT_TILE_WIDTH
	               : kt_tile_width(pf->end, KT_TILE_LEVEL_ENTRIES, j->key);
	if (cap < 2)
		return KT_ERR_TOO_LARGE;
	buf[0] = '/';
	return kt_tile_path(&t, buf + 1, cap - 1);
}

/* Fetches job j with the thread's client f (unlocked). */
static void
run_job(struct kt_vprefetch *pf, struct kt_fetch *f, struct job *j)
{
	char path[KT_TILE_PATH_MAX + 64];
	size_t cap =
	    j->kind == KT_VPREFETCH_AUDIT ? KT_CAP_AUDIT : KT_CAP_BUNDLE;

	j->err = job_path(pf, j, 0, path, sizeof(path));
	if (j->err == KT_OK)
		j->err = kt_fetch_get(f, path, cap, &j->body, &j->status,
		    j->detail, sizeof(j->detail));
	/* tlog-tiles: a partial bundle may be gone once the full one is
	 * served (the log grew since the checkpoint): its prefix will do. */
	if (j->err == KT_OK && j->status == 404 &&
	    j->kind == KT_VPREFETCH_BUNDLE &&
	    kt_tile_width(pf->end, KT_TILE_LEVEL_ENTRIES, j->key) <
	        KT_TILE_WIDTH &&
	    job_path(pf, j, 1, path, sizeof(path)) == KT_OK)
		j->err = kt_fetch_get(f, path, cap, &j->body, &j->status,
		    j->detail, sizeof(j->detail));
	if (j->err != KT_OK && j->detail[0] == '\0')
		kt_msg(j->detail, sizeof(j->detail), "%s", kt_strerror(j->err));
}

/* ---- the job list (under mu) ------------------------------------------- */

static void
job_free(struct job *j)
{
	kt_buf_free(&j->body);
	free(j);
}

static void
unlink_job(struct kt_vprefetch *pf, struct job *j)
{
	for (struct job **p = &pf->jobs; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	if (j->kind == KT_VPREFETCH_BUNDLE)
		pf->nbundles--;
	else
		pf->naudits--;
}

static struct job *
find(const struct kt_vprefetch *pf, int kind, uint64_t key)
{
	for (struct job *j = pf->jobs; j != NULL; j = j->next)
		if (j->kind == kind && j->key == key && !j->dropped)
			return j;
	return NULL;
}

/* A new queued job, in priority order; NULL when out of memory. */
static struct job *
add(struct kt_vprefetch *pf, int kind, uint64_t key)
{
	struct job *j = calloc(1, sizeof(*j)), **p = &pf->jobs;

	if (j == NULL)
		return NULL;
	j->kind = kind;
	j->key = key;
	j->prio = kind == KT_VPREFETCH_BUNDLE ? key * KT_TILE_WIDTH : key;
	while (*p != NULL && (*p)->prio <= j->prio)
		p = &(*p)->next;
	j->next = *p;
	*p = j;
	if (kind == KT_VPREFETCH_BUNDLE)
		pf->nbundles++;
	else
		pf->naudits++;
	return j;
}

/* Drops audit answers for map heads before leaf `before`: the auditor
 * has passed them. A running one is freed by its thread. */
static void
drop_before(struct kt_vprefetch *pf, uint64_t before)
{
	struct job *j = pf->jobs, *n;

	for (; j != NULL; j = n) {
		n = j->next;
		if (j->kind != KT_VPREFETCH_AUDIT || j->key >= before ||
		    j->dropped)
			continue;
		j->dropped = 1;
		if (j->state != RUNNING) {
			unlink_job(pf, j);
			job_free(j);
		}
	}
}

/* The next job a thread should run, planning the next bundle when there
 * is room; NULL when there is none now. */
static struct job *
pick(struct kt_vprefetch *pf)
{
	size_t active = 0;
	struct job *j;

	for (j = pf->jobs; j != NULL; j = j->next)
		if (j->kind == KT_VPREFETCH_AUDIT && j->state != QUEUED)
			active++;
	for (j = pf->jobs; j != NULL; j = j->next)
		if (j->state == QUEUED && j->wanted)
			return j;
	for (j = pf->jobs; j != NULL; j = j->next)
		if (j->state == QUEUED &&
		    (j->kind == KT_VPREFETCH_BUNDLE ||
		        active < KT_PREFETCH_AUDITS))
			return j;
	if (pf->next_bundle < pf->end_bundle &&
	    pf->nbundles < KT_PREFETCH_BUNDLES &&
	    (j = add(pf, KT_VPREFETCH_BUNDLE, pf->next_bundle)) != NULL) {
		pf->next_bundle++;
		return j;
	}
	return NULL;
}

/* The map heads bundle j shows that close a batch, after leaf 0 and inside
 * the range: their audit answers are queued. An entry that does not parse
 * is left for the auditor to find. */
static void
plan_audits(struct kt_vprefetch *pf, const struct job *j)
{
	const uint8_t *buf = (const uint8_t *)j->body.p, *e;
	uint64_t i = j->key * KT_TILE_WIDTH;
	size_t off = 0, len;
	int prev_update = 1; /* unknown before the bundle: ask anyway */

	if (!pf->audits || j->err != KT_OK || j->status != 200)
		return;
	for (; kt_bundle_next(buf, j->body.len, &off, &e, &len) == KT_OK; i++) {
		int head = len == KT_MAP_HEAD_LEN && e[0] == KT_LEAF_MAP_HEAD;

		if (i >= pf->end)
			break;
		if (head && prev_update && i > 0 && i >= pf->start &&
		    find(pf, KT_VPREFETCH_AUDIT, i) == NULL)
			(void)add(pf, KT_VPREFETCH_AUDIT, i);
		prev_update = !head;
	}
}

static void *
worker(void *arg)
{
	struct kt_vprefetch *pf = arg;
	struct kt_fetch *f = NULL;
	struct job *j;
	kt_err fe;

	fe = kt_fetch_open(pf->v->url, pf->v->connect_s, pf->v->total_s, &f);
	pthread_mutex_lock(&pf->mu);
	while (!pf->stop) {
		if ((j = pick(pf)) == NULL) {
			pthread_cond_wait(&pf->work, &pf->mu);
			continue;
		}
		j->state = RUNNING;
		pthread_mutex_unlock(&pf->mu);
		if (fe != KT_OK) {
			j->err = fe;
			kt_msg(j->detail, sizeof(j->detail), "HTTP client: %s",
			    kt_strerror(fe));
		} else {
			run_job(pf, f, j);
		}
		pthread_mutex_lock(&pf->mu);
		j->state = DONE;
		if (j->dropped) {
			unlink_job(pf, j);
			job_free(j);
		} else if (j->kind == KT_VPREFETCH_BUNDLE) {
			plan_audits(pf, j);
		}
		pthread_cond_broadcast(&pf->done);
		pthread_cond_broadcast(&pf->work);
	}
	pthread_mutex_unlock(&pf->mu);
	kt_fetch_close(f);
	return NULL;
}

/* ---- the auditor's side ----------------------------------------------- */

kt_err
kt_vprefetch_open(struct kt_verify *v, uint64_t start, uint64_t end, int audits,
    struct kt_vprefetch **out)
{
	struct kt_vprefetch *pf = calloc(1, sizeof(*pf));

	*out = NULL;
	if (pf == NULL)
		return KT_ERR_NOMEM;
	pf->v = v;
	pf->start = start;
	pf->end = end;
	pf->audits = audits;
	pf->next_bundle = start / KT_TILE_WIDTH;
	pf->end_bundle = (end + KT_TILE_WIDTH - 1) / KT_TILE_WIDTH;
	pthread_mutex_init(&pf->mu, NULL);
	pthread_cond_init(&pf->work, NULL);
	pthread_cond_init(&pf->done, NULL);
	for (size_t i = 0; i < KT_PREFETCH_THREADS; i++) {
		if (pthread_create(&pf->th[i], NULL, worker, pf) != 0)
			break;
		pf->nthreads++;
	}
	if (pf->nthreads == 0) {
		kt_vprefetch_close(pf);
		return KT_ERR_NOMEM;
	}
	*out = pf;
	return KT_OK;
}

void
kt_vprefetch_close(struct kt_vprefetch *pf)
{
	struct job *j, *n;

	if (pf == NULL)
		return;
	pthread_mutex_lock(&pf->mu);
	pf->stop = 1;
	pthread_cond_broadcast(&pf->work);
	pthread_mutex_unlock(&pf->mu);
	/* A thread in a transfer finishes it (bounded by the timeouts). */
	for (size_t i = 0; i < pf->nthreads; i++)
		pthread_join(pf->th[i], NULL);
	for (j = pf->jobs; j != NULL; j = n) {
		n = j->next;
		job_free(j);
	}
	pthread_mutex_destroy(&pf->mu);
	pthread_cond_destroy(&pf->work);
	pthread_cond_destroy(&pf->done);
	free(pf);
}

enum kt_verify_outcome
kt_vprefetch_get(struct kt_vprefetch *pf, int kind, uint64_t key,
    struct kt_buf *body, long *status, struct kt_vresult *r)
{
	enum kt_verify_outcome st;
	struct job *j;
	kt_err e;

	pthread_mutex_lock(&pf->mu);
	drop_before(pf,
	    kind == KT_VPREFETCH_BUNDLE ? key * KT_TILE_WIDTH : key);
	if ((j = find(pf, kind, key)) == NULL &&
	    (j = add(pf, kind, key)) != NULL && kind == KT_VPREFETCH_BUNDLE &&
	    key >= pf->next_bundle)
		pf->next_bundle = key + 1;
	if (j == NULL) {
		pthread_mutex_unlock(&pf->mu);
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	}
	j->wanted = 1;
	pthread_cond_broadcast(&pf->work);
	while (j->state != DONE)
		pthread_cond_wait(&pf->done, &pf->mu);
	unlink_job(pf, j);
	pthread_cond_broadcast(&pf->work);
	pthread_mutex_unlock(&pf->mu);
	kt_buf_free(body);
	*body = j->body;
	j->body = (struct kt_buf){ 0 };
	*status = j->status;
	if ((e = j->err) == KT_OK) {
		pf->v->bytes_in += body->len;
		job_free(j);
		return KT_VERIFY_OK;
	}
	/* As kt_vlog_get: a log we cannot reach has said nothing; a log
	 * whose answer is unusable (larger than any honest one) has failed. */
	st = kt_vres(r,
	    e == KT_ERR_NETWORK ? KT_VERIFY_ERROR : KT_VERIFY_FAILED, "%s%s",
	    kind == KT_VPREFETCH_AUDIT ? "map audit: " : "", j->detail);
	job_free(j);
	return st;
}
