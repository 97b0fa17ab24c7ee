/*
 * What the subcommands that talk to vnpd share: where vnpd is and which
 * certificate to show it, one call, and how a failure is told and
 * turned into an exit code.
 *
 * Settings come from, in order of precedence: the flags --endpoint,
 * --ca, --cert, --key (and --config FILE); the environment VNO_ENDPOINT,
 * VNO_CA, VNO_CERT, VNO_KEY (and VNO_CONFIG); the first config file
 * that exists of ~/.config/vno.conf and /etc/vnsm/vno.conf, with keys
 * endpoint, ca, cert, key, vnpd-name, timeout (examples/vno.conf).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "errdoc.h"
#include "vno.h"
#include "xml.h"

const char vno_common_help[] =
    "\nCommon options:\n"
    "  --endpoint HOST:PORT  vnpd to talk to (VNO_ENDPOINT)\n"
    "  --ca FILE             CA certificate (VNO_CA)\n"
    "  --cert FILE           your certificate, role vno (VNO_CERT)\n"
    "  --key FILE            its key (VNO_KEY)\n"
    "  --config FILE         settings file (VNO_CONFIG; default\n"
    "                        ~/.config/vno.conf, then /etc/vnsm/vno.conf)\n"
    "  --output xml|text     xml: print the document vnpd sent, for "
    "scripts\n";

void
vno_client_init(struct vno_client *c)
{
	memset(c, 0, sizeof(c[0]));
	c->timeout_ms = 60000;
}

/* A message about the command line, on stderr; returns VNO_EXIT_USAGE. */
int
vno_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vno %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n'vno %s --help' tells more\n", cmd);
	return VNO_EXIT_USAGE;
}

/*
 * If argv[*i] is a common option, take it (and its value, advancing *i)
 * and return 1; 0 if it is not one; -1 (after a message) when its value
 * is missing or bad.
 */
int
vno_common_flag(struct vno_client *c, int argc, char **argv, int *i)
{
	static const struct {
		const char *flag;
		size_t off, size;
	} flags[] = {
		{ "--endpoint", offsetof(struct vno_client, endpoint),
		    sizeof(c->endpoint) },
		{ "--ca", offsetof(struct vno_client, ca), sizeof(c->ca) },
		{ "--cert", offsetof(struct vno_client, cert), sizeof(c->cert) },
		{ "--key", offsetof(struct vno_client, key), sizeof(c->key) },
		{ "--config", offsetof(struct vno_client, config),
		    sizeof(c->config) },
	};
	const char *a = argv[*i];

	if (strcmp(a, "--output") == 0 || strncmp(a, "--output=", 9) == 0) {
		const char *v = a[8] == '=' ? a + 9 : *i + 1 < argc ?
		    argv[++*i] : NULL;

		if (v == NULL || (strcmp(v, "xml") != 0 &&
		    strcmp(v, "text") != 0)) {
			fprintf(stderr, "vno: --output takes xml or text\n");
			return -1;
		}
		c->xml = strcmp(v, "xml") == 0;
		return 1;
	}
	for (size_t k = 0; k < NELEM(flags); k++) {
		size_t fl = strlen(flags[k].flag);
		const char *v;

		if (strncmp(a, flags[k].flag, fl) != 0 ||
		    (a[fl] != '\0' && a[fl] != '='))
			continue;
		v = a[fl] == '=' ? a + fl + 1 : *i + 1 < argc ? argv[++*i] :
		    NULL;
		if (v == NULL || *v == '\0') {
			fprintf(stderr, "vno: %s needs a value\n", flags[k].flag);
			return -1;
		}
		if (str_lcpy((char *)c + flags[k].off, v, flags[k].size) >=
		    flags[k].size) {
			fprintf(stderr, "vno: %s value is too long\n",
			    flags[k].flag);
			return -1;
		}
		return 1;
	}
	return 0;
}

/* Fill the unset fields of c from env, then from the config file. */
static int
client_settings(struct vno_client *c)
{
	static const struct {
		const char *env, *key;
		size_t off, size;
	} keys[] = {
		{ "VNO_ENDPOINT", "endpoint", offsetof(struct vno_client,
		    endpoint), sizeof(c->endpoint) },
		{ "VNO_CA", "ca", offsetof(struct vno_client, ca),
		    sizeof(c->ca) },
		{ "VNO_CERT", "cert", offsetof(struct vno_client, cert),
		    sizeof(c->cert) },
		{ "VNO_KEY", "key", offsetof(struct vno_client, key),
		    sizeof(c->key) },
		{ "VNO_VNPD_NAME", "vnpd-name", offsetof(struct vno_client,
		    vnpd_name), sizeof(c->vnpd_name) },
	};
	struct conf *cf = NULL;
	const char *home = getenv("HOME"), *e;
	char path[512] = "";
	int rc = 0;

	for (size_t k = 0; k < NELEM(keys); k++) {
		char *f = (char *)c + keys[k].off;

		if (f[0] == '\0' && (e = getenv(keys[k].env)) != NULL)
			str_lcpy(f, e, keys[k].size);
	}
	if (c->config[0] == '\0' && (e = getenv("VNO_CONFIG")) != NULL)
		str_lcpy(c->config, e, sizeof(c->config));
	if (c->config[0] != '\0')
		str_lcpy(path, c->config, sizeof(path));
	else {
		if (home != NULL)
			snprintf(path, sizeof(path), "%s/.config/vno.conf",
			    home);
		if (path[0] == '\0' || access(path, R_OK) != 0)
			str_lcpy(path, "/etc/vnsm/vno.conf", sizeof(path));
		if (access(path, R_OK) != 0)
			path[0] = '\0';
	}
	if (path[0] != '\0') {
		struct conf_section *g;
		long long t;

		if ((cf = conf_load(path)) == NULL)
			return -1;
		g = conf_global(cf);
		for (size_t k = 0; k < NELEM(keys); k++) {
			char *f = (char *)c + keys[k].off;
			const char *v;

			if (conf_str(g, keys[k].key, NULL, &v) == -1)
				rc = -1;
			else if (f[0] == '\0' && v != NULL)
				str_lcpy(f, v, keys[k].size);
		}
		if (conf_int(g, "timeout", c->timeout_ms, 100, 3600000,
		    &t) == -1)
			rc = -1;
		else
			c->timeout_ms = (int)t;
		if (conf_check_unused(cf) == -1)
			rc = -1;
		conf_free(cf);
		str_lcpy(c->config, path, sizeof(c->config));
	}
	return rc;
}

/*
 * Resolve the settings and make the HTTPS client.  0, or a vno exit code
 * after a message on stderr.
 */
int
vno_client_open(struct vno_client *c)
{
	struct http_client_conf cc;

	if (client_settings(c) == -1) {
		err_print(stderr);
		return VNO_EXIT_USAGE;
	}
	if (c->endpoint[0] == '\0' || c->ca[0] == '\0' || c->cert[0] == '\0' ||
	    c->key[0] == '\0') {
		fprintf(stderr, "vno: %s is not set: give --%s, set VNO_%s, or "
		    "write it in ~/.config/vno.conf\n",
		    c->endpoint[0] == '\0' ? "the vnpd endpoint" :
		    c->ca[0] == '\0' ? "the CA certificate" :
		    c->cert[0] == '\0' ? "your certificate" : "your key",
		    c->endpoint[0] == '\0' ? "endpoint" : c->ca[0] == '\0' ?
		    "ca" : c->cert[0] == '\0' ? "cert" : "key",
		    c->endpoint[0] == '\0' ? "ENDPOINT" : c->ca[0] == '\0' ?
		    "CA" : c->cert[0] == '\0' ? "CERT" : "KEY");
		return VNO_EXIT_USAGE;
	}
	memset(&cc, 0, sizeof(cc));
	cc.tls.ca_file = c->ca;
	cc.tls.cert_file = c->cert;
	cc.tls.key_file = c->key;
	cc.timeout_ms = c->timeout_ms;
	if ((c->http = http_client_new(NULL, &cc)) == NULL) {
		err_print(stderr);
		return VNO_EXIT_USAGE;
	}
	return VNO_EXIT_OK;
}

void
vno_client_close(struct vno_client *c)
{
	http_client_free(c->http);
	c->http = NULL;
}

/*
 * One call to vnpd.  0 when an answer came (any status), -1 when none
 * did (resp->err says why).
 */
int
vno_call(struct vno_client *c, const char *method, const char *path,
    const char *ctype, const void *body, size_t len,
    struct http_response *resp)
{
	struct http_call call;

	memset(resp, 0, sizeof(*resp));
	memset(&call, 0, sizeof(call));
	call.peer = c->endpoint;
	call.expect_name = c->vnpd_name[0] != '\0' ? c->vnpd_name : NULL;
	call.expect_role = TLS_ROLE_VNPD;
	call.method = method;
	call.path = path;
	call.ctype = ctype;
	call.body = body;
	call.len = len;
	return http_call(c->http, &call, resp);
}

/* The exit code for an HTTP status. */
int
vno_status_exit(int status)
{
	if (status >= 200 && status < 300)
		return VNO_EXIT_OK;
	if (status == 404)
		return VNO_EXIT_NOTFOUND;
	if (status == 401 || status == 403)
		return VNO_EXIT_DENIED;
	if (status == 0 || status >= 500)
		return VNO_EXIT_PEER;
	return VNO_EXIT_INVALID;
}

/*
 * Tell why a call failed, one line per problem on stderr ("vno: WHAT:
 * message (hint)"); with --output xml, the <error> document goes to
 * stdout as it came.  Returns the exit code.
 */
int
vno_report(struct vno_client *c, const char *what,
    struct http_response *resp)
{
	struct errdoc *ed;
	char line[2048];

	if (resp->status == 0) {
		fprintf(stderr, "vno: %s: %s\n", what,
		    err_line(&resp->err, line, sizeof(line)));
		return VNO_EXIT_PEER;
	}
	if (c->xml && resp->body != NULL)
		fwrite(resp->body, 1, resp->len, stdout);
	err_reset();
	ed = errdoc_parse(resp->body != NULL ? resp->body : "", resp->len,
	    "answer");
	if (ed == NULL) {
		fprintf(stderr, "vno: %s: HTTP %d %s\n", what, resp->status,
		    http_status_text(resp->status));
	} else {
		for (size_t i = 0; i < ed->nerrs; i++) {
			const struct err *e = &ed->errs[i];

			fprintf(stderr, "vno: %s: %s\n", what,
			    err_line(e, line, sizeof(line)));
			if (e->code == ERR_NO_RESOURCES && e->resource[0])
				fprintf(stderr, "vno:   %s: asked %g %s, %g "
				    "free%s%s\n", e->resource, e->asked,
				    e->unit, e->avail, e->offer[0] ?
				    "; could offer " : "", e->offer);
		}
		errdoc_free(ed);
	}
	err_reset();
	return vno_status_exit(resp->status);
}

/* A whole file ("-": standard input), NUL-terminated, or NULL. */
char *
vno_read_file(const char *path, size_t *len)
{
	if (strcmp(path, "-") == 0) {
		size_t cap = 1 << 16, n = 0;
		char *b = malloc(cap + 1), *nb;

		while (b != NULL) {
			size_t r = fread(b + n, 1, cap - n, stdin);

			n += r;
			if (r == 0)
				break;
			if (n == cap) {
				if (cap >= (8u << 20) ||
				    (nb = realloc(b, 2 * cap + 1)) == NULL) {
					free(b);
					return NULL;
				}
				b = nb;
				cap *= 2;
			}
		}
		if (b != NULL) {
			b[n] = '\0';
			*len = n;
		}
		return b;
	}
	return xml_read_file(path, NULL, len);
}

/*
 * Read argv[1..]: common options, then the command's own (want_flag
 * says whether argv[i] is one and takes it; may be NULL), the rest
 * positional into pos (at most max).  Stops at "--" (*dashdash gets its
 * index, or argc).  0, or VNO_EXIT_USAGE after a message.
 */
int
vno_args(struct vno_client *c, int argc, char **argv, char **pos, int min,
    int max, int *npos, int (*want_flag)(int argc, char **argv, int *i,
    void *arg), void *arg, int *dashdash)
{
	*npos = 0;
	if (dashdash != NULL)
		*dashdash = argc;
	for (int i = 1; i < argc; i++) {
		int r;

		if (strcmp(argv[i], "--") == 0 && dashdash != NULL) {
			*dashdash = i;
			break;
		}
		if ((r = vno_common_flag(c, argc, argv, &i)) == -1)
			return VNO_EXIT_USAGE;
		if (r == 1)
			continue;
		if (want_flag != NULL &&
		    (r = want_flag(argc, argv, &i, arg)) != 0) {
			if (r == -1)
				return VNO_EXIT_USAGE;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			return vno_usage(argv[0], "unknown option '%s'",
			    argv[i]);
		if (*npos == max)
			return vno_usage(argv[0], "too many arguments ('%s')",
			    argv[i]);
		pos[(*npos)++] = argv[i];
	}
	if (*npos < min)
		return vno_usage(argv[0], "missing arguments");
	return VNO_EXIT_OK;
}

/*
 * A call whose answer is a manifest to show: 0 and printed, or the exit
 * code after the failure is told.
 */
int
vno_simple(struct vno_client *c, const char *what, const char *method,
    const char *path)
{
	struct http_response resp;
	int rc;

	if (vno_call(c, method, path, NULL, NULL, 0, &resp) == -1)
		rc = vno_report(c, what, &resp);
	else if (resp.status >= 300)
		rc = vno_report(c, what, &resp);
	else
		rc = show_answer(c, &resp);
	http_response_clear(&resp);
	return rc;
}
