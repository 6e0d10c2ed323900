/*
 * guard.c: see guard.h. One thread wakes every tick, walks the open
 * connections under the mutex and cuts those past their deadline, then,
 * if the server is nearly full, the ones that have waited longest for a
 * whole request. The mutex is also what makes the cut safe: kt_guard_close
 * takes it, and the server closes a descriptor only after kt_guard_close,
 * so a descriptor the guard shuts down is always the connection it means
 * (never a number already reused for another).
 */
#include "kt/guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

enum state {
	ST_READING,  /* waiting for, or reading, a request: deadline */
	ST_HANDLING, /* whole: handled, or waiting for a commit */
	ST_SENDING,  /* its answer is going out: deadline */
	ST_CUT,      /* shut down by the guard */
};

struct kt_guard_conn {
	struct kt_guard_conn *prev, *next;
	int fd;
	atomic_int state;
	_Atomic uint64_t since; /* ms on the monotonic clock */
};

/* A connection waiting for a whole request, as one sweep saw it. */
struct waiting {
	struct kt_guard_conn *c;
	uint64_t since;
};

struct kt_guard {
	struct kt_guard_opts o;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int stopping;
	struct kt_guard_conn *head; /* every open connection */
	unsigned n;
	struct waiting *old; /* scratch for the room cut (max_conns) */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the connection's side -------------------------------------------- */

struct kt_guard_conn *
kt_guard_open(struct kt_guard *g, int fd)
{
	struct kt_guard_conn *c;

	if (g == NULL || (c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->fd = fd;
	atomic_init(&c->since, now_ms());
	atomic_init(&c->state, ST_READING);
	pthread_mutex_lock(&g->mu);
	c->next = g->head;
	if (g->head != NULL)
		g->head->prev = c;
	g->head = c;
	g->n++;
	pthread_mutex_unlock(&g->mu);
	return c;
}

void
kt_guard_close(struct kt_guard *g, struct kt_guard_conn *c)
{
	if (g == NULL || c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	g->n--;
	pthread_mutex_unlock(&g->mu);
	free(c);
}

/* Moves c to state to unless the guard has cut it. */
static int
move(struct kt_guard_conn *c, int to)
{
	int st = atomic_load(&c->state);

	while (st != ST_CUT)
		if (atomic_compare_exchange_weak(&c->state, &st, to))
			return 1;
	return 0;
}

int
kt_guard_request_read(struct kt_guard_conn *c)
{
	return c == NULL || move(c, ST_HANDLING);
}

void
kt_guard_answer_queued(struct kt_guard_conn *c)
{
	if (c == NULL)
		return;
	/* The time first, then the state: the guard reads them the other
	 * way round, so it never pairs the new state with the old time. */
	atomic_store(&c->since, now_ms());
	(void)move(c, ST_SENDING);
}

void
kt_guard_answer_sent(struct kt_guard_conn *c)
{
	if (c == NULL)
		return;
	atomic_store(&c->since, now_ms());
	(void)move(c, ST_READING);
}

/* ---- the guard's thread ----------------------------------------------- */

/* Cuts c if it is still in state st. Under g->mu. */
static int
cut(struct kt_guard_conn *c, int st)
{
	if (!atomic_compare_exchange_strong(&c->state, &st, ST_CUT))
		return 0;
	/* The server sees end-of-file and errors on its next look, and
	 * closes the connection as if the client had gone. */
	(void)shutdown(c->fd, SHUT_RDWR);
	return 1;
}

/* Sorts on the times the sweep copied, which no other thread changes. */
static int
older_first(const void *a, const void *b)
{
	uint64_t x = ((const struct waiting *)a)->since;
	uint64_t y = ((const struct waiting *)b)->since;

	return x < y ? -1 : x > y;
}

/* One look at every connection. Under g->mu. */
static void
sweep(struct kt_guard *g)
{
	uint64_t now = now_ms();
	unsigned live = 0, nold = 0, high = g->o.max_conns - g->o.reserve;

	for (struct kt_guard_conn *c = g->head; c != NULL; c = c->next) {
		int st = atomic_load(&c->state);
		uint64_t since = atomic_load(&c->since);
		uint64_t age = now > since ? now - since : 0;

		if (st == ST_CUT)
			continue;
		if ((st == ST_READING || st == ST_SENDING) &&
		    age >= g->o.deadline_ms && cut(c, st))
			continue;
		live++;
		if (st == ST_READING && age >= g->o.grace_ms &&
		    nold < g->o.max_conns) {
			g->old[nold].c = c;
			g->old[nold++].since = since;
		}
	}
	if (live <= high || nold == 0)
		return;
	/* Nearly full: make room by cutting the connections that have
	 * waited longest without sending a whole request (slow senders and
	 * idle keep-alives, never a request being handled or answered). */
	qsort(g->old, nold, sizeof *g->old, older_first);
	for (unsigned i = 0; i < nold && live > high; i++) {
		/* Still the same wait: a connection that has finished a
		 * request since the sweep (a fresh since) is not cut. */
		if (atomic_load(&g->old[i].c->since) != g->old[i].since)
			continue;
		if (cut(g->old[i].c, ST_READING))
			live--;
	}
}

static void *
run(void *arg)
{
	struct kt_guard *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)g->o.tick_ms * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		while (!g->stopping &&
		    pthread_cond_timedwait(&g->cv, &g->mu, &ts) != ETIMEDOUT)
			;
		if (!g->stopping)
			sweep(g);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

kt_err
kt_guard_start(struct kt_guard **out, const struct kt_guard_opts *o)
{
	struct kt_guard *g;
	pthread_condattr_t ca;

	*out = NULL;
	if (o->max_conns == 0 || o->reserve >= o->max_conns || o->tick_ms == 0)
		return KT_ERR_RANGE;
	if ((g = calloc(1, sizeof *g)) == NULL)
		return KT_ERR_NOMEM;
	g->o = *o;
	g->old = calloc(o->max_conns, sizeof *g->old);
	if (g->old == NULL) {
		free(g);
		return KT_ERR_NOMEM;
	}
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->th, NULL, run, g) != 0) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g->old);
		free(g);
		return KT_ERR_IO;
	}
	*out = g;
	return KT_OK;
}

void
kt_guard_stop(struct kt_guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->th, NULL);
	/* Connections the server never reported closed (it should have). */
	while (g->head != NULL) {
		struct kt_guard_conn *c = g->head;
		g->head = c->next;
		free(c);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g->old);
	free(g);
}
