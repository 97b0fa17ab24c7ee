/*
 * The document types vnsm exchanges, and the load step they share:
 * safe parse (lib/xml.c), root element and namespace, schema.  The model
 * files (vnet.c, slice.c, advert.c, manifest.c, report.c, errdoc.c) build
 * their structs on top of it and check meaning.
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
 * Parse data (name labels errors), check that the root is the element of
 * type t, and validate it against its schema.  Returns the document and
 * its root in *rootp, or NULL after recording errors (each naming name).
 */
xmlDocPtr doc_load(const char *data, size_t len, const char *name,
    enum doc_type t, xmlNodePtr *rootp);

/*
 * Check a document of any type, as `vno validate` does: parse, detect the
 * type by its root element, validate against the schema and check
 * meaning.  Returns the type, or -1 after recording every problem found.
 */
int doc_check(const char *data, size_t len, const char *name);
int doc_check_file(const char *path);

#endif
