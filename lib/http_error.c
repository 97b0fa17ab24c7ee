/*
 * The <error> answer.  Kept to one body builder so that lib/errdoc.c
 * (the model's own <error> format) can replace http_error_body() alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "http.h"

#define ERROR_NS	"urn:vnsm:1"
#define XC(s)		((const xmlChar *)(s))

/* Write <name>text</name> unless text is empty; -1 on writer failure. */
static int
http_error_elem(xmlTextWriterPtr w, const char *name, const char *text)
{
	if (text[0] == '\0')
		return 0;
	return xmlTextWriterWriteElement(w, XC(name), XC(text)) < 0 ?
	    -1 : 0;
}

char *
http_error_body(const struct err *e, size_t *len)
{
	static const struct err internal = {
		.code = ERR_INTERNAL,
		.msg = "the server failed without saying why",
	};
	xmlBufferPtr buf;
	xmlTextWriterPtr w = NULL;
	char where[ERR_WHERE_MAX + ERR_FILE_MAX + 32], num[64];
	char *out = NULL;
	int rc = 0;

	if (e == NULL)
		e = &internal;
	if ((buf = xmlBufferCreate()) == NULL ||
	    (w = xmlNewTextWriterMemory(buf, 0)) == NULL)
		goto done;
	if (e->where[0] != '\0')
		str_lcpy(where, e->where, sizeof(where));
	else if (e->file[0] != '\0' && e->line > 0)
		snprintf(where, sizeof(where), "%s:%ld", e->file, e->line);
	else
		str_lcpy(where, e->file, sizeof(where));
	rc |= xmlTextWriterStartElement(w, XC("error")) < 0;
	rc |= xmlTextWriterWriteAttribute(w, XC("xmlns"),
	    XC(ERROR_NS)) < 0;
	rc |= xmlTextWriterWriteAttribute(w, XC("code"),
	    XC(err_code_to_string(e->code))) < 0;
	rc |= http_error_elem(w, "message", e->msg) < 0;
	rc |= http_error_elem(w, "hint", e->hint) < 0;
	rc |= http_error_elem(w, "where", where) < 0;
	if (e->resource[0] != '\0') {
		rc |= xmlTextWriterStartElement(w, XC("shortfall")) < 0;
		rc |= xmlTextWriterWriteAttribute(w, XC("resource"),
		    XC(e->resource)) < 0;
		rc |= xmlTextWriterWriteAttribute(w, XC("unit"),
		    XC(e->unit)) < 0;
		snprintf(num, sizeof(num), "%g", e->asked);
		rc |= xmlTextWriterWriteAttribute(w, XC("asked"),
		    XC(num)) < 0;
		snprintf(num, sizeof(num), "%g", e->avail);
		rc |= xmlTextWriterWriteAttribute(w, XC("free"),
		    XC(num)) < 0;
		rc |= xmlTextWriterEndElement(w) < 0;
	}
	rc |= http_error_elem(w, "offer", e->offer) < 0;
	rc |= xmlTextWriterEndElement(w) < 0;
	rc |= xmlTextWriterFlush(w) < 0;
	if (rc != 0)
		goto done;
	*len = (size_t)xmlBufferLength(buf);
	if ((out = malloc(*len + 2)) != NULL) {
		memcpy(out, xmlBufferContent(buf), *len);
		out[(*len)++] = '\n';
		out[*len] = '\0';
	}
done:
	if (w != NULL)
		xmlFreeTextWriter(w);
	if (buf != NULL)
		xmlBufferFree(buf);
	return out;
}

void
http_reply_error(struct http_request *req)
{
	const struct err *e = err_last();
	int status = err_http_status(e != NULL ? e->code : ERR_INTERNAL);
	size_t len = 0;
	char *body;

	if ((body = http_error_body(e, &len)) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	http_reply(req, status, HTTP_CTYPE_XML, body, len);
	free(body);
}
