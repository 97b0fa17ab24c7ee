/*
 * vno delete VNET: release a VNet everywhere.
 */
#include <stdio.h>

#include "vno.h"

const char cmd_delete_help[] =
    "Delete VNET: every PIP releases its part (nodes, links,\n"
    "reservations).  Also removes the record of a VNet whose creation\n"
    "failed.  Waits until every PIP has confirmed.\n";

int
cmd_delete(int argc, char **argv)
{
	struct vno_client c;
	char *pos[1], path[128];
	int n, rc;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 1, 1, &n, NULL, NULL,
	    NULL)) != 0 || (rc = vno_client_open(&c)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/vnets/%s", pos[0]);
	rc = vno_simple(&c, pos[0], "DELETE", path);
	vno_client_close(&c);
	return rc;
}
