/*
 * witness.h: the kt-witness logic (C2SP tlog-witness), without HTTP.
 *
 * A witness remembers, per log origin, the latest checkpoint it cosigned
 * (size, root and the cosigned note) in an LMDB environment, and cosigns a
 * submitted checkpoint only if it is consistent with that one. The check and
 * the update happen in ONE LMDB write transaction that is committed (and
 * synced to disk) before the cosignature is handed out; LMDB admits one
 * writer at a time, across threads and processes, so two inconsistent
 * checkpoints of one origin are never both cosigned, whatever the
 * interleaving of requests and crashes (C2SP tlog-witness, "The witness MUST
 * persist the new checkpoint before responding").
 *
 * witness.c is the only file of kt-witness that includes lmdb.h; it never
 * reads the clock (the caller passes the time), never logs and never exits.
 */
#ifndef KT_WITNESS_H
#define KT_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"
#include "kt/note.h"

/*
 * Largest add-checkpoint request body accepted: "old <20 digits>\n", 63
 * proof lines of 44 base64 characters and a newline, the empty line, and a
 * note of at most KT_NOTE_MAX bytes.
 */
#define KT_WITNESS_MAX_PROOF 63
#define KT_WITNESS_BODY_MAX (26 + KT_WITNESS_MAX_PROOF * 45 + 1 + KT_NOTE_MAX)

/* One cosignature line: "— " name " " base64(76 bytes) "\n" and a NUL. */
#define KT_WITNESS_COSIG_LINE_MAX (4 + KT_KEY_NAME_MAX + 1 + 104 + 2)

/* The stored cosigned note: the checkpoint text, the blank line, the log's
 * verified signature lines and the witness's cosignature line. */
#define KT_WITNESS_NOTE_MAX (KT_NOTE_MAX + KT_WITNESS_COSIG_LINE_MAX)

/* Room for an auditor's message with its evidence file's path. */
#define KT_WITNESS_DETAIL_MAX 1024

struct kt_witness; /* opaque: the LMDB environment, keys and trusted logs */

/*
 * Opens (creating if needed) the witness state in directory `dir` (which
 * must exist; LMDB files data.mdb and lock.mdb are created in it, mode
 * 0600). `signer` must be a KT_KEY_COSIG signer; it is borrowed and must
 * outlive the witness. `logs[0..nlogs)` are the trusted log verifier keys
 * (type KT_KEY_ED25519); each log's origin is its key's name, and several
 * keys may share one origin. They are copied.
 *
 * Errors: KT_ERR_RANGE (nlogs == 0 or too many), KT_ERR_MALFORMED (a signer
 * that is not a cosignature key, a log key that is not Ed25519),
 * KT_ERR_IO (LMDB could not open the directory), KT_ERR_NOMEM. On error,
 * *out is NULL and `detail` (if non-NULL, cap bytes) says what failed.
 */
KT_MUST_CHECK kt_err kt_witness_open(const char *dir,
    const struct kt_signer *signer, const struct kt_verifier *logs,
    size_t nlogs, struct kt_witness **out, char *detail, size_t cap);

/*
 * An auditing witness (kt-witness --audit; docs/witness.md): before a
 * checkpoint of an audited log is cosigned, `audit` checks every map head
 * the log appended since the last cosigned checkpoint. It is called with
 * no LMDB transaction open (it fetches from the log), from any HTTP
 * thread, with the position the witness stored with its last cosignature
 * (pos_in[0..pos_len); pos_len 0: none, audit from leaf 0), and the signed
 * checkpoint note[0..len) after its signature and consistency checked.
 * It returns KT_OK with the position at the checkpoint in
 * pos_out[0..*out_len) (at most KT_WITNESS_POS_MAX bytes), stored with
 * the cosignature in one transaction; KT_ERR_VERIFY (answered 422) when
 * the map heads do not follow, KT_ERR_BUSY (503) when the log could not
 * be audited now; `detail` says why (and names the evidence file).
 * `audits` says whether an origin is audited.
 */
#define KT_WITNESS_POS_MAX 2200
struct kt_witness_audit_ops {
	int (*audits)(void *ctx, const char *origin);
	kt_err (*audit)(void *ctx, const char *origin, const char *note,
	    size_t len, const uint8_t *pos_in, size_t pos_len, uint8_t *pos_out,
	    size_t *out_len, char *detail, size_t cap);
	void *ctx;
};

/* Sets the auditor (copied; its ctx must outlive w). Before serving. */
void kt_witness_set_auditor(struct kt_witness *w,
    const struct kt_witness_audit_ops *ops);

/* Closes the environment. Accepts NULL. No call may be running. */
void kt_witness_close(struct kt_witness *w);

/* The outcome of one add-checkpoint request. */
struct kt_witness_answer {
	/* KT_OK: the cosignature line(s) to return, NUL-terminated. */
	char cosig[KT_WITNESS_COSIG_LINE_MAX];
	size_t cosig_len;
	/* KT_ERR_CONFLICT: the size of the latest checkpoint cosigned for the
	 * origin (0 if none), for the 409 body. */
	uint64_t latest_size;
	/* Any error: a NUL-terminated sentence a client developer can act on. */
	char detail[KT_WITNESS_DETAIL_MAX];
};

/*
 * Handles one C2SP tlog-witness add-checkpoint request body (body[0..len),
 * untrusted, need not be NUL-terminated) at time `now` (seconds since the
 * epoch, used as the cosignature timestamp). Thread-safe: calls from many
 * threads on one witness are serialised by LMDB's single writer.
 *
 * The returned code says which HTTP status the spec asks for:
 *   KT_OK              200: the checkpoint is cosigned and the new state is
 *                      durably committed; ans->cosig holds the line.
 *   KT_ERR_MALFORMED   400: the body does not parse (old line, proof lines,
 *                      note or checkpoint).
 *   KT_ERR_TOO_LARGE   413: the body exceeds KT_WITNESS_BODY_MAX.
 *   KT_ERR_NOT_FOUND   404: the checkpoint origin is not a witnessed log.
 *   KT_ERR_UNKNOWN_KEY 403: no trusted key of the origin signed it.
 *   KT_ERR_PERM        403: a trusted key's signature line does not verify.
 *   KT_ERR_RANGE       400: old size > checkpoint size.
 *   KT_ERR_CONFLICT    409: old size != ans->latest_size.
 *   KT_ERR_VERIFY      422: the consistency proof fails, old is 0 with a
 *                      non-empty proof, a size-0 checkpoint's root is not
 *                      H(""), or the size equals the latest but the root
 *                      differs; with an auditor, the map heads since the
 *                      last cosigned checkpoint do not follow.
 *   KT_ERR_BUSY        503: with an auditor, the log could not be audited
 *                      now; nothing was cosigned.
 *   KT_ERR_IO, KT_ERR_NOMEM, KT_ERR_INTERNAL  500: nothing was cosigned.
 * ans->detail explains every error.
 */
KT_MUST_CHECK kt_err kt_witness_add_checkpoint(struct kt_witness *w,
    const char *body, size_t len, uint64_t now, struct kt_witness_answer *ans);

/*
 * The latest cosigned note of the log whose origin hashes to `origin_hash`
 * (SHA-256 of the origin's bytes): the checkpoint text, its verified log
 * signature lines and this witness's cosignature line. Copied into buf
 * (NUL-terminated); *out_len gets its length.
 * KT_ERR_NOT_FOUND if nothing was cosigned for it, KT_ERR_TOO_LARGE if cap
 * is short, KT_ERR_IO.
 */
KT_MUST_CHECK kt_err kt_witness_get_checkpoint(struct kt_witness *w,
    const uint8_t origin_hash[KT_HASH_LEN], char *buf, size_t cap,
    size_t *out_len);

/*
 * Parses the request path "<64 lowercase hex>/checkpoint" (after the leading
 * '/') into the origin hash. KT_ERR_MALFORMED for anything else.
 */
KT_MUST_CHECK kt_err kt_witness_parse_get_path(const char *path, size_t len,
    uint8_t origin_hash[KT_HASH_LEN]);

/* The witness's own cosignature verifier key (type KT_KEY_COSIG). */
void kt_witness_verifier(const struct kt_witness *w, struct kt_verifier *out);

#endif /* KT_WITNESS_H */
