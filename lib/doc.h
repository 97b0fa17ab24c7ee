/*
 * The document types vnsm exchanges, and the load step they share:
 * safe parse (lib/xml.c), root element and namespace, typed read,
 * schema, meaning.  The model files (vnet.c, slice.c, advert.c,
 * manifest.c, report.c, errdoc.c) provide the typed read and meaning
 * checks.
 */
#ifndef VNSM_DOC_H
#define VNSM_DOC_H

#include <stddef.h>

#include <libxml/tree.h>

#include "util.h"

enum doc_type { DOC_VNET, DOC_SLICE, DOC_ADVERT, DOC_MANIFEST, DOC_REPORT,
	DOC_ERROR, DOC_TYPE_LAST };
ENUM_DECL(doc_type);	/* the root element names: "vnet", "slice", ... */

/* The schema file of a document type, e.g. "vnet.rng". */
const char *doc_schema(enum doc_type t);

/*
 * Parse a document of type t: safe load, root element and namespace,
 * typed read, schema, meaning.  name labels errors.  Returns the model
 * (struct vnet *, struct slice *, ... as t says; free it with its own
 * free function) or NULL after recording every problem found.
 */
void *doc_parse(const char *data, size_t len, const char *name,
    enum doc_type t);

/* Format / free a model returned by doc_parse() for type t. */
char *doc_format(enum doc_type t, const void *obj);
void doc_free(enum doc_type t, void *obj);

/*
 * Check a document of any type, as `vno validate` does: parse, detect the
 * type by its root element, validate against the schema and check
 * meaning.  Returns the type, or -1 after recording every problem found.
 */
int doc_check(const char *data, size_t len, const char *name);
int doc_check_file(const char *path);

#endif
