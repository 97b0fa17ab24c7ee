/*
 * vno: the VNO's command line.  Each subcommand is a file cmd_<name>.c
 * with one entry point, listed in the table in vno.c.
 */
#ifndef VNO_H
#define VNO_H

struct vno_cmd {
	const char *name;
	const char *args;	/* synopsis after the name */
	const char *summary;	/* one line for `vno --help` */
	const char *help;	/* full text for `vno NAME --help` */
	int (*run)(int argc, char **argv);	/* argv[0] is the name */
};

/* Exit codes, stable for scripts (see vno(1)). */
#define VNO_EXIT_OK		0
#define VNO_EXIT_INVALID	1	/* a document or request was refused */
#define VNO_EXIT_USAGE		2	/* bad command line */

/* vno.c */
int vno_cmd_help(const struct vno_cmd *c, int to_stderr);
int vno_wants_help(int argc, char **argv);

/* cmd_validate.c */
int cmd_validate(int argc, char **argv);
extern const char cmd_validate_help[];

#endif
