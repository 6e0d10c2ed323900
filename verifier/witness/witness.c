/*
 * witness.c: kt-witness logic, C2SP tlog-witness add-checkpoint over LMDB.
 *
 * State: one LMDB record per witnessed origin, keyed by SHA-256(origin):
 *
 *   u8   format (1; 2 for an audited log)
 *   u64  size of the latest cosigned checkpoint, big-endian
 *   32   its root hash
 *   ...  the cosigned note: checkpoint text, blank line, the log's verified
 *        signature lines, this witness's cosignature line
 *   format 2 only, at the end:
 *   ...  the audit position at that size (kt_vaudit_pos_encode)
 *   u16  its length, big-endian
 *
 * The only file of kt-witness that includes lmdb.h; MDB_* codes are
 * translated to kt_err here with a detail message.
 */
#include "witness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <sodium.h>

#include "kt/b64.h"
#include "kt/bytes.h"
#include "kt/checkpoint.h"
#include "kt/fmt.h"

#define STATE_FORMAT 1
#define STATE_FORMAT_AUDIT 2
#define STATE_HDR (1 + 8 + KT_HASH_LEN)
#define HASH_B64_LEN KT_B64_LEN(KT_HASH_LEN) /* 44 */
#define MAX_LOGS 256 /* trusted log keys on one witness */
#define MAX_KEYS_PER_ORIGIN 16
/* Sparse on disk; one record is at most ~70 KB, so this holds thousands. */
#define MAP_SIZE ((size_t)1 << 30)

struct kt_witness {
	MDB_env *env;
	MDB_dbi dbi;
	const struct kt_signer *signer; /* borrowed */
	struct kt_verifier self;
	int have_audit;
	struct kt_witness_audit_ops audit;
	size_t nlogs;
	struct kt_verifier logs[]; /* flexible: nlogs entries */
};

/* ---- helpers ------------------------------------------------------------ */

static void
origin_key(const char *origin, uint8_t out[KT_HASH_LEN])
{
	crypto_hash_sha256(out, (const unsigned char *)origin, strlen(origin));
}

/* ---- open / close ------------------------------------------------------- */

kt_err
kt_witness_open(const char *dir, const struct kt_signer *signer,
    const struct kt_verifier *logs, size_t nlogs, struct kt_witness **out,
    char *detail, size_t cap)
{
	struct kt_witness *w = NULL;
	MDB_txn *txn = NULL;
	kt_err err = KT_ERR_INTERNAL;
	int rc;

	*out = NULL;
	if (nlogs == 0 || nlogs > MAX_LOGS) {
		kt_msg(detail, cap, "between 1 and %d log keys are needed",
		    MAX_LOGS);
		return KT_ERR_RANGE;
	}
	w = calloc(1, sizeof(*w) + nlogs * sizeof(w->logs[0]));
	if (w == NULL) {
		kt_msg(detail, cap, "out of memory");
		return KT_ERR_NOMEM;
	}
	w->signer = signer;
	kt_signer_verifier(signer, &w->self);
	if (w->self.type != KT_KEY_COSIG) {
		kt_msg(detail, cap,
		    "the witness key is not a cosignature "
		    "(type 0x04) key");
		err = KT_ERR_MALFORMED;
		goto out;
	}
	for (size_t i = 0; i < nlogs; i++) {
		if (logs[i].type != KT_KEY_ED25519) {
			kt_msg(detail, cap,
			    "log key %s is not an Ed25519 "
			    "(type 0x01) key",
			    logs[i].name);
			err = KT_ERR_MALFORMED;
			goto out;
		}
		w->logs[i] = logs[i];
	}
	w->nlogs = nlogs;

	if ((rc = mdb_env_create(&w->env)) != 0) {
		w->env = NULL;
		goto lmdb_fail;
	}
	if ((rc = mdb_env_set_mapsize(w->env, MAP_SIZE)) != 0)
		goto lmdb_fail;
	/*
	 * MDB_NOTLS: HTTP worker threads open short read transactions; tie
	 * reader slots to transactions, not threads. No MDB_NOSYNC or
	 * MDB_NOMETASYNC: every commit must be on disk before we answer 200.
	 */
	if ((rc = mdb_env_open(w->env, dir, MDB_NOTLS, 0600)) != 0)
		goto lmdb_fail;
	/* Free reader slots left by a witness that was killed (kill -9),
	 * so they do not pin old pages forever. */
	if ((rc = mdb_reader_check(w->env, NULL)) != 0)
		goto lmdb_fail;
	if ((rc = mdb_txn_begin(w->env, NULL, 0, &txn)) != 0)
		goto lmdb_fail;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &w->dbi)) != 0)
		goto lmdb_fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto lmdb_fail;
	*out = w;
	return KT_OK;

lmdb_fail:
	kt_msg(detail, cap, "lmdb: %s: %s", dir, mdb_strerror(rc));
	err = rc == ENOMEM ? KT_ERR_NOMEM : KT_ERR_IO;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	kt_witness_close(w);
	return err;
}

void
kt_witness_close(struct kt_witness *w)
{
	if (w == NULL)
		return;
	if (w->env != NULL)
		mdb_env_close(w->env);
	free(w);
}

void
kt_witness_set_auditor(struct kt_witness *w,
    const struct kt_witness_audit_ops *ops)
{
	w->audit = *ops;
	w->have_audit = 1;
}

void
kt_witness_verifier(const struct kt_witness *w, struct kt_verifier *out)
{
	*out = w->self;
}

/* ---- state records ------------------------------------------------------ */

struct state {
	int found;
	uint64_t size;
	struct kt_hash root;
	const char *note; /* borrows from the LMDB transaction */
	size_t note_len;
	const uint8_t *pos; /* format 2: the audit position (borrowed) */
	size_t pos_len;
};

static kt_err
state_get(struct kt_witness *w, MDB_txn *txn, const uint8_t key[KT_HASH_LEN],
    struct state *st, char *detail, size_t cap)
{
	MDB_val k = { KT_HASH_LEN, (void *)key }, v;
	const uint8_t *p;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = mdb_get(txn, w->dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return KT_OK;
	if (rc != 0) {
		kt_msg(detail, cap, "lmdb: mdb_get: %s", mdb_strerror(rc));
		return KT_ERR_IO;
	}
	p = v.mv_data;
	if (v.mv_size < STATE_HDR ||
	    (p[0] != STATE_FORMAT && p[0] != STATE_FORMAT_AUDIT))
		goto corrupt;
	st->found = 1;
	st->size = kt_get_be64(p + 1);
	memcpy(st->root.b, p + 9, KT_HASH_LEN);
	st->note = (const char *)p + STATE_HDR;
	st->note_len = v.mv_size - STATE_HDR;
	if (p[0] == STATE_FORMAT_AUDIT) {
		if (st->note_len < 2)
			goto corrupt;
		st->pos_len = kt_get_be16(p + v.mv_size - 2);
		if (st->pos_len == 0 || st->pos_len > st->note_len - 2)
			goto corrupt;
		st->note_len -= st->pos_len + 2;
		st->pos = p + STATE_HDR + st->note_len;
	}
	return KT_OK;
corrupt:
	kt_msg(detail, cap, "the witness state record is corrupt");
	return KT_ERR_IO;
}

/* ---- add-checkpoint: one request -------------------------------------- */

/*
 * One add-checkpoint request as it goes through the steps below. Tens of KB
 * (the note, the record to store): allocated once, off the stacks of HTTP
 * worker threads.
 */
struct request {
	/* From the body (parse_request). */
	uint64_t old;
	struct kt_hash proof[KT_WITNESS_MAX_PROOF];
	size_t np;
	const char *note_buf; /* the signed checkpoint, in the body */
	size_t note_buf_len;
	struct kt_note note;          /* note_buf parsed; borrows from it */
	struct kt_checkpoint claimed; /* its body, before any signature check */
	/* From the log's signature (verify_log_signature). */
	struct kt_verifier vs[MAX_KEYS_PER_ORIGIN]; /* the origin's keys */
	uint8_t ok[MAX_KEYS_PER_ORIGIN];            /* which of them signed */
	size_t nv;
	struct kt_signed_checkpoint sc; /* what the log signed */
	/* The state record to store (keep_note, cosign). */
	uint8_t key[KT_HASH_LEN]; /* SHA-256(origin) */
	size_t note_len;          /* the kept note, at record + STATE_HDR */
	size_t cosig_len;         /* our line, after the kept note */
	size_t tail_len;          /* format 2: the position and its length */
	/* An audited log: the position audited from (the stored one) and
	 * the one at this checkpoint (audit_step). */
	int audited;
	uint64_t from_size;
	size_t from_len, pos_len;
	uint8_t from[KT_WITNESS_POS_MAX], pos[KT_WITNESS_POS_MAX];
	uint8_t
	    record[STATE_HDR + KT_WITNESS_NOTE_MAX + KT_WITNESS_POS_MAX + 2];
};

/*
 * "old <N>\n": a decimal without leading zeros. Sets *p past the newline.
 * Strict, as the rest of the body.
 */
static kt_err
parse_old(const char *b, size_t len, size_t *p, uint64_t *old, char *detail,
    size_t cap)
{
	const size_t start = 4;
	size_t i = start;
	uint64_t v = 0;

	if (len < 4 || memcmp(b, "old ", 4) != 0) {
		kt_msg(detail, cap,
		    "the body must start with \"old <size>\\n\"");
		return KT_ERR_MALFORMED;
	}
	while (i < len && b[i] >= '0' && b[i] <= '9') {
		unsigned d = (unsigned)(b[i] - '0');

		if (v > (UINT64_MAX - d) / 10) {
			kt_msg(detail, cap, "the old size overflows 64 bits");
			return KT_ERR_MALFORMED;
		}
		v = v * 10 + d;
		i++;
	}
	if (i == start || i >= len || b[i] != '\n' ||
	    (b[start] == '0' && i - start > 1)) {
		kt_msg(detail, cap,
		    "the old size must be a decimal number "
		    "without leading zeros, followed by a newline");
		return KT_ERR_MALFORMED;
	}
	*p = i + 1;
	*old = v;
	return KT_OK;
}

/*
 * 0..63 lines of one base64 hash each, then "\n". Reads from b[*p], and
 * sets *p past the empty line, where the note starts.
 */
static kt_err
parse_proof(const char *b, size_t len, size_t *p, struct request *rq,
    char *detail, size_t cap)
{
	rq->np = 0;
	for (;;) {
		const char *nl;
		size_t bin_len = 0;

		if (*p >= len) {
			kt_msg(detail, cap,
			    "the body ends before the empty line "
			    "that precedes the checkpoint");
			return KT_ERR_MALFORMED;
		}
		if (b[*p] == '\n') {
			(*p)++;
			return KT_OK;
		}
		if (rq->np == KT_WITNESS_MAX_PROOF) {
			kt_msg(detail, cap,
			    "more than %d consistency proof lines",
			    KT_WITNESS_MAX_PROOF);
			return KT_ERR_MALFORMED;
		}
		nl = memchr(b + *p, '\n', len - *p);
		/* A SHA-256 hash is exactly 44 base64 characters. */
		if (nl == NULL || (size_t)(nl - (b + *p)) != HASH_B64_LEN ||
		    kt_b64_decode(b + *p, HASH_B64_LEN, rq->proof[rq->np].b,
		        KT_HASH_LEN, &bin_len) != KT_OK ||
		    bin_len != KT_HASH_LEN) {
			kt_msg(detail, cap,
			    "consistency proof line %zu is not "
			    "one base64 SHA-256 hash",
			    rq->np + 1);
			return KT_ERR_MALFORMED;
		}
		rq->np++;
		*p += HASH_B64_LEN + 1;
	}
}

/*
 * Step 1. C2SP tlog-witness request body: "old <N>\n", 0..63 lines of one
 * base64 hash each, "\n", then the signed checkpoint, which must be a
 * signed note whose text is a checkpoint. Nothing is verified yet.
 */
static kt_err
parse_request(const char *body, size_t len, struct request *rq, char *detail,
    size_t cap)
{
	size_t p = 0;
	kt_err err;

	err = parse_old(body, len, &p, &rq->old, detail, cap);
	if (err == KT_OK)
		err = parse_proof(body, len, &p, rq, detail, cap);
	if (err != KT_OK)
		return err;
	rq->note_buf = body + p;
	rq->note_buf_len = len - p;
	err = kt_note_parse(rq->note_buf, rq->note_buf_len, &rq->note);
	if (err != KT_OK) {
		kt_msg(detail, cap,
		    "the checkpoint is not a valid signed note "
		    "(C2SP signed-note): %s",
		    kt_strerror(err));
		return KT_ERR_MALFORMED;
	}
	err =
	    kt_checkpoint_parse(rq->note.text, rq->note.text_len, &rq->claimed);
	if (err != KT_OK) {
		kt_msg(detail, cap,
		    "the note is not a valid checkpoint "
		    "(C2SP tlog-checkpoint): %s",
		    kt_strerror(err));
		return KT_ERR_MALFORMED;
	}
	return KT_OK;
}

/*
 * Step 2. The origin must be a witnessed log (404), and its trusted keys
 * must have signed, none of them falsely (403). Each key of the origin is
 * tried with kt_signed_checkpoint_open: a false signature by any of them
 * refuses the note (C2SP signed-note), one valid signature is enough, and
 * rq->ok records which keys signed, for the note we keep.
 */
static kt_err
verify_log_signature(const struct kt_witness *w, struct request *rq,
    char *detail, size_t cap)
{
	const char *origin = rq->claimed.origin;
	int any = 0;

	rq->nv = 0;
	for (size_t i = 0; i < w->nlogs && rq->nv < MAX_KEYS_PER_ORIGIN; i++)
		if (strcmp(w->logs[i].name, origin) == 0)
			rq->vs[rq->nv++] = w->logs[i];
	if (rq->nv == 0) {
		kt_msg(detail, cap,
		    "this witness does not witness the log "
		    "with origin \"%s\"",
		    origin);
		return KT_ERR_NOT_FOUND;
	}
	for (size_t j = 0; j < rq->nv; j++) {
		kt_err err = kt_signed_checkpoint_open(rq->note_buf,
		    rq->note_buf_len, &rq->vs[j], &rq->sc);

		rq->ok[j] = err == KT_OK;
		if (err == KT_OK || err == KT_ERR_UNKNOWN_KEY) {
			any |= err == KT_OK;
			continue;
		}
		if (err == KT_ERR_VERIFY) {
			kt_msg(detail, cap,
			    "a signature by a trusted key of log "
			    "\"%s\" does not verify",
			    origin);
			return KT_ERR_PERM;
		}
		kt_msg(detail, cap, "verifying the note: %s", kt_strerror(err));
		return KT_ERR_INTERNAL;
	}
	if (!any) {
		kt_msg(detail, cap,
		    "the checkpoint carries no signature by a "
		    "trusted key of log \"%s\"",
		    origin);
		return KT_ERR_UNKNOWN_KEY;
	}
	return KT_OK;
}

/* Step 3. The old size may not exceed the signed size (400). */
static kt_err
check_old_size(const struct request *rq, char *detail, size_t cap)
{
	if (rq->old > rq->sc.cp.size) {
		kt_msg(detail, cap,
		    "the old size %llu is larger than the "
		    "checkpoint size %llu",
		    (unsigned long long)rq->old,
		    (unsigned long long)rq->sc.cp.size);
		return KT_ERR_RANGE;
	}
	return KT_OK;
}

/*
 * Step 4. The note to keep for gossip, written after the record's header:
 * text, blank line, the signature lines of the trusted log keys that
 * verified (one per key; unknown lines are dropped, so a submitter cannot
 * make us store junk). Room is left for our cosignature.
 */
static kt_err
keep_note(struct request *rq, char *detail, size_t cap)
{
	const struct kt_note *note = &rq->note;
	char *buf = (char *)rq->record + STATE_HDR;
	uint8_t used[MAX_KEYS_PER_ORIGIN] = { 0 };
	size_t n = note->text_len;

	if (n + 1 > KT_WITNESS_NOTE_MAX) {
		kt_msg(detail, cap, "the checkpoint note is too large");
		return KT_ERR_TOO_LARGE;
	}
	memcpy(buf, note->text, n);
	buf[n++] = '\n';
	for (size_t i = 0; i < note->nsigs; i++) {
		const struct kt_note_sig *s = &note->sigs[i];

		for (size_t j = 0; j < rq->nv; j++) {
			size_t line = 4 + s->name_len + 1 + s->b64_len + 1;

			if (!rq->ok[j] || used[j] ||
			    s->name_len != strlen(rq->vs[j].name) ||
			    memcmp(s->name, rq->vs[j].name, s->name_len) != 0 ||
			    memcmp(s->id, rq->vs[j].id, KT_KEY_ID_LEN) != 0)
				continue;
			if (n + line > KT_WITNESS_NOTE_MAX) {
				kt_msg(detail, cap,
				    "the checkpoint note is too "
				    "large");
				return KT_ERR_TOO_LARGE;
			}
			memcpy(buf + n, "\xe2\x80\x94 ", 4);
			memcpy(buf + n + 4, s->name, s->name_len);
			buf[n + 4 + s->name_len] = ' ';
			memcpy(buf + n + 5 + s->name_len, s->b64, s->b64_len);
			n += line;
			buf[n - 1] = '\n';
			used[j] = 1;
			break;
		}
	}
	rq->note_len = n;
	origin_key(rq->sc.cp.origin, rq->key);
	return KT_OK;
}

/*
 * For step 5: checks the signed checkpoint against the stored state
 * (tlog-witness rules after the 409 test). KT_OK or KT_ERR_VERIFY.
 */
static kt_err
check_consistency(const struct state *st, const struct request *rq,
    char *detail, size_t cap)
{
	const struct kt_checkpoint *cp = &rq->sc.cp;
	struct kt_hash empty;

	kt_hash_empty(&empty);
	if (cp->size == 0 && !kt_hash_eq(&cp->root, &empty)) {
		kt_msg(detail, cap,
		    "a checkpoint of size 0 must have the root "
		    "of the empty tree, SHA-256(\"\")");
		return KT_ERR_VERIFY;
	}
	if (rq->old == 0) {
		if (rq->np != 0) {
			kt_msg(detail, cap,
			    "the consistency proof must be empty "
			    "when the old size is 0");
			return KT_ERR_VERIFY;
		}
		/* A first checkpoint, or growth from the empty tree (whose
		 * root was checked when it was cosigned): consistent. */
		return KT_OK;
	}
	/* old > 0 here, and old == st->size (else 409), so st->found. */
	if (rq->old == cp->size) {
		if (!kt_hash_eq(&st->root, &cp->root)) {
			kt_msg(detail, cap,
			    "the checkpoint has the size of the "
			    "latest cosigned checkpoint but a different root: "
			    "the log forked");
			return KT_ERR_VERIFY;
		}
		if (rq->np != 0) {
			kt_msg(detail, cap,
			    "the consistency proof must be empty "
			    "when the old size equals the checkpoint size");
			return KT_ERR_VERIFY;
		}
		return KT_OK;
	}
	if (kt_merkle_verify_consistency(rq->old, cp->size, rq->proof, rq->np,
	        &st->root, &cp->root) != KT_OK) {
		kt_msg(detail, cap,
		    "the consistency proof from size %llu to %llu "
		    "does not verify against the latest cosigned root",
		    (unsigned long long)rq->old, (unsigned long long)cp->size);
		return KT_ERR_VERIFY;
	}
	return KT_OK;
}

/*
 * Step 5, inside the write transaction. The old size must be the size of
 * the latest cosigned checkpoint (409, with that size in *latest_size),
 * and the new checkpoint consistent with it (422).
 */
static kt_err
check_state(struct kt_witness *w, MDB_txn *txn, const struct request *rq,
    uint64_t *latest_size, char *detail, size_t cap)
{
	struct state st;
	kt_err err;

	err = state_get(w, txn, rq->key, &st, detail, cap);
	if (err != KT_OK)
		return err;
	if (rq->old != st.size) {
		*latest_size = st.size;
		kt_msg(detail, cap,
		    "the old size %llu is not the size of the "
		    "latest checkpoint this witness cosigned for \"%s\", %llu",
		    (unsigned long long)rq->old, rq->sc.cp.origin,
		    (unsigned long long)st.size);
		return KT_ERR_CONFLICT;
	}
	if (rq->audited &&
	    (st.size != rq->from_size || st.pos_len != rq->from_len ||
	        (st.pos_len > 0 &&
	            memcmp(st.pos, rq->from, st.pos_len) != 0))) {
		/* Another request cosigned while this one audited. */
		*latest_size = st.size;
		kt_msg(detail, cap,
		    "the witness cosigned another checkpoint of \"%s\" while "
		    "auditing this one; submit again",
		    rq->sc.cp.origin);
		return KT_ERR_CONFLICT;
	}
	return check_consistency(&st, rq, detail, cap);
}

/*
 * For an audited log, before the write transaction: the stored state is
 * read (the consistency checks run on it, so a checkpoint refused anyway
 * is not audited) and the auditor brings its position to the checkpoint.
 * The write transaction then cosigns only if the state is still the one
 * audited from. A request whose old size is not the stored one is left
 * to the 409 of check_state.
 */
static kt_err
audit_step(struct kt_witness *w, struct request *rq, char *detail, size_t cap)
{
	MDB_txn *txn = NULL;
	struct state st;
	kt_err err;
	int rc;

	if ((rc = mdb_txn_begin(w->env, NULL, MDB_RDONLY, &txn)) != 0) {
		kt_msg(detail, cap, "lmdb: mdb_txn_begin: %s",
		    mdb_strerror(rc));
		return KT_ERR_IO;
	}
	err = state_get(w, txn, rq->key, &st, detail, cap);
	if (err == KT_OK && rq->old == st.size)
		err = check_consistency(&st, rq, detail, cap);
	if (err == KT_OK && st.pos_len <= sizeof(rq->from)) {
		rq->from_size = st.size;
		rq->from_len = st.pos_len;
		if (st.pos_len > 0) /* none before the first cosignature */
			memcpy(rq->from, st.pos, st.pos_len);
	}
	mdb_txn_abort(txn);
	if (err != KT_OK || rq->old != rq->from_size)
		return err;
	rq->audited = 1;
	return w->audit.audit(w->audit.ctx, rq->sc.cp.origin, rq->note_buf,
	    rq->note_buf_len, rq->from, rq->from_len, rq->pos, &rq->pos_len,
	    detail, cap);
}

/*
 * Step 6. Cosigns the checkpoint text at `now` into ans->cosig (not yet
 * handed out: ans->cosig_len stays 0) and completes the record: header,
 * kept note, our cosignature line.
 */
static kt_err
cosign(const struct kt_witness *w, struct request *rq, uint64_t now,
    struct kt_witness_answer *ans)
{
	size_t line_len = 0;
	kt_err err;

	err = kt_cosig_sign(w->signer, rq->note.text, rq->note.text_len, now,
	    ans->cosig, sizeof(ans->cosig), &line_len);
	if (err != KT_OK) {
		kt_msg(ans->detail, sizeof(ans->detail), "cosigning: %s",
		    kt_strerror(err));
		return KT_ERR_INTERNAL;
	}
	if (rq->note_len + line_len > KT_WITNESS_NOTE_MAX) {
		kt_msg(ans->detail, sizeof(ans->detail),
		    "the checkpoint note is too large");
		return KT_ERR_TOO_LARGE;
	}
	memcpy(rq->record + STATE_HDR + rq->note_len, ans->cosig, line_len);
	rq->cosig_len = line_len;
	rq->record[0] = STATE_FORMAT;
	if (rq->audited) {
		uint8_t *q = rq->record + STATE_HDR + rq->note_len + line_len;

		memcpy(q, rq->pos, rq->pos_len);
		kt_put_be16(q + rq->pos_len, (uint16_t)rq->pos_len);
		rq->tail_len = rq->pos_len + 2;
		rq->record[0] = STATE_FORMAT_AUDIT;
	}
	kt_put_be64(rq->record + 1, rq->sc.cp.size);
	memcpy(rq->record + 9, rq->sc.cp.root.b, KT_HASH_LEN);
	return KT_OK;
}

/*
 * Step 7. Writes the record and commits the transaction, which LMDB syncs
 * to disk. Once the commit is tried, *txn is NULL (LMDB has freed it);
 * if the write fails before, *txn is left for the caller to abort.
 */
static kt_err
store(struct kt_witness *w, MDB_txn **txn, struct request *rq, char *detail,
    size_t cap)
{
	MDB_val k = { KT_HASH_LEN, rq->key };
	MDB_val v = { STATE_HDR + rq->note_len + rq->cosig_len + rq->tail_len,
		rq->record };
	int rc;

	if ((rc = mdb_put(*txn, w->dbi, &k, &v, 0)) != 0) {
		kt_msg(detail, cap, "lmdb: mdb_put: %s", mdb_strerror(rc));
		return KT_ERR_IO;
	}
	rc = mdb_txn_commit(*txn);
	*txn = NULL;
	if (rc != 0) {
		kt_msg(detail, cap, "lmdb: mdb_txn_commit: %s",
		    mdb_strerror(rc));
		return KT_ERR_IO;
	}
	return KT_OK;
}

kt_err
kt_witness_add_checkpoint(struct kt_witness *w, const char *body, size_t len,
    uint64_t now, struct kt_witness_answer *ans)
{
	struct request *rq = NULL;
	char *detail = ans->detail;
	const size_t dcap = sizeof(ans->detail);
	MDB_txn *txn = NULL;
	kt_err err;
	int rc;

	ans->cosig[0] = '\0';
	ans->cosig_len = 0;
	ans->latest_size = 0;
	ans->detail[0] = '\0';
	if (len > KT_WITNESS_BODY_MAX) {
		kt_msg(detail, dcap, "the body exceeds %d bytes",
		    KT_WITNESS_BODY_MAX);
		return KT_ERR_TOO_LARGE;
	}
	rq = calloc(1, sizeof(*rq));
	if (rq == NULL) {
		kt_msg(detail, dcap, "out of memory");
		return KT_ERR_NOMEM;
	}
	err = parse_request(body, len, rq, detail, dcap);
	if (err == KT_OK)
		err = verify_log_signature(w, rq, detail, dcap);
	if (err == KT_OK)
		err = check_old_size(rq, detail, dcap);
	if (err == KT_OK)
		err = keep_note(rq, detail, dcap);
	if (err == KT_OK && w->have_audit &&
	    w->audit.audits(w->audit.ctx, rq->sc.cp.origin))
		err = audit_step(w, rq, detail, dcap);
	if (err != KT_OK)
		goto out;
	/*
	 * The critical section: read the latest state, check, cosign, write
	 * and commit in one write transaction. LMDB serialises writers (a
	 * process-shared mutex), so no other request can slip between the
	 * check and the update.
	 */
	if ((rc = mdb_txn_begin(w->env, NULL, 0, &txn)) != 0) {
		kt_msg(detail, dcap, "lmdb: mdb_txn_begin: %s",
		    mdb_strerror(rc));
		err = KT_ERR_IO;
		goto out;
	}
	err = check_state(w, txn, rq, &ans->latest_size, detail, dcap);
	if (err == KT_OK)
		err = cosign(w, rq, now, ans);
	if (err == KT_OK)
		err = store(w, &txn, rq, detail, dcap);
	/* Committed and synced: only now may the cosignature leave. */
	if (err == KT_OK)
		ans->cosig_len = rq->cosig_len;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (err != KT_OK) {
		ans->cosig[0] = '\0';
		ans->cosig_len = 0;
	}
	free(rq);
	return err;
}

/* ---- gossip ------------------------------------------------------------- */

kt_err
kt_witness_get_checkpoint(struct kt_witness *w,
    const uint8_t origin_hash[KT_HASH_LEN], char *buf, size_t cap,
    size_t *out_len)
{
	MDB_txn *txn = NULL;
	struct state st;
	kt_err err;
	int rc;

	*out_len = 0;
	if ((rc = mdb_txn_begin(w->env, NULL, MDB_RDONLY, &txn)) != 0)
		return KT_ERR_IO;
	err = state_get(w, txn, origin_hash, &st, NULL, 0);
	if (err != KT_OK)
		goto out;
	if (!st.found) {
		err = KT_ERR_NOT_FOUND;
		goto out;
	}
	if (st.note_len + 1 > cap) {
		err = KT_ERR_TOO_LARGE;
		goto out;
	}
	/* st.note borrows from the transaction: copy before it ends. */
	memcpy(buf, st.note, st.note_len);
	buf[st.note_len] = '\0';
	*out_len = st.note_len;
out:
	mdb_txn_abort(txn);
	return err;
}

kt_err
kt_witness_parse_get_path(const char *path, size_t len,
    uint8_t origin_hash[KT_HASH_LEN])
{
	static const char suffix[] = "/checkpoint";
	const size_t hexlen = 2 * KT_HASH_LEN;

	if (len != hexlen + sizeof(suffix) - 1 ||
	    memcmp(path + hexlen, suffix, sizeof(suffix) - 1) != 0)
		return KT_ERR_MALFORMED;
	/* Lowercase only: one canonical URL per log. */
	for (size_t i = 0; i < hexlen; i++)
		if (!((path[i] >= '0' && path[i] <= '9') ||
		        (path[i] >= 'a' && path[i] <= 'f')))
			return KT_ERR_MALFORMED;
	if (sodium_hex2bin(origin_hash, KT_HASH_LEN, path, hexlen, NULL, NULL,
	        NULL) != 0)
		return KT_ERR_MALFORMED;
	return KT_OK;
}
