/*
 * Small helpers every module uses: enum <-> string tables, bounded string
 * copies, array length.
 */
#ifndef VNSM_UTIL_H
#define VNSM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * ENUM_DECL(foo) declares foo_to_string() and foo_from_string();
 * ENUM_IMPL(foo, FOO_LAST, "a", "b", ...) defines them.  The string list
 * must have exactly FOO_LAST entries; a mismatch fails to compile.
 * foo_from_string() returns -1 for an unknown string.
 */
#define ENUM_DECL(name)                                                \
	const char *name##_to_string(int v);                           \
	int name##_from_string(const char *s)

#define ENUM_IMPL(name, last, ...)                                     \
	static const char *const name##_names[] = { __VA_ARGS__ };     \
	_Static_assert(NELEM(name##_names) == (last),                  \
	    #name " string table does not match its enum");            \
	const char *name##_to_string(int v)                            \
	{                                                              \
		if (v < 0 || (size_t)v >= NELEM(name##_names))         \
			return NULL;                                   \
		return name##_names[v];                                \
	}                                                              \
	int name##_from_string(const char *s)                          \
	{                                                              \
		if (s == NULL)                                         \
			return -1;                                     \
		for (size_t i = 0; i < NELEM(name##_names); i++)       \
			if (strcmp(name##_names[i], s) == 0)           \
				return (int)i;                         \
		return -1;                                             \
	}

/* Copy at most dstsize-1 bytes and always terminate; returns strlen(src). */
size_t str_lcpy(char *dst, const char *src, size_t dstsize);

/* Monotonic time in microseconds / milliseconds. */
uint64_t now_us(void);
double now_ms(void);

#endif
