/*
 * The <error> document (schemas/error.rng): how a struct err from
 * lib/error.h travels to a peer and back.  The first problem is the
 * document's own; the rest follow as <problem> elements.
 */
#ifndef VNSM_ERRDOC_H
#define VNSM_ERRDOC_H

#include <stddef.h>

#include <libxml/tree.h>

#include "error.h"

struct errdoc {
	struct err *errs;	/* at least one */
	size_t nerrs;
};

struct errdoc *errdoc_parse(const char *data, size_t len, const char *name);
struct errdoc *errdoc_build(const xmlNode *root);
char *errdoc_format(const struct errdoc *e);
void errdoc_free(struct errdoc *e);

/*
 * Format the errors this thread has recorded (at most max of them; all if
 * max is 0) as one <error> document.  With none recorded, an "internal"
 * error.  Returns a malloc'd string (its length in *lenp if not NULL) or
 * NULL on ENOMEM.
 */
char *errdoc_from_thread(size_t max, size_t *lenp);
/* Format n errors as one <error> document; the first is the primary. */
char *errdoc_format_errs(const struct err *errs, size_t n, size_t *lenp);
/* Record every error of a document received from a peer; returns -1. */
int errdoc_push(const struct errdoc *e);

#endif
