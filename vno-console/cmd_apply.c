/*
 * vno apply VNET FILE: change a running VNet to a new document.
 */
#include <stdio.h>
#include <stdlib.h>

#include "vno.h"

const char cmd_apply_help[] =
    "Change VNET to the VNet document FILE (\"-\": standard input): the\n"
    "VNP works out the difference — nodes and links added or removed,\n"
    "interfaces attached — and has each PIP apply only that.  Nodes\n"
    "that did not change keep running untouched.  FILE must name the\n"
    "same VNet.  Prints the new manifest.\n";

int
cmd_apply(int argc, char **argv)
{
	struct vno_client c;
	struct http_response resp;
	char *pos[2], path[128], *doc;
	size_t len;
	int n, rc;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 2, 2, &n, NULL, NULL,
	    NULL)) != 0)
		return rc;
	if ((doc = vno_read_file(pos[1], &len)) == NULL) {
		err_print(stderr);
		return VNO_EXIT_USAGE;
	}
	if ((rc = vno_client_open(&c)) != 0) {
		free(doc);
		return rc;
	}
	snprintf(path, sizeof(path), "/v1/vnets/%s", pos[0]);
	if (vno_call(&c, "PUT", path, NULL, doc, len, &resp) == -1 ||
	    resp.status != 200)
		rc = vno_report(&c, pos[0], &resp);
	else
		rc = show_answer(&c, &resp);
	http_response_clear(&resp);
	free(doc);
	vno_client_close(&c);
	return rc;
}
