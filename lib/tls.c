/*
 * TLS contexts, per-connection setup and identity extraction: the only
 * file of vnsm that calls OpenSSL.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "tls.h"

ENUM_IMPL(tls_role, TLS_ROLE_LAST,
    "pipd", "substrated", "vnpd", "vno", "subscriber")

/*
 * Before the peer is authenticated it can make us hold only its
 * handshake messages; bound the certificate list it may send (OpenSSL's
 * default is 100 KiB) and the chain depth.
 */
#define TLS_PREAUTH_CERT_LIST	(16 * 1024)	/* bytes */
#define TLS_VERIFY_DEPTH	4		/* CA certificates above a leaf */

struct tls_ctx {
	SSL_CTX *ssl_ctx;	/* owned */
	int server;		/* 1: accepts, requires client certificates */
	char ca_file[512];	/* kept for CRL reloads */
	char crl_file[512];	/* "" when revocation is not checked */
};

/* Per-connection data hung on the SSL object (freed with it). */
struct tls_conn {
	char expect_name[TLS_NAME_MAX + 1];	/* "" = any CN */
	int expect_role;			/* -1 = any role */
	char why[160];		/* why our own verify check refused the peer */
	char alert[96];		/* last fatal alert the peer sent, or "" */
	int alert_auth;		/* 1 when that alert is about certificates */
	int done13;		/* 1 once a TLS 1.3 handshake finished */
};

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static int tls_ex_idx = -1;

static void
tls_conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	free(ptr);
}

/*
 * Once per process: the ex_data slot for struct tls_conn.  A peer that
 * goes away while we write must not kill us with SIGPIPE (OpenSSL writes
 * to the socket with write(2)), so SIGPIPE is ignored here too.
 */
static void
tls_init_once(void)
{
	tls_ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, tls_conn_free);
	signal(SIGPIPE, SIG_IGN);
}

/* Record an OpenSSL failure with the library's own reason appended. */
static int
tls_err(enum err_code code, const char *what, const char *file)
{
	char reason[256];
	unsigned long e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	else
		str_lcpy(reason, "no detail", sizeof(reason));
	ERR_clear_error();
	return err_set(code, "%s %s: %s", what, file != NULL ? file : "",
	    reason);
}

/*
 * Read the subject of cert into peer: exactly one CN (1..64 printable
 * characters) and one OU naming a known role.  Returns 0, or -1 with a
 * reason in why.
 */
static int
tls_identity(X509 *cert, struct tls_peer *peer, char *why, size_t whysize)
{
	X509_NAME *subj = X509_get_subject_name(cert);
	const int nids[2] = { NID_commonName, NID_organizationalUnitName };
	char val[2][TLS_NAME_MAX + 1];
	ASN1_INTEGER *serial;
	BIGNUM *bn;
	char *hex;

	for (int i = 0; i < 2; i++) {
		int at = X509_NAME_get_index_by_NID(subj, nids[i], -1);
		unsigned char *utf8 = NULL;
		int len;

		if (at < 0 || X509_NAME_get_index_by_NID(subj, nids[i], at) >= 0) {
			snprintf(why, whysize, "certificate subject must have "
			    "exactly one %s", i == 0 ? "CN" : "OU (the role)");
			return -1;
		}
		len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, at)));
		if (len <= 0 || len > TLS_NAME_MAX) {
			OPENSSL_free(utf8);
			snprintf(why, whysize, "certificate %s is empty or "
			    "longer than %d bytes", i == 0 ? "CN" : "OU",
			    TLS_NAME_MAX);
			return -1;
		}
		for (int k = 0; k < len; k++)
			if (utf8[k] < 0x20 || utf8[k] == 0x7f) {
				OPENSSL_free(utf8);
				snprintf(why, whysize, "certificate %s has "
				    "control characters", i == 0 ? "CN" : "OU");
				return -1;
			}
		memcpy(val[i], utf8, (size_t)len);
		val[i][len] = '\0';
		OPENSSL_free(utf8);
	}
	if (tls_role_from_string(val[1]) < 0) {
		snprintf(why, whysize, "certificate OU '%s' is not a vnsm role",
		    val[1]);
		return -1;
	}
	str_lcpy(peer->name, val[0], sizeof(peer->name));
	peer->role = (enum tls_role)tls_role_from_string(val[1]);
	peer->serial[0] = '\0';
	serial = X509_get_serialNumber(cert);
	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) != NULL) {
		if ((hex = BN_bn2hex(bn)) != NULL) {
			str_lcpy(peer->serial, hex, sizeof(peer->serial));
			OPENSSL_free(hex);
		}
		BN_free(bn);
	}
	return 0;
}

/*
 * Called by OpenSSL for each certificate of the peer's chain, after its
 * own checks (ok).  On the leaf we add ours: a usable identity, and on
 * the client side the CN and role the caller expects.
 */
static int
tls_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl;
	struct tls_conn *tc;
	struct tls_peer peer;
	char why[160];

	if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	tc = ssl != NULL ? SSL_get_ex_data(ssl, tls_ex_idx) : NULL;
	if (tls_identity(X509_STORE_CTX_get_current_cert(xs), &peer, why,
	    sizeof(why)) == -1)
		goto refuse;
	if (tc != NULL && tc->expect_name[0] != '\0' &&
	    strcmp(tc->expect_name, peer.name) != 0) {
		snprintf(why, sizeof(why), "peer is '%s', expected '%s'",
		    peer.name, tc->expect_name);
		goto refuse;
	}
	if (tc != NULL && tc->expect_role >= 0 &&
	    (int)peer.role != tc->expect_role) {
		snprintf(why, sizeof(why), "peer '%s' has role %s, expected %s",
		    peer.name, tls_role_to_string(peer.role),
		    tls_role_to_string(tc->expect_role));
		goto refuse;
	}
	return 1;
refuse:
	if (tc != NULL)
		str_lcpy(tc->why, why, sizeof(tc->why));
	X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

/* Is this TLS alert (RFC 8446 6.2) about certificates? */
static int
tls_alert_is_auth(int desc)
{
	switch (desc) {
	case 42:	/* bad_certificate */
	case 43:	/* unsupported_certificate */
	case 44:	/* certificate_revoked */
	case 45:	/* certificate_expired */
	case 46:	/* certificate_unknown */
	case 48:	/* unknown_ca */
	case 49:	/* access_denied */
	case 116:	/* certificate_required */
		return 1;
	default:
		return 0;
	}
}

/*
 * Follows every connection's handshake: no Nagle delay on its socket
 * from the first handshake message on (evhttp makes client sockets
 * itself, with no hook to set options), and the alert a peer sends when
 * it refuses us, which libevent does not report.
 */
static void
tls_info_cb(const SSL *ssl, int where, int ret)
{
	struct tls_conn *tc;
	int one = 1, fd;

	if (where & SSL_CB_HANDSHAKE_START) {
		if ((fd = SSL_get_fd(ssl)) >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
	}
	if ((tc = SSL_get_ex_data(ssl, tls_ex_idx)) == NULL)
		return;
	if ((where & SSL_CB_HANDSHAKE_DONE) &&
	    SSL_version(ssl) == TLS1_3_VERSION)
		tc->done13 = 1;
	if ((where & SSL_CB_READ_ALERT) && (ret >> 8) == SSL3_AL_FATAL) {
		snprintf(tc->alert, sizeof(tc->alert), "peer sent alert '%s'",
		    SSL_alert_desc_string_long(ret));
		tc->alert_auth = tls_alert_is_auth(ret & 0xff);
	}
}

/*
 * A fresh certificate store: the CA file, and the CRL file when set
 * (then every chain is checked against it).  Returns NULL with an error
 * recorded.
 */
static X509_STORE *
tls_store_new(const char *ca_file, const char *crl_file)
{
	X509_STORE *st;
	X509_CRL *crl;
	BIO *bio;
	int n = 0;

	if ((st = X509_STORE_new()) == NULL) {
		err_nomem();
		return NULL;
	}
	if (X509_STORE_load_file(st, ca_file) != 1) {
		tls_err(ERR_USAGE, "cannot load CA certificates from", ca_file);
		X509_STORE_free(st);
		return NULL;
	}
	if (crl_file == NULL || crl_file[0] == '\0')
		return st;
	if ((bio = BIO_new_file(crl_file, "r")) == NULL) {
		tls_err(ERR_USAGE, "cannot open CRL", crl_file);
		X509_STORE_free(st);
		return NULL;
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_crl(st, crl);
		X509_CRL_free(crl);
		n++;
	}
	BIO_free(bio);
	ERR_clear_error();
	if (n == 0) {
		err_set(ERR_USAGE, "no CRL in %s", crl_file);
		X509_STORE_free(st);
		return NULL;
	}
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	return st;
}

static struct tls_ctx *
tls_ctx_new(const struct tls_conf *conf, int server)
{
	struct tls_ctx *ctx;
	X509_STORE *st;
	SSL_CTX *c;

	pthread_once(&tls_once, tls_init_once);
	if (conf->ca_file == NULL || conf->cert_file == NULL ||
	    conf->key_file == NULL) {
		err_set(ERR_USAGE, "TLS needs a CA file, a certificate and a key");
		return NULL;
	}
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		err_nomem();
		return NULL;
	}
	ctx->server = server;
	str_lcpy(ctx->ca_file, conf->ca_file, sizeof(ctx->ca_file));
	if (conf->crl_file != NULL)
		str_lcpy(ctx->crl_file, conf->crl_file, sizeof(ctx->crl_file));
	c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if ((ctx->ssl_ctx = c) == NULL) {
		tls_err(ERR_NOMEM, "cannot make a TLS context", NULL);
		goto fail;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	/*
	 * No session resumption: a resumed session skips certificate (and
	 * CRL) checks, and our clients keep connections open instead.
	 */
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(c, 0);
	SSL_CTX_set_max_cert_list(c, TLS_PREAUTH_CERT_LIST);
	SSL_CTX_set_mode(c, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	if (SSL_CTX_use_certificate_chain_file(c, conf->cert_file) != 1) {
		tls_err(ERR_USAGE, "cannot load certificate", conf->cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(c, conf->key_file,
	    SSL_FILETYPE_PEM) != 1) {
		tls_err(ERR_USAGE, "cannot load private key", conf->key_file);
		goto fail;
	}
	if (SSL_CTX_check_private_key(c) != 1) {
		tls_err(ERR_USAGE, "private key does not match certificate",
		    conf->cert_file);
		goto fail;
	}
	if ((st = tls_store_new(conf->ca_file, conf->crl_file)) == NULL)
		goto fail;
	SSL_CTX_set_cert_store(c, st);
	if (server) {
		STACK_OF(X509_NAME) *names;

		if ((names = SSL_load_client_CA_file(conf->ca_file)) != NULL)
			SSL_CTX_set_client_CA_list(c, names);
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tls_verify_cb);
	} else
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER, tls_verify_cb);
	SSL_CTX_set_verify_depth(c, TLS_VERIFY_DEPTH);
	SSL_CTX_set_info_callback(c, tls_info_cb);
	ERR_clear_error();
	return ctx;
fail:
	tls_ctx_free(ctx);
	return NULL;
}

struct tls_ctx *
tls_server_ctx_new(const struct tls_conf *conf)
{
	return tls_ctx_new(conf, 1);
}

struct tls_ctx *
tls_client_ctx_new(const struct tls_conf *conf)
{
	return tls_ctx_new(conf, 0);
}

void
tls_ctx_free(struct tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

int
tls_ctx_reload_crl(struct tls_ctx *ctx)
{
	X509_STORE *st;

	if (ctx->crl_file[0] == '\0')
		return 0;
	if ((st = tls_store_new(ctx->ca_file, ctx->crl_file)) == NULL)
		return -1;
	/* Handshakes run on the event loop's thread, between them. */
	SSL_CTX_set_cert_store(ctx->ssl_ctx, st);
	return 0;
}

/* A new SSL with its struct tls_conn attached; NULL with error recorded. */
static SSL *
tls_ssl_new(struct tls_ctx *ctx, struct tls_conn **tcp)
{
	struct tls_conn *tc;
	SSL *ssl;

	if ((tc = calloc(1, sizeof(*tc))) == NULL) {
		err_nomem();
		return NULL;
	}
	tc->expect_role = -1;
	if ((ssl = SSL_new(ctx->ssl_ctx)) == NULL) {
		free(tc);
		tls_err(ERR_NOMEM, "cannot make a TLS connection", NULL);
		return NULL;
	}
	SSL_set_ex_data(ssl, tls_ex_idx, tc);
	*tcp = tc;
	return ssl;
}

struct bufferevent *
tls_server_bev(struct tls_ctx *ctx, struct event_base *base)
{
	struct bufferevent *bev;
	struct tls_conn *tc;
	SSL *ssl;

	if ((ssl = tls_ssl_new(ctx, &tc)) == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		err_nomem();
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

struct bufferevent *
tls_client_bev(struct tls_ctx *ctx, struct event_base *base,
    const char *host, const char *expect_name, int expect_role)
{
	struct bufferevent *bev;
	struct tls_conn *tc;
	unsigned char addr[16];
	SSL *ssl;
	int ok;

	if ((ssl = tls_ssl_new(ctx, &tc)) == NULL)
		return NULL;
	if (expect_name != NULL)
		str_lcpy(tc->expect_name, expect_name, sizeof(tc->expect_name));
	tc->expect_role = expect_role;
	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	else
		ok = SSL_set1_host(ssl, host) &&
		    SSL_set_tlsext_host_name(ssl, host);
	if (ok != 1) {
		SSL_free(ssl);
		tls_err(ERR_INVALID, "cannot check the server name", host);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		err_nomem();
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

int
tls_peer_of(struct bufferevent *bev, struct tls_peer *peer)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	X509 *cert;
	char why[160];

	if (ssl == NULL || (cert = SSL_get0_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	return tls_identity(cert, peer, why, sizeof(why));
}

void
tls_close_notify(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl == NULL || !SSL_is_init_finished(ssl) ||
	    (SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
		return;
	SSL_shutdown(ssl);
	ERR_clear_error();
}

/* Is this OpenSSL reason about certificates (ours or the peer's)? */
static int
tls_reason_is_auth(int reason)
{
	switch (reason) {
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		return 1;
	default:
		return 0;
	}
}

char *
tls_failure(struct bufferevent *bev, int fresh, char *buf, size_t size,
    int *auth)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	struct tls_conn *tc = ssl != NULL ?
	    SSL_get_ex_data(ssl, tls_ex_idx) : NULL;
	unsigned long e, last = 0;
	long vr;

	*auth = 0;
	if (size == 0)
		return buf;
	buf[0] = '\0';
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		last = e;
	if (ssl != NULL && (vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		*auth = 1;
		if (vr == X509_V_ERR_APPLICATION_VERIFICATION && tc != NULL &&
		    tc->why[0] != '\0')
			snprintf(buf, size, "certificate refused: %s", tc->why);
		else
			snprintf(buf, size, "certificate refused: %s",
			    X509_verify_cert_error_string(vr));
		return buf;
	}
	if (tc != NULL && tc->alert[0] != '\0') {
		*auth = tc->alert_auth;
		str_lcpy(buf, tc->alert, size);
	} else if (last != 0) {
		*auth = tls_reason_is_auth(ERR_GET_REASON(last));
		str_lcpy(buf, "TLS: ", size);
		if (size > 5)
			ERR_error_string_n(last, buf + 5, size - 5);
	} else if (fresh && tc != NULL && tc->done13) {
		/*
		 * In TLS 1.3 a server checks our certificate after our side
		 * of the handshake is done; when it refuses, its alert can
		 * be lost to the reset that follows (libevent reports the
		 * reset, not the alert).  A fresh connection closed at this
		 * point is that, or a server that failed at once.
		 */
		*auth = 1;
		snprintf(buf, size, "the server closed the connection right "
		    "after the TLS handshake: it most likely refused our "
		    "certificate");
	}
	return buf;
}
