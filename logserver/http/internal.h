/*
 * internal.h: what the files behind http/api.h share, one block per file
 * (the layout of OpenBSD httpd's private header). Only http/ includes it.
 *
 * A request goes one way through them:
 *   api.c        dispatch: route, method, then one handler
 *   route.c      the routing table
 *   read_log.c   checkpoint, proofs, entries, tiles
 *   read_keys.c  key lookup and history
 *   read_ops.c   healthz and metrics
 *   write.c      authorise, decode the body, submit, answer after the commit
 *   request.c    decoding: query parameters, path labels, numbers, base64
 *   snapshot.c   what answers draw from a store snapshot
 *   answer.c     the JSON writer, error answers, the kt_err -> status table
 * Calls go down this list, never back up.
 */
#ifndef KT_LOGSERVER_HTTP_INTERNAL_H
#define KT_LOGSERVER_HTTP_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kt/err.h"
#include "kt/label.h"
#include "kt/leaf.h"
#include "kt/lookup.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "kt/vrf.h"
#include "http/api.h"

/* ---- api.c: the api object -------------------------------------------- */

struct kt_api {
	struct kt_store *store;
	struct kt_limits limits;
	/* Set at start: writes need a token (a tokens file was given). */
	int auth_required;
	/* Writers check tokens under tokens_lock (shared); a reload swaps
	 * the set under it (exclusive). */
	pthread_rwlock_t tokens_lock;
	const struct kt_tokens *tokens;
	int allow_anonymous_writes;
	struct kt_metrics *metrics;
	struct kt_wclient *wclient; /* NULL without witnesses */
	char origin[KT_KEY_NAME_MAX + 1];
	char vkey[KT_KEY_TEXT_MAX];
	uint8_t vrf_public[KT_VRF_PUBLIC_LEN];
	const struct kt_vrf_key *vrf;
	int read_only;        /* a read replica: writes get 405 */
	char writer_url[256]; /* named in that answer; "" if unknown */
	/* Submitters hold it shared around kt_seq_submit; detaching takes it
	 * exclusively, so no submit can touch a stopped sequencer. */
	pthread_rwlock_t seq_lock;
	struct kt_seq *seq;
};

/* ---- answer.c: the JSON writer and the answers ------------------------ */

/*
 * A JSON text being written. Start from { 0 }. A failed allocation sets
 * failed and turns every later write into a no-op, so a handler writes a
 * whole answer and checks once, in answer_json.
 */
struct answer {
	char *p; /* NUL-terminated after every write */
	size_t len, cap;
	int failed;
};

#define ANSWER_HASH_B64 44 /* base64 of KT_HASH_LEN bytes, padded */

/* The subtree of leaves [lo, hi) of the log's tree. */
struct answer_node {
	uint64_t lo, hi;
};

/*
 * What the results of one answer (a batch, a page of history) share, so
 * that each is written once: the checkpoint field as JSON text, and the
 * base64 of the last proof's hashes with the subtree each stands for.
 * Proofs of neighbouring leaves to one size differ only below the level
 * where their paths meet, so most hashes of the next proof are copied
 * instead of encoded again.
 */
struct answer_memo {
	struct answer cp;
	size_t n;
	struct answer_node node[KT_MAX_PROOF];
	char text[KT_MAX_PROOF][ANSWER_HASH_B64];
};

/* Makes room for n more bytes; 0 (and a->failed) if out of memory. */
int answer_grow(struct answer *a, size_t n);

/* The writers below are on every answer's path: the short ones inline. */
static inline int
answer_reserve(struct answer *a, size_t n)
{
	if (!a->failed && a->cap - a->len >= n)
		return 1;
	return answer_grow(a, n);
}

/* n bytes of JSON as they are. */
static inline void
answer_raw(struct answer *a, const char *s, size_t n)
{
	if (!answer_reserve(a, n + 1))
		return;
	memcpy(a->p + a->len, s, n);
	a->len += n;
	a->p[a->len] = '\0';
}

/* A NUL-terminated piece of JSON (usually a literal) as it is. */
static inline void
answer_lit(struct answer *a, const char *s)
{
	answer_raw(a, s, strlen(s));
}

/* A decimal number. */
void answer_u64(struct answer *a, uint64_t v);

/* A JSON string of s[0..n), valid UTF-8 (labels, notes, messages). */
void answer_str(struct answer *a, const char *s, size_t n);

/* A JSON string holding bin[0..n) in padded standard base64. */
void answer_b64(struct answer *a, const uint8_t *bin, size_t n);

/* A JSON array of p's hashes in base64. */
void answer_proof(struct answer *a, const struct kt_proof *p);

/*
 * The same for p, the inclusion proof of leaf index in the tree of size
 * leaves; with m (or NULL), hashes the last proof written with m shares
 * are copied from it rather than encoded again.
 */
void answer_path(struct answer *a, const struct kt_proof *p, uint64_t index,
    uint64_t size, struct answer_memo *m);

/* Frees the text and resets a to { 0 }. */
void answer_free(struct answer *a);

/* An empty memo, for one answer; answer_memo_free frees its text. */
void answer_memo_init(struct answer_memo *m);
void answer_memo_free(struct answer_memo *m);

/* Sets *resp to a 200-style answer: status, type, body (taken), no-store. */
void answer_set(struct kt_api_resp *resp, unsigned status, const char *ctype,
    char *body, size_t len);

/* Hands a's text to *resp as a 200 JSON answer (a 503 if a failed); a is
 * reset to { 0 } either way. */
void answer_json(struct kt_api_resp *resp, struct answer *a);

/* An error answer with an explicit status: {"error": msg}. */
void answer_status(struct kt_api_resp *resp, unsigned status, const char *msg);

/* kt_api_error with a printf-style message (at most 511 bytes). */
void answer_error(struct kt_api_resp *resp, kt_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A store error while answering: logged with its detail; the client gets a
 * 500 (503 when out of memory) naming only the step, what. */
void answer_store_error(struct kt_api_resp *resp, kt_err e, const char *what);

/* ---- route.c: the routing table --------------------------------------- */

/* The methods a route takes, as an Allow header lists them. */
const char *route_methods(enum kt_route r);

/* 1 if the route takes this method (HEAD wherever GET). */
int route_takes(enum kt_route r, const char *method);

/* ---- request.c: decoding what the client sent ------------------------- */

/* One query parameter an endpoint allows; set name, the rest { 0 }. */
struct request_param {
	const char *name;
	int seen;
	char value[128]; /* decoded, NUL-terminated */
};

/*
 * Checks the query against the nq parameters in q: each at most once,
 * with a value, strictly percent-decoded into q[i].value. 0 and an answer
 * in *resp on anything else.
 */
int request_query(const struct kt_api_req *req, struct request_param *q,
    size_t nq, struct kt_api_resp *resp);

/* The same for an endpoint that takes no query. */
int request_no_query(const struct kt_api_req *req, struct kt_api_resp *resp);

/* q's value as a strict decimal (no sign, no leading zeros); 0 and an
 * answer if it is missing or not one. */
int request_query_u64(const struct request_param *q, uint64_t *v,
    struct kt_api_resp *resp);

/*
 * Decodes the path segment seg[0..n) into a label in out (not
 * NUL-terminated) of at most max_label bytes. 0 and an answer if it is not
 * one segment, badly encoded, too long or not a valid label.
 */
int request_label(const char *seg, size_t n, size_t max_label,
    char out[KT_LABEL_MAX + 1], size_t *outlen, struct kt_api_resp *resp);

/*
 * Canonical standard base64 (with padding) of s[0..n) into out (cap bytes),
 * at most maxlen decoded bytes. 1 and the decoded length, 0 if it is not
 * non-empty canonical base64, -1 if it is longer than maxlen (a 413).
 */
int request_b64(const char *s, size_t n, uint8_t *out, size_t cap,
    size_t maxlen, size_t *outlen);

/* ---- snapshot.c: what answers draw from a store snapshot -------------- */

/* One store snapshot an answer is built from. */
struct snapshot {
	struct kt_store_read *r;    /* NULL when not open */
	struct kt_metrics *metrics; /* proof timings go here */
	uint64_t size;              /* the tree size it sees */
	const char *what;           /* the step a store error came from */
};

/* Opens a snapshot of api's store. On failure answers (a store error
 * naming "snapshot") and leaves s->r NULL. */
KT_MUST_CHECK kt_err snapshot_begin(struct kt_api *api, struct snapshot *s,
    struct kt_api_resp *resp);

/* Closes s (accepts one that is not open). */
void snapshot_end(struct snapshot *s);

/* Answers e, a store error from the step s->what names. */
void
snapshot_error(const struct snapshot *s, struct kt_api_resp *resp, kt_err e);

/* Inclusion and consistency proofs, timed into the proof histogram. */
KT_MUST_CHECK kt_err snapshot_inclusion(struct snapshot *s, uint64_t index,
    uint64_t size, struct kt_proof *p);
KT_MUST_CHECK kt_err snapshot_consistency(struct snapshot *s, uint64_t old,
    uint64_t new_size, struct kt_proof *p);

/* The "checkpoint" field; with a memo (or NULL), escaped once per answer. */
KT_MUST_CHECK kt_err snapshot_put_checkpoint(struct snapshot *s,
    struct answer *a, struct answer_memo *m);

#define SNAPSHOT_LEAF_HASH 1u  /* snapshot_put_entry adds "leaf_hash" */
#define SNAPSHOT_CHECKPOINT 2u /* snapshot_put_entry adds "checkpoint" */

/*
 * The fields of the entry at index: "entry", then "leaf_hash" and
 * "checkpoint" as with asks, then "proof" (its inclusion in the tree of
 * s->size leaves). m (or NULL) is the answer's memo.
 */
KT_MUST_CHECK kt_err snapshot_put_entry(struct snapshot *s, struct answer *a,
    uint64_t index, unsigned with, struct answer_memo *m);
/* As snapshot_put_entry, with "proof" to the tree of size leaves
 * (index < size <= s->size): the checkpoint an answer is made at. */
KT_MUST_CHECK kt_err snapshot_put_entry_at(struct snapshot *s, struct answer *a,
    uint64_t index, uint64_t size, unsigned with, struct answer_memo *m);

/* ---- bundle.c: the key directory's proofs from a snapshot ------------- */

/*
 * The VRF proof of a canonical label and its map index (the output's first
 * 32 bytes): the proof kept for the label, or for a label never published
 * a fresh one made with api's VRF key (about 130 µs; then *fresh = 1, if
 * fresh is not NULL).
 */
KT_MUST_CHECK kt_err bundle_vrf(struct kt_api *api, struct snapshot *s,
    const char *label, size_t len, uint8_t proof[KT_VRF_PROOF_LEN],
    struct kt_hash *index, int *fresh);

/* The map head that ends the checkpoint of `size` leaves. KT_ERR_RANGE if
 * size is 0, past the snapshot, or not a size whose last leaf is one. */
KT_MUST_CHECK kt_err bundle_head(struct snapshot *s, uint64_t size,
    struct kt_map_head *h);

/*
 * The lookup proof of a label (its VRF proof and map index given) at the
 * checkpoint of `size` leaves: present with the latest version, or absent.
 * KT_ERR_RANGE as bundle_head; KT_ERR_EXISTS when that map is older than
 * the retention (its strata were deleted): bundle_error answers 410.
 */
KT_MUST_CHECK kt_err bundle_lookup(struct snapshot *s, const char *label,
    size_t len, const uint8_t vrf[KT_VRF_PROOF_LEN],
    const struct kt_hash *index, uint64_t size, struct kt_lookup_proof *p);

/* The fields of a lookup answer: label, map_index, vrf_proof, present,
 * (version, update_index, key_type and key or revoked), head_index,
 * head_timestamp_ms, lookup_proof (proto's encoding, base64). */
KT_MUST_CHECK kt_err bundle_put_lookup(struct answer *a,
    const struct kt_lookup_proof *p, const struct kt_hash *index);

/* Answers an error of the calls above (410 for a map no longer kept, 400
 * for a size that is not a checkpoint, else as snapshot_error). */
void bundle_error(struct snapshot *s, struct kt_api_resp *resp, kt_err e,
    uint64_t size);

/* ---- read_log.c, read_keys.c, read_ops.c: the read handlers ----------- */

/*
 * Each answers one GET (or HEAD) in *resp. api.c calls them after routing
 * and the method check; each decodes its own query.
 */
void read_log_checkpoint(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_log_inclusion(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_log_consistency(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_log_entries(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_log_tile(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_keys_get(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_keys_history(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_map_path(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_map_audit(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_ops_healthz(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_ops_log(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);
void read_ops_metrics(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);

/* ---- write.c: the write handlers -------------------------------------- */

/*
 * 1 if req may write: its bearer token is valid (or anonymous writes are
 * on). Else 0 and the answer (401, or 403 when writes are disabled). Needs
 * only the headers: kt_api_admit calls it before any body is read.
 */
int write_authorised(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);

/*
 * POST /v1/keys (batch 0) or /v1/keys:batch (batch 1): authorises,
 * decodes and validates the body, then parks and queues it through wt as
 * kt_api_handle says. Either answers in *resp, or sets *w to the pending
 * write.
 */
void write_post(struct kt_api *api, const struct kt_api_req *req, int batch,
    const struct kt_api_waiter *wt, struct kt_api_resp *resp,
    struct kt_api_write **w);

/* DELETE /v1/keys/<label>/openings: as write_post, for an erasure of the
 * label's retired versions' openings. */
void write_erase(struct kt_api *api, const struct kt_api_req *req,
    const struct kt_api_waiter *wt, struct kt_api_resp *resp,
    struct kt_api_write **w);

#endif /* KT_LOGSERVER_HTTP_INTERNAL_H */
