/*
 * vno locate VNET NODE: where a node runs.
 */
#include <stdio.h>

#include "vno.h"

const char cmd_locate_help[] =
    "Say where NODE of VNET runs: its state, PIP and host (as far as the\n"
    "PIP lets the VNP tell), and its interfaces.\n";

int
cmd_locate(int argc, char **argv)
{
	struct vno_client c;
	struct http_response resp;
	struct manifest *m;
	char *pos[2], path[192];
	int n, rc;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 2, 2, &n, NULL, NULL,
	    NULL)) != 0 || (rc = vno_client_open(&c)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/vnets/%s/nodes/%s", pos[0], pos[1]);
	if (vno_call(&c, "GET", path, NULL, NULL, 0, &resp) == -1 ||
	    resp.status != 200)
		rc = vno_report(&c, pos[1], &resp);
	else if (c.xml)
		fwrite(resp.body, 1, resp.len, stdout);
	else if ((m = manifest_parse(resp.body, resp.len, "answer")) == NULL ||
	    m->nnodes != 1) {
		fprintf(stderr, "vno: vnpd sent a bad answer\n");
		manifest_free(m);
		rc = VNO_EXIT_PEER;
	} else {
		show_node_line(&m->nodes[0], stdout);
		manifest_free(m);
	}
	http_response_clear(&resp);
	vno_client_close(&c);
	return rc;
}
