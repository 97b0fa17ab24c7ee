/*
 * How vno prints a manifest for a person: the VNet's state, one line
 * per node (state, where, addresses), one per link (state, key, ends),
 * one per step (time).  --output xml prints the document instead.
 */
#include <stdio.h>
#include <string.h>

#include "vno.h"

void
show_node_line(const struct mf_node *n, FILE *fp)
{
	char where[2 * NAME_LEN + 2], a[32];

	snprintf(where, sizeof(where), "%s%s%s", n->pip[0] ? n->pip : "-",
	    n->host[0] ? "/" : "", n->host);
	fprintf(fp, "  %-12s %-10s %-20s", n->name,
	    node_state_to_string(n->state), where);
	for (size_t i = 0; i < n->nifaces; i++)
		fprintf(fp, " %s=%s", n->ifaces[i].name, n->ifaces[i].has_addr ?
		    units_fmt_prefix(&n->ifaces[i].addr, a, sizeof(a)) : "-");
	fputc('\n', fp);
}

void
show_manifest(const struct manifest *m, FILE *fp)
{
	char t[64], a[32];

	fprintf(fp, "%s: %s", m->vnet, vnet_state_to_string(m->state));
	if (m->discovery >= 0)
		fprintf(fp, ", discovery at %s", discovery_to_string(m->discovery));
	if (m->expires != 0)
		fprintf(fp, ", expires %s", units_fmt_time(m->expires, t,
		    sizeof(t)));
	fputc('\n', fp);
	if (m->nnodes > 0)
		fprintf(fp, "nodes:\n");
	for (size_t i = 0; i < m->nnodes; i++)
		show_node_line(&m->nodes[i], fp);
	if (m->nlinks > 0)
		fprintf(fp, "links:\n");
	for (size_t i = 0; i < m->nlinks; i++) {
		const struct mf_link *l = &m->links[i];

		fprintf(fp, "  %-12s %-8s %-6s key %-8u", l->name,
		    link_state_to_string(l->state), l->encap >= 0 ?
		    encap_to_string(l->encap) : "-", l->key);
		for (size_t e = 0; e < l->nends; e++)
			fprintf(fp, "%s%s@%s%s%s%s%s%s", e > 0 ? " -- " : " ",
			    l->ends[e].node, l->ends[e].pip[0] ?
			    l->ends[e].pip : "-", l->ends[e].host[0] ? "/" : "",
			    l->ends[e].host, l->ends[e].underlay ? " (" : "",
			    l->ends[e].underlay ? units_fmt_ipv4(
			    l->ends[e].underlay, a, sizeof(a)) : "",
			    l->ends[e].underlay ? ")" : "");
		fputc('\n', fp);
	}
	if (m->nsteps > 0)
		fprintf(fp, "steps:\n");
	for (size_t i = 0; i < m->nsteps; i++)
		fprintf(fp, "  %-15s %10.3f ms%s%s%s%s\n",
		    step_to_string(m->steps[i].step), m->steps[i].ms,
		    m->steps[i].pip[0] ? "  pip " : "", m->steps[i].pip,
		    m->steps[i].host[0] ? " host " : "", m->steps[i].host);
}

/*
 * Print a manifest answer: as it came with --output xml, else for a
 * person.  Returns the exit code (a bad document is a peer failure).
 */
int
show_answer(struct vno_client *c, struct http_response *resp)
{
	struct manifest *m;

	if (c->xml) {
		fwrite(resp->body, 1, resp->len, stdout);
		return VNO_EXIT_OK;
	}
	if ((m = manifest_parse(resp->body, resp->len, "answer")) == NULL) {
		fprintf(stderr, "vno: vnpd sent a bad manifest:\n");
		err_print(stderr);
		return VNO_EXIT_PEER;
	}
	show_manifest(m, stdout);
	manifest_free(m);
	return VNO_EXIT_OK;
}
