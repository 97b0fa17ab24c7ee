#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "doc.h"
#include "errdoc.h"
#include "xml.h"

static int
double_attr(const xmlNode *n, const char *attr, double *out)
{
	char tmp[64], *end;

	if (xml_attr_str(n, attr, 1, tmp, sizeof(tmp)) != 0)
		return -1;
	*out = strtod(tmp, &end);
	if (end == tmp || *end != '\0')
		return xml_error(ERR_INVALID, n, "%s \"%s\" is not a number",
		    attr, tmp);
	return 0;
}

/* The body shared by <error> and <problem>. */
static int
err_cb(const xmlNode *n, void *entry, void *arg)
{
	struct err *e = entry;
	xmlNodePtr c;
	int code = ERR_INTERNAL, rc = 0;
	uint64_t line;

	if (xml_attr_enum(n, "code", 1, err_code_from_string, &code) == -1)
		rc = -1;
	e->code = code;
	if ((c = xml_child(n, "message")) == NULL ||
	    xml_text(c, e->msg, sizeof(e->msg)) == -1)
		rc = c == NULL ? xml_error(ERR_SCHEMA, n, "<%s> needs a "
		    "<message>", (const char *)n->name) : -1;
	if ((c = xml_child(n, "hint")) != NULL &&
	    xml_text(c, e->hint, sizeof(e->hint)) == -1)
		rc = -1;
	if ((c = xml_child(n, "where")) != NULL) {
		if (xml_text(c, e->where, sizeof(e->where)) == -1 ||
		    xml_attr_str(c, "file", 0, e->file, sizeof(e->file)) == -1)
			rc = -1;
		switch (xml_attr_uint(c, "line", 0, 0, LONG_MAX, &line)) {
		case 0: e->line = (long)line; break;
		case -1: rc = -1; break;
		}
	}
	if ((c = xml_child(n, "shortfall")) != NULL &&
	    (xml_attr_str(c, "resource", 1, e->resource,
	    sizeof(e->resource)) == -1 ||
	    xml_attr_str(c, "unit", 1, e->unit, sizeof(e->unit)) == -1 ||
	    double_attr(c, "asked", &e->asked) == -1 ||
	    double_attr(c, "free", &e->avail) == -1))
		rc = -1;
	if ((c = xml_child(n, "offer")) != NULL &&
	    xml_text(c, e->offer, sizeof(e->offer)) == -1)
		rc = -1;
	return rc;
}

struct errdoc *
errdoc_build(const xmlNode *root)
{
	struct errdoc *e;
	struct err *more = NULL;
	size_t nmore = 0;
	int rc = 0;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		err_nomem();
		return NULL;
	}
	if (xml_children(root, "problem", sizeof(*more), &more, &nmore,
	    err_cb, NULL) == -1)
		rc = -1;
	if ((e->errs = calloc(nmore + 1, sizeof(*e->errs))) == NULL) {
		free(more);
		free(e);
		err_nomem();
		return NULL;
	}
	e->nerrs = nmore + 1;
	if (err_cb(root, &e->errs[0], NULL) == -1)
		rc = -1;
	if (nmore > 0)
		memcpy(&e->errs[1], more, nmore * sizeof(*more));
	free(more);
	if (rc == -1) {
		errdoc_free(e);
		return NULL;
	}
	return e;
}

struct errdoc *
errdoc_parse(const char *data, size_t len, const char *name)
{
	return doc_parse(data, len, name, DOC_ERROR);
}

static void
text_elem(struct buf *b, const char *indent, const char *tag, const char *s)
{
	if (s[0] == '\0')
		return;
	buf_printf(b, "%s<%s>", indent, tag);
	buf_xml_escape(b, s);
	buf_printf(b, "</%s>\n", tag);
}

static void
err_body(struct buf *b, const struct err *e, const char *indent)
{
	text_elem(b, indent, "message", e->msg[0] ? e->msg : "error");
	text_elem(b, indent, "hint", e->hint);
	if (e->where[0] != '\0' || e->file[0] != '\0' || e->line > 0) {
		buf_printf(b, "%s<where", indent);
		buf_attr(b, "file", e->file);
		if (e->line > 0)
			buf_printf(b, " line=\"%ld\"", e->line);
		buf_puts(b, ">");
		buf_xml_escape(b, e->where);
		buf_puts(b, "</where>\n");
	}
	if (e->resource[0] != '\0') {
		buf_printf(b, "%s<shortfall", indent);
		buf_attr(b, "resource", e->resource);
		buf_attr(b, "unit", e->unit);
		buf_printf(b, " asked=\"%.17g\" free=\"%.17g\"/>\n", e->asked,
		    e->avail);
	}
	text_elem(b, indent, "offer", e->offer);
}

char *
errdoc_format_errs(const struct err *errs, size_t n, size_t *lenp)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "<?xml version=\"1.0\"?>\n<error xmlns=\"" VNSM_NS
	    "\" code=\"%s\">\n", err_code_to_string(errs[0].code));
	err_body(&b, &errs[0], "  ");
	for (size_t i = 1; i < n; i++) {
		buf_printf(&b, "  <problem code=\"%s\">\n",
		    err_code_to_string(errs[i].code));
		err_body(&b, &errs[i], "    ");
		buf_puts(&b, "  </problem>\n");
	}
	buf_puts(&b, "</error>\n");
	return buf_steal(&b, lenp);
}

char *
errdoc_format(const struct errdoc *e)
{
	return errdoc_format_errs(e->errs, e->nerrs, NULL);
}

char *
errdoc_from_thread(size_t max, size_t *lenp)
{
	struct err errs[ERR_LIST_MAX];
	size_t n = err_count();

	if (max != 0 && n > max)
		n = max;
	if (n == 0) {
		memset(&errs[0], 0, sizeof(errs[0]));
		errs[0].code = ERR_INTERNAL;
		str_lcpy(errs[0].msg, "internal error", sizeof(errs[0].msg));
		n = 1;
	} else
		for (size_t i = 0; i < n; i++)
			errs[i] = *err_get(i);
	/* ERR_OK is not an error code a peer may receive. */
	for (size_t i = 0; i < n; i++)
		if (errs[i].code == ERR_OK)
			errs[i].code = ERR_INTERNAL;
	return errdoc_format_errs(errs, n, lenp);
}

int
errdoc_push(const struct errdoc *e)
{
	for (size_t i = 0; i < e->nerrs; i++)
		err_push(&e->errs[i]);
	return -1;
}

void
errdoc_free(struct errdoc *e)
{
	if (e == NULL)
		return;
	free(e->errs);
	free(e);
}
