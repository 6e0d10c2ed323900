/*
 * wclient_fake.h: test doubles for check_witness_client: an in-memory log
 * (proto frontier-free node callbacks + kt_note_sign) and a fake C2SP
 * tlog-witness server (libmicrohttpd on 127.0.0.1, port 0) that checks and
 * cosigns like a real witness, with fault modes.
 */
#ifndef KT_TESTS_WCLIENT_FAKE_H
#define KT_TESTS_WCLIENT_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "kt/merkle.h"
#include "kt/note.h"
#include "witness_client/witness_client.h"

/* ---- in-memory log ------------------------------------------------------ */

#define FAKE_LOG_MAX 4096 /* leaves */

struct fake_log;

/* A log named origin with a fresh Ed25519 key and no checkpoint yet. */
struct fake_log *fake_log_new(const char *origin);
void fake_log_free(struct fake_log *l);

/* Appends n leaves and signs a checkpoint of the new size (n may be 0 for
 * the first, empty, checkpoint). */
void fake_log_append(struct fake_log *l, size_t n);

const struct kt_verifier *fake_log_key(const struct fake_log *l);
uint64_t fake_log_size(struct fake_log *l);

/* The root of the first size leaves, and the current signed note. */
void fake_log_root(struct fake_log *l, uint64_t size, struct kt_hash *out);
void fake_log_note(struct fake_log *l, char *buf, size_t cap, size_t *len);

/* Consistency proof, as the store would give it. */
kt_err fake_log_consistency(struct fake_log *l, uint64_t old, uint64_t n,
    struct kt_proof *out);

/* The source callbacks for kt_wclient_start, and how often each ran. */
struct kt_wclient_source fake_log_source(struct fake_log *l);

/* ---- fake witness ------------------------------------------------------- */

enum fake_mode {
	FAKE_OK,      /* behaves like a witness */
	FAKE_SLOW,    /* checks, then sleeps slow_ms before answering */
	FAKE_BADSIG,  /* 200 with a well-formed line whose signature fails */
	FAKE_GARBAGE, /* 200 with a body that is not cosignature lines */
	FAKE_HUGE,    /* 200 with a 1 MB body */
	FAKE_OLD409,  /* 409 text/plain for every request (older spec's
			   conflict answer, carries no size) */
};

struct fake_witness;

struct fake_stats {
	unsigned requests, n200, n400, n403, n404, n409, n422;
	unsigned sleeping; /* requests now inside the FAKE_SLOW sleep */
	uint64_t size;     /* the witness's size for the log */
};

/* Starts a witness named name (a fresh cosignature key) for the log whose
 * key is logkey. NULL on failure. */
struct fake_witness *fake_witness_start(const char *name,
    const struct kt_verifier *logkey, enum fake_mode mode, unsigned slow_ms);

/* Stops at once (a FAKE_SLOW sleep is cut short) and frees. */
void fake_witness_stop(struct fake_witness *fw);

const struct kt_verifier *fake_witness_key(const struct fake_witness *fw);
unsigned fake_witness_port(const struct fake_witness *fw);
void fake_witness_url(const struct fake_witness *fw, char *buf, size_t cap);

/* Sets the witness's state as if it had cosigned (size, root) before. */
void fake_witness_set_state(struct fake_witness *fw, uint64_t size,
    const struct kt_hash *root);

void fake_witness_stats(struct fake_witness *fw, struct fake_stats *out);

/* A loopback port that was free a moment ago and is now closed. */
unsigned fake_dead_port(void);

#endif /* KT_TESTS_WCLIENT_FAKE_H */
