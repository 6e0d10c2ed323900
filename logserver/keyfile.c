#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kt/fmt.h"

/* Key text plus a newline, with room to spare for a malformed file. */
#define KEYFILE_MAX (KT_KEY_TEXT_MAX + 2)

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

kt_err
kt_keyfile_generate(const char *origin, const char *path,
    char vkey[KT_KEY_TEXT_MAX], char *err, size_t errlen)
{
	struct kt_signer *s = NULL;
	struct kt_verifier v;
	uint8_t *seed = NULL;
	char *text = NULL;
	int fd = -1, created = 0;
	kt_err e;

	if (!kt_key_name_valid(origin, strlen(origin))) {
		kt_msg(err, errlen,
		    "origin '%s' is not a valid key name "
		    "(non-empty, no spaces, no '+', at most %d bytes)",
		    origin, KT_KEY_NAME_MAX);
		return KT_ERR_MALFORMED;
	}
	seed = sodium_malloc(KT_SEED_LEN);
	text = sodium_malloc(KEYFILE_MAX);
	if (seed == NULL || text == NULL) {
		kt_msg(err, errlen, "out of memory");
		e = KT_ERR_NOMEM;
		goto out;
	}
	randombytes_buf(seed, KT_SEED_LEN);
	e = kt_signer_from_seed(origin, KT_KEY_ED25519, seed, &s);
	if (e != KT_OK) {
		kt_msg(err, errlen, "cannot make a key: %s", kt_strerror(e));
		goto out;
	}
	e = kt_signer_format(s, text, KEYFILE_MAX - 1);
	if (e != KT_OK) {
		kt_msg(err, errlen, "cannot format the key: %s",
		    kt_strerror(e));
		goto out;
	}
	kt_signer_verifier(s, &v);
	e = kt_verifier_format(&v, vkey, KT_KEY_TEXT_MAX);
	if (e != KT_OK) {
		kt_msg(err, errlen, "cannot format the verifier key: %s",
		    kt_strerror(e));
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		e = errno == EEXIST ? KT_ERR_EXISTS : KT_ERR_IO;
		kt_msg(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite a key)" : "");
		goto out;
	}
	created = 1;
	{
		size_t n = strlen(text);
		text[n] = '\n';
		e = write_all(fd, text, n + 1);
	}
	if (e == KT_OK && fsync(fd) != 0)
		e = KT_ERR_IO;
	if (e != KT_OK)
		kt_msg(err, errlen, "%s: write failed: %s", path,
		    strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (e != KT_OK && created)
		unlink(path);
	kt_signer_free(s);
	sodium_free(seed); /* sodium_free wipes before freeing */
	sodium_free(text);
	return e;
}

kt_err
kt_keyfile_load(const char *path, struct kt_signer **out, char *err,
    size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd = -1;
	kt_err e = KT_OK;

	*out = NULL;
	/* O_NONBLOCK: opening a FIFO must not hang start-up (the stop
	 * signals are already blocked); fstat below refuses it. Reads of a
	 * regular file never block, so the flag can stay. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		e = errno == ENOENT ? KT_ERR_NOT_FOUND : KT_ERR_IO;
		kt_msg(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		kt_msg(err, errlen, "%s: not a regular file", path);
		e = KT_ERR_PERM;
		goto out;
	}
	/* A signing key readable by others lets them forge checkpoints. */
	if ((st.st_mode & 077) != 0) {
		kt_msg(err, errlen,
		    "%s: mode %04o gives group or others "
		    "access to the signing key; run chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		e = KT_ERR_PERM;
		goto out;
	}
	text = sodium_malloc(KEYFILE_MAX);
	if (text == NULL) {
		kt_msg(err, errlen, "out of memory");
		e = KT_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, text + len, KEYFILE_MAX - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			kt_msg(err, errlen, "%s: %s", path, strerror(errno));
			e = KT_ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == KEYFILE_MAX) {
			kt_msg(err, errlen, "%s: too long for a key file",
			    path);
			e = KT_ERR_MALFORMED;
			goto out;
		}
	}
	e = kt_signer_parse(text, len, out);
	if (e != KT_OK)
		kt_msg(err, errlen,
		    "%s: not a signer key (expected one "
		    "PRIVATE+KEY+... line, as written by kt-logd keygen)",
		    path);
out:
	if (fd >= 0)
		close(fd);
	sodium_free(text);
	return e;
}
