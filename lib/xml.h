/*
 * Safe XML input and typed attribute access, shared by every document
 * model (lib/vnet.c, lib/slice.c, ...).
 *
 * Documents are parsed without network access, without DTDs and without
 * entity expansion: a <!DOCTYPE> stops the parser before any entity is
 * declared.  Size is checked before parsing; depth and element count
 * while parsing, so a hostile document is refused in bounded time and
 * memory.  Schemas are compiled into the library and the only external
 * resources the loader will ever open are those schemas.
 */
#ifndef VNSM_XML_H
#define VNSM_XML_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "error.h"
#include "units.h"

#define VNSM_NS "urn:vnsm:1"	/* the namespace of every vnsm document */

struct xml_limits {
	size_t max_bytes;	/* whole document, bytes */
	unsigned max_depth;	/* element nesting, root = 1 */
	size_t max_elements;	/* elements in the document */
};
extern const struct xml_limits xml_limits_default;

/* Install the restricted entity loader; idempotent, thread-safe. */
void xml_init(void);

/*
 * Parse len bytes of data.  name labels errors (a file name or a peer);
 * lim may be NULL for the defaults.  Returns the document (xmlFreeDoc() it)
 * or NULL after recording errors, each with its line.
 */
xmlDocPtr xml_parse(const char *data, size_t len, const char *name,
    const struct xml_limits *lim);
/*
 * Read a whole file, refusing it before reading if it is over the size
 * limit.  Returns malloc'd, NUL-terminated bytes and their length.
 */
char *xml_read_file(const char *path, const struct xml_limits *lim,
    size_t *lenp);
/* Read and parse a file; its size is checked before it is read. */
xmlDocPtr xml_parse_file(const char *path, const struct xml_limits *lim);

/*
 * Return the root element if it is <name> in the vnsm namespace; else
 * record ERR_XML_ROOT and return NULL.
 */
xmlNodePtr xml_root(xmlDocPtr doc, const char *name);

/* Validate against the compiled-in schema file (e.g. "vnet.rng"). */
int xml_validate(xmlDocPtr doc, const char *schema);

/* The element path of n, e.g. /vnet/link[@name='a-b']. */
void xml_path(const xmlNode *n, char *buf, size_t size);

/* Record an error at element n (path and line); returns -1. */
int xml_error(enum err_code code, const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Element children in the vnsm namespace named name (NULL: any). */
xmlNodePtr xml_child(const xmlNode *parent, const char *name);
xmlNodePtr xml_next(const xmlNode *n, const char *name);
#define XML_FOREACH(c, parent, name)					\
	for ((c) = xml_child((parent), (name)); (c) != NULL;		\
	    (c) = xml_next((c), (name)))
size_t xml_count(const xmlNode *parent, const char *name);

/*
 * Allocate an array of elemsize-byte entries for the <name> children of
 * parent (*arrp, *countp) and fill entry i from child i with fn(child,
 * entry, arg).  Every child is parsed even after a failure, so that all
 * problems are reported.  Returns 0 or -1; on -1 the array is still
 * allocated and the caller frees it as usual.
 */
typedef int xml_child_fn(const xmlNode *child, void *entry, void *arg);
int xml_children(const xmlNode *parent, const char *name, size_t elemsize,
    void *arrp, size_t *countp, xml_child_fn *fn, void *arg);

/*
 * Typed attributes.  Each returns 0 when the attribute is present and
 * valid, 1 when it is absent and not required (out is left alone), and -1
 * after recording an error that names the element, line and attribute.
 */
int xml_attr_str(const xmlNode *n, const char *attr, int required,
    char *out, size_t size);
int xml_attr_name(const xmlNode *n, const char *attr, int required,
    char *out, size_t size);
int xml_attr_enum(const xmlNode *n, const char *attr, int required,
    int (*from_string)(const char *), int *out);
int xml_attr_uint(const xmlNode *n, const char *attr, int required,
    uint64_t min, uint64_t max, uint64_t *out);
int xml_attr_cpu(const xmlNode *n, const char *attr, int required,
    uint32_t *milli);
int xml_attr_mem(const xmlNode *n, const char *attr, int required,
    uint64_t *mib);
int xml_attr_bw(const xmlNode *n, const char *attr, int required,
    uint64_t *kbit);
int xml_attr_prefix(const xmlNode *n, const char *attr, int required,
    struct ipv4_prefix *out);
int xml_attr_ipv4(const xmlNode *n, const char *attr, int required,
    uint32_t *addr);
int xml_attr_time(const xmlNode *n, const char *attr, int required,
    int64_t *epoch);
int xml_attr_ms(const xmlNode *n, const char *attr, int required,
    double *ms);
/* Element text, trimmed, at most size-1 bytes (longer is an error). */
int xml_text(const xmlNode *n, char *out, size_t size);

#endif
