/*
 * attack_logd.c: a TEST-ONLY malicious key directory server.
 *
 * It holds the log's real signing key and its real VRF key and serves
 * kt-logd's read API for the key directory (GET /v1/log, /checkpoint,
 * /v1/keys/<label> lookups with lookup proofs, /v1/keys/<label>/history,
 * /v1/map/<hex index>, /v1/map/audit/<head index>, /v1/entries, entry
 * bundles /tile/entries/<N>[.p/<W>],
 * /v1/proof/inclusion and consistency)
 * from directories it builds in memory with proto/ (attack_dir.c), so that
 * attacks on a client are mounted for real: everything it signs is validly
 * signed, and kt-verify (the real binary) must still catch it. Honest by
 * default: an honest view answers as kt-logd does.
 *
 *   attack_logd [--origin ORIGIN] [--lifetime SECONDS]
 *     prints "<verifier key> <port>" on stdout, then serves 127.0.0.1:port;
 *     GET /v1/log gives the VRF public key.
 *
 * Several directories ("views" 0..3) can be grown and forked; each starts
 * as kt-logd does, with the empty map's head at leaf 0, and every batch
 * ends with a map head, so checkpoints are signed at map heads only. Each
 * client gets a URL prefix /c/<name>/ and a setting: which view it sees,
 * at which checkpoint size, and a lie for its answers. Control (GET, test
 * use only; labels are canonicalised as kt-logd does):
 *   /ctl/add?view=V&label=L&key=B64[&key_type=T]|&revoke=1
 *        [&version=N&prev=I][&hold=1][seal options]
 *        appends an update (the label's next version, or exactly N and I)
 *        and, unless hold, closes the batch with a map head;
 *        answers {"index","version","size"}
 *   /ctl/seal?view=V[seal options]      closes the batch with a map head
 *     seal options: ts=MS (the head's time), omit=L (the map step leaves
 *     label L's updates out: a map that hides them), rollback=H (the head
 *     takes map head H's root and count: a map that lost versions),
 *     force=1 (a batch breaking the map's rules keeps the old root)
 *   /ctl/bulk?view=V&n=N&prefix=P       N new labels P0..P(N-1), one batch
 *   /ctl/fork?from=A&to=B               view B := copy of view A
 *   /ctl/client?name=C&view=V[&size=S][&mode=M][&label=L][&other=L2]
 *        [&replay=S2][&page=N]   (page: at most N versions per history
 *        answer, with "next", as kt-logd's page_size; 0 = all)
 *   /ctl/cosig?name=C&size=S&line=L     C's /checkpoint serves size S with
 *        the cosignature line L appended (repeat; &clear=1 drops them);
 *        lookups keep embedding the newest checkpoint, as kt-logd does
 * Modes (lies about label L only, when L is given): honest; badsig,
 * forgedsig (checkpoints signed by another key of the log's name, or the
 * log key's signature altered); truncated, oversized, nonjson, stall;
 * lookups: stale (the lookup proof made at the checkpoint before L's
 * latest update, served under the current checkpoint), stale-update (the
 * current map path with L's previous update and opening), absent (an
 * absence proof: the map path of another index), absent-old (the absence
 * proof of the empty map at leaf 0), vrf-forge (one bit of the VRF proof
 * changed), vrf-other (the whole lookup of label L2 served as L's),
 * unlogged (another key than the committed one), replay (lookups answered
 * at the older checkpoint S2, with its signed note); history: hide-history
 * (the latest version left out), tamper-entry (an update's last byte
 * changed), next-stuck ("next" names the page's own first version),
 * history-fork (every page from view V + 1 at its latest size, re-signed),
 * page-fork (the same for the pages after the first); hide-entries
 * (/v1/entries and entry bundles serve L's previous update in place of
 * each later one); entry bundles: bundle-short (a partial bundle one
 * entry short), bundle-flip (an entry's byte changed), nopartial (partial
 * bundles 404);
 * map audit (GET /v1/map/audit/<head>): audit-badpath (the first path's
 * leaf altered: it no longer verifies), audit-nopath (the last path left
 * out).
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

#include "attack_dir.h"
#include "kt/label.h"
#include "kt/tile.h"

#define NVIEWS 4
#define NCLIENTS 32
#define PAGE 1000

struct client {
	char name[32];
	int view;
	uint64_t size; /* 0 = the view's latest checkpoint */
	char mode[32];
	char label[KT_CANON_MAX + 1];
	char other[KT_CANON_MAX + 1];
	uint64_t replay;
	uint64_t page;       /* history versions per answer; 0 = all */
	uint64_t cosig_size; /* 0 = no witnessed checkpoint configured */
	char cosig[1024];    /* cosignature lines for /checkpoint */
};

static struct dir_keys K;
static struct view views[NVIEWS];
static struct client clients[NCLIENTS];
static size_t nclients;
static volatile sig_atomic_t stop;

/* ---- replies ------------------------------------------------------------ */

static json_t *
b64(const uint8_t *p, size_t n)
{
	size_t cap =
	    sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);
	json_t *j;

	if (s == NULL)
		abort();
	sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
proof_json(struct view *v, uint64_t index, uint64_t size)
{
	struct kt_proof p;
	json_t *a;

	if (view_inclusion(v, index, size, &p) != 0)
		return json_null();
	a = json_array();
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

static int
is_mode(const struct client *cl, const char *m)
{
	return cl != NULL && strcmp(cl->mode, m) == 0;
}

static enum MHD_Result
reply_json(struct MHD_Connection *c, unsigned status, json_t *o,
    const struct client *cl)
{
	char *s = json_dumps(o, JSON_COMPACT);
	enum MHD_Result ret;
	size_t len = strlen(s);

	json_decref(o);
	if (is_mode(cl, "truncated"))
		len /= 2;
	if (is_mode(cl, "nonjson")) {
		free(s);
		return reply(c, status, "text/html", "<html>hi</html>", 15);
	}
	if (is_mode(cl, "oversized")) {
		size_t big = 2u << 20; /* past any cap of the client's */
		char *p = malloc(big);

		if (p == NULL)
			abort();
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
	return reply_json(c, status,
	    json_pack("{s:s,s:i}", "error", msg, "status", (int)status), NULL);
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

/* The canonical form of label into out; 0, or -1 if kt refuses it. */
static int
canon(const char *label, char out[KT_CANON_MAX + 1])
{
	enum kt_label_kind kind;
	const char *why;
	size_t n;

	return label != NULL &&
	        kt_label_canonical(label, strlen(label), out, &n, &kind,
	            &why) == KT_OK
	    ? 0
	    : -1;
}

static uint64_t
now_ms(void)
{
	return (uint64_t)time(NULL) * 1000;
}

/* ---- control ------------------------------------------------------------ */

/* Closes v's batch with the seal options of the request. */
static int
seal(struct MHD_Connection *c, struct view *v, const char **why)
{
	char omit[KT_CANON_MAX + 1], change[KT_CANON_MAX + 1];
	char vanish[KT_CANON_MAX + 1];
	struct seal_lie lie;

	seal_lie_init(&lie);
	lie.omit = canon(arg(c, "omit"), omit) == 0 ? omit : NULL;
	lie.change = canon(arg(c, "change"), change) == 0 ? change : NULL;
	lie.vanish = canon(arg(c, "vanish"), vanish) == 0 ? vanish : NULL;
	lie.rollback_head = argu(c, "rollback", UINT64_MAX);
	lie.force = arg(c, "force") != NULL;
	lie.count = argu(c, "count", UINT64_MAX);
	lie.log_size = argu(c, "log_size", UINT64_MAX);
	lie.prev_head = argu(c, "prev_head", UINT64_MAX);
	return view_seal(v, &K, argu(c, "ts", now_ms()), &lie, why);
}

static enum MHD_Result
ctl_add(struct MHD_Connection *c, struct view *v)
{
	const char *key = arg(c, "key"), *kt = arg(c, "key_type"), *why;
	char label[KT_CANON_MAX + 1];
	uint8_t kb[KT_KEY_MAX];
	size_t kl = 0;
	int revoke = arg(c, "revoke") != NULL;
	int64_t i;

	if (canon(arg(c, "label"), label) != 0 ||
	    (!revoke &&
	        (key == NULL ||
	            sodium_base642bin(kb, sizeof(kb), key, strlen(key), NULL,
	                &kl, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)))
		return error(c, 400, "a canonical label and a key needed");
	i = view_add(v, &K, label, revoke ? KT_VALUE_REVOKE : KT_VALUE_KEY,
	    kt ? kt : "ed25519", kb, kl, argu(c, "version", 0),
	    argu(c, "prev", KT_NO_PREV));
	if (i < 0)
		return error(c, 400, "update does not encode");
	if (arg(c, "hold") == NULL && seal(c, v, &why) != 0)
		return error(c, 400, why);
	return reply_json(c, 200,
	    json_pack("{s:I,s:I,s:I}", "index", (json_int_t)i, "version",
	        (json_int_t)v->l[i].u.version, "size", (json_int_t)v->n),
	    NULL);
}

static enum MHD_Result
ctl_bulk(struct MHD_Connection *c, struct view *v)
{
	uint64_t n = argu(c, "n", 0);
	const char *pre = arg(c, "prefix") ? arg(c, "prefix") : "u", *why;
	char label[KT_CANON_MAX + 1], raw[128];
	uint8_t key[32];

	for (uint64_t i = 0; i < n; i++) {
		snprintf(raw, sizeof(raw), "%s%" PRIu64, pre, i);
		randombytes_buf(key, sizeof(key));
		if (canon(raw, label) != 0 ||
		    view_add(v, &K, label, KT_VALUE_KEY, "ed25519", key,
		        sizeof(key), 0, 0) < 0)
			return error(c, 400, "bad prefix");
	}
	if (seal(c, v, &why) != 0)
		return error(c, 400, why);
	return reply_json(c, 200, json_pack("{s:I}", "size", (json_int_t)v->n),
	    NULL);
}

static enum MHD_Result
ctl_fork(struct MHD_Connection *c)
{
	struct view *from = &views[argu(c, "from", 0) % NVIEWS];
	struct view *to = &views[argu(c, "to", 1) % NVIEWS];

	if (from == to)
		return error(c, 400, "same view");
	view_copy(to, from);
	return reply_json(c, 200, json_pack("{s:I}", "size", (json_int_t)to->n),
	    NULL);
}

static struct client *
find_client(const char *name, size_t len)
{
	for (size_t i = 0; name != NULL && i < nclients; i++)
		if (strlen(clients[i].name) == len &&
		    memcmp(clients[i].name, name, len) == 0)
			return &clients[i];
	return NULL;
}

static enum MHD_Result
ctl_client(struct MHD_Connection *c)
{
	const char *name = arg(c, "name");
	struct client *cl;

	if (name == NULL || strlen(name) >= sizeof(cl->name))
		return error(c, 400, "name");
	if ((cl = find_client(name, strlen(name))) == NULL) {
		if (nclients == NCLIENTS)
			return error(c, 400, "too many clients");
		cl = &clients[nclients++];
		memset(cl, 0, sizeof(*cl));
		snprintf(cl->name, sizeof(cl->name), "%s", name);
	}
	cl->view = (int)(argu(c, "view", 0) % NVIEWS);
	cl->size = argu(c, "size", 0);
	cl->page = argu(c, "page", 0);
	cl->replay = argu(c, "replay", 0);
	snprintf(cl->mode, sizeof(cl->mode), "%s",
	    arg(c, "mode") ? arg(c, "mode") : "honest");
	if (canon(arg(c, "label"), cl->label) != 0)
		cl->label[0] = '\0';
	if (canon(arg(c, "other"), cl->other) != 0)
		cl->other[0] = '\0';
	return reply_json(c, 200, json_pack("{s:s}", "ok", name), NULL);
}

static enum MHD_Result
ctl_cosig(struct MHD_Connection *c)
{
	const char *name = arg(c, "name"), *line = arg(c, "line");
	struct client *cl = find_client(name, name ? strlen(name) : 0);
	size_t n;

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
	struct view *v = &views[argu(c, "view", 0) % NVIEWS];
	const char *why;

	if (strcmp(what, "add") == 0)
		return ctl_add(c, v);
	if (strcmp(what, "seal") == 0) {
		if (seal(c, v, &why) != 0)
			return error(c, 400, why);
		return reply_json(c, 200,
		    json_pack("{s:I}", "size", (json_int_t)v->n), NULL);
	}
	if (strcmp(what, "bulk") == 0)
		return ctl_bulk(c, v);
	if (strcmp(what, "fork") == 0)
		return ctl_fork(c);
	if (strcmp(what, "client") == 0)
		return ctl_client(c);
	if (strcmp(what, "cosig") == 0)
		return ctl_cosig(c);
	return error(c, 404, "no such control");
}

/* ---- the directory API, per client -------------------------------------- */

/* What one request of client cl sees: its view, the checkpoint size and
 * that checkpoint's note as this client is shown it. */
struct req {
	struct MHD_Connection *c;
	struct client *cl;
	struct view *v;
	uint64_t size;
	char note[KT_NOTE_MAX];
};

/* 1 if the client's lie applies to label (canonical). */
static int
targets(const struct client *cl, const char *label)
{
	return cl->label[0] == '\0' || strcmp(cl->label, label) == 0;
}

/* The update leaf i as history and map answers carry it. */
static json_t *
leaf_json(struct req *q, struct view *v, uint64_t i, uint64_t size)
{
	uint8_t buf[KT_UPDATE_LEN];
	size_t len = v->l[i].len;

	memcpy(buf, v->l[i].bytes, len);
	if (is_mode(q->cl, "tamper-entry") && v->l[i].kind == KT_LEAF_UPDATE)
		buf[len - 1] ^= 1;
	return json_pack("{s:I,s:o,s:o}", "index", (json_int_t)i, "entry",
	    b64(buf, len), "proof", proof_json(v, i, size));
}

/* ---- lookups ------------------------------------------------------------ */

/* The previous version's update, opening and value in place of the
 * latest (the map path stays the current one). */
static void
previous_update(struct req *q, struct kt_lookup_proof *p, uint64_t size)
{
	const struct dleaf *d = &q->v->l[p->update.prev_index];

	p->update = d->u;
	if (view_inclusion(q->v, p->update.prev_index, size,
	        &p->update_proof) != 0)
		return;
	memcpy(p->opening, d->opening, KT_OPENING_LEN);
	p->prev_chain = d->prev_chain;
	p->kind = d->vkind;
	if (d->key_type_len > 0) /* a revocation's are NULL */
		memcpy(p->key_type, d->key_type, d->key_type_len);
	p->key_type_len = d->key_type_len;
	if (d->key_len > 0)
		memcpy(p->key, d->key, d->key_len);
	p->key_len = d->key_len;
}

/* The lookup proof of label at size, as q's client is lied to. */
static int
lookup_lie(struct req *q, const char *label, uint64_t size,
    struct kt_lookup_proof *p)
{
	const struct client *cl = q->cl;
	int lie = targets(cl, label);
	struct kt_hash idx;
	int64_t ui;

	if (lie && is_mode(cl, "vrf-other") && cl->other[0] != '\0') {
		if (view_lookup(q->v, &K, cl->other, size, p) != 0)
			return -1;
		p->label_len = strlen(label);
		memcpy(p->label, label, p->label_len + 1);
		return 0;
	}
	if (lie && is_mode(cl, "stale") &&
	    (ui = view_find(q->v, size, label)) >= 0) {
		/* The checkpoint before the latest update: validly signed
		 * once, and its proof holds there. */
		uint64_t s = (uint64_t)ui;

		while (s > 1 && !view_is_checkpoint(q->v, s))
			s--;
		size = s;
	}
	if (lie && is_mode(cl, "absent-old"))
		size = 1;
	if (view_lookup(q->v, &K, label, size, p) != 0)
		return -1;
	if (!lie)
		return 0;
	if (is_mode(cl, "stale-update") && p->present &&
	    p->update.version > 1) {
		previous_update(q, p, size);
	} else if (is_mode(cl, "absent") && p->present) {
		idx = p->map.leaf.index;
		idx.b[0] ^= 0x80; /* a path that parts from the label's */
		if (dir_map_prove(&p->head.root, &idx, &p->map) != 0)
			return -1;
		p->present = 0;
	} else if (is_mode(cl, "vrf-forge")) {
		p->vrf_proof[KT_VRF_PROOF_LEN - 32] ^= 1; /* s's low bit */
	} else if (is_mode(cl, "unlogged") && p->present &&
	    p->kind == KT_VALUE_KEY) {
		memset(p->key, 0x66, p->key_len);
	}
	return 0;
}

static void
put_value(json_t *o, uint8_t kind, const char *kt, size_t ktl,
    const uint8_t *key, size_t kl)
{
	if (kind == KT_VALUE_REVOKE) {
		json_object_set_new(o, "revoked", json_true());
		return;
	}
	json_object_set_new(o, "key_type", json_stringn(kt, ktl));
	json_object_set_new(o, "key", b64(key, kl));
}

/* GET /v1/keys/<label>[?checkpoint_size=N], as kt-logd answers it. */
static enum MHD_Result
api_lookup(struct req *q, const char *label)
{
	uint64_t size = argu(q->c, "checkpoint_size", 0);
	int replay = is_mode(q->cl, "replay") && targets(q->cl, label) &&
	    view_is_checkpoint(q->v, q->cl->replay);
	struct kt_lookup_proof *p = NULL;
	uint8_t pi[KT_VRF_PROOF_LEN], *buf = NULL;
	char rnote[KT_NOTE_MAX];
	const char *note = q->note;
	struct kt_hash idx;
	size_t n = 0;
	json_t *o;

	if (size == 0)
		size = q->size;
	if (size > q->size || !view_is_checkpoint(q->v, size))
		return error(q->c, 400, "checkpoint_size is not a checkpoint");
	if (replay) {
		/* An older answer, validly signed when it was made. */
		size = q->cl->replay;
		if (view_note(q->v, &K, size, K.signer, rnote, sizeof(rnote)))
			return error(q->c, 500, "cannot sign");
		note = rnote;
	}
	if ((p = malloc(sizeof(*p))) == NULL)
		abort();
	if (lookup_lie(q, label, size, p) != 0 || (n = kt_lookup_len(p)) == 0 ||
	    (buf = malloc(n)) == NULL ||
	    kt_lookup_encode(p, buf, n, &n) != KT_OK ||
	    dir_vrf(&K,
	        is_mode(q->cl, "vrf-other") && q->cl->other[0] ? q->cl->other
	                                                       : label,
	        strlen(label), pi, &idx) != 0) {
		free(p);
		free(buf);
		return error(q->c, 500, "cannot make the lookup proof");
	}
	o = json_pack("{s:s,s:o,s:o,s:b}", "label", label, "map_index",
	    b64(idx.b, KT_HASH_LEN), "vrf_proof",
	    b64(p->vrf_proof, KT_VRF_PROOF_LEN), "present", p->present);
	if (p->present) {
		json_object_set_new(o, "version",
		    json_integer((json_int_t)p->update.version));
		json_object_set_new(o, "update_index",
		    json_integer((json_int_t)p->map.leaf.update_index));
		put_value(o, p->kind, p->key_type, p->key_type_len, p->key,
		    p->key_len);
	} else {
		json_object_set_new(o, "error",
		    json_string("label has never been published"));
		json_object_set_new(o, "status", json_integer(404));
	}
	json_object_set_new(o, "head_index",
	    json_integer((json_int_t)p->head.log_size));
	json_object_set_new(o, "head_timestamp_ms",
	    json_integer((json_int_t)p->head.timestamp_ms));
	json_object_set_new(o, "lookup_proof", b64(buf, n));
	json_object_set_new(o, "checkpoint_size",
	    json_integer((json_int_t)size));
	if (size == q->size || replay)
		json_object_set_new(o, "checkpoint", json_string(note));
	n = p->present ? 200 : 404;
	free(p);
	free(buf);
	return reply_json(q->c, (unsigned)n, o, q->cl);
}

/* ---- history, map paths ------------------------------------------------- */

/* One version of a history page, with its secrets. */
static json_t *
version_json(struct req *q, struct view *v, uint64_t j, uint64_t size)
{
	const struct dleaf *d = &v->l[j];
	json_t *o = leaf_json(q, v, j, size);

	json_object_set_new(o, "version",
	    json_integer((json_int_t)d->u.version));
	json_object_set_new(o, "prev_chain", b64(d->prev_chain.b, KT_HASH_LEN));
	json_object_set_new(o, "opening", b64(d->opening, KT_OPENING_LEN));
	put_value(o, d->vkind, d->key_type, d->key_type_len, d->key,
	    d->key_len);
	return o;
}

/* GET /v1/keys/<label>/history[?from=V], paged as cl->page says. */
static enum MHD_Result
api_history(struct req *q, const char *label)
{
	struct view *v = q->v;
	uint64_t size = q->size, from = argu(q->c, "from", 1), n = 0, next = 0;
	int lie = targets(q->cl, label);
	char fnote[KT_NOTE_MAX];
	const char *note = q->note;
	uint8_t pi[KT_VRF_PROOF_LEN];
	struct kt_hash idx;
	int64_t latest, hide = -1;
	json_t *vs, *o;

	if (lie &&
	    (is_mode(q->cl, "history-fork") ||
	        (is_mode(q->cl, "page-fork") && from > 1))) {
		v = &views[(q->cl->view + 1) % NVIEWS];
		size = v->last_head + 1;
		if (view_note(v, &K, size, K.signer, fnote, sizeof(fnote)))
			return error(q->c, 500, "cannot sign");
		note = fnote;
	}
	if ((latest = view_find(v, size, label)) < 0)
		return error(q->c, 404, "label has never been published");
	if (lie && is_mode(q->cl, "hide-history"))
		hide = latest;
	if (dir_vrf(&K, label, strlen(label), pi, &idx) != 0)
		return error(q->c, 500, "VRF");
	vs = json_array();
	for (int64_t j = 0; j <= latest; j++) {
		const struct dleaf *d = &v->l[j];

		if (d->kind != KT_LEAF_UPDATE || strcmp(d->label, label) != 0 ||
		    j == hide || d->u.version < from)
			continue;
		if (q->cl->page != 0 && n == q->cl->page) {
			next = d->u.version;
			break;
		}
		json_array_append_new(vs,
		    version_json(q, v, (uint64_t)j, size));
		n++;
	}
	if (n == 0) {
		json_decref(vs);
		return error(q->c, 400, "'from' is past the label's versions");
	}
	o = json_pack("{s:s,s:o,s:o,s:I,s:s,s:o}", "label", label, "map_index",
	    b64(idx.b, KT_HASH_LEN), "vrf_proof", b64(pi, sizeof(pi)),
	    "checkpoint_size", (json_int_t)size, "checkpoint", note, "versions",
	    vs);
	if (next != 0)
		json_object_set_new(o, "next",
		    json_integer(
		        (json_int_t)(is_mode(q->cl, "next-stuck") ? from
		                                                  : next)));
	return reply_json(q->c, 200, o, q->cl);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* GET /v1/map/<64 hex digits>[?checkpoint_size=N]. */
static enum MHD_Result
api_map(struct req *q, const char *hex)
{
	uint64_t size = argu(q->c, "checkpoint_size", q->size);
	struct kt_map_proof *p;
	uint8_t buf[KT_MAP_PROOF_MAX];
	struct kt_hash idx;
	size_t len;
	int present;
	json_t *o;

	if (strlen(hex) != 2 * KT_HASH_LEN)
		return error(q->c, 400, "a map index is 64 hex digits");
	for (size_t i = 0; i < KT_HASH_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return error(q->c, 400, "a map index is 64 hex digits");
		idx.b[i] = (uint8_t)(hi << 4 | lo);
	}
	if (size > q->size || !view_is_checkpoint(q->v, size))
		return error(q->c, 400, "checkpoint_size is not a checkpoint");
	if ((p = malloc(sizeof(*p))) == NULL)
		abort();
	if (dir_map_prove(&q->v->l[size - 1].h.root, &idx, p) != 0 ||
	    kt_map_proof_encode(p, buf, sizeof(buf), &len) != KT_OK) {
		free(p);
		return error(q->c, 500, "cannot prove");
	}
	present = p->has_leaf && kt_hash_eq(&p->leaf.index, &idx);
	o = json_pack("{s:o,s:I,s:o,s:b,s:o}", "map_index",
	    b64(idx.b, KT_HASH_LEN), "checkpoint_size", (json_int_t)size,
	    "head", leaf_json(q, q->v, size - 1, size), "present", present,
	    "map_proof", b64(buf, len));
	if (present) {
		json_object_set_new(o, "version",
		    json_integer((json_int_t)p->leaf.version));
		json_object_set_new(o, "update_index",
		    json_integer((json_int_t)p->leaf.update_index));
	}
	if (size == q->size)
		json_object_set_new(o, "checkpoint", json_string(q->note));
	free(p);
	return reply_json(q->c, 200, o, q->cl);
}

static int
hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, KT_HASH_LEN);
}

/* The paths, in the map of head prev, of the distinct indexes of the
 * updates in (prev, h), sorted: as kt-logd serves them. */
static json_t *
audit_paths(struct req *q, uint64_t prev, uint64_t h)
{
	const struct view *v = q->v;
	struct kt_hash *idx = calloc(h - prev, sizeof(*idx));
	struct kt_map_proof *p = malloc(sizeof(*p));
	uint8_t *buf = malloc(KT_MAP_PROOF_MAX);
	json_t *a = json_array();
	size_t k = 0, j = 0, len;

	if (idx == NULL || p == NULL || buf == NULL || a == NULL)
		abort();
	for (uint64_t i = prev + 1; i < h; i++)
		if (v->l[i].kind == KT_LEAF_UPDATE)
			idx[k++] = v->l[i].u.index;
	qsort(idx, k, sizeof(*idx), hash_cmp);
	for (size_t i = 0; i < k; i++)
		if (j == 0 || !kt_hash_eq(&idx[j - 1], &idx[i]))
			idx[j++] = idx[i];
	for (size_t i = 0; i < j; i++) {
		if (dir_map_prove(&v->l[prev].h.root, &idx[i], p) != 0 ||
		    kt_map_proof_encode(p, buf, KT_MAP_PROOF_MAX, &len) !=
		        KT_OK)
			abort();
		/* audit-badpath: the last byte of the first path's leaf
		 * (its chain) changed, so it no longer reaches the root. */
		if (i == 0 && is_mode(q->cl, "audit-badpath"))
			buf[len - 1] ^= 1;
		/* audit-nopath: the last path left out. */
		if (i + 1 == j && j > 0 && is_mode(q->cl, "audit-nopath"))
			break;
		json_array_append_new(a, b64(buf, len));
	}
	free(idx);
	free(p);
	free(buf);
	return a;
}

/* GET /v1/map/audit/<head index>: what a stateless auditor needs for the
 * batch that map head closes (kt-logd's read_map_audit). */
static enum MHD_Result
api_map_audit(struct req *q, const char *num)
{
	const struct view *v = q->v;
	char *end;
	uint64_t h = strtoull(num, &end, 10), prev;

	if (num[0] < '0' || num[0] > '9' || *end != '\0' || h >= q->size ||
	    v->l[h].kind != KT_LEAF_MAP_HEAD ||
	    (prev = v->l[h].h.prev_head) == KT_NO_PREV || prev >= h ||
	    v->l[prev].kind != KT_LEAF_MAP_HEAD)
		return error(q->c, 400,
		    "not a map head closing a batch (with a link to a map "
		    "head before it)");
	return reply_json(q->c, 200,
	    json_pack("{s:I,s:I,s:o,s:o,s:o}", "head_index", (json_int_t)h,
	        "prev_head_index", (json_int_t)prev, "prev_root",
	        b64(v->l[prev].h.root.b, KT_HASH_LEN), "root",
	        b64(v->l[h].h.root.b, KT_HASH_LEN), "paths",
	        audit_paths(q, prev, h)),
	    NULL);
}

/* ---- the log ------------------------------------------------------------ */

static enum MHD_Result
api_consistency(struct req *q)
{
	uint64_t a = argu(q->c, "old", 0), b = argu(q->c, "new", 0);
	struct kt_proof p;
	json_t *h;

	if (b > q->v->n || a > b ||
	    kt_merkle_consistency_proof(view_node, q->v, a, b, &p) != KT_OK)
		return error(q->c, 400, "bad sizes");
	h = json_array();
	for (size_t k = 0; k < p.n; k++)
		json_array_append_new(h, b64(p.h[k].b, KT_HASH_LEN));
	return reply_json(q->c, 200,
	    json_pack("{s:I,s:I,s:o}", "old", (json_int_t)a, "new",
	        (json_int_t)b, "hashes", h),
	    NULL);
}

static const struct dleaf *shown_leaf(const struct req *q, uint64_t i);

/* GET /v1/entries?start&end (hide-entries serves the label's previous
 * update in place of each later one). */
static enum MHD_Result
api_entries(struct req *q)
{
	uint64_t s = argu(q->c, "start", 0), e = argu(q->c, "end", 0);
	json_t *a;

	if (e > q->v->n)
		e = q->v->n;
	if (s >= e || e - s > PAGE)
		return error(q->c, 400, "bad range");
	a = json_array();
	for (uint64_t i = s; i < e; i++) {
		const struct dleaf *d = shown_leaf(q, i);

		json_array_append_new(a, b64(d->bytes, d->len));
	}
	return reply_json(q->c, 200, json_pack("{s:o}", "entries", a), NULL);
}

/* The leaf a client is shown at index i (hide-entries serves the label's
 * previous update in place of each later one). */
static const struct dleaf *
shown_leaf(const struct req *q, uint64_t i)
{
	const struct dleaf *d = &q->v->l[i];

	if (is_mode(q->cl, "hide-entries") && d->kind == KT_LEAF_UPDATE &&
	    d->u.version > 1 && strcmp(d->label, q->cl->label) == 0)
		d = &q->v->l[d->u.prev_index];
	return d;
}

/* GET /tile/entries/<N>[.p/<W>]: an entry bundle of the view, as far as
 * the view has leaves (so a client pinned to an older size still finds
 * the full bundles past it). Modes: hide-entries (above), bundle-short
 * (a partial bundle one entry short), bundle-flip (in a partial bundle
 * ending at a map head, the last byte of the entry before it changed),
 * nopartial (partial bundles 404, as once the full one exists). */
static enum MHD_Result
api_bundle(struct req *q, const char *path)
{
	static uint8_t buf[KT_TILE_WIDTH * (2 + KT_UPDATE_LEN)];
	struct kt_tile t;
	size_t off = 0;
	uint64_t first;

	if (kt_tile_parse_path(path + 1, strlen(path + 1), &t) != KT_OK ||
	    t.level != KT_TILE_LEVEL_ENTRIES)
		return error(q->c, 404, "no such tile");
	first = t.index * KT_TILE_WIDTH;
	if (first + t.width > q->v->n ||
	    (t.width < KT_TILE_WIDTH && is_mode(q->cl, "nopartial")))
		return error(q->c, 404, "no such bundle");
	if (t.width < KT_TILE_WIDTH && is_mode(q->cl, "bundle-short"))
		t.width--;
	for (uint64_t i = first; i < first + t.width; i++) {
		const struct dleaf *d = shown_leaf(q, i);

		if (kt_bundle_append(buf, sizeof(buf), &off, d->bytes,
		        d->len) != KT_OK)
			return error(q->c, 500, "bundle");
	}
	if (t.width < KT_TILE_WIDTH && t.width >= 2 &&
	    is_mode(q->cl, "bundle-flip") &&
	    q->v->l[first + t.width - 1].kind == KT_LEAF_MAP_HEAD)
		buf[off - (2 + KT_MAP_HEAD_LEN) - 1] ^= 1;
	return reply(q->c, 200, "application/octet-stream", (char *)buf, off);
}

static char vkey[KT_KEY_TEXT_MAX];

static enum MHD_Result
api_log(struct MHD_Connection *c)
{
	return reply_json(c, 200,
	    json_pack("{s:s,s:s,s:o}", "origin", K.origin, "verifier_key", vkey,
	        "vrf_public_key", b64(K.vrf_pk, KT_VRF_PUBLIC_LEN)),
	    NULL);
}

/* /checkpoint: the client's, or the witnessed one with its cosignatures. */
static enum MHD_Result
api_checkpoint(struct req *q)
{
	char wn[KT_NOTE_MAX + sizeof(q->cl->cosig)];

	if (q->cl->cosig_size == 0 ||
	    !view_is_checkpoint(q->v, q->cl->cosig_size))
		return reply(q->c, 200, "text/plain; charset=utf-8", q->note,
		    strlen(q->note));
	if (view_note(q->v, &K, q->cl->cosig_size, K.signer, wn, KT_NOTE_MAX))
		return error(q->c, 500, "cannot sign");
	strcat(wn, q->cl->cosig);
	return reply(q->c, 200, "text/plain; charset=utf-8", wn, strlen(wn));
}

/* /v1/keys/<label>[/history] */
static enum MHD_Result
api_keys(struct req *q, const char *path)
{
	char raw[KT_LABEL_INPUT_MAX + 1], label[KT_CANON_MAX + 1];
	const char *l = path + strlen("/v1/keys/"), *slash = strchr(l, '/');
	size_t ll = slash ? (size_t)(slash - l) : strlen(l);
	int hist = slash != NULL && strcmp(slash, "/history") == 0;

	if (ll == 0 || ll > KT_LABEL_INPUT_MAX || (slash && !hist))
		return error(q->c, 404, "no route");
	memcpy(raw, l, ll);
	raw[ll] = '\0';
	if (canon(raw, label) != 0)
		return error(q->c, 400, "not a label kt accepts");
	return hist ? api_history(q, label) : api_lookup(q, label);
}

static enum MHD_Result
api_route(struct req *q, const char *path)
{
	uint64_t i = argu(q->c, "index", 0), n = argu(q->c, "size", 0);

	if (strcmp(path, "/checkpoint") == 0)
		return api_checkpoint(q);
	if (strcmp(path, "/v1/log") == 0)
		return api_log(q->c);
	if (strncmp(path, "/v1/keys/", 9) == 0)
		return api_keys(q, path);
	if (strncmp(path, "/v1/map/audit/", 14) == 0)
		return api_map_audit(q, path + 14);
	if (strncmp(path, "/v1/map/", 8) == 0)
		return api_map(q, path + 8);
	if (strcmp(path, "/v1/proof/consistency") == 0)
		return api_consistency(q);
	if (strcmp(path, "/v1/entries") == 0)
		return api_entries(q);
	if (strncmp(path, "/tile/entries/", 14) == 0)
		return api_bundle(q, path);
	if (strcmp(path, "/v1/proof/inclusion") == 0) {
		if (n > q->v->n || i >= n)
			return error(q->c, 400, "bad index or size");
		return reply_json(q->c, 200, proof_json(q->v, i, n), NULL);
	}
	return error(q->c, 404, "no route");
}

static enum MHD_Result
api(struct MHD_Connection *c, struct client *cl, const char *path)
{
	struct req *q = calloc(1, sizeof(*q));
	enum MHD_Result ret;

	if (q == NULL)
		abort();
	q->c = c;
	q->cl = cl;
	q->v = &views[cl->view];
	q->size =
	    view_is_checkpoint(q->v, cl->size) ? cl->size : q->v->last_head + 1;
	if (is_mode(cl, "stall"))
		sleep(3); /* longer than the client's --timeout in the test */
	if (view_note(q->v, &K, q->size,
	        is_mode(cl, "badsig") ? K.other : K.signer, q->note,
	        sizeof(q->note)) != 0) {
		free(q);
		return error(c, 500, "cannot sign");
	}
	if (is_mode(cl, "forgedsig")) {
		/* Inside the signature's base64, clear of the key ID at its
		 * start and the padding at its end: still canonical. */
		size_t nl = strlen(q->note);
		q->note[nl - 10] = q->note[nl - 10] == 'A' ? 'B' : 'A';
	}
	ret = api_route(q, path);
	free(q);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	const char *name, *rest;
	struct client *cl;

	(void)cls;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") != 0)
		return error(c, 405, "GET only");
	if (strncmp(url, "/ctl/", 5) == 0)
		return ctl(c, url + 5);
	if (strcmp(url, "/v1/log") == 0)
		return api_log(c);
	if (strncmp(url, "/c/", 3) != 0)
		return error(c, 404, "no route");
	name = url + 3;
	if ((rest = strchr(name, '/')) == NULL ||
	    (cl = find_client(name, (size_t)(rest - name))) == NULL)
		return error(c, 404, "unknown client");
	return api(c, cl, rest);
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
	struct kt_verifier vk;
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	const char *origin = "attack.example/log";
	long lifetime = 600;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--origin") == 0)
			origin = argv[i + 1];
		else if (strcmp(argv[i], "--lifetime") == 0)
			lifetime = strtol(argv[i + 1], NULL, 10);
	}
	if (sodium_init() < 0 || dir_init(&K, origin) != 0)
		return 1;
	kt_signer_verifier(K.signer, &vk);
	if (kt_verifier_format(&vk, vkey, sizeof(vkey)) != KT_OK)
		return 1;
	for (int v = 0; v < NVIEWS; v++)
		view_init(&views[v], now_ms());
	/* 127.0.0.1 on a free port chosen by the kernel. */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	        MHD_USE_ERROR_LOG,
	    0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_END);
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
		view_free(&views[v]);
	dir_fini(&K);
	return 0;
}
