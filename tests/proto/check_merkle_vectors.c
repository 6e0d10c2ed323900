/*
 * check_merkle_vectors.c: kt_merkle_verify_inclusion and
 * kt_merkle_verify_consistency against the public transparency-dev/merkle
 * vectors in ../shared/vectors/merkle.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/runner.h"
#include "kt/merkle.h"
#include "merkle_testlib.h"

/* ---- public vectors (../shared/vectors/merkle) ------------------------- */

/*
 * The vectors kt reads differently from transparency-dev/merkle, each with
 * the reason (tests/proto/VECTORS.md says the same). For these the test
 * asserts kt's outcome, the opposite of the file's wantErr.
 */
static struct {
	const char *path; /* relative to $KT_VECTORS/merkle */
	int err;          /* kt's outcome: 1 error, 0 success */
	const char *why;
	int seen;
} differs[] = {
	{ "consistency/additional/sizes-are-equal-zero-and-proof-is-empty.json",
	    0, "old size 0 + empty proof is consistent (C2SP tlog-witness)",
	    0 },
	{ "consistency/additional/sizes-are-equal-zero-but-roots-are-not.json",
	    0, "old size 0 + empty proof is consistent; roots not read", 0 },
	{ "consistency/additional/roots-do-not-match-and-sizes-are-zero.json",
	    0, "old size 0 + empty proof is consistent; roots not read", 0 },
	{ "consistency/additional/size1-is-zero-and-does-not-equal-size2.json",
	    0, "old size 0 + empty proof is consistent; roots not read", 0 },
	{ "consistency/additional/size1-is-zero-and-size2-is-not-zero.json", 0,
	    "old size 0 + empty proof is consistent; roots not read", 0 },
	{ "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
	    1,
	    "12-byte roots: kt hashes are 32 bytes, rejected as malformed "
	    "before verification",
	    0 },
};
#define NDIFFERS (sizeof(differs) / sizeof(differs[0]))

struct vstats {
	unsigned inclusion, consistency, differ;
};

/*
 * Decodes a standard-base64 JSON string into a kt hash. 0 when it is not
 * exactly KT_HASH_LEN bytes: kt's callers parse hashes as 32 bytes before any
 * verification, so such a field can never reach kt_merkle_verify_*.
 */
static int
b64_hash(json_t *v, struct kt_hash *out)
{
	uint8_t buf[128];
	const char *s;
	size_t len = 0;

	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	if (sodium_base642bin(buf, sizeof(buf), s, strlen(s), NULL, &len, NULL,
	        sodium_base64_VARIANT_ORIGINAL) != 0)
		return 0;
	if (len != KT_HASH_LEN)
		return 0;
	memcpy(out->b, buf, KT_HASH_LEN);
	return 1;
}

/* 1 if all proof elements decode; proof may be JSON null (empty). */
static int
b64_proof(json_t *v, struct kt_proof *p)
{
	size_t i;

	p->n = 0;
	if (json_is_null(v))
		return 1;
	ck_assert(json_is_array(v));
	if (json_array_size(v) > KT_MAX_PROOF)
		return 0;
	for (i = 0; i < json_array_size(v); i++) {
		if (!b64_hash(json_array_get(v, i), &p->h[p->n]))
			return 0;
		p->n++;
	}
	return 1;
}

/*
 * The vectors hold uint64 sizes and indices up to 2^64-1 (index 0 minus 1),
 * which jansson's int64 refuses. So the four numeric fields are read from the
 * text with strtoull and blanked to "0" before jansson parses the rest;
 * json_u64 then checks the field really was a JSON integer there.
 */
static const char *num_keys[4] = { "leafIdx", "treeSize", "size1", "size2" };

struct nums {
	uint64_t v[4];
	int found[4];
};

static void
take_numbers(char *text, struct nums *nu, const char *file)
{
	int k;

	for (k = 0; k < 4; k++) {
		char pat[32];
		char *p, *end;

		nu->found[k] = 0;
		snprintf(pat, sizeof(pat), "\"%s\"", num_keys[k]);
		p = strstr(text, pat);
		if (p == NULL)
			continue;
		p += strlen(pat);
		while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
			p++;
		ck_assert_msg(*p == ':', "%s: %s", file, num_keys[k]);
		p++;
		while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
			p++;
		ck_assert_msg(*p >= '0' && *p <= '9', "%s: %s not unsigned",
		    file, num_keys[k]);
		nu->v[k] = strtoull(p, &end, 10);
		ck_assert_msg(end > p && end - p <= 20, "%s", file);
		nu->found[k] = 1;
		*p++ = '0';
		while (p < end)
			*p++ = ' ';
	}
}

static uint64_t
json_u64(json_t *o, const struct nums *nu, const char *key)
{
	json_t *v = json_object_get(o, key);
	int k;

	ck_assert_msg(json_is_integer(v), "%s not an integer", key);
	for (k = 0; k < 4; k++)
		if (strcmp(key, num_keys[k]) == 0 && nu->found[k])
			return nu->v[k];
	ck_abort_msg("%s not found", key);
	return 0;
}

static json_t *
load_vector(const char *file, struct nums *nu)
{
	json_error_t jerr;
	json_t *o;
	char *text;
	long len;
	FILE *f = fopen(file, "rb");

	ck_assert_msg(f != NULL, "cannot open %s", file);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert(len > 0 && len < 1 << 20);
	rewind(f);
	text = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	text[len] = '\0';
	take_numbers(text, nu, file);
	o = json_loads(text, 0, &jerr);
	free(text);
	ck_assert_msg(o != NULL, "%s: %s", file, jerr.text);
	return o;
}

/* Runs one vector file; returns kt's outcome (1 error, 0 success). */
static int
run_vector(const char *file, int is_inclusion)
{
	struct nums nu;
	json_t *o;
	struct kt_proof p;
	struct kt_hash a, b;
	int ok, got;

	o = load_vector(file, &nu);
	ok = b64_proof(json_object_get(o, "proof"), &p);
	if (is_inclusion) {
		uint64_t idx = json_u64(o, &nu, "leafIdx");
		uint64_t size = json_u64(o, &nu, "treeSize");

		ok = ok && b64_hash(json_object_get(o, "leafHash"), &a) &&
		    b64_hash(json_object_get(o, "root"), &b);
		got = !ok ||
		    kt_merkle_verify_inclusion(&a, idx, size, p.h, p.n, &b) !=
		        KT_OK;
	} else {
		uint64_t s1 = json_u64(o, &nu, "size1");
		uint64_t s2 = json_u64(o, &nu, "size2");

		/* From size 0 kt reads no root, so none needs decoding. */
		if (s1 == 0) {
			got = !ok ||
			    kt_merkle_verify_consistency(0, s2, p.h, p.n, NULL,
			        NULL) != KT_OK;
		} else {
			ok = ok && b64_hash(json_object_get(o, "root1"), &a) &&
			    b64_hash(json_object_get(o, "root2"), &b);
			got = !ok ||
			    kt_merkle_verify_consistency(s1, s2, p.h, p.n, &a,
			        &b) != KT_OK;
		}
	}
	{
		json_t *w = json_object_get(o, "wantErr");
		const char *rel = strstr(file, "/merkle/");
		int want, i, listed = -1;

		ck_assert_msg(json_is_boolean(w), "%s: no wantErr", file);
		want = json_is_true(w);
		ck_assert(rel != NULL);
		rel += strlen("/merkle/");
		for (i = 0; i < (int)NDIFFERS; i++)
			if (strcmp(rel, differs[i].path) == 0)
				listed = i;
		if (listed >= 0) {
			differs[listed].seen++;
			/* Listed because kt's answer really is the other. */
			ck_assert_int_ne(differs[listed].err, want);
			ck_assert_msg(got == differs[listed].err,
			    "%s: kt gave %d, documented %d (%s)", rel, got,
			    differs[listed].err, differs[listed].why);
		} else {
			ck_assert_msg(got == want,
			    "%s (%s): kt gave err=%d, "
			    "want err=%d",
			    rel, json_string_value(json_object_get(o, "desc")),
			    got, want);
		}
	}
	json_decref(o);
	return got;
}

static void
walk(const char *dir, int is_inclusion, struct vstats *st)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat sb;
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir,
		                     e->d_name),
		    (int)sizeof(path));
		ck_assert_int_eq(stat(path, &sb), 0);
		if (S_ISDIR(sb.st_mode)) {
			walk(path, is_inclusion, st);
		} else if (len > 5 &&
		    strcmp(e->d_name + len - 5, ".json") == 0) {
			run_vector(path, is_inclusion);
			if (is_inclusion)
				st->inclusion++;
			else
				st->consistency++;
		}
	}
	closedir(d);
}

START_TEST(test_vectors)
{
	const char *root = getenv("KT_VECTORS");
	char dir[4096];
	struct vstats st = { 0, 0, 0 };
	size_t i;

	ck_assert_msg(root != NULL && root[0] != '\0',
	    "KT_VECTORS is not set: the public vectors must be read");
	for (i = 0; i < NDIFFERS; i++)
		differs[i].seen = 0;
	snprintf(dir, sizeof(dir), "%s/merkle/inclusion", root);
	walk(dir, 1, &st);
	snprintf(dir, sizeof(dir), "%s/merkle/consistency", root);
	walk(dir, 0, &st);
	/* 98 + 98 files at transparency-dev/merkle 417fb0c3. */
	ck_assert_uint_ge(st.inclusion, 98);
	ck_assert_uint_ge(st.consistency, 98);
	for (i = 0; i < NDIFFERS; i++)
		ck_assert_msg(differs[i].seen == 1, "%s not seen once",
		    differs[i].path);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

int
main(void)
{
	Suite *s = suite_create("merkle_vectors");

	merkle_add(s, "public_vectors", test_vectors);
	return kt_test_run(s);
}
