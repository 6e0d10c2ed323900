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

#include "kt/fmt.h"
#include "verify_internal.h"

struct view {
	const char *from; /* "stored" or the peer string */
	struct kt_buf note;
	struct kt_signed_checkpoint sc; /* borrows note */
};

/* Reads a view file (at most KT_NOTE_MAX bytes, a regular file).
 * KT_ERR_IO (out->p stays NULL) with d saying why. */
static kt_err
read_peer_file(const char *path, struct kt_buf *out, char *d, size_t dlen)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	size_t n;

	if (fp == NULL) {
		kt_msg(d, dlen, "%s: %s", path, strerror(errno));
		return KT_ERR_IO;
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > KT_NOTE_MAX) {
		kt_msg(d, dlen, "%s: not a regular file of at most %d bytes",
		    path, KT_NOTE_MAX);
		(void)fclose(fp); /* read-only: nothing to lose */
		return KT_ERR_IO;
	}
	out->cap = (size_t)st.st_size + 1;
	out->p = malloc(out->cap);
	if (out->p == NULL) {
		(void)fclose(fp); /* read-only: nothing to lose */
		kt_msg(d, dlen, "out of memory");
		return KT_ERR_IO;
	}
	n = fread(out->p, 1, (size_t)st.st_size, fp);
	(void)fclose(fp); /* read-only, data already read */
	if (n != (size_t)st.st_size) {
		kt_msg(d, dlen, "%s: short read", path);
		kt_buf_free(out);
		return KT_ERR_IO;
	}
	out->p[n] = '\0';
	out->len = n;
	return KT_OK;
}

/*
 * GET a peer URL. A URL with no path (or "/") is a witness base URL: the
 * tlog-witness gossip path for this log's origin is appended.
 * KT_ERR_NETWORK when the peer cannot be reached or answers with an error
 * status (it has no view for us: nothing to judge); another error when
 * the URL or the answer is unusable. d says why.
 */
static kt_err
fetch_peer_url(struct kt_verify *v, const char *url, struct kt_buf *out,
    char *d, size_t dlen)
{
	struct kt_fetch *f = NULL;
	const char *host = strstr(url, "://"), *p;
	char base[KT_URL_MAX], path[96], hex[crypto_hash_sha256_BYTES * 2 + 1];
	uint8_t h[crypto_hash_sha256_BYTES];
	long status = 0;
	kt_err e;

	if (host == NULL || strlen(url) >= sizeof(base)) {
		kt_msg(d, dlen, "%s: bad URL", url);
		return KT_ERR_MALFORMED;
	}
	p = strchr(host + 3, '/');
	path[0] = '\0';
	e = kt_fmt(base, sizeof(base), "%s", url);
	if (e == KT_OK && (p == NULL || strcmp(p, "/") == 0)) {
		if (p != NULL)
			base[p - url] = '\0';
		crypto_hash_sha256(h, (const uint8_t *)v->vk.name,
		    strlen(v->vk.name));
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		e = kt_fmt(path, sizeof(path), "/%s/checkpoint", hex);
	}
	if (e != KT_OK) {
		/* cannot happen: url's length is checked, path's is fixed */
		kt_msg(d, dlen, "%s: internal: URL too long", url);
		return KT_ERR_INTERNAL;
	}
	if (kt_fetch_open(base, v->connect_s, v->total_s, &f) != KT_OK) {
		kt_msg(d, dlen, "%s: HTTP client failed", url);
		return KT_ERR_INTERNAL;
	}
	e = kt_fetch_get(f, path, KT_CAP_CHECKPOINT, out, &status, d, dlen);
	if (e == KT_OK && status != 200) {
		kt_msg(d, dlen, "%s%s: HTTP %ld", base, path, status);
		e = KT_ERR_NETWORK;
	} else if (e == KT_OK && out->len > KT_NOTE_MAX) {
		kt_msg(d, dlen, "%s: checkpoint too large", url);
		e = KT_ERR_TOO_LARGE;
	}
	kt_fetch_close(f);
	return e;
}

/*
 * Reads peer p's view into x and opens it with the log key: KT_VERIFY_OK;
 * KT_VERIFY_ERROR when the peer cannot be reached or read (nothing to
 * judge); KT_VERIFY_FAILED when what it gave is not a checkpoint the log
 * signed. Neither failure says anything about the log. d says why.
 */
static enum kt_verify_outcome
read_view(struct kt_verify *v, const char *p, struct view *x, char *d,
    size_t dlen)
{
	kt_err e;

	x->from = p;
	if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0)
		e = fetch_peer_url(v, p, &x->note, d, dlen);
	else
		e = read_peer_file(strncmp(p, "file://", 7) == 0 ? p + 7 : p,
		    &x->note, d, dlen);
	if (e == KT_OK &&
	    kt_vcheck_checkpoint(x->note.p, x->note.len, &v->vk, &x->sc, d,
	        dlen) != KT_OK)
		e = KT_ERR_VERIFY;
	if (e == KT_OK)
		return KT_VERIFY_OK;
	return e == KT_ERR_NETWORK || x->note.p == NULL ? KT_VERIFY_ERROR
	                                                : KT_VERIFY_FAILED;
}

static json_t *
view_json(struct kt_verify *v, const struct view *x)
{
	struct kt_vquorum q;
	char root[64], d[2 * KT_VERIFY_MSG_MAX];
	json_t *o;

	sodium_bin2base64(root, sizeof(root), x->sc.cp.root.b, KT_HASH_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	o = json_pack("{s:s,s:s,s:I,s:s}", "peer", x->from, "status", "ok",
	    "size", (json_int_t)x->sc.cp.size, "root", root);
	/* Informative only: fork evidence rests on the log's signature. */
	if (v->wit.n > 0) {
		if (kt_vquorum_count(x->note.p, x->note.len, &v->vk, &v->wit,
		        &q, d, sizeof(d)) == KT_OK)
			json_object_set_new(o, "cosignatures",
			    json_integer((json_int_t)q.valid));
		else
			json_object_set_new(o, "cosignatures", json_string(d));
	}
	return o;
}

/* The views gathered in one run: vw[0] is the stored view when there is
 * one; ref the largest. */
struct gossip {
	struct view *vw;
	size_t nv, ref;
	size_t nerr, nbad; /* peers unreachable; views not signed by the log */
	json_t *peers;     /* r->info's "peers" list */
};

/* 1. Every peer view that carries the log's signature joins g->vw; the
 * others are listed and counted. */
static void
collect_views(struct kt_verify *v, struct gossip *g, const char *const *peers,
    size_t npeers)
{
	char d[2 * KT_VERIFY_MSG_MAX];

	for (size_t i = 0; i < npeers; i++) {
		struct view *x = &g->vw[g->nv];
		enum kt_verify_outcome st =
		    read_view(v, peers[i], x, d, sizeof(d));

		if (st == KT_VERIFY_OK) {
			json_array_append_new(g->peers, view_json(v, x));
			g->nv++;
			continue;
		}
		/* Unreachable peers are an error (exit 1); a view that is
		 * not signed by the log is a failed verification (exit 2). */
		json_array_append_new(g->peers,
		    json_pack("{s:s,s:s,s:s}", "peer", peers[i], "status",
		        st == KT_VERIFY_ERROR ? "unreachable" : "invalid",
		        "message", d));
		if (st == KT_VERIFY_ERROR)
			g->nerr++;
		else
			g->nbad++;
		kt_buf_free(&x->note);
	}
}

/* 2. Two views of the same size with different roots: a fork proven on
 * the spot, no log needed. KT_VERIFY_OK when there are none. */
static enum kt_verify_outcome
same_size_forks(struct kt_verify *v, const struct gossip *g,
    struct kt_vresult *r)
{
	const struct view *vw = g->vw;
	char why[256];

	for (size_t i = 0; i < g->nv; i++)
		for (size_t j = i + 1; j < g->nv; j++) {
			if (vw[i].sc.cp.size != vw[j].sc.cp.size ||
			    kt_hash_eq(&vw[i].sc.cp.root, &vw[j].sc.cp.root))
				continue;
			kt_msg(why, sizeof(why),
			    "views from %s and %s: the "
			    "log signed two different trees of size %" PRIu64,
			    vw[i].from, vw[j].from, vw[i].sc.cp.size);
			return kt_evidence_fork(v, "fork", &vw[i].sc, &vw[j].sc,
			    NULL, why, r);
		}
	return KT_VERIFY_OK;
}

/*
 * 3. Every smaller view against the largest, with the log's consistency
 * proof: a failing proof is an attack; a log that refuses one gets a fork
 * file only when this client's material proves it. KT_VERIFY_OK when
 * every view is related; KT_VERIFY_FAILED when some could not be.
 */
static enum kt_verify_outcome
relate_to_largest(struct kt_verify *v, struct gossip *g, struct kt_vresult *r)
{
	const struct view *vw = g->vw, *big;
	char why[256], d[KT_VERIFY_MSG_MAX];
	size_t nunchecked = 0;
	enum kt_verify_outcome st;

	for (size_t i = 1; i < g->nv; i++)
		if (vw[i].sc.cp.size > vw[g->ref].sc.cp.size)
			g->ref = i;
	big = &vw[g->ref];
	json_object_set_new(r->info, "largest",
	    json_integer((json_int_t)big->sc.cp.size));
	for (size_t i = 0; i < g->nv; i++) {
		int dup = 0;

		if (vw[i].sc.cp.size == big->sc.cp.size)
			continue;
		for (size_t j = 0; j < i; j++)
			dup |= vw[j].sc.cp.size == vw[i].sc.cp.size;
		if (dup)
			continue; /* same size, same root: same tree */
		st = kt_vrelate(v, &vw[i].sc, &big->sc, r);
		if (st == KT_VERIFY_ATTACK)
			return st;
		if (st == KT_VERIFY_FAILED) {
			kt_msg(why, sizeof(why),
			    "the log refuses a "
			    "consistency proof between the views from %s "
			    "(size %" PRIu64 ") and %s (size %" PRIu64 ")",
			    vw[i].from, vw[i].sc.cp.size, big->from,
			    big->sc.cp.size);
			st = kt_evidence_fork_provable(v, &vw[i].sc, &big->sc,
			    why, r);
			if (st != KT_VERIFY_FAILED)
				return st;
		}
		if (st != KT_VERIFY_OK)
			nunchecked++;
	}
	if (nunchecked == 0)
		return KT_VERIFY_OK;
	kt_msg(d, sizeof(d), "%s", r->msg);
	return kt_vres(r, KT_VERIFY_FAILED,
	    "gossip: %zu view(s) could not be "
	    "related to the largest (tree size %" PRIu64 "): the log gave no "
	    "usable consistency proof (%s)",
	    nunchecked, big->sc.cp.size, d);
}

/*
 * 4. A larger consistent view advances this client's own, if it passes
 * kt_vaccept (with a policy: the quorum). Not adopting it is reported in
 * r->info, not as the outcome; an attack found on the way is. The
 * details kt_vaccept adds about the one checkpoint are dropped: "peers"
 * lists every view.
 */
static enum kt_verify_outcome
adopt_largest(struct kt_verify *v, const struct gossip *g, struct kt_vresult *r)
{
	enum kt_verify_outcome st = kt_vaccept(v, &g->vw[g->ref].sc, r);

	json_object_del(r->info, "checkpoint");
	json_object_del(r->info, "stored_checkpoint");
	if (st == KT_VERIFY_ATTACK) {
		json_object_del(r->info, "witnesses");
		return st;
	}
	json_object_set_new(r->info, "adopted",
	    json_boolean(st == KT_VERIFY_OK));
	if (st != KT_VERIFY_OK)
		json_object_set_new(r->info, "not_adopted",
		    json_string(r->msg));
	return KT_VERIFY_OK;
}

/* The stored view as the first of g->vw. */
static enum kt_verify_outcome
stored_view(struct kt_verify *v, struct gossip *g, struct kt_vresult *r)
{
	struct view *x = &g->vw[0];

	x->from = "stored";
	x->note.p = malloc(v->stored.note_len + 1);
	if (x->note.p == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	memcpy(x->note.p, v->stored.note, v->stored.note_len + 1);
	x->note.len = v->stored.note_len;
	x->sc = v->stored;
	x->sc.note = x->note.p;
	g->nv = 1;
	return KT_VERIFY_OK;
}

static enum kt_verify_outcome
gossip_run(struct kt_verify *v, struct gossip *g, const char *const *peers,
    size_t npeers, struct kt_vresult *r)
{
	uint64_t before = v->have_stored ? v->stored.cp.size : 0;
	const struct view *big;
	enum kt_verify_outcome st;

	if (v->have_stored && (st = stored_view(v, g, r)) != KT_VERIFY_OK)
		return st;
	collect_views(v, g, peers, npeers);
	if (g->nv == (v->have_stored ? 1u : 0u))
		return kt_vres(r, g->nbad ? KT_VERIFY_FAILED : KT_VERIFY_ERROR,
		    "gossip: no usable peer view (%zu unreachable, %zu not "
		    "signed by the log)",
		    g->nerr, g->nbad);
	if ((st = same_size_forks(v, g, r)) != KT_VERIFY_OK ||
	    (st = relate_to_largest(v, g, r)) != KT_VERIFY_OK)
		return st;
	big = &g->vw[g->ref];
	if ((!v->have_stored || big->sc.cp.size > before) &&
	    (st = adopt_largest(v, g, r)) != KT_VERIFY_OK)
		return st;
	if (v->have_stored && v->stored.cp.size > before)
		st = kt_vres(r, KT_VERIFY_OK,
		    "gossip: %zu view(s) consistent "
		    "with tree size %" PRIu64
		    "; stored view advanced from %" PRIu64 " to %" PRIu64,
		    g->nv, big->sc.cp.size, before, v->stored.cp.size);
	else
		st = kt_vres(r, KT_VERIFY_OK,
		    "gossip: %zu view(s) consistent "
		    "with tree size %" PRIu64 "%s",
		    g->nv, big->sc.cp.size,
		    json_is_false(json_object_get(r->info, "adopted"))
		        ? " (the larger view was not adopted: see not_adopted)"
		        : "");
	if (g->nbad > 0)
		st = kt_vres_append(r, KT_VERIFY_FAILED,
		    "; but %zu peer "
		    "view(s) are not signed by the log",
		    g->nbad);
	else if (g->nerr > 0)
		st = kt_vres_append(r, KT_VERIFY_ERROR,
		    "; but %zu peer(s) "
		    "were unreachable",
		    g->nerr);
	return kt_vquorum_stale(v, r, st);
}

enum kt_verify_outcome
kt_verify_gossip(struct kt_verify *v, const char *const *peers, size_t npeers,
    struct kt_vresult *r)
{
	struct gossip g = { 0 };
	enum kt_verify_outcome st;

	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	if (npeers == 0 || npeers > KT_VERIFY_PEERS_MAX)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "gossip needs 1 to %d "
		    "--peer",
		    KT_VERIFY_PEERS_MAX);
	g.vw = calloc(npeers + 1, sizeof(*g.vw));
	g.peers = json_array();
	if (g.vw == NULL || g.peers == NULL) {
		free(g.vw);
		json_decref(g.peers);
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	}
	json_object_set_new(r->info, "peers", g.peers);
	st = gossip_run(v, &g, peers, npeers, r);
	for (size_t i = 0; i <= npeers; i++)
		kt_buf_free(&g.vw[i].note);
	free(g.vw);
	return st;
}
