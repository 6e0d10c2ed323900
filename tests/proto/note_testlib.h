/*
 * note_testlib.h: known answers and helpers shared by the check_note*.c
 * suites.
 */
#ifndef KT_TESTS_NOTE_TESTLIB_H
#define KT_TESTS_NOTE_TESTLIB_H

#include <stdint.h>

#include "kt/note.h"

/*
 * Known-answer vectors from the Go reference implementation,
 * golang.org/x/mod/sumdb/note: the package documentation (note.go, section
 * "Example") and its tests (note_test.go: TestNewVerifier, TestNewSigner,
 * TestSign, TestOpen). Data only; no code was taken.
 */
#define GO_SKEY \
	"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_VKEY \
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_ENOCH_VKEY \
	"EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define GO_TEXT \
	"If you think cryptography is the answer to your problem,\n" \
	"then you don't know what your problem is.\n"
#define GO_PETER_B64 \
	"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
#define GO_PETER_SIG "\xe2\x80\x94 PeterNeumann " GO_PETER_B64 "\n"
#define GO_ENOCH_SIG \
	"\xe2\x80\x94 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
/* Go's TestNewVerifier: wrong key length and unknown algorithm, each with
 * an adjusted (correct) key hash, must still be rejected. */
#define GO_BAD_VKEY_LEN \
	"PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
#define GO_BAD_VKEY_ALG \
	"PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

#define EM "\xe2\x80\x94"

/* Go's example note: GO_TEXT signed by PeterNeumann. */
extern const char go_note[];

/* A signer for name of the given type, seed bytes fill, fill + 1, ... */
struct kt_signer *mk_signer(const char *name, uint8_t type, uint8_t fill);
/* The verifier key in text (asserting it parses). */
struct kt_verifier vkey(const char *text);

#endif
