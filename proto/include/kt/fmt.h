/*
 * kt/fmt.h: formatting into a caller's fixed buffer, with the outcome of
 * snprintf never left unread.
 *
 * Two kinds of text are formatted into fixed buffers, and they fail
 * differently:
 *
 * - Text that must be exact (a path, a URL, a key, a number another
 *   program parses): a truncated result is a different, wrong value. It goes
 *   through kt_fmt, whose result the caller must check; on failure the
 *   buffer holds "" and the caller reports a clear error (e.g. "path too
 *   long"), never uses a cut value.
 * - Text for a person (an error message, a detail buffer, a log line): a cut
 *   message is still useful. It goes through kt_msg, which cannot fail.
 *
 * Pure: these functions only write into the caller's memory.
 */
#ifndef KT_FMT_H
#define KT_FMT_H

#include <stdarg.h>
#include <stddef.h>

#include "kt/err.h"

/* Marks a function taking a printf format at argument f and its arguments
 * from argument a (0 for a va_list), so the compiler checks every call. */
#if defined(__GNUC__) || defined(__clang__)
#define KT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KT_PRINTF(f, a)
#endif

/*
 * Formats into buf[0..cap) with a NUL, as snprintf does. KT_OK when the
 * whole text and its NUL fit. KT_ERR_TOO_LARGE when they did not (the text
 * needed cap bytes or more) or the format itself failed (an encoding error
 * or a text over INT_MAX bytes); buf then holds "" when cap > 0, so a cut
 * value can never be used by mistake. buf may be NULL only when cap is 0
 * (always KT_ERR_TOO_LARGE: not even the NUL fits).
 */
KT_MUST_CHECK kt_err kt_fmt(char *buf, size_t cap, const char *fmt, ...)
    KT_PRINTF(3, 4);

/* kt_fmt with a va_list, for functions that take a format of their own.
 * ap is used up as vsnprintf uses it; va_end stays the caller's. */
KT_MUST_CHECK kt_err kt_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
    KT_PRINTF(3, 0);

/*
 * Formats a message for a person into buf[0..cap) with a NUL, and cannot
 * fail. A buf of NULL or a cap of 0 is accepted and writes nothing, so an
 * optional detail buffer can be passed straight through.
 *
 * Why a message may be cut: messages (error details, log lines, the text of
 * an error response) go into fixed buffers sized for the usual case. A
 * message that reaches its buffer's end is still worth showing, since its
 * beginning names what failed, while failing instead would replace it with
 * an error about the error. So a message that does not fit is cut, and
 * visibly: it ends in "..." (fewer dots when cap < 4), and the cut falls on
 * a UTF-8 character boundary (the message stays valid UTF-8 if its parts
 * were, so it can go into JSON). A format that fails outright (an encoding
 * error) leaves just "...". Text that a program parses or uses (paths,
 * URLs, keys, numbers) must never come from here: use kt_fmt.
 *
 * To add to a message already in buf, format at its end:
 * kt_msg(buf + strlen(buf), cap - strlen(buf), ...).
 */
void kt_msg(char *buf, size_t cap, const char *fmt, ...) KT_PRINTF(3, 4);

/* kt_msg with a va_list, for functions that take a format of their own.
 * ap is used up as vsnprintf uses it; va_end stays the caller's. */
void
kt_vmsg(char *buf, size_t cap, const char *fmt, va_list ap) KT_PRINTF(3, 0);

#endif /* KT_FMT_H */
