#include <stdlib.h>
#include <string.h>

#include "advert.h"
#include "doc.h"
#include "errdoc.h"
#include "error.h"
#include "manifest.h"
#include "report.h"
#include "slice.h"
#include "vnet.h"
#include "xml.h"

ENUM_IMPL(doc_type, DOC_TYPE_LAST, "vnet", "slice", "advertisement",
    "manifest", "report", "error")

/* Adapters so that one table can drive every document type. */
#define DOC_ADAPTERS(p, check)						\
	static void *							\
	p##_build_v(const xmlNode *root)				\
	{								\
		return p##_build(root);					\
	}								\
	static int							\
	p##_check_v(const void *obj)					\
	{								\
		return check;						\
	}								\
	static char *							\
	p##_format_v(const void *obj)					\
	{								\
		return p##_format(obj);					\
	}								\
	static void							\
	p##_free_v(void *obj)						\
	{								\
		p##_free(obj);						\
	}
DOC_ADAPTERS(vnet, vnet_validate(obj, NULL))
DOC_ADAPTERS(slice, slice_validate(obj, NULL))
DOC_ADAPTERS(advert, advert_validate(obj))
DOC_ADAPTERS(manifest, manifest_validate(obj))
DOC_ADAPTERS(report, report_validate(obj))
DOC_ADAPTERS(errdoc, ((void)obj, 0))

static const struct doc_ops {
	const char *schema;
	void *(*build)(const xmlNode *root);	/* typed read */
	int (*check)(const void *obj);		/* meaning */
	char *(*format)(const void *obj);	/* canonical document */
	void (*free)(void *obj);
} doc_ops[DOC_TYPE_LAST] = {
#define OPS(p, schema) \
	{ schema, p##_build_v, p##_check_v, p##_format_v, p##_free_v }
	[DOC_VNET] = OPS(vnet, "vnet.rng"),
	[DOC_SLICE] = OPS(slice, "slice.rng"),
	[DOC_ADVERT] = OPS(advert, "advertisement.rng"),
	[DOC_MANIFEST] = OPS(manifest, "manifest.rng"),
	[DOC_REPORT] = OPS(report, "report.rng"),
	[DOC_ERROR] = OPS(errdoc, "error.rng"),
#undef OPS
};

const char *
doc_schema(enum doc_type t)
{
	return (unsigned)t < DOC_TYPE_LAST ? doc_ops[t].schema : NULL;
}

/*
 * The three checks, in the order that gives the best messages: the typed
 * read first (a bad value is named with its attribute and a fix), then
 * the schema (unknown elements and attributes, structure), then meaning.
 * Nothing is returned unless all three pass.
 */
static void *
doc_from_tree(xmlDocPtr doc, enum doc_type t)
{
	const struct doc_ops *ops = &doc_ops[t];
	xmlNodePtr root;
	void *obj;

	if ((root = xml_root(doc, doc_type_to_string(t))) == NULL)
		return NULL;
	if ((obj = ops->build(root)) == NULL)
		return NULL;
	if (xml_validate(doc, ops->schema) == -1 || ops->check(obj) == -1) {
		ops->free(obj);
		return NULL;
	}
	return obj;
}

char *
doc_format(enum doc_type t, const void *obj)
{
	return doc_ops[t].format(obj);
}

void
doc_free(enum doc_type t, void *obj)
{
	if (obj != NULL)
		doc_ops[t].free(obj);
}

void *
doc_parse(const char *data, size_t len, const char *name, enum doc_type t)
{
	size_t before = err_count();
	xmlDocPtr doc;
	void *obj = NULL;

	if ((doc = xml_parse(data, len, name, NULL)) != NULL) {
		obj = doc_from_tree(doc, t);
		xmlFreeDoc(doc);
	}
	if (name != NULL && err_count() > before)
		err_file(name);
	return obj;
}

int
doc_check(const char *data, size_t len, const char *name)
{
	size_t before = err_count();
	xmlNodePtr root;
	xmlDocPtr doc;
	void *obj = NULL;
	int t = -1;

	if ((doc = xml_parse(data, len, name, NULL)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (root != NULL)
		t = doc_type_from_string((const char *)root->name);
	if (t < 0) {
		err_at(ERR_XML_ROOT, NULL, root ? xmlGetLineNo(root) : 0,
		    "<%s> is not a vnsm document", root ?
		    (const char *)root->name : "(none)");
		err_hint("the root element must be one of vnet, slice, "
		    "advertisement, manifest, report or error");
	} else if ((obj = doc_from_tree(doc, t)) != NULL)
		doc_ops[t].free(obj);
	else
		t = -1;
	xmlFreeDoc(doc);
	if (name != NULL && err_count() > before)
		err_file(name);
	return t;
}

int
doc_check_file(const char *path)
{
	size_t len;
	char *data;
	int rc;

	if ((data = xml_read_file(path, NULL, &len)) == NULL)
		return -1;
	rc = doc_check(data, len, path);
	free(data);
	return rc;
}
