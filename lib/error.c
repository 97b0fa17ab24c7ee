#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

ENUM_IMPL(err_code, ERR_LAST,
    "ok", "internal", "no-memory", "system", "usage",
    "xml-syntax", "xml-limit", "xml-forbidden", "xml-root", "schema",
    "invalid", "duplicate", "not-found", "topology", "no-resources",
    "unauthenticated", "forbidden", "conflict", "unsupported", "peer",
    "timeout")

static _Thread_local struct err err_list[ERR_LIST_MAX];
static _Thread_local size_t err_n;
static _Thread_local size_t err_ndropped;

void
err_reset(void)
{
	err_n = 0;
	err_ndropped = 0;
}

/* Take the next free slot, or NULL when the list is full. */
static struct err *
err_new(enum err_code code)
{
	struct err *e;

	if (err_n == ERR_LIST_MAX) {
		err_ndropped++;
		return NULL;
	}
	e = &err_list[err_n++];
	memset(e, 0, sizeof(*e));
	e->code = code;
	return e;
}

int
err_at(enum err_code code, const char *where, long line, const char *fmt, ...)
{
	struct err *e;
	va_list ap;

	if ((e = err_new(code)) == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (where != NULL)
		str_lcpy(e->where, where, sizeof(e->where));
	e->line = line;
	return -1;
}

int
err_sys(const char *fmt, ...)
{
	struct err *e;
	va_list ap;
	int saved = errno;
	int n;

	if ((e = err_new(ERR_SYSTEM)) == NULL)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s",
		    strerror(saved));
	errno = saved;
	return -1;
}

int
err_nomem(void)
{
	return err_set(ERR_NOMEM, "out of memory");
}

void
err_hint(const char *fmt, ...)
{
	va_list ap;

	if (err_n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err_list[err_n - 1].hint, sizeof(err_list[0].hint), fmt, ap);
	va_end(ap);
}

void
err_shortfall(const char *resource, const char *unit, double asked,
    double avail)
{
	struct err *e;

	if (err_n == 0)
		return;
	e = &err_list[err_n - 1];
	str_lcpy(e->resource, resource, sizeof(e->resource));
	str_lcpy(e->unit, unit, sizeof(e->unit));
	e->asked = asked;
	e->avail = avail;
}

void
err_offer(const char *fmt, ...)
{
	va_list ap;

	if (err_n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err_list[err_n - 1].offer, sizeof(err_list[0].offer), fmt,
	    ap);
	va_end(ap);
}

void
err_file(const char *file)
{
	for (size_t i = 0; i < err_n; i++)
		if (err_list[i].file[0] == '\0')
			str_lcpy(err_list[i].file, file,
			    sizeof(err_list[i].file));
}

int
err_push(const struct err *src)
{
	struct err *e;

	if ((e = err_new(src->code)) == NULL)
		return -1;
	*e = *src;
	return -1;
}

size_t
err_count(void)
{
	return err_n;
}

size_t
err_dropped(void)
{
	return err_ndropped;
}

const struct err *
err_get(size_t i)
{
	return i < err_n ? &err_list[i] : NULL;
}

const struct err *
err_last(void)
{
	return err_n > 0 ? &err_list[err_n - 1] : NULL;
}

enum err_code
err_last_code(void)
{
	return err_n > 0 ? err_list[err_n - 1].code : ERR_OK;
}

char *
err_line(const struct err *e, char *buf, size_t size)
{
	size_t n = 0;

#define APPEND(...) do {						\
	int r_ = snprintf(buf + n, size - n, __VA_ARGS__);		\
	if (r_ < 0 || (size_t)r_ >= size - n) return buf;		\
	n += (size_t)r_;						\
} while (0)

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (e->file[0] != '\0')
		APPEND("%s:", e->file);
	if (e->line > 0)
		APPEND("%ld:", e->line);
	if (n > 0)
		APPEND(" ");
	if (e->line <= 0 && e->where[0] != '\0')
		APPEND("%s: ", e->where);
	APPEND("%s", e->msg);
	if (e->resource[0] != '\0')
		APPEND(" (%s: asked %g %s, %g %s free)", e->resource, e->asked,
		    e->unit, e->avail, e->unit);
	if (e->hint[0] != '\0')
		APPEND("; %s", e->hint);
	if (e->offer[0] != '\0')
		APPEND("; could offer: %s", e->offer);
#undef APPEND
	return buf;
}

void
err_print(FILE *fp)
{
	char line[2048];

	for (size_t i = 0; i < err_n; i++)
		fprintf(fp, "%s\n", err_line(&err_list[i], line, sizeof(line)));
	if (err_ndropped > 0)
		fprintf(fp, "(%zu more errors not shown)\n", err_ndropped);
}

int
err_http_status(enum err_code code)
{
	switch (code) {
	case ERR_OK:
		return 200;
	case ERR_XML_SYNTAX:
	case ERR_XML_FORBIDDEN:
	case ERR_XML_ROOT:
	case ERR_SCHEMA:
	case ERR_INVALID:
	case ERR_DUPLICATE:
	case ERR_TOPOLOGY:
	case ERR_USAGE:
		return 400;
	case ERR_UNAUTHENTICATED:
		return 401;
	case ERR_FORBIDDEN:
		return 403;
	case ERR_NOT_FOUND:
		return 404;
	case ERR_CONFLICT:
	case ERR_NO_RESOURCES:
		return 409;
	case ERR_XML_LIMIT:
		return 413;
	case ERR_UNSUPPORTED:
		return 501;
	case ERR_PEER:
		return 502;
	case ERR_TIMEOUT:
		return 504;
	case ERR_INTERNAL:
	case ERR_NOMEM:
	case ERR_SYSTEM:
	case ERR_LAST:
		break;
	}
	return 500;
}
