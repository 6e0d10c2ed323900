/*
 * verify_internal.h: private interfaces between libktverify's files.
 * Not installed; tests link the static library and may use these.
 *
 * The files in layers, bottom to top. A file calls functions only of the
 * files listed before it here, never of a file after it, so there is no
 * call cycle between files (tests/verifier/check_verify_layering.sh checks
 * this order):
 *
 *   util.c            buffers, strict base64, JSON forms of hashes,
 *                     frontiers and leaves, key fingerprints
 *   result.c          struct kt_vresult: outcome, message, evidence, details
 *   fetch.c           HTTP GET, the only file that includes curl/curl.h
 *   state.c           the state folder's files, written atomically
 *   parse.c           the log's JSON responses (untrusted) to structs
 *   check.c           signed checkpoints, inclusion proofs, subtrees: no I/O
 *   map_paths.c       the older map's nodes a batch's paths show, each
 *                     path verified once (the map judge's input)
 *   quorum.c          witness cosignatures, quorum and staleness
 *   handle.c          the kt_verify handle, its configuration, `init`
 *   prefetch.c        fetch threads reading entry bundles and map audit
 *                     answers ahead of the auditor (a bounded pipeline)
 *   logread.c         verified reads from the log: consistency proofs, one
 *                     leaf, ranges of entries
 *   evidence_write.c  evidence files, written when an attack is found
 *   evidence_lookup.c evidence of what lookups and monitors find (a
 *                     downgrade, a version hidden from the map): written
 *                     and checked offline
 *   evidence_map.c    "wrong-map" evidence: the judge of a map head (shared
 *                     by the auditor and the offline check), writing and
 *                     checking the file
 *   accept.c          accepting a signed checkpoint; relating two of them
 *   view.c            commands `checkpoint` and `view`
 *   history.c         a label's key history, verified page by page
 *                     (update leaves, chain, commitment openings)
 *   lookup.c          commands `lookup` and `proof` (lookup proofs)
 *   monitor.c         command `monitor` (map path, then the history)
 *   map_audit.c       the stateless auditor: a log's batches from a saved
 *                     position to a signed checkpoint (audit, kt-witness)
 *   audit.c           command `audit` (map_audit.c with its state file)
 *   gossip.c          command `gossip`
 *   evidence_check.c  `evidence`, the offline check: parse.c, check.c and
 *                     evidence_map.c's check only, nothing that does I/O
 *
 * Prototypes below are grouped per file in that order.
 */
#ifndef KT_VERIFY_INTERNAL_H
#define KT_VERIFY_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kt/label.h"
#include "kt/b64.h"
#include "kt/checkpoint.h"
#include "kt/commit.h"
#include "kt/err.h"
#include "kt/leaf.h"
#include "kt/lookup.h"
#include "kt/map.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "kt/verify.h"
#include "kt/vrf.h"

/* ---- response size caps (bytes) ---------------------------------------- */
#define KT_CAP_CHECKPOINT (KT_NOTE_MAX + 1)
#define KT_CAP_PROOF (64 * 1024)
#define KT_CAP_LOOKUP (KT_NOTE_MAX + 64 * 1024)
#define KT_CAP_MAP (KT_NOTE_MAX + 2 * 1024 * 1024)
#define KT_CAP_HISTORY (32 * 1024 * 1024)
#define KT_CAP_ENTRIES (16 * 1024 * 1024)
/* GET /v1/map/audit/<head>: a path per index of a batch of at most
 * KT_VAUDIT_BATCH_MAX updates, ~1.4 KB of base64 each at 10^9 labels. */
#define KT_CAP_AUDIT (64 * 1024 * 1024)
/* An entry bundle (tlog-tiles) of the directory's leaves: 256 entries of
 * at most KT_VLEAF_MAX bytes, each after its 2-byte length. */
#define KT_CAP_BUNDLE (256 * (2 + KT_VLEAF_MAX))
/* `audit` saves its position every so many leaves (kt_verify_set_audit_save). */
#define KT_VAUDIT_SAVE_EVERY 65536

/* Versions of one label's history checked, over all its pages: a hundred
 * pages of kt-logd's default page_size. A longer history is refused. */
#define KT_HISTORY_MAX 100000
#define KT_URL_MAX 1024

/* ---- types shared by every layer ---------------------------------------- */

/* A growable byte buffer. */
struct kt_buf {
	char *p; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

struct kt_vproof {
	uint64_t index;
	uint64_t size;
	struct kt_proof proof;
};

/* The largest leaf of the directory's log (an update). */
#define KT_VLEAF_MAX KT_UPDATE_LEN

/*
 * One leaf of the log (an update or a map head, proto's kt/leaf.h) with
 * its inclusion proof, as the log served it. kt_vleaf_decode fills kind,
 * u or h, version and leaf_hash from entry[].
 */
struct kt_vleaf {
	uint64_t version; /* an update's version; 0 for a map head */
	uint64_t index;
	uint8_t entry[KT_VLEAF_MAX];
	size_t entry_len;
	uint8_t kind;         /* KT_LEAF_UPDATE or KT_LEAF_MAP_HEAD */
	struct kt_update u;   /* kind KT_LEAF_UPDATE */
	struct kt_map_head h; /* kind KT_LEAF_MAP_HEAD */
	struct kt_hash leaf_hash;
	struct kt_vproof proof;
};

/* A witness policy (config.json "witnesses", "quorum", "max_age"). */
struct kt_vwitnesses {
	size_t n; /* 0: no policy */
	struct kt_verifier keys[KT_VERIFY_WITNESS_MAX];
	unsigned quorum;
	uint64_t max_age; /* seconds */
};

/* The handle (handle.c opens it; every file above reads its fields). */
struct kt_verify {
	char dir[KT_VERIFY_PATH_MAX];
	int lockfd;
	int have_config;
	char url[KT_URL_MAX];
	struct kt_verifier vk;
	char vkey_text[KT_KEY_TEXT_MAX];
	/* the log's VRF public key (config.json "vrf_key"), pinned at init */
	int have_vrf;
	uint8_t vrf_pk[KT_VRF_PUBLIC_LEN];
	long connect_s, total_s;
	struct kt_fetch *fetch;
	/* the newest checkpoint verified (state file "checkpoint"); its note
	 * is stored_buf, owned by the handle */
	int have_stored;
	char *stored_buf;
	struct kt_signed_checkpoint stored;
	struct kt_vwitnesses wit;
	uint64_t now; /* injected clock (tests); 0 = time(NULL) */
	/* the witnessed time of the checkpoint accepted in this run (0: none);
	 * kt_vquorum_stale compares it with max_age at the end of a command */
	uint64_t seen_witnessed;
	uint64_t bytes_in; /* response bytes read from the log (kt_vlog_get) */
	uint64_t audit_save; /* leaves between saves of `audit` (0: default) */
};

/* ---- util.c ------------------------------------------------------------ */
void kt_buf_free(struct kt_buf *b);
/* Standard base64 (padded, canonical) of p[0..len) as a new json string,
 * NULL when out of memory. Strict decoding is kt_b64_decode (kt/b64.h). */
json_t *kt_vb64_json(const uint8_t *p, size_t len);
/*
 * kt_b64_decode (kt/b64.h) for public bytes only: the same strict rules
 * and errors, through a lookup table indexed by the characters (so not
 * constant time: never for secrets), about ten times faster. For the
 * auditor's map paths.
 */
KT_MUST_CHECK kt_err kt_vb64_decode_public(const char *b64, size_t len,
    uint8_t *out, size_t cap, size_t *out_len);
/* Exactly 44 characters of canonical base64 that decode to one hash. */
KT_MUST_CHECK kt_err kt_vb64_hash(const char *s, size_t slen,
    struct kt_hash *out);
/* A JSON array of the hashes h[0..n), base64. */
json_t *kt_vhashes_json(const struct kt_hash *h, size_t n);
/* A frontier as JSON: one base64 hash per set bit of its size, highest
 * first (the form of monitor.json, material.json and frontier claims). */
json_t *kt_vfrontier_json(const struct kt_frontier *f);
/* A leaf as JSON {"index","entry","leaf_hash","hashes"} (pins, evidence). */
json_t *kt_vleaf_json(const struct kt_vleaf *l);
/*
 * Decodes l->entry[0..entry_len) as a directory leaf: fills kind, u or h,
 * version and leaf_hash. KT_ERR_MALFORMED when it is neither an update
 * nor a map head (the old entry types 0x01 and 0x02 included).
 */
KT_MUST_CHECK kt_err kt_vleaf_decode(struct kt_vleaf *l);
/* What a verified version says, for humans and --json: version, index,
 * and the value (key type, bytes and fingerprint, or a revocation, or
 * "erased" when v is NULL). */
json_t *
kt_vversion_summary(uint64_t version, uint64_t index, const struct kt_value *v);
/* Key fingerprint: hex SHA-256 of the key bytes, first 16 bytes, grouped. */
void kt_key_fingerprint(const uint8_t *key, size_t len, char out[48]);

/* ---- result.c ---------------------------------------------------------- */
/*
 * The one rule for outcomes inside the library: a function that decides
 * one returns it (enum kt_verify_outcome), and sets the same outcome with
 * its message in r through these functions, the only writers of
 * r->outcome and r->msg. Helpers that only parse or check bytes (parse.c,
 * check.c, kt_vquorum_count, state.c, fetch.c) return a kt_err and a
 * detail instead, which their caller turns into an outcome: what a log or
 * peer sent that does not parse or verify is KT_VERIFY_FAILED, local
 * state and files KT_VERIFY_ERROR, and HTTP-client errors are translated
 * in kt_vlog_get for the log and in gossip.c for peers.
 *
 * r may be NULL in all three: a probe whose failure only means "cannot
 * tell", with nothing to report; the outcome is returned all the same.
 */
/* Sets r's outcome and message; returns the outcome. */
enum kt_verify_outcome
kt_vres(struct kt_vresult *r, enum kt_verify_outcome outcome, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* As kt_vres, but appends to r's message. */
enum kt_verify_outcome
kt_vres_append(struct kt_vresult *r, enum kt_verify_outcome outcome,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets only r's outcome: its message already says it. */
enum kt_verify_outcome
kt_vres_outcome(struct kt_vresult *r, enum kt_verify_outcome outcome);

/* ---- fetch.c ------------------------------------------------------------ */
struct kt_fetch;
KT_MUST_CHECK kt_err kt_fetch_open(const char *base_url, long connect_s,
    long total_s, struct kt_fetch **out);
void kt_fetch_close(struct kt_fetch *f);
/*
 * GET base_url + path (path starts with '/'). At most `cap` body bytes are
 * accepted: a longer body is KT_ERR_TOO_LARGE. *status gets the HTTP status
 * (any status is KT_OK here; callers judge it). KT_ERR_NETWORK with a
 * detail on connection failure or timeout. body is replaced.
 */
KT_MUST_CHECK kt_err kt_fetch_get(struct kt_fetch *f, const char *path,
    size_t cap, struct kt_buf *body, long *status, char *detail, size_t dlen);
/* Percent-encodes s[0..len) for a URL path segment into buf. */
KT_MUST_CHECK kt_err kt_fetch_escape(const char *s, size_t len, char *buf,
    size_t cap);

/* ---- state.c ------------------------------------------------------------ */
/*
 * The state folder's files (docs/verify.md, "State"), named here only:
 *   config.json    log URL, log key, origin, witness policy
 *   checkpoint     the newest verified signed checkpoint (note text)
 *   pins.json      per label: the pinned key and its verified leaf
 *   monitor.json   per label: expected keys and the monitoring cursor
 *   material.json  the last checkpoint whose whole tree was recomputed
 *   audit.json     the stateless audit's position (map_audit.c)
 *   evidence/      evidence files
 *   lock           held (flock) while a handle is open
 */
#define KT_VSTATE_CONFIG "config.json"
#define KT_VSTATE_CHECKPOINT "checkpoint"
#define KT_VSTATE_PINS "pins.json"
#define KT_VSTATE_MONITOR "monitor.json"
#define KT_VSTATE_MATERIAL "material.json"
#define KT_VSTATE_AUDIT "audit.json"
#define KT_VSTATE_EVIDENCE "evidence"
#define KT_VSTATE_LOCK "lock"
/*
 * Writes data to dir/name atomically: a temporary file in dir, fsync,
 * rename over name, fsync of dir. A crash leaves the old or the new file.
 */
KT_MUST_CHECK kt_err kt_vstate_write(const char *dir, const char *name,
    const void *data, size_t len, char *detail, size_t dlen);
/* Reads dir/name (at most cap bytes). KT_ERR_NOT_FOUND if absent. */
KT_MUST_CHECK kt_err kt_vstate_read(const char *dir, const char *name,
    size_t cap, struct kt_buf *out, char *detail, size_t dlen);
/* Loads dir/name as a JSON object; absent gives an empty object. A file
 * that is not a JSON object is KT_ERR_MALFORMED ("state file ... corrupt"). */
KT_MUST_CHECK kt_err kt_vstate_load_json(const char *dir, const char *name,
    json_t **out, char *detail, size_t dlen);
KT_MUST_CHECK kt_err kt_vstate_save_json(const char *dir, const char *name,
    const json_t *obj, char *detail, size_t dlen);
/* path split into its folder ("." or "/" when it names none) and its file
 * name, which is empty when path ends in '/'. For kt_vstate_write.
 * KT_ERR_TOO_LARGE when the folder is KT_VERIFY_PATH_MAX bytes or longer
 * (dir is then ""). */
KT_MUST_CHECK kt_err kt_vstate_split(const char *path,
    char dir[KT_VERIFY_PATH_MAX], const char **name);
/*
 * Saves material.json: a signed checkpoint and the frontier of its tree
 * recomputed from every entry (monitor, audit). Kept so a later fork can be
 * proven (evidence_write.c), whatever else the pass found. Failure is
 * ignored by callers: it only costs the ability to prove a future fork.
 */
KT_MUST_CHECK kt_err kt_vmaterial_save(const char *dir,
    const struct kt_signed_checkpoint *sc, const struct kt_frontier *f);

/* ---- parse.c ------------------------------------------------------------ */
/* A GET /v1/keys/{label} answer: its decoded (not yet verified) lookup
 * proof and the checkpoint note it came with (note_len 0: none). */
struct kt_vlookup {
	int http_present; /* the status said present (200) or absent (404) */
	uint64_t checkpoint_size;
	struct kt_lookup_proof p;
	char note[KT_NOTE_MAX + 1];
	size_t note_len;
};

/*
 * JSON text (len bytes) to an object: strict (duplicates rejected), must be
 * an object. KT_ERR_MALFORMED with detail.
 */
KT_MUST_CHECK kt_err kt_vparse_object(const char *body, size_t len,
    json_t **out, char *detail, size_t dlen);
/* {"index","size","hashes"}: integers >= 0, at most 64 hashes of 32 bytes. */
KT_MUST_CHECK kt_err kt_vparse_proof(const json_t *o, struct kt_vproof *out,
    char *detail, size_t dlen);
/* {"old","new","hashes"} */
KT_MUST_CHECK kt_err kt_vparse_consistency(const json_t *o, uint64_t old,
    uint64_t new_size, struct kt_proof *out, char *detail, size_t dlen);
/*
 * A leaf object with "entry" (base64, decoded strictly), "index", optional
 * "version", optional "leaf_hash" (must equal H(0x00||entry)), "proof".
 * The entry must decode as a directory leaf; an update's version must
 * equal "version" when given; the proof's index must equal "index".
 */
KT_MUST_CHECK kt_err kt_vparse_leaf(const json_t *o, int need_proof,
    struct kt_vleaf *out, char *detail, size_t dlen);
/* A GET /v1/keys/{label} body (status 200 or 404) into out: the label
 * field must be label, "lookup_proof" must decode (kt_lookup_decode) and
 * claim what the status says. Verification is the caller's. */
KT_MUST_CHECK kt_err kt_vparse_lookup(const char *body, size_t len, long status,
    const char *label, struct kt_vlookup *out, char *detail, size_t dlen);
/* A base64 field holding exactly n bytes into out. */
KT_MUST_CHECK kt_err kt_vparse_b64n(const json_t *o, const char *key,
    uint8_t *out, size_t n);
/* Pieces of JSON records (state files, evidence): a non-negative integer
 * field; a base64 hash; an array of at most KT_MAX_PROOF of them.
 * KT_ERR_MALFORMED otherwise. */
KT_MUST_CHECK kt_err kt_vparse_u64(const json_t *o, const char *key,
    uint64_t *out);
KT_MUST_CHECK kt_err kt_vparse_hash(const json_t *j, struct kt_hash *out);
KT_MUST_CHECK kt_err kt_vparse_hashes(const json_t *a, struct kt_proof *out);
/*
 * A frontier of a tree of `size` leaves stored as JSON (kt_vfrontier_json):
 * exactly one hash per set bit of size, highest first. Its root is not
 * checked here. KT_ERR_MALFORMED with detail.
 */
KT_MUST_CHECK kt_err kt_vparse_frontier(const json_t *a, uint64_t size,
    struct kt_frontier *out, char *detail, size_t dlen);
/*
 * A leaf stored by this client (kt_vleaf_json, as pins.json keeps it):
 * "index", "entry" (which must decode), "hashes". Fills the leaf, its hash
 * and its proof's index and hashes; the proof's size is the caller's (the
 * tree it was verified in), and so is checking it. KT_ERR_MALFORMED.
 */
KT_MUST_CHECK kt_err kt_vparse_stored_leaf(const json_t *o,
    struct kt_vleaf *out);

/* ---- check.c ------------------------------------------------------------ */

/*
 * The label a person typed, in the canonical form the log holds
 * (proto/README.md, "Labels"): KT_OK, or KT_ERR_MALFORMED with the rule it
 * breaks in detail. Lookups, proofs and monitors ask for this form, so
 * Alice@Example.COM is alice@example.com and a confusable is refused.
 */
KT_MUST_CHECK kt_err kt_vcheck_label(const char *in, char out[KT_CANON_MAX + 1],
    char *detail, size_t cap);
/*
 * Opens note[0..len) as a checkpoint signed by the log key vk, with vk's
 * name as origin (kt_signed_checkpoint_open; *out borrows note). On failure
 * detail says which part failed: KT_ERR_MALFORMED (not a signed note, or
 * not a checkpoint), KT_ERR_UNKNOWN_KEY (no signature line of vk: the
 * detail says to check the key and URL given at init, as
 * kt_vcheck_unsigned), KT_ERR_VERIFY (a signature line of vk that does
 * not verify, or another origin).
 */
KT_MUST_CHECK kt_err kt_vcheck_checkpoint(const char *note, size_t len,
    const struct kt_verifier *vk, struct kt_signed_checkpoint *out,
    char *detail, size_t dlen);
/*
 * The detail for a parsed note n with no signature line of the log key vk:
 * names vk and the note's first signer (name and key ID) and says to check
 * the key and URL given at init, the usual cause.
 */
void kt_vcheck_unsigned(const struct kt_note *n, const struct kt_verifier *vk,
    char *detail, size_t dlen);
/* Inclusion of leaf against cp (proof size must equal cp->size). */
KT_MUST_CHECK kt_err kt_vcheck_inclusion(const struct kt_vleaf *l,
    const struct kt_checkpoint *cp, char *detail, size_t dlen);

/* RFC 9162 inclusion proof length for (index, size), index < size. */
size_t kt_inclusion_len(uint64_t index, uint64_t size);
/* Where the perfect subtree of bit k of a tree of `size` leaves starts: bits
 * k..0 of size cleared. */
uint64_t kt_vsubtree_start(uint64_t size, unsigned k);
/* The value of the level-k node on leaf's path: a proof p of that leaf
 * whose first k steps are all right siblings (a multiple of 2^k, subtree
 * inside the tree), folded. Sound only after the whole proof verified. */
void kt_vsubtree_node(const struct kt_hash *leaf, const struct kt_hash *p,
    unsigned k, struct kt_hash *out);

/* ---- map_paths.c ------------------------------------------------------ */
/* One encoded map path (kt_map_proof_encode), borrowed. */
struct kt_vpath {
	const uint8_t *b;
	size_t len;
};
/* The older map's nodes the paths of one batch show (opaque). */
struct kt_vpaths;
KT_MUST_CHECK kt_err kt_vpaths_open(struct kt_vpaths **out);
/* Accepts NULL. */
void kt_vpaths_close(struct kt_vpaths *t);
/* Forgets every node (a new batch), keeping the memory. */
void kt_vpaths_reset(struct kt_vpaths *t);
/*
 * Decodes enc[0..len) and checks it as kt_map_verify does: a path for
 * index (present or absent) in the map whose root is *root; keeps its
 * nodes. Nodes equal to the previous path's at the same depth are not
 * hashed again. KT_ERR_MALFORMED (does not decode), KT_ERR_VERIFY,
 * KT_ERR_NOMEM.
 */
KT_MUST_CHECK kt_err kt_vpaths_add(struct kt_vpaths *t,
    const struct kt_hash *root, const struct kt_hash *index, const uint8_t *enc,
    size_t len);
/* A `checked` reader of the nodes kept (KT_ERR_NOT_FOUND for others),
 * valid while t is and until the next reset. */
void kt_vpaths_reader(struct kt_vpaths *t, struct kt_map_reader *r);

/* ---- quorum.c ----------------------------------------------------------- */
struct kt_vquorum {
	size_t valid;       /* configured witnesses with a valid cosignature */
	uint64_t witnessed; /* the quorum-th newest cosignature time when
	                        valid >= quorum, else the newest (0: none) */
	uint64_t newest;    /* newest valid cosignature time */
};
/*
 * Counts valid cosignatures on a signed checkpoint note by the witnesses
 * of w, after the log's signature (vk) verified. Cosignatures by unknown
 * keys are ignored; one that names a configured witness and does not
 * verify is KT_ERR_VERIFY (C2SP signed-note: reject a note where a known
 * key's signature fails); no line of vk is KT_ERR_UNKNOWN_KEY (detail as
 * kt_vcheck_unsigned). No I/O, no clock.
 */
KT_MUST_CHECK kt_err kt_vquorum_count(const char *note, size_t len,
    const struct kt_verifier *vk, const struct kt_vwitnesses *w,
    struct kt_vquorum *q, char *detail, size_t dlen);
/* The current time (v->now if injected). */
uint64_t kt_vquorum_now(const struct kt_verify *v);
/*
 * Checks sc against v's witness policy (nothing to do without one):
 * KT_VERIFY_OK and v->seen_witnessed set, or KT_VERIFY_FAILED (too few or
 * a bad cosignature). Adds a "witnesses" object to r->info.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_vquorum_check(struct kt_verify *v, const struct kt_signed_checkpoint *sc,
    struct kt_vquorum *q, struct kt_vresult *r);
/* End of a command: turns KT_VERIFY_OK into KT_VERIFY_STALE when the
 * checkpoint accepted in this run was witnessed longer than max_age ago. */
KT_MUST_CHECK enum kt_verify_outcome kt_vquorum_stale(struct kt_verify *v,
    struct kt_vresult *r, enum kt_verify_outcome status);

/* ---- handle.c ----------------------------------------------------------- */
/* Requires a configured state: KT_VERIFY_OK, or KT_VERIFY_ERROR. */
KT_MUST_CHECK enum kt_verify_outcome
kt_verify_need_config(struct kt_verify *v, struct kt_vresult *r);
/* As kt_verify_need_config, and a pinned VRF key (init --vrf-key). */
KT_MUST_CHECK enum kt_verify_outcome
kt_verify_need_vrf(struct kt_verify *v, struct kt_vresult *r);

/* ---- prefetch.c -------------------------------------------------------- */
/* What the fetch threads read ahead (opaque). */
struct kt_vprefetch;
enum { KT_VPREFETCH_BUNDLE, KT_VPREFETCH_AUDIT };
/*
 * Starts fetch threads reading ahead, from v's log, the entry bundles of
 * leaves [start, end) (partial ones as a tree of end leaves has them) and,
 * when audits is set, GET /v1/map/audit/<head> for the map heads those
 * bundles show. Bounded: a few dozen bundles and a few audit answers
 * ahead of kt_vprefetch_get. v must outlive it; its bytes_in counts what
 * is taken. KT_ERR_NOMEM.
 */
KT_MUST_CHECK kt_err kt_vprefetch_open(struct kt_verify *v, uint64_t start,
    uint64_t end, int audits, struct kt_vprefetch **out);
/* Stops the threads (a transfer under way ends first) and frees what
 * they fetched. Accepts NULL. */
void kt_vprefetch_close(struct kt_vprefetch *pf);
/*
 * The answer to bundle `key` (KT_VPREFETCH_BUNDLE; the full bundle when
 * the partial one is gone, so a bundle may hold more entries than asked)
 * or to the map audit of the map head at leaf `key` (KT_VPREFETCH_AUDIT),
 * fetched ahead or now; taking it drops answers the caller has passed
 * (audits of heads before it). Bundles must be taken in order. As
 * kt_vlog_get: body is replaced, any status is KT_VERIFY_OK.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_vprefetch_get(struct kt_vprefetch *pf, int kind, uint64_t key,
    struct kt_buf *body, long *status, struct kt_vresult *r);

/* ---- logread.c ---------------------------------------------------------- */
/*
 * GET path from the log into body (replaced), at most cap bytes:
 * KT_VERIFY_OK with *status set to the HTTP status, whatever it is (the
 * caller judges it). The one place where the HTTP client's errors become
 * outcomes: a network failure or timeout is KT_VERIFY_ERROR (the log said
 * nothing), anything else (an answer over cap) KT_VERIFY_FAILED. The
 * message is `what` (a prefix such as "key history: ", or "") and the
 * detail.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_vlog_get(struct kt_verify *v, const char *path, size_t cap,
    struct kt_buf *body, long *status, const char *what, struct kt_vresult *r);
/*
 * GET the log's consistency proof from size old to new_size and parse it
 * into out: KT_VERIFY_OK (the caller verifies it between the roots);
 * KT_VERIFY_FAILED when the log gives no usable proof; KT_VERIFY_ERROR on
 * network trouble.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_vlog_consistency(struct kt_verify *v, uint64_t old, uint64_t new_size,
    struct kt_proof *out, struct kt_vresult *r);
/* Fetches entry `index` and its inclusion proof to cp, verified. r may be
 * NULL (a probe). */
KT_MUST_CHECK enum kt_verify_outcome
kt_vlog_leaf(struct kt_verify *v, uint64_t index,
    const struct kt_checkpoint *cp, struct kt_vleaf *out, struct kt_vresult *r);
/* Called for each leaf of a scan (l->index set, no proof); anything but
 * KT_VERIFY_OK ends it. */
typedef enum kt_verify_outcome (
    *kt_entry_cb)(void *ctx, const struct kt_vleaf *l, struct kt_vresult *r);
/*
 * Reads leaves [start, end) from the log's entry bundles (tlog-tiles,
 * through pf, opened for at least that range), decodes each (one that is
 * not a directory leaf, or a bundle that does not hold the entries a tree
 * of end leaves has there, is KT_VERIFY_FAILED), appends its leaf hash to
 * f and calls cb. The caller compares f's root with the checkpoint's. r
 * may be NULL (a probe).
 */
KT_MUST_CHECK enum kt_verify_outcome kt_vlog_scan(struct kt_verify *v,
    struct kt_vprefetch *pf, uint64_t start, uint64_t end,
    struct kt_frontier *f, kt_entry_cb cb, void *ctx, struct kt_vresult *r);

/* ---- evidence_write.c --------------------------------------------------- */
/*
 * Each function writes one evidence file (docs/verify.md, "Evidence
 * files") under the state folder's evidence/ and sets r->evidence and
 * "evidence" in r->info: KT_VERIFY_ATTACK. KT_VERIFY_ERROR when the file
 * could not be written, with the reason appended to r's message. The fork
 * functions set r's message to what the file proves; the others keep the
 * caller's, which says what was found.
 */
/*
 * Two signed checkpoints a (stored or earlier) and b (newly presented)
 * that cannot both be honest. Writes the strongest evidence available:
 * equal sizes with different roots; a node that differs (from a monitor
 * frontier or a pinned leaf, checked against b via the server); a prefix
 * claim from p, a consistency proof from a (smaller) to b that failed (p
 * may be NULL); else a record of what was seen (type "rollback" when
 * `kind` is "rollback", else "inconsistent"), marked as not provable.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_evidence_fork(struct kt_verify *v, const char *kind,
    const struct kt_signed_checkpoint *a, const struct kt_signed_checkpoint *b,
    const struct kt_proof *p, const char *why, struct kt_vresult *r);
/* As kt_evidence_fork but writes only provable fork evidence: none when
 * this client's material proves nothing, then KT_VERIFY_FAILED with r
 * untouched (the fork stays unproven). */
KT_MUST_CHECK enum kt_verify_outcome
kt_evidence_fork_provable(struct kt_verify *v,
    const struct kt_signed_checkpoint *a, const struct kt_signed_checkpoint *b,
    const char *why, struct kt_vresult *r);
/*
 * Two signed checkpoints whose verified inclusion proofs put different
 * entries at the same index: a provable fork. Writes it.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_evidence_fork_leaves(struct kt_verify *v,
    const struct kt_signed_checkpoint *a, const struct kt_vleaf *al,
    const struct kt_signed_checkpoint *b, const struct kt_vleaf *bl,
    const char *why, struct kt_vresult *r);
/* "unlogged-key": the leaf l served for label with sc, whose inclusion
 * proof does not verify. A record, not proof. */
KT_MUST_CHECK enum kt_verify_outcome kt_evidence_unlogged(struct kt_verify *v,
    const char *label, const struct kt_signed_checkpoint *sc,
    const struct kt_vleaf *l, struct kt_vresult *r);
/* "ghost-key": the update leaf l, proven into sc, commits (under
 * `opening`) to version l->version of label with the key value `val`, which
 * is not among `expected` (a JSON array of base64 keys, the owner's
 * statement). */
KT_MUST_CHECK enum kt_verify_outcome
kt_evidence_ghost(struct kt_verify *v, const char *label,
    const json_t *expected, const struct kt_signed_checkpoint *sc,
    const struct kt_vleaf *l, const uint8_t opening[KT_OPENING_LEN],
    const struct kt_value *val, struct kt_vresult *r);
/* "bad-entries": entries (a JSON array of leaves proven into sc, stolen)
 * break `rule`; provable when every entry the rule needs is there. */
KT_MUST_CHECK enum kt_verify_outcome
kt_evidence_bad_entries(struct kt_verify *v, const char *rule,
    const struct kt_signed_checkpoint *sc, json_t *entries, int provable,
    struct kt_vresult *r);

/*
 * Writes ev (released; "type" set) as an evidence file: KT_VERIFY_ATTACK,
 * or KT_VERIFY_ERROR when it could not be written. r's message is the
 * caller's (for files built in other files, such as evidence_lookup.c).
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_evidence_write(struct kt_verify *v, json_t *ev, struct kt_vresult *r);

/* ---- evidence_lookup.c -------------------------------------------------- */
/*
 * One signed state of a map index: a signed checkpoint and either a lookup
 * proof made at it (lp; lookup, pins.json) or the map head that is its
 * last leaf, proven into it, with the index's path in that head's map
 * (head and mp; monitor, monitor.json). Pointers are borrowed.
 */
struct kt_vmapstate {
	const struct kt_signed_checkpoint *sc;
	const struct kt_lookup_proof *lp; /* NULL: head and mp */
	const struct kt_vleaf *head;
	const struct kt_map_proof *mp;
};
/* Base64 JSON strings of an encoded lookup proof and map proof (pins,
 * cursors, evidence); NULL when out of memory or not encodable. */
json_t *kt_vlookup_json(const struct kt_lookup_proof *p);
json_t *kt_vmap_proof_json(const struct kt_map_proof *mp);
/* The map head of a lookup proof as a leaf with its inclusion proof in
 * the tree of `size` leaves. KT_ERR_MALFORMED if it does not encode. */
KT_MUST_CHECK kt_err kt_vlookup_head(const struct kt_lookup_proof *p,
    uint64_t size, struct kt_vleaf *out);
/* {"checkpoint", "lookup_proof"} or {"checkpoint", "head", "map_proof"}:
 * one state of "downgrade" evidence; NULL when out of memory. */
json_t *kt_vmapstate_json(const struct kt_vmapstate *s);
/*
 * "downgrade": label's map index shown by two signed states, earlier and
 * later (kt_vmapstate_json forms, stolen, NULL allowed), the later at a
 * checkpoint no smaller, with fewer versions (or none), or the same
 * version with another update or chain. The file is checked offline
 * (kt_vevidence_downgrade, with the handle's keys) before it is written:
 * KT_VERIFY_ATTACK with r's message `why` and what is proven; or
 * KT_VERIFY_ERROR if it could not be written; or KT_VERIFY_FAILED, r
 * untouched and nothing written, when the states prove nothing (NULL, or
 * kept by an older kt-verify without the proofs).
 */
KT_MUST_CHECK enum kt_verify_outcome kt_evidence_downgrade(struct kt_verify *v,
    const char *label, const struct kt_hash *index, json_t *earlier,
    json_t *later, const char *why, struct kt_vresult *r);
/*
 * A version the map hides: the update leaf `update`, proven into the
 * signed checkpoint usc (a history page's), is of a version above what
 * the path mp shows for its index in the map of `head`, a map head after
 * it proven into sc. The update's inclusion in sc is asked from the log
 * when usc is not sc's tree. Writes "hidden-version" evidence (checked
 * offline first): KT_VERIFY_ATTACK; else KT_VERIFY_FAILED (the log would
 * not prove the update in sc), or KT_VERIFY_ERROR; r's message says what
 * was found in every case.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_evidence_hidden(struct kt_verify *v, const char *label,
    const struct kt_signed_checkpoint *sc, const struct kt_vleaf *head,
    const struct kt_map_proof *mp, const struct kt_vleaf *update,
    const struct kt_signed_checkpoint *usc, struct kt_vresult *r);
/* The offline checks of those two types (evidence_check.c dispatches):
 * KT_VERIFY_OK (proven), KT_VERIFY_FAILED with the reason, KT_VERIFY_ERROR
 * when out of memory. vrf_pk may be NULL: a lookup-proof state then
 * fails ("needs the log's VRF key"). */
KT_MUST_CHECK enum kt_verify_outcome kt_vevidence_downgrade(const json_t *ev,
    const struct kt_verifier *vk, const uint8_t *vrf_pk, struct kt_vresult *r);
KT_MUST_CHECK enum kt_verify_outcome kt_vevidence_hidden(const json_t *ev,
    const struct kt_verifier *vk, struct kt_vresult *r);

/* ---- evidence_map.c ----------------------------------------------------- */
/* What kt_vmap_judge found: the first rule broken (NULL: none) and why. */
struct kt_vmap_verdict {
	const char *rule;
	const char *why;
	uint64_t inserted; /* indexes new to the map, when it got that far */
};
/*
 * The rules map head h (leaf h_index) keeps by itself and with the map head
 * before it, prev (leaf prev_index; NULL and KT_NO_PREV when h is the
 * first): log_size is h_index ("log-size"), prev_head is prev_index
 * ("head-link"), its time is not before prev's ("timestamp"). The first
 * broken rule (*why says it in words), or NULL.
 */
const char *
kt_vmap_head_rules(const struct kt_map_head *prev, uint64_t prev_index,
    const struct kt_map_head *h, uint64_t h_index, const char **why);
/*
 * Judges map head h against prev (as above; NULL: the empty map with no
 * labels), the updates u[0..n) of every leaf between them in log order,
 * and the paths p[0..np) (encoded) in prev's map of the distinct indexes
 * of u, sorted (as GET /v1/map/audit serves them; none are needed when
 * prev's map is empty), with t as scratch (its nodes are replaced). First
 * kt_vmap_head_rules, then each path must decode and verify for its index
 * against prev's root (else KT_ERR_VERIFY: the paths prove nothing), each
 * hashed once, then kt_map_apply over their nodes: "map-rules" when the
 * batch breaks the map's rules, "map-root" when the root it makes is not h's,
 * "label-count" when h's count is not prev's plus the new indexes.
 * KT_OK with out->rule NULL when h follows, or naming the first broken
 * rule; KT_ERR_VERIFY; KT_ERR_NOMEM.
 */
KT_MUST_CHECK kt_err kt_vmap_judge(struct kt_vpaths *t,
    const struct kt_map_head *prev, uint64_t prev_index,
    const struct kt_map_head *h, uint64_t h_index,
    const struct kt_map_update *u, size_t n, const struct kt_vpath *p,
    size_t np, struct kt_vmap_verdict *out);
/*
 * "wrong-map" evidence that map head h_index breaks `rule`: sc, the map
 * heads prev_index (KT_NO_PREV: none) and h_index and every leaf between
 * them, each fetched with its inclusion proof into sc, and `paths` (the
 * JSON array of base64 paths the log served for h_index; borrowed).
 * Checked with kt_vevidence_wrong_map before it is written: KT_VERIFY_ATTACK
 * (r's message kept), KT_VERIFY_FAILED when the log's leaves or proofs do
 * not verify or the file would prove nothing (the log's answers disagree),
 * KT_VERIFY_ERROR.
 */
KT_MUST_CHECK enum kt_verify_outcome kt_evidence_wrong_map(struct kt_verify *v,
    const struct kt_signed_checkpoint *sc, uint64_t prev_index,
    uint64_t h_index, const json_t *paths, const char *rule,
    struct kt_vresult *r);
/* `evidence` for a "wrong-map" file (docs/verify.md): KT_VERIFY_OK when it
 * proves the named rule broken, else KT_VERIFY_FAILED. No I/O. */
KT_MUST_CHECK enum kt_verify_outcome kt_vevidence_wrong_map(const json_t *ev,
    const struct kt_verifier *vk, struct kt_vresult *r);

/* ---- accept.c ----------------------------------------------------------- */
/*
 * The heart of the client: the log presented the signed checkpoint sc
 * (opened with the log key). Relate it to the stored checkpoint: first use
 * stores it; a larger tree needs a consistency proof from the server;
 * equal size needs an equal root; a smaller tree is a rollback. With a
 * witness policy it needs the quorum first. Attacks write evidence and
 * give KT_VERIFY_ATTACK. On KT_VERIFY_OK the checkpoint is stored (if
 * newer or more freshly witnessed).
 */
KT_MUST_CHECK enum kt_verify_outcome kt_vaccept(struct kt_verify *v,
    const struct kt_signed_checkpoint *sc, struct kt_vresult *r);
/* GET /checkpoint, open it, then kt_vaccept. note gets the body; *out
 * borrows it. */
KT_MUST_CHECK enum kt_verify_outcome
kt_vaccept_fetch(struct kt_verify *v, struct kt_buf *note,
    struct kt_signed_checkpoint *out, struct kt_vresult *r);
/*
 * Checks that two signed checkpoints a and b can both be views of one
 * append-only log, with a consistency proof from the log (smaller to
 * larger); nothing is stored. OK; ATTACK (evidence written: same size with
 * other roots, or a failing proof); FAILED when the log gives no usable
 * proof (the caller decides); ERROR for network trouble.
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_vrelate(struct kt_verify *v, const struct kt_signed_checkpoint *a,
    const struct kt_signed_checkpoint *b, struct kt_vresult *r);

/* ---- history.c ---------------------------------------------------------- */
/* One version of a label as the history walk verified it: its update leaf
 * (proven into the page's checkpoint), the chain after it, and its value
 * (erased: the log dropped the opening; no value then). */
struct kt_vversion {
	const struct kt_vleaf *l;
	struct kt_hash chain;
	int erased;
	struct kt_value val; /* borrows the page: valid during the callback */
	uint8_t opening[KT_OPENING_LEN];
	const struct kt_signed_checkpoint *sc; /* the page's checkpoint */
};
/* Called for each verified version, oldest first; anything but
 * KT_VERIFY_OK ends the walk with that outcome. */
typedef enum kt_verify_outcome (*kt_version_cb)(void *ctx,
    const struct kt_vversion *ver, struct kt_vresult *r);
/*
 * Walks label's history (GET /v1/keys/{label}/history, "next" continuing
 * with ?from=V) from version `from` (>= 1; prev_chain is the chain after
 * version from - 1, ignored for 1): every version's update leaf is proven
 * into its page's signed checkpoint (each page's checkpoint accepted, or
 * with a witness policy related to the stored one), its index is the
 * label's (VRF-verified map_index), versions step by one, links point to
 * the version before, the chain is extended link by link and every
 * commitment opens to the value served. *last gets the chain after the
 * last version and *nver the last version (from - 1 when none).
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_vhistory_walk(struct kt_verify *v, const char *label, uint64_t from,
    const struct kt_hash *prev_chain, uint64_t prev_index, kt_version_cb cb,
    void *ctx, struct kt_hash *last, uint64_t *nver, struct kt_vresult *r);
/*
 * As kt_vhistory_walk, from a version past the one the verified map shows
 * (monitor, when nothing changed): a first page answered 404 or 400 ("no
 * such label or version", an honest log's answer) is KT_VERIFY_OK with
 * *nver = from - 1; versions served are checked as by the walk and handed
 * to cb, which judges them (one logged before the map head is hidden by
 * the map).
 */
KT_MUST_CHECK enum kt_verify_outcome
kt_vhistory_probe(struct kt_verify *v, const char *label, uint64_t from,
    const struct kt_hash *prev_chain, uint64_t prev_index, kt_version_cb cb,
    void *ctx, struct kt_hash *last, uint64_t *nver, struct kt_vresult *r);

/* ---- map_audit.c ------------------------------------------------------- */
/* Saves a position the audit has proven (audit.c: audit.json). */
typedef enum kt_verify_outcome (*kt_vaudit_save_fn)(void *ctx,
    const struct kt_vaudit_pos *pos, struct kt_vresult *r);
/*
 * kt_verify_audit_to for an opened signed checkpoint sc, with save (may
 * be NULL) called for proven positions on the way: every
 * v->audit_save leaves, before an attack is reported, and at the end.
 */
KT_MUST_CHECK enum kt_verify_outcome kt_vmap_audit(struct kt_verify *v,
    const struct kt_signed_checkpoint *sc, struct kt_vaudit_pos *pos,
    kt_vaudit_save_fn save, void *ctx, struct kt_vresult *r);

#endif /* KT_VERIFY_INTERNAL_H */
