/*
 * Errors: one list of stable codes, used in C and carried to peers in the
 * <error> document (lib/errdoc.c).
 *
 * Library code records an error where it happens and returns -1 or NULL;
 * it never exits.  Errors are kept in a per-thread list, so a validator
 * can report every problem it finds, not just the first.  Each entry says
 * what is wrong, where (document, line, element path), and what would fix
 * it; a refusal for lack of resources also says which resource, how much
 * was asked and how much is free.
 *
 * The message format strings are literals at the call site, never pieced
 * together, so every message can be found with grep.
 */
#ifndef VNSM_ERROR_H
#define VNSM_ERROR_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

enum err_code {
	ERR_OK = 0,
	ERR_INTERNAL,		/* a bug, or a system failure we cannot name */
	ERR_NOMEM,		/* out of memory */
	ERR_SYSTEM,		/* a system call failed (message has strerror) */
	ERR_USAGE,		/* bad command line or configuration */
	ERR_XML_SYNTAX,		/* the document is not well-formed XML */
	ERR_XML_LIMIT,		/* size, depth or element count over the limit */
	ERR_XML_FORBIDDEN,	/* DTD, entity or external reference */
	ERR_XML_ROOT,		/* wrong root element or namespace */
	ERR_SCHEMA,		/* the document does not match its schema */
	ERR_INVALID,		/* a value is malformed or out of range */
	ERR_DUPLICATE,		/* a name that must be unique is not */
	ERR_NOT_FOUND,		/* a reference or object does not exist */
	ERR_TOPOLOGY,		/* self-link, too few interfaces, ... */
	ERR_NO_RESOURCES,	/* admission refused: a resource fell short */
	ERR_UNAUTHENTICATED,	/* no or bad peer certificate */
	ERR_FORBIDDEN,		/* the peer may not do this */
	ERR_CONFLICT,		/* the object is in the wrong state / exists */
	ERR_UNSUPPORTED,	/* this host or driver cannot do it */
	ERR_PEER,		/* a peer failed or could not be reached */
	ERR_TIMEOUT,		/* a peer or operation took too long */
	ERR_LAST
};
ENUM_DECL(err_code);

#define ERR_MSG_MAX	384
#define ERR_WHERE_MAX	256
#define ERR_FILE_MAX	256
#define ERR_LIST_MAX	64	/* per thread; later errors are counted only */

struct err {
	enum err_code code;
	char msg[ERR_MSG_MAX];		/* what is wrong, one sentence */
	char hint[ERR_MSG_MAX];		/* what would fix it; may be "" */
	char where[ERR_WHERE_MAX];	/* element path, e.g. /vnet/link[@name='x'] */
	char file[ERR_FILE_MAX];	/* document name; "" if unknown */
	long line;			/* line in file; 0 if unknown */

	/* Set only for ERR_NO_RESOURCES. */
	char resource[32];		/* "memory", "cpu", "bandwidth", ... */
	char unit[16];			/* "MiB", "cores", "Mbit/s", ... */
	double asked;			/* amount requested, in unit */
	double avail;			/* amount free, in unit */
	char offer[ERR_MSG_MAX];	/* what would fit instead; may be "" */
};

/* Forget every recorded error of this thread. */
void err_reset(void);

/*
 * Record an error and return -1, so that "return err_at(...)" reads well.
 * where and line may be NULL / 0.
 */
int err_at(enum err_code code, const char *where, long line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define err_set(code, ...) err_at((code), NULL, 0, __VA_ARGS__)
/* Record ERR_SYSTEM with ": strerror(errno)" appended. */
int err_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Record ERR_NOMEM. */
int err_nomem(void);

/* Decorate the most recent error.  No-ops when there is none. */
void err_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err_shortfall(const char *resource, const char *unit, double asked,
    double avail);
void err_offer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Name the document of every error that does not name one yet. */
void err_file(const char *file);

/* Copy an error into the list as is (e.g. one received from a peer). */
int err_push(const struct err *e);

size_t err_count(void);		/* errors recorded (kept ones) */
size_t err_dropped(void);	/* errors beyond ERR_LIST_MAX */
const struct err *err_get(size_t i);
const struct err *err_last(void);	/* NULL if none */
enum err_code err_last_code(void);	/* ERR_OK if none */

/*
 * Print each error as one line, "FILE:LINE: message (hint)"; FILE and LINE
 * are left out when unknown, and the element path is added when there is
 * no line.
 */
void err_print(FILE *fp);
/* Format one error as that line into buf; returns buf. */
char *err_line(const struct err *e, char *buf, size_t size);

/* The HTTP status that carries a code to a peer. */
int err_http_status(enum err_code code);

#endif
