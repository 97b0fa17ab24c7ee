/*
 * The HTTPS client: evhttp connections over TLS bufferevents, kept open
 * per peer for reuse, with a blocking and a callback interface.
 *
 * evhttp 2.1 reconnects a failed connection by itself for queued
 * requests, but a TLS connection cannot be reconnected (its SSL state is
 * spent), so every connection carries at most one request at a time,
 * and a connection that closed is never used again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "http.h"

#define HTTP_CLIENT_BODY_MAX	(16 * 1024 * 1024)
#define HTTP_CLIENT_TIMEOUT_MS	30000
/* Idle connections older than this are closed rather than reused, so we
 * do not race a server closing them (vnsm servers wait 30 s). */
#define HTTP_CLIENT_IDLE_US	(15 * 1000000ull)
#define HTTP_PEER_MAX		300	/* "host:port" */
#define HTTP_KEY_MAX		(HTTP_PEER_MAX + TLS_NAME_MAX + 16)

struct http_conn {
	struct http_conn *prev, *next;	/* the client's list */
	struct http_client *c;		/* owner */
	struct evhttp_connection *evcon; /* owned */
	char key[HTTP_KEY_MAX];		/* peer, expected name and role */
	int busy;			/* 1 while a request is on it */
	int dead;			/* closed or failed: free, never reuse */
	unsigned nreq;			/* requests started on it */
	uint64_t idle_since;		/* now_us() when it became idle */
};

struct http_pending {
	struct http_pending *prev, *next; /* the client's list */
	struct http_client *c;
	struct http_conn *conn;		/* carrying it */
	struct http_call call;		/* copy; strings below */
	char peer[HTTP_PEER_MAX];
	char host[HTTP_PEER_MAX];	/* without brackets */
	int port;
	char expect_name[TLS_NAME_MAX + 1];
	char *path;			/* owned copy */
	char *ctype;			/* owned copy */
	void *body;			/* owned copy */
	int timeout_ms;			/* > 0 */
	int error;			/* evhttp_request_error, or -1 */
	int sys_errno;			/* errno at the failure */
	int retried;			/* 1 after one retry */
	uint64_t t0_us;			/* when called */
	uint64_t t1_us;			/* when sent (last try) */
	void (*done)(struct http_response *, void *);
	void *arg;
};

struct http_client {
	struct event_base *base;	/* owned when own_base */
	int own_base;			/* made by http_client_new(NULL) */
	struct tls_ctx *tls;		/* owned */
	size_t body_max;		/* response bodies, bytes */
	int timeout_ms;			/* default per call */
	struct http_conn *conns;	/* every open connection */
	struct http_pending *pending;	/* calls not answered yet */
};

/* Doubly linked lists without sys/queue.h (which cppcheck cannot read). */
#define LIST_PUSH(head, e) do {						\
	(e)->prev = NULL;						\
	(e)->next = (head);						\
	if ((head) != NULL)						\
		(head)->prev = (e);					\
	(head) = (e);							\
} while (0)
#define LIST_UNLINK(head, e) do {					\
	if ((e)->prev != NULL)						\
		(e)->prev->next = (e)->next;				\
	else								\
		(head) = (e)->next;					\
	if ((e)->next != NULL)						\
		(e)->next->prev = (e)->prev;				\
} while (0)

static int http_client_start(struct http_pending *p);

/*
 * Split "host:port" / "[v6]:port" into host and port.  0, or -1 with an
 * error recorded.
 */
static int
http_split_peer(const char *peer, char *host, size_t hostsize, int *port)
{
	const char *colon;
	char *end;
	long n;
	size_t hlen;

	if (peer[0] == '[') {
		const char *rb = strchr(peer, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		hlen = (size_t)(rb - peer - 1);
		peer++;
		colon = rb + 1;
	} else {
		if ((colon = strrchr(peer, ':')) == NULL ||
		    strchr(peer, ':') != colon)
			goto bad;
		hlen = (size_t)(colon - peer);
	}
	if (hlen == 0 || hlen >= hostsize)
		goto bad;
	memcpy(host, peer, hlen);
	host[hlen] = '\0';
	errno = 0;
	n = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > 65535)
		goto bad;
	*port = (int)n;
	return 0;
bad:
	return err_set(ERR_USAGE, "peer '%s' is not HOST:PORT or [ADDR]:PORT",
	    peer);
}

struct http_client *
http_client_new(struct event_base *base, const struct http_client_conf *conf)
{
	struct http_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_nomem();
		return NULL;
	}
	c->body_max = conf->body_max > 0 ? conf->body_max :
	    HTTP_CLIENT_BODY_MAX;
	c->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms :
	    HTTP_CLIENT_TIMEOUT_MS;
	if (base == NULL) {
		if ((base = event_base_new()) == NULL) {
			free(c);
			err_nomem();
			return NULL;
		}
		c->own_base = 1;
	}
	c->base = base;
	if ((c->tls = tls_client_ctx_new(&conf->tls)) == NULL) {
		http_client_free(c);
		return NULL;
	}
	return c;
}

static void
http_conn_free(struct http_conn *conn)
{
	LIST_UNLINK(conn->c->conns, conn);
	evhttp_connection_free(conn->evcon);
	free(conn);
}

static void
http_pending_free(struct http_pending *p)
{
	LIST_UNLINK(p->c->pending, p);
	free(p->path);
	free(p->ctype);
	free(p->body);
	free(p);
}

void
http_client_free(struct http_client *c)
{
	struct http_conn *conn;
	struct http_pending *p;

	if (c == NULL)
		return;
	/* Freeing a connection drops its requests without callbacks. */
	while ((conn = c->conns) != NULL)
		http_conn_free(conn);
	while ((p = c->pending) != NULL)
		http_pending_free(p);
	tls_ctx_free(c->tls);
	if (c->own_base) {
		/* Let deferred frees of TLS connections finish. */
		event_base_loop(c->base, EVLOOP_NONBLOCK);
		event_base_free(c->base);
	}
	free(c);
}

/* The peer closed (or evhttp is resetting) the connection. */
static void
http_conn_closecb(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn *conn = arg;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);

	conn->dead = 1;
	if (bev != NULL)
		tls_close_notify(bev);
}

/* Free the connections that are closed, or idle for too long. */
static void
http_client_sweep(struct http_client *c)
{
	struct http_conn *conn, *next;
	uint64_t now = now_us();

	for (conn = c->conns; conn != NULL; conn = next) {
		next = conn->next;
		if (!conn->busy && (conn->dead ||
		    now - conn->idle_since > HTTP_CLIENT_IDLE_US))
			http_conn_free(conn);
	}
}

/*
 * An idle open connection for p's peer, or a new one; NULL with an error
 * recorded.
 */
static struct http_conn *
http_conn_get(struct http_client *c, struct http_pending *p)
{
	char key[HTTP_KEY_MAX];
	struct http_conn *conn;
	struct bufferevent *bev;

	snprintf(key, sizeof(key), "%s|%s|%d", p->peer, p->expect_name,
	    p->call.expect_role);
	for (conn = c->conns; conn != NULL; conn = conn->next)
		if (!conn->busy && !conn->dead && strcmp(conn->key, key) == 0)
			return conn;
	if ((conn = calloc(1, sizeof(*conn))) == NULL) {
		err_nomem();
		return NULL;
	}
	conn->c = c;
	str_lcpy(conn->key, key, sizeof(conn->key));
	bev = tls_client_bev(c->tls, c->base, p->host,
	    p->expect_name[0] != '\0' ? p->expect_name : NULL,
	    p->call.expect_role);
	if (bev == NULL) {
		free(conn);
		return NULL;
	}
	conn->evcon = evhttp_connection_base_bufferevent_new(c->base, NULL,
	    bev, p->host, (unsigned short)p->port);
	if (conn->evcon == NULL) {
		bufferevent_free(bev);
		free(conn);
		err_set(ERR_PEER, "%s: cannot make a connection", p->peer);
		return NULL;
	}
	evhttp_connection_set_retries(conn->evcon, 0);
	/*
	 * A server that refuses our certificate sends an alert and closes;
	 * if our request hits the closed socket first, read anyway so that
	 * we learn why (the alert) instead of "broken pipe".
	 */
	evhttp_connection_set_flags(conn->evcon,
	    EVHTTP_CON_READ_ON_WRITE_ERROR);
	evhttp_connection_set_max_body_size(conn->evcon,
	    (ev_ssize_t)c->body_max);
	evhttp_connection_set_closecb(conn->evcon, http_conn_closecb, conn);
	LIST_PUSH(c->conns, conn);
	return conn;
}

/*
 * Keep at most HTTP_CLIENT_CONNS idle connections per peer: one more
 * than that (after a burst of parallel calls) is marked for the next
 * sweep.
 */
static void
http_conn_limit_idle(struct http_conn *conn)
{
	const struct http_conn *o;
	int idle = 0;

	for (o = conn->c->conns; o != NULL; o = o->next)
		if (!o->busy && !o->dead && strcmp(o->key, conn->key) == 0)
			idle++;
	if (idle > HTTP_CLIENT_CONNS)
		conn->dead = 1;
}

static void
http_client_errorcb(enum evhttp_request_error error, void *arg)
{
	struct http_pending *p = arg;

	p->error = (int)error;
	p->sys_errno = errno;
}

/*
 * Fill e directly: a failed call is reported in its response (and, for
 * http_call(), pushed to the caller's error list), without touching the
 * error list of the loop's thread.
 */
static void __attribute__((format(printf, 3, 4)))
http_err_fill(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	memset(e, 0, sizeof(*e));
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* Fill resp->err for a call that got no answer. */
static void
http_client_failure(struct http_pending *p, struct http_response *resp)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(
	    p->conn->evcon);
	struct err *e = &resp->err;
	char why[256];
	int auth = 0;

	why[0] = '\0';
	if (bev != NULL)
		tls_failure(bev, p->conn->nreq == 1, why, sizeof(why), &auth);
	/*
	 * evhttp 2.1 reports a failure before the TLS handshake is done
	 * (refused, or no answer) without saying which; time tells.
	 */
	if (p->error == -1 && !auth && now_us() - p->t1_us + 20000 >=
	    (uint64_t)p->timeout_ms * 1000)
		p->error = EVREQ_HTTP_TIMEOUT;
	if (p->error == EVREQ_HTTP_TIMEOUT)
		http_err_fill(e, ERR_TIMEOUT, "%s: no answer to %s %s within "
		    "%d ms", p->peer, p->call.method, p->path, p->timeout_ms);
	else if (auth) {
		http_err_fill(e, ERR_UNAUTHENTICATED, "%s: TLS refused: %s",
		    p->peer, why);
		str_lcpy(e->hint, "check that both certificates come from the "
		    "same CA, and the server's name and role", sizeof(e->hint));
	} else if (p->error == EVREQ_HTTP_DATA_TOO_LONG)
		http_err_fill(e, ERR_PEER, "%s: answer to %s %s is over %zu "
		    "bytes", p->peer, p->call.method, p->path, p->c->body_max);
	else if (why[0] != '\0')
		http_err_fill(e, ERR_PEER, "%s: %s %s failed: %s", p->peer,
		    p->call.method, p->path, why);
	else if (p->sys_errno != 0)
		http_err_fill(e, ERR_PEER, "%s: %s %s failed: %s", p->peer,
		    p->call.method, p->path, strerror(p->sys_errno));
	else
		http_err_fill(e, ERR_PEER, "%s: connection closed before an "
		    "answer to %s %s", p->peer, p->call.method, p->path);
}

static void
http_client_donecb(struct evhttp_request *ev, void *arg)
{
	struct http_pending *p = arg;
	struct http_conn *conn = p->conn;
	struct http_response resp;
	struct evbuffer *in;
	const char *ct;
	size_t len;

	memset(&resp, 0, sizeof(resp));
	conn->busy = 0;
	conn->idle_since = now_us();
	http_conn_limit_idle(conn);
	if (ev == NULL || evhttp_request_get_response_code(ev) == 0) {
		conn->dead = 1;
		/*
		 * A reused connection the server had just closed: try once
		 * more on a new one, if the method is safe to repeat.
		 */
		if (conn->nreq > 1 && !p->retried &&
		    p->error != EVREQ_HTTP_TIMEOUT &&
		    strcmp(p->call.method, "POST") != 0) {
			p->retried = 1;
			p->error = -1;
			if (http_client_start(p) == 0)
				return;
		}
		http_client_failure(p, &resp);
	} else {
		resp.status = evhttp_request_get_response_code(ev);
		in = evhttp_request_get_input_buffer(ev);
		len = evbuffer_get_length(in);
		if ((resp.body = malloc(len + 1)) == NULL) {
			resp.status = 0;
			http_err_fill(&resp.err, ERR_NOMEM, "out of memory");
		} else {
			evbuffer_remove(in, resp.body, len);
			resp.body[len] = '\0';
			resp.len = len;
		}
		ct = evhttp_find_header(evhttp_request_get_input_headers(ev),
		    "Content-Type");
		if (ct != NULL)
			str_lcpy(resp.ctype, ct, sizeof(resp.ctype));
		ct = evhttp_find_header(evhttp_request_get_input_headers(ev),
		    "X-Exit-Status");
		if (ct != NULL)
			str_lcpy(resp.exit_status, ct,
			    sizeof(resp.exit_status));
	}
	resp.ms = (double)(now_us() - p->t0_us) / 1000.0;
	p->done(&resp, p->arg);
	free(resp.body);
	http_pending_free(p);
}

static int
http_method_cmd(const char *m, enum evhttp_cmd_type *cmd)
{
	if (strcmp(m, "GET") == 0)
		*cmd = EVHTTP_REQ_GET;
	else if (strcmp(m, "POST") == 0)
		*cmd = EVHTTP_REQ_POST;
	else if (strcmp(m, "PUT") == 0)
		*cmd = EVHTTP_REQ_PUT;
	else if (strcmp(m, "DELETE") == 0)
		*cmd = EVHTTP_REQ_DELETE;
	else if (strcmp(m, "HEAD") == 0)
		*cmd = EVHTTP_REQ_HEAD;
	else
		return err_set(ERR_USAGE, "unknown HTTP method '%s'", m);
	return 0;
}

/* Put p on a connection and send it.  0, or -1 with an error recorded. */
static int
http_client_start(struct http_pending *p)
{
	struct http_client *c = p->c;
	struct evhttp_request *ev;
	struct evkeyvalq *h;
	enum evhttp_cmd_type cmd = EVHTTP_REQ_GET;
	struct timeval tv;

	if (http_method_cmd(p->call.method, &cmd) == -1)
		return -1;
	http_client_sweep(c);
	if ((p->conn = http_conn_get(c, p)) == NULL)
		return -1;
	if ((ev = evhttp_request_new(http_client_donecb, p)) == NULL)
		return err_nomem();
	evhttp_request_set_error_cb(ev, http_client_errorcb);
	h = evhttp_request_get_output_headers(ev);
	evhttp_add_header(h, "Host", p->host);
	if (p->call.len > 0) {
		evhttp_add_header(h, "Content-Type", p->ctype);
		evbuffer_add(evhttp_request_get_output_buffer(ev), p->body,
		    p->call.len);
	}
	tv.tv_sec = p->timeout_ms / 1000;
	tv.tv_usec = (p->timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(p->conn->evcon, &tv);
	p->error = -1;
	p->sys_errno = 0;
	p->t1_us = now_us();
	p->conn->busy = 1;
	p->conn->nreq++;
	if (evhttp_make_request(p->conn->evcon, ev, cmd, p->path) == -1) {
		p->conn->busy = 0;
		p->conn->dead = 1;
		return err_set(ERR_PEER, "%s: cannot send %s %s", p->peer,
		    p->call.method, p->path);
	}
	return 0;
}

int
http_call_async(struct http_client *c, const struct http_call *call,
    void (*done)(struct http_response *resp, void *arg), void *arg)
{
	struct http_pending *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return err_nomem();
	p->c = c;
	LIST_PUSH(c->pending, p);
	p->call = *call;
	p->done = done;
	p->arg = arg;
	p->t0_us = now_us();
	p->timeout_ms = call->timeout_ms > 0 ? call->timeout_ms :
	    c->timeout_ms;
	if (strlen(call->peer) >= sizeof(p->peer)) {
		err_set(ERR_USAGE, "peer name is too long");
		goto fail;
	}
	str_lcpy(p->peer, call->peer, sizeof(p->peer));
	if (call->expect_name != NULL)
		str_lcpy(p->expect_name, call->expect_name,
		    sizeof(p->expect_name));
	if (http_split_peer(p->peer, p->host, sizeof(p->host), &p->port) == -1)
		goto fail;
	if (call->path == NULL || call->path[0] != '/') {
		err_set(ERR_USAGE, "request path must start with '/'");
		goto fail;
	}
	if ((p->path = strdup(call->path)) == NULL ||
	    (p->ctype = strdup(call->ctype != NULL ? call->ctype :
	    HTTP_CTYPE_XML)) == NULL ||
	    (call->len > 0 && (p->body = malloc(call->len)) == NULL)) {
		err_nomem();
		goto fail;
	}
	if (call->len > 0)
		memcpy(p->body, call->body, call->len);
	if (http_client_start(p) == -1)
		goto fail;
	return 0;
fail:
	http_pending_free(p);
	return -1;
}

struct http_sync {
	struct http_response *resp;	/* the caller's */
	int done;			/* 1 once answered or failed */
};

static void
http_sync_done(struct http_response *resp, void *arg)
{
	struct http_sync *s = arg;

	*s->resp = *resp;
	resp->body = NULL;	/* taken */
	s->done = 1;
}

int
http_call(struct http_client *c, const struct http_call *call,
    struct http_response *resp)
{
	struct http_sync s = { resp, 0 };

	memset(resp, 0, sizeof(*resp));
	if (!c->own_base)
		return err_set(ERR_INTERNAL, "http_call() on a shared loop");
	if (http_call_async(c, call, http_sync_done, &s) == -1) {
		resp->err = *err_last();
		return -1;
	}
	while (!s.done)
		if (event_base_loop(c->base, EVLOOP_ONCE) == -1) {
			err_set(ERR_INTERNAL, "event loop failed");
			resp->err = *err_last();
			return -1;
		}
	if (resp->status == 0) {
		err_push(&resp->err);
		return -1;
	}
	return 0;
}

void
http_response_clear(struct http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}
