/* tmpdir.c: see tmpdir.h. nftw(3) is an X/Open function. */
#define _XOPEN_SOURCE 700
#include "harness/tmpdir.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The folder of the current test run (empty outside one): new folders
 * are made inside it, and it goes when the run ends. */
static char base[256];

int
tmpdir_run_begin(void)
{
	char dir[sizeof(base)];

	base[0] = '\0';
	if (tmpdir_make("kt-test", dir, sizeof(dir)) != 0)
		return -1;
	memcpy(base, dir, sizeof(base));
	return 0;
}

void
tmpdir_run_end(void)
{
	if (base[0] == '\0')
		return;
	if (getenv("KT_E2E_KEEP") != NULL)
		fprintf(stderr, "kept the test folders in %s\n", base);
	else
		(void)tmpdir_remove(base);
	base[0] = '\0';
}

int
tmpdir_make(const char *prefix, char *buf, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (base[0] != '\0')
		tmp = base;
	else if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(buf, cap, "%s/%s-XXXXXX", tmp, prefix);
	if (n < 0 || (size_t)n >= cap || mkdtemp(buf) == NULL) {
		if (cap > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}

static int
remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

int
tmpdir_remove(const char *path)
{
	struct stat sb;

	if (path == NULL || path[0] == '\0')
		return 0;
	(void)nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return lstat(path, &sb) == 0 ? -1 : 0;
}

int
tmpdir_write_file(const char *path, const char *text, unsigned mode)
{
	size_t n = strlen(text);
	int fd =
	    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);

	if (fd < 0)
		return -1;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	return close(fd);
}
