/*
 * wclient_testlib.c: helpers shared by the check_witness_client*.c suites
 * (wclient_testlib.h).
 */
#include "wclient_testlib.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kt/checkpoint.h"

uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
sleep_ms(unsigned ms)
{
	usleep(ms * 1000u);
}

struct kt_wclient_opts
test_opts(unsigned quorum)
{
	struct kt_wclient_opts o;

	memset(&o, 0, sizeof(o));
	o.interval_ms = 100;
	o.connect_timeout_ms = 300;
	o.timeout_ms = 500;
	o.quorum = quorum;
	return o;
}

void
cfg_for(struct kt_wclient_cfg *c, const char *url,
    const struct kt_verifier *key)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->url, sizeof(c->url), "%s", url);
	c->key = *key;
}

/*
 * The cosigned checkpoint served now: verifies it against the log key and
 * the witness keys; returns its size and which witnesses cosigned it
 * (ok[1 + i]), or UINT64_MAX if none is served yet.
 */
uint64_t
served(struct kt_wclient *w, const struct kt_verifier *logkey,
    const struct kt_verifier *wkeys, size_t nw, uint8_t *cosigned,
    size_t *nsigs)
{
	static char buf[KT_NOTE_MAX];
	struct kt_verifier vs[1 + MAXW];
	struct kt_note note;
	struct kt_checkpoint ck;
	uint8_t ok[1 + MAXW];
	uint64_t size = 0;
	size_t len = 0, i;
	kt_err rc;

	rc = kt_wclient_checkpoint(w, buf, sizeof(buf), &len, &size);
	if (rc == KT_ERR_NOT_FOUND)
		return UINT64_MAX;
	ck_assert_int_eq(rc, KT_OK);
	ck_assert_uint_eq(strlen(buf), len);
	vs[0] = *logkey;
	for (i = 0; i < nw; i++)
		vs[1 + i] = wkeys[i];
	/* A valid signed note: the log signed it and every cosignature in it
	 * verifies (kt_note_open rejects a known key's bad signature). */
	rc = kt_note_open(buf, len, vs, 1 + nw, &note, ok, NULL);
	ck_assert_int_eq(rc, KT_OK);
	ck_assert_int_eq(ok[0], 1);
	ck_assert_int_eq(kt_checkpoint_parse(note.text, note.text_len, &ck),
	    KT_OK);
	ck_assert_uint_eq(ck.size, size);
	for (i = 0; i < nw; i++)
		cosigned[i] = ok[1 + i];
	if (nsigs != NULL)
		*nsigs = note.nsigs;
	return size;
}

/* Waits (up to ms) until the served checkpoint has size `size` and is
 * cosigned by every witness i with want[i]; returns the elapsed ms or -1. */
long
wait_served(struct kt_wclient *w, const struct kt_verifier *logkey,
    const struct kt_verifier *wkeys, size_t nw, const uint8_t *want,
    uint64_t size, unsigned ms)
{
	uint64_t t0 = now_us();
	uint8_t got[MAXW];
	size_t i;

	for (;;) {
		if (served(w, logkey, wkeys, nw, got, NULL) == size) {
			for (i = 0; i < nw; i++)
				if (want[i] && !got[i])
					break;
			if (i == nw)
				return (long)((now_us() - t0) / 1000);
		}
		if (now_us() - t0 > (uint64_t)ms * 1000)
			return -1;
		sleep_ms(10);
	}
}
