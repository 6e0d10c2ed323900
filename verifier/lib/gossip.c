/*
 * gossip.c: `kt-verify gossip --peer URL...`, comparing this client's view
 * of the log with other views: witnesses' latest cosigned checkpoints
 * (GET /<hex SHA-256(origin)>/checkpoint, C2SP tlog-witness) and other
 * monitors' published views (`kt-verify view --out FILE`, files or
 * file:// URLs). A split view is caught as soon as two views that cannot
 * both be true meet (threats.md, "split view / fork").
 *
 * Soundness: every view must carry the log's own signature (peers are as
 * untrusted as the log; cosignatures are informative here). Two signed
 * views of one size with different roots are a fork proven on the spot.
 * Views of different sizes are related with the log's consistency proof
 * (smaller to larger). Append-only consistency is transitive (both smaller
 * trees are prefixes of the larger), so each view is checked against the
 * largest one only. A failing proof becomes fork evidence (provable when
 * this client's material pins a differing node, else a record); a log that
 * refuses a proof gets a fork file only when the material proves it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "verify_internal.h"

struct view {
	const char *from;    /* "stored" or the peer string */
	struct kt_buf note;
	struct kt_checkpoint cp;
};

/* Reads a view file (at most KT_NOTE_MAX bytes, a regular file). */
static int
read_peer_file(const char *path, struct kt_buf *out, char *d, size_t dlen)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	size_t n;

	if (fp == NULL) {
		snprintf(d, dlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > KT_NOTE_MAX) {
		snprintf(d, dlen, "%s: not a regular file of at most %d bytes",
		    path, KT_NOTE_MAX);
		fclose(fp);
		return -1;
	}
	out->cap = (size_t)st.st_size + 1;
	out->p = malloc(out->cap);
	if (out->p == NULL) {
		fclose(fp);
		snprintf(d, dlen, "out of memory");
		return -1;
	}
	n = fread(out->p, 1, (size_t)st.st_size, fp);
	fclose(fp);
	if (n != (size_t)st.st_size) {
		snprintf(d, dlen, "%s: short read", path);
		kt_buf_free(out);
		return -1;
	}
	out->p[n] = '\0';
	out->len = n;
	return 0;
}

/*
 * GET a peer URL. A URL with no path (or "/") is a witness base URL: the
 * tlog-witness gossip path for this log's origin is appended.
 */
static int
fetch_peer_url(struct kt_verify *v, const char *url, struct kt_buf *out,
    int *net, char *d, size_t dlen)
{
	struct kt_fetch *f = NULL;
	const char *host = strstr(url, "://"), *p;
	char base[KT_URL_MAX], path[96];
	uint8_t h[crypto_hash_sha256_BYTES];
	long status = 0;
	kt_err e;
	int rc = -1;

	*net = 0;
	if (host == NULL || strlen(url) >= sizeof(base)) {
		snprintf(d, dlen, "%s: bad URL", url);
		return -1;
	}
	p = strchr(host + 3, '/');
	snprintf(base, sizeof(base), "%s", url);
	path[0] = '\0';
	if (p == NULL || strcmp(p, "/") == 0) {
		static const char hex[] = "0123456789abcdef";
		size_t o = 1;

		if (p != NULL)
			base[p - url] = '\0';
		crypto_hash_sha256(h, (const uint8_t *)v->vk.name,
		    strlen(v->vk.name));
		path[0] = '/';
		for (size_t i = 0; i < sizeof(h); i++) {
			path[o++] = hex[h[i] >> 4];
			path[o++] = hex[h[i] & 15];
		}
		snprintf(path + o, sizeof(path) - o, "/checkpoint");
	}
	if (kt_fetch_open(base, v->connect_s, v->total_s, &f) != KT_OK) {
		snprintf(d, dlen, "%s: HTTP client failed", url);
		return -1;
	}
	e = kt_fetch_get(f, path, KT_CAP_CHECKPOINT, out, &status, d, dlen);
	if (e != KT_OK) {
		*net = e == KT_ERR_NETWORK;
		goto out;
	}
	if (status != 200) {
		snprintf(d, dlen, "%s%s: HTTP %ld", base, path, status);
		*net = 1; /* nothing to judge: the peer has no view for us */
		goto out;
	}
	if (out->len > KT_NOTE_MAX) {
		snprintf(d, dlen, "%s: checkpoint too large", url);
		goto out;
	}
	rc = 0;
out:
	kt_fetch_close(f);
	return rc;
}

static json_t *
view_json(const char *from, const struct kt_checkpoint *cp)
{
	char root[64];

	sodium_bin2base64(root, sizeof(root), cp->root.b, KT_HASH_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	return json_pack("{s:s,s:s,s:I,s:s}", "peer", from, "status", "ok",
	    "size", (json_int_t)cp->size, "root", root);
}

int
kt_verify_gossip(struct kt_verify *v, const char *const *peers,
    size_t npeers, struct kt_vresult *r)
{
	struct view *vw = NULL;
	json_t *pj;
	char d[2 * KT_VERIFY_MSG_MAX];
	size_t nv = 0, ref = 0, nerr = 0, nbad = 0, nunchecked = 0;
	uint64_t before;
	int st, net;

	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	if (npeers == 0 || npeers > KT_VERIFY_PEERS_MAX)
		return kt_vres(r, KT_VERIFY_ERROR, "gossip needs 1 to %d "
		    "--peer", KT_VERIFY_PEERS_MAX);
	vw = calloc(npeers + 1, sizeof(*vw));
	pj = json_array();
	if (vw == NULL || pj == NULL) {
		free(vw);
		json_decref(pj);
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	}
	json_object_set_new(r->info, "peers", pj);
	before = v->have_cp ? v->cp.size : 0;
	if (v->have_cp) {
		vw[0].from = "stored";
		vw[0].cp = v->cp;
		vw[0].note.p = malloc(v->cp_note_len + 1);
		if (vw[0].note.p == NULL) {
			st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
			goto out;
		}
		memcpy(vw[0].note.p, v->cp_note, v->cp_note_len + 1);
		vw[0].note.len = v->cp_note_len;
		nv = 1;
	}

	/* 1. Collect every peer view that carries the log's signature. */
	for (size_t i = 0; i < npeers; i++) {
		struct view *x = &vw[nv];
		const char *p = peers[i];
		struct kt_vquorum q;
		int rc;

		x->from = p;
		net = 0;
		if (strncmp(p, "http://", 7) == 0 ||
		    strncmp(p, "https://", 8) == 0)
			rc = fetch_peer_url(v, p, &x->note, &net, d, sizeof(d));
		else
			rc = read_peer_file(strncmp(p, "file://", 7) == 0 ?
			    p + 7 : p, &x->note, d, sizeof(d));
		if (rc == 0 && kt_vcheck_checkpoint(x->note.p, x->note.len,
		    &v->vk, &x->cp, d, sizeof(d)) != KT_OK)
			rc = -1, net = 0;
		if (rc != 0) {
			/* Unreachable peers are an error (exit 1); a view
			 * that is not signed by the log is a failed
			 * verification (exit 2). Neither says anything
			 * about the log. */
			json_array_append_new(pj, json_pack("{s:s,s:s,s:s}",
			    "peer", p, "status", net || x->note.p == NULL ?
			    "unreachable" : "invalid", "message", d));
			if (net || x->note.p == NULL)
				nerr++;
			else
				nbad++;
			kt_buf_free(&x->note);
			continue;
		}
		{
			json_t *o = view_json(p, &x->cp);
			if (v->nwit > 0) {
				if (kt_vquorum_count(x->note.p, x->note.len,
				    &v->vk, v->wit, v->nwit, v->quorum, &q, d,
				    sizeof(d)) == KT_OK)
					json_object_set_new(o, "cosignatures",
					    json_integer((json_int_t)q.valid));
				else
					json_object_set_new(o, "cosignatures",
					    json_string(d));
			}
			json_array_append_new(pj, o);
		}
		nv++;
	}
	if (nv == (v->have_cp ? 1u : 0u)) {
		st = kt_vres(r, nbad ? KT_VERIFY_FAILED : KT_VERIFY_ERROR,
		    "gossip: no usable peer view (%zu unreachable, %zu not "
		    "signed by the log)", nerr, nbad);
		goto out;
	}

	/* 2. Same size, different roots: proven on the spot, no log. */
	for (size_t i = 0; i < nv; i++)
		for (size_t j = i + 1; j < nv; j++)
			if (vw[i].cp.size == vw[j].cp.size &&
			    !kt_hash_eq(&vw[i].cp.root, &vw[j].cp.root)) {
				char why[256];
				snprintf(why, sizeof(why), "views from %s and "
				    "%s: the log signed two different trees "
				    "of size %" PRIu64, vw[i].from, vw[j].from,
				    vw[i].cp.size);
				st = kt_evidence_fork(v, "fork", vw[i].note.p,
				    vw[i].note.len, &vw[i].cp, vw[j].note.p,
				    vw[j].note.len, &vw[j].cp, why, r);
				goto out;
			}

	/* 3. Every smaller view against the largest, via the log. */
	for (size_t i = 1; i < nv; i++)
		if (vw[i].cp.size > vw[ref].cp.size)
			ref = i;
	json_object_set_new(r->info, "largest", json_integer(
	    (json_int_t)vw[ref].cp.size));
	for (size_t i = 0; i < nv; i++) {
		int dup = 0;

		if (vw[i].cp.size == vw[ref].cp.size)
			continue;
		for (size_t j = 0; j < i; j++)
			dup |= vw[j].cp.size == vw[i].cp.size;
		if (dup)
			continue; /* same size, same root: same tree */
		st = kt_vrelate(v, vw[i].note.p, vw[i].note.len,
		    &vw[i].cp, vw[ref].note.p, vw[ref].note.len, &vw[ref].cp,
		    r);
		if (st == KT_VERIFY_ATTACK || (st == KT_VERIFY_ERROR &&
		    r->evidence[0] != '\0'))
			goto out;
		if (st == KT_VERIFY_FAILED) {
			char why[256];
			snprintf(why, sizeof(why), "the log refuses a "
			    "consistency proof between the views from %s "
			    "(size %" PRIu64 ") and %s (size %" PRIu64 ")",
			    vw[i].from, vw[i].cp.size, vw[ref].from,
			    vw[ref].cp.size);
			st = kt_evidence_fork_provable(v, vw[i].note.p,
			    vw[i].note.len, &vw[i].cp, vw[ref].note.p,
			    vw[ref].note.len, &vw[ref].cp, why, r);
			if (st >= 0)
				goto out;
		}
		if (st != KT_VERIFY_OK)
			nunchecked++;
	}
	if (nunchecked > 0) {
		snprintf(d, sizeof(d), "%s", r->msg);
		st = kt_vres(r, KT_VERIFY_FAILED, "gossip: %zu view(s) could "
		    "not be related to the largest (tree size %" PRIu64 "): "
		    "the log gave no usable consistency proof (%s)", nunchecked,
		    vw[ref].cp.size, d);
		goto out;
	}

	/* 4. A larger consistent view advances this client's own. */
	if (!v->have_cp || vw[ref].cp.size > before) {
		struct kt_vresult tmp;
		struct kt_checkpoint acc;

		kt_vresult_init(&tmp);
		st = kt_vaccept(v, vw[ref].note.p, vw[ref].note.len, &acc,
		    &tmp);
		if (st == KT_VERIFY_ATTACK) {
			kt_vres(r, st, "%s", tmp.msg);
			memcpy(r->evidence, tmp.evidence, sizeof(r->evidence));
			json_object_set(r->info, "evidence",
			    json_object_get(tmp.info, "evidence"));
			kt_vresult_free(&tmp);
			goto out;
		}
		json_object_set_new(r->info, "adopted", json_boolean(st ==
		    KT_VERIFY_OK));
		if (st != KT_VERIFY_OK)
			json_object_set_new(r->info, "not_adopted",
			    json_string(tmp.msg));
		if (json_object_get(tmp.info, "witnesses") != NULL)
			json_object_set(r->info, "witnesses",
			    json_object_get(tmp.info, "witnesses"));
		kt_vresult_free(&tmp);
	}
	if (v->have_cp && v->cp.size > before)
		kt_vres(r, KT_VERIFY_OK, "gossip: %zu view(s) consistent with "
		    "tree size %" PRIu64 "; stored view advanced from %" PRIu64
		    " to %" PRIu64, nv, vw[ref].cp.size, before, v->cp.size);
	else
		kt_vres(r, KT_VERIFY_OK, "gossip: %zu view(s) consistent with "
		    "tree size %" PRIu64 "%s", nv, vw[ref].cp.size,
		    json_is_false(json_object_get(r->info, "adopted")) ?
		    " (the larger view was not adopted: see not_adopted)" : "");
	st = KT_VERIFY_OK;
	snprintf(d, sizeof(d), "%s", r->msg);
	if (nbad > 0)
		st = kt_vres(r, KT_VERIFY_FAILED, "%s; but %zu peer view(s) "
		    "are not signed by the log", d, nbad);
	else if (nerr > 0)
		st = kt_vres(r, KT_VERIFY_ERROR, "%s; but %zu peer(s) were "
		    "unreachable", d, nerr);
	st = kt_vquorum_stale(v, r, st);
out:
	for (size_t i = 0; i <= npeers; i++)
		kt_buf_free(&vw[i].note);
	free(vw);
	return st;
}
