/*
 * Quantities and names as documents write them, and as the code keeps
 * them: integers in fixed units, so that sums and differences are exact.
 *
 *   CPU        "1", "0.5", "2.25" cores      -> milli-cores (uint32_t)
 *   memory     "64MiB", "2GiB", "1TiB"       -> MiB (uint64_t)
 *   bandwidth  "500kbit", "10Mbit", "1Gbit"  -> kbit/s (uint64_t)
 *   time       "2026-11-21T12:00:00Z"        -> seconds since the epoch
 *
 * A bare number is taken in the base unit of the document (MiB, Mbit/s).
 * Zero parses (free capacity can be zero); callers refuse it where a
 * request must ask for something.
 * Parsers return 0 or -1 and record nothing: callers know the context
 * and say which element and attribute were wrong.
 */
#ifndef VNSM_UNITS_H
#define VNSM_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define NAME_LEN	64	/* names: [A-Za-z0-9][A-Za-z0-9._-]{0,62} */
#define CPU_MAX_MILLI	(1024u * 1000u)		/* 1024 cores */
#define MEM_MAX_MIB	(UINT64_C(1) << 30)	/* 1 PiB */
#define BW_MAX_KBIT	(UINT64_C(1000000000))	/* 1 Tbit/s */

struct ipv4_prefix {
	uint32_t addr;	/* host byte order */
	uint8_t len;	/* 0..32 */
};

int name_valid(const char *s);

int units_parse_cpu(const char *s, uint32_t *milli);
int units_parse_mem(const char *s, uint64_t *mib);
int units_parse_bw(const char *s, uint64_t *kbit);
int units_parse_ipv4(const char *s, uint32_t *addr);
int units_parse_prefix(const char *s, struct ipv4_prefix *p);
int units_parse_time(const char *s, int64_t *epoch);
/* Milliseconds with at most three decimals, e.g. "12.345". */
int units_parse_ms(const char *s, double *ms);

/* Formatters write the canonical form (largest exact unit) into buf. */
char *units_fmt_cpu(uint32_t milli, char *buf, size_t size);
char *units_fmt_mem(uint64_t mib, char *buf, size_t size);
char *units_fmt_bw(uint64_t kbit, char *buf, size_t size);
char *units_fmt_ipv4(uint32_t addr, char *buf, size_t size);
char *units_fmt_prefix(const struct ipv4_prefix *p, char *buf, size_t size);
char *units_fmt_time(int64_t epoch, char *buf, size_t size);
char *units_fmt_ms(double ms, char *buf, size_t size);

/* The network of p, and whether two prefixes share one network. */
uint32_t prefix_network(const struct ipv4_prefix *p);
int prefix_same_net(const struct ipv4_prefix *a, const struct ipv4_prefix *b);

#endif
