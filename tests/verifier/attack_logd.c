/*
 * attack_logd.c: a TEST-ONLY malicious kt log server.
 *
 * It holds the log's real signing key and speaks kt-logd's read API, so
 * attacks on a client (split views, forks, rollbacks, ghost and
 * substituted keys, hidden entries, tampered answers) are mounted for
 * real: everything it signs is validly signed, and kt-verify (the real
 * binary) must still catch it.
 *
 *   attack_logd --origin ORIGIN [--lifetime SECONDS]
 *     prints "<verifier key> <port>" on stdout, then serves 127.0.0.1:port.
 *
 * Several trees ("views" 0..3) can be grown and forked. Each client gets a
 * URL prefix /c/<name>/ and a setting: which view it sees, at which tree
 * size, and a tamper mode for its responses. Control (GET, test use only):
 *   /ctl/add?view=V&label=L&key=B64[&revoke=1][&ts=MS][&version=N&prev=I]
 *   /ctl/bulk?view=V&n=N&prefix=P      N new labels P0..P(N-1), version 1
 *   /ctl/fork?from=A&to=B              view B := copy of view A
 *   /ctl/client?name=C&view=V[&size=S][&mode=M][&label=L][&page=N]
 *        (page: at most N versions per history answer, with "next", as
 *        kt-logd's page_size; 0, the default, answers with all of them)
 *   /ctl/cosig?name=C&size=S&line=L    C's /checkpoint serves the tree at
 *        size S with the cosignature line L appended (repeat to add more;
 *        &clear=1 drops them): lookups keep embedding the newest, not yet
 *        witnessed checkpoint, as kt-logd does with witnesses configured
 * Modes: honest, badsig (checkpoints signed by another key of the same
 * name), forgedsig (the log key's signature line with one byte changed),
 * unlogged, tamper-entry, proof-index, proof-size,
 * truncated, oversized, nonjson, hide-label (lookups of L answer with the
 * previous version), hide-entries (entries of label L replaced), stall
 * (answers after 3 s), no-proofs (GET /v1/proof/inclusion fails),
 * next-stuck (a history page's "next" names its own first version),
 * history-fork (every history page comes from the next view, V + 1, at its
 * latest size: the same entries for the label if the views agree on them,
 * under the checkpoint of another tree), page-fork (the same for the pages
 * after the first only), history-swap (lookups answer with the label's
 * previous entry, and the history leaves that entry out: with two entries
 * of one version, each view shows a different one).
 * Built on proto/ and libmicrohttpd only; never on logserver/.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "kt/checkpoint.h"
#include "kt/entry.h"
#include "kt/merkle.h"
#include "kt/note.h"

#define NVIEWS 4
#define NCLIENTS 16
#define PAGE 1000

struct tree {
	size_t n, cap;
	uint8_t **ent;
	size_t *elen;
	struct kt_hash *lvl[64];
	size_t lvl_n[64], lvl_cap[64];
};

struct client {
	char name[32];
	int view;
	uint64_t size; /* 0 = the view's latest */
	char mode[32];
	char label[KT_LABEL_MAX + 1];
	uint64_t page;       /* history versions per answer; 0 = all */
	uint64_t cosig_size; /* 0 = no witnessed checkpoint configured */
	char cosig[1024];    /* cosignature lines for /checkpoint */
};

static struct tree views[NVIEWS];
static struct client clients[NCLIENTS];
static size_t nclients;
static struct kt_signer *signer, *other;
static char origin[KT_KEY_NAME_MAX + 1];
static volatile sig_atomic_t stop;

/* ---- trees ------------------------------------------------------------- */

static void
push_hash(struct tree *t, unsigned l, const struct kt_hash *h)
{
	if (t->lvl_n[l] == t->lvl_cap[l]) {
		t->lvl_cap[l] = t->lvl_cap[l] ? t->lvl_cap[l] * 2 : 64;
		t->lvl[l] =
		    realloc(t->lvl[l], t->lvl_cap[l] * sizeof(**t->lvl));
		if (t->lvl[l] == NULL)
			abort();
	}
	t->lvl[l][t->lvl_n[l]++] = *h;
}

static void
tree_append(struct tree *t, const uint8_t *e, size_t len)
{
	struct kt_hash h;
	size_t idx;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->ent = realloc(t->ent, t->cap * sizeof(*t->ent));
		t->elen = realloc(t->elen, t->cap * sizeof(*t->elen));
		if (t->ent == NULL || t->elen == NULL)
			abort();
	}
	t->ent[t->n] = malloc(len);
	if (t->ent[t->n] == NULL)
		abort();
	memcpy(t->ent[t->n], e, len);
	t->elen[t->n] = len;
	t->n++;
	kt_hash_leaf(e, len, &h);
	push_hash(t, 0, &h);
	/* Complete every perfect subtree this leaf closes. */
	idx = t->n - 1;
	for (unsigned l = 0; l < 63 && (idx & 1); l++) {
		kt_hash_node(&t->lvl[l][idx - 1], &t->lvl[l][idx], &h);
		push_hash(t, l + 1, &h);
		idx >>= 1;
	}
}

static void
tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->ent[i]);
	free(t->ent);
	free(t->elen);
	for (unsigned l = 0; l < 64; l++)
		free(t->lvl[l]);
	memset(t, 0, sizeof(*t));
}

static void
tree_copy(struct tree *dst, const struct tree *src)
{
	tree_free(dst);
	for (size_t i = 0; i < src->n; i++)
		tree_append(dst, src->ent[i], src->elen[i]);
}

static kt_err
node_fn(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	struct tree *t = ctx;

	if (level >= 64 || index >= t->lvl_n[level])
		return KT_ERR_RANGE;
	*out = t->lvl[level][index];
	return KT_OK;
}

static int
checkpoint_note(struct tree *t, uint64_t size, struct kt_signer *s, char *buf,
    size_t cap)
{
	struct kt_checkpoint c;
	char text[KT_CHECKPOINT_TEXT_MAX];
	size_t tl;

	memset(&c, 0, sizeof(c));
	snprintf(c.origin, sizeof(c.origin), "%s", origin);
	c.size = size;
	if (kt_merkle_root(node_fn, t, size, &c.root) != KT_OK ||
	    kt_checkpoint_format(&c, text, sizeof(text), &tl) != KT_OK ||
	    kt_note_sign(s, text, tl, buf, cap, NULL) != KT_OK)
		return -1;
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static json_t *
b64(const uint8_t *p, size_t n)
{
	char *s = malloc(
	    sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL));
	json_t *j;

	sodium_bin2base64(s,
	    sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), p, n,
	    sodium_base64_VARIANT_ORIGINAL);
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
proof_json(struct tree *t, uint64_t index, uint64_t size)
{
	struct kt_proof p;
	json_t *a = json_array();

	if (kt_merkle_inclusion_proof(node_fn, t, index, size, &p) != KT_OK)
		return NULL;
	for (size_t i = 0; i < p.n; i++)
		json_array_append_new(a, b64(p.h[i].b, KT_HASH_LEN));
	return json_pack("{s:I,s:I,s:o}", "index", (json_int_t)index, "size",
	    (json_int_t)size, "hashes", a);
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *ctype,
    const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len,
	    (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", ctype);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_json(struct MHD_Connection *c, unsigned status, json_t *o,
    const struct client *cl)
{
	char *s = json_dumps(o, JSON_COMPACT);
	enum MHD_Result ret;
	size_t len = strlen(s);

	json_decref(o);
	if (cl != NULL && strcmp(cl->mode, "truncated") == 0)
		len /= 2;
	if (cl != NULL && strcmp(cl->mode, "nonjson") == 0) {
		free(s);
		return reply(c, status, "text/html", "<html>hi</html>", 15);
	}
	if (cl != NULL && strcmp(cl->mode, "oversized") == 0) {
		size_t big = 2u << 20; /* past any lookup cap */
		char *p = malloc(big);
		memset(p, ' ', big);
		memcpy(p, s, len);
		ret = reply(c, status, "application/json", p, big);
		free(p);
		free(s);
		return ret;
	}
	ret = reply(c, status, "application/json", s, len);
	free(s);
	return ret;
}

static enum MHD_Result
error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply_json(c, status, json_pack("{s:s}", "error", msg), NULL);
}

static const char *
arg(struct MHD_Connection *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

static uint64_t
argu(struct MHD_Connection *c, const char *k, uint64_t dflt)
{
	const char *v = arg(c, k);

	return v ? strtoull(v, NULL, 10) : dflt;
}

/* Latest entry of label among the first `size` entries; -1 if none.
 * skip > 0 skips that many newer versions (hide-label). */
static int64_t
find_label(struct tree *t, uint64_t size, const char *label, int skip)
{
	for (uint64_t i = size; i-- > 0;) {
		struct kt_entry e;
		if (kt_entry_decode(t->ent[i], t->elen[i], &e) != KT_OK)
			continue;
		if (e.label_len == strlen(label) &&
		    memcmp(e.label, label, e.label_len) == 0) {
			if (skip-- > 0)
				continue;
			return (int64_t)i;
		}
	}
	return -1;
}

/* ---- control ----------------------------------------------------------- */

/* Appends one entry (a key, or a revocation with ?revoke) for ?label to
 * view t; version and prev_index follow the label's latest entry unless
 * ?version or ?prev say otherwise. */
static enum MHD_Result
ctl_add(struct MHD_Connection *c, struct tree *t)
{
	const char *label = arg(c, "label"), *key = arg(c, "key");
	const char *kt = arg(c, "key_type");
	uint8_t kb[KT_KEY_MAX], buf[KT_ENTRY_MAX];
	size_t kl = 0, len;
	struct kt_entry e, prev;
	int64_t p;
	int revoke = arg(c, "revoke") != NULL;

	if (label == NULL ||
	    (!revoke &&
	        (key == NULL ||
	            sodium_base642bin(kb, sizeof(kb), key, strlen(key), NULL,
	                &kl, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)))
		return error(c, 400, "label and key needed");
	memset(&e, 0, sizeof(e));
	p = find_label(t, t->n, label, 0);
	e.type = revoke ? KT_ENTRY_REVOKE : KT_ENTRY_KEY;
	e.timestamp_ms = argu(c, "ts", (uint64_t)time(NULL) * 1000);
	e.label = label;
	e.label_len = strlen(label);
	e.version = 1;
	e.prev_index = KT_NO_PREV;
	if (p >= 0 && kt_entry_decode(t->ent[p], t->elen[p], &prev) == KT_OK) {
		e.version = prev.version + 1;
		e.prev_index = (uint64_t)p;
	}
	e.version = argu(c, "version", e.version);
	e.prev_index = argu(c, "prev", e.prev_index);
	if (!revoke) {
		e.key_type = kt ? kt : "ed25519";
		e.key_type_len = strlen(e.key_type);
		e.key = kb;
		e.key_len = kl;
	}
	if (kt_entry_encode(&e, buf, sizeof(buf), &len) != KT_OK)
		return error(c, 400, "entry does not encode");
	tree_append(t, buf, len);
	return reply_json(c, 200,
	    json_pack("{s:I,s:I}", "index", (json_int_t)(t->n - 1), "version",
	        (json_int_t)e.version),
	    NULL);
}

/* Appends ?n fresh keys labelled ?prefix0, ?prefix1, ... to view t. */
static enum MHD_Result
ctl_bulk(struct MHD_Connection *c, struct tree *t)
{
	uint64_t n = argu(c, "n", 0);
	const char *pre = arg(c, "prefix") ? arg(c, "prefix") : "u";
	uint8_t key[32], buf[KT_ENTRY_MAX];
	char label[128];
	size_t len;

	for (uint64_t i = 0; i < n; i++) {
		struct kt_entry e = { KT_ENTRY_KEY, (uint64_t)time(NULL) * 1000,
			label, 0, 1, KT_NO_PREV, "ed25519", 7, key, 32 };
		snprintf(label, sizeof(label), "%s%" PRIu64, pre, i);
		e.label_len = strlen(label);
		randombytes_buf(key, sizeof(key));
		if (kt_entry_encode(&e, buf, sizeof(buf), &len) != KT_OK)
			return error(c, 500, "encode");
		tree_append(t, buf, len);
	}
	return reply_json(c, 200, json_pack("{s:I}", "size", (json_int_t)t->n),
	    NULL);
}

/* Copies view ?from over view ?to. */
static enum MHD_Result
ctl_fork(struct MHD_Connection *c)
{
	struct tree *from = &views[argu(c, "from", 0) % NVIEWS];
	struct tree *to = &views[argu(c, "to", 1) % NVIEWS];
	if (from == to)
		return error(c, 400, "same view");
	tree_copy(to, from);
	return reply_json(c, 200, json_pack("{s:I}", "size", (json_int_t)to->n),
	    NULL);
}

/* Creates or updates client ?name: its view, size, page and mode. */
static enum MHD_Result
ctl_client(struct MHD_Connection *c)
{
	const char *name = arg(c, "name");
	struct client *cl = NULL;

	if (name == NULL || strlen(name) >= sizeof(cl->name))
		return error(c, 400, "name");
	for (size_t i = 0; i < nclients; i++)
		if (strcmp(clients[i].name, name) == 0)
			cl = &clients[i];
	if (cl == NULL) {
		if (nclients == NCLIENTS)
			return error(c, 400, "too many clients");
		cl = &clients[nclients++];
		snprintf(cl->name, sizeof(cl->name), "%s", name);
	}
	cl->view = (int)(argu(c, "view", 0) % NVIEWS);
	cl->size = argu(c, "size", 0);
	cl->page = argu(c, "page", 0);
	snprintf(cl->mode, sizeof(cl->mode), "%s",
	    arg(c, "mode") ? arg(c, "mode") : "honest");
	snprintf(cl->label, sizeof(cl->label), "%s",
	    arg(c, "label") ? arg(c, "label") : "");
	return reply_json(c, 200, json_pack("{s:s}", "ok", name), NULL);
}

/* Adds a cosignature line to what client ?name serves on /checkpoint
 * (for the checkpoint of ?size), or clears them with ?clear. */
static enum MHD_Result
ctl_cosig(struct MHD_Connection *c)
{
	const char *name = arg(c, "name"), *line = arg(c, "line");
	struct client *cl = NULL;
	size_t n;

	for (size_t i = 0; name != NULL && i < nclients; i++)
		if (strcmp(clients[i].name, name) == 0)
			cl = &clients[i];
	if (cl == NULL)
		return error(c, 400, "unknown client");
	if (arg(c, "clear") != NULL) {
		cl->cosig_size = 0;
		cl->cosig[0] = '\0';
		return reply_json(c, 200, json_pack("{s:s}", "ok", name), NULL);
	}
	n = strlen(cl->cosig);
	if (line == NULL || n + strlen(line) + 2 > sizeof(cl->cosig))
		return error(c, 400, "line needed (or too many)");
	cl->cosig_size = argu(c, "size", 0);
	snprintf(cl->cosig + n, sizeof(cl->cosig) - n, "%s%s", line,
	    line[0] && line[strlen(line) - 1] == '\n' ? "" : "\n");
	return reply_json(c, 200, json_pack("{s:s}", "ok", name), NULL);
}

static enum MHD_Result
ctl(struct MHD_Connection *c, const char *what)
{
	struct tree *t = &views[argu(c, "view", 0) % NVIEWS];

	if (strcmp(what, "add") == 0)
		return ctl_add(c, t);
	if (strcmp(what, "bulk") == 0)
		return ctl_bulk(c, t);
	if (strcmp(what, "fork") == 0)
		return ctl_fork(c);
	if (strcmp(what, "client") == 0)
		return ctl_client(c);
	if (strcmp(what, "cosig") == 0)
		return ctl_cosig(c);
	return error(c, 404, "no such control");
}

/* ---- the log API, per client ------------------------------------------ */

static json_t *
leaf_json(struct tree *t, uint64_t i, uint64_t size, const struct client *cl)
{
	struct kt_entry e;
	struct kt_hash h;
	uint8_t buf[KT_ENTRY_MAX];
	size_t len = t->elen[i];
	uint64_t pidx = i, psize = size;
	json_t *o, *p;

	memcpy(buf, t->ent[i], len);
	if (kt_entry_decode(t->ent[i], len, &e) != KT_OK)
		return NULL;
	kt_hash_leaf(buf, len, &h);
	if (strcmp(cl->mode, "unlogged") == 0 && e.type == KT_ENTRY_KEY) {
		/* A substituted key: a well-formed entry with a matching
		 * leaf hash, under the real entry's (now useless) proof. */
		uint8_t ghost[KT_KEY_MAX];
		memset(ghost, 0x66, e.key_len);
		e.key = ghost;
		if (kt_entry_encode(&e, buf, sizeof(buf), &len) != KT_OK)
			return NULL;
		kt_hash_leaf(buf, len, &h);
	} else if (strcmp(cl->mode, "tamper-entry") == 0) {
		buf[len - 1] ^= 1; /* leaf_hash stays the original's */
	} else if (strcmp(cl->mode, "proof-index") == 0) {
		pidx = i + 1 < size ? i + 1 : i - 1;
	} else if (strcmp(cl->mode, "proof-size") == 0) {
		psize = size > i + 1 ? size - 1 : size + 1;
		if (psize > t->n)
			psize = size;
	}
	p = proof_json(t, pidx, psize);
	o = json_pack("{s:I,s:I,s:o,s:o,s:o}", "index", (json_int_t)i,
	    "version", (json_int_t)e.version, "entry", b64(buf, len),
	    "leaf_hash", b64(h.b, KT_HASH_LEN), "proof", p ? p : json_null());
	return o;
}

/* The history of label (its latest version at index i among the first
 * size entries of view t) as client cl sees it, under checkpoint note:
 * versions from ?from, pages of cl->page, and the client's lies
 * (history-swap drops the version before the latest, next-stuck repeats
 * the page). */
static enum MHD_Result
api_history(struct MHD_Connection *c, const struct client *cl, struct tree *t,
    uint64_t size, const char *note, const char *label, int64_t i)
{
	size_t ll = strlen(label);
	int swap = strcmp(cl->mode, "history-swap") == 0;
	int64_t older = find_label(t, size, label, 1);
	json_t *o, *vs = json_array();
	uint64_t from = argu(c, "from", 1), n = 0, next = 0;

	for (uint64_t j = 0; j <= (uint64_t)i; j++) {
		struct kt_entry e;
		if ((swap && older >= 0 && j == (uint64_t)older) ||
		    kt_entry_decode(t->ent[j], t->elen[j], &e) != KT_OK ||
		    e.label_len != ll || memcmp(e.label, label, ll) != 0 ||
		    ++n < from)
			continue;
		if (cl->page != 0 && n >= from + cl->page) {
			next = n;
			break;
		}
		json_array_append_new(vs, leaf_json(t, j, size, cl));
	}
	o = json_pack("{s:s,s:s,s:o}", "label", label, "checkpoint", note,
	    "versions", vs);
	if (next != 0)
		json_object_set_new(o, "next",
		    json_integer(
		        (json_int_t)(strcmp(cl->mode, "next-stuck") == 0
		                ? from
		                : next)));
	return reply_json(c, 200, o, cl);
}

/* GET /v1/keys/<label>[/history] for client cl, from view t at size,
 * under checkpoint note (KT_NOTE_MAX bytes; history-fork and page-fork
 * re-sign it for the other view). */
static enum MHD_Result
api_keys(struct MHD_Connection *c, struct client *cl, struct tree *t,
    uint64_t size, char *note, const char *path)
{
	char label[KT_LABEL_MAX + 1];
	const char *l = path + 9, *slash = strchr(l, '/');
	size_t ll = slash ? (size_t)(slash - l) : strlen(l);
	int64_t i;
	int hist = slash != NULL && strcmp(slash, "/history") == 0;
	json_t *o;

	if (ll == 0 || ll > KT_LABEL_MAX || (slash && !hist))
		return error(c, 404, "no route");
	memcpy(label, l, ll);
	label[ll] = '\0';
	if (hist &&
	    (strcmp(cl->mode, "history-fork") == 0 ||
	        (strcmp(cl->mode, "page-fork") == 0 &&
	            argu(c, "from", 1) > 1))) {
		t = &views[(cl->view + 1) % NVIEWS];
		size = t->n;
		if (checkpoint_note(t, size, signer, note, KT_NOTE_MAX) != 0)
			return error(c, 500, "cannot sign");
	}
	int swap = strcmp(cl->mode, "history-swap") == 0;
	i = find_label(t, size, label,
	    (swap && !hist) ||
	            (strcmp(cl->mode, "hide-label") == 0 &&
	                strcmp(cl->label, label) == 0)
	        ? 1
	        : 0);
	if (i < 0)
		return error(c, 404, "label not found");
	if (hist)
		return api_history(c, cl, t, size, note, label, i);
	o = leaf_json(t, (uint64_t)i, size, cl);
	json_object_set_new(o, "label", json_string(label));
	json_object_set_new(o, "checkpoint", json_string(note));
	return reply_json(c, 200, o, cl);
}

/* GET /v1/proof/consistency?old&new from view t. */
static enum MHD_Result
api_consistency(struct MHD_Connection *c, struct tree *t)
{
	uint64_t a = argu(c, "old", 0), b = argu(c, "new", 0);
	struct kt_proof p;
	json_t *h = json_array();
	if (b > t->n || a > b ||
	    kt_merkle_consistency_proof(node_fn, t, a, b, &p) != KT_OK) {
		json_decref(h);
		return error(c, 400, "bad sizes");
	}
	for (size_t k = 0; k < p.n; k++)
		json_array_append_new(h, b64(p.h[k].b, KT_HASH_LEN));
	return reply_json(c, 200,
	    json_pack("{s:I,s:I,s:o}", "old", (json_int_t)a, "new",
	        (json_int_t)b, "hashes", h),
	    NULL);
}

/* GET /v1/entries?start&end from view t (hide-entries serves a label's
 * previous version in place of the newer ones). */
static enum MHD_Result
api_entries(struct MHD_Connection *c, const struct client *cl, struct tree *t)
{
	uint64_t s = argu(c, "start", 0), e = argu(c, "end", 0);
	json_t *a = json_array();
	if (e > t->n)
		e = t->n;
	if (s >= e || e - s > PAGE) {
		json_decref(a);
		return error(c, 400, "bad range");
	}
	for (uint64_t i = s; i < e; i++) {
		struct kt_entry en;
		if (strcmp(cl->mode, "hide-entries") == 0 &&
		    kt_entry_decode(t->ent[i], t->elen[i], &en) == KT_OK &&
		    en.label_len == strlen(cl->label) &&
		    memcmp(en.label, cl->label, en.label_len) == 0 &&
		    en.version > 1)
			/* serve the previous version in its place */
			json_array_append_new(a,
			    b64(t->ent[en.prev_index], t->elen[en.prev_index]));
		else
			json_array_append_new(a, b64(t->ent[i], t->elen[i]));
	}
	return reply_json(c, 200, json_pack("{s:o}", "entries", a), NULL);
}

static enum MHD_Result
api(struct MHD_Connection *c, struct client *cl, const char *path)
{
	struct tree *t = &views[cl->view];
	uint64_t size = cl->size && cl->size <= t->n ? cl->size : t->n;
	char note[KT_NOTE_MAX];
	int sig_other = strcmp(cl->mode, "badsig") == 0;

	if (strcmp(cl->mode, "stall") == 0)
		sleep(3); /* longer than the client's --timeout in the test */
	if (checkpoint_note(t, size, sig_other ? other : signer, note,
	        sizeof(note)) != 0)
		return error(c, 500, "cannot sign");
	if (strcmp(cl->mode, "forgedsig") == 0) {
		/* Inside the signature's base64, clear of the key ID at its
		 * start and the padding at its end: still canonical. */
		size_t nl = strlen(note);
		note[nl - 10] = note[nl - 10] == 'A' ? 'B' : 'A';
	}
	if (strcmp(path, "/checkpoint") == 0 && cl->cosig_size > 0 &&
	    cl->cosig_size <= t->n) {
		char wn[KT_NOTE_MAX + sizeof(cl->cosig)];
		if (checkpoint_note(t, cl->cosig_size, signer, wn,
		        KT_NOTE_MAX) != 0)
			return error(c, 500, "cannot sign");
		strcat(wn, cl->cosig);
		return reply(c, 200, "text/plain; charset=utf-8", wn,
		    strlen(wn));
	}
	if (strcmp(path, "/checkpoint") == 0)
		return reply(c, 200, "text/plain; charset=utf-8", note,
		    strlen(note));
	if (strncmp(path, "/v1/keys/", 9) == 0)
		return api_keys(c, cl, t, size, note, path);
	if (strcmp(path, "/v1/proof/inclusion") == 0 &&
	    strcmp(cl->mode, "no-proofs") == 0)
		return error(c, 503, "no proofs today");
	if (strcmp(path, "/v1/proof/inclusion") == 0) {
		uint64_t i = argu(c, "index", 0), n = argu(c, "size", 0);
		json_t *p;
		if (n > t->n || i >= n || (p = proof_json(t, i, n)) == NULL)
			return error(c, 400, "bad index or size");
		return reply_json(c, 200, p, NULL);
	}
	if (strcmp(path, "/v1/proof/consistency") == 0)
		return api_consistency(c, t);
	if (strcmp(path, "/v1/entries") == 0)
		return api_entries(c, cl, t);
	return error(c, 404, "no route");
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	(void)cls;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") != 0)
		return error(c, 405, "GET only");
	if (strncmp(url, "/ctl/", 5) == 0)
		return ctl(c, url + 5);
	if (strncmp(url, "/c/", 3) == 0) {
		const char *name = url + 3, *rest = strchr(name, '/');
		if (rest == NULL)
			return error(c, 404, "no route");
		for (size_t i = 0; i < nclients; i++)
			if (strlen(clients[i].name) == (size_t)(rest - name) &&
			    memcmp(clients[i].name, name,
			        (size_t)(rest - name)) == 0)
				return api(c, &clients[i], rest);
		return error(c, 404, "unknown client");
	}
	return error(c, 404, "no route");
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	uint8_t seed[KT_SEED_LEN];
	struct kt_verifier vk;
	char vkey[KT_KEY_TEXT_MAX];
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	long lifetime = 600;

	snprintf(origin, sizeof(origin), "attack.example/log");
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--origin") == 0)
			snprintf(origin, sizeof(origin), "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--lifetime") == 0)
			lifetime = strtol(argv[i + 1], NULL, 10);
	}
	if (sodium_init() < 0)
		return 1;
	randombytes_buf(seed, sizeof(seed));
	if (kt_signer_from_seed(origin, KT_KEY_ED25519, seed, &signer) != KT_OK)
		return 1;
	randombytes_buf(seed, sizeof(seed));
	if (kt_signer_from_seed(origin, KT_KEY_ED25519, seed, &other) != KT_OK)
		return 1;
	kt_signer_verifier(signer, &vk);
	if (kt_verifier_format(&vk, vkey, sizeof(vkey)) != KT_OK)
		return 1;
	{
		/* 127.0.0.1 on a free port chosen by the kernel. */
		struct sockaddr_in sa;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = 0;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
		        MHD_USE_ERROR_LOG,
		    0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
		    (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned)30, MHD_OPTION_END);
	}
	if (d == NULL) {
		fprintf(stderr, "attack_logd: cannot listen\n");
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("%s %u\n", vkey, (unsigned)info->port);
	fflush(stdout);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	/* A test that forgets us must not leave us running for long. */
	for (long s = 0; !stop && s < lifetime * 10; s++)
		usleep(100000);
	MHD_stop_daemon(d);
	for (int v = 0; v < NVIEWS; v++)
		tree_free(&views[v]);
	kt_signer_free(signer);
	kt_signer_free(other);
	return 0;
}
