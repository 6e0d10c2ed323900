#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kt/fmt.h"
#include "kt/merkle.h"

/* SHA-256 hashes of the tokens in force: the tokens themselves are never
 * stored. */
struct kt_tokens {
	size_t n;
	struct kt_hash *h;
};

void
kt_token_line(const char *token, size_t len, char line[KT_TOKEN_LINE_LEN + 1])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)token, len);
	memcpy(line, "sha256:", 7);
	sodium_bin2hex(line + 7, KT_TOKEN_LINE_LEN + 1 - 7, h, sizeof h);
}

void
kt_token_new(char token[KT_TOKEN_LEN + 1], char line[KT_TOKEN_LINE_LEN + 1])
{
	uint8_t raw[32];

	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(token, KT_TOKEN_LEN + 1, raw, sizeof raw,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	kt_token_line(token, KT_TOKEN_LEN, line);
}

static int
is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * Opens path for reading if it is a regular file that only its owner may
 * write (whoever can write it can grant themselves write access).
 */
static kt_err
open_private(const char *path, FILE **out, char *err, size_t errlen)
{
	struct stat st;
	FILE *f = NULL;
	int fd, saved;

	*out = NULL;
	/* O_NONBLOCK: a FIFO must not hang start-up; fstat refuses it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 && (f = fdopen(fd, "r")) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	if (f == NULL) {
		saved = errno;
		kt_msg(err, errlen, "%s: %s", path, strerror(saved));
		return saved == ENOENT ? KT_ERR_NOT_FOUND : KT_ERR_IO;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		kt_msg(err, errlen, "%s: not a regular file", path);
		(void)fclose(f); /* read-only, nothing read */
		return KT_ERR_PERM;
	}
	if ((st.st_mode & 022) != 0) {
		kt_msg(err, errlen,
		    "%s: writable by group or others (mode "
		    "%04o); run chmod go-w %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		(void)fclose(f); /* read-only, nothing read */
		return KT_ERR_PERM;
	}
	*out = f;
	return KT_OK;
}

/* Adds the hash of a "sha256:<64 lowercase hex>" line (n bytes). */
static kt_err
add_line(struct kt_tokens *t, size_t *cap, const char *line, size_t n)
{
	size_t ncap;
	void *nh;

	if (n != KT_TOKEN_LINE_LEN || strncmp(line, "sha256:", 7) != 0 ||
	    !is_lower_hex(line + 7, 64))
		return KT_ERR_MALFORMED;
	if (t->n == *cap) {
		ncap = *cap ? *cap * 2 : 8;
		nh = realloc(t->h, ncap * sizeof *t->h);
		if (nh == NULL)
			return KT_ERR_NOMEM;
		t->h = nh;
		*cap = ncap;
	}
	if (sodium_hex2bin(t->h[t->n].b, sizeof t->h[t->n].b, line + 7, 64,
	        NULL, NULL, NULL) != 0)
		return KT_ERR_MALFORMED;
	t->n++;
	return KT_OK;
}

kt_err
kt_tokens_load(const char *path, int allow_empty, struct kt_tokens **out,
    char *err, size_t errlen)
{
	struct kt_tokens *t = NULL;
	FILE *f = NULL;
	char line[256];
	unsigned lineno = 0;
	size_t cap = 0, n;
	kt_err e;

	*out = NULL;
	e = open_private(path, &f, err, errlen);
	if (e != KT_OK)
		return e;
	t = calloc(1, sizeof *t);
	if (t == NULL) {
		e = KT_ERR_NOMEM;
		goto out;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		n = strlen(line);
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f)) {
			kt_msg(err, errlen, "%s:%u: line too long", path,
			    lineno);
			e = KT_ERR_MALFORMED;
			goto out;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		e = add_line(t, &cap, line, n);
		if (e == KT_ERR_MALFORMED)
			kt_msg(err, errlen,
			    "%s:%u: expected sha256:<64 "
			    "lowercase hex> (the second line printed by "
			    "kt-logd token)",
			    path, lineno);
		if (e != KT_OK)
			goto out;
	}
	if (t->n == 0 && !allow_empty) {
		kt_msg(err, errlen,
		    "%s: holds no token line (sha256:<hex>); "
		    "make one with kt-logd token",
		    path);
		e = KT_ERR_NOT_FOUND;
	}
out:
	(void)fclose(f); /* read-only, data already read */
	if (e != KT_OK) {
		kt_tokens_free(t);
		t = NULL;
	}
	*out = t;
	return e;
}

void
kt_tokens_free(struct kt_tokens *t)
{
	if (t == NULL)
		return;
	free(t->h);
	free(t);
}

size_t
kt_tokens_count(const struct kt_tokens *t)
{
	return t ? t->n : 0;
}

int
kt_tokens_check(const struct kt_tokens *t, const char *token, size_t len)
{
	struct kt_hash h;
	int match = 0;

	if (t == NULL || len == 0 || len > KT_TOKEN_MAX)
		return 0;
	/* Comparing hashes hides the token's length and content from timing;
	 * every stored hash is compared (in constant time) so the time does
	 * not say which. */
	crypto_hash_sha256(h.b, (const unsigned char *)token, len);
	for (size_t i = 0; i < t->n; i++)
		match |= kt_hash_eq(&h, &t->h[i]);
	sodium_memzero(h.b, sizeof h.b);
	return match;
}

int
kt_token_from_header(const char *value, const char **tok, size_t *len)
{
	const char *p;
	size_t n;

	if (value == NULL || strncasecmp(value, "Bearer ", 7) != 0)
		return 0;
	p = value + 7;
	while (*p == ' ')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || n > KT_TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return 0;
	*tok = p;
	*len = n;
	return 1;
}
