/*
 * vno renew VNET [--seconds N]: extend a VNet's lease.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vno.h"

const char cmd_renew_help[] =
    "Extend the lease of VNET at every PIP by N seconds from now\n"
    "(--seconds N, 60 to 31536000; default: the VNP's lease).\n";

static int
renew_flag(int argc, char **argv, int *i, void *arg)
{
	long *secs = arg;
	char *end;

	if (strcmp(argv[*i], "--seconds") != 0)
		return 0;
	if (*i + 1 >= argc)
		return vno_usage("renew", "--seconds needs a number"), -1;
	*secs = strtol(argv[++*i], &end, 10);
	if (*end != '\0' || *secs < 60 || *secs > 31536000)
		return vno_usage("renew", "--seconds '%s': 60 to 31536000",
		    argv[*i]), -1;
	return 1;
}

int
cmd_renew(int argc, char **argv)
{
	struct vno_client c;
	char *pos[1], path[160];
	long secs = 0;
	int n, rc;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 1, 1, &n, renew_flag, &secs,
	    NULL)) != 0 || (rc = vno_client_open(&c)) != 0)
		return rc;
	if (secs > 0)
		snprintf(path, sizeof(path), "/v1/vnets/%s/renew?seconds=%ld",
		    pos[0], secs);
	else
		snprintf(path, sizeof(path), "/v1/vnets/%s/renew", pos[0]);
	rc = vno_simple(&c, pos[0], "POST", path);
	vno_client_close(&c);
	return rc;
}
