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

struct kt_tokens {
	size_t n;
	uint8_t (*h)[crypto_hash_sha256_BYTES];
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

kt_err
kt_tokens_load(const char *path, int allow_empty, struct kt_tokens **out,
    char *err, size_t errlen)
{
	struct kt_tokens *t = NULL;
	struct stat st;
	FILE *f = NULL;
	int fd;
	char line[256];
	unsigned lineno = 0;
	size_t cap = 0;
	kt_err e = KT_OK;

	*out = NULL;
	/* O_NONBLOCK: a FIFO must not hang start-up; fstat refuses it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 && (f = fdopen(fd, "r")) == NULL) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	if (f == NULL) {
		int saved = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		return saved == ENOENT ? KT_ERR_NOT_FOUND : KT_ERR_IO;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		e = KT_ERR_PERM;
		goto out;
	}
	/* Whoever can write the file can grant themselves write access. */
	if ((st.st_mode & 022) != 0) {
		snprintf(err, errlen, "%s: writable by group or others (mode "
		    "%04o); run chmod go-w %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		e = KT_ERR_PERM;
		goto out;
	}
	t = calloc(1, sizeof *t);
	if (t == NULL) {
		e = KT_ERR_NOMEM;
		goto out;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		size_t n = strlen(line);

		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path,
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
		if (n != KT_TOKEN_LINE_LEN || strncmp(line, "sha256:", 7) != 0 ||
		    !is_lower_hex(line + 7, 64)) {
			snprintf(err, errlen, "%s:%u: expected sha256:<64 "
			    "lowercase hex> (the second line printed by "
			    "kt-logd token)", path, lineno);
			e = KT_ERR_MALFORMED;
			goto out;
		}
		if (t->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			void *nh = realloc(t->h, ncap * sizeof *t->h);
			if (nh == NULL) {
				e = KT_ERR_NOMEM;
				goto out;
			}
			t->h = nh;
			cap = ncap;
		}
		if (sodium_hex2bin(t->h[t->n], crypto_hash_sha256_BYTES,
		    line + 7, 64, NULL, NULL, NULL) != 0) {
			e = KT_ERR_MALFORMED;
			goto out;
		}
		t->n++;
	}
	if (t->n == 0 && !allow_empty) {
		snprintf(err, errlen, "%s: holds no token line (sha256:<hex>); "
		    "make one with kt-logd token", path);
		e = KT_ERR_NOT_FOUND;
	}
out:
	fclose(f);
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
	uint8_t h[crypto_hash_sha256_BYTES];
	int match = 0;

	if (t == NULL || len == 0 || len > KT_TOKEN_MAX)
		return 0;
	/* Comparing hashes hides the token's length and content from timing;
	 * every stored hash is compared so the time does not say which. */
	crypto_hash_sha256(h, (const unsigned char *)token, len);
	for (size_t i = 0; i < t->n; i++)
		match |= sodium_memcmp(h, t->h[i], sizeof h) == 0;
	sodium_memzero(h, sizeof h);
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
