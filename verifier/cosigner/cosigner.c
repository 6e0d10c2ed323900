/*
 * cosigner.c: the cosigner key of kt-witness and kt-mirror (cosigner.h):
 * keygen, loading with the key file's permissions checked, and cosigning
 * a signed checkpoint note.
 */
#include "cosigner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kt/fmt.h"

/* ---- keygen ------------------------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes text (a secret) to a new file at path: O_EXCL, mode 0600. */
static kt_err
write_key_file(const char *path, const char *text, char *detail, size_t cap)
{
	int fd;

	/* O_EXCL: never overwrite a key; 0600: nobody else may read it. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		kt_msg(detail, cap, "%s: %s", path, strerror(errno));
		return KT_ERR_IO;
	}
	if (write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
		kt_msg(detail, cap, "writing %s: %s", path, strerror(errno));
		close(fd);
		(void)unlink(path);
		return KT_ERR_IO;
	}
	if (close(fd) != 0) {
		kt_msg(detail, cap, "writing %s: %s", path, strerror(errno));
		(void)unlink(path);
		return KT_ERR_IO;
	}
	return KT_OK;
}

kt_err
kt_cosigner_keygen(const char *name, const char *path,
    char vkey[KT_KEY_TEXT_MAX], char *detail, size_t cap)
{
	uint8_t *seed = NULL;
	char *text = NULL;
	struct kt_signer *s = NULL;
	struct kt_verifier v;
	kt_err err;

	vkey[0] = '\0';
	if (!kt_key_name_valid(name, strlen(name))) {
		kt_msg(detail, cap,
		    "invalid key name \"%s\" (non-empty, no spaces or '+')",
		    name);
		return KT_ERR_MALFORMED;
	}
	/* The seed and its text form are secrets: guarded pages, wiped. */
	seed = sodium_malloc(KT_SEED_LEN);
	text = sodium_malloc(KT_KEY_TEXT_MAX + 1);
	if (seed == NULL || text == NULL) {
		kt_msg(detail, cap, "out of memory");
		err = KT_ERR_NOMEM;
		goto out;
	}
	randombytes_buf(seed, KT_SEED_LEN);
	err = kt_signer_from_seed(name, KT_KEY_COSIG, seed, &s);
	if (err == KT_OK)
		err = kt_signer_format(s, text, KT_KEY_TEXT_MAX);
	if (err == KT_OK) {
		kt_signer_verifier(s, &v);
		err = kt_verifier_format(&v, vkey, KT_KEY_TEXT_MAX);
	}
	if (err != KT_OK) {
		kt_msg(detail, cap, "making the key: %s", kt_strerror(err));
		goto out;
	}
	strcat(text, "\n");
	err = write_key_file(path, text, detail, cap);
out:
	kt_signer_free(s);
	sodium_free(seed); /* wipes */
	sodium_free(text);
	if (err != KT_OK)
		vkey[0] = '\0';
	return err;
}

/* ---- loading ------------------------------------------------------------ */

kt_err
kt_cosigner_load(const char *path, struct kt_signer **out, char *detail,
    size_t cap)
{
	struct stat sb;
	char *buf = NULL;
	ssize_t n;
	int fd;
	kt_err err = KT_ERR_IO;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		kt_msg(detail, cap, "%s: %s", path, strerror(errno));
		return KT_ERR_IO;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		kt_msg(detail, cap, "%s: not a regular file", path);
		goto out;
	}
	if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		kt_msg(detail, cap,
		    "%s: key file is accessible by group or others (mode "
		    "%03o): run chmod 600 on it",
		    path, (unsigned)(sb.st_mode & 0777));
		err = KT_ERR_PERM;
		goto out;
	}
	buf = sodium_malloc(KT_KEY_TEXT_MAX + 1);
	if (buf == NULL) {
		kt_msg(detail, cap, "out of memory");
		err = KT_ERR_NOMEM;
		goto out;
	}
	n = read(fd, buf, KT_KEY_TEXT_MAX + 1);
	if (n < 0 || n > KT_KEY_TEXT_MAX) {
		kt_msg(detail, cap, "%s: %s", path,
		    n < 0 ? strerror(errno) : "too large for a key file");
		goto out;
	}
	err = kt_signer_parse(buf, (size_t)n, out);
	if (err != KT_OK) {
		kt_msg(detail, cap,
		    "%s: not a signer key (PRIVATE+KEY+...): %s", path,
		    kt_strerror(err));
		err = err == KT_ERR_NOMEM ? err : KT_ERR_MALFORMED;
	}
out:
	sodium_free(buf); /* wipes */
	close(fd);
	return err;
}

/* ---- cosigning ---------------------------------------------------------- */

/* Appends p[0..n) at *off of buf[0..cap), keeping room for a NUL. */
static kt_err
put(char *buf, size_t cap, size_t *off, const char *p, size_t n)
{
	if (n >= cap - *off)
		return KT_ERR_TOO_LARGE;
	memcpy(buf + *off, p, n);
	*off += n;
	return KT_OK;
}

kt_err
kt_cosigner_cosign_note(const struct kt_signer *s, const char *note, size_t len,
    uint64_t now, char *buf, size_t cap, size_t *out_len)
{
	static const char DASH[] = "\xe2\x80\x94 ";
	struct kt_note *n = NULL;
	struct kt_verifier self;
	size_t off = 0, line_len;
	kt_err err;

	if (cap == 0)
		return KT_ERR_TOO_LARGE;
	kt_signer_verifier(s, &self);
	if (self.type != KT_KEY_COSIG)
		return KT_ERR_MALFORMED;
	if ((n = malloc(sizeof(*n))) == NULL)
		return KT_ERR_NOMEM;
	if ((err = kt_note_parse(note, len, n)) != KT_OK)
		goto out;
	/* The text, the blank line, every signature line but our own. */
	if ((err = put(buf, cap, &off, n->text, n->text_len)) != KT_OK ||
	    (err = put(buf, cap, &off, "\n", 1)) != KT_OK)
		goto out;
	for (size_t i = 0; i < n->nsigs; i++) {
		const struct kt_note_sig *g = &n->sigs[i];

		if (g->name_len == strlen(self.name) &&
		    memcmp(g->name, self.name, g->name_len) == 0 &&
		    memcmp(g->id, self.id, KT_KEY_ID_LEN) == 0)
			continue;
		if ((err = put(buf, cap, &off, DASH, sizeof(DASH) - 1)) !=
		        KT_OK ||
		    (err = put(buf, cap, &off, g->name, g->name_len)) !=
		        KT_OK ||
		    (err = put(buf, cap, &off, " ", 1)) != KT_OK ||
		    (err = put(buf, cap, &off, g->b64, g->b64_len)) != KT_OK ||
		    (err = put(buf, cap, &off, "\n", 1)) != KT_OK)
			goto out;
	}
	err = kt_cosig_sign(s, n->text, n->text_len, now, buf + off, cap - off,
	    &line_len);
	if (err == KT_OK) {
		off += line_len;
		*out_len = off;
	}
out:
	if (err != KT_OK)
		buf[0] = '\0';
	free(n);
	return err;
}
