/*
 * substrated's HTTP API (docs/api.md, section substrated): only the
 * configured pipd (role pipd, CN from the config) may call; the TLS layer
 * already refused other CAs, the router other roles, and here every
 * handler refuses another pipd's CN.
 *
 *   PUT    /v1/slices/NAME                         host slice -> manifest
 *   GET    /v1/slices/NAME                         manifest
 *   DELETE /v1/slices/NAME                         manifest, deleted
 *   POST   /v1/slices/NAME/nodes/NODE/OP           start stop pause resume
 *   POST   /v1/slices/NAME/nodes/NODE/exec         text/plain -> output
 *   GET    /v1/report                              report
 *   GET    /metrics                                Prometheus text
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "error.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "substrated.h"
#include "units.h"

#define EXEC_OUT_MAX	(64 * 1024)	/* bytes of output returned */
#define EXEC_CMD_MAX	(16 * 1024)	/* bytes of command accepted */

/* Is the caller our pipd?  Else answer 403 and return 0. */
static int
allowed(struct sd *sd, struct http_request *req)
{
	if (req->peer.role == TLS_ROLE_PIPD &&
	    strcmp(req->peer.name, sd->conf->pipd) == 0)
		return 1;
	err_reset();
	err_set(ERR_FORBIDDEN, "'%s' (role %s) may not command the agent of "
	    "host %s; only pipd '%s' may", req->peer.name,
	    tls_role_to_string(req->peer.role), sd->conf->host,
	    sd->conf->pipd);
	log_warnx("refused %s %s from %s", req->method, req->path,
	    req->peer.name);
	http_reply_error(req);
	return 0;
}

/*
 * Split /v1/slices/NAME[/nodes/NODE/OP] into its parts; names must be
 * valid.  Returns the number of parts found (1 or 3), or -1 (error
 * recorded).
 */
static int
split(const char *path, char *slice, char *node, char *op)
{
	char buf[512], *p, *parts[5];
	int n = 0;

	if (strncmp(path, "/v1/slices/", 11) != 0 ||
	    str_lcpy(buf, path + 11, sizeof(buf)) >= sizeof(buf))
		return err_set(ERR_NOT_FOUND, "no such resource '%s'", path);
	for (p = buf; n < 5; n++) {
		parts[n] = p;
		if ((p = strchr(p, '/')) == NULL) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if ((n != 1 && n != 4) || p != NULL ||
	    (n == 4 && strcmp(parts[1], "nodes") != 0))
		return err_set(ERR_NOT_FOUND, "no such resource '%s'", path);
	if (!name_valid(parts[0]) || str_lcpy(slice, parts[0], NAME_LEN) >=
	    NAME_LEN)
		return err_set(ERR_INVALID, "'%s' is not a valid slice name",
		    parts[0]);
	if (n == 1)
		return 1;
	if (!name_valid(parts[2]) || str_lcpy(node, parts[2], NAME_LEN) >=
	    NAME_LEN)
		return err_set(ERR_INVALID, "'%s' is not a valid node name",
		    parts[2]);
	str_lcpy(op, parts[3], NAME_LEN);
	return 3;
}

static void
reply_xml(struct http_request *req, int status, char *doc, size_t len)
{
	http_reply(req, status, HTTP_CTYPE_XML, doc, len);
	free(doc);
}

static void
h_slice(struct http_request *req, void *arg)
{
	struct sd *sd = arg;
	char slice[NAME_LEN], node[NAME_LEN], op[NAME_LEN];
	char *doc = NULL;
	size_t len = 0;
	struct sd_slice *s;
	int n;

	if (!allowed(sd, req))
		return;
	err_reset();
	if ((n = split(req->path, slice, node, op)) == -1)
		goto fail;
	if (n == 1 && strcmp(req->method, "PUT") == 0) {
		if (sd_slice_apply(sd, slice, req->body, req->body_len, &doc,
		    &len) == -1)
			goto fail;
		reply_xml(req, 200, doc, len);
		return;
	}
	if (n == 1 && strcmp(req->method, "DELETE") == 0) {
		if (sd_slice_delete(sd, slice, &doc, &len) == -1)
			goto fail;
		reply_xml(req, 200, doc, len);
		return;
	}
	if ((s = sd_slice_find(sd, slice)) == NULL) {
		err_set(ERR_NOT_FOUND, "no slice '%s' on host %s", slice,
		    sd->conf->host);
		goto fail;
	}
	if (n == 1 && strcmp(req->method, "GET") == 0) {
		if ((doc = sd_slice_manifest(sd, s, 0, &len)) == NULL)
			goto fail;
		reply_xml(req, 200, doc, len);
		return;
	}
	if (n == 3 && strcmp(req->method, "POST") == 0) {
		struct sd_node *nd = sd_node_find(s, node);

		if (nd == NULL) {
			err_set(ERR_NOT_FOUND, "slice '%s' has no node '%s'",
			    slice, node);
			goto fail;
		}
		if (strcmp(op, "exec") == 0) {
			struct drv *d = sd->drv[nd->slot];
			char *out, hdr[16];
			const char *argv[] = { "/bin/sh", "-c", NULL, NULL };
			struct vnode_exec ex = { .argv = argv,
			    .outsz = EXEC_OUT_MAX, .timeout_ms = 20000 };
			int status = -1;

			if (req->body_len == 0 || req->body_len > EXEC_CMD_MAX ||
			    strlen(req->body) != req->body_len) {
				err_set(ERR_INVALID, "exec wants a shell command "
				    "of 1 to %d bytes as text/plain",
				    EXEC_CMD_MAX);
				goto fail;
			}
			if ((out = calloc(1, EXEC_OUT_MAX)) == NULL) {
				err_nomem();
				goto fail;
			}
			argv[2] = req->body;
			ex.out = out;
			if (d->ops->exec(d, nd->id, &ex, &status) == -1) {
				free(out);
				goto fail;
			}
			snprintf(hdr, sizeof(hdr), "%d", status);
			evhttp_add_header(evhttp_request_get_output_headers(
			    req->ev), "X-Exit-Status", hdr);
			http_reply(req, 200, HTTP_CTYPE_TEXT, out, strlen(out));
			free(out);
			return;
		}
		if (sd_node_op(sd, s, nd, op) == -1)
			goto fail;
		if ((doc = sd_slice_manifest(sd, s, 0, &len)) == NULL)
			goto fail;
		reply_xml(req, 200, doc, len);
		return;
	}
	err_set(ERR_NOT_FOUND, "no %s on '%s'", req->method, req->path);
fail:
	http_reply_error(req);
}

static void
h_report(struct http_request *req, void *arg)
{
	struct sd *sd = arg;
	char *doc;
	size_t len;

	if (!allowed(sd, req))
		return;
	err_reset();
	if ((doc = sd_report(sd, &len)) == NULL) {
		http_reply_error(req);
		return;
	}
	reply_xml(req, 200, doc, len);
}

static void
h_metrics(struct http_request *req, void *arg)
{
	struct sd *sd = arg;

	if (allowed(sd, req))
		metrics_handler(req, sd->metrics);
}

int
sd_api_init(struct sd *sd)
{
	unsigned pipd = TLS_ROLE_BIT(TLS_ROLE_PIPD);
	static const char *const methods[] = { "PUT", "GET", "DELETE",
		"POST" };

	for (size_t i = 0; i < NELEM(methods); i++)
		if (http_server_route(sd->srv, methods[i], "/v1/slices", pipd,
		    h_slice, sd) == -1)
			return -1;
	if (http_server_route(sd->srv, "GET", "/v1/report", pipd, h_report,
	    sd) == -1 ||
	    http_server_route(sd->srv, "GET", "/metrics", pipd, h_metrics,
	    sd) == -1)
		return -1;
	return 0;
}
