/*
 * witness_fixture.h: the fixture of the check_witness*.c units: three log
 * keys (two for origin A), a witness key, an open kt_witness in a
 * temporary folder, two trees that fork at leaf 5, and a body buffer.
 */
#ifndef KT_TESTS_WITNESS_FIXTURE_H
#define KT_TESTS_WITNESS_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "witness.h"
#include "witness_testlib.h"

#define ORIGIN_A "example.com/log-a"
#define ORIGIN_B "example.com/log-b"
#define NOW 1764115200u /* 2025-11-26T00:00:00Z */

extern char dir[64];
extern struct kt_signer *log_a, *log_a2, *log_b, *wit;
extern struct kt_verifier wit_v;
extern struct kt_witness *w;
extern struct wt_tree ta, tb; /* tb forks from ta at leaf 5 */
extern struct kt_witness_answer ans;
extern char body[WT_BODY_MAX];

/* Opens the witness in dir, trusting the three log keys. */
void open_witness(void);
/* Checked fixture: makes the keys, trees and folder and opens the
 * witness; teardown closes and frees everything and removes the folder. */
void setup(void);
void teardown(void);
/* Submits body[0..len) and returns the code. */
kt_err submit(size_t len, uint64_t now);
/* Grows log A's witnessed state to `size` from `old` and asserts 200. */
void cosign_a(uint64_t old, uint64_t size);
/* The witness's latest size for log A, learnt with an old-0 probe (409),
 * or 0 if the probe is accepted... which only a fresh witness does. */
uint64_t probe_a(void);

#endif
