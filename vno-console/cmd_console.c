/*
 * vno console VNET NODE: an interactive console on a node, through the
 * VNP.  A line console built on the exec relay: each line you type runs
 * on the node in its shell (in the working directory the previous
 * lines left, which the console tracks), and its output and exit
 * status come back.  It needs nothing but the mutual-TLS HTTPS
 * connection to the VNP, so it crosses every firewall the VNO's own
 * calls cross.  Programs that need a terminal (editors, top) are out of
 * its reach; use them through a node's ssh console where the manifest
 * offers one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "vno.h"

#define CONSOLE_LINE_MAX	4096
#define CONSOLE_MARK		'\036'	/* ASCII RS: before the cwd */

const char cmd_console_help[] =
    "Open an interactive console on NODE of VNET.  Each line you type\n"
    "runs on the node (sh -c), in the working directory earlier lines\n"
    "left; its output follows, and a non-zero exit status is shown as\n"
    "[exit N].  End with 'exit', 'logout' or end of input (Ctrl-D).\n"
    "Commands must not wait for input from a terminal.  The exit status\n"
    "of vno is that of the last command (255 if vno itself failed).\n";

/* Append s single-quoted for a POSIX shell. */
static void
shell_quote(struct buf *b, const char *s)
{
	buf_puts(b, "'");
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_puts(b, "'\\''");
		else
			buf_append(b, s, 1);
	}
	buf_puts(b, "'");
}

/*
 * Run one line in cwd; print its output; update cwd from the mark the
 * wrapper appends.  Returns the command's exit status, or -1 when the
 * call failed (reported).
 */
static int
console_line(struct vno_client *c, const char *path, const char *line,
    char *cwd, size_t cwdsize)
{
	struct http_response resp;
	struct buf b;
	char *body, *mark;
	size_t len;
	int st = -1;

	buf_init(&b);
	if (cwd[0] != '\0') {
		buf_puts(&b, "cd ");
		shell_quote(&b, cwd);
		buf_puts(&b, " 2>/dev/null\n");
	}
	buf_puts(&b, line);
	buf_puts(&b, "\n__vno_rc=$?; printf '\\036%s' \"$(pwd)\"; "
	    "exit $__vno_rc\n");
	if ((body = buf_steal(&b, &len)) == NULL)
		return -1;
	if (vno_call(c, "POST", path, HTTP_CTYPE_TEXT, body, len,
	    &resp) == -1 || resp.status != 200) {
		vno_report(c, "console", &resp);
		http_response_clear(&resp);
		free(body);
		return -1;
	}
	free(body);
	mark = resp.body != NULL ? memrchr(resp.body, CONSOLE_MARK,
	    resp.len) : NULL;
	if (mark != NULL) {
		*mark = '\0';
		str_lcpy(cwd, mark + 1, cwdsize);
		fwrite(resp.body, 1, (size_t)(mark - resp.body), stdout);
	} else if (resp.body != NULL)
		fwrite(resp.body, 1, resp.len, stdout);
	st = atoi(resp.exit_status);
	if (st != 0)
		printf("[exit %d]\n", st);
	fflush(stdout);
	http_response_clear(&resp);
	return st;
}

int
cmd_console(int argc, char **argv)
{
	struct vno_client c;
	char *pos[2], path[192], line[CONSOLE_LINE_MAX], cwd[1024] = "";
	int n, rc, last = 0, tty = isatty(STDIN_FILENO);

	vno_client_init(&c);
	if (vno_args(&c, argc, argv, pos, 2, 2, &n, NULL, NULL, NULL) != 0)
		return VNO_EXIT_EXEC;
	if ((rc = vno_client_open(&c)) != 0)
		return VNO_EXIT_EXEC;
	snprintf(path, sizeof(path), "/v1/vnets/%s/nodes/%s/exec", pos[0],
	    pos[1]);
	/* Check the node answers, and learn its working directory. */
	if (console_line(&c, path, "true", cwd, sizeof(cwd)) != 0) {
		vno_client_close(&c);
		return VNO_EXIT_EXEC;
	}
	if (tty)
		printf("Console on %s of %s through the VNP; 'exit' or Ctrl-D "
		    "ends it.\n", pos[1], pos[0]);
	for (;;) {
		size_t len;

		if (tty) {
			printf("%s:%s# ", pos[1], cwd);
			fflush(stdout);
		}
		if (fgets(line, sizeof(line), stdin) == NULL)
			break;
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (len == sizeof(line) - 1) {
			fprintf(stderr, "vno: console: line longer than %d "
			    "bytes, not sent\n", CONSOLE_LINE_MAX - 2);
			while (fgets(line, sizeof(line), stdin) != NULL &&
			    strchr(line, '\n') == NULL)
				;
			continue;
		}
		if (strspn(line, " \t") == len)
			continue;
		if (strcmp(line, "exit") == 0 || strcmp(line, "logout") == 0)
			break;
		last = console_line(&c, path, line, cwd, sizeof(cwd));
		if (last < 0) {
			last = VNO_EXIT_EXEC;
			if (!tty)
				break;
		}
	}
	if (tty)
		printf("\n");
	vno_client_close(&c);
	return last;
}
