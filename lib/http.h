/*
 * HTTP/1.1 over mutual TLS (libevent evhttp), server and client.
 *
 * Server: listens on one address, requires and verifies a client
 * certificate during the TLS handshake (so a peer without one never
 * reaches HTTP parsing, let alone a handler), then dispatches each
 * request by method and path prefix to a handler that sees the peer's
 * verified identity.  Limits: see struct http_limits.
 *
 * Client: one struct per event loop; keeps up to HTTP_CLIENT_CONNS
 * connections per peer open for reuse; verifies the server's certificate
 * (CA, name, optionally CN and role).  http_call() blocks (for tools),
 * http_call_async() calls back on the loop (for daemons).
 *
 * Every process that uses this ignores SIGPIPE (tls.c does so once).
 */
#ifndef VNSM_HTTP_H
#define VNSM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "tls.h"

struct event_base;
struct evhttp_request;
struct metrics;

#define HTTP_CTYPE_XML	"application/xml"
#define HTTP_CTYPE_TEXT	"text/plain; charset=utf-8"

/* Limits on what an authenticated peer may send before a handler runs. */
struct http_limits {
	size_t header_max;	/* request line + headers, bytes; 0: 8 KiB */
	size_t body_max;	/* request body, bytes; 0: 1 MiB */
	int timeout_s;		/* handshake, read, write and idle; 0: 30 */
};

struct http_server_conf {
	const char *listen;	/* "ADDR:PORT", "[V6ADDR]:PORT", "*:PORT";
				   port 0 picks a free one */
	struct tls_conf tls;
	struct http_limits limits;
	struct metrics *metrics; /* NULL, or where request counts go */
};

/*
 * One request, valid from the handler call until the reply.  Strings
 * are NUL-terminated and owned by the request.
 */
struct http_request {
	struct evhttp_request *ev;	/* libevent's request */
	struct http_server *srv;	/* the server it came to */
	struct tls_peer peer;		/* verified identity of the sender */
	const char *method;		/* "GET", "POST", "PUT", "DELETE" */
	char *path;			/* decoded path, no query, never NULL */
	char *query;			/* raw query after '?', or NULL */
	char *body;			/* body + NUL; "" when none */
	size_t body_len;		/* bytes, <= limits.body_max */
	uint64_t t0_us;			/* when dispatched, now_us() */
};

/*
 * A handler answers exactly once, with http_reply() or
 * http_reply_error(), either before it returns or later on the same
 * event loop (then it keeps req until it replies).
 */
/* http_server.c */

/*
 * Bind, listen (TCP_NODELAY) and serve on base.  Returns NULL with an
 * error recorded (bad address, TLS files, port in use).  Free with
 * http_server_free(), which closes every connection.
 */
struct http_server *http_server_new(struct event_base *base,
    const struct http_server_conf *conf);
void http_server_free(struct http_server *srv);
/* The port actually bound (useful after asking for port 0). */
int http_server_port(const struct http_server *srv);
/* Re-read the CRL (SIGHUP). 0, or -1 with an error recorded. */
int http_server_reload_crl(struct http_server *srv);

/*
 * Send requests with this method (NULL: any) whose path is prefix or
 * lies under it ("/vnet" matches "/vnet" and "/vnet/x", not "/vnets")
 * from peers whose role is in roles (TLS_ROLE_BIT()s; TLS_ROLE_ANY) to
 * fn.  The longest matching prefix wins.  Other peers get 403, unmatched
 * paths 404.  Returns 0, or -1 with an error recorded.
 */
int http_server_route(struct http_server *srv, const char *method,
    const char *prefix, unsigned roles,
    void (*fn)(struct http_request *req, void *arg), void *arg);

/*
 * Answer req with status, a Content-Type and body (len bytes; may be
 * NULL when len is 0), and free req.
 */
void http_reply(struct http_request *req, int status, const char *ctype,
    const void *body, size_t len);
/* Add a response header (e.g. X-Exit-Status) before http_reply(). */
void http_add_header(struct http_request *req, const char *name,
    const char *value);
/* A request header's value, or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* The reason phrase for a status ("Not Found"). */
const char *http_status_text(int status);

/* http_error.c */

/*
 * Answer req with the thread's last recorded error (err_last()) as an
 * <error xmlns="urn:vnsm:1"> document, status err_http_status() of its
 * code; an internal error when none is recorded.  Frees req.
 */
void http_reply_error(struct http_request *req);
/*
 * The <error> document for e, NUL-terminated, in a buffer the caller
 * frees; *len gets its length.  NULL when out of memory.
 */
char *http_error_body(const struct err *e, size_t *len);

/* http_client.c */

#define HTTP_CLIENT_CONNS	4	/* open connections kept per peer */

struct http_client_conf {
	struct tls_conf tls;
	size_t body_max;	/* largest response body; 0: 16 MiB */
	int timeout_ms;		/* default per call; 0: 30000 */
};

struct http_client;

/* One call to a peer. */
struct http_call {
	const char *peer;	/* "HOST:PORT", "[V6]:PORT"; the certificate
				   must name HOST (DNS or IP SAN) */
	const char *expect_name; /* CN the server must have, or NULL */
	int expect_role;	/* role it must have (enum tls_role), or -1 */
	const char *method;	/* "GET", "POST", "PUT", "DELETE" */
	const char *path;	/* "/vnet/x?y=1", already escaped */
	const char *ctype;	/* of body; NULL: HTTP_CTYPE_XML */
	const void *body;	/* may be NULL */
	size_t len;		/* of body, bytes */
	int timeout_ms;		/* 0: the client's default */
};

/* What came back.  On failure status is 0 and err says why. */
struct http_response {
	int status;		/* HTTP status, or 0 when no answer */
	char *body;		/* body + NUL, owned; "" or NULL if none */
	size_t len;		/* of body, bytes */
	char ctype[128];	/* Content-Type, "" if none */
	char exit_status[16];	/* X-Exit-Status header (exec calls), ""
				   if none */
	struct err err;		/* status 0: ERR_PEER, ERR_TIMEOUT, or
				   ERR_UNAUTHENTICATED, naming the peer */
	double ms;		/* from call to answer */
};

/*
 * A client on base (for http_call_async), or with a private loop when
 * base is NULL (for http_call).  NULL with an error recorded.
 */
struct http_client *http_client_new(struct event_base *base,
    const struct http_client_conf *conf);
/* Close every connection (close_notify) and free.  NULL is a no-op. */
void http_client_free(struct http_client *c);

/*
 * Make a call and wait for its answer; only for a client made with a
 * NULL base.  Returns 0 when an HTTP answer came (any status; see
 * resp->status), or -1 when none did, with resp->err set and the same
 * error recorded.  Release resp with http_response_clear().
 */
int http_call(struct http_client *c, const struct http_call *call,
    struct http_response *resp);

/*
 * Start a call; done(resp, arg) runs later on the client's loop, exactly
 * once, also on failure (resp->status 0).  resp is valid only during
 * done; done may take resp->body (set it to NULL).  Returns 0, or -1
 * with an error recorded if the call could not even start (then done
 * will not run).
 */
int http_call_async(struct http_client *c, const struct http_call *call,
    void (*done)(struct http_response *resp, void *arg), void *arg);

void http_response_clear(struct http_response *resp);

#endif
