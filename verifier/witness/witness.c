/*
 * witness.c: kt-witness logic, C2SP tlog-witness add-checkpoint over LMDB.
 *
 * State: one LMDB record per witnessed origin, keyed by SHA-256(origin):
 *
 *   u8   format (1)
 *   u64  size of the latest cosigned checkpoint, big-endian
 *   32   its root hash
 *   ...  the cosigned note: checkpoint text, blank line, the log's verified
 *        signature lines, this witness's cosignature line
 *
 * The only file of kt-witness that includes lmdb.h; MDB_* codes are
 * translated to kt_err here with a detail message.
 */
#include "witness.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <sodium.h>

#include "kt/b64.h"
#include "kt/bytes.h"
#include "kt/checkpoint.h"

#define STATE_FORMAT 1
#define STATE_HDR (1 + 8 + KT_HASH_LEN)
#define HASH_B64_LEN KT_B64_LEN(KT_HASH_LEN) /* 44 */
#define MAX_LOGS 256          /* trusted log keys on one witness */
#define MAX_KEYS_PER_ORIGIN 16
/* Sparse on disk; one record is at most ~70 KB, so this holds thousands. */
#define MAP_SIZE ((size_t)1 << 30)

struct kt_witness {
	MDB_env *env;
	MDB_dbi dbi;
	const struct kt_signer *signer;  /* borrowed */
	struct kt_verifier self;
	size_t nlogs;
	struct kt_verifier logs[];       /* flexible: nlogs entries */
};

/* ---- helpers ------------------------------------------------------------ */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void
say(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

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
		say(detail, cap, "between 1 and %d log keys are needed",
		    MAX_LOGS);
		return KT_ERR_RANGE;
	}
	w = calloc(1, sizeof(*w) + nlogs * sizeof(w->logs[0]));
	if (w == NULL) {
		say(detail, cap, "out of memory");
		return KT_ERR_NOMEM;
	}
	w->signer = signer;
	kt_signer_verifier(signer, &w->self);
	if (w->self.type != KT_KEY_COSIG) {
		say(detail, cap, "the witness key is not a cosignature "
		    "(type 0x04) key");
		err = KT_ERR_MALFORMED;
		goto out;
	}
	for (size_t i = 0; i < nlogs; i++) {
		if (logs[i].type != KT_KEY_ED25519) {
			say(detail, cap, "log key %s is not an Ed25519 "
			    "(type 0x01) key", logs[i].name);
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
	say(detail, cap, "lmdb: %s: %s", dir, mdb_strerror(rc));
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
kt_witness_verifier(const struct kt_witness *w, struct kt_verifier *out)
{
	*out = w->self;
}

/* ---- request body ------------------------------------------------------- */

/*
 * C2SP tlog-witness request body: "old <N>\n", 0..63 lines of one base64
 * hash each, "\n", then the signed checkpoint. Sets *note_off to where the
 * note starts. Strict: no leading zeros, canonical base64, nothing skipped.
 */
static kt_err
parse_body(const char *b, size_t len, uint64_t *old, struct kt_hash *proof,
    size_t *np, size_t *note_off, char *detail, size_t cap)
{
	size_t p = 4, start;
	uint64_t v = 0;

	if (len < 4 || memcmp(b, "old ", 4) != 0) {
		say(detail, cap, "the body must start with \"old <size>\\n\"");
		return KT_ERR_MALFORMED;
	}
	start = p;
	while (p < len && b[p] >= '0' && b[p] <= '9') {
		unsigned d = (unsigned)(b[p] - '0');

		if (v > (UINT64_MAX - d) / 10) {
			say(detail, cap, "the old size overflows 64 bits");
			return KT_ERR_MALFORMED;
		}
		v = v * 10 + d;
		p++;
	}
	if (p == start || p >= len || b[p] != '\n' ||
	    (b[start] == '0' && p - start > 1)) {
		say(detail, cap, "the old size must be a decimal number without "
		    "leading zeros, followed by a newline");
		return KT_ERR_MALFORMED;
	}
	p++;
	*old = v;

	*np = 0;
	for (;;) {
		const char *nl;
		size_t bin_len = 0;

		if (p >= len) {
			say(detail, cap, "the body ends before the empty line "
			    "that precedes the checkpoint");
			return KT_ERR_MALFORMED;
		}
		if (b[p] == '\n') {
			p++;
			break;
		}
		if (*np == KT_WITNESS_MAX_PROOF) {
			say(detail, cap, "more than %d consistency proof lines",
			    KT_WITNESS_MAX_PROOF);
			return KT_ERR_MALFORMED;
		}
		nl = memchr(b + p, '\n', len - p);
		/* A SHA-256 hash is exactly 44 base64 characters. */
		if (nl == NULL || (size_t)(nl - (b + p)) != HASH_B64_LEN ||
		    kt_b64_decode(b + p, HASH_B64_LEN, proof[*np].b,
		    KT_HASH_LEN, &bin_len) != KT_OK || bin_len != KT_HASH_LEN) {
			say(detail, cap, "consistency proof line %zu is not one "
			    "base64 SHA-256 hash", *np + 1);
			return KT_ERR_MALFORMED;
		}
		(*np)++;
		p += HASH_B64_LEN + 1;
	}
	*note_off = p;
	return KT_OK;
}

/* ---- state records ------------------------------------------------------ */

struct state {
	int found;
	uint64_t size;
	struct kt_hash root;
	const char *note;   /* borrows from the LMDB transaction */
	size_t note_len;
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
		say(detail, cap, "lmdb: mdb_get: %s", mdb_strerror(rc));
		return KT_ERR_IO;
	}
	p = v.mv_data;
	if (v.mv_size < STATE_HDR || p[0] != STATE_FORMAT) {
		say(detail, cap, "the witness state record is corrupt");
		return KT_ERR_IO;
	}
	st->found = 1;
	st->size = kt_get_be64(p + 1);
	memcpy(st->root.b, p + 9, KT_HASH_LEN);
	st->note = (const char *)p + STATE_HDR;
	st->note_len = v.mv_size - STATE_HDR;
	return KT_OK;
}

/* ---- add-checkpoint ----------------------------------------------------- */

/*
 * The note to keep for gossip: text, blank line, the signature lines of the
 * trusted log keys that verified (one per key; unknown lines are dropped, so
 * a submitter cannot make us store junk), then room for our cosignature.
 */
static kt_err
build_note(const struct kt_note *note, const struct kt_verifier *vs,
    const uint8_t *ok, size_t nv, char *buf, size_t cap, size_t *out_len)
{
	size_t n = 0;
	uint8_t used[MAX_KEYS_PER_ORIGIN] = { 0 };

	if (note->text_len + 1 > cap)
		return KT_ERR_TOO_LARGE;
	memcpy(buf, note->text, note->text_len);
	n = note->text_len;
	buf[n++] = '\n';
	for (size_t i = 0; i < note->nsigs; i++) {
		const struct kt_note_sig *s = &note->sigs[i];

		for (size_t j = 0; j < nv; j++) {
			size_t line = 4 + s->name_len + 1 + s->b64_len + 1;

			if (!ok[j] || used[j] ||
			    s->name_len != strlen(vs[j].name) ||
			    memcmp(s->name, vs[j].name, s->name_len) != 0 ||
			    memcmp(s->id, vs[j].id, KT_KEY_ID_LEN) != 0)
				continue;
			if (n + line > cap)
				return KT_ERR_TOO_LARGE;
			memcpy(buf + n, "\xe2\x80\x94 ", 4);
			n += 4;
			memcpy(buf + n, s->name, s->name_len);
			n += s->name_len;
			buf[n++] = ' ';
			memcpy(buf + n, s->b64, s->b64_len);
			n += s->b64_len;
			buf[n++] = '\n';
			used[j] = 1;
			break;
		}
	}
	*out_len = n;
	return KT_OK;
}

/* Checks the submitted checkpoint against the stored state (tlog-witness
 * rules after the 409 test). KT_OK or KT_ERR_VERIFY with a detail. */
static kt_err
check_consistency(const struct state *st, uint64_t old,
    const struct kt_checkpoint *cp, const struct kt_hash *proof, size_t np,
    char *detail, size_t cap)
{
	struct kt_hash empty;

	kt_hash_empty(&empty);
	if (cp->size == 0 && sodium_memcmp(cp->root.b, empty.b,
	    KT_HASH_LEN) != 0) {
		say(detail, cap, "a checkpoint of size 0 must have the root "
		    "of the empty tree, SHA-256(\"\")");
		return KT_ERR_VERIFY;
	}
	if (old == 0) {
		if (np != 0) {
			say(detail, cap, "the consistency proof must be empty "
			    "when the old size is 0");
			return KT_ERR_VERIFY;
		}
		/* A first checkpoint, or growth from the empty tree (whose
		 * root was checked when it was cosigned): consistent. */
		return KT_OK;
	}
	/* old > 0 here, and old == st->size (else 409), so st->found. */
	if (old == cp->size) {
		if (sodium_memcmp(st->root.b, cp->root.b, KT_HASH_LEN) != 0) {
			say(detail, cap, "the checkpoint has the size of the "
			    "latest cosigned checkpoint but a different root: "
			    "the log forked");
			return KT_ERR_VERIFY;
		}
		if (np != 0) {
			say(detail, cap, "the consistency proof must be empty "
			    "when the old size equals the checkpoint size");
			return KT_ERR_VERIFY;
		}
		return KT_OK;
	}
	if (kt_merkle_verify_consistency(old, cp->size, proof, np, &st->root,
	    &cp->root) != KT_OK) {
		say(detail, cap, "the consistency proof from size %llu to %llu "
		    "does not verify against the latest cosigned root",
		    (unsigned long long)old, (unsigned long long)cp->size);
		return KT_ERR_VERIFY;
	}
	return KT_OK;
}

kt_err
kt_witness_add_checkpoint(struct kt_witness *w, const char *body, size_t len,
    uint64_t now, struct kt_witness_answer *ans)
{
	struct kt_hash proof[KT_WITNESS_MAX_PROOF];
	struct kt_note *note = NULL;
	struct kt_checkpoint *cp = NULL;
	struct kt_verifier vs[MAX_KEYS_PER_ORIGIN];
	uint8_t ok[MAX_KEYS_PER_ORIGIN];
	uint8_t key[KT_HASH_LEN];
	uint8_t *val = NULL;
	char *detail = ans->detail;
	const size_t dcap = sizeof(ans->detail);
	size_t np = 0, note_off = 0, nv = 0, note_len = 0, line_len = 0;
	uint64_t old = 0;
	MDB_txn *txn = NULL;
	struct state st;
	kt_err err;
	int rc;

	ans->cosig[0] = '\0';
	ans->cosig_len = 0;
	ans->latest_size = 0;
	ans->detail[0] = '\0';

	if (len > KT_WITNESS_BODY_MAX) {
		say(detail, dcap, "the body exceeds %d bytes",
		    KT_WITNESS_BODY_MAX);
		return KT_ERR_TOO_LARGE;
	}
	err = parse_body(body, len, &old, proof, &np, &note_off, detail, dcap);
	if (err != KT_OK)
		return err;

	/* kt_note and kt_checkpoint are a few KB each: keep them off the
	 * stacks of HTTP worker threads. */
	note = malloc(sizeof(*note));
	cp = malloc(sizeof(*cp));
	/* The stored record: header, note, our cosignature line. */
	val = malloc(STATE_HDR + KT_WITNESS_NOTE_MAX);
	if (note == NULL || cp == NULL || val == NULL) {
		say(detail, dcap, "out of memory");
		err = KT_ERR_NOMEM;
		goto out;
	}
	err = kt_note_parse(body + note_off, len - note_off, note);
	if (err != KT_OK) {
		say(detail, dcap, "the checkpoint is not a valid signed note "
		    "(C2SP signed-note): %s", kt_strerror(err));
		err = KT_ERR_MALFORMED;
		goto out;
	}
	err = kt_checkpoint_parse(note->text, note->text_len, cp);
	if (err != KT_OK) {
		say(detail, dcap, "the note is not a valid checkpoint "
		    "(C2SP tlog-checkpoint): %s", kt_strerror(err));
		err = KT_ERR_MALFORMED;
		goto out;
	}

	for (size_t i = 0; i < w->nlogs && nv < MAX_KEYS_PER_ORIGIN; i++)
		if (strcmp(w->logs[i].name, cp->origin) == 0)
			vs[nv++] = w->logs[i];
	if (nv == 0) {
		say(detail, dcap, "this witness does not witness the log "
		    "with origin \"%s\"", cp->origin);
		err = KT_ERR_NOT_FOUND;
		goto out;
	}
	err = kt_note_verify(note, vs, nv, ok, NULL);
	if (err == KT_ERR_UNKNOWN_KEY) {
		say(detail, dcap, "the checkpoint carries no signature by a "
		    "trusted key of log \"%s\"", cp->origin);
		goto out;
	}
	if (err == KT_ERR_VERIFY) {
		say(detail, dcap, "a signature by a trusted key of log \"%s\" "
		    "does not verify", cp->origin);
		err = KT_ERR_PERM;
		goto out;
	}
	if (err != KT_OK) {
		say(detail, dcap, "verifying the note: %s", kt_strerror(err));
		err = KT_ERR_INTERNAL;
		goto out;
	}
	if (old > cp->size) {
		say(detail, dcap, "the old size %llu is larger than the "
		    "checkpoint size %llu", (unsigned long long)old,
		    (unsigned long long)cp->size);
		err = KT_ERR_RANGE;
		goto out;
	}
	err = build_note(note, vs, ok, nv, (char *)val + STATE_HDR,
	    KT_WITNESS_NOTE_MAX, &note_len);
	if (err != KT_OK) {
		say(detail, dcap, "the checkpoint note is too large");
		goto out;
	}
	origin_key(cp->origin, key);

	/*
	 * The critical section: read the latest state, check, cosign, write
	 * and commit in one write transaction. LMDB serialises writers (a
	 * process-shared mutex), so no other request can slip between the
	 * check and the update.
	 */
	if ((rc = mdb_txn_begin(w->env, NULL, 0, &txn)) != 0) {
		say(detail, dcap, "lmdb: mdb_txn_begin: %s", mdb_strerror(rc));
		err = KT_ERR_IO;
		goto out;
	}
	err = state_get(w, txn, key, &st, detail, dcap);
	if (err != KT_OK)
		goto out;
	if (old != st.size) {
		ans->latest_size = st.size;
		say(detail, dcap, "the old size %llu is not the size of the "
		    "latest checkpoint this witness cosigned for \"%s\", %llu",
		    (unsigned long long)old, cp->origin,
		    (unsigned long long)st.size);
		err = KT_ERR_CONFLICT;
		goto out;
	}
	err = check_consistency(&st, old, cp, proof, np, detail, dcap);
	if (err != KT_OK)
		goto out;

	err = kt_cosig_sign(w->signer, note->text, note->text_len, now,
	    ans->cosig, sizeof(ans->cosig), &line_len);
	if (err != KT_OK) {
		say(detail, dcap, "cosigning: %s", kt_strerror(err));
		err = KT_ERR_INTERNAL;
		goto out;
	}
	if (note_len + line_len > KT_WITNESS_NOTE_MAX) {
		say(detail, dcap, "the checkpoint note is too large");
		err = KT_ERR_TOO_LARGE;
		goto out;
	}
	memcpy(val + STATE_HDR + note_len, ans->cosig, line_len);
	val[0] = STATE_FORMAT;
	kt_put_be64(val + 1, cp->size);
	memcpy(val + 9, cp->root.b, KT_HASH_LEN);
	{
		MDB_val k = { KT_HASH_LEN, key };
		MDB_val v = { STATE_HDR + note_len + line_len, val };

		if ((rc = mdb_put(txn, w->dbi, &k, &v, 0)) != 0) {
			say(detail, dcap, "lmdb: mdb_put: %s",
			    mdb_strerror(rc));
			err = KT_ERR_IO;
			goto out;
		}
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		say(detail, dcap, "lmdb: mdb_txn_commit: %s", mdb_strerror(rc));
		err = KT_ERR_IO;
		goto out;
	}
	/* Committed and synced: only now may the cosignature leave. */
	ans->cosig_len = line_len;
	err = KT_OK;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (err != KT_OK) {
		ans->cosig[0] = '\0';
		ans->cosig_len = 0;
	}
	free(val);
	free(cp);
	free(note);
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
