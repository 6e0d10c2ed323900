/*
 * state.c: the state folder's files, written atomically.
 *
 * A client that loses its state loses its memory of the newest checkpoint,
 * its pins and its monitoring cursor, which is exactly what a log mounting
 * a rollback or fork wants (threats.md, "forced state loss"). So: every
 * write is tmp file + fsync + rename + fsync(dir), and a file that does
 * not parse is a hard error naming the file, never a silent reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kt/fmt.h"
#include "verify_internal.h"

#define STATE_FILE_MAX (64 * 1024 * 1024)

static kt_err
path_join(char *buf, size_t cap, const char *dir, const char *name)
{
	return kt_fmt(buf, cap, "%s/%s", dir, name);
}

kt_err
kt_vstate_write(const char *dir, const char *name, const void *data, size_t len,
    char *detail, size_t dlen)
{
	char path[KT_VERIFY_PATH_MAX], tmp[KT_VERIFY_PATH_MAX + 32];
	const uint8_t *p = data;
	int fd = -1, dfd = -1;
	kt_err err = KT_ERR_IO;

	if (path_join(path, sizeof(path), dir, name) != KT_OK ||
	    kt_fmt(tmp, sizeof(tmp), "%s.tmp.%ld.%08x", path, (long)getpid(),
	        randombytes_random()) != KT_OK) {
		kt_msg(detail, dlen, "state path too long");
		return KT_ERR_TOO_LARGE;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		kt_msg(detail, dlen, "create %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			kt_msg(detail, dlen, "write %s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0) {
		kt_msg(detail, dlen, "fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		kt_msg(detail, dlen, "close %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		kt_msg(detail, dlen, "rename %s: %s", path, strerror(errno));
		goto out;
	}
	/* The rename is durable only once the directory is synced. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		kt_msg(detail, dlen, "fsync %s: %s", dir, strerror(errno));
		goto out;
	}
	err = KT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (err != KT_OK)
		unlink(tmp);
	return err;
}

kt_err
kt_vstate_read(const char *dir, const char *name, size_t cap,
    struct kt_buf *out, char *detail, size_t dlen)
{
	char path[KT_VERIFY_PATH_MAX];
	struct stat st;
	int fd = -1;
	kt_err err = KT_ERR_IO;

	kt_buf_free(out);
	if (path_join(path, sizeof(path), dir, name) != KT_OK) {
		kt_msg(detail, dlen, "state path too long");
		return KT_ERR_TOO_LARGE;
	}
	/* O_NONBLOCK: a FIFO planted as a state file must not hang us
	 * before fstat refuses it; regular files ignore the flag. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return KT_ERR_NOT_FOUND;
		kt_msg(detail, dlen, "open %s: %s", path, strerror(errno));
		return KT_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		kt_msg(detail, dlen, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > cap) {
		kt_msg(detail, dlen,
		    "state file %s is corrupt: %lld bytes, "
		    "more than %zu",
		    path, (long long)st.st_size, cap);
		err = KT_ERR_MALFORMED;
		goto out;
	}
	out->cap = (size_t)st.st_size + 1;
	out->p = malloc(out->cap);
	if (out->p == NULL) {
		err = KT_ERR_NOMEM;
		goto out;
	}
	while (out->len < (size_t)st.st_size) {
		ssize_t n =
		    read(fd, out->p + out->len, (size_t)st.st_size - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			kt_msg(detail, dlen, "read %s: %s", path,
			    n == 0 ? "short read" : strerror(errno));
			goto out;
		}
		out->len += (size_t)n;
	}
	out->p[out->len] = '\0';
	err = KT_OK;
out:
	close(fd);
	if (err != KT_OK)
		kt_buf_free(out);
	return err;
}

kt_err
kt_vstate_load_json(const char *dir, const char *name, json_t **out,
    char *detail, size_t dlen)
{
	struct kt_buf b = { 0 };
	json_error_t je;
	kt_err err;

	*out = NULL;
	err = kt_vstate_read(dir, name, STATE_FILE_MAX, &b, detail, dlen);
	if (err == KT_ERR_NOT_FOUND) {
		*out = json_object();
		return *out ? KT_OK : KT_ERR_NOMEM;
	}
	if (err != KT_OK)
		return err;
	*out = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, &je);
	kt_buf_free(&b);
	if (*out == NULL || !json_is_object(*out)) {
		kt_msg(detail, dlen,
		    "state file %s/%s is corrupt (%s); "
		    "refusing to continue: moving it away resets what this "
		    "client trusts",
		    dir, name, *out == NULL ? je.text : "not a JSON object");
		json_decref(*out);
		*out = NULL;
		return KT_ERR_MALFORMED;
	}
	return KT_OK;
}

kt_err
kt_vstate_save_json(const char *dir, const char *name, const json_t *obj,
    char *detail, size_t dlen)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	kt_err err;

	if (s == NULL)
		return KT_ERR_NOMEM;
	err = kt_vstate_write(dir, name, s, strlen(s), detail, dlen);
	free(s);
	return err;
}

kt_err
kt_vstate_split(const char *path, char dir[KT_VERIFY_PATH_MAX],
    const char **name)
{
	const char *slash = strrchr(path, '/');

	*name = slash == NULL ? path : slash + 1;
	if (slash == NULL)
		return kt_fmt(dir, KT_VERIFY_PATH_MAX, ".");
	if (slash == path)
		return kt_fmt(dir, KT_VERIFY_PATH_MAX, "/");
	/* Checked first, so the length fits the int that %.*s takes. */
	if ((size_t)(slash - path) >= KT_VERIFY_PATH_MAX) {
		dir[0] = '\0';
		return KT_ERR_TOO_LARGE;
	}
	return kt_fmt(dir, KT_VERIFY_PATH_MAX, "%.*s", (int)(slash - path),
	    path);
}

kt_err
kt_vmaterial_save(const char *dir, const struct kt_signed_checkpoint *sc,
    const struct kt_frontier *f)
{
	json_t *o = json_pack("{s:s%,s:o}", "checkpoint", sc->note,
	    sc->note_len, "frontier", kt_vfrontier_json(f));
	char d[256];
	kt_err e;

	if (o == NULL)
		return KT_ERR_NOMEM;
	e = kt_vstate_save_json(dir, KT_VSTATE_MATERIAL, o, d, sizeof(d));
	json_decref(o);
	return e;
}
