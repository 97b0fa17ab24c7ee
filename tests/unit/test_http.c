/*
 * The HTTPS transport end to end on 127.0.0.1: a real server on an
 * ephemeral port in a thread, real clients, throwaway certificates made
 * by scripts/vnsm-ca in a temporary directory.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

#include "errdoc.h"
#include "http.h"
#include "metrics.h"

static char dir[64];		/* certificates */
static char path_buf[16][160];	/* file names, see F() */
static int path_n;

/* A file in the certificate directory (a few live at once). */
static const char *
F(const char *name)
{
	char *p = path_buf[path_n++ % 16];

	snprintf(p, sizeof(path_buf[0]), "%s/%s", dir, name);
	return p;
}

static void
run(const char *cmd)
{
	char full[1024];

	snprintf(full, sizeof(full), "%s >/dev/null", cmd);
	if (system(full) != 0) {
		fprintf(stderr, "failed: %s\n", cmd);
		exit(1);
	}
}

/* Make two CAs and the certificates every test uses. */
static void
make_certs(void)
{
	char cmd[512];

	str_lcpy(dir, "/tmp/vnsm-test-http.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		exit(1);
	snprintf(cmd, sizeof(cmd), "sh scripts/vnsm-ca init %s/ca", dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "sh scripts/vnsm-ca init %s/other", dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "sh scripts/vnsm-ca issue %s/ca --role "
	    "substrated --name node1 --san IP:127.0.0.1", dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "sh scripts/vnsm-ca issue %s/ca --role "
	    "pipd --name pip1 --key ed25519", dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "sh scripts/vnsm-ca issue %s/ca --role "
	    "vno --name alice", dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "sh scripts/vnsm-ca issue %s/ca --role "
	    "pipd --name gone", dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "sh scripts/vnsm-ca revoke %s/ca gone", dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "sh scripts/vnsm-ca issue %s/other --role "
	    "pipd --name pip1", dir);
	run(cmd);
}

static void
remove_certs(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	run(cmd);
}

/* The server under test, in its own thread and loop. */
static struct event_base *srv_base;
static struct http_server *srv;
static struct metrics *srv_metrics;
static pthread_t srv_thread;
static struct event *srv_stop;	/* activated to end the server loop */
static int srv_port;
static atomic_int handled;	/* handler calls */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen_name[80];	/* identity the last handler saw */
static int seen_role = -1;
static void *seen_conns[64];	/* distinct evhttp connections seen */
static int nseen_conns;

static void
h_hello(struct http_request *req, void *arg)
{
	char body[160];
	void *conn = evhttp_request_get_connection(req->ev);
	int known = 0;

	atomic_fetch_add(&handled, 1);
	pthread_mutex_lock(&seen_lock);
	str_lcpy(seen_name, req->peer.name, sizeof(seen_name));
	seen_role = (int)req->peer.role;
	for (int i = 0; i < nseen_conns; i++)
		known |= seen_conns[i] == conn;
	if (!known && nseen_conns < 64)
		seen_conns[nseen_conns++] = conn;
	pthread_mutex_unlock(&seen_lock);
	snprintf(body, sizeof(body), "%s %s %s %zu",
	    tls_role_to_string(req->peer.role), req->peer.name, req->path,
	    req->body_len);
	http_reply(req, 200, HTTP_CTYPE_TEXT, body, strlen(body));
}

static void
h_refuse(struct http_request *req, void *arg)
{
	atomic_fetch_add(&handled, 1);
	err_set(ERR_NO_RESOURCES, "not enough memory on node1 for <vm & co>");
	err_shortfall("memory", "MiB", 512, 128);
	err_hint("ask for less memory");
	err_offer("256 MiB");
	http_reply_error(req);
}

static void
srv_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(srv_base);
}

static void *
srv_main(void *arg)
{
	event_base_dispatch(srv_base);
	return NULL;
}

static void
start_server(size_t body_max, int with_crl)
{
	struct http_server_conf conf = {
		.listen = "127.0.0.1:0",
		.tls = { F("ca/ca.crt"), F("ca/node1.crt"), F("ca/node1.key"),
		    with_crl ? F("ca/crl.pem") : NULL },
		.limits = { .header_max = 4096, .body_max = body_max,
		    .timeout_s = 5 },
	};

	atomic_store(&handled, 0);
	nseen_conns = 0;
	srv_base = event_base_new();
	ck_assert_ptr_nonnull(srv_base);
	srv_stop = event_new(srv_base, -1, 0, srv_stop_cb, NULL);
	srv_metrics = metrics_new();
	conf.metrics = srv_metrics;
	srv = http_server_new(srv_base, &conf);
	if (srv == NULL)
		err_print(stderr);
	ck_assert_ptr_nonnull(srv);
	srv_port = http_server_port(srv);
	ck_assert_int_gt(srv_port, 0);
	ck_assert_int_eq(http_server_route(srv, "GET", "/hello",
	    TLS_ROLE_ANY, h_hello, NULL), 0);
	ck_assert_int_eq(http_server_route(srv, "POST", "/hello",
	    TLS_ROLE_ANY, h_hello, NULL), 0);
	ck_assert_int_eq(http_server_route(srv, NULL, "/pip",
	    TLS_ROLE_BIT(TLS_ROLE_PIPD), h_hello, NULL), 0);
	ck_assert_int_eq(http_server_route(srv, "GET", "/refuse",
	    TLS_ROLE_ANY, h_refuse, NULL), 0);
	ck_assert_int_eq(http_server_route(srv, "GET", "/metrics",
	    TLS_ROLE_ANY, metrics_handler, srv_metrics), 0);
	ck_assert_int_eq(pthread_create(&srv_thread, NULL, srv_main, NULL),
	    0);
}

static void
stop_server(void)
{
	/* Not loopbreak: it is lost if the loop has not started yet. */
	event_active(srv_stop, 0, 0);
	pthread_join(srv_thread, NULL);
	event_free(srv_stop);
	http_server_free(srv);
	event_base_free(srv_base);
	metrics_free(srv_metrics);
}

static void
setup(void)
{
	start_server(64 * 1024, 1);
}

static struct http_client *
client_as(const char *ca, const char *who, struct event_base *base)
{
	char crt[64], key[64];
	struct http_client_conf conf = { .timeout_ms = 5000 };
	struct http_client *c;

	snprintf(crt, sizeof(crt), "%s.crt", who);
	snprintf(key, sizeof(key), "%s.key", who);
	conf.tls.ca_file = F(ca);
	conf.tls.cert_file = F(crt);
	conf.tls.key_file = F(key);
	c = http_client_new(base, &conf);
	if (c == NULL)
		err_print(stderr);
	ck_assert_ptr_nonnull(c);
	return c;
}

static int
get(struct http_client *c, const char *path, struct http_response *r)
{
	char peer[32];
	struct http_call call = { .peer = peer, .expect_role = -1,
	    .method = "GET", .path = path };

	snprintf(peer, sizeof(peer), "127.0.0.1:%d", srv_port);
	return http_call(c, &call, r);
}

START_TEST(test_identity)
{
	struct http_client *c = client_as("ca/ca.crt", "ca/pip1", NULL);
	struct http_response r;
	char peer[32];
	struct http_call call = { .peer = peer, .expect_name = "node1",
	    .expect_role = TLS_ROLE_SUBSTRATED, .method = "POST",
	    .path = "/hello/x%20y?q=1", .body = "<a/>", .len = 4 };

	snprintf(peer, sizeof(peer), "127.0.0.1:%d", srv_port);
	ck_assert_int_eq(http_call(c, &call, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "pipd pip1 /hello/x y 4");
	ck_assert_str_eq(r.ctype, HTTP_CTYPE_TEXT);
	pthread_mutex_lock(&seen_lock);
	ck_assert_str_eq(seen_name, "pip1");
	ck_assert_int_eq(seen_role, TLS_ROLE_PIPD);
	pthread_mutex_unlock(&seen_lock);
	http_response_clear(&r);

	/* Unknown path: 404 with an <error>. */
	ck_assert_int_eq(get(c, "/nothing", &r), 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert_ptr_nonnull(strstr(r.body, "code=\"not-found\""));
	http_response_clear(&r);
	/* "/hello" does not cover "/helloworld". */
	ck_assert_int_eq(get(c, "/helloworld", &r), 0);
	ck_assert_int_eq(r.status, 404);
	http_response_clear(&r);
	http_client_free(c);
}
END_TEST

START_TEST(test_role_filter)
{
	struct http_client *c = client_as("ca/ca.crt", "ca/alice", NULL);
	struct http_response r;

	ck_assert_int_eq(get(c, "/pip/slices", &r), 0);
	ck_assert_int_eq(r.status, 403);
	ck_assert_ptr_nonnull(strstr(r.body, "code=\"forbidden\""));
	ck_assert_ptr_nonnull(strstr(r.body, "alice"));
	http_response_clear(&r);
	ck_assert_int_eq(get(c, "/hello", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "vno alice /hello 0");
	http_response_clear(&r);
	ck_assert_int_eq(atomic_load(&handled), 1);
	http_client_free(c);
}
END_TEST

START_TEST(test_error_body)
{
	struct http_client *c = client_as("ca/ca.crt", "ca/pip1", NULL);
	struct http_response r;
	struct errdoc *e;

	ck_assert_int_eq(get(c, "/refuse", &r), 0);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(r.ctype, HTTP_CTYPE_XML);
	/* The body is an <error> document a peer can read back exactly. */
	e = errdoc_parse(r.body, r.len, "reply");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->errs[0].code, ERR_NO_RESOURCES);
	ck_assert_str_eq(e->errs[0].msg, "not enough memory on node1 for "
	    "<vm & co>");
	ck_assert_str_eq(e->errs[0].hint, "ask for less memory");
	ck_assert_str_eq(e->errs[0].resource, "memory");
	ck_assert_str_eq(e->errs[0].unit, "MiB");
	ck_assert(e->errs[0].asked == 512 && e->errs[0].avail == 128);
	ck_assert_str_eq(e->errs[0].offer, "256 MiB");
	errdoc_free(e);
	http_response_clear(&r);
	http_client_free(c);
}
END_TEST

/* A TLS client without a certificate, straight on OpenSSL. */
static int
raw_tls_no_cert(int port, char *out, size_t outsize)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	const char *req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	int fd, n = 0;

	SSL_CTX_load_verify_locations(ctx, F("ca/ca.crt"), NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) == 1 && SSL_write(ssl, req, (int)strlen(req)) > 0)
		n = SSL_read(ssl, out, (int)outsize - 1);
	out[n > 0 ? n : 0] = '\0';
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return n;
}

START_TEST(test_refused_before_handler)
{
	struct http_client *c;
	struct http_response r;
	char buf[256];

	/* No certificate at all. */
	ck_assert_int_le(raw_tls_no_cert(srv_port, buf, sizeof(buf)), 0);
	ck_assert_ptr_null(strstr(buf, "HTTP/1.1"));

	/* A certificate from another CA. */
	c = client_as("ca/ca.crt", "other/pip1", NULL);
	err_reset();
	ck_assert_int_eq(get(c, "/hello", &r), -1);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(r.err.code, ERR_UNAUTHENTICATED);
	ck_assert_ptr_nonnull(strstr(r.err.msg, "127.0.0.1:"));
	ck_assert_int_eq(err_last_code(), ERR_UNAUTHENTICATED);
	http_client_free(c);

	/* A revoked certificate (the server reads the CRL). */
	c = client_as("ca/ca.crt", "ca/gone", NULL);
	ck_assert_int_eq(get(c, "/hello", &r), -1);
	ck_assert_int_eq(r.err.code, ERR_UNAUTHENTICATED);
	http_client_free(c);

	/* We refuse a server that is not who we expect, before sending. */
	c = client_as("ca/ca.crt", "ca/pip1", NULL);
	{
		char peer[32];
		struct http_call call = { .peer = peer,
		    .expect_name = "node2", .expect_role = -1,
		    .method = "GET", .path = "/hello" };

		snprintf(peer, sizeof(peer), "127.0.0.1:%d", srv_port);
		ck_assert_int_eq(http_call(c, &call, &r), -1);
		ck_assert_int_eq(r.err.code, ERR_UNAUTHENTICATED);
		ck_assert_ptr_nonnull(strstr(r.err.msg, "expected 'node2'"));
		call.expect_name = NULL;
		call.expect_role = TLS_ROLE_PIPD;
		ck_assert_int_eq(http_call(c, &call, &r), -1);
		ck_assert_int_eq(r.err.code, ERR_UNAUTHENTICATED);
		/* The server's certificate does not name "localhost". */
		snprintf(peer, sizeof(peer), "localhost:%d", srv_port);
		call.expect_role = -1;
		ck_assert_int_eq(http_call(c, &call, &r), -1);
		ck_assert_int_eq(r.err.code, ERR_UNAUTHENTICATED);
	}
	http_client_free(c);
	ck_assert_int_eq(atomic_load(&handled), 0);
}
END_TEST

START_TEST(test_limits)
{
	struct http_client *c = client_as("ca/ca.crt", "ca/pip1", NULL);
	struct http_response r;
	char peer[32];
	size_t big = 2 * 1024 * 1024;
	char *path = malloc(16 * 1024), *body = calloc(1, big);
	struct http_call call = { .peer = peer, .expect_role = -1,
	    .method = "POST", .path = "/hello", .body = body, .len = big };
	double t0;
	int rc;

	snprintf(peer, sizeof(peer), "127.0.0.1:%d", srv_port);
	/* Body over the limit (64 KiB here): 413 or closed, quickly. */
	t0 = now_ms();
	rc = http_call(c, &call, &r);
	ck_assert(rc == -1 || r.status == 413);
	ck_assert_double_lt(now_ms() - t0, 3000);
	http_response_clear(&r);
	/* Header (request line) over the limit (4 KiB here). */
	memset(path, 'a', 16 * 1024 - 1);
	path[0] = '/';
	path[16 * 1024 - 1] = '\0';
	call.method = "GET";
	call.path = path;
	call.body = NULL;
	call.len = 0;
	rc = http_call(c, &call, &r);
	ck_assert(rc == -1 || r.status == 400 || r.status == 413 ||
	    r.status == 431);
	http_response_clear(&r);
	ck_assert_int_eq(atomic_load(&handled), 0);
	/* Just under the body limit still works. */
	call.method = "POST";
	call.path = "/hello";
	call.body = body;
	call.len = 60 * 1024;
	ck_assert_int_eq(http_call(c, &call, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "pipd pip1 /hello 61440");
	http_response_clear(&r);
	free(path);
	free(body);
	http_client_free(c);
}
END_TEST

START_TEST(test_keepalive)
{
	struct http_client *c = client_as("ca/ca.crt", "ca/pip1", NULL);
	struct http_response r;
	int n = 500;
	double t0 = now_ms(), dt;

	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(get(c, "/hello", &r), 0);
		ck_assert_int_eq(r.status, 200);
		http_response_clear(&r);
	}
	dt = now_ms() - t0;
	printf("keep-alive: %d sequential requests in %.0f ms: %.0f req/s\n",
	    n, dt, n * 1000.0 / dt);
	pthread_mutex_lock(&seen_lock);
	ck_assert_int_eq(nseen_conns, 1);
	pthread_mutex_unlock(&seen_lock);

	/* The server's counters saw them. */
	ck_assert_int_eq(get(c, "/metrics", &r), 0);
	ck_assert_ptr_nonnull(strstr(r.body,
	    "vnsm_http_requests_total{code=\"200\"} 500\n"));
	ck_assert_ptr_nonnull(strstr(r.body,
	    "vnsm_http_request_seconds_count 500\n"));
	http_response_clear(&r);
	http_client_free(c);
}
END_TEST

START_TEST(test_new_connections)
{
	int n = 50;
	double t0 = now_ms(), dt;

	for (int i = 0; i < n; i++) {
		struct http_client *c = client_as("ca/ca.crt", "ca/pip1", NULL);
		struct http_response r;

		ck_assert_int_eq(get(c, "/hello", &r), 0);
		ck_assert_int_eq(r.status, 200);
		http_response_clear(&r);
		http_client_free(c);
	}
	dt = now_ms() - t0;
	printf("new connections: %d in %.0f ms: %.0f conn/s\n", n, dt,
	    n * 1000.0 / dt);
}
END_TEST

/* Async fan-out on a shared loop. */
struct fan {
	int left;		/* calls not answered yet */
	int ok;			/* answered 200 */
	struct event_base *base;
};

static void
fan_done(struct http_response *resp, void *arg)
{
	struct fan *f = arg;

	if (resp->status == 200)
		f->ok++;
	if (--f->left == 0)
		event_base_loopbreak(f->base);
}

START_TEST(test_async_fanout)
{
	struct event_base *base = event_base_new();
	struct http_client *c = client_as("ca/ca.crt", "ca/pip1", base);
	struct fan f = { 20, 0, base };
	char peer[32];
	struct http_call call = { .peer = peer, .expect_role = -1,
	    .method = "GET", .path = "/hello" };

	snprintf(peer, sizeof(peer), "127.0.0.1:%d", srv_port);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(http_call_async(c, &call, fan_done, &f), 0);
	event_base_dispatch(base);
	ck_assert_int_eq(f.ok, 20);
	/* A second round reuses the HTTP_CLIENT_CONNS kept open. */
	f.left = 20;
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(http_call_async(c, &call, fan_done, &f), 0);
	event_base_dispatch(base);
	ck_assert_int_eq(f.ok, 40);
	pthread_mutex_lock(&seen_lock);
	ck_assert_int_eq(nseen_conns, 40 - HTTP_CLIENT_CONNS);
	pthread_mutex_unlock(&seen_lock);
	http_client_free(c);
	event_base_free(base);
}
END_TEST

START_TEST(test_timeout)
{
	struct http_client_conf conf = { .timeout_ms = 300 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct http_client *c;
	struct http_response r;
	char peer[32];
	struct http_call call = { .peer = peer, .expect_role = -1,
	    .method = "GET", .path = "/hello" };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double t0;

	/* A server that accepts (the kernel does) and never says a word. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	snprintf(peer, sizeof(peer), "127.0.0.1:%d", ntohs(sin.sin_port));
	conf.tls.ca_file = F("ca/ca.crt");
	conf.tls.cert_file = F("ca/pip1.crt");
	conf.tls.key_file = F("ca/pip1.key");
	c = http_client_new(NULL, &conf);
	ck_assert_ptr_nonnull(c);
	t0 = now_ms();
	ck_assert_int_eq(http_call(c, &call, &r), -1);
	ck_assert_int_eq(r.err.code, ERR_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(r.err.msg, peer));
	ck_assert_double_lt(now_ms() - t0, 2000);
	ck_assert_double_ge(now_ms() - t0, 250);

	/* Nobody listening at all: a peer error that says so. */
	close(fd);
	ck_assert_int_eq(http_call(c, &call, &r), -1);
	ck_assert_int_eq(r.err.code, ERR_PEER);
	ck_assert_ptr_nonnull(strstr(r.err.msg, peer));
	http_client_free(c);
}
END_TEST

START_TEST(test_bad_files)
{
	struct http_server_conf conf = { .listen = "127.0.0.1:0",
	    .tls = { F("ca/ca.crt"), F("ca/node1.crt"), F("ca/pip1.key"),
	    NULL } };
	struct event_base *base = event_base_new();

	err_reset();
	ck_assert_ptr_null(http_server_new(base, &conf));
	ck_assert_int_eq(err_last_code(), ERR_USAGE);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "node1.crt"));
	conf.tls.key_file = F("ca/node1.key");
	conf.listen = "127.0.0.1";
	ck_assert_ptr_null(http_server_new(base, &conf));
	conf.listen = "[::1]:0";
	{
		struct http_server *s6 = http_server_new(base, &conf);

		/* Hosts without IPv6 may refuse; with it, it works. */
		if (s6 != NULL)
			ck_assert_int_gt(http_server_port(s6), 0);
		http_server_free(s6);
	}
	event_base_free(base);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("tls");
	SRunner *sr;
	int failed;

	evthread_use_pthreads();
	make_certs();
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, stop_server);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_role_filter);
	tcase_add_test(tc, test_error_body);
	tcase_add_test(tc, test_refused_before_handler);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_keepalive);
	tcase_add_test(tc, test_new_connections);
	tcase_add_test(tc, test_async_fanout);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_bad_files);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_certs();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
