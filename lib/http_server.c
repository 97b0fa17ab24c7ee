/*
 * The HTTPS server: evhttp with one TLS bufferevent per connection,
 * dispatching by method and path prefix to handlers that see the peer's
 * verified identity.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "conf.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#define HTTP_HEADER_MAX_DEFAULT	(8 * 1024)
#define HTTP_BODY_MAX_DEFAULT	(1024 * 1024)
#define HTTP_TIMEOUT_DEFAULT	30
#define HTTP_PREFIX_MAX		256
#define HTTP_ROUTES_MAX		64

struct http_route {
	char method[16];		/* "" = any method */
	char prefix[HTTP_PREFIX_MAX];	/* starts with '/' */
	size_t prefix_len;		/* strlen(prefix) */
	unsigned roles;			/* TLS_ROLE_BIT()s allowed */
	void (*fn)(struct http_request *req, void *arg);
	void *arg;
};

struct http_server {
	struct event_base *base;	/* not owned */
	struct evhttp *http;		/* owned */
	struct tls_ctx *tls;		/* owned */
	int port;			/* bound port, host order */
	struct http_limits limits;	/* defaults filled in */
	struct metrics *metrics;	/* not owned; may be NULL */
	struct metric *m_requests;	/* counter by code */
	struct metric *m_seconds;	/* latency histogram */
	struct http_route routes[HTTP_ROUTES_MAX];
	size_t nroutes;			/* <= HTTP_ROUTES_MAX */
};

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

static struct bufferevent *
http_server_bevcb(struct event_base *base, void *arg)
{
	struct http_server *srv = arg;
	struct bufferevent *bev;

	if ((bev = tls_server_bev(srv->tls, base)) == NULL) {
		log_warnx("http: cannot make a TLS connection: %s",
		    err_last() != NULL ? err_last()->msg : "?");
		err_reset();
	}
	return bev;
}

/* Runs as evhttp frees a connection: say goodbye properly. */
static void
http_server_closecb(struct evhttp_connection *evcon, void *arg)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);

	if (bev != NULL)
		tls_close_notify(bev);
}

static const char *
http_method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

/* Does path lie at or under prefix (segment-wise)? */
static int
http_prefix_match(const struct http_route *r, const char *path)
{
	if (strncmp(path, r->prefix, r->prefix_len) != 0)
		return 0;
	return path[r->prefix_len] == '\0' || path[r->prefix_len] == '/' ||
	    r->prefix[r->prefix_len - 1] == '/';
}

static const struct http_route *
http_route_find(const struct http_server *srv, const char *method,
    const char *path)
{
	const struct http_route *best = NULL;

	for (size_t i = 0; i < srv->nroutes; i++) {
		const struct http_route *r = &srv->routes[i];

		if (r->method[0] != '\0' && strcmp(r->method, method) != 0)
			continue;
		if (!http_prefix_match(r, path))
			continue;
		if (best == NULL || r->prefix_len > best->prefix_len)
			best = r;
	}
	return best;
}

/*
 * Make the request handlers see: identity, decoded path, query and a
 * NUL-terminated copy of the body.  NULL with an error recorded.
 */
static struct http_request *
http_request_new(struct http_server *srv, struct evhttp_request *ev,
    struct bufferevent *bev)
{
	struct http_request *req;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	struct evbuffer *in = evhttp_request_get_input_buffer(ev);
	const char *p, *q;
	size_t len = evbuffer_get_length(in), plen = 0;

	if ((req = calloc(1, sizeof(*req))) == NULL) {
		err_nomem();
		return NULL;
	}
	req->ev = ev;
	req->srv = srv;
	req->t0_us = now_us();
	req->method = http_method_name(evhttp_request_get_command(ev));
	if (tls_peer_of(bev, &req->peer) == -1) {
		err_set(ERR_UNAUTHENTICATED, "peer has no verified certificate");
		goto fail;
	}
	p = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (p == NULL || p[0] != '/') {
		err_set(ERR_INVALID, "request path must start with '/'");
		goto fail;
	}
	if ((req->path = evhttp_uridecode(p, 0, &plen)) == NULL ||
	    (q != NULL && (req->query = strdup(q)) == NULL) ||
	    (req->body = malloc(len + 1)) == NULL) {
		err_nomem();
		goto fail;
	}
	if (strlen(req->path) != plen) {
		/* A %00 would cut the path short: refuse rather than guess. */
		err_set(ERR_INVALID, "request path holds a NUL byte");
		goto fail;
	}
	if (evbuffer_remove(in, req->body, len) != (int)len) {
		err_set(ERR_INTERNAL, "cannot read the request body");
		goto fail;
	}
	req->body[len] = '\0';
	req->body_len = len;
	return req;
fail:
	free(req->path);
	free(req->query);
	free(req->body);
	free(req);
	return NULL;
}

static void
http_request_free(struct http_request *req)
{
	free(req->path);
	free(req->query);
	free(req->body);
	free(req);
}

/* Answer without a struct http_request (it could not be made). */
static void
http_reply_raw_error(struct evhttp_request *ev)
{
	const struct err *e = err_last();
	struct evbuffer *out = evbuffer_new();
	int status = err_http_status(e != NULL ? e->code : ERR_INTERNAL);
	size_t len;
	char *body;

	if (out != NULL && (body = http_error_body(e, &len)) != NULL) {
		evbuffer_add(out, body, len);
		free(body);
		evhttp_add_header(evhttp_request_get_output_headers(ev),
		    "Content-Type", HTTP_CTYPE_XML);
	}
	evhttp_send_reply(ev, status, http_status_text(status), out);
	if (out != NULL)
		evbuffer_free(out);
}

static void
http_server_dispatch(struct evhttp_request *ev, void *arg)
{
	struct http_server *srv = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	const struct http_route *r;
	struct http_request *req;
	int one = 1;

	/*
	 * Once per request is cheap, and evhttp 2.1 has no hook for a new
	 * connection: clean TLS close, and no Nagle delay on our replies
	 * (Linux inherits TCP_NODELAY from the listener; this makes sure).
	 */
	evhttp_connection_set_closecb(evcon, http_server_closecb, NULL);
	setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
	err_reset();
	if ((req = http_request_new(srv, ev, bev)) == NULL) {
		http_reply_raw_error(ev);
		return;
	}
	if ((r = http_route_find(srv, req->method, req->path)) == NULL) {
		err_set(ERR_NOT_FOUND, "no resource %s %s here", req->method,
		    req->path);
		http_reply_error(req);
		return;
	}
	if ((r->roles & TLS_ROLE_BIT(req->peer.role)) == 0) {
		err_set(ERR_FORBIDDEN, "%s '%s' may not %s %s",
		    tls_role_to_string(req->peer.role), req->peer.name,
		    req->method, req->path);
		http_reply_error(req);
		return;
	}
	log_debug("http: %s %s from %s '%s'", req->method, req->path,
	    tls_role_to_string(req->peer.role), req->peer.name);
	r->fn(req, r->arg);
}

void
http_reply(struct http_request *req, int status, const char *ctype,
    const void *body, size_t len)
{
	struct evbuffer *out = evbuffer_new();
	struct http_server *srv = req->srv;

	if (ctype != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req->ev),
		    "Content-Type", ctype);
	if (out != NULL && len > 0)
		evbuffer_add(out, body, len);
	evhttp_send_reply(req->ev, status, http_status_text(status), out);
	if (out != NULL)
		evbuffer_free(out);
	if (srv->m_requests != NULL) {
		char labels[48];

		snprintf(labels, sizeof(labels), "code=\"%d\"", status);
		metric_add(srv->m_requests, labels, 1);
		metric_observe(srv->m_seconds, NULL,
		    (double)(now_us() - req->t0_us) / 1e6);
	}
	http_request_free(req);
}

void
http_add_header(struct http_request *req, const char *name,
    const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(req->ev), name,
	    value);
}

const char *
http_header(const struct http_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req->ev),
	    name);
}

/* A listening, non-blocking TCP socket; -1 with an error recorded. */
static int
http_listen(const char *listen_addr, int *port)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1;

	if (conf_parse_addr(listen_addr, &ss, &sslen) == -1)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return err_sys("socket for %s", listen_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1) {
		err_sys("cannot listen on %s", listen_addr);
		close(fd);
		return -1;
	}
	if (listen(fd, 128) == -1) {
		err_sys("listen on %s", listen_addr);
		close(fd);
		return -1;
	}
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		err_sys("getsockname");
		close(fd);
		return -1;
	}
	*port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

struct http_server *
http_server_new(struct event_base *base, const struct http_server_conf *conf)
{
	struct http_server *srv;
	int fd = -1;

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		err_nomem();
		return NULL;
	}
	srv->base = base;
	srv->limits = conf->limits;
	if (srv->limits.header_max == 0)
		srv->limits.header_max = HTTP_HEADER_MAX_DEFAULT;
	if (srv->limits.body_max == 0)
		srv->limits.body_max = HTTP_BODY_MAX_DEFAULT;
	if (srv->limits.timeout_s <= 0)
		srv->limits.timeout_s = HTTP_TIMEOUT_DEFAULT;
	if ((srv->tls = tls_server_ctx_new(&conf->tls)) == NULL)
		goto fail;
	if ((fd = http_listen(conf->listen, &srv->port)) == -1)
		goto fail;
	if ((srv->http = evhttp_new(base)) == NULL) {
		err_nomem();
		goto fail;
	}
	evhttp_set_bevcb(srv->http, http_server_bevcb, srv);
	evhttp_set_gencb(srv->http, http_server_dispatch, srv);
	evhttp_set_max_headers_size(srv->http,
	    (ev_ssize_t)srv->limits.header_max);
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)srv->limits.body_max);
	evhttp_set_timeout(srv->http, srv->limits.timeout_s);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_default_content_type(srv->http, HTTP_CTYPE_XML);
	if (evhttp_accept_socket_with_handle(srv->http, fd) == NULL) {
		err_set(ERR_SYSTEM, "cannot serve on %s", conf->listen);
		goto fail;
	}
	if ((srv->metrics = conf->metrics) != NULL) {
		srv->m_requests = metrics_counter(srv->metrics,
		    "vnsm_http_requests_total", "HTTP requests answered");
		srv->m_seconds = metrics_histogram(srv->metrics,
		    "vnsm_http_request_seconds", "time from dispatch to answer",
		    metrics_latency_buckets, metrics_latency_nbuckets);
		if (srv->m_requests == NULL || srv->m_seconds == NULL)
			goto fail;
	}
	return srv;
fail:
	if (srv->http == NULL && fd != -1)
		close(fd);
	http_server_free(srv);
	return NULL;
}

void
http_server_free(struct http_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->http != NULL) {
		evhttp_free(srv->http);
		/*
		 * Freeing an open TLS connection is finished by a deferred
		 * callback; let it run, or the connection leaks.
		 */
		event_base_loop(srv->base, EVLOOP_NONBLOCK);
	}
	tls_ctx_free(srv->tls);
	free(srv);
}

int
http_server_port(const struct http_server *srv)
{
	return srv->port;
}

int
http_server_reload_crl(struct http_server *srv)
{
	return tls_ctx_reload_crl(srv->tls);
}

int
http_server_route(struct http_server *srv, const char *method,
    const char *prefix, unsigned roles,
    void (*fn)(struct http_request *req, void *arg), void *arg)
{
	struct http_route *r;

	if (srv->nroutes == HTTP_ROUTES_MAX)
		return err_set(ERR_INTERNAL, "more than %d routes",
		    HTTP_ROUTES_MAX);
	if (prefix[0] != '/' || strlen(prefix) >= sizeof(r->prefix))
		return err_set(ERR_INVALID, "bad route prefix '%s'", prefix);
	r = &srv->routes[srv->nroutes++];
	str_lcpy(r->method, method != NULL ? method : "", sizeof(r->method));
	str_lcpy(r->prefix, prefix, sizeof(r->prefix));
	r->prefix_len = strlen(prefix);
	r->roles = roles;
	r->fn = fn;
	r->arg = arg;
	return 0;
}
