/*
 * parse.c: the log's JSON responses, as untrusted input; and the records
 * this client keeps (frontiers, leaves) and evidence files carry, read
 * back with the same strictness.
 *
 * Every field is type checked, every integer must be a non-negative JSON
 * integer, every base64 field is decoded strictly with its exact length
 * bound, entries are decoded with the proto codec, and cross-field facts
 * (leaf hash = H(entry), entry version = "version", proof index = "index")
 * are checked here so the command code never sees an inconsistent leaf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "verify_internal.h"

kt_err
kt_vparse_object(const char *body, size_t len, json_t **out, char *detail,
    size_t dlen)
{
	json_error_t je;
	json_t *o;

	*out = NULL;
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		kt_msg(detail, dlen, "response is not JSON: %s", je.text);
		return KT_ERR_MALFORMED;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		kt_msg(detail, dlen, "response is not a JSON object");
		return KT_ERR_MALFORMED;
	}
	*out = o;
	return KT_OK;
}

static kt_err
get_u64(const json_t *o, const char *key, uint64_t *out, char *detail,
    size_t dlen)
{
	if (kt_vparse_u64(o, key, out) != KT_OK) {
		kt_msg(detail, dlen,
		    "field \"%s\" is not a non-negative "
		    "integer",
		    key);
		return KT_ERR_MALFORMED;
	}
	return KT_OK;
}

static kt_err
get_hashes(const json_t *o, const char *key, struct kt_proof *out, char *detail,
    size_t dlen)
{
	json_t *a = json_object_get(o, key);
	size_t n;

	if (!json_is_array(a)) {
		kt_msg(detail, dlen, "field \"%s\" is not an array", key);
		return KT_ERR_MALFORMED;
	}
	n = json_array_size(a);
	if (n > KT_MAX_PROOF) {
		kt_msg(detail, dlen,
		    "field \"%s\" has %zu hashes, more than "
		    "%d",
		    key, n, KT_MAX_PROOF);
		return KT_ERR_MALFORMED;
	}
	for (size_t i = 0; i < n; i++) {
		if (kt_vparse_hash(json_array_get(a, i), &out->h[i]) != KT_OK) {
			kt_msg(detail, dlen,
			    "%s[%zu] is not a base64 "
			    "32-byte hash",
			    key, i);
			return KT_ERR_MALFORMED;
		}
	}
	out->n = n;
	return KT_OK;
}

kt_err
kt_vparse_proof(const json_t *o, struct kt_vproof *out, char *detail,
    size_t dlen)
{
	kt_err err;

	if (!json_is_object(o)) {
		kt_msg(detail, dlen, "proof is not a JSON object");
		return KT_ERR_MALFORMED;
	}
	if ((err = get_u64(o, "index", &out->index, detail, dlen)) != KT_OK ||
	    (err = get_u64(o, "size", &out->size, detail, dlen)) != KT_OK ||
	    (err = get_hashes(o, "hashes", &out->proof, detail, dlen)) != KT_OK)
		return err;
	return KT_OK;
}

kt_err
kt_vparse_consistency(const json_t *o, uint64_t old, uint64_t new_size,
    struct kt_proof *out, char *detail, size_t dlen)
{
	uint64_t a, b;
	kt_err err;

	if ((err = get_u64(o, "old", &a, detail, dlen)) != KT_OK ||
	    (err = get_u64(o, "new", &b, detail, dlen)) != KT_OK ||
	    (err = get_hashes(o, "hashes", out, detail, dlen)) != KT_OK)
		return err;
	if (a != old || b != new_size) {
		kt_msg(detail, dlen,
		    "consistency proof is for %llu->%llu, "
		    "asked %llu->%llu",
		    (unsigned long long)a, (unsigned long long)b,
		    (unsigned long long)old, (unsigned long long)new_size);
		return KT_ERR_VERIFY;
	}
	return KT_OK;
}

kt_err
kt_vparse_leaf(const json_t *o, int need_proof, struct kt_vleaf *out,
    char *detail, size_t dlen)
{
	json_t *je = json_object_get(o, "entry");
	json_t *jl = json_object_get(o, "leaf_hash");
	json_t *jp = json_object_get(o, "proof");
	uint64_t version = 0;
	kt_err err;

	if (!json_is_object(o)) {
		kt_msg(detail, dlen, "entry record is not a JSON object");
		return KT_ERR_MALFORMED;
	}
	if ((err = get_u64(o, "index", &out->index, detail, dlen)) != KT_OK ||
	    (json_object_get(o, "version") != NULL &&
	        (err = get_u64(o, "version", &version, detail, dlen)) != KT_OK))
		return err;
	if (!json_is_string(je) ||
	    kt_b64_decode(json_string_value(je), json_string_length(je),
	        out->entry, sizeof(out->entry), &out->entry_len) != KT_OK ||
	    kt_vleaf_decode(out) != KT_OK) {
		kt_msg(detail, dlen,
		    "field \"entry\" at index %llu is not base64 of an "
		    "update or map head leaf",
		    (unsigned long long)out->index);
		return KT_ERR_MALFORMED;
	}
	if (jl != NULL) {
		struct kt_hash h;
		if (!json_is_string(jl) ||
		    kt_vb64_hash(json_string_value(jl), json_string_length(jl),
		        &h) != KT_OK) {
			kt_msg(detail, dlen,
			    "field \"leaf_hash\" is not a "
			    "base64 32-byte hash");
			return KT_ERR_MALFORMED;
		}
		if (!kt_hash_eq(&h, &out->leaf_hash)) {
			kt_msg(detail, dlen,
			    "leaf_hash is not the hash of "
			    "the entry bytes");
			return KT_ERR_VERIFY;
		}
	}
	if (json_object_get(o, "version") != NULL &&
	    (out->kind != KT_LEAF_UPDATE || out->version != version)) {
		kt_msg(detail, dlen,
		    "leaf %llu is not an update of version %llu",
		    (unsigned long long)out->index,
		    (unsigned long long)version);
		return KT_ERR_VERIFY;
	}
	if (!need_proof)
		return KT_OK;
	if ((err = kt_vparse_proof(jp, &out->proof, detail, dlen)) != KT_OK)
		return err;
	if (out->proof.index != out->index) {
		kt_msg(detail, dlen,
		    "proof is for index %llu, entry is at "
		    "%llu",
		    (unsigned long long)out->proof.index,
		    (unsigned long long)out->index);
		return KT_ERR_VERIFY;
	}
	return KT_OK;
}

kt_err
kt_vparse_b64n(const json_t *o, const char *key, uint8_t *out, size_t n)
{
	json_t *j = json_object_get(o, key);
	uint8_t buf[512];
	size_t got;

	if (!json_is_string(j) || n > sizeof(buf) ||
	    json_string_length(j) != KT_B64_LEN(n) ||
	    kt_b64_decode(json_string_value(j), json_string_length(j), buf,
	        sizeof(buf), &got) != KT_OK ||
	    got != n)
		return KT_ERR_MALFORMED;
	memcpy(out, buf, n);
	return KT_OK;
}

kt_err
kt_vparse_lookup(const char *body, size_t len, long status, const char *label,
    struct kt_vlookup *out, char *detail, size_t dlen)
{
	json_t *o = NULL, *jl, *jc, *jp;
	size_t llen = strlen(label), n;
	uint8_t *buf = NULL;
	kt_err err;

	if ((err = kt_vparse_object(body, len, &o, detail, dlen)) != KT_OK)
		return err;
	jl = json_object_get(o, "label");
	jc = json_object_get(o, "checkpoint");
	jp = json_object_get(o, "lookup_proof");
	out->http_present = status == 200;
	out->note_len = 0;
	if (!json_is_string(jl) || json_string_length(jl) != llen ||
	    memcmp(json_string_value(jl), label, llen) != 0) {
		kt_msg(detail, dlen, "response is not for label \"%s\"", label);
		err = KT_ERR_VERIFY;
		goto out;
	}
	if ((err = get_u64(o, "checkpoint_size", &out->checkpoint_size, detail,
	         dlen)) != KT_OK)
		goto out;
	if (jc != NULL &&
	    (!json_is_string(jc) || json_string_length(jc) > KT_NOTE_MAX)) {
		kt_msg(detail, dlen,
		    "field \"checkpoint\" is not a string "
		    "of at most %d bytes",
		    KT_NOTE_MAX);
		err = KT_ERR_MALFORMED;
		goto out;
	}
	err = KT_ERR_MALFORMED;
	if ((buf = malloc(KT_LOOKUP_MAX)) == NULL) {
		err = KT_ERR_NOMEM;
		goto out;
	}
	if (!json_is_string(jp) ||
	    kt_b64_decode(json_string_value(jp), json_string_length(jp), buf,
	        KT_LOOKUP_MAX, &n) != KT_OK ||
	    kt_lookup_decode(buf, n, &out->p) != KT_OK) {
		kt_msg(detail, dlen,
		    "field \"lookup_proof\" is not base64 of a "
		    "well-formed lookup proof");
		goto out;
	}
	if (out->p.present != out->http_present) {
		kt_msg(detail, dlen,
		    "HTTP %ld, but the lookup proof claims the label is %s",
		    status, out->p.present ? "present" : "absent");
		err = KT_ERR_VERIFY;
		goto out;
	}
	if (jc != NULL) {
		out->note_len = json_string_length(jc);
		memcpy(out->note, json_string_value(jc), out->note_len);
		out->note[out->note_len] = '\0';
	}
	err = KT_OK;
out:
	free(buf);
	json_decref(o);
	return err;
}

/* ---- records of this client and of evidence files ------------------------- */

kt_err
kt_vparse_u64(const json_t *o, const char *key, uint64_t *out)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return KT_ERR_MALFORMED;
	*out = (uint64_t)json_integer_value(j);
	return KT_OK;
}

kt_err
kt_vparse_hash(const json_t *j, struct kt_hash *out)
{
	if (!json_is_string(j))
		return KT_ERR_MALFORMED;
	return kt_vb64_hash(json_string_value(j), json_string_length(j), out);
}

kt_err
kt_vparse_hashes(const json_t *a, struct kt_proof *out)
{
	if (!json_is_array(a) || json_array_size(a) > KT_MAX_PROOF)
		return KT_ERR_MALFORMED;
	out->n = json_array_size(a);
	for (size_t i = 0; i < out->n; i++)
		if (kt_vparse_hash(json_array_get(a, i), &out->h[i]) != KT_OK)
			return KT_ERR_MALFORMED;
	return KT_OK;
}

kt_err
kt_vparse_frontier(const json_t *a, uint64_t size, struct kt_frontier *out,
    char *detail, size_t dlen)
{
	size_t i = 0;

	kt_frontier_init(out);
	out->size = size;
	if (!json_is_array(a) ||
	    json_array_size(a) != (size_t)__builtin_popcountll(size)) {
		kt_msg(detail, dlen,
		    "frontier must hold one hash per set "
		    "bit of the tree size");
		return KT_ERR_MALFORMED;
	}
	for (int b = 63; b >= 0; b--) {
		if (!(size >> b & 1))
			continue;
		if (kt_vparse_hash(json_array_get(a, i++), &out->h[b]) !=
		    KT_OK) {
			kt_msg(detail, dlen, "bad frontier hash");
			return KT_ERR_MALFORMED;
		}
	}
	return KT_OK;
}

kt_err
kt_vparse_stored_leaf(const json_t *o, struct kt_vleaf *out)
{
	json_t *je = json_object_get(o, "entry");

	if (!json_is_object(o) ||
	    kt_vparse_u64(o, "index", &out->index) != KT_OK ||
	    kt_vparse_hashes(json_object_get(o, "hashes"), &out->proof.proof) !=
	        KT_OK ||
	    !json_is_string(je) ||
	    kt_b64_decode(json_string_value(je), json_string_length(je),
	        out->entry, sizeof(out->entry), &out->entry_len) != KT_OK ||
	    kt_vleaf_decode(out) != KT_OK)
		return KT_ERR_MALFORMED;
	out->proof.index = out->index;
	return KT_OK;
}
