/*
 * check_store_replica.c: a reader store (kt_store_open_reader) beside the
 * writer in another process, as kt-logd's read replicas run. LMDB allows
 * one opening of an environment per process, so the writer runs in a
 * forked child that appends the model's entries (store_testlib.h) when
 * the test asks; the test's process holds the reader.
 *
 * What it proves: every commit the writer acknowledged is visible to the
 * reader at once, with the same size, entries, roots, proofs, leaf-hash
 * lookups and label versions the model gives, including the index records
 * the writer keeps only in its memory (the first 1 Ki entries, and later
 * the slices not yet swept); a snapshot held across many commits (and
 * sweeps of every slice) still answers exactly at its own size, while the
 * writer's map grows (from 1 MiB) under the reader; a writer restarted
 * under a running reader is followed; a second writer is still refused
 * while readers are allowed; a reader refuses a folder with no log and a
 * log of another origin; a reader store never writes.
 */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/runner.h"
#include "kt/merkle.h"
#include "store/store.h"
#include "store/store_write.h"
#include "store_testlib.h"

#define QUIT UINT64_MAX

/* A writer in a child process, driven through two pipes. */
struct writer {
	pid_t pid;
	int cmd, ack; /* the test writes targets to cmd, reads acks on ack */
};

/*
 * The child: opens the writer store (a 1 MiB map, so that it grows under
 * the reader), then for each target N it reads appends model entries up to
 * N in one commit and answers N once the commit is durable. Exits 0 at
 * QUIT, 1 on any failure (the test then reads no answer).
 */
static void
writer_main(int cmd, int ack, uint64_t have)
{
	struct kt_store *s = NULL;
	char err[256];
	uint64_t n;

	if (kt_store_open_mapsize(&s, tmpdir, ORIGIN, VKEY, 1u << 20, err,
	        sizeof(err)) != KT_OK) {
		fprintf(stderr, "writer: %s\n", err);
		_exit(1);
	}
	while (read(cmd, &n, sizeof(n)) == (ssize_t)sizeof(n) && n != QUIT) {
		while (M->n < n)
			model_make(M->n);
		append_range(s, have, n);
		have = n;
		if (write(ack, &n, sizeof(n)) != (ssize_t)sizeof(n))
			_exit(1);
	}
	kt_store_close(s);
	_exit(0);
}

/* Starts a writer whose store already holds `have` entries (the model has
 * been built that far). */
static void
writer_start(struct writer *w, uint64_t have)
{
	int c[2], a[2];

	ck_assert_int_eq(pipe(c), 0);
	ck_assert_int_eq(pipe(a), 0);
	w->pid = fork();
	ck_assert_int_ge(w->pid, 0);
	if (w->pid == 0) {
		close(c[1]);
		close(a[0]);
		writer_main(c[0], a[1], have);
	}
	close(c[0]);
	close(a[1]);
	w->cmd = c[1];
	w->ack = a[0];
}

/* Asks the writer to append up to n and waits for its durable commit;
 * the test's model follows. */
static void
writer_append(struct writer *w, uint64_t n)
{
	uint64_t got = 0;

	ck_assert_int_eq(write(w->cmd, &n, sizeof(n)), (ssize_t)sizeof(n));
	ck_assert_msg(read(w->ack, &got, sizeof(got)) == (ssize_t)sizeof(got),
	    "the writer did not commit up to %llu", (unsigned long long)n);
	ck_assert_uint_eq(got, n);
	while (M->n < n)
		model_make(M->n);
}

static void
writer_stop(struct writer *w)
{
	uint64_t q = QUIT;
	int st = 0;

	ck_assert_int_eq(write(w->cmd, &q, sizeof(q)), (ssize_t)sizeof(q));
	ck_assert_int_eq(waitpid(w->pid, &st, 0), w->pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the writer failed (status %d)", st);
	close(w->cmd);
	close(w->ack);
}

static struct kt_store *
open_reader(void)
{
	struct kt_store *r = NULL;
	char err[256];

	ck_assert_msg(kt_store_open_reader(&r, tmpdir, ORIGIN, VKEY, err,
	                  sizeof(err)) == KT_OK,
	    "open_reader: %s", err);
	ck_assert(kt_store_is_reader(r));
	return r;
}

/* The reader's newest snapshot is at size n, with n's checkpoint. */
static void
check_size(struct kt_store *rd, uint64_t n)
{
	struct kt_store_read *r;
	const char *note;
	char want[64];
	size_t len;

	ck_assert_int_eq(kt_store_read_begin(rd, &r), KT_OK);
	ck_assert_uint_eq(kt_store_read_size(r), n);
	ck_assert_int_eq(kt_store_read_checkpoint(r, &note, &len), KT_OK);
	snprintf(want, sizeof(want), "test checkpoint %llu\n",
	    (unsigned long long)n);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_mem_eq(note, want, len);
	check_indexes(r);
	kt_store_read_end(r);
}

/* A child that tries to open the folder as a second writer: it must be
 * refused (exit 0 when it is). */
static void
check_second_writer_refused(void)
{
	pid_t pid = fork();
	int st = 0;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct kt_store *s = NULL;
		char err[256];

		_exit(kt_store_open(&s, tmpdir, ORIGIN, VKEY, err,
		          sizeof(err)) == KT_ERR_BUSY
		        ? 0
		        : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "a second writer was not refused while one and a reader run");
}

START_TEST(test_reader_follows_writer)
{
	struct writer w;
	struct kt_store *rd;
	struct kt_store_read *old = NULL;
	struct kt_store_txn *tx = NULL;
	uint64_t n = 0;

	model_init();
	writer_start(&w, 0);
	writer_append(&w, 1);
	rd = open_reader();
	/* Far more than the writer's map (1 MiB here): its growth needs no
	 * resize. 1 TiB asked; less where the address space is short (a
	 * ThreadSanitizer build gets a quarter of it). */
	ck_assert_uint_ge(kt_store_mapsize(rd), (size_t)1 << 36);
	check_size(rd, 1);
	check_second_writer_refused();
	ck_assert_int_eq(kt_store_write_begin(rd, &tx), KT_ERR_PERM);
	ck_assert_int_eq(kt_store_write_state(rd), KT_OK);
	/* Small and uneven batches: the first 1 Ki entries' records are all
	 * in the writer's memory, later ones in part; sweeps begin past it. */
	for (n = 1; n < 3000; n += 1 + (n * 7) % 83) {
		writer_append(&w, n + 1);
		check_size(rd, n + 1);
		if (old == NULL && n > 600)
			ck_assert_int_eq(kt_store_read_begin(rd, &old), KT_OK);
	}
	check_all(rd, 0);
	/* The old snapshot answers at its own size after every slice was
	 * swept since (some of its records are then only in its entries). */
	ck_assert_uint_lt(kt_store_read_size(old), 700);
	check_indexes(old);
	kt_store_read_end(old);
	/* The writer restarts under the running reader. */
	n = M->n;
	writer_stop(&w);
	check_size(rd, n);
	writer_start(&w, n);
	writer_append(&w, n + 5);
	writer_append(&w, 4000);
	check_size(rd, 4000);
	check_all(rd, 0);
	writer_stop(&w);
	kt_store_close(rd);
	/* A reader opened after the writer stopped rebuilds the records from
	 * the folder alone. */
	rd = open_reader();
	check_all(rd, 0);
	kt_store_close(rd);
	model_free();
}
END_TEST

START_TEST(test_reader_refuses)
{
	struct kt_store *rd = NULL, *s;
	char err[256];

	/* An empty folder: nothing to read, and nothing is created. */
	ck_assert_int_eq(kt_store_open_reader(&rd, tmpdir, ORIGIN, VKEY, err,
	                     sizeof(err)),
	    KT_ERR_NOT_FOUND);
	ck_assert_ptr_null(rd);
	ck_assert_ptr_nonnull(strstr(err, "start the writer"));
	ck_assert_int_ne(access("/nonexistent-kt-folder", F_OK), 0);
	ck_assert_int_eq(kt_store_open_reader(&rd, "/nonexistent-kt-folder",
	                     ORIGIN, VKEY, err, sizeof(err)),
	    KT_ERR_NOT_FOUND);
	/* Another log's folder. */
	s = open_store();
	kt_store_close(s);
	ck_assert_int_eq(kt_store_open_reader(&rd, tmpdir, "other.example/log",
	                     VKEY, err, sizeof(err)),
	    KT_ERR_CONFLICT);
	ck_assert_ptr_nonnull(strstr(err, "belongs to another log"));
	/* Its own log, with no checkpoint yet: a size-0 snapshot. */
	rd = open_reader();
	{
		struct kt_store_read *r;

		ck_assert_int_eq(kt_store_read_begin(rd, &r), KT_OK);
		ck_assert_uint_eq(kt_store_read_size(r), 0);
		kt_store_read_end(r);
	}
	kt_store_close(rd);
}
END_TEST

static Suite *
store_replica_suite(void)
{
	Suite *su = suite_create("store_replica");

	kt_test_fixture_case(su, "kt_store_open_reader", 240, tmp_setup,
	    tmp_teardown, test_reader_follows_writer, test_reader_refuses,
	    NULL);
	return su;
}

int
main(void)
{
	/* The writer is a child of the test's own process. */
	signal(SIGPIPE, SIG_IGN);
	return kt_test_run(store_replica_suite());
}
