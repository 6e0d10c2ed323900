/*
 * audit.c: `audit`, a full replay of the log from entry 0.
 *
 * Recomputes the tree from every entry (it must equal the signed root, which
 * is itself consistent with the stored checkpoint) and checks the rules the
 * sequencer promises (threats.md, "two values for one version", "rewriting
 * history"): per label, versions 1, 2, 3… each linking to the previous
 * version's index; after a revocation only a new key; timestamps never go
 * backwards. The first broken rule is turned into evidence that needs only
 * the one or two entries involved, with inclusion proofs (evidence_check.c
 * checks the same rule offline).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "verify_internal.h"

/* Open addressing, keyed SipHash (crypto_shorthash) with a random key: the
 * labels come from the log, which must not be able to pick colliding ones
 * and make the audit quadratic. */
struct slot {
	uint64_t last_version; /* 0 = empty slot */
	uint64_t last_index;
	uint32_t off; /* label bytes in the arena */
	uint8_t len;
	uint8_t last_type;
};

struct audit {
	struct slot *slots;
	size_t nslots, used;
	char *arena;
	size_t arena_len, arena_cap;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	uint64_t prev_ts;
	uint64_t revocations, keys;
	/* first violation */
	const char *rule;
	uint64_t a, b; /* entries for the evidence, in rule order */
	int single;    /* only entry a is needed */
	uint64_t violations;
};

static uint64_t
label_hash(const struct audit *au, const char *l, size_t n)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t x;

	crypto_shorthash(h, (const uint8_t *)l, n, au->hkey);
	memcpy(&x, h, sizeof(x));
	return x;
}

/* Doubles the table (from 1024 slots). KT_ERR_NOMEM. */
static kt_err
grow(struct audit *au)
{
	size_t n = au->nslots ? au->nslots * 2 : 1024;
	struct slot *ns = calloc(n, sizeof(*ns));

	if (ns == NULL)
		return KT_ERR_NOMEM;
	for (size_t i = 0; i < au->nslots; i++) {
		struct slot *s = &au->slots[i];
		size_t j;
		if (s->last_version == 0)
			continue;
		j = label_hash(au, au->arena + s->off, s->len) & (n - 1);
		while (ns[j].last_version != 0)
			j = (j + 1) & (n - 1);
		ns[j] = *s;
	}
	free(au->slots);
	au->slots = ns;
	au->nslots = n;
	return KT_OK;
}

static struct slot *
find(struct audit *au, const char *l, size_t n, int *fresh)
{
	size_t j;

	if ((au->used + 1) * 4 > au->nslots * 3 && grow(au) != KT_OK)
		return NULL;
	j = label_hash(au, l, n) & (au->nslots - 1);
	for (;;) {
		struct slot *s = &au->slots[j];
		if (s->last_version == 0) {
			if (au->arena_len + n > au->arena_cap) {
				size_t c =
				    au->arena_cap ? au->arena_cap * 2 : 1 << 20;
				char *na;
				while (c < au->arena_len + n)
					c *= 2;
				if (c > UINT32_MAX)
					return NULL;
				na = realloc(au->arena, c);
				if (na == NULL)
					return NULL;
				au->arena = na;
				au->arena_cap = c;
			}
			memcpy(au->arena + au->arena_len, l, n);
			s->off = (uint32_t)au->arena_len;
			s->len = (uint8_t)n;
			au->arena_len += n;
			au->used++;
			*fresh = 1;
			return s;
		}
		if (s->len == n && memcmp(au->arena + s->off, l, n) == 0) {
			*fresh = 0;
			return s;
		}
		j = (j + 1) & (au->nslots - 1);
	}
}

static void
violate(struct audit *au, const char *rule, uint64_t a, uint64_t b, int single)
{
	if (au->violations++ > 0)
		return;
	au->rule = rule;
	au->a = a;
	au->b = b;
	au->single = single;
}

/* Evidence for a broken previous-version link of entry i (prev p). */
static void
bad_link(struct audit *au, uint64_t i, uint64_t p)
{
	if (p >= i)
		violate(au, "prev-link", i, 0, 1);
	else
		violate(au, "prev-link", i, p, 0);
}

static enum kt_verify_outcome
audit_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len,
    const struct kt_entry *e, struct kt_vresult *r)
{
	struct audit *au = ctx;
	struct slot *s;
	int fresh = 0;

	(void)entry;
	(void)len;
	if (index > 0 && e->timestamp_ms < au->prev_ts)
		violate(au, "timestamp", index - 1, index, 0);
	au->prev_ts = e->timestamp_ms;
	if (e->type == KT_ENTRY_REVOKE)
		au->revocations++;
	else
		au->keys++;
	s = find(au, e->label, e->label_len, &fresh);
	if (s == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if (fresh) {
		if (e->version != 1 || e->prev_index != KT_NO_PREV)
			bad_link(au, index, e->prev_index);
	} else if (e->version <= s->last_version) {
		violate(au, "version-order", s->last_index, index, 0);
	} else if (e->version != s->last_version + 1 ||
	    e->prev_index != s->last_index) {
		bad_link(au, index, e->prev_index);
	} else if (e->type == KT_ENTRY_REVOKE &&
	    s->last_type == KT_ENTRY_REVOKE) {
		violate(au, "revoke-after-revoke", s->last_index, index, 0);
	}
	/* Follow the log as written so one bad entry is reported once. */
	if (e->version > s->last_version) {
		s->last_version = e->version;
		s->last_index = index;
		s->last_type = e->type;
	}
	return KT_VERIFY_OK;
}

enum kt_verify_outcome
kt_verify_audit(struct kt_verify *v, struct kt_vresult *r)
{
	struct audit au;
	struct kt_frontier *f = NULL;
	struct kt_signed_checkpoint sc;
	const struct kt_checkpoint *cp = &sc.cp;
	struct kt_buf note = { 0 };
	struct kt_hash root;
	struct kt_vleaf *l = NULL;
	struct timespec t0, t1;
	double secs;
	enum kt_verify_outcome st;

	memset(&au, 0, sizeof(au));
	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	randombytes_buf(au.hkey, sizeof(au.hkey));
	f = malloc(sizeof(*f));
	if (f == NULL || grow(&au) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	kt_frontier_init(f);
	if ((st = kt_vaccept_fetch(v, &note, &sc, r)) != KT_VERIFY_OK)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((st = kt_vlog_scan(v, 0, cp->size, f, audit_entry, &au, r)) !=
	    KT_VERIFY_OK)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	kt_frontier_root(f, &root);
	json_object_set_new(r->info, "entries",
	    json_integer((json_int_t)cp->size));
	json_object_set_new(r->info, "labels",
	    json_integer((json_int_t)au.used));
	json_object_set_new(r->info, "keys", json_integer((json_int_t)au.keys));
	json_object_set_new(r->info, "revocations",
	    json_integer((json_int_t)au.revocations));
	json_object_set_new(r->info, "seconds", json_real(secs));
	if (!kt_hash_eq(&root, &cp->root)) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "the entries the log served "
		    "do not hash to its signed root of size %" PRIu64 ": it is "
		    "hiding, adding or altering entries",
		    cp->size);
		goto out;
	}
	if (kt_vmaterial_save(v->dir, &sc, f) != KT_OK)
		json_object_set_new(r->info, "material_saved", json_false());
	if (au.violations > 0) {
		json_t *ents = json_array();
		int n = au.single ? 1 : 2;
		uint64_t idx[2] = { au.a, au.b };

		l = malloc(sizeof(*l));
		if (l == NULL) {
			json_decref(ents);
			st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
			goto out;
		}
		for (int i = 0; i < n; i++)
			if (kt_vlog_leaf(v, idx[i], cp, l, NULL) ==
			    KT_VERIFY_OK)
				json_array_append_new(ents, kt_vleaf_json(l));
		kt_vres(r, KT_VERIFY_ATTACK,
		    "ATTACK: the log breaks rule \"%s\" "
		    "at entry %" PRIu64 " (%" PRIu64 " violation(s) in %" PRIu64
		    " entries)",
		    au.rule, au.single || au.b < au.a ? au.a : au.b,
		    au.violations, cp->size);
		st = kt_evidence_bad_entries(v, au.rule, &sc, ents,
		    (int)json_array_size(ents) == n, r);
		goto out;
	}
	st = kt_vres(r, KT_VERIFY_OK,
	    "audit: %" PRIu64 " entries replayed in "
	    "%.2f s (%.0f/s); tree equals the signed root; %zu labels, every "
	    "version chain, revocation and timestamp in order",
	    cp->size, secs, secs > 0 ? (double)cp->size / secs : 0.0, au.used);
out:
	free(au.slots);
	free(au.arena);
	free(f);
	kt_buf_free(&note);
	free(l);
	return kt_vquorum_stale(v, r, st);
}
