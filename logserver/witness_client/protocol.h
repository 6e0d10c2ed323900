/*
 * protocol.h: the bytes of C2SP tlog-witness, client side: the
 * add-checkpoint request body, the size a 409 answer carries, and the
 * cosignature line a 200 answer must hold. No I/O, no client state.
 */
#ifndef KT_LOGSERVER_WITNESS_CLIENT_PROTOCOL_H
#define KT_LOGSERVER_WITNESS_CLIENT_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "kt/merkle.h"
#include "kt/note.h"

/*
 * The add-checkpoint body: "old <old>\n", one base64 line per proof hash,
 * an empty line, then the log's signed note (note_len bytes). malloc'd
 * (free() it; not NUL-terminated), *len its size; NULL if out of memory.
 * proof->n must be at most KT_MAX_PROOF.
 */
char *kt_wproto_request(const char *note, size_t note_len, uint64_t old,
    const struct kt_proof *proof, size_t *len);

/*
 * The witness's tree size from a 409 answer: 1 and *size if the answer is
 * of type text/x.tlog.size (parameters allowed) and its body is exactly
 * "<decimal>\n" (no sign, no leading zero, no overflow); else 0 (older
 * spec versions sent 409 for conflicts too, without a size).
 * content_type may be NULL.
 */
int kt_wproto_size(const char *content_type, const char *body, size_t len,
    uint64_t *size);

/*
 * The cosignature line of a 200 answer (resp, resp_len bytes), checked:
 * appended to the log's note (note, note_len bytes, nsigs signature lines)
 * it must give a valid note in which key signed validly, and key's own
 * line is kept ("\u2014 <name> <base64>\n", NUL-terminated, malloc'd).
 * NULL if the answer holds no valid cosignature by key (or memory ran
 * out); lines of other keys in the answer are ignored.
 */
char *kt_wproto_cosig_line(const char *note, size_t note_len, size_t nsigs,
    const struct kt_verifier *key, const char *resp, size_t resp_len);

#endif /* KT_LOGSERVER_WITNESS_CLIENT_PROTOCOL_H */
