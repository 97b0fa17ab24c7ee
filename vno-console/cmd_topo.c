/*
 * vno topo VNET --format dot: the VNet's topology as Graphviz.
 */
#include <stdio.h>
#include <string.h>

#include "vno.h"

const char cmd_topo_help[] =
    "Print the topology of VNET, as it runs, in Graphviz dot\n"
    "(--format dot, the default) or as text (--format text): nodes\n"
    "grouped by PIP and labelled with their host, links labelled with\n"
    "their name and addresses; links that cross PIPs are dashed.\n"
    "  vno topo ref5 | dot -Tsvg > ref5.svg\n";

static int
topo_flag(int argc, char **argv, int *i, void *arg)
{
	const char **fmt = arg;

	if (strcmp(argv[*i], "--format") != 0)
		return 0;
	if (*i + 1 >= argc || (strcmp(argv[*i + 1], "dot") != 0 &&
	    strcmp(argv[*i + 1], "text") != 0))
		return vno_usage("topo", "--format takes dot or text"), -1;
	*fmt = argv[++*i];
	return 1;
}

static const char *
node_pip(const struct manifest *m, const char *node)
{
	for (size_t i = 0; i < m->nnodes; i++)
		if (strcmp(m->nodes[i].name, node) == 0)
			return m->nodes[i].pip;
	return "";
}

/* Names are [A-Za-z0-9._-]: safe inside dot's double quotes. */
static void
topo_dot(const struct manifest *m, FILE *fp)
{
	fprintf(fp, "graph \"%s\" {\n  node [shape=box];\n", m->vnet);
	for (size_t i = 0; i < m->nnodes; i++) {
		const char *pip = m->nodes[i].pip;
		int first = 1;

		for (size_t k = 0; k < i; k++)
			first &= strcmp(m->nodes[k].pip, pip) != 0;
		if (!first)
			continue;
		fprintf(fp, "  subgraph \"cluster_%s\" {\n    label=\"%s\";\n",
		    pip[0] ? pip : "unplaced", pip[0] ? pip : "(not placed)");
		for (size_t k = i; k < m->nnodes; k++)
			if (strcmp(m->nodes[k].pip, pip) == 0)
				fprintf(fp, "    \"%s\" [label=\"%s\\n%s\"];\n",
				    m->nodes[k].name, m->nodes[k].name,
				    m->nodes[k].host[0] ? m->nodes[k].host :
				    node_state_to_string(m->nodes[k].state));
		fprintf(fp, "  }\n");
	}
	for (size_t i = 0; i < m->nlinks; i++) {
		const struct mf_link *l = &m->links[i];

		if (l->nends != 2)
			continue;
		fprintf(fp, "  \"%s\" -- \"%s\" [label=\"%s\"%s];\n",
		    l->ends[0].node, l->ends[1].node, l->name,
		    strcmp(node_pip(m, l->ends[0].node),
		    node_pip(m, l->ends[1].node)) != 0 ? ", style=dashed" : "");
	}
	fprintf(fp, "}\n");
}

int
cmd_topo(int argc, char **argv)
{
	struct vno_client c;
	struct http_response resp;
	struct manifest *m;
	const char *fmt = "dot";
	char *pos[1], path[128];
	int n, rc;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 1, 1, &n, topo_flag, &fmt,
	    NULL)) != 0 || (rc = vno_client_open(&c)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/vnets/%s", pos[0]);
	if (vno_call(&c, "GET", path, NULL, NULL, 0, &resp) == -1 ||
	    resp.status != 200)
		rc = vno_report(&c, pos[0], &resp);
	else if ((m = manifest_parse(resp.body, resp.len, pos[0])) == NULL) {
		err_print(stderr);
		rc = VNO_EXIT_PEER;
	} else {
		if (strcmp(fmt, "dot") == 0)
			topo_dot(m, stdout);
		else
			show_manifest(m, stdout);
		manifest_free(m);
	}
	http_response_clear(&resp);
	vno_client_close(&c);
	return rc;
}
