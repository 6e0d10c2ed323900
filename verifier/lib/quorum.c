/*
 * quorum.c: the witness policy. A log that signs two histories can show
 * each to a different client; witnesses cosign only checkpoints consistent
 * with what they cosigned before, so a client that demands cosignatures
 * from a quorum of independent witnesses sees the history they saw
 * (C2SP tlog-cosignature; docs/verify.md, "Witnesses").
 *
 * Staleness: a log that freezes (keeps serving an old, consistent
 * checkpoint) is visible only through time. The checkpoint's *witnessed
 * time* is the quorum-th newest valid cosignature time: the moment by
 * which `quorum` witnesses had seen this tree (the newest alone would let
 * one colluding witness make a frozen view look fresh).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kt/fmt.h"
#include "verify_internal.h"

uint64_t
kt_vquorum_now(const struct kt_verify *v)
{
	time_t t;

	if (v->now != 0)
		return v->now;
	t = time(NULL);
	return t < 0 ? 0 : (uint64_t)t;
}

void
kt_verify_set_now(struct kt_verify *v, uint64_t now)
{
	v->now = now;
}

kt_err
kt_vquorum_count(const char *note, size_t len, const struct kt_verifier *vk,
    const struct kt_vwitnesses *w, struct kt_vquorum *q, char *detail,
    size_t dlen)
{
	size_t nwit = w->n;
	struct kt_verifier *vs = NULL;
	struct kt_note *n = NULL;
	uint8_t ok[1 + KT_VERIFY_WITNESS_MAX];
	uint64_t times[1 + KT_VERIFY_WITNESS_MAX], got[KT_VERIFY_WITNESS_MAX];
	kt_err e;

	memset(q, 0, sizeof(*q));
	if (nwit > KT_VERIFY_WITNESS_MAX)
		return KT_ERR_RANGE;
	vs = malloc((1 + nwit) * sizeof(*vs));
	n = malloc(sizeof(*n));
	if (vs == NULL || n == NULL) {
		e = KT_ERR_NOMEM;
		goto out;
	}
	vs[0] = *vk;
	memcpy(vs + 1, w->keys, nwit * sizeof(*vs));
	e = kt_note_open(note, len, vs, 1 + nwit, n, ok, times);
	if (e == KT_ERR_MALFORMED || e == KT_ERR_TOO_LARGE) {
		kt_msg(detail, dlen,
		    "checkpoint is not a well-formed signed "
		    "note");
		e = KT_ERR_MALFORMED;
		goto out;
	}
	if (e == KT_ERR_VERIFY) {
		/* A line names the log or a configured witness (name and key
		 * ID) and its signature fails: forged, or damaged in transit;
		 * either way the note is not what those keys signed. */
		kt_msg(detail, dlen,
		    "a signature line by the log or a "
		    "configured witness does not verify");
		goto out;
	}
	if (e != KT_OK || !ok[0]) {
		/* No line of the log key (witnesses' lines may be there). */
		kt_vcheck_unsigned(n, vk, detail, dlen);
		e = KT_ERR_UNKNOWN_KEY;
		goto out;
	}
	for (size_t i = 0; i < nwit; i++)
		if (ok[1 + i]) {
			/* Insertion sort, newest first (at most 32). */
			size_t j = q->valid++;
			while (j > 0 && got[j - 1] < times[1 + i]) {
				got[j] = got[j - 1];
				j--;
			}
			got[j] = times[1 + i];
		}
	if (q->valid > 0) {
		q->newest = got[0];
		q->witnessed = w->quorum >= 1 && q->valid >= w->quorum
		    ? got[w->quorum - 1]
		    : got[0];
	}
	e = KT_OK;
out:
	free(vs);
	free(n);
	return e;
}

/* t (seconds since the epoch) as an ISO 8601 UTC time, or "" when it
 * has none (a year past the C library's range, from a witness's clock). */
static void
iso_time(uint64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}

enum kt_verify_outcome
kt_vquorum_check(struct kt_verify *v, const struct kt_signed_checkpoint *sc,
    struct kt_vquorum *q, struct kt_vresult *r)
{
	char d[256], ts[32];
	json_t *o;

	memset(q, 0, sizeof(*q));
	if (v->wit.n == 0)
		return KT_VERIFY_OK;
	if (kt_vquorum_count(sc->note, sc->note_len, &v->vk, &v->wit, q, d,
	        sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED, "checkpoint rejected: %s",
		    d);
	o = json_pack("{s:I,s:I}", "cosignatures", (json_int_t)q->valid,
	    "quorum", (json_int_t)v->wit.quorum);
	if (q->valid > 0) {
		iso_time(q->witnessed, ts, sizeof(ts));
		json_object_set_new(o, "witnessed", json_string(ts));
	}
	json_object_set_new(r->info, "witnesses", o);
	if (q->valid < v->wit.quorum)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "checkpoint rejected: it "
		    "carries %zu valid cosignature(s) from the %zu configured "
		    "witnesses, the quorum is %u (a checkpoint the witnesses "
		    "did not see may be a split view)",
		    q->valid, v->wit.n, v->wit.quorum);
	v->seen_witnessed = q->witnessed;
	return KT_VERIFY_OK;
}

enum kt_verify_outcome
kt_vquorum_stale(struct kt_verify *v, struct kt_vresult *r,
    enum kt_verify_outcome status)
{
	json_t *o = json_object_get(r->info, "witnesses");
	uint64_t now = kt_vquorum_now(v), age;
	char ts[32];

	if (v->wit.n == 0 || v->seen_witnessed == 0)
		return status;
	/* A cosignature from the future (clock skew) is not stale. */
	age = now > v->seen_witnessed ? now - v->seen_witnessed : 0;
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(r->info, "witnesses", o);
	}
	iso_time(v->seen_witnessed, ts, sizeof(ts));
	json_object_set_new(o, "witnessed", json_string(ts));
	json_object_set_new(o, "age_seconds", json_integer((json_int_t)age));
	json_object_set_new(o, "max_age_seconds",
	    json_integer((json_int_t)v->wit.max_age));
	json_object_set_new(o, "stale", json_boolean(age > v->wit.max_age));
	if (age <= v->wit.max_age || status != KT_VERIFY_OK)
		return status;
	return kt_vres_append(r, KT_VERIFY_STALE,
	    "; STALE: the checkpoint was "
	    "last witnessed at %s, %" PRIu64 " s ago (max %" PRIu64 " s): the "
	    "log may be freezing this client's view",
	    ts, age, v->wit.max_age);
}
