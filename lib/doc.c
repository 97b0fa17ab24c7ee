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

const char *
doc_schema(enum doc_type t)
{
	static const char *const schemas[DOC_TYPE_LAST] = {
		"vnet.rng", "slice.rng", "advertisement.rng", "manifest.rng",
		"report.rng", "error.rng"
	};

	return (unsigned)t < DOC_TYPE_LAST ? schemas[t] : NULL;
}

/* Validate doc (already parsed) as type t; returns the root or NULL. */
static xmlNodePtr
doc_check_root(xmlDocPtr doc, enum doc_type t)
{
	xmlNodePtr root;

	if ((root = xml_root(doc, doc_type_to_string(t))) == NULL)
		return NULL;
	if (xml_validate(doc, doc_schema(t)) == -1)
		return NULL;
	return root;
}

xmlDocPtr
doc_load(const char *data, size_t len, const char *name, enum doc_type t,
    xmlNodePtr *rootp)
{
	size_t before = err_count();
	xmlDocPtr doc;

	if ((doc = xml_parse(data, len, name, NULL)) == NULL)
		return NULL;
	if ((*rootp = doc_check_root(doc, t)) == NULL) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	if (name != NULL && err_count() > before)
		err_file(name);
	return doc;
}

int
doc_check(const char *data, size_t len, const char *name)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	int t, rc = -1;
	size_t before = err_count();

	if ((doc = xml_parse(data, len, name, NULL)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	t = root != NULL ? doc_type_from_string((const char *)root->name) : -1;
	if (t < 0) {
		err_at(ERR_XML_ROOT, NULL, root ? xmlGetLineNo(root) : 0,
		    "<%s> is not a vnsm document", root ?
		    (const char *)root->name : "(none)");
		err_hint("the root element must be one of vnet, slice, "
		    "advertisement, manifest, report or error");
		goto out;
	}
	if (doc_check_root(doc, t) == NULL)
		goto out;
	switch (t) {
	case DOC_VNET: {
		struct vnet *v = vnet_from_xml(root);
		rc = v != NULL ? 0 : -1;
		vnet_free(v);
		break;
	}
	case DOC_SLICE: {
		struct slice *s = slice_from_xml(root);
		rc = s != NULL ? 0 : -1;
		slice_free(s);
		break;
	}
	case DOC_ADVERT: {
		struct advert *a = advert_from_xml(root);
		rc = a != NULL ? 0 : -1;
		advert_free(a);
		break;
	}
	case DOC_MANIFEST: {
		struct manifest *m = manifest_from_xml(root);
		rc = m != NULL ? 0 : -1;
		manifest_free(m);
		break;
	}
	case DOC_REPORT: {
		struct report *r = report_from_xml(root);
		rc = r != NULL ? 0 : -1;
		report_free(r);
		break;
	}
	case DOC_ERROR: {
		struct errdoc *e = errdoc_from_xml(root);
		rc = e != NULL ? 0 : -1;
		errdoc_free(e);
		break;
	}
	}
	if (rc == 0)
		rc = t;
out:
	xmlFreeDoc(doc);
	if (name != NULL && err_count() > before)
		err_file(name);
	return rc;
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
