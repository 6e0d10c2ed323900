/*
 * check_sequencer.c: group commit over a real store in a fresh temporary
 * folder: update leaves with versions, previous links and commitments that
 * open to the value, one map head per batch, idempotence, revocations and
 * conflicts, erasure, batch limits, shutdown draining, restarts, failed
 * commits, and signed checkpoints that verify and match the store's root. Concurrent
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
#include "kt/commit.h"
#include "kt/leaf.h"
#include "kt/map.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "seq_testlib.h"
#include "sequencer.h"
#include "store/store.h"
#include "store/store_write.h"

/* The update at index is version `version` of label, links to prev, and
 * its commitment opens (with the stored opening) to the key, or to a
 * revocation when key is NULL. */
static void
check_update(struct kt_store *s, uint64_t index, const char *label,
    uint64_t version, uint64_t prev, const char *key_type, const uint8_t *key,
    size_t key_len)
{
	struct kt_update u;
	struct kt_store_value v;
	struct kt_value val;

	read_update(s, index, &u);
	read_value(s, index, &v);
	ck_assert_mem_eq(u.index.b, label_vrf(label)->index.b, KT_HASH_LEN);
	ck_assert_uint_eq(u.version, version);
	ck_assert_uint_eq(u.prev_index, prev);
	ck_assert_int_eq(v.erased, 0);
	memset(&val, 0, sizeof(val));
	val.kind = key != NULL ? KT_VALUE_KEY : KT_VALUE_REVOKE;
	ck_assert_uint_eq(v.kind, val.kind);
	if (key != NULL) {
		val.key_type = key_type;
		val.key_type_len = strlen(key_type);
		val.key = key;
		val.key_len = key_len;
		ck_assert_uint_eq(v.key_len, key_len);
		ck_assert_mem_eq(v.key, key, key_len);
	}
	ck_assert_int_eq(kt_commit_verify(v.opening, label, strlen(label),
	                     version, &val, &u.commitment),
	    KT_OK);
}

/* ---- kt_seq_submit -------------------------------------------------------- */

/*
 * A new log is its empty map's head (leaf 0); each batch then appends its
 * updates and one map head, so alice's i-th version is leaf 2i + 1 and the
 * batch's checkpoint has size 2i + 3.
 */
START_TEST(test_publish_versions_links)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq;
	struct kt_map_head h;
	uint8_t k[3][32];
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
		ck_assert_uint_eq(w.res[0].index, 2 * (uint64_t)i + 1);
		ck_assert_uint_eq(w.tree_size, 2 * (uint64_t)i + 3);
		idx[i] = w.res[0].index;
		ck_assert_uint_eq(check_checkpoint(s), w.tree_size);
		read_head(s, w.tree_size - 1, &h);
		ck_assert_uint_eq(h.prev_head, w.tree_size - 3);
		ck_assert_uint_eq(h.label_count, 1);
	}
	for (int i = 0; i < 3; i++)
		check_update(s, idx[i], "alice@example.com", (uint64_t)i + 1,
		    i == 0 ? KT_NO_PREV : idx[i - 1], "ed25519", k[i], 32);
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
		ck_assert_uint_eq(w.tree_size, 7);
		ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
		ck_assert_uint_eq(kt_store_read_size(r), 7);
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
	check_update(s, w.res[0].index, "alice@example.com", 5, 7, "x25519",
	    k[0], 32);
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
	uint8_t k[32];

	memset(k, 0x42, sizeof(k));
	/* Never published: 409-style conflict, nothing appended. */
	rq = rev("bob@example.com");
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.err, KT_OK);
	ck_assert_int_eq(w.res[0].err, KT_ERR_CONFLICT);
	ck_assert_int_eq(w.res[0].appended, 0);
	ck_assert_uint_eq(w.tree_size, 1);
	rq = pub("bob@example.com", "ed25519", k, 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_uint_eq(w.res[0].index, 1);
	rq = rev("bob@example.com");
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].err, KT_OK);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 2);
	ck_assert_uint_eq(w.res[0].index, 3);
	check_update(s, 3, "bob@example.com", 2, 1, NULL, NULL, 0);
	/* Already revoked: conflict again. */
	rq = rev("bob@example.com");
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].err, KT_ERR_CONFLICT);
	ck_assert_uint_eq(w.tree_size, 5);
	/* The revoked key published again is live again (not idempotent). */
	rq = pub("bob@example.com", "ed25519", k, 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 3);
	check_update(s, 5, "bob@example.com", 3, 3, "ed25519", k, 32);
	kt_seq_stop(q);
	ck_assert_uint_eq(check_checkpoint(s), 7);
	kt_store_close(s);
}
END_TEST

START_TEST(test_one_submission_one_checkpoint)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq[6];
	struct kt_map_head h;
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
	ck_assert_uint_eq(w.res[0].index, 1);
	ck_assert_int_eq(w.res[1].err, KT_OK);
	ck_assert_int_eq(w.res[1].appended, 0);
	ck_assert_uint_eq(w.res[1].index, 1);
	ck_assert_uint_eq(w.res[1].version, 1);
	ck_assert_int_eq(w.res[2].err, KT_ERR_CONFLICT);
	ck_assert_uint_eq(w.res[3].version, 2);
	ck_assert_uint_eq(w.res[3].index, 2);
	ck_assert_uint_eq(w.res[4].version, 3);
	ck_assert_uint_eq(w.res[4].index, 3);
	ck_assert_int_eq(w.res[5].err, KT_ERR_MALFORMED);
	ck_assert_int_eq(w.res[5].appended, 0);
	/* Three updates and one map head for the whole submission. */
	ck_assert_uint_eq(w.tree_size, 5);
	ck_assert_uint_eq(check_checkpoint(s), 5);
	read_head(s, 4, &h);
	ck_assert_uint_eq(h.prev_head, 0);
	ck_assert_uint_eq(h.label_count, 1);
	check_update(s, 2, "x@example.com", 2, 1, "ed25519", k2, 32);
	check_update(s, 3, "x@example.com", 3, 2, NULL, NULL, 0);
	/* Out of range submissions are refused without a callback. */
	ck_assert_int_eq(kt_seq_submit(q, rq, 0, on_done, &w), KT_ERR_RANGE);
	kt_seq_stop(q);
	kt_store_close(s);
}
END_TEST

/*
 * Erasure drops the openings and values of every version before the
 * latest, keeps their chain links, appends nothing; an unknown label is
 * KT_ERR_NOT_FOUND; a second erasure finds nothing left to drop.
 */
START_TEST(test_erase)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq[4];
	struct kt_store_value v[3];
	uint8_t k[3][32];
	uint64_t size;

	for (int i = 0; i < 3; i++)
		memset(k[i], 0x30 + i, 32);
	rq[0] = erase_req("erin@example.com");
	submit_wait(q, rq, 1, &w);
	ck_assert_int_eq(w.err, KT_OK);
	ck_assert_int_eq(w.res[0].err, KT_ERR_NOT_FOUND);
	ck_assert_uint_eq(w.tree_size, 1);
	for (int i = 0; i < 3; i++)
		rq[i] = pub("erin@example.com", "ed25519", k[i], 32);
	rq[3] = rev("erin@example.com");
	submit_wait(q, rq, 4, &w);
	ck_assert_uint_eq(w.tree_size, 6); /* updates 1..4, head 5 */
	for (int i = 0; i < 3; i++)
		read_value(s, (uint64_t)i + 1, &v[i]);
	size = check_checkpoint(s);
	rq[0] = erase_req("erin@example.com");
	submit_wait(q, rq, 1, &w);
	ck_assert_int_eq(w.res[0].err, KT_OK);
	ck_assert_uint_eq(w.res[0].erased, 3);
	ck_assert_uint_eq(w.res[0].version, 4);
	ck_assert_uint_eq(w.res[0].index, 4);
	ck_assert_int_eq(w.res[0].appended, 0);
	ck_assert_uint_eq(check_checkpoint(s), size);
	for (int i = 0; i < 3; i++) {
		struct kt_store_value e;

		read_value(s, (uint64_t)i + 1, &e);
		ck_assert_int_eq(e.erased, 1);
		ck_assert_uint_eq(e.key_len, 0);
		ck_assert_mem_eq(e.prev_chain.b, v[i].prev_chain.b,
		    KT_HASH_LEN);
	}
	check_update(s, 4, "erin@example.com", 4, 3, NULL, NULL, 0);
	rq[0] = erase_req("erin@example.com");
	submit_wait(q, rq, 1, &w);
	ck_assert_int_eq(w.res[0].err, KT_OK);
	ck_assert_uint_eq(w.res[0].erased, 0);
	/* A new version after the erasure links to the erased chain. */
	rq[0] = pub("erin@example.com", "ed25519", k[0], 32);
	submit_wait(q, rq, 1, &w);
	ck_assert_uint_eq(w.res[0].version, 5);
	check_update(s, w.res[0].index, "erin@example.com", 5, 4, "ed25519",
	    k[0], 32);
	kt_seq_stop(q);
	kt_store_close(s);
}
END_TEST

/* A new log gets its empty map's head and a signed size-1 checkpoint at
 * start, exactly once. */
START_TEST(test_empty_log_has_checkpoint)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct kt_store_read *r;
	struct kt_map_head h;
	struct kt_hash empty;
	const char *txt;
	size_t len;
	char first[1024];

	kt_seq_stop(q);
	ck_assert_uint_eq(check_checkpoint(s), 1);
	read_head(s, 0, &h);
	kt_map_empty_root(&empty);
	ck_assert_mem_eq(h.root.b, empty.b, KT_HASH_LEN);
	ck_assert_uint_eq(h.log_size, 0);
	ck_assert_uint_eq(h.prev_head, KT_NO_PREV);
	ck_assert_uint_eq(h.label_count, 0);
	ck_assert_uint_gt(h.timestamp_ms, 1600000000000ull);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_int_eq(kt_store_read_checkpoint(r, &txt, &len), KT_OK);
	ck_assert_uint_lt(len, sizeof(first));
	memcpy(first, txt, len);
	kt_store_read_end(r);
	/* A restart keeps it (no second head, no second checkpoint). */
	q = start(s, 0, 0);
	kt_seq_stop(q);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_uint_eq(kt_store_read_size(r), 1);
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
	/* Size 3 after the first; max_batch 4: batches of 4, 4 and 2
	 * updates, each with its map head. */
	for (int i = 0; i < queued; i++) {
		ck_assert_int_eq(w[i].calls, 1);
		ck_assert_int_eq(w[i].err, KT_OK);
		ck_assert_int_eq(w[i].res[0].appended, 1);
		ck_assert_uint_eq(w[i].tree_size, i < 4 ? 8 : i < 8 ? 13 : 16);
	}
	ck_assert_uint_eq(check_checkpoint(s), 16);
	kt_store_close(s);
}
END_TEST

START_TEST(test_restart_continues)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq;
	struct kt_map_head h;
	uint8_t k[32];
	uint64_t ts0;

	memset(k, 1, 32);
	rq = pub("carol@example.com", "ed25519", k, 32);
	submit_wait(q, &rq, 1, &w);
	kt_seq_stop(q);
	kt_store_close(s);
	s = open_store(0);
	read_head(s, 2, &h);
	ts0 = h.timestamp_ms;
	q = start(s, 0, 0);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 0);
	memset(k, 2, 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 2);
	ck_assert_uint_eq(w.res[0].index, 3);
	kt_seq_stop(q);
	check_update(s, 3, "carol@example.com", 2, 1, "ed25519", k, 32);
	/* The head after the restart continues the chain of heads. */
	read_head(s, 4, &h);
	ck_assert_uint_ge(h.timestamp_ms, ts0);
	ck_assert_uint_eq(h.prev_head, 2);
	ck_assert_uint_eq(h.label_count, 1);
	ck_assert_uint_eq(check_checkpoint(s), 5);
	kt_store_close(s);
}
END_TEST

START_TEST(test_failed_commit_acknowledges_nothing)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq[300];
	struct kt_update u;
	char labels[300][32];
	uint8_t k[32];

	memset(k, 5, 32);
	for (int i = 0; i < 300; i++) {
		snprintf(labels[i], sizeof(labels[i]), "f%d@example.com", i);
		rq[i] = pub(labels[i], "ed25519", k, 32);
	}
	submit_wait(q, rq, 10, &w);
	ck_assert_uint_eq(w.tree_size, 12);
	/* A batch that crosses a tile boundary fails to commit: every
	 * submitter hears so, nothing is written... */
	kt_store_test_fail_commits(s, 1);
	submit_wait(q, rq + 10, 290, &w);
	ck_assert_int_eq(w.err, KT_ERR_IO);
	ck_assert_int_eq(w.res[0].err, KT_ERR_IO);
	ck_assert_uint_eq(w.tree_size, 0);
	ck_assert_uint_eq(check_checkpoint(s), 12);
	/* ... and the writer's in-memory tiles and map were rolled back: the
	 * retry gets the same indexes and a checkpoint whose root is the
	 * store's. */
	submit_wait(q, rq + 10, 290, &w);
	ck_assert_int_eq(w.err, KT_OK);
	ck_assert_uint_eq(w.tree_size, 303);
	ck_assert_uint_eq(w.res[0].index, 12);
	ck_assert_uint_eq(w.res[0].version, 1);
	ck_assert_uint_eq(check_checkpoint(s), 303);
	read_update(s, 301, &u);
	ck_assert_mem_eq(u.index.b, label_vrf("f299@example.com")->index.b,
	    KT_HASH_LEN);
	kt_seq_stop(q);
	kt_store_close(s);
	/* And after a reopen, the store still agrees with its checkpoint. */
	s = open_store(0);
	ck_assert_uint_eq(check_checkpoint(s), 303);
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
	    test_one_submission_one_checkpoint, test_erase,
	    test_failed_commit_acknowledges_nothing, NULL);
	kt_test_fixture_case(s, "kt_seq_start", 0, setup, teardown,
	    test_wrong_signer, test_empty_log_has_checkpoint,
	    test_restart_continues, NULL);
	kt_test_fixture_case(s, "kt_seq_stop", 60, setup, teardown,
	    test_queue_full_and_drain, NULL);
	return kt_test_run(s);
}
