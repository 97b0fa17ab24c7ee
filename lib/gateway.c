#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gateway.h"
#include "xml.h"

ENUM_IMPL(gw_proto, GW_PROTO_LAST, "tcp", "udp")

static int
forward_cb(const xmlNode *n, void *entry, void *arg)
{
	struct gw_forward *f = entry;
	int proto = GW_TCP, rc = 0;
	uint64_t u;

	if (xml_attr_enum(n, "proto", 0, gw_proto_from_string, &proto) == -1 ||
	    xml_attr_ipv4(n, "to", 1, &f->to) == -1)
		rc = -1;
	f->proto = proto;
	if (xml_attr_uint(n, "port", 1, 1, 65535, &u) == -1)
		rc = -1;
	else
		f->port = (uint16_t)u;
	f->to_port = f->port;
	switch (xml_attr_uint(n, "to-port", 0, 1, 65535, &u)) {
	case 0: f->to_port = (uint16_t)u; break;
	case -1: rc = -1; break;
	}
	return rc;
}

/* "9.9.9.9 1.1.1.1" into gw->dns. */
static int
dns_parse(const xmlNode *n, struct gw_settings *gw)
{
	char list[128], *word, *save = NULL;

	switch (xml_attr_str(n, "dns", 0, list, sizeof(list))) {
	case 1:
		return 0;
	case -1:
		return -1;
	}
	for (word = strtok_r(list, " \t", &save); word != NULL;
	    word = strtok_r(NULL, " \t", &save)) {
		if (gw->ndns == GW_DNS_MAX)
			return xml_error(ERR_INVALID, n, "more than %d DNS "
			    "servers", GW_DNS_MAX);
		if (units_parse_ipv4(word, &gw->dns[gw->ndns]) == -1)
			return xml_error(ERR_INVALID, n, "DNS server \"%s\" is "
			    "not an IPv4 address", word);
		gw->ndns++;
	}
	return 0;
}

int
gw_parse(const xmlNode *n, struct gw_settings *gw)
{
	uint64_t u;
	int rc = 0;

	memset(gw, 0, sizeof(*gw));
	gw->present = 1;
	gw->lease = GW_LEASE_DEFAULT;
	if (xml_attr_prefix(n, "lan", 1, &gw->lan) == -1 ||
	    xml_attr_ipv4(n, "dhcp-from", 1, &gw->dhcp_from) == -1 ||
	    xml_attr_ipv4(n, "dhcp-to", 1, &gw->dhcp_to) == -1 ||
	    dns_parse(n, gw) == -1)
		rc = -1;
	switch (xml_attr_uint(n, "lease", 0, GW_LEASE_MIN, GW_LEASE_MAX, &u)) {
	case 0: gw->lease = (unsigned)u; break;
	case -1: rc = -1; break;
	}
	switch (xml_attr_uint(n, "c-vlan", 0, 1, 4094, &u)) {
	case 0: gw->c_vlan = (unsigned)u; break;
	case -1: rc = -1; break;
	}
	switch (xml_attr_uint(n, "s-vlan", 0, 1, 4094, &u)) {
	case 0: gw->s_vlan = (unsigned)u; break;
	case -1: rc = -1; break;
	}
	if (xml_children(n, "forward", sizeof(*gw->forwards), &gw->forwards,
	    &gw->nforwards, forward_cb, NULL) == -1)
		rc = -1;
	return rc;
}

static int
in_lan(const struct gw_settings *gw, uint32_t a)
{
	struct ipv4_prefix p = { a, gw->lan.len };

	return prefix_same_net(&p, &gw->lan);
}

int
gw_validate(const struct gw_settings *gw, const char *where, long line)
{
	char a[32], b[32], lan[32];
	int rc = 0;

	if (!gw->present)
		return 0;
	if (gw->lan.len < 8 || gw->lan.len > 30)
		rc = err_at(ERR_INVALID, where, line, "gateway LAN /%u is not "
		    "between /8 and /30", gw->lan.len);
	if (!in_lan(gw, gw->dhcp_from) || !in_lan(gw, gw->dhcp_to)) {
		rc = err_at(ERR_INVALID, where, line, "DHCP range %s-%s is not "
		    "inside the gateway LAN %s", units_fmt_ipv4(gw->dhcp_from,
		    a, sizeof(a)), units_fmt_ipv4(gw->dhcp_to, b, sizeof(b)),
		    units_fmt_prefix(&gw->lan, lan, sizeof(lan)));
		err_hint("choose a range in the LAN's subnet");
	} else if (gw->dhcp_from > gw->dhcp_to)
		rc = err_at(ERR_INVALID, where, line, "DHCP range starts after "
		    "it ends");
	else if (gw->lan.addr >= gw->dhcp_from && gw->lan.addr <= gw->dhcp_to)
		rc = err_at(ERR_INVALID, where, line, "DHCP range includes the "
		    "gateway's own address %s", units_fmt_ipv4(gw->lan.addr, a,
		    sizeof(a)));
	for (size_t i = 0; i < gw->nforwards; i++) {
		const struct gw_forward *f = &gw->forwards[i];

		if (!in_lan(gw, f->to))
			rc = err_at(ERR_INVALID, where, line, "port forward to "
			    "%s is not inside the gateway LAN", units_fmt_ipv4(
			    f->to, a, sizeof(a)));
		for (size_t j = 0; j < i; j++)
			if (gw->forwards[j].proto == f->proto &&
			    gw->forwards[j].port == f->port)
				rc = err_at(ERR_DUPLICATE, where, line, "%s port "
				    "%u is forwarded twice",
				    gw_proto_to_string(f->proto), f->port);
	}
	return rc;
}

void
gw_format(struct buf *b, const struct gw_settings *gw, const char *indent)
{
	char tmp[64];

	if (!gw->present)
		return;
	buf_printf(b, "%s<gateway", indent);
	buf_attr(b, "lan", units_fmt_prefix(&gw->lan, tmp, sizeof(tmp)));
	buf_attr(b, "dhcp-from", units_fmt_ipv4(gw->dhcp_from, tmp,
	    sizeof(tmp)));
	buf_attr(b, "dhcp-to", units_fmt_ipv4(gw->dhcp_to, tmp, sizeof(tmp)));
	buf_printf(b, " lease=\"%u\"", gw->lease);
	if (gw->c_vlan)
		buf_printf(b, " c-vlan=\"%u\"", gw->c_vlan);
	if (gw->s_vlan)
		buf_printf(b, " s-vlan=\"%u\"", gw->s_vlan);
	if (gw->ndns > 0) {
		buf_puts(b, " dns=\"");
		for (size_t i = 0; i < gw->ndns; i++)
			buf_printf(b, "%s%s", i ? " " : "",
			    units_fmt_ipv4(gw->dns[i], tmp, sizeof(tmp)));
		buf_puts(b, "\"");
	}
	if (gw->nforwards == 0) {
		buf_puts(b, "/>\n");
		return;
	}
	buf_puts(b, ">\n");
	for (size_t i = 0; i < gw->nforwards; i++) {
		const struct gw_forward *f = &gw->forwards[i];
		buf_printf(b, "%s  <forward proto=\"%s\" port=\"%u\"", indent,
		    gw_proto_to_string(f->proto), f->port);
		buf_attr(b, "to", units_fmt_ipv4(f->to, tmp, sizeof(tmp)));
		buf_printf(b, " to-port=\"%u\"/>\n", f->to_port);
	}
	buf_printf(b, "%s</gateway>\n", indent);
}

int
gw_copy(struct gw_settings *dst, const struct gw_settings *src)
{
	*dst = *src;
	dst->forwards = NULL;
	if (src->nforwards == 0)
		return 0;
	if ((dst->forwards = calloc(src->nforwards,
	    sizeof(*dst->forwards))) == NULL) {
		dst->nforwards = 0;
		return err_nomem();
	}
	memcpy(dst->forwards, src->forwards,
	    src->nforwards * sizeof(*src->forwards));
	return 0;
}

void
gw_clear(struct gw_settings *gw)
{
	free(gw->forwards);
	memset(gw, 0, sizeof(*gw));
}
