/*
 * vno — ask for, run and change virtual networks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vno.h"
#include "xml.h"

static const struct vno_cmd cmds[] = {
	{ "create", "FILE [--discovery pip|vnp] [--wait]",
	    "ask the VNP for the VNet in FILE", cmd_create_help, cmd_create },
	{ "list", "", "list your VNets", cmd_list_help, cmd_list },
	{ "status", "VNET", "show a VNet: nodes, links, steps",
	    cmd_status_help, cmd_status },
	{ "console", "VNET NODE", "interactive console on a node",
	    cmd_console_help, cmd_console },
	{ "exec", "VNET NODE -- CMD...", "run one command on a node",
	    cmd_exec_help, cmd_exec },
	{ "apply", "VNET FILE", "change a VNet to a new document",
	    cmd_apply_help, cmd_apply },
	{ "migrate", "VNET NODE --to [PIP:]HOST", "move a node elsewhere",
	    cmd_migrate_help, cmd_migrate },
	{ "terminate", "VNET NODE", "remove a node and its links",
	    cmd_terminate_help, cmd_terminate },
	{ "locate", "VNET NODE", "say where a node runs", cmd_locate_help,
	    cmd_locate },
	{ "renew", "VNET [--seconds N]", "extend a VNet's lease",
	    cmd_renew_help, cmd_renew },
	{ "delete", "VNET", "release a VNet everywhere", cmd_delete_help,
	    cmd_delete },
	{ "topo", "VNET [--format dot|text]", "a VNet's topology as Graphviz",
	    cmd_topo_help, cmd_topo },
	{ "subscriber", "add|set|remove|list|token VNET [NAME] ...",
	    "enrol homes in a VNet", cmd_subscriber_help, cmd_subscriber },
	{ "attach", "--pip HOST:PORT ... --lan IFACE|--bridge BR",
	    "attach this home to its VNet (run at the home)", cmd_attach_help,
	    cmd_attach },
	{ "detach", "[--pidfile FILE]", "stop this home's vno attach",
	    cmd_detach_help, cmd_detach },
	{ "validate", "FILE...", "check documents against schema and meaning",
	    cmd_validate_help, cmd_validate },
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: vno [--help] COMMAND [ARGS...]\n\n"
	    "Ask a virtual network provider for virtual networks, and run "
	    "them.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %-10s %-37s %s\n", cmds[i].name, cmds[i].args,
		    cmds[i].summary);
	fprintf(fp, "\n'vno COMMAND --help' tells more about one command; "
	    "vno(1) has the\nsettings (endpoint, certificate) and the exit "
	    "codes.\n");
}

int
vno_cmd_help(const struct vno_cmd *c, int to_stderr)
{
	FILE *fp = to_stderr ? stderr : stdout;

	fprintf(fp, "usage: vno %s %s\n\n%s", c->name, c->args, c->help);
	if (strcmp(c->name, "validate") != 0)
		fprintf(fp, "%s", vno_common_help);
	return to_stderr ? VNO_EXIT_USAGE : VNO_EXIT_OK;
}

int
vno_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char **nargv;
	int first, nargc;

	if (argc < 2) {
		usage(stderr);
		return VNO_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return VNO_EXIT_OK;
	}
	xml_init();
	/* Common options may come before the command: move them after. */
	for (first = 1; first < argc && argv[first][0] == '-'; first++) {
		struct vno_client scratch;
		int i = first;

		vno_client_init(&scratch);
		if (vno_common_flag(&scratch, argc, argv, &i) != 1) {
			fprintf(stderr, "vno: unknown option '%s' before the "
			    "command\n", argv[first]);
			return VNO_EXIT_USAGE;
		}
		first = i;
	}
	if (first >= argc) {
		usage(stderr);
		return VNO_EXIT_USAGE;
	}
	if ((nargv = calloc((size_t)argc + 1, sizeof(*nargv))) == NULL)
		return VNO_EXIT_USAGE;
	nargc = 0;
	nargv[nargc++] = argv[first];
	for (int i = 1; i < first; i++)
		nargv[nargc++] = argv[i];
	for (int i = first + 1; i < argc; i++)
		nargv[nargc++] = argv[i];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int rc;

		if (strcmp(nargv[0], cmds[i].name) != 0)
			continue;
		if (vno_wants_help(nargc, nargv))
			rc = vno_cmd_help(&cmds[i], 0);
		else
			rc = cmds[i].run(nargc, nargv);
		free(nargv);
		return rc;
	}
	fprintf(stderr, "vno: unknown command '%s'; 'vno --help' lists "
	    "them\n", nargv[0]);
	free(nargv);
	return VNO_EXIT_USAGE;
}
