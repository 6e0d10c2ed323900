/*
 * kt/verify.h: libktverify, the client checks behind kt-verify.
 *
 * Everything a log server says is untrusted input: every response is size
 * capped, type checked and verified (entry bytes, label, inclusion proof,
 * checkpoint signature by the configured log key, origin, consistency with
 * the newest checkpoint this client verified) before anything is believed
 * or stored. State lives in one folder written atomically (see state.c).
 *
 * The command functions return an outcome (enum kt_verify_outcome), whose
 * values are the exit statuses kt-verify documents for scripts, and fill a
 * struct kt_vresult with the same outcome, a one-line message, the path of
 * any evidence file written and a JSON object of details. Outcomes rather
 * than kt_err because one command can end in several distinct verdicts
 * (verified, lying server, provable attack, key rotation) that an app must
 * tell apart.
 */
#ifndef KT_VERIFY_H
#define KT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kt/err.h"
#include "kt/leaf.h"
#include "kt/merkle.h"
#include "kt/note.h"

/*
 * How a command ended. Each value is the exit status docs/verify.md
 * documents for it ("Exit statuses"), so the numbers are part of the
 * contract and never change.
 */
enum kt_verify_outcome {
	KT_VERIFY_OK = 0,          /* verified */
	KT_VERIFY_ERROR = 1,       /* usage, I/O or network error */
	KT_VERIFY_FAILED = 2,      /* a response or file failed verification */
	KT_VERIFY_ATTACK = 3,      /* attack detected; evidence file written */
	KT_VERIFY_KEY_CHANGED = 4, /* a verified key rotation since the pin */
	KT_VERIFY_STALE = 5,       /* verified, but the witnessed checkpoint is
	                              older than the configured max age */
	KT_VERIFY_UNWITNESSED = 6, /* lookup: the label's latest entry is newer
	                              than the newest witnessed checkpoint */
	KT_VERIFY_ABSENT = 7       /* lookup: the label's absence is verified
	                              (it has never been published) */
};

#define KT_VERIFY_WITNESS_MAX 32              /* witnesses in a policy */
#define KT_VERIFY_MAX_AGE_DEFAULT (24 * 3600) /* seconds */
#define KT_VERIFY_PEERS_MAX 16                /* peers per gossip run */

#define KT_VERIFY_VRF_LEN 32 /* a VRF public key (KT_VRF_PUBLIC_LEN) */
#define KT_VERIFY_MSG_MAX 1024
#define KT_VERIFY_PATH_MAX 4096

/* The outcome of a command with what it has to say. */
struct kt_vresult {
	enum kt_verify_outcome outcome;    /* what the command returned */
	char msg[KT_VERIFY_MSG_MAX];       /* one line, for humans */
	char evidence[KT_VERIFY_PATH_MAX]; /* evidence file written, or "" */
	json_t *info;                      /* details (owned; an object) */
};

/* Sets r to KT_VERIFY_OK, empty message, a new empty info object. */
void kt_vresult_init(struct kt_vresult *r);
/* Releases r->info. Accepts a zeroed r. */
void kt_vresult_free(struct kt_vresult *r);

/* An expected key for `monitor`: raw key bytes (any key type). */
struct kt_vkey {
	uint8_t *key; /* borrowed */
	size_t len;
};

struct kt_verify; /* opaque: state folder, log configuration, HTTP client */

/*
 * The default state folder: $XDG_STATE_HOME/kt-verify, else
 * $HOME/.local/state/kt-verify. KT_ERR_NOT_FOUND if neither variable is set,
 * KT_ERR_TOO_LARGE if buf is short.
 */
KT_MUST_CHECK kt_err kt_verify_default_dir(char *buf, size_t cap);

/*
 * Opens the state folder `dir` (created with mode 0700 when `create`), takes
 * an exclusive lock on it for the life of the handle and loads its
 * configuration and newest checkpoint if present. A state file that does not
 * parse or verify is KT_ERR_MALFORMED with the detail in err: never a silent
 * reset. KT_ERR_IO, KT_ERR_NOT_FOUND (no folder and !create), KT_ERR_NOMEM.
 */
KT_MUST_CHECK kt_err kt_verify_open(const char *dir, int create,
    struct kt_verify **out, char *err, size_t errlen);
/* Releases v (and its lock). Accepts NULL. */
void kt_verify_close(struct kt_verify *v);

/* Per-request timeouts in seconds (defaults 10 and 60). */
void kt_verify_set_timeouts(struct kt_verify *v, long connect_s, long total_s);

/*
 * The commands (docs/verify.md). Each returns r->outcome.
 *
 * init: url and vkey (the log's signed-note verifier key) are required;
 * vrf_key (base64 of the log's VRF public key, vrf_public_key of GET
 * /v1/log) may be NULL, and then lookup, monitor and audit refuse to run
 * until an init gives it. It is checked (kt_vrf_public_check) and never
 * taken from the log. On a state already initialised for the same log and
 * key, a vrf_key is pinned if none is, and refused if another one is.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_verify_init(struct kt_verify *v, const char *url, const char *vkey,
    const char *vrf_key, struct kt_vresult *r);
KT_MUST_CHECK enum kt_verify_outcome
kt_verify_checkpoint(struct kt_verify *v, struct kt_vresult *r);

/*
 * Witness policy for init: checkpoints are then accepted only when signed
 * by the log and cosigned (C2SP tlog-cosignature) by at least `quorum` of
 * `witnesses` (cosignature verifier keys, type 0x04, distinct). max_age
 * (seconds, 0 = KT_VERIFY_MAX_AGE_DEFAULT) bounds how old the witnessed
 * time of an accepted checkpoint may be before commands exit
 * KT_VERIFY_STALE. nwitnesses == 0 means no policy.
 */
struct kt_vpolicy {
	const char *const *witnesses;
	size_t nwitnesses;
	unsigned quorum;
	uint64_t max_age;
};
/* kt_verify_init with a witness policy. On an already initialised state
 * for the same log and key, a non-empty policy replaces the stored one. */
KT_MUST_CHECK enum kt_verify_outcome
kt_verify_init_policy(struct kt_verify *v, const char *url, const char *vkey,
    const char *vrf_key, const struct kt_vpolicy *pol, struct kt_vresult *r);
/*
 * Compares signed checkpoints from peers (witness GET URLs, or files and
 * file:// URLs holding a checkpoint, e.g. written by kt_verify_view) with
 * the stored one and each other (docs/verify.md, "gossip").
 */
KT_MUST_CHECK enum kt_verify_outcome kt_verify_gossip(struct kt_verify *v,
    const char *const *peers, size_t npeers, struct kt_vresult *r);
/* Writes the stored signed checkpoint (this client's view) to out_path. */
KT_MUST_CHECK enum kt_verify_outcome
kt_verify_view(struct kt_verify *v, const char *out_path, struct kt_vresult *r);
/* Tests: the Unix time used for staleness (0 = the real clock). */
void kt_verify_set_now(struct kt_verify *v, uint64_t now);
KT_MUST_CHECK enum kt_verify_outcome kt_verify_lookup(struct kt_verify *v,
    const char *label, int accept, struct kt_vresult *r);
KT_MUST_CHECK enum kt_verify_outcome
kt_verify_monitor(struct kt_verify *v, const char *label,
    const struct kt_vkey *expect, size_t nexpect, struct kt_vresult *r);
KT_MUST_CHECK enum kt_verify_outcome
kt_verify_audit(struct kt_verify *v, struct kt_vresult *r);
KT_MUST_CHECK enum kt_verify_outcome kt_verify_proof(struct kt_verify *v,
    const char *label, const char *out_path, struct kt_vresult *r);

/* ---- the stateless auditor -------------------------------------------- */

/*
 * Where a stateless audit of a log stands (map.md, "Auditors keep the map
 * honest"): the leaves checked so far, the compact range of their tree and
 * the last map head among them; never the map. size is 0 before leaf 0,
 * else the last map head's index + 1 (a position is only ever taken at a
 * map head).
 */
struct kt_vaudit_pos {
	uint64_t size;
	struct kt_frontier frontier; /* of the first `size` leaves */
	uint64_t head_index;         /* KT_NO_PREV while size is 0 */
	struct kt_map_head head;     /* the map head at head_index */
};

/* The largest batch (updates between two map heads) an audit takes:
 * kt-logd's batches are at most 4096 updates by default. */
#define KT_VAUDIT_BATCH_MAX 8192
/* Encoded position: size, head index, the map head leaf, 64 hashes. */
#define KT_VAUDIT_POS_MAX (8 + 8 + KT_MAP_HEAD_LEN + 64 * 32)

/* A position before leaf 0. */
void kt_vaudit_pos_init(struct kt_vaudit_pos *p);
/*
 * A position as bytes (kt-witness keeps it in its state): be64 size, be64
 * head_index, the map head leaf (65 bytes, zero when size is 0), then one
 * hash per set bit of size, highest first. *len gets the length (at most
 * KT_VAUDIT_POS_MAX). KT_ERR_TOO_LARGE when cap is short.
 */
KT_MUST_CHECK kt_err kt_vaudit_pos_encode(const struct kt_vaudit_pos *p,
    uint8_t *buf, size_t cap, size_t *len);
/* The inverse, strict: KT_ERR_MALFORMED for anything it would not write. */
KT_MUST_CHECK kt_err kt_vaudit_pos_decode(const uint8_t *buf, size_t len,
    struct kt_vaudit_pos *p);

/*
 * Audits the log of v's configuration from *pos to the signed checkpoint
 * note[0..len) (opened here with v's log key; the caller has accepted it:
 * signature, consistency, policy). Streams the leaves from pos->size, checks
 * each batch against GET /v1/map/audit/<head> with kt_map_apply_proofs and
 * every rule of the map heads, and compares the tree with the signed root.
 * Nothing is stored: on KT_VERIFY_OK *pos is at the checkpoint's size; on
 * KT_VERIFY_ATTACK (evidence written under v's state folder, r->evidence)
 * *pos is at the last map head that followed, verified against the signed
 * tree; on anything else *pos is unchanged. r->info gets the figures.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_verify_audit_to(struct kt_verify *v, const char *note, size_t len,
    struct kt_vaudit_pos *pos, struct kt_vresult *r);
/* `audit`: save its position to the state folder every `leaves` leaves
 * (default 65536; 0 restores it). */
void kt_verify_set_audit_save(struct kt_verify *v, uint64_t leaves);

/*
 * The log verifier key configured in v's state, or NULL if v has none.
 * Valid while v lives.
 */
const struct kt_verifier *kt_verify_log_key(const struct kt_verify *v);

/*
 * The log VRF public key pinned in v's state (32 bytes), or NULL if none.
 * Valid while v lives.
 */
const uint8_t *kt_verify_vrf_key(const struct kt_verify *v);

/*
 * Verifies an evidence file (kt evidence JSON, or a C2SP tlog-proof of a
 * lookup) held in buf[0..len) offline, with only the log's verifier key vk
 * and, for a tlog-proof, its VRF public key vrf_pk (32 bytes; may be NULL,
 * and then a tlog-proof is refused). Status KT_VERIFY_OK only when the file
 * proves what it claims (for evidence: misbehaviour by the log; for a
 * tlog-proof: the label's latest version, or its absence, at a signed
 * checkpoint), KT_VERIFY_FAILED when it is forged, malformed or proves
 * nothing; r->msg says which check decided. No I/O.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_verify_evidence(const char *buf, size_t len, const struct kt_verifier *vk,
    const uint8_t *vrf_pk, struct kt_vresult *r);

#endif /* KT_VERIFY_H */
