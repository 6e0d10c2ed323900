/*
 * tile.c: C2SP tlog-tiles coordinates, paths and entry bundles.
 *
 * Paths are parsed strictly: each tile has exactly one path, so a cache or a
 * mirror keyed by path can never hold two copies of one tile, and a client
 * cannot be steered to an alias the server did not mean to serve.
 */
#include <string.h>

#include "kt/bytes.h"
#include "kt/tile.h"

#define MAX_GROUPS 7 /* UINT64_MAX has 20 digits: 7 groups of 3 */

/* ---- paths ---------------------------------------------------------------- */

/* Appends s[0..n) at *off, keeping room for the final NUL. */
static int
put(char *buf, size_t cap, size_t *off, const char *s, size_t n)
{
	if (cap - *off <= n)
		return 0;
	memcpy(buf + *off, s, n);
	*off += n;
	return 1;
}

/* Decimal digits of v, most significant first, without leading zeros. */
static size_t
utoa(uint64_t v, char *d)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		d[i] = tmp[n - 1 - i];
	return n;
}

kt_err
kt_tile_path(const struct kt_tile *t, char *buf, size_t cap)
{
	char num[20];
	unsigned groups[MAX_GROUPS];
	size_t ng = 0, off = 0, n, g;
	uint64_t v;

	if (t == NULL)
		return KT_ERR_MALFORMED;
	if (t->level > 63 && t->level != KT_TILE_LEVEL_ENTRIES)
		return KT_ERR_MALFORMED;
	if (t->width < 1 || t->width > KT_TILE_WIDTH)
		return KT_ERR_MALFORMED;
	if (buf == NULL || cap == 0)
		return KT_ERR_TOO_LARGE;

	if (!put(buf, cap, &off, "tile/", 5))
		return KT_ERR_TOO_LARGE;
	if (t->level == KT_TILE_LEVEL_ENTRIES) {
		if (!put(buf, cap, &off, "entries/", 8))
			return KT_ERR_TOO_LARGE;
	} else {
		n = utoa(t->level, num);
		if (!put(buf, cap, &off, num, n) ||
		    !put(buf, cap, &off, "/", 1))
			return KT_ERR_TOO_LARGE;
	}

	/* Least significant group first; the last one written has no 'x'. */
	v = t->index;
	do {
		groups[ng++] = (unsigned)(v % 1000);
		v /= 1000;
	} while (v != 0);
	for (g = ng; g-- > 0;) {
		char grp[5];

		grp[0] = 'x';
		grp[1] = (char)('0' + groups[g] / 100);
		grp[2] = (char)('0' + groups[g] / 10 % 10);
		grp[3] = (char)('0' + groups[g] % 10);
		if (g > 0) {
			grp[4] = '/';
			n = 5;
			if (!put(buf, cap, &off, grp, n))
				return KT_ERR_TOO_LARGE;
		} else if (!put(buf, cap, &off, grp + 1, 3)) {
			return KT_ERR_TOO_LARGE;
		}
	}

	if (t->width < KT_TILE_WIDTH) {
		n = utoa(t->width, num);
		if (!put(buf, cap, &off, ".p/", 3) ||
		    !put(buf, cap, &off, num, n))
			return KT_ERR_TOO_LARGE;
	}
	buf[off] = '\0';
	return KT_OK;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * A canonical decimal in s[*i..len) up to max, no leading zeros (but "0"),
 * at most 3 digits. Advances *i.
 */
static int
small_decimal(const char *s, size_t len, size_t *i, unsigned max, unsigned *out)
{
	size_t start = *i;
	unsigned v = 0;

	while (*i < len && is_digit(s[*i]) && *i - start < 3) {
		v = v * 10 + (unsigned)(s[*i] - '0');
		(*i)++;
	}
	if (*i == start)
		return 0;
	if (*i < len && is_digit(s[*i]))
		return 0; /* more than 3 digits */
	if (s[start] == '0' && *i - start > 1)
		return 0;
	if (v > max)
		return 0;
	*out = v;
	return 1;
}

kt_err
kt_tile_parse_path(const char *path, size_t len, struct kt_tile *out)
{
	struct kt_tile t;
	size_t i = 0, ng = 0;
	uint64_t index = 0;
	int last = 0;

	if (path == NULL || out == NULL || len == 0 || len > KT_TILE_PATH_MAX)
		return KT_ERR_MALFORMED;
	if (len < 5 || memcmp(path, "tile/", 5) != 0)
		return KT_ERR_MALFORMED;
	i = 5;

	if (len - i >= 8 && memcmp(path + i, "entries/", 8) == 0) {
		t.level = KT_TILE_LEVEL_ENTRIES;
		i += 8;
	} else {
		if (!small_decimal(path, len, &i, 63, &t.level))
			return KT_ERR_MALFORMED;
		if (i >= len || path[i] != '/')
			return KT_ERR_MALFORMED;
		i++;
	}

	/* N: "xDDD/" groups, then a final "DDD" with no 'x'. */
	while (!last) {
		unsigned g;
		int x = 0;

		if (i < len && path[i] == 'x') {
			x = 1;
			i++;
		}
		if (len - i < 3 || !is_digit(path[i]) ||
		    !is_digit(path[i + 1]) || !is_digit(path[i + 2]))
			return KT_ERR_MALFORMED;
		g = (unsigned)(path[i] - '0') * 100 +
		    (unsigned)(path[i + 1] - '0') * 10 +
		    (unsigned)(path[i + 2] - '0');
		i += 3;
		if (++ng > MAX_GROUPS)
			return KT_ERR_MALFORMED;
		/* The most significant group of a multi-group N is never 000:
		 * that would be a second spelling of the same N. */
		if (x && ng == 1 && g == 0)
			return KT_ERR_MALFORMED;
		if (index > (UINT64_MAX - g) / 1000)
			return KT_ERR_MALFORMED;
		index = index * 1000 + g;
		if (x) {
			if (i >= len || path[i] != '/')
				return KT_ERR_MALFORMED;
			i++;
		} else {
			last = 1;
		}
	}
	t.index = index;

	t.width = KT_TILE_WIDTH;
	if (i < len) {
		unsigned w;

		if (len - i < 3 || memcmp(path + i, ".p/", 3) != 0)
			return KT_ERR_MALFORMED;
		i += 3;
		if (!small_decimal(path, len, &i, KT_TILE_WIDTH - 1, &w) ||
		    w == 0)
			return KT_ERR_MALFORMED;
		t.width = w;
	}
	if (i != len)
		return KT_ERR_MALFORMED;
	*out = t;
	return KT_OK;
}

/* ---- widths and subtrees ------------------------------------------------ */

unsigned
kt_tile_width(uint64_t size, unsigned level, uint64_t index)
{
	uint64_t hashes;

	/* An entry bundle holds one entry per level-0 hash. */
	if (level == KT_TILE_LEVEL_ENTRIES)
		level = 0;
	if (level > 63)
		return 0;
	/* Level l holds one hash per 256^l leaves; past level 7 that is more
	 * than 2^64, so no 64-bit tree has a hash there. */
	if (level * KT_TILE_HEIGHT >= 64)
		return 0;
	hashes = size >> (level * KT_TILE_HEIGHT);
	if (index > hashes / KT_TILE_WIDTH)
		return 0;
	hashes -= index * KT_TILE_WIDTH; /* cannot wrap: index*256 <= hashes */
	return hashes >= KT_TILE_WIDTH ? KT_TILE_WIDTH : (unsigned)hashes;
}

static void
subtree(const struct kt_hash *row, unsigned sublevel, unsigned start,
    struct kt_hash *out)
{
	struct kt_hash l, r;
	unsigned half;

	if (sublevel == 0) {
		*out = row[start];
		return;
	}
	half = 1u << (sublevel - 1);
	subtree(row, sublevel - 1, start, &l);
	subtree(row, sublevel - 1, start + half, &r);
	kt_hash_node(&l, &r, out);
}

kt_err
kt_tile_subtree(const struct kt_hash *row, unsigned width, unsigned sublevel,
    unsigned idx, struct kt_hash *out)
{
	if (row == NULL || out == NULL)
		return KT_ERR_RANGE;
	if (width > KT_TILE_WIDTH || sublevel > KT_TILE_HEIGHT)
		return KT_ERR_RANGE;
	/* (idx + 1) << sublevel <= width, in 64 bits so it cannot wrap. */
	if (((uint64_t)idx + 1) << sublevel > width)
		return KT_ERR_RANGE;
	subtree(row, sublevel, idx << sublevel, out);
	return KT_OK;
}

/* ---- entry bundles -------------------------------------------------------- */

kt_err
kt_bundle_append(uint8_t *buf, size_t cap, size_t *off, const uint8_t *entry,
    size_t len)
{
	if (off == NULL || (entry == NULL && len != 0))
		return KT_ERR_MALFORMED;
	if (len > 0xffff)
		return KT_ERR_TOO_LARGE;
	if (buf == NULL || *off > cap || cap - *off < 2 + len)
		return KT_ERR_TOO_LARGE;
	kt_put_be16(buf + *off, (uint16_t)len);
	if (len != 0)
		memcpy(buf + *off + 2, entry, len);
	*off += 2 + len;
	return KT_OK;
}

kt_err
kt_bundle_next(const uint8_t *buf, size_t len, size_t *off,
    const uint8_t **entry, size_t *entry_len)
{
	size_t n;

	if (off == NULL || entry == NULL || entry_len == NULL ||
	    (buf == NULL && len != 0))
		return KT_ERR_MALFORMED;
	if (*off > len)
		return KT_ERR_RANGE;
	if (*off == len)
		return KT_ERR_NOT_FOUND;
	if (len - *off < 2)
		return KT_ERR_INCOMPLETE;
	n = kt_get_be16(buf + *off);
	if (len - *off - 2 < n)
		return KT_ERR_INCOMPLETE;
	*entry = buf + *off + 2;
	*entry_len = n;
	*off += 2 + n;
	return KT_OK;
}
