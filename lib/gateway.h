/*
 * A home's gateway settings, the <gateway> element: the customer's own
 * LAN address, DHCP range and lease, DNS servers and port forwards.  It
 * appears in a VNet request under a <subscriber> (what the VNO set for
 * that home) and under a node of kind "gateway" in a slice (what the
 * agent applies to the virtual residential gateway serving the home).
 */
#ifndef VNSM_GATEWAY_H
#define VNSM_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "buf.h"
#include "units.h"
#include "util.h"

#define GW_DNS_MAX	4		/* DNS servers handed to the home */
#define GW_LEASE_MIN	60u		/* seconds */
#define GW_LEASE_MAX	604800u		/* a week */
#define GW_LEASE_DEFAULT 3600u

enum gw_proto { GW_TCP, GW_UDP, GW_PROTO_LAST };
ENUM_DECL(gw_proto);

/* Traffic to the gateway's VNet side on port goes to a LAN host. */
struct gw_forward {
	enum gw_proto proto;
	uint16_t port;			/* outside port, 1..65535 */
	uint32_t to;			/* LAN host, host byte order */
	uint16_t to_port;		/* its port; default: port */
};

struct gw_settings {
	int present;			/* a <gateway> element was given */
	struct ipv4_prefix lan;		/* the gateway's address on the LAN */
	uint32_t dhcp_from, dhcp_to;	/* the DHCP range, inside lan */
	unsigned lease;			/* DHCP lease, seconds */
	uint32_t dns[GW_DNS_MAX];	/* servers handed out; 0 entries: the
					   gateway itself answers DNS */
	size_t ndns;
	struct gw_forward *forwards;
	size_t nforwards;
	unsigned c_vlan, s_vlan;	/* the home's VLAN pair on hosts that map
					   homes by VLAN, 1..4094; 0 = none */
};

/* Read / check / write a <gateway> element; -1 after recording errors. */
int gw_parse(const xmlNode *n, struct gw_settings *gw);
int gw_validate(const struct gw_settings *gw, const char *where, long line);
void gw_format(struct buf *b, const struct gw_settings *gw,
    const char *indent);
/* Deep copy (forwards duplicated); -1 on ENOMEM. */
int gw_copy(struct gw_settings *dst, const struct gw_settings *src);
void gw_clear(struct gw_settings *gw);

#endif
