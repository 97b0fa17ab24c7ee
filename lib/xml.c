#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>

#include "error.h"
#include "schema_data.h"
#include "xml.h"

const struct xml_limits xml_limits_default = {
	.max_bytes = 8u << 20,
	.max_depth = 16,
	.max_elements = 200000,
};

/* State of one parse, reached from the SAX callbacks through _private. */
struct xml_parse_state {
	const struct xml_limits *lim;
	startElementNsSAX2Func start;	/* libxml2's own handlers */
	endElementNsSAX2Func end;
	unsigned depth;			/* current nesting */
	size_t elements;		/* elements seen so far */
	int refused;			/* we stopped the parser: error recorded */
	int reported;			/* a syntax error has been recorded */
};

static xmlParserInputPtr
schema_input(xmlParserCtxtPtr ctxt, const struct schema_file *f)
{
	xmlParserInputBufferPtr in;

	in = xmlParserInputBufferCreateMem((const char *)f->data,
	    (int)f->len, XML_CHAR_ENCODING_NONE);
	if (in == NULL)
		return NULL;
	return xmlNewIOInputStream(ctxt, in, XML_CHAR_ENCODING_NONE);
}

/*
 * The only external resources a document or schema may load are the
 * compiled-in schemas.  Everything else — file://, http://, a relative
 * path — is refused, whoever asks.
 */
static xmlParserInputPtr
xml_entity_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	const char *base;

	if (url != NULL) {
		base = strrchr(url, '/');
		base = base != NULL ? base + 1 : url;
		for (const struct schema_file *f = schema_files; f->name; f++)
			if (strcmp(f->name, base) == 0 &&
			    (strcmp(url, base) == 0 ||
			    strncmp(url, "vnsm-schema:", 12) == 0))
				return schema_input(ctxt, f);
	}
	return NULL;
}

static void
xml_init_once(void)
{
	xmlInitParser();
	xmlSetExternalEntityLoader(xml_entity_loader);
}

void
xml_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, xml_init_once);
}

static void
xml_quiet(void *ctx, const char *msg, ...)
{
}

static void
xml_refuse(xmlParserCtxtPtr ctxt, enum err_code code, const char *msg)
{
	struct xml_parse_state *st = ctxt->_private;

	if (!st->refused && !st->reported)
		err_at(code, NULL, xmlSAX2GetLineNumber(ctxt), "%s", msg);
	st->refused = 1;
	xmlStopParser(ctxt);
}

static void
sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xml_parse_state *st = ctxt->_private;

	if (++st->elements > st->lim->max_elements) {
		xml_refuse(ctxt, ERR_XML_LIMIT, "document has too many "
		    "elements; split the request or raise the limit");
		err_hint("at most %zu elements are accepted",
		    st->lim->max_elements);
		return;
	}
	if (++st->depth > st->lim->max_depth) {
		xml_refuse(ctxt, ERR_XML_LIMIT, "elements are nested too "
		    "deeply; vnsm documents are only a few levels deep");
		return;
	}
	st->start(ctx, localname, prefix, uri, nb_namespaces, namespaces,
	    nb_attributes, nb_defaulted, attributes);
}

static void
sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xml_parse_state *st = ctxt->_private;

	st->depth--;
	st->end(ctx, localname, prefix, uri);
}

/* Any DTD is refused before its first declaration is read. */
static void
sax_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
    const xmlChar *sys_id)
{
	xml_refuse(ctx, ERR_XML_FORBIDDEN, "document type declarations "
	    "(<!DOCTYPE>) and entities are not accepted; remove them");
}

static void
sax_error(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xml_parse_state *st;
	char msg[ERR_MSG_MAX];
	size_t n;

	if (ctxt == NULL || (st = ctxt->_private) == NULL)
		return;
	if (st->refused || st->reported || e->level < XML_ERR_ERROR)
		return;
	str_lcpy(msg, e->message != NULL ? e->message : "malformed XML",
	    sizeof(msg));
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	err_at(ERR_XML_SYNTAX, NULL, e->line, "not well-formed XML: %s", msg);
	st->reported = 1;
}

xmlDocPtr
xml_parse(const char *data, size_t len, const char *name,
    const struct xml_limits *lim)
{
	struct xml_parse_state st;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc = NULL;
	size_t before = err_count();

	xml_init();
	/* Problems are recorded, never printed by libxml2 itself. */
	xmlSetGenericErrorFunc(NULL, xml_quiet);
	if (lim == NULL)
		lim = &xml_limits_default;
	if (len > lim->max_bytes || len > INT_MAX) {
		err_set(ERR_XML_LIMIT, "document is %zu bytes, more than the "
		    "limit of %zu bytes", len, lim->max_bytes);
		goto out;
	}
	if (len == 0) {
		err_set(ERR_XML_SYNTAX, "document is empty");
		goto out;
	}
	if ((ctxt = xmlCreateMemoryParserCtxt(data, (int)len)) == NULL) {
		err_nomem();
		goto out;
	}
	memset(&st, 0, sizeof(st));
	st.lim = lim;
	st.start = ctxt->sax->startElementNs;
	st.end = ctxt->sax->endElementNs;
	ctxt->_private = &st;
	ctxt->sax->startElementNs = sax_start;
	ctxt->sax->endElementNs = sax_end;
	ctxt->sax->internalSubset = sax_subset;
	ctxt->sax->externalSubset = sax_subset;
	ctxt->sax->serror = sax_error;
	ctxt->sax->warning = NULL;
	ctxt->sax->error = NULL;
	ctxt->vctxt.error = NULL;
	ctxt->vctxt.warning = NULL;
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_BIG_LINES |
	    XML_PARSE_NOCDATA);
	xmlParseDocument(ctxt);
	if (ctxt->wellFormed && !st.refused && !st.reported)
		doc = ctxt->myDoc;
	else {
		if (!st.refused && !st.reported)
			err_set(ERR_XML_SYNTAX, "not well-formed XML");
		xmlFreeDoc(ctxt->myDoc);
	}
	ctxt->myDoc = NULL;
	xmlFreeParserCtxt(ctxt);
out:
	if (name != NULL && err_count() > before)
		err_file(name);
	return doc;
}

char *
xml_read_file(const char *path, const struct xml_limits *lim, size_t *lenp)
{
	struct stat sb;
	char *data = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	if (lim == NULL)
		lim = &xml_limits_default;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		err_sys("cannot open %s", path);
		return NULL;
	}
	if (fstat(fd, &sb) == -1) {
		err_sys("cannot stat %s", path);
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		err_set(ERR_INVALID, "%s is not a regular file", path);
		goto fail;
	}
	if ((uint64_t)sb.st_size > lim->max_bytes) {
		err_set(ERR_XML_LIMIT, "document is %jd bytes, more than the "
		    "limit of %zu bytes", (intmax_t)sb.st_size, lim->max_bytes);
		err_file(path);
		goto fail;
	}
	if ((data = malloc((size_t)sb.st_size + 1)) == NULL) {
		err_nomem();
		goto fail;
	}
	while (got < (size_t)sb.st_size &&
	    (n = read(fd, data + got, (size_t)sb.st_size - got)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err_sys("cannot read %s", path);
			goto fail;
		}
		got += (size_t)n;
	}
	data[got] = '\0';
	close(fd);
	*lenp = got;
	return data;
fail:
	free(data);
	close(fd);
	return NULL;
}

xmlDocPtr
xml_parse_file(const char *path, const struct xml_limits *lim)
{
	xmlDocPtr doc;
	size_t len;
	char *data;

	if ((data = xml_read_file(path, lim, &len)) == NULL)
		return NULL;
	doc = xml_parse(data, len, path, lim);
	free(data);
	return doc;
}

xmlNodePtr
xml_root(xmlDocPtr doc, const char *name)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	if (root == NULL) {
		err_set(ERR_XML_ROOT, "document has no root element");
		return NULL;
	}
	if (root->ns == NULL || root->ns->href == NULL ||
	    strcmp((const char *)root->ns->href, VNSM_NS) != 0) {
		err_at(ERR_XML_ROOT, NULL, xmlGetLineNo(root), "root element "
		    "<%s> is not in the vnsm namespace", (const char *)root->name);
		err_hint("add xmlns=\"%s\" to the root element", VNSM_NS);
		return NULL;
	}
	if (strcmp((const char *)root->name, name) != 0) {
		err_at(ERR_XML_ROOT, NULL, xmlGetLineNo(root), "root element "
		    "is <%s>, expected <%s>", (const char *)root->name, name);
		return NULL;
	}
	return root;
}

/* Compiled schemas, built once on first use and kept for the process. */
static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const char *name;
	xmlRelaxNGPtr rng;
} schema_cache[16];

static xmlRelaxNGPtr
schema_get(const char *name)
{
	const struct schema_file *f;
	xmlRelaxNGParserCtxtPtr pctxt;
	xmlRelaxNGPtr rng = NULL;
	size_t i;

	xml_init();
	pthread_mutex_lock(&schema_lock);
	for (i = 0; i < NELEM(schema_cache) && schema_cache[i].name; i++)
		if (strcmp(schema_cache[i].name, name) == 0) {
			rng = schema_cache[i].rng;
			goto out;
		}
	for (f = schema_files; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			break;
	if (f->name == NULL || i == NELEM(schema_cache)) {
		err_set(ERR_INTERNAL, "schema %s is not compiled in", name);
		goto out;
	}
	pctxt = xmlRelaxNGNewMemParserCtxt((const char *)f->data, (int)f->len);
	if (pctxt == NULL) {
		err_nomem();
		goto out;
	}
	xmlRelaxNGSetParserErrors(pctxt, xml_quiet, xml_quiet, NULL);
	rng = xmlRelaxNGParse(pctxt);
	xmlRelaxNGFreeParserCtxt(pctxt);
	if (rng == NULL) {
		err_set(ERR_INTERNAL, "schema %s does not compile", name);
		goto out;
	}
	schema_cache[i].name = f->name;
	schema_cache[i].rng = rng;
out:
	pthread_mutex_unlock(&schema_lock);
	return rng;
}

struct schema_errors {
	long last_line;		/* line of the last error recorded */
	unsigned n;		/* errors recorded */
};

/*
 * libxml2 reports one schema violation as a cascade of messages about the
 * enclosing elements.  Keep the first message per line: it is the precise
 * one.
 */
static void
schema_error(void *arg, xmlErrorPtr e)
{
	struct schema_errors *se = arg;
	char where[ERR_WHERE_MAX] = "";
	char msg[ERR_MSG_MAX];
	size_t n;

	if (e->line == se->last_line && se->n > 0)
		return;
	se->last_line = e->line;
	se->n++;
	if (e->node != NULL)
		xml_path(e->node, where, sizeof(where));
	str_lcpy(msg, e->message ? e->message : "invalid", sizeof(msg));
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	err_at(ERR_SCHEMA, where, e->line, "does not match the schema: %s",
	    msg);
}

int
xml_validate(xmlDocPtr doc, const char *schema)
{
	struct schema_errors se = { 0, 0 };
	xmlRelaxNGValidCtxtPtr vctxt;
	xmlRelaxNGPtr rng;
	int rc;

	if ((rng = schema_get(schema)) == NULL)
		return -1;
	if ((vctxt = xmlRelaxNGNewValidCtxt(rng)) == NULL)
		return err_nomem();
	xmlRelaxNGSetValidStructuredErrors(vctxt, schema_error, &se);
	rc = xmlRelaxNGValidateDoc(vctxt, doc);
	xmlRelaxNGFreeValidCtxt(vctxt);
	if (rc == 0)
		return 0;
	if (se.n == 0)
		err_set(ERR_SCHEMA, "document does not match schema %s",
		    schema);
	return -1;
}

void
xml_path(const xmlNode *n, char *buf, size_t size)
{
	const xmlNode *chain[32];
	size_t depth = 0, off = 0;

	buf[0] = '\0';
	for (; n != NULL && n->type == XML_ELEMENT_NODE &&
	    depth < NELEM(chain); n = n->parent)
		chain[depth++] = n;
	while (depth-- > 0 && off < size) {
		xmlChar *name = xmlGetProp(chain[depth], BAD_CAST "name");
		int r;

		if (name != NULL && xmlStrlen(name) < NAME_LEN * 2)
			r = snprintf(buf + off, size - off, "/%s[@name='%s']",
			    (const char *)chain[depth]->name, (char *)name);
		else
			r = snprintf(buf + off, size - off, "/%s",
			    (const char *)chain[depth]->name);
		xmlFree(name);
		if (r < 0)
			break;
		off += (size_t)r;
	}
}

int
xml_error(enum err_code code, const xmlNode *n, const char *fmt, ...)
{
	char where[ERR_WHERE_MAX];
	char msg[ERR_MSG_MAX];
	va_list ap;

	xml_path(n, where, sizeof(where));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_at(code, where, xmlGetLineNo(n), "%s", msg);
}

static int
xml_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, VNSM_NS) == 0 &&
	    (name == NULL || strcmp((const char *)n->name, name) == 0);
}

xmlNodePtr
xml_next(const xmlNode *n, const char *name)
{
	for (n = n->next; n != NULL; n = n->next)
		if (xml_is(n, name))
			return (xmlNodePtr)n;
	return NULL;
}

xmlNodePtr
xml_child(const xmlNode *parent, const char *name)
{
	const xmlNode *n;

	for (n = parent->children; n != NULL; n = n->next)
		if (xml_is(n, name))
			return (xmlNodePtr)n;
	return NULL;
}

size_t
xml_count(const xmlNode *parent, const char *name)
{
	xmlNodePtr c;
	size_t k = 0;

	XML_FOREACH(c, parent, name)
		k++;
	return k;
}

int
xml_children(const xmlNode *parent, const char *name, size_t elemsize,
    void *arrp, size_t *countp, xml_child_fn *fn, void *arg)
{
	size_t n = xml_count(parent, name), i = 0;
	unsigned char *arr;
	xmlNodePtr c;
	int rc = 0;

	*countp = 0;
	*(void **)arrp = NULL;
	if (n == 0)
		return 0;
	if ((arr = calloc(n, elemsize)) == NULL)
		return err_nomem();
	*(void **)arrp = arr;
	*countp = n;
	XML_FOREACH(c, parent, name)
		if (fn(c, arr + elemsize * i++, arg) == -1)
			rc = -1;
	return rc;
}

/*
 * Fetch attribute attr into a malloc'd string (*val, xmlFree it).
 * Returns 0, or 1 if absent and optional, or -1 if absent and required.
 */
static int
attr_get(const xmlNode *n, const char *attr, int required, xmlChar **val)
{
	*val = xmlGetNoNsProp(n, BAD_CAST attr);
	if (*val != NULL)
		return 0;
	if (!required)
		return 1;
	return xml_error(ERR_SCHEMA, n, "<%s> needs a %s attribute",
	    (const char *)n->name, attr);
}

int
xml_attr_str(const xmlNode *n, const char *attr, int required, char *out,
    size_t size)
{
	xmlChar *v;
	int rc;

	if ((rc = attr_get(n, attr, required, &v)) != 0)
		return rc;
	if ((size_t)xmlStrlen(v) >= size) {
		xml_error(ERR_INVALID, n, "%s is longer than %zu characters",
		    attr, size - 1);
		xmlFree(v);
		return -1;
	}
	str_lcpy(out, (const char *)v, size);
	xmlFree(v);
	return 0;
}

int
xml_attr_name(const xmlNode *n, const char *attr, int required, char *out,
    size_t size)
{
	int rc;

	if ((rc = xml_attr_str(n, attr, required, out, size)) != 0)
		return rc;
	if (!name_valid(out)) {
		xml_error(ERR_INVALID, n, "%s \"%s\" is not a valid name",
		    attr, out);
		err_hint("names are 1-63 letters, digits, '.', '_' or '-', "
		    "starting with a letter or digit");
		return -1;
	}
	return 0;
}

int
xml_attr_enum(const xmlNode *n, const char *attr, int required,
    int (*from_string)(const char *), int *out)
{
	xmlChar *v;
	int rc, e;

	if ((rc = attr_get(n, attr, required, &v)) != 0)
		return rc;
	e = from_string((const char *)v);
	if (e < 0)
		xml_error(ERR_INVALID, n, "unknown %s \"%.64s\"", attr,
		    (const char *)v);
	if (e < 0)
		err_hint("docs/formats.md lists the values of %s", attr);
	else
		*out = e;
	xmlFree(v);
	return e < 0 ? -1 : 0;
}

int
xml_attr_uint(const xmlNode *n, const char *attr, int required,
    uint64_t min, uint64_t max, uint64_t *out)
{
	xmlChar *v;
	char *end;
	unsigned long long u;
	int rc;

	if ((rc = attr_get(n, attr, required, &v)) != 0)
		return rc;
	errno = 0;
	u = strtoull((const char *)v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 ||
	    u < min || u > max) {
		xml_error(ERR_INVALID, n, "%s \"%.64s\" is not a whole number "
		    "from %ju to %ju", attr, (const char *)v, (uintmax_t)min,
		    (uintmax_t)max);
		xmlFree(v);
		return -1;
	}
	*out = u;
	xmlFree(v);
	return 0;
}

/* Shared body of the unit-typed getters. */
#define ATTR_PARSE(n, attr, required, parse, outp, what, hint_)		\
	do {								\
		xmlChar *v_;						\
		int rc_;						\
		if ((rc_ = attr_get((n), (attr), (required), &v_)) != 0) \
			return rc_;					\
		if (parse((const char *)v_, (outp)) == -1) {		\
			xml_error(ERR_INVALID, (n), "%s \"%.64s\" is not "  \
			    what, (attr), (const char *)v_);		\
			err_hint(hint_);				\
			xmlFree(v_);					\
			return -1;					\
		}							\
		xmlFree(v_);						\
		return 0;						\
	} while (0)

int
xml_attr_cpu(const xmlNode *n, const char *attr, int required,
    uint32_t *milli)
{
	ATTR_PARSE(n, attr, required, units_parse_cpu, milli,
	    "a CPU amount", "write cores as a positive number with at most "
	    "3 decimals, up to 1024, e.g. 1 or 0.5");
}

int
xml_attr_mem(const xmlNode *n, const char *attr, int required, uint64_t *mib)
{
	ATTR_PARSE(n, attr, required, units_parse_mem, mib,
	    "a memory size", "write a positive whole number with MiB, GiB or "
	    "TiB, e.g. 64MiB");
}

int
xml_attr_bw(const xmlNode *n, const char *attr, int required, uint64_t *kbit)
{
	ATTR_PARSE(n, attr, required, units_parse_bw, kbit,
	    "a bandwidth", "write a positive whole number with kbit, Mbit or "
	    "Gbit (per second), e.g. 100Mbit");
}

int
xml_attr_prefix(const xmlNode *n, const char *attr, int required,
    struct ipv4_prefix *out)
{
	ATTR_PARSE(n, attr, required, units_parse_prefix, out,
	    "an IPv4 address with prefix length", "write it as "
	    "address/length, e.g. 10.0.1.1/24");
}

int
xml_attr_ipv4(const xmlNode *n, const char *attr, int required,
    uint32_t *addr)
{
	ATTR_PARSE(n, attr, required, units_parse_ipv4, addr,
	    "an IPv4 address", "write a dotted quad, e.g. 192.0.2.1");
}

int
xml_attr_time(const xmlNode *n, const char *attr, int required,
    int64_t *epoch)
{
	ATTR_PARSE(n, attr, required, units_parse_time, epoch,
	    "a UTC time", "write it as YYYY-MM-DDThh:mm:ssZ");
}

int
xml_attr_ms(const xmlNode *n, const char *attr, int required, double *ms)
{
	ATTR_PARSE(n, attr, required, units_parse_ms, ms, "a duration",
	    "write milliseconds, e.g. 12.5");
}

int
xml_text(const xmlNode *n, char *out, size_t size)
{
	xmlChar *v = xmlNodeGetContent(n);
	const char *s, *e;

	if (v == NULL)
		return err_nomem();
	s = (const char *)v;
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t' ||
	    e[-1] == '\r'))
		e--;
	if ((size_t)(e - s) >= size) {
		xml_error(ERR_INVALID, n, "text of <%s> is longer than %zu "
		    "characters", (const char *)n->name, size - 1);
		xmlFree(v);
		return -1;
	}
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	xmlFree(v);
	return 0;
}
