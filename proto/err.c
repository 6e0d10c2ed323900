#include "kt/err.h"

/* No default: the compiler must flag a code left without a description. */
const char *
kt_strerror(kt_err e)
{
	switch (e) {
	case KT_OK:
		return "ok";
	case KT_ERR_INCOMPLETE:
		return "input is incomplete";
	case KT_ERR_MALFORMED:
		return "input is malformed";
	case KT_ERR_VERIFY:
		return "verification failed";
	case KT_ERR_UNKNOWN_KEY:
		return "no signature by a known key";
	case KT_ERR_RANGE:
		return "argument out of range";
	case KT_ERR_TOO_LARGE:
		return "too large";
	case KT_ERR_NOMEM:
		return "out of memory";
	case KT_ERR_NOT_FOUND:
		return "not found";
	case KT_ERR_EXISTS:
		return "already exists";
	case KT_ERR_CONFLICT:
		return "conflicts with current state";
	case KT_ERR_REFUSED:
		return "refused by a rule of the server";
	case KT_ERR_PERM:
		return "permission denied";
	case KT_ERR_IO:
		return "I/O error";
	case KT_ERR_NETWORK:
		return "network error";
	case KT_ERR_BUSY:
		return "busy";
	case KT_ERR_FULL:
		return "no space left (disk or size limit full)";
	case KT_ERR_INTERNAL:
		return "internal error";
	}
	return "unknown error";
}
