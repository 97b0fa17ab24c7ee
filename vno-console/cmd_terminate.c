/*
 * vno terminate VNET NODE: remove one node (and its links).
 */
#include <stdio.h>

#include "vno.h"

const char cmd_terminate_help[] =
    "Terminate NODE of VNET: the node and every link that ends at it go\n"
    "away at their PIPs; the other nodes keep running untouched.  A PIP\n"
    "left with no node releases its slice.  Prints the new manifest.\n";

int
cmd_terminate(int argc, char **argv)
{
	struct vno_client c;
	char *pos[2], path[192];
	int n, rc;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 2, 2, &n, NULL, NULL,
	    NULL)) != 0 || (rc = vno_client_open(&c)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/vnets/%s/nodes/%s", pos[0], pos[1]);
	rc = vno_simple(&c, pos[1], "DELETE", path);
	vno_client_close(&c);
	return rc;
}
