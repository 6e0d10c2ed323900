/*
 * witness_audit.h: kt-witness --audit, an auditing witness (map.md,
 * "Auditors keep the map honest"; docs/witness.md).
 *
 * Each audited log (a --log key given a --log-url) gets libktverify's
 * stateless auditor (kt_verify_audit_to) over a kt-verify state folder of
 * its own, <data>/audit/<hex>, which holds its configuration and the
 * evidence files it writes; the audit's position lives in the witness's
 * LMDB record, beside the cosigned checkpoint (witness.c), never the map.
 * One audit at a time per log (a mutex each); logs audit in parallel.
 */
#ifndef KT_WITNESS_AUDIT_H
#define KT_WITNESS_AUDIT_H

#include <stddef.h>

#include "kt/err.h"
#include "kt/note.h"
#include "witness.h"

struct kt_witness_auditor; /* opaque */

/*
 * Opens an auditor for logs[i] at urls[i] (i < n; a NULL url: that key's
 * log is not audited; one URL per origin, the first given), with kt-verify
 * state folders under data/audit/ (created). Each audit request may take
 * up to timeout_s seconds. KT_ERR_IO, KT_ERR_MALFORMED (a URL kt-verify
 * refuses), KT_ERR_RANGE (no URL at all), KT_ERR_NOMEM; detail says why.
 */
KT_MUST_CHECK kt_err kt_witness_auditor_open(const char *data,
    const struct kt_verifier *logs, const char *const *urls, size_t n,
    long timeout_s, struct kt_witness_auditor **out, char *detail, size_t cap);
/* Accepts NULL. No audit may be running. */
void kt_witness_auditor_close(struct kt_witness_auditor *a);
/* The hooks for kt_witness_set_auditor (a must outlive the witness). */
void kt_witness_auditor_ops(struct kt_witness_auditor *a,
    struct kt_witness_audit_ops *ops);

#endif /* KT_WITNESS_AUDIT_H */
