/*
 * vno migrate VNET NODE --to [PIP:]HOST: move a node.
 */
#include <stdio.h>
#include <string.h>

#include "units.h"
#include "vno.h"

const char cmd_migrate_help[] =
    "Move NODE of VNET to HOST (in its PIP), or to PIP (and HOST there,\n"
    "when given as PIP:HOST; PIP: alone lets that PIP choose).  The\n"
    "node's links follow it, across PIPs too; the other nodes are not\n"
    "touched.  Prints the VNet's manifest afterwards.\n";

static int
migrate_flag(int argc, char **argv, int *i, void *arg)
{
	char **to = arg;

	if (strcmp(argv[*i], "--to") != 0)
		return 0;
	if (*i + 1 >= argc)
		return vno_usage("migrate", "--to needs [PIP:]HOST"), -1;
	*to = argv[++*i];
	return 1;
}

int
cmd_migrate(int argc, char **argv)
{
	struct vno_client c;
	char *pos[2], *to = NULL, path[384], pip[NAME_LEN] = "",
	    host[NAME_LEN] = "";
	const char *colon;
	int n, rc;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 2, 2, &n, migrate_flag, &to,
	    NULL)) != 0)
		return rc;
	if (to == NULL)
		return vno_usage("migrate", "say where: --to [PIP:]HOST");
	if ((colon = strchr(to, ':')) != NULL) {
		if ((size_t)(colon - to) >= sizeof(pip))
			return vno_usage("migrate", "PIP name too long");
		memcpy(pip, to, (size_t)(colon - to));
		pip[colon - to] = '\0';
		str_lcpy(host, colon + 1, sizeof(host));
	} else
		str_lcpy(host, to, sizeof(host));
	if ((pip[0] != '\0' && !name_valid(pip)) ||
	    (host[0] != '\0' && !name_valid(host)) ||
	    (pip[0] == '\0' && host[0] == '\0'))
		return vno_usage("migrate", "--to '%s': [PIP:]HOST with names "
		    "of letters, digits, '.', '_', '-'", to);
	if ((rc = vno_client_open(&c)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/v1/vnets/%s/nodes/%s/migrate?%s%s%s%s",
	    pos[0], pos[1], pip[0] ? "pip=" : "", pip,
	    pip[0] && host[0] ? "&" : "", host[0] ? "host=" : "");
	if (host[0] != '\0')
		str_lcpy(path + strlen(path), host, sizeof(path) - strlen(path));
	rc = vno_simple(&c, pos[1], "POST", path);
	vno_client_close(&c);
	return rc;
}
