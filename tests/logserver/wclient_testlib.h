/*
 * wclient_testlib.h: helpers shared by the check_witness_client*.c suites:
 * clocks, client options and configurations, and reading the cosigned
 * checkpoint a witness client serves.
 */
#ifndef KT_TESTS_WCLIENT_TESTLIB_H
#define KT_TESTS_WCLIENT_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "kt/note.h"
#include "witness_client/witness_client.h"

/* The most witnesses a test gives one client. */
#define MAXW 6

/* CLOCK_MONOTONIC in microseconds. */
uint64_t now_us(void);
/* Sleeps ms milliseconds. */
void sleep_ms(unsigned ms);
/* Client options for tests: short interval and timeouts, the quorum. */
struct kt_wclient_opts test_opts(unsigned quorum);
/* A witness configuration for url and key. */
void cfg_for(struct kt_wclient_cfg *c, const char *url,
    const struct kt_verifier *key);
/*
 * The cosigned checkpoint served now: verifies it against the log key and
 * the witness keys; returns its size and which witnesses cosigned it
 * (ok[1 + i]), or UINT64_MAX if none is served yet.
 */
uint64_t served(struct kt_wclient *w, const struct kt_verifier *logkey,
    const struct kt_verifier *wkeys, size_t nw, uint8_t *cosigned,
    size_t *nsigs);
/* Waits (up to ms) until the served checkpoint has size `size` and is
 * cosigned by every witness i with want[i]; returns the elapsed ms or -1. */
long wait_served(struct kt_wclient *w, const struct kt_verifier *logkey,
    const struct kt_verifier *wkeys, size_t nw, const uint8_t *want,
    uint64_t size, unsigned ms);

#endif
