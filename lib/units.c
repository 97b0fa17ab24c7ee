#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "units.h"

int
name_valid(const char *s)
{
	size_t n = 0;

	if (!isalnum((unsigned char)s[0]))
		return 0;
	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return 0;
	}
	return n < NAME_LEN;
}

/*
 * Parse an unsigned decimal with up to `scale_digits` fractional digits
 * and return it multiplied by 10^scale_digits in *out.  *endp is set past
 * the number.  Refuses signs, exponents, empty input and overflow.
 */
static int
parse_fixed(const char *s, int scale_digits, uint64_t *out, const char **endp)
{
	uint64_t v = 0;
	int frac = -1;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s) || (*s == '.' && frac < 0); s++) {
		if (*s == '.') {
			frac = 0;
			if (!isdigit((unsigned char)s[1]))
				return -1;
			continue;
		}
		if (frac >= 0 && ++frac > scale_digits)
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	for (int i = frac < 0 ? 0 : frac; i < scale_digits; i++) {
		if (v > UINT64_MAX / 10)
			return -1;
		v *= 10;
	}
	*out = v;
	*endp = s;
	return 0;
}

int
units_parse_cpu(const char *s, uint32_t *milli)
{
	uint64_t v;
	const char *end;

	if (parse_fixed(s, 3, &v, &end) == -1 || *end != '\0')
		return -1;
	if (v > CPU_MAX_MILLI)
		return -1;
	*milli = (uint32_t)v;
	return 0;
}

struct unit {
	const char *suffix;
	uint64_t mult;
};

/* Parse "<integer><suffix>" with a suffix from the table ("" allowed). */
static int
parse_with_unit(const char *s, const struct unit *units, uint64_t max,
    uint64_t *out)
{
	uint64_t v;
	const char *end;

	if (parse_fixed(s, 0, &v, &end) == -1)
		return -1;
	for (; units->suffix != NULL; units++) {
		if (strcmp(end, units->suffix) != 0)
			continue;
		if (v > max / units->mult)
			return -1;
		*out = v * units->mult;
		return 0;
	}
	return -1;
}

int
units_parse_mem(const char *s, uint64_t *mib)
{
	static const struct unit u[] = {
		{ "", 1 }, { "MiB", 1 }, { "GiB", 1024 },
		{ "TiB", 1024 * 1024 }, { NULL, 0 }
	};

	return parse_with_unit(s, u, MEM_MAX_MIB, mib);
}

int
units_parse_bw(const char *s, uint64_t *kbit)
{
	static const struct unit u[] = {
		{ "", 1000 }, { "kbit", 1 }, { "Mbit", 1000 },
		{ "Gbit", 1000000 }, { "Tbit", 1000000000 }, { NULL, 0 }
	};

	return parse_with_unit(s, u, BW_MAX_KBIT, kbit);
}

int
units_parse_ipv4(const char *s, uint32_t *addr)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*addr = ntohl(in.s_addr);
	return 0;
}

int
units_parse_prefix(const char *s, struct ipv4_prefix *p)
{
	char tmp[INET_ADDRSTRLEN + 4];
	const char *slash;
	uint64_t len;
	const char *end;

	if ((slash = strchr(s, '/')) == NULL ||
	    (size_t)(slash - s) >= INET_ADDRSTRLEN)
		return -1;
	memcpy(tmp, s, (size_t)(slash - s));
	tmp[slash - s] = '\0';
	if (units_parse_ipv4(tmp, &p->addr) == -1)
		return -1;
	if (parse_fixed(slash + 1, 0, &len, &end) == -1 || *end != '\0' ||
	    len > 32 || end - slash > 3)
		return -1;
	p->len = (uint8_t)len;
	return 0;
}

int
units_parse_time(const char *s, int64_t *epoch)
{
	char check[32];
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	/*
	 * timegm() quietly normalises out-of-range fields (a 61st second,
	 * February 30th); only a time that writes back unchanged is valid.
	 */
	if (strcmp(units_fmt_time((int64_t)t, check, sizeof(check)), s) != 0)
		return -1;
	*epoch = (int64_t)t;
	return 0;
}

int
units_parse_ms(const char *s, double *ms)
{
	uint64_t v;
	const char *end;

	if (parse_fixed(s, 3, &v, &end) == -1 || *end != '\0')
		return -1;
	*ms = (double)v / 1000.0;
	return 0;
}

char *
units_fmt_ms(double ms, char *buf, size_t size)
{
	snprintf(buf, size, "%.3f", ms < 0 ? 0.0 : ms);
	return buf;
}

char *
units_fmt_cpu(uint32_t milli, char *buf, size_t size)
{
	if (milli % 1000 == 0)
		snprintf(buf, size, "%" PRIu32, milli / 1000);
	else if (milli % 100 == 0)
		snprintf(buf, size, "%" PRIu32 ".%" PRIu32, milli / 1000,
		    milli % 1000 / 100);
	else if (milli % 10 == 0)
		snprintf(buf, size, "%" PRIu32 ".%02" PRIu32, milli / 1000,
		    milli % 1000 / 10);
	else
		snprintf(buf, size, "%" PRIu32 ".%03" PRIu32, milli / 1000,
		    milli % 1000);
	return buf;
}

/* Write v in the largest unit of the table that divides it exactly. */
static char *
fmt_with_unit(uint64_t v, const struct unit *units, size_t n, char *buf,
    size_t size)
{
	for (size_t i = n; i-- > 0;) {
		if (v % units[i].mult == 0 || i == 0) {
			snprintf(buf, size, "%" PRIu64 "%s", v / units[i].mult,
			    units[i].suffix);
			break;
		}
	}
	return buf;
}

char *
units_fmt_mem(uint64_t mib, char *buf, size_t size)
{
	static const struct unit u[] = {
		{ "MiB", 1 }, { "GiB", 1024 }, { "TiB", 1024 * 1024 }
	};

	return fmt_with_unit(mib, u, 3, buf, size);
}

char *
units_fmt_bw(uint64_t kbit, char *buf, size_t size)
{
	static const struct unit u[] = {
		{ "kbit", 1 }, { "Mbit", 1000 }, { "Gbit", 1000000 },
		{ "Tbit", 1000000000 }
	};

	return fmt_with_unit(kbit, u, 4, buf, size);
}

char *
units_fmt_ipv4(uint32_t addr, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
	    (addr >> 8) & 255, addr & 255);
	return buf;
}

char *
units_fmt_prefix(const struct ipv4_prefix *p, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];

	snprintf(buf, size, "%s/%u", units_fmt_ipv4(p->addr, a, sizeof(a)),
	    p->len);
	return buf;
}

char *
units_fmt_time(int64_t epoch, char *buf, size_t size)
{
	struct tm tm;
	time_t t = (time_t)epoch;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

uint32_t
prefix_network(const struct ipv4_prefix *p)
{
	uint32_t mask = p->len == 0 ? 0 : p->len >= 32 ? UINT32_MAX :
	    ~(UINT32_MAX >> p->len);

	return p->addr & mask;
}

int
prefix_same_net(const struct ipv4_prefix *a, const struct ipv4_prefix *b)
{
	return a->len == b->len && prefix_network(a) == prefix_network(b);
}
