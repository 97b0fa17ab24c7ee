/*
 * vno — ask for, run and change virtual networks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vno.h"
#include "xml.h"

static const struct vno_cmd cmds[] = {
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
		fprintf(fp, "  %-10s %-18s %s\n", cmds[i].name, cmds[i].args,
		    cmds[i].summary);
	fprintf(fp, "\n'vno COMMAND --help' tells more about one command.\n");
}

int
vno_cmd_help(const struct vno_cmd *c, int to_stderr)
{
	FILE *fp = to_stderr ? stderr : stdout;

	fprintf(fp, "usage: vno %s %s\n\n%s", c->name, c->args, c->help);
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
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (vno_wants_help(argc - 1, argv + 1))
			return vno_cmd_help(&cmds[i], 0);
		return cmds[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "vno: unknown command '%s'; 'vno --help' lists "
	    "them\n", argv[1]);
	return VNO_EXIT_USAGE;
}
