/*
 * TLS for the vnsm transport: every OpenSSL call lives in tls.c, so the
 * HTTP server and client (and everything above them) never touch OpenSSL.
 *
 * Identity: every principal holds a certificate from its operator's CA
 * (see docs/certificates.md).  The subject CN names the principal
 * ("alice", "pip1-node3"); the subject OU is its role, one of
 * tls_role.  A peer certificate without a CN or without a known role is
 * refused during the handshake, as is one that does not chain to our CA
 * or is on our CRL.  Both sides verify: servers require a client
 * certificate; clients check the server's name (DNS or IP SAN) and,
 * when asked, its CN and role.
 */
#ifndef VNSM_TLS_H
#define VNSM_TLS_H

#include <stddef.h>

#include "util.h"

struct bufferevent;
struct event_base;

enum tls_role {
	TLS_ROLE_PIPD,
	TLS_ROLE_SUBSTRATED,
	TLS_ROLE_VNPD,
	TLS_ROLE_VNO,
	TLS_ROLE_SUBSCRIBER,
	TLS_ROLE_LAST
};
ENUM_DECL(tls_role);

/* A bit per role, for route and peer filters. */
#define TLS_ROLE_BIT(r)	(1u << (r))
#define TLS_ROLE_ANY	((1u << TLS_ROLE_LAST) - 1)

#define TLS_NAME_MAX	64	/* RFC 5280 ub-common-name, plus NUL */

/* The verified identity of a peer. */
struct tls_peer {
	char name[TLS_NAME_MAX + 1];	/* subject CN, never "" */
	enum tls_role role;		/* from the subject OU */
	char serial[72];		/* certificate serial, hex */
};

/* Where our keys are; all PEM files.  crl_file may be NULL. */
struct tls_conf {
	const char *ca_file;	/* CA certificate(s) peers must chain to */
	const char *cert_file;	/* our certificate (chain) */
	const char *key_file;	/* our private key */
	const char *crl_file;	/* revoked certificates; NULL: none checked */
};

struct tls_ctx;

/*
 * Make a server or client context: TLS 1.2 and up, our certificate and
 * key (checked to match), peer verification against ca_file (and
 * crl_file).  Returns NULL after recording an error that names the file
 * at fault.  Free with tls_ctx_free().
 */
struct tls_ctx *tls_server_ctx_new(const struct tls_conf *conf);
struct tls_ctx *tls_client_ctx_new(const struct tls_conf *conf);
void tls_ctx_free(struct tls_ctx *ctx);

/*
 * Re-read the CRL of a context (on SIGHUP); later handshakes use it.
 * Returns 0, or -1 with an error recorded (the old CRL stays).
 */
int tls_ctx_reload_crl(struct tls_ctx *ctx);

/*
 * A bufferevent for one connection: server side accepting, on no socket
 * yet (evhttp sets it); client side connecting to host, checking the
 * server's certificate names host (an IP literal must be an IP SAN, a
 * name a DNS SAN), and, when not NULL / not -1, that its CN is
 * expect_name and its role expect_role.  NULL on failure, with an error
 * recorded.  The bufferevent owns the TLS state and the socket.
 */
struct bufferevent *tls_server_bev(struct tls_ctx *ctx,
    struct event_base *base);
struct bufferevent *tls_client_bev(struct tls_ctx *ctx,
    struct event_base *base, const char *host, const char *expect_name,
    int expect_role);

/* The verified identity of the peer on bev; 0, or -1 if none (yet). */
int tls_peer_of(struct bufferevent *bev, struct tls_peer *peer);

/* Send close_notify on bev, once, without blocking. */
void tls_close_notify(struct bufferevent *bev);

/*
 * Describe why TLS failed on bev (our verdict on the peer's
 * certificate, the alert the peer sent, the OpenSSL errors of that
 * connection) into buf, "" when TLS saw nothing wrong; returns buf.
 * fresh: no answer ever came on this connection.  Sets *auth to 1 when
 * the failure is about certificates (ours or the peer's), 0 otherwise.
 */
char *tls_failure(struct bufferevent *bev, int fresh, char *buf,
    size_t size, int *auth);

#endif
