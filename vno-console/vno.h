/*
 * vno: the VNO's command line.  Each subcommand is a file cmd_<name>.c
 * with one entry point, listed in the table in vno.c; client.c holds
 * what they share (where vnpd is, our certificate, one call, errors),
 * show.c how a manifest is printed.
 */
#ifndef VNO_H
#define VNO_H

#include <stddef.h>

#include "http.h"
#include "manifest.h"

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
#define VNO_EXIT_USAGE		2	/* bad command line or configuration */
#define VNO_EXIT_NOTFOUND	3	/* no such VNet or node */
#define VNO_EXIT_DENIED		4	/* bad certificate, or not yours */
#define VNO_EXIT_PEER		5	/* vnpd (or a PIP) failed, timed out */
#define VNO_EXIT_FAILED		6	/* the VNet failed (create --wait) */
#define VNO_EXIT_EXEC		255	/* exec: vno's own failure */

/* Where vnpd is and who we are: flags > environment > config file. */
struct vno_client {
	char endpoint[256];	/* HOST:PORT of vnpd */
	char ca[512];		/* CA certificate file */
	char cert[512];		/* our certificate (role vno) */
	char key[512];		/* its key */
	char vnpd_name[72];	/* CN vnpd must have; "" = any */
	char config[512];	/* the config file read, "" if none */
	int xml;		/* --output xml */
	int timeout_ms;		/* per call */
	struct http_client *http;
};

/* vno.c */
int vno_cmd_help(const struct vno_cmd *c, int to_stderr);
int vno_wants_help(int argc, char **argv);

/* client.c */
void vno_client_init(struct vno_client *c);
int vno_common_flag(struct vno_client *c, int argc, char **argv, int *i);
int vno_client_open(struct vno_client *c);
void vno_client_close(struct vno_client *c);
int vno_call(struct vno_client *c, const char *method, const char *path,
    const char *ctype, const void *body, size_t len,
    struct http_response *resp);
int vno_status_exit(int status);
int vno_report(struct vno_client *c, const char *what,
    struct http_response *resp);
char *vno_read_file(const char *path, size_t *len);
int vno_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int vno_args(struct vno_client *c, int argc, char **argv, char **pos,
    int min, int max, int *npos, int (*want_flag)(int argc, char **argv,
    int *i, void *arg), void *arg, int *dashdash);
int vno_simple(struct vno_client *c, const char *what, const char *method,
    const char *path);
extern const char vno_common_help[];

/* show.c */
void show_manifest(const struct manifest *m, FILE *fp);
void show_node_line(const struct mf_node *n, FILE *fp);
int show_answer(struct vno_client *c, struct http_response *resp);

/* One entry point and help text per subcommand. */
#define VNO_CMD(name)						\
	int cmd_##name(int argc, char **argv);			\
	extern const char cmd_##name##_help[]
VNO_CMD(validate);
VNO_CMD(create);
VNO_CMD(list);
VNO_CMD(status);
VNO_CMD(console);
VNO_CMD(exec);
VNO_CMD(apply);
VNO_CMD(migrate);
VNO_CMD(terminate);
VNO_CMD(locate);
VNO_CMD(renew);
VNO_CMD(delete);
VNO_CMD(topo);
VNO_CMD(subscriber);
VNO_CMD(attach);
VNO_CMD(detach);

#endif
