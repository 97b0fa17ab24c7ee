/*
 * vno exec VNET NODE -- CMD...: run one command on a node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "vno.h"

const char cmd_exec_help[] =
    "Run CMD (its words joined by spaces and run by the node's shell, as\n"
    "ssh does) on NODE of VNET, through the VNP: you need no access to\n"
    "any PIP.  Prints the command's output and exits with its exit\n"
    "status; exits 255 when vno itself fails (then the reason is on\n"
    "standard error).\n";

int
cmd_exec(int argc, char **argv)
{
	struct vno_client c;
	struct http_response resp;
	struct buf cmd;
	char *pos[2], path[192], *body;
	size_t len;
	int n, dd, rc;

	vno_client_init(&c);
	if (vno_args(&c, argc, argv, pos, 2, 2, &n, NULL, NULL, &dd) != 0)
		return VNO_EXIT_EXEC;
	if (dd + 1 >= argc) {
		vno_usage("exec", "give the command after '--'");
		return VNO_EXIT_EXEC;
	}
	buf_init(&cmd);
	for (int i = dd + 1; i < argc; i++) {
		if (i > dd + 1)
			buf_puts(&cmd, " ");
		buf_puts(&cmd, argv[i]);
	}
	if ((body = buf_steal(&cmd, &len)) == NULL)
		return VNO_EXIT_EXEC;
	if (vno_client_open(&c) != 0) {
		free(body);
		return VNO_EXIT_EXEC;
	}
	snprintf(path, sizeof(path), "/v1/vnets/%s/nodes/%s/exec", pos[0],
	    pos[1]);
	if (vno_call(&c, "POST", path, HTTP_CTYPE_TEXT, body, len,
	    &resp) == -1 || resp.status != 200) {
		vno_report(&c, pos[1], &resp);
		rc = VNO_EXIT_EXEC;
	} else {
		char *end;
		long st = strtol(resp.exit_status, &end, 10);

		fwrite(resp.body, 1, resp.len, stdout);
		if (resp.exit_status[0] == '\0' || *end != '\0' || st < 0 ||
		    st > 255) {
			fprintf(stderr, "vno: exec: no exit status came back "
			    "('%s')\n", resp.exit_status);
			rc = VNO_EXIT_EXEC;
		} else
			rc = (int)st;
	}
	http_response_clear(&resp);
	free(body);
	vno_client_close(&c);
	return rc;
}
