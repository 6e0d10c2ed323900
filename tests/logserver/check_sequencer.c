/*
 * check_sequencer.c: group commit over a real store in a fresh temporary
 * folder: versions and previous links, idempotence, revocations and
 * conflicts, batch limits, shutdown draining, restarts, failed commits, and
 * signed checkpoints that verify and match the store's root. Concurrent
 * submitters and readers are check_sequencer_concurrent.c.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/runner.h"
#include "harness/tmpdir.h"
#include "kt/checkpoint.h"
#include "kt/entry.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "sequencer.h"
#include "store/store.h"
#include "seq_testlib.h"
#include "store/store.h"
#include "store/store_write.h"

/* ---- kt_seq_submit -------------------------------------------------------- */

START_TEST(test_publish_versions_links)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq;
	struct kt_entry e;
	uint8_t k[3][32], buf[KT_ENTRY_MAX];
	size_t len;
	uint64_t idx[3];

	for (int i = 0; i < 3; i++)
		memset(k[i], 0x10 + i, 32);
	for (int i = 0; i < 3; i++) {
		rq = pub("alice@example.com", "ed25519", k[i], 32);
		submit_wait(q, &rq, 1, &w);
		ck_assert_int_eq(w.err, KT_OK);
		ck_assert_int_eq(w.res[0].err, KT_OK);
		ck_assert_int_eq(w.res[0].appended, 1);
		ck_assert_uint_eq(w.res[0].version, (uint64_t)i + 1);
		ck_assert_uint_eq(w.res[0].index, (uint64_t)i);
		ck_assert_uint_eq(w.tree_size, (uint64_t)i + 1);
		idx[i] = w.res[0].index;
		ck_assert_uint_eq(check_checkpoint(s), (uint64_t)i + 1);
	}
	for (int i = 0; i < 3; i++) {
		read_entry(s, idx[i], buf, &len, &e);
		ck_assert_int_eq(e.type, KT_ENTRY_KEY);
		ck_assert_uint_eq(e.version, (uint64_t)i + 1);
		ck_assert_uint_eq(e.prev_index,
		    i == 0 ? KT_NO_PREV : idx[i - 1]);
		ck_assert_uint_eq(e.label_len, 17);
		ck_assert_mem_eq(e.label, "alice@example.com", 17);
		ck_assert_mem_eq(e.key, k[i], 32);
	}
	/* Idempotent: the current key again appends nothing, no checkpoint. */
	{
		struct kt_store_read *r;
		const char *n0, *n1;
		size_t l0, l1;
		char saved[4096];

		ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
		ck_assert_int_eq(kt_store_read_checkpoint(r, &n0, &l0), KT_OK);
		ck_assert_uint_lt(l0, sizeof(saved));
		memcpy(saved, n0, l0);
		kt_store_read_end(r);
		rq = pub("alice@example.com", "ed25519", k[2], 32);
		submit_wait(q, &rq, 1, &w);
		ck_assert_int_eq(w.err, KT_OK);
		ck_assert_int_eq(w.res[0].err, KT_OK);
		ck_assert_int_eq(w.res[0].appended, 0);
		ck_assert_uint_eq(w.res[0].index, idx[2]);
		ck_assert_uint_eq(w.res[0].version, 3);
		ck_assert_uint_eq(w.tree_size, 3);
		ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
		ck_assert_uint_eq(kt_store_read_size(r), 3);
		ck_assert_int_eq(kt_store_read_checkpoint(r, &n1, &l1), KT_OK);
		ck_assert_uint_eq(l1, l0);
		ck_assert_mem_eq(n1, saved, l0);
		kt_store_read_end(r);
	}
	/* An older key is not current: publishing it is a new version. */
	rq = pub("alice@example.com", "ed25519", k[0], 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 4);
	/* Same bytes under another key type are a new version too. */
	rq = pub("alice@example.com", "x25519", k[0], 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 5);
	kt_seq_stop(q);
	check_checkpoint(s);
	kt_store_close(s);
}
END_TEST

START_TEST(test_revocations)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq;
	struct kt_entry e;
	uint8_t k[32], buf[KT_ENTRY_MAX];
	size_t len;

	memset(k, 0x42, sizeof(k));
	/* Never published: 409-style conflict, nothing appended. */
	rq = rev("bob@example.com");
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.err, KT_OK);
	ck_assert_int_eq(w.res[0].err, KT_ERR_CONFLICT);
	ck_assert_int_eq(w.res[0].appended, 0);
	ck_assert_uint_eq(w.tree_size, 0);
	rq = pub("bob@example.com", "ed25519", k, 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_uint_eq(w.res[0].index, 0);
	rq = rev("bob@example.com");
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].err, KT_OK);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 2);
	ck_assert_uint_eq(w.res[0].index, 1);
	read_entry(s, 1, buf, &len, &e);
	ck_assert_int_eq(e.type, KT_ENTRY_REVOKE);
	ck_assert_uint_eq(e.prev_index, 0);
	ck_assert_uint_eq(e.version, 2);
	/* Already revoked: conflict again. */
	rq = rev("bob@example.com");
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].err, KT_ERR_CONFLICT);
	ck_assert_uint_eq(w.tree_size, 2);
	/* The revoked key published again is live again (not idempotent). */
	rq = pub("bob@example.com", "ed25519", k, 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 3);
	read_entry(s, 2, buf, &len, &e);
	ck_assert_int_eq(e.type, KT_ENTRY_KEY);
	ck_assert_uint_eq(e.prev_index, 1);
	kt_seq_stop(q);
	ck_assert_uint_eq(check_checkpoint(s), 3);
	kt_store_close(s);
}
END_TEST

START_TEST(test_one_submission_one_checkpoint)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq[6];
	uint8_t k1[32], k2[32];

	memset(k1, 1, 32);
	memset(k2, 2, 32);
	/* Requests of one submission see each other, in order. */
	rq[0] = pub("x@example.com", "ed25519", k1, 32);
	rq[1] = pub("x@example.com", "ed25519", k1, 32); /* idempotent */
	rq[2] = rev("y@example.com");                    /* conflict */
	rq[3] = pub("x@example.com", "ed25519", k2, 32); /* version 2 */
	rq[4] = rev("x@example.com");                    /* version 3 */
	rq[5] = pub("y@example.com", "p256", k1, 32);    /* bad key */
	submit_wait(q, rq, 6, &w);
	ck_assert_int_eq(w.err, KT_OK);
	ck_assert_int_eq(w.res[0].err, KT_OK);
	ck_assert_uint_eq(w.res[0].index, 0);
	ck_assert_int_eq(w.res[1].err, KT_OK);
	ck_assert_int_eq(w.res[1].appended, 0);
	ck_assert_uint_eq(w.res[1].index, 0);
	ck_assert_uint_eq(w.res[1].version, 1);
	ck_assert_int_eq(w.res[2].err, KT_ERR_CONFLICT);
	ck_assert_uint_eq(w.res[3].version, 2);
	ck_assert_uint_eq(w.res[3].index, 1);
	ck_assert_uint_eq(w.res[4].version, 3);
	ck_assert_uint_eq(w.res[4].index, 2);
	ck_assert_int_eq(w.res[5].err, KT_ERR_MALFORMED);
	ck_assert_int_eq(w.res[5].appended, 0);
	ck_assert_uint_eq(w.tree_size, 3);
	ck_assert_uint_eq(check_checkpoint(s), 3);
	/* Out of range submissions are refused without a callback. */
	ck_assert_int_eq(kt_seq_submit(q, rq, 0, on_done, &w), KT_ERR_RANGE);
	kt_seq_stop(q);
	kt_store_close(s);
}
END_TEST

/* A new log gets a signed size-0 checkpoint at start, exactly once. */
START_TEST(test_empty_log_has_checkpoint)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct kt_store_read *r;
	struct kt_hash empty;
	const char *txt;
	size_t len;
	char first[1024];

	kt_seq_stop(q);
	ck_assert_uint_eq(check_checkpoint(s), 0);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_int_eq(kt_store_read_checkpoint(r, &txt, &len), KT_OK);
	ck_assert_uint_lt(len, sizeof(first));
	memcpy(first, txt, len);
	ck_assert_int_eq(kt_store_root(r, 0, &empty), KT_OK);
	kt_store_read_end(r);
	{
		struct kt_hash h;

		kt_hash_empty(&h);
		ck_assert_mem_eq(h.b, empty.b, KT_HASH_LEN);
	}
	/* A restart keeps it (no second size-0 checkpoint is signed). */
	q = start(s, 0, 0);
	kt_seq_stop(q);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_int_eq(kt_store_read_checkpoint(r, &txt, &len), KT_OK);
	ck_assert_mem_eq(txt, first, len);
	kt_store_read_end(r);
	kt_store_close(s);
}
END_TEST

START_TEST(test_wrong_signer)
{
	struct kt_store *s = open_store(0);
	struct kt_signer *other = NULL;
	struct kt_seq *q = NULL;
	uint8_t seed[KT_SEED_LEN];

	memset(seed, 9, sizeof(seed));
	ck_assert_int_eq(kt_signer_from_seed(ORIGIN, KT_KEY_ED25519, seed,
	                     &other),
	    KT_OK);
	ck_assert_int_eq(kt_seq_start(&q, s, other, NULL), KT_ERR_CONFLICT);
	ck_assert_ptr_null(q);
	kt_signer_free(other);
	kt_store_close(s);
}
END_TEST

/* ---- queue limits and shutdown ---------------------------------------------- */

START_TEST(test_queue_full_and_drain)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 4, 10);
	struct waiter first, w[16];
	struct kt_seq_req rq[5];
	uint8_t k[32];
	char labels[16][32];
	int queued = 0;

	memset(k, 7, 32);
	for (int i = 0; i < 5; i++)
		rq[i] = pub("z@example.com", "ed25519", k, 32);
	ck_assert_int_eq(kt_seq_submit(q, rq, 5, on_done, &first),
	    KT_ERR_RANGE); /* more than max_batch */
	/* Hold the writer inside the first callback to fill the queue. */
	waiter_init(&first);
	first.hold = 1;
	ck_assert_int_eq(kt_seq_submit(q, rq, 1, on_done, &first), KT_OK);
	pthread_mutex_lock(&first.mu);
	while (!first.held)
		pthread_cond_wait(&first.cv, &first.mu);
	pthread_mutex_unlock(&first.mu);
	for (int i = 0; i < 16; i++) {
		struct kt_seq_req r;

		snprintf(labels[i], sizeof(labels[i]), "q%d@example.com", i);
		r = pub(labels[i], "ed25519", k, 32);
		waiter_init(&w[i]);
		if (kt_seq_submit(q, &r, 1, on_done, &w[i]) != KT_OK)
			break;
		queued++;
	}
	ck_assert_int_eq(queued, 10); /* max_queue entries */
	/* Stop while the writer is held: it must still drain all ten. */
	pthread_mutex_lock(&first.mu);
	first.hold = 0;
	pthread_cond_broadcast(&first.cv);
	pthread_mutex_unlock(&first.mu);
	kt_seq_stop(q);
	for (int i = 0; i < queued; i++) {
		ck_assert_int_eq(w[i].calls, 1);
		ck_assert_int_eq(w[i].err, KT_OK);
		ck_assert_int_eq(w[i].res[0].appended, 1);
		/* max_batch 4: each batch's checkpoint is at most 4 later. */
		ck_assert_uint_eq(w[i].tree_size,
		    1 + (i < 8 ? 4 * (uint64_t)(i / 4 + 1) : 10));
	}
	ck_assert_uint_eq(check_checkpoint(s), 11);
	kt_store_close(s);
}
END_TEST

START_TEST(test_restart_continues)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq;
	uint8_t k[32];
	struct kt_entry e;
	uint8_t buf[KT_ENTRY_MAX];
	size_t len;
	uint64_t ts0;

	memset(k, 1, 32);
	rq = pub("carol@example.com", "ed25519", k, 32);
	submit_wait(q, &rq, 1, &w);
	kt_seq_stop(q);
	kt_store_close(s);
	read_entry(s = open_store(0), 0, buf, &len, &e);
	ts0 = e.timestamp_ms;
	q = start(s, 0, 0);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 0);
	memset(k, 2, 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 2);
	ck_assert_uint_eq(w.res[0].index, 1);
	kt_seq_stop(q);
	read_entry(s, 1, buf, &len, &e);
	ck_assert_uint_ge(e.timestamp_ms, ts0);
	ck_assert_uint_eq(e.prev_index, 0);
	ck_assert_uint_eq(check_checkpoint(s), 2);
	kt_store_close(s);
}
END_TEST

START_TEST(test_failed_commit_acknowledges_nothing)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq[300];
	char labels[300][32];
	uint8_t k[32];
	struct kt_entry e;
	uint8_t buf[KT_ENTRY_MAX];
	size_t len;

	memset(k, 5, 32);
	for (int i = 0; i < 300; i++) {
		snprintf(labels[i], sizeof(labels[i]), "f%d@example.com", i);
		rq[i] = pub(labels[i], "ed25519", k, 32);
	}
	submit_wait(q, rq, 10, &w);
	ck_assert_uint_eq(w.tree_size, 10);
	/* A batch that crosses a tile boundary fails to commit: every
	 * submitter hears so, nothing is written... */
	kt_store_test_fail_commits(s, 1);
	submit_wait(q, rq + 10, 290, &w);
	ck_assert_int_eq(w.err, KT_ERR_IO);
	ck_assert_int_eq(w.res[0].err, KT_ERR_IO);
	ck_assert_uint_eq(check_checkpoint(s), 10);
	/* ... and the writer's in-memory tiles were rolled back: the retry
	 * gets the same indexes and a checkpoint whose root is the store's. */
	submit_wait(q, rq + 10, 290, &w);
	ck_assert_int_eq(w.err, KT_OK);
	ck_assert_uint_eq(w.tree_size, 300);
	ck_assert_uint_eq(w.res[0].index, 10);
	ck_assert_uint_eq(w.res[0].version, 1);
	ck_assert_uint_eq(check_checkpoint(s), 300);
	read_entry(s, 299, buf, &len, &e);
	ck_assert_mem_eq(e.label, "f299@example.com", e.label_len);
	kt_seq_stop(q);
	kt_store_close(s);
	/* And after a reopen, the store still agrees with its checkpoint. */
	s = open_store(0);
	ck_assert_uint_eq(check_checkpoint(s), 300);
	kt_store_close(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sequencer");

	/* Each test on a fresh store. */
	kt_test_fixture_case(s, "kt_seq_submit", 120, setup, teardown,
	    test_publish_versions_links, test_revocations,
	    test_one_submission_one_checkpoint,
	    test_failed_commit_acknowledges_nothing, NULL);
	kt_test_fixture_case(s, "kt_seq_start", 0, setup, teardown,
	    test_wrong_signer, test_empty_log_has_checkpoint,
	    test_restart_continues, NULL);
	kt_test_fixture_case(s, "kt_seq_stop", 60, setup, teardown,
	    test_queue_full_and_drain, NULL);
	return kt_test_run(s);
}
