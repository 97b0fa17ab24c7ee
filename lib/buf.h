/*
 * A growable string buffer for formatting documents.  Allocation failure
 * is sticky: later appends do nothing and buf_steal() returns NULL, so a
 * formatter can append freely and check once at the end.
 */
#ifndef VNSM_BUF_H
#define VNSM_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* NUL-terminated when len > 0; NULL when empty */
	size_t len;	/* bytes used, without the NUL */
	size_t cap;	/* bytes allocated */
	int failed;	/* an allocation failed; contents are incomplete */
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_append(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s with &, <, > and " escaped (values are always "-quoted). */
void buf_xml_escape(struct buf *b, const char *s);
/* Append ' name="value"' with value escaped; nothing if value is NULL or "". */
void buf_attr(struct buf *b, const char *name, const char *value);
/*
 * Hand the contents to the caller (free() them) and reset b.  Returns NULL
 * and records ERR_NOMEM if an allocation failed on the way.
 */
char *buf_steal(struct buf *b, size_t *lenp);

#endif
