/*
 * Configuration files: parse into sections of key/value entries, then
 * let the daemon read them through typed getters.
 */
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "error.h"

#define CONF_FILE_MAX	(4 * 1024 * 1024)	/* bytes */

struct conf_entry {
	char *key;		/* owned */
	char *value;		/* owned, unquoted */
	long line;		/* 1-based */
	int used;		/* a getter asked for it */
};

struct conf_section {
	struct conf *c;			/* owner */
	char *type;			/* owned; "" for the global section */
	char *name;			/* owned; "" when unnamed */
	long line;			/* of the header; 0 for global */
	struct conf_entry *ents;	/* owned array */
	size_t nents, cap;		/* nents <= cap */
};

struct conf {
	char file[ERR_FILE_MAX];	/* name used in errors */
	struct conf_section **secs;	/* [0] is the global section */
	size_t nsecs, cap;		/* nsecs >= 1 once parsed */
};

/* Record a FILE:LINE error; returns -1. */
static int __attribute__((format(printf, 3, 4)))
conf_err(const struct conf *c, long line, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_at(ERR_USAGE, NULL, line, "%s", msg);
	err_file(c->file);
	return -1;
}

static struct conf_section *
conf_section_add(struct conf *c, const char *type, const char *name,
    long line)
{
	struct conf_section *s, **n;

	if (c->nsecs == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;

		if ((n = reallocarray(c->secs, cap, sizeof(*n))) == NULL)
			return NULL;
		c->secs = n;
		c->cap = cap;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->c = c;
	s->line = line;
	if ((s->type = strdup(type)) == NULL ||
	    (s->name = strdup(name)) == NULL) {
		free(s->type);
		free(s);
		return NULL;
	}
	c->secs[c->nsecs++] = s;
	return s;
}

static int
conf_entry_add(struct conf_section *s, const char *key, const char *value,
    long line)
{
	struct conf_entry *e;

	if (s->nents == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		if ((e = reallocarray(s->ents, cap, sizeof(*e))) == NULL)
			return err_nomem();
		s->ents = e;
		s->cap = cap;
	}
	e = &s->ents[s->nents];
	memset(e, 0, sizeof(*e));
	e->line = line;
	if ((e->key = strdup(key)) == NULL ||
	    (e->value = strdup(value)) == NULL) {
		free(e->key);
		return err_nomem();
	}
	s->nents++;
	return 0;
}

static char *
conf_trim(char *p)
{
	char *end;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		*--end = '\0';
	return p;
}

/*
 * Unquote a "..." value in place, or cut an unquoted one at a comment
 * (a '#' after a blank).  -1 with an error when the quotes are bad.
 */
static int
conf_value(const struct conf *c, long line, char *v)
{
	char *r, *w;

	if (*v != '"') {
		for (r = v; *r != '\0'; r++)
			if (*r == '#' && r > v && (r[-1] == ' ' ||
			    r[-1] == '\t')) {
				*r = '\0';
				break;
			}
		conf_trim(v);
		return 0;
	}
	for (r = v + 1, w = v; *r != '"'; r++) {
		if (*r == '\0')
			return conf_err(c, line, "unterminated quoted value");
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r;
	}
	*w = '\0';
	r = conf_trim(r + 1);
	if (*r != '\0' && *r != '#')
		return conf_err(c, line, "text after the closing quote");
	return 0;
}

/* Parse "[type name]"; -1 with an error recorded. */
static int
conf_header(struct conf *c, long line, char *p, struct conf_section **cur)
{
	char *end = strchr(p, ']'), *type, *name, *rest;

	if (end == NULL)
		return conf_err(c, line, "section header without ']'");
	*end = '\0';
	rest = conf_trim(end + 1);
	if (*rest != '\0' && *rest != '#')
		return conf_err(c, line, "text after the section header");
	type = conf_trim(p + 1);
	name = type + strcspn(type, " \t");
	if (*name != '\0') {
		*name++ = '\0';
		name = conf_trim(name);
		if (strpbrk(name, " \t") != NULL)
			return conf_err(c, line, "section name '%s' has blanks",
			    name);
	}
	if (*type == '\0')
		return conf_err(c, line, "empty section header");
	for (char *q = type; *q != '\0'; q++)
		if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_')
			return conf_err(c, line, "bad section type '%s'", type);
	if ((*cur = conf_section_add(c, type, name, line)) == NULL)
		return err_nomem();
	return 0;
}

/* Parse one line (NUL-terminated, no newline) into cur. */
static int
conf_line(struct conf *c, long line, char *p, struct conf_section **cur)
{
	char *key, *val;

	p = conf_trim(p);
	if (*p == '\0' || *p == '#')
		return 0;
	if (*p == '[')
		return conf_header(c, line, p, cur);
	key = p;
	val = p + strcspn(p, " \t");
	if (*val != '\0')
		*val++ = '\0';
	for (char *q = key; *q != '\0'; q++)
		if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_' &&
		    *q != '.')
			return conf_err(c, line, "bad key '%s'", key);
	val = conf_trim(val);
	if (*val == '\0' || *val == '#')
		return conf_err(c, line, "key '%s' has no value", key);
	if (conf_value(c, line, val) == -1)
		return -1;
	return conf_entry_add(*cur, key, val, line);
}

struct conf *
conf_parse(const char *name, const char *text, size_t len)
{
	struct conf *c;
	struct conf_section *cur;
	char buf[CONF_LINE_MAX + 2];
	size_t pos = 0;
	long line = 0;
	int bad = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_nomem();
		return NULL;
	}
	str_lcpy(c->file, name, sizeof(c->file));
	if ((cur = conf_section_add(c, "", "", 0)) == NULL) {
		err_nomem();
		conf_free(c);
		return NULL;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;

		line++;
		if (n > CONF_LINE_MAX) {
			bad |= conf_err(c, line, "line longer than %d bytes",
			    CONF_LINE_MAX);
		} else if (memchr(text + pos, '\0', n) != NULL) {
			bad |= conf_err(c, line, "line holds a NUL byte");
		} else {
			memcpy(buf, text + pos, n);
			buf[n] = '\0';
			if (conf_line(c, line, buf, &cur) == -1)
				bad = -1;
		}
		pos += n + 1;
	}
	if (bad) {
		conf_free(c);
		return NULL;
	}
	return c;
}

struct conf *
conf_load(const char *path)
{
	struct conf *c = NULL;
	struct stat st;
	char *text = NULL;
	size_t len;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		err_sys("cannot open %s", path);
		return NULL;
	}
	if (fstat(fileno(fp), &st) == -1) {
		err_sys("cannot stat %s", path);
		goto done;
	}
	if (st.st_size > CONF_FILE_MAX) {
		err_set(ERR_USAGE, "%s is larger than %d bytes", path,
		    CONF_FILE_MAX);
		goto done;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		err_nomem();
		goto done;
	}
	len = fread(text, 1, (size_t)st.st_size, fp);
	if (ferror(fp)) {
		err_sys("cannot read %s", path);
		goto done;
	}
	c = conf_parse(path, text, len);
done:
	free(text);
	fclose(fp);
	return c;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nsecs; i++) {
		struct conf_section *s = c->secs[i];

		for (size_t k = 0; k < s->nents; k++) {
			free(s->ents[k].key);
			free(s->ents[k].value);
		}
		free(s->ents);
		free(s->type);
		free(s->name);
		free(s);
	}
	free(c->secs);
	free(c);
}

struct conf_section *
conf_global(struct conf *c)
{
	return c->secs[0];
}

struct conf_section *
conf_next(struct conf *c, struct conf_section *prev, const char *type)
{
	size_t i = 1;

	if (prev != NULL)
		while (i < c->nsecs && c->secs[i - 1] != prev)
			i++;
	for (; i < c->nsecs; i++)
		if (type == NULL || strcmp(c->secs[i]->type, type) == 0)
			return c->secs[i];
	return NULL;
}

const char *
conf_section_type(const struct conf_section *s)
{
	return s->type;
}

const char *
conf_section_name(const struct conf_section *s)
{
	return s->name;
}

long
conf_section_line(const struct conf_section *s)
{
	return s->line;
}

/*
 * The one entry for key, marked used; NULL when absent (not an error) or
 * when it appears twice (then *bad is set and an error recorded).
 */
static struct conf_entry *
conf_find(struct conf_section *s, const char *key, int *bad)
{
	struct conf_entry *found = NULL;

	*bad = 0;
	for (size_t i = 0; i < s->nents; i++) {
		struct conf_entry *e = &s->ents[i];

		if (strcmp(e->key, key) != 0)
			continue;
		e->used = 1;
		if (found != NULL) {
			*bad = 1;
			conf_err(s->c, e->line, "'%s' is set twice (first on "
			    "line %ld)", key, found->line);
			return NULL;
		}
		found = e;
	}
	return found;
}

int
conf_str(struct conf_section *s, const char *key, const char *def,
    const char **out)
{
	struct conf_entry *e;
	int bad;

	if ((e = conf_find(s, key, &bad)) == NULL) {
		*out = def;
		return bad ? -1 : 0;
	}
	*out = e->value;
	return 0;
}

int
conf_int(struct conf_section *s, const char *key, long long def,
    long long min, long long max, long long *out)
{
	struct conf_entry *e;
	char *end;
	long long v;
	int bad;

	if ((e = conf_find(s, key, &bad)) == NULL) {
		*out = def;
		return bad ? -1 : 0;
	}
	errno = 0;
	v = strtoll(e->value, &end, 10);
	if (errno != 0 || end == e->value || *end != '\0')
		return conf_err(s->c, e->line, "%s: '%s' is not an integer",
		    key, e->value);
	if (v < min || v > max)
		return conf_err(s->c, e->line, "%s: %lld is out of range "
		    "[%lld, %lld]", key, v, min, max);
	*out = v;
	return 0;
}

int
conf_size(struct conf_section *s, const char *key, uint64_t def,
    uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KiB", 1ull << 10 }, { "MiB", 1ull << 20 },
		{ "GiB", 1ull << 30 }, { "TiB", 1ull << 40 },
		{ "kB", 1000ull }, { "MB", 1000000ull },
		{ "GB", 1000000000ull }, { "TB", 1000000000000ull },
	};
	struct conf_entry *e;
	unsigned long long v;
	char *end;
	int bad;

	if ((e = conf_find(s, key, &bad)) == NULL) {
		*out = def;
		return bad ? -1 : 0;
	}
	errno = 0;
	v = strtoull(e->value, &end, 10);
	if (errno != 0 || end == e->value || !isdigit((unsigned char)
	    e->value[0]))
		return conf_err(s->c, e->line, "%s: '%s' is not a size",
		    key, e->value);
	while (*end == ' ' || *end == '\t')
		end++;
	for (size_t i = 0; i < NELEM(units); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return conf_err(s->c, e->line, "%s: '%s' is too large",
			    key, e->value);
		*out = v * units[i].mult;
		return 0;
	}
	return conf_err(s->c, e->line, "%s: unknown unit in '%s' (use B, "
	    "KiB, MiB, GiB, TiB, kB, MB, GB or TB)", key, e->value);
}

int
conf_bool(struct conf_section *s, const char *key, int def, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	struct conf_entry *e;
	int bad;

	if ((e = conf_find(s, key, &bad)) == NULL) {
		*out = def;
		return bad ? -1 : 0;
	}
	for (size_t i = 0; i < NELEM(yes); i++) {
		if (strcmp(e->value, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(e->value, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return conf_err(s->c, e->line, "%s: '%s' is not yes or no", key,
	    e->value);
}

/* Parse an address; -1 without recording anything when it is bad. */
static int
conf_addr_try(const char *text, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = text;
	size_t hlen;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		const char *rb = strchr(text, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		h = text + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if ((colon = strchr(text, ':')) == NULL ||
		    strchr(colon + 1, ':') != NULL)
			goto bad;
		hlen = (size_t)(colon - text);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 ||
	    port > 65535)
		goto bad;
	if (strcmp(host, "*") == 0 && text[0] != '[') {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
	} else if (text[0] != '[' &&
	    inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
	} else if (text[0] == '[' &&
	    inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*sin6);
	} else
		goto bad;
	return 0;
bad:
	return -1;
}

int
conf_parse_addr(const char *text, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	if (conf_addr_try(text, ss, sslen) == -1)
		return err_set(ERR_USAGE, "'%s' is not ADDR:PORT, "
		    "[V6ADDR]:PORT or *:PORT", text);
	return 0;
}

int
conf_addr(struct conf_section *s, const char *key, const char *def,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct conf_entry *e;
	int bad;

	if ((e = conf_find(s, key, &bad)) == NULL) {
		if (bad)
			return -1;
		if (def == NULL) {
			memset(ss, 0, sizeof(*ss));
			*sslen = 0;
			return 0;
		}
		return conf_parse_addr(def, ss, sslen);
	}
	if (conf_addr_try(e->value, ss, sslen) == -1)
		return conf_err(s->c, e->line, "%s: '%s' is not ADDR:PORT, "
		    "[V6ADDR]:PORT or *:PORT", key, e->value);
	return 0;
}

const char *
conf_each(struct conf_section *s, const char *key, size_t *iter, long *line)
{
	for (size_t i = *iter; i < s->nents; i++) {
		if (strcmp(s->ents[i].key, key) != 0)
			continue;
		s->ents[i].used = 1;
		*iter = i + 1;
		if (line != NULL)
			*line = s->ents[i].line;
		return s->ents[i].value;
	}
	*iter = s->nents;
	return NULL;
}

int
conf_check_unused(struct conf *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->nsecs; i++) {
		struct conf_section *s = c->secs[i];

		for (size_t k = 0; k < s->nents; k++)
			if (!s->ents[k].used)
				rc = conf_err(c, s->ents[k].line,
				    "unknown key '%s'%s%s%s", s->ents[k].key,
				    i == 0 ? "" : " in section [",
				    s->type, i == 0 ? "" : "]");
	}
	return rc;
}

int
conf_error(struct conf_section *s, const char *key, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	long line = s->line;
	va_list ap;

	for (size_t i = 0; i < s->nents; i++)
		if (strcmp(s->ents[i].key, key) == 0)
			line = s->ents[i].line;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return conf_err(s->c, line, "%s: %s", key, msg);
}
