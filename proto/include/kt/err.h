/*
 * kt/err.h: the one error enum shared by every kt layer.
 *
 * proto/ returns these codes only. Code that does I/O (logserver/, verifier/)
 * may also fill a caller buffer with a detail message, but never lets errno,
 * MDB_* or CURLcode values cross a module boundary: translate at the edge.
 */
#ifndef KT_ERR_H
#define KT_ERR_H

#if defined(__GNUC__) || defined(__clang__)
#define KT_MUST_CHECK __attribute__((warn_unused_result))
#else
#define KT_MUST_CHECK
#endif

typedef enum {
	KT_OK = 0,
	KT_ERR_INCOMPLETE, /* input ended early: more bytes could make it parse */
	KT_ERR_MALFORMED, /* input can never parse: syntax, encoding, lengths */
	KT_ERR_VERIFY,    /* parsed, but a proof, hash or signature is false */
	KT_ERR_UNKNOWN_KEY, /* a note carries no signature by any known key */
	KT_ERR_RANGE, /* an argument is out of range (index >= size, old > new) */
	KT_ERR_TOO_LARGE, /* input or output exceeds a fixed bound or the buffer */
	KT_ERR_NOMEM,     /* allocation failed */
	KT_ERR_NOT_FOUND, /* no such label, entry, tile or file */
	KT_ERR_EXISTS,    /* refused to overwrite something that exists */
	KT_ERR_CONFLICT, /* request contradicts current state (e.g. nothing to revoke) */
	KT_ERR_REFUSED, /* a rule of the server refuses it (e.g. a label confusable with one it holds) */
	KT_ERR_PERM,    /* not authorised, or unsafe file permissions */
	KT_ERR_IO,      /* file, disk or database failure */
	KT_ERR_NETWORK, /* connection, timeout or HTTP failure talking to a peer */
	KT_ERR_BUSY,    /* temporarily unable: queue full, shutting down */
	KT_ERR_FULL, /* no space: the disk or a configured size limit is full */
	KT_ERR_INTERNAL, /* a bug: an invariant did not hold */
} kt_err;

/* A static, human-readable description of e. Never NULL. */
const char *kt_strerror(kt_err e);

#endif /* KT_ERR_H */
