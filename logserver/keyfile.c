#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kt/b64.h"
#include "kt/fmt.h"

/* Key text plus a newline, with room to spare for a malformed file. */
#define KEYFILE_MAX (KT_KEY_TEXT_MAX + 2)
#define VRF_PREFIX "PRIVATE+VRF-R255+"
#define VRF_B64_LEN 44 /* base64 of KT_VRF_SECRET_LEN bytes */
/* VRF_PREFIX origin '+' base64 '\n', with room for a malformed file. */
#define VRF_FILE_MAX (sizeof(VRF_PREFIX) + KT_KEY_NAME_MAX + VRF_B64_LEN + 4)
#define PATH_LEN 4096

/* ---- secret files: written once, read only when private ------------------ */

static kt_err
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return KT_ERR_IO;
		}
		p += w;
		n -= (size_t)w;
	}
	return KT_OK;
}

/* Writes text and a newline to a new file of mode 0600, durably. */
static kt_err
write_secret(const char *path, const char *text, char *err, size_t errlen)
{
	size_t n = strlen(text);
	kt_err e;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		e = errno == EEXIST ? KT_ERR_EXISTS : KT_ERR_IO;
		kt_msg(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite a key)" : "");
		return e;
	}
	e = write_all(fd, text, n);
	if (e == KT_OK)
		e = write_all(fd, "\n", 1);
	if (e == KT_OK && fsync(fd) != 0)
		e = KT_ERR_IO;
	if (e != KT_OK)
		kt_msg(err, errlen, "%s: write failed: %s", path,
		    strerror(errno));
	close(fd);
	if (e != KT_OK)
		unlink(path);
	return e;
}

/*
 * Reads a whole secret file into text (cap bytes, sodium_malloc'd by the
 * caller): a regular file that neither group nor others may access.
 */
static kt_err
read_secret(const char *path, const char *what, char *text, size_t cap,
    size_t *len, char *err, size_t errlen)
{
	struct stat st;
	kt_err e = KT_OK;
	int fd;

	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not hang start-up (the stop
	 * signals are already blocked); fstat below refuses it. Reads of a
	 * regular file never block, so the flag can stay. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		kt_msg(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? KT_ERR_NOT_FOUND : KT_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		kt_msg(err, errlen, "%s: not a regular file", path);
		e = KT_ERR_PERM;
		goto out;
	}
	/* A key readable by others lets them forge checkpoints (the signing
	 * key) or undo the labels' privacy (the VRF key). */
	if ((st.st_mode & 077) != 0) {
		kt_msg(err, errlen,
		    "%s: mode %04o gives group or others access to the %s; "
		    "run chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), what, path);
		e = KT_ERR_PERM;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, text + *len, cap - *len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			kt_msg(err, errlen, "%s: %s", path, strerror(errno));
			e = KT_ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		*len += (size_t)r;
		if (*len == cap) {
			kt_msg(err, errlen, "%s: too long for a key file",
			    path);
			e = KT_ERR_MALFORMED;
			goto out;
		}
	}
out:
	close(fd);
	return e;
}

kt_err
kt_keyfile_vrf_path(const char *path, char *out, size_t cap)
{
	return kt_fmt(out, cap, "%s%s", path, KT_VRF_KEYFILE_SUFFIX);
}

/* ---- generation ---------------------------------------------------------- */

/* The signer's file text and verifier key. */
static kt_err
make_signer(const char *origin, char *text, char vkey[KT_KEY_TEXT_MAX],
    char *err, size_t errlen)
{
	struct kt_signer *s = NULL;
	struct kt_verifier v;
	uint8_t *seed = sodium_malloc(KT_SEED_LEN);
	kt_err e = KT_ERR_NOMEM;

	if (seed == NULL) {
		kt_msg(err, errlen, "out of memory");
		return e;
	}
	randombytes_buf(seed, KT_SEED_LEN);
	e = kt_signer_from_seed(origin, KT_KEY_ED25519, seed, &s);
	if (e == KT_OK)
		e = kt_signer_format(s, text, KEYFILE_MAX - 1);
	if (e == KT_OK) {
		kt_signer_verifier(s, &v);
		e = kt_verifier_format(&v, vkey, KT_KEY_TEXT_MAX);
	}
	if (e != KT_OK)
		kt_msg(err, errlen, "cannot make a signing key: %s",
		    kt_strerror(e));
	kt_signer_free(s);
	sodium_free(seed); /* sodium_free wipes before freeing */
	return e;
}

/* The VRF key file's text and the public key in base64. */
static kt_err
make_vrf(const char *origin, char *text, char pub[KT_VRF_PUBLIC_B64_LEN],
    char *err, size_t errlen)
{
	struct kt_vrf_key *k = NULL;
	uint8_t *sk = sodium_malloc(KT_VRF_SECRET_LEN);
	char *b64 = sodium_malloc(VRF_B64_LEN + 1);
	uint8_t pk[KT_VRF_PUBLIC_LEN];
	kt_err e = KT_ERR_NOMEM;

	if (sk == NULL || b64 == NULL) {
		kt_msg(err, errlen, "out of memory");
		goto out;
	}
	/* A uniform scalar in [1, q): the spec's SK. */
	crypto_core_ristretto255_scalar_random(sk);
	e = kt_vrf_key_from_secret(sk, &k);
	if (e == KT_OK) {
		kt_vrf_public(k, pk);
		e = kt_b64_encode(pk, sizeof pk, pub, KT_VRF_PUBLIC_B64_LEN,
		    NULL);
	}
	if (e == KT_OK)
		e = kt_b64_encode(sk, KT_VRF_SECRET_LEN, b64, VRF_B64_LEN + 1,
		    NULL);
	if (e == KT_OK)
		e = kt_fmt(text, VRF_FILE_MAX, VRF_PREFIX "%s+%s", origin, b64);
	if (e != KT_OK)
		kt_msg(err, errlen, "cannot make a VRF key: %s",
		    kt_strerror(e));
out:
	kt_vrf_key_free(k);
	sodium_free(sk);
	sodium_free(b64);
	return e;
}

kt_err
kt_keyfile_generate(const char *origin, const char *path,
    char vkey[KT_KEY_TEXT_MAX], char vrf_pub[KT_VRF_PUBLIC_B64_LEN], char *err,
    size_t errlen)
{
	char *text = NULL, *vtext = NULL, vpath[PATH_LEN];
	struct stat st;
	kt_err e;

	if (!kt_key_name_valid(origin, strlen(origin))) {
		kt_msg(err, errlen,
		    "origin '%s' is not a valid key name "
		    "(non-empty, no spaces, no '+', at most %d bytes)",
		    origin, KT_KEY_NAME_MAX);
		return KT_ERR_MALFORMED;
	}
	if (kt_keyfile_vrf_path(path, vpath, sizeof vpath) != KT_OK) {
		kt_msg(err, errlen, "%s: path too long", path);
		return KT_ERR_TOO_LARGE;
	}
	/* Both files are new, or neither is written. */
	if (lstat(vpath, &st) == 0) {
		kt_msg(err, errlen, "%s: exists (refusing to overwrite a key)",
		    vpath);
		return KT_ERR_EXISTS;
	}
	text = sodium_malloc(KEYFILE_MAX);
	vtext = sodium_malloc(VRF_FILE_MAX);
	if (text == NULL || vtext == NULL) {
		kt_msg(err, errlen, "out of memory");
		e = KT_ERR_NOMEM;
		goto out;
	}
	if ((e = make_signer(origin, text, vkey, err, errlen)) != KT_OK ||
	    (e = make_vrf(origin, vtext, vrf_pub, err, errlen)) != KT_OK ||
	    (e = write_secret(path, text, err, errlen)) != KT_OK)
		goto out;
	if ((e = write_secret(vpath, vtext, err, errlen)) != KT_OK)
		unlink(path);
out:
	sodium_free(text);
	sodium_free(vtext);
	return e;
}

/* ---- loading ------------------------------------------------------------- */

kt_err
kt_keyfile_load(const char *path, struct kt_signer **out, char *err,
    size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	kt_err e;

	*out = NULL;
	text = sodium_malloc(KEYFILE_MAX);
	if (text == NULL) {
		kt_msg(err, errlen, "out of memory");
		return KT_ERR_NOMEM;
	}
	e = read_secret(path, "signing key", text, KEYFILE_MAX, &len, err,
	    errlen);
	if (e == KT_OK && (e = kt_signer_parse(text, len, out)) != KT_OK)
		kt_msg(err, errlen,
		    "%s: not a signer key (expected one "
		    "PRIVATE+KEY+... line, as written by kt-logd keygen)",
		    path);
	sodium_free(text);
	return e;
}

/* "PRIVATE+VRF-R255+<origin>+<base64 SK>" and an optional newline. */
static kt_err
parse_vrf(const char *text, size_t len, const char *origin, uint8_t *sk)
{
	size_t plen = strlen(VRF_PREFIX), olen = strlen(origin);
	size_t got = 0;

	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len != plen + olen + 1 + VRF_B64_LEN ||
	    memcmp(text, VRF_PREFIX, plen) != 0 ||
	    memcmp(text + plen, origin, olen) != 0 || text[plen + olen] != '+')
		return KT_ERR_MALFORMED;
	if (kt_b64_decode(text + plen + olen + 1, VRF_B64_LEN, sk,
	        KT_VRF_SECRET_LEN, &got) != KT_OK ||
	    got != KT_VRF_SECRET_LEN)
		return KT_ERR_MALFORMED;
	return KT_OK;
}

kt_err
kt_keyfile_load_vrf(const char *path, const char *origin,
    struct kt_vrf_key **out, char *err, size_t errlen)
{
	char *text = sodium_malloc(VRF_FILE_MAX), vpath[PATH_LEN];
	uint8_t *sk = sodium_malloc(KT_VRF_SECRET_LEN);
	size_t len = 0;
	kt_err e = KT_ERR_NOMEM;

	*out = NULL;
	if (text == NULL || sk == NULL) {
		kt_msg(err, errlen, "out of memory");
		goto out;
	}
	if ((e = kt_keyfile_vrf_path(path, vpath, sizeof vpath)) != KT_OK) {
		kt_msg(err, errlen, "%s: path too long", path);
		goto out;
	}
	e = read_secret(vpath, "VRF key", text, VRF_FILE_MAX, &len, err,
	    errlen);
	if (e == KT_ERR_NOT_FOUND) {
		kt_msg(err, errlen,
		    "%s: no VRF key beside the signing key (kt-logd keygen "
		    "writes both; a log cannot gain a VRF key later: make a "
		    "new log)",
		    vpath);
		goto out;
	}
	if (e != KT_OK)
		goto out;
	e = parse_vrf(text, len, origin, sk);
	if (e == KT_OK)
		e = kt_vrf_key_from_secret(sk, out);
	if (e != KT_OK)
		kt_msg(err, errlen,
		    "%s: not the VRF key of %s (expected one "
		    "PRIVATE+VRF-R255+%s+... line, as written by kt-logd "
		    "keygen)",
		    vpath, origin, origin);
out:
	sodium_free(text);
	sodium_free(sk);
	return e;
}
