/*
 * vno list: the caller's VNets, one per line.
 */
#include <stdio.h>

#include "vno.h"

const char cmd_list_help[] =
    "List your VNets at the VNP, one per line: NAME STATE DISCOVERY.\n"
    "You see only your own.\n";

int
cmd_list(int argc, char **argv)
{
	struct vno_client c;
	struct http_response resp;
	char *pos[1];
	int n, rc;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 0, 0, &n, NULL, NULL,
	    NULL)) != 0 || (rc = vno_client_open(&c)) != 0)
		return rc;
	if (vno_call(&c, "GET", "/v1/vnets", NULL, NULL, 0, &resp) == -1 ||
	    resp.status != 200)
		rc = vno_report(&c, "list", &resp);
	else
		fwrite(resp.body, 1, resp.len, stdout);
	http_response_clear(&resp);
	vno_client_close(&c);
	return rc;
}
