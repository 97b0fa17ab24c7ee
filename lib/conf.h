/*
 * Daemon configuration files: line-based "key value", '#' comments, and
 * sections headed "[type]" or "[type name]".  Lines before the first
 * section belong to the global section.  A value is the rest of the line
 * with blanks trimmed, or a "double-quoted string" (with \" and \\) when
 * it must hold '#' or leading blanks.  See docs/operations.md.
 *
 * The daemons define their own keys and read them with the typed
 * getters below; every error names FILE:LINE (through lib/error.h).
 * conf_check_unused() then reports every key no getter asked for, so a
 * typo is an error rather than a silent default.
 */
#ifndef VNSM_CONF_H
#define VNSM_CONF_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_section;

#define CONF_LINE_MAX	4096	/* bytes per line, newline excluded */

/*
 * Read and parse path (or text of len bytes, naming it name).  Returns
 * NULL with one error per bad line recorded, each "FILE:LINE: ...".
 * Free with conf_free(); NULL is a no-op.
 */
struct conf *conf_load(const char *path);
struct conf *conf_parse(const char *name, const char *text, size_t len);
void conf_free(struct conf *c);

/* The global section (never NULL). */
struct conf_section *conf_global(struct conf *c);
/*
 * The section of type after prev (NULL: the first), in file order, or
 * NULL when there are no more.  type NULL matches every section except
 * the global one.
 */
struct conf_section *conf_next(struct conf *c, struct conf_section *prev,
    const char *type);
const char *conf_section_type(const struct conf_section *s);
/* The section's name, "" when it has none. */
const char *conf_section_name(const struct conf_section *s);
/* The line of its header (0 for the global section). */
long conf_section_line(const struct conf_section *s);

/*
 * Typed getters.  Each returns 0 and stores the value (the default when
 * the key is absent), or -1 with a "FILE:LINE: ..." error recorded when
 * the value is bad or the key appears twice.
 *   conf_str:  the string, valid while c lives
 *   conf_int:  a decimal integer in [min, max]
 *   conf_size: bytes; a number with an optional unit B, KiB, MiB, GiB,
 *              TiB (binary) or kB, MB, GB, TB (decimal), as "64MiB" or
 *              "64 MiB"
 *   conf_bool: yes/no, true/false, on/off, 1/0
 *   conf_addr: ADDR:PORT, [V6ADDR]:PORT or *:PORT (numeric only)
 */
int conf_str(struct conf_section *s, const char *key, const char *def,
    const char **out);
int conf_int(struct conf_section *s, const char *key, long long def,
    long long min, long long max, long long *out);
int conf_size(struct conf_section *s, const char *key, uint64_t def,
    uint64_t *out);
int conf_bool(struct conf_section *s, const char *key, int def, int *out);
int conf_addr(struct conf_section *s, const char *key, const char *def,
    struct sockaddr_storage *ss, socklen_t *sslen);

/*
 * For keys that may repeat ("allow alice", "allow bob"): the value of
 * the next occurrence of key after *iter (start with *iter = 0), or NULL
 * at the end.  *line gets its line when line is not NULL.
 */
const char *conf_each(struct conf_section *s, const char *key,
    size_t *iter, long *line);

/* Record "FILE:LINE: unknown key 'k'" for each key never asked for;
 * returns 0 or -1. */
int conf_check_unused(struct conf *c);
/* Record an error about key of s (e.g. a semantic check); returns -1. */
int conf_error(struct conf_section *s, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parse an address as conf_addr() does; -1 with an error recorded. */
int conf_parse_addr(const char *text, struct sockaddr_storage *ss,
    socklen_t *sslen);

#endif
