/*
 * token.h: bearer tokens for writes. The server stores only SHA-256 hashes
 * of tokens, one "sha256:<64 hex>" line each ('#' comments and blank lines
 * allowed); a leaked tokens file gives no write access. A presented token
 * is hashed and compared with every stored hash in constant time
 * (sodium_memcmp), without stopping at the first match.
 */
#ifndef KT_LOGSERVER_TOKEN_H
#define KT_LOGSERVER_TOKEN_H

#include <stddef.h>

#include "kt/err.h"

#define KT_TOKEN_LEN 43      /* base64url of 32 random bytes, no padding */
#define KT_TOKEN_LINE_LEN 71 /* "sha256:" + 64 hex */
#define KT_TOKEN_MAX 512     /* longest token accepted in a header */

struct kt_tokens;

/*
 * Makes a new random token (NUL-terminated, KT_TOKEN_LEN chars) and its
 * tokens-file line (NUL-terminated, KT_TOKEN_LINE_LEN chars).
 */
void
kt_token_new(char token[KT_TOKEN_LEN + 1], char line[KT_TOKEN_LINE_LEN + 1]);

/* The tokens-file line for a given token. */
void
kt_token_line(const char *token, size_t len, char line[KT_TOKEN_LINE_LEN + 1]);

/*
 * Loads a tokens file. KT_ERR_MALFORMED (with file:line in err) for a line
 * that is not sha256:<64 lowercase hex>, a comment or blank;
 * KT_ERR_NOT_FOUND if the file is missing or, unless allow_empty, holds no
 * token; KT_ERR_PERM if others may write it (they could add a token). On
 * error *out is NULL. kt-logd loads with allow_empty (at start, on a
 * reload and for `token --check`): a file with no token line is how the
 * last token is revoked, and every write is then refused.
 */
KT_MUST_CHECK kt_err kt_tokens_load(const char *path, int allow_empty,
    struct kt_tokens **out, char *err, size_t errlen);

void kt_tokens_free(struct kt_tokens *t);

/* Number of tokens loaded. */
size_t kt_tokens_count(const struct kt_tokens *t);

/* 1 if token (len bytes) matches a stored hash, else 0. */
int kt_tokens_check(const struct kt_tokens *t, const char *token, size_t len);

/*
 * Extracts the token from an Authorization header value "Bearer <token>"
 * (scheme case-insensitive). Returns 1 and sets *tok and *len (borrowing from
 * value) or 0 if the header is not a well-formed bearer credential.
 */
int kt_token_from_header(const char *value, const char **tok, size_t *len);

#endif /* KT_LOGSERVER_TOKEN_H */
