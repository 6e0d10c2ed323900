/*
 * config.h: kt-logd's settings. Defaults, then a config file (--config),
 * then command-line flags, each overriding the previous.
 *
 * Config file: one "name = value" per line, '#' starts a comment line,
 * blank lines ignored. Names are those of kt_config_set (see
 * ops/kt-logd.conf.example). Unknown names and bad values are errors.
 */
#ifndef KT_LOGSERVER_CONFIG_H
#define KT_LOGSERVER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "witness_client/witness_client.h"

#define KT_CONFIG_PATH_MAX 4096

struct kt_limits {
	size_t max_body;          /* bytes in a request body (413 beyond) */
	size_t max_batch;         /* entries in one POST /v1/keys:batch */
	size_t max_label;         /* bytes in a label, <= KT_LABEL_MAX */
	size_t max_key;           /* bytes in a decoded key, <= KT_KEY_MAX */
	unsigned max_connections; /* open HTTP connections */
	unsigned max_per_ip;      /* open connections from one address */
	unsigned conn_timeout;    /* seconds of inactivity before closing */
	unsigned request_timeout; /* seconds to read a request, or to send
	                               its answer, however busy the client */
	size_t max_buffered;      /* request body bytes held at once, all
	                               connections together (503 beyond) */
	size_t page_size;         /* entries in one GET /v1/entries */
};

struct kt_config {
	char data[KT_CONFIG_PATH_MAX];   /* data folder */
	char key[KT_CONFIG_PATH_MAX];    /* signer key file */
	char tokens[KT_CONFIG_PATH_MAX]; /* tokens file, "" for none */
	char listen[256];                /* HOST:PORT, [v6]:PORT */
	int allow_anonymous_writes;      /* only on a loopback listen address */
	unsigned threads;                /* HTTP worker threads */
	size_t seq_max_batch;            /* entries per commit */
	size_t seq_max_queue;            /* entries queued before 503 */
	unsigned map_retention;          /* seconds older maps stay readable */
	size_t max_db_size;              /* bytes the store may grow to; 0:
	                                    no limit but the disk's */
	int log_debug;
	int read_only;        /* a read replica of the writer's folder */
	char writer_url[256]; /* where a replica sends writers ("": none) */
	struct kt_limits limits;
	struct kt_wclient_cfg
	    witnesses[KT_WCLIENT_MAX]; /* --witness, repeatable */
	size_t nwitnesses;
	unsigned witness_interval_ms; /* default 1000 */
	unsigned witness_quorum;      /* default 1 */
};

/* Fills c with the defaults. */
void kt_config_defaults(struct kt_config *c);

/*
 * Sets one setting by name from text, e.g. ("max_body", "1048576").
 * KT_ERR_NOT_FOUND for an unknown name, KT_ERR_MALFORMED or KT_ERR_RANGE
 * for a bad value; err gets a message naming the setting.
 */
KT_MUST_CHECK kt_err kt_config_set(struct kt_config *c, const char *name,
    const char *value, char *err, size_t errlen);

/* Reads a config file into c. Errors name the file and line. */
KT_MUST_CHECK kt_err kt_config_load(struct kt_config *c, const char *path,
    char *err, size_t errlen);

/* Checks the whole config (required paths set, limits within bounds,
 * anonymous writes only on loopback, a read replica with neither
 * anonymous writes nor witnesses). */
KT_MUST_CHECK kt_err kt_config_check(const struct kt_config *c, char *err,
    size_t errlen);

/*
 * Splits "HOST:PORT" or "[V6]:PORT" into host (NUL-terminated) and port.
 * Port 0 asks the system for a free port.
 */
KT_MUST_CHECK kt_err kt_config_split_listen(const char *listen, char *host,
    size_t hostcap, uint16_t *port);

/* 1 if host names the loopback interface (127.0.0.0/8, ::1, localhost). */
int kt_config_host_is_loopback(const char *host);

#endif /* KT_LOGSERVER_CONFIG_H */
