/*
 * pipd's HTTP API (docs/api.md, section pipd): VNPs (role vnpd) read
 * the advertisement and work on their own slices; the PIP's agents
 * (role substrated) post reports; anyone may read /metrics.  A VNP sees
 * only the slices it made: another's answers 403.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pipd.h"

/* The value of key in a raw query string, copied into buf; 0 or -1. */
static int
query_get(const char *query, const char *key, char *buf, size_t size)
{
	size_t kl = strlen(key);
	const char *p = query;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			if (len - kl - 1 >= size)
				return -1;
			memcpy(buf, p + kl + 1, len - kl - 1);
			buf[len - kl - 1] = '\0';
			return 0;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return -1;
}

static void
count(struct pipd *pd, const char *op)
{
	char labels[48];

	snprintf(labels, sizeof(labels), "op=\"%s\"", op);
	metric_add(pd->m_requests, labels, 1);
}

static void
reply_manifest(struct pipd *pd, struct http_request *req,
    const struct pslice *ps, const char *node, enum vnet_state st,
    int status)
{
	size_t len;
	char *doc = slices_manifest(pd, ps, node, st, &len);

	if (doc == NULL) {
		http_reply_error(req);
		return;
	}
	http_reply(req, status, HTTP_CTYPE_XML, doc, len);
	free(doc);
}

static void
h_advert(struct http_request *req, void *arg)
{
	struct pipd *pd = arg;
	size_t len;
	char *doc;

	count(pd, "advertisement");
	err_reset();
	if ((doc = inventory_advert(pd, req->peer.name, &len)) == NULL) {
		http_reply_error(req);
		return;
	}
	http_reply(req, 200, HTTP_CTYPE_XML, doc, len);
	free(doc);
}

static void
h_reports(struct http_request *req, void *arg)
{
	struct pipd *pd = arg;

	count(pd, "report");
	err_reset();
	if (inventory_report(pd, req->peer.name, req->body,
	    req->body_len) == -1) {
		log_warnx("report from %s refused: %s", req->peer.name,
		    err_last() != NULL ? err_last()->msg : "?");
		http_reply_error(req);
		return;
	}
	http_reply(req, 204, NULL, NULL, 0);
}

/* Split "/v1/slices/NAME[/REST...]" into up to four parts. */
static int
split_path(char *path, char *parts[4])
{
	int n = 0;
	char *p = path + strlen("/v1/slices");

	memset(parts, 0, 4 * sizeof(*parts));
	while (*p == '/' && n < 4) {
		char *e;

		*p++ = '\0';
		parts[n++] = p;
		if ((e = strchr(p, '/')) == NULL)
			break;
		p = e;
	}
	if (n == 4 && strchr(parts[3], '/') != NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if (parts[i][0] == '\0')
			return -1;
	return n;
}

/* Answer an operation on a slice that changes its document. */
static void
apply_doc(struct pipd *pd, struct http_request *req, struct pslice *ps,
    struct slice *nd, const char *node)
{
	/* Homes already attached keep their tunnel end. */
	subs_fill(pd, nd);
	if (ps->state == VS_ALLOCATED) {
		if (slices_commit_doc(pd, ps, nd) == -1) {
			http_reply_error(req);
			return;
		}
		reply_manifest(pd, req, ps, node, VS_LAST, 200);
		return;
	}
	if (provision_start(pd, ps, OP_UPDATE, nd, req) == -1) {
		/* nd was freed; give back the peak reservation. */
		struct usage u;

		if (usage_of(pd, ps->doc, &u) == 0) {
			admit_set(pd, ps->name, &ps->held, &u);
			usage_clear(&u);
		}
		http_reply_error(req);
	}
}

static void
slice_op(struct pipd *pd, struct http_request *req, struct pslice *ps,
    char *parts[4], int n)
{
	const char *m = req->method;
	struct slice *nd;
	char q[80];

	if (n == 1 && strcmp(m, "GET") == 0) {
		count(pd, "status");
		reply_manifest(pd, req, ps, NULL, VS_LAST, 200);
	} else if (n == 1 && strcmp(m, "PUT") == 0) {
		count(pd, "update");
		if (ps->busy) {
			err_set(ERR_CONFLICT, "slice '%s' is busy", ps->name);
			http_reply_error(req);
		} else if (slices_update_check(pd, ps, req->body,
		    req->body_len, &nd) == -1)
			http_reply_error(req);
		else
			apply_doc(pd, req, ps, nd, NULL);
	} else if (n == 1 && strcmp(m, "DELETE") == 0) {
		count(pd, "delete");
		if (ps->busy) {
			err_set(ERR_CONFLICT, "slice '%s' is busy", ps->name);
			http_reply_error(req);
		} else if (ps->state == VS_ALLOCATED) {
			reply_manifest(pd, req, ps, NULL, VS_DELETED, 200);
			log_info("slice %s: released", ps->name);
			metric_add(pd->m_allocs, "result=\"released\"", 1);
			slices_drop(pd, ps);
		} else if (provision_start(pd, ps, OP_DELETE, NULL, req) == -1)
			http_reply_error(req);
	} else if (n == 2 && strcmp(m, "POST") == 0 &&
	    strcmp(parts[1], "provision") == 0) {
		count(pd, "provision");
		if (provision_start(pd, ps, OP_PROVISION, NULL, req) == -1)
			http_reply_error(req);
	} else if (n == 2 && strcmp(m, "POST") == 0 &&
	    strcmp(parts[1], "renew") == 0) {
		long long s;
		char *end;

		count(pd, "renew");
		if (query_get(req->query, "seconds", q, sizeof(q)) == -1) {
			err_set(ERR_INVALID, "renew needs ?seconds=N");
			http_reply_error(req);
			return;
		}
		errno = 0;
		s = strtoll(q, &end, 10);
		if (*end != '\0' || errno != 0 || slices_renew(pd, ps, s) == -1) {
			if (err_last() == NULL)
				err_set(ERR_INVALID, "'%s' is not a number of "
				    "seconds", q);
			http_reply_error(req);
			return;
		}
		reply_manifest(pd, req, ps, NULL, VS_LAST, 200);
	} else if (n == 3 && strcmp(parts[1], "nodes") == 0 &&
	    strcmp(m, "GET") == 0) {
		count(pd, "locate");
		if (topo_node_find(ps->doc->nodes, ps->doc->nnodes,
		    parts[2]) < 0) {
			err_set(ERR_NOT_FOUND, "slice '%s' has no node '%s'",
			    ps->name, parts[2]);
			http_reply_error(req);
		} else
			reply_manifest(pd, req, ps, parts[2], VS_LAST, 200);
	} else if (n == 3 && strcmp(parts[1], "nodes") == 0 &&
	    strcmp(m, "DELETE") == 0) {
		count(pd, "terminate");
		if (ps->busy) {
			err_set(ERR_CONFLICT, "slice '%s' is busy", ps->name);
			http_reply_error(req);
		} else if (slices_without_node(pd, ps, parts[2], &nd) == -1)
			http_reply_error(req);
		else
			apply_doc(pd, req, ps, nd, NULL);
	} else if (n == 4 && strcmp(parts[1], "nodes") == 0 &&
	    strcmp(m, "POST") == 0 && strcmp(parts[3], "migrate") == 0) {
		count(pd, "migrate");
		if (query_get(req->query, "host", q, sizeof(q)) == -1) {
			err_set(ERR_INVALID, "migrate needs ?host=H");
			http_reply_error(req);
		} else if (ps->busy) {
			err_set(ERR_CONFLICT, "slice '%s' is busy", ps->name);
			http_reply_error(req);
		} else if (slices_migrated(pd, ps, parts[2], q, &nd) == -1)
			http_reply_error(req);
		else
			apply_doc(pd, req, ps, nd, parts[2]);
	} else if (n == 4 && strcmp(parts[1], "subscribers") == 0 &&
	    strcmp(m, "POST") == 0 && strcmp(parts[3], "token") == 0) {
		count(pd, "token");
		subs_token(pd, req, ps, parts[2]);
	} else if (n == 4 && strcmp(parts[1], "nodes") == 0 &&
	    strcmp(m, "POST") == 0 && strcmp(parts[3], "exec") == 0) {
		count(pd, "exec");
		if (provision_exec(pd, ps, parts[2], req) == -1)
			http_reply_error(req);
	} else {
		err_set(ERR_NOT_FOUND, "no operation %s %s", m, req->path);
		http_reply_error(req);
	}
}

static void
h_slices(struct http_request *req, void *arg)
{
	struct pipd *pd = arg;
	struct pslice *ps;
	char *parts[4];
	int n;

	err_reset();
	if ((n = split_path(req->path, parts)) == -1) {
		err_set(ERR_NOT_FOUND, "no such resource");
		http_reply_error(req);
		return;
	}
	if (n == 0) {
		count(pd, "allocate");
		if (strcmp(req->method, "POST") != 0) {
			err_set(ERR_NOT_FOUND, "use POST /v1/slices to "
			    "allocate a slice");
			http_reply_error(req);
		} else if (slices_allocate(pd, req->peer.name, req->body,
		    req->body_len, &ps) == -1)
			http_reply_error(req);
		else
			reply_manifest(pd, req, ps, NULL, VS_LAST, 201);
		return;
	}
	if ((ps = slice_find(pd, parts[0])) == NULL) {
		count(pd, "unknown");
		err_set(ERR_NOT_FOUND, "no slice '%s' at PIP '%s'", parts[0],
		    pd->conf->name);
		http_reply_error(req);
		return;
	}
	if (strcmp(ps->owner, req->peer.name) != 0) {
		count(pd, "forbidden");
		err_set(ERR_FORBIDDEN, "slice '%s' belongs to another VNP",
		    parts[0]);
		http_reply_error(req);
		return;
	}
	slice_op(pd, req, ps, parts, n);
}

/* Install the routes on pd->srv.  0, or -1 with an error recorded. */
int
api_init(struct pipd *pd)
{
	unsigned vnp = TLS_ROLE_BIT(TLS_ROLE_VNPD);

	if (http_server_route(pd->srv, "GET", "/v1/advertisement", vnp,
	    h_advert, pd) == -1 ||
	    http_server_route(pd->srv, NULL, "/v1/slices", vnp, h_slices,
	    pd) == -1 ||
	    http_server_route(pd->srv, "POST", "/v1/reports",
	    TLS_ROLE_BIT(TLS_ROLE_SUBSTRATED), h_reports, pd) == -1 ||
	    http_server_route(pd->srv, "GET", "/metrics", TLS_ROLE_ANY,
	    metrics_handler, pd->m) == -1 || subs_init(pd) == -1)
		return -1;
	return 0;
}
