/*
 * vno status VNET: the manifest of one VNet.
 */
#include <stdio.h>

#include "vno.h"

const char cmd_status_help[] =
    "Show VNET: its state, every node (state, PIP and host, interface\n"
    "addresses), every link (state, encapsulation, key, tunnel ends)\n"
    "and the time of each instantiation step.  A VNet whose creation\n"
    "failed shows why, and exits 6.\n";

int
cmd_status(int argc, char **argv)
{
	struct vno_client c;
	struct http_response resp;
	char *pos[1], path[128];
	int n, rc;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 1, 1, &n, NULL, NULL,
	    NULL)) != 0 || (rc = vno_client_open(&c)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/vnets/%s", pos[0]);
	if (vno_call(&c, "GET", path, NULL, NULL, 0, &resp) == -1)
		rc = vno_report(&c, pos[0], &resp);
	else if (resp.status == 409 || resp.status == 502 ||
	    resp.status == 504) {
		/* A failed VNet answers with why it failed. */
		vno_report(&c, pos[0], &resp);
		rc = VNO_EXIT_FAILED;
	} else if (resp.status != 200)
		rc = vno_report(&c, pos[0], &resp);
	else
		rc = show_answer(&c, &resp);
	http_response_clear(&resp);
	vno_client_close(&c);
	return rc;
}
