/*
 * sequencer.h: group commit of the key directory. One writer thread;
 * submissions queue; whenever the writer is free it takes everything queued
 * (up to max_batch requests) and integrates it in ONE write transaction:
 * for each publication or revocation it draws an opening, commits to the
 * value and appends an update leaf (version, link to the label's previous
 * update); then it applies the batch to the map, appends one map head leaf,
 * signs the checkpoint at that size, commits durably, and only then calls
 * every submitter's callback. Every checkpoint's last leaf is a map head: a
 * new log starts with the empty map's head (size 1). No timer: batches grow
 * by themselves under load.
 */
#ifndef KT_LOGSERVER_SEQUENCER_H
#define KT_LOGSERVER_SEQUENCER_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "kt/vrf.h"
#include "store/store.h"

struct kt_seq;

/* What a request asks. */
enum kt_seq_op {
	KT_SEQ_PUBLISH = 0, /* a new key (idempotent if it is the latest) */
	KT_SEQ_REVOKE,      /* a revocation of the live key */
	KT_SEQ_ERASE        /* drop the openings of the retired versions */
};

/*
 * One request. Fields borrow from the caller until the callback has run.
 * label is canonical (kt_label_canonical); vrf_proof is the log's VRF proof
 * for it and index the first 32 bytes of its output (the submitter proves
 * or reads them, so the writer never runs the VRF); key_type and key (for a
 * publication) pass kt_key_check.
 */
struct kt_seq_req {
	enum kt_seq_op op;
	const char *label;
	size_t label_len;
	const uint8_t *vrf_proof; /* KT_VRF_PROOF_LEN bytes */
	struct kt_hash index;
	const char *key_type;
	size_t key_type_len;
	const uint8_t *key;
	size_t key_len;
	/* A publish of a label with no VRF proof kept yet (a new label, as
	 * far as the HTTP worker saw): its skeleton's key, which the
	 * sequencer records for the label's first version and refuses, with
	 * KT_ERR_REFUSED, when a label held has it (kt_store_write_skeleton).
	 * has_skeleton 0: not checked (a label the worker saw published). */
	int has_skeleton;
	uint8_t skeleton[KT_STORE_SKELETON_LEN];
};

/* One result, in the order of the requests. */
struct kt_seq_res {
	kt_err err;     /* KT_OK; KT_ERR_CONFLICT: a revocation with no live
	                   key; KT_ERR_NOT_FOUND: erasure of an unknown label;
	                   KT_ERR_REFUSED: a new label confusable with one
	                   held (the same skeleton) */
	uint64_t index; /* leaf index of the update (new, or the latest when
	                   the publish was idempotent or an erasure) */
	uint64_t version;
	int appended;    /* 0 if idempotent: nothing was appended */
	uint64_t erased; /* KT_SEQ_ERASE: openings dropped */
};

/*
 * Called once per submission from the writer thread, after the commit that
 * made its entries durable (or with err != KT_OK and nothing written: I/O
 * failure, shutting down). tree_size is the size of the newest checkpoint
 * at that commit (its last leaf is the batch's map head, or the previous
 * one when the batch appended nothing). res[0..n) borrow until the callback returns. Must not
 * block: copy what is needed and wake the waiter (e.g. resume the HTTP
 * connection).
 */
typedef void (*kt_seq_done_fn)(void *arg, kt_err err, uint64_t tree_size,
    const struct kt_seq_res *res, size_t n);

struct kt_seq_opts {
	size_t max_batch; /* entries per transaction (default 4096) */
	size_t
	    max_queue; /* entries queued before KT_ERR_BUSY (default 65536) */
	/* Older maps stay readable (lookups at an older checkpoint, audit
	 * paths) for this many ms after a newer map head replaced them
	 * (default 600000: ten minutes); then their strata are deleted. */
	uint64_t map_retention_ms;
};

/* Starts the writer thread. s and signer must outlive the sequencer.
 * KT_ERR_CONFLICT if the signer's verifier key or name is not the store's
 * (its checkpoints would not verify). A store without any checkpoint (a
 * new log) first gets the empty map's head and a signed, durably committed
 * size-1 checkpoint, so the log always has one. KT_ERR_INTERNAL if the
 * store's last leaf is not a map head (not a folder kt-logd wrote). */
KT_MUST_CHECK kt_err kt_seq_start(struct kt_seq **out, struct kt_store *s,
    const struct kt_signer *signer, const struct kt_seq_opts *opts);

/*
 * Queues n requests (1..max_batch) to be integrated together (all in one
 * transaction, under one checkpoint). Returns KT_OK when queued (done will be
 * called exactly once), or KT_ERR_BUSY (queue full or stopping; done is not
 * called). Thread-safe, never blocks on I/O. Additive: KT_ERR_RANGE for
 * n == 0 or n > max_batch, KT_ERR_NOMEM; done is not called then either.
 * A request whose fields turn out invalid gets res.err = KT_ERR_MALFORMED
 * and is skipped; the rest of the submission goes ahead.
 */
KT_MUST_CHECK kt_err kt_seq_submit(struct kt_seq *q,
    const struct kt_seq_req *reqs, size_t n, kt_seq_done_fn done, void *arg);

/* Stops taking submissions, integrates and commits what is queued, joins
 * the writer thread, frees. Accepts NULL. */
void kt_seq_stop(struct kt_seq *q);

/* Counters for /metrics (monotonic; read without locks). */
struct kt_seq_stats {
	uint64_t entries_appended;
	uint64_t batches;
	uint64_t batch_size_hist[16]; /* batch sizes in buckets of powers of 2:
	                                   [0] = 1, [1] = 2, [2] = 3..4, ... */
	uint64_t commit_us_hist[16];  /* commit latency, buckets 2^k*50 us */
	uint64_t commit_us_sum;
	uint64_t failed_batches; /* not committed: I/O error, no space */
	uint64_t labels;         /* in the map at the last commit */
	uint64_t map_us_sum;     /* time in the map's batch step */
};
void kt_seq_stats(const struct kt_seq *q, struct kt_seq_stats *out);

#endif /* KT_LOGSERVER_SEQUENCER_H */
