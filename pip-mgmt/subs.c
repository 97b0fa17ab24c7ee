/*
 * Homes attaching to their VNet (docs/subscribers.md, docs/api.md).
 *
 * What a home may attach to comes from the slices themselves: a stub
 * that leads to this PIP, ends at a node of kind gateway, and names the
 * subscriber as its peer host is that subscriber's entitlement (vnpd
 * writes it, docs/api.md).  A home proves who it is with its own
 * certificate (role subscriber, CN = the subscriber), with a one-time
 * enrolment token vnpd asked us for (random 256 bits, stored as its
 * SHA-256 only, single use, with an expiry), or with the credential a
 * token attach handed it (the same kind of secret, for later attaches).
 *
 * A claim sets the stub's peer underlay to the home's address and
 * updates the slice on the gateway's agent (only that host slice
 * differs; the agent retargets the tunnel end without touching the
 * gateway).  Claims that arrive while the slice is busy wait and go
 * out together in the next update.  Any refusal before the claim says
 * "refused" and nothing else, the same for unknown, revoked (refused by
 * TLS already), used and expired.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pipd.h"
#include "store.h"

#define SUB_SECRET_BYTES	32	/* tokens and credentials: 256 bits */
#define SUB_HEX			(2 * SUB_SECRET_BYTES + 1)
#define SUB_BODY_MAX		512	/* an attach request, bytes */
#define SUB_TTL_MAX		(30 * 86400)

/* One home waiting for (or in) the update that attaches it. */
struct sub_claim {
	struct http_request *req;	/* answered when done */
	char slice[NAME_LEN];
	char stub[NAME_LEN];
	char sub[NAME_LEN];		/* the subscriber */
	uint32_t underlay;		/* home's end; 0: detach */
	char token[SUB_HEX];		/* hash of the token used, or "" */
	char cred[SUB_HEX];		/* new credential to hand out, or "" */
	uint64_t t0;			/* now_us() when it arrived */
	struct sub_claim *next;
};

static const double claim_buckets[] = { 0.001, 0.002, 0.005, 0.01, 0.02,
	0.05, 0.1, 0.2, 0.5, 1, 2 };

static void h_attach(struct http_request *req, void *arg);

/* Metrics and the subscriber route.  0, or -1 with an error recorded. */
int
subs_init(struct pipd *pd)
{
	if ((pd->m_claim_s = metrics_histogram(pd->m,
	    "pipd_subscriber_claim_seconds", "From a home's attach request to "
	    "its gateway's tunnel end retargeted on the agent", claim_buckets,
	    NELEM(claim_buckets))) == NULL ||
	    (pd->m_attach = metrics_counter(pd->m,
	    "pipd_subscriber_attach_total", "Attach and detach requests by "
	    "result")) == NULL)
		return -1;
	return http_server_route(pd->srv, "POST", "/v1/subscriber",
	    TLS_ROLE_BIT(TLS_ROLE_SUBSCRIBER), h_attach, pd);
}

/* 1 if stub i of s is a home's stub: a gateway's, peer host named. */
int
subs_stub_ok(const struct pipd *pd, const struct slice *s, size_t i)
{
	const struct topo_link *st = &s->stubs[i];
	ssize_t n = topo_node_find(s->nodes, s->nnodes, st->end[0].node);

	return n >= 0 && s->nodes[n].kind == NODE_GATEWAY &&
	    st->peer_host[0] != '\0' && config_host(pd->conf,
	    st->peer_host) < 0;
}

/* The slice and stub index of subscriber sub's entitlement, or NULL. */
static struct pslice *
sub_find(struct pipd *pd, const char *sub, size_t *stub)
{
	for (struct pslice *ps = pd->slices; ps != NULL; ps = ps->next)
		for (size_t i = 0; ps->doc != NULL && i < ps->doc->nstubs; i++)
			if (strcmp(ps->doc->stubs[i].peer_host, sub) == 0 &&
			    strcmp(ps->doc->stubs[i].peer_pip,
			    pd->conf->name) == 0 &&
			    subs_stub_ok(pd, ps->doc, i)) {
				*stub = i;
				return ps;
			}
	return NULL;
}

/* SHA-256 of the hex secret s, as hex, into out[SUB_HEX]. */
static void
sub_hash(const char *s, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) != 1)
		return;
	for (unsigned int i = 0; i < n && 2 * i + 2 < SUB_HEX; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A fresh random secret, hex, into out[SUB_HEX]; -1 if none. */
static int
sub_secret(char *out)
{
	unsigned char r[SUB_SECRET_BYTES];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return err_set(ERR_SYSTEM, "no random bytes for a secret");
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* A well-formed secret: exactly 64 lower-case hex digits. */
static int
sub_secret_ok(const char *s)
{
	if (strlen(s) != 2 * SUB_SECRET_BYTES)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* The one answer every refusal gets. */
static void
sub_refuse(struct pipd *pd, struct http_request *req)
{
	metric_add(pd->m_attach, "result=\"refused\"", 1);
	err_reset();
	err_set(ERR_FORBIDDEN, "refused");
	http_reply_error(req);
}

/*
 * POST /v1/slices/NAME/subscribers/SUB/token?seconds=N from the VNP
 * that owns the slice: a one-time enrolment token for SUB (who must
 * have a gateway stub in this slice).  Answers "token HEX\nexpires
 * EPOCH\n"; only the hash is kept.
 */
void
subs_token(struct pipd *pd, struct http_request *req, struct pslice *ps,
    const char *sub)
{
	char tok[SUB_HEX], hash[SUB_HEX], q[24], body[160], *end;
	struct sqlite3_stmt *s;
	long long secs = 86400;
	size_t i;
	const char *p;

	err_reset();
	if (req->query != NULL && (p = strstr(req->query, "seconds=")) !=
	    NULL) {
		str_lcpy(q, p + strlen("seconds="), sizeof(q));
		q[strcspn(q, "&")] = '\0';
		secs = strtoll(q, &end, 10);
		if (*end != '\0' || secs < 60 || secs > SUB_TTL_MAX) {
			err_set(ERR_INVALID, "seconds '%s': a number from 60 "
			    "to %d", q, SUB_TTL_MAX);
			http_reply_error(req);
			return;
		}
	}
	if (sub_find(pd, sub, &i) != ps) {
		err_set(ERR_NOT_FOUND, "slice '%s' has no gateway for "
		    "subscriber '%s'", ps->name, sub);
		http_reply_error(req);
		return;
	}
	if (sub_secret(tok) == -1) {
		http_reply_error(req);
		return;
	}
	sub_hash(tok, hash);
	if ((s = store_prepare(pd->st, "INSERT INTO sub_tokens (hash, slice, "
	    "subscriber, expires) VALUES (?, ?, ?, ?)")) == NULL ||
	    store_bind_text(pd->st, s, 1, hash) == -1 ||
	    store_bind_text(pd->st, s, 2, ps->name) == -1 ||
	    store_bind_text(pd->st, s, 3, sub) == -1 ||
	    store_bind_int(pd->st, s, 4, pd->clock() + secs) == -1 ||
	    store_step(pd->st, s) == -1) {
		http_reply_error(req);
		return;
	}
	log_info("subscriber %s: enrolment token issued (slice %s, valid %lld "
	    "s)", sub, ps->name, secs);
	snprintf(body, sizeof(body), "token %s\nexpires %lld\n", tok,
	    (long long)(pd->clock() + secs));
	http_reply(req, 200, HTTP_CTYPE_TEXT, body, strlen(body));
}

/* The subscriber of a valid unused token (marked used now), or -1. */
static int
token_take(struct pipd *pd, const char *hash, char *sub)
{
	struct sqlite3_stmt *s;
	int r;

	if ((s = store_prepare(pd->st, "SELECT subscriber FROM sub_tokens "
	    "WHERE hash = ? AND used = 0 AND expires > ?")) == NULL ||
	    store_bind_text(pd->st, s, 1, hash) == -1 ||
	    store_bind_int(pd->st, s, 2, pd->clock()) == -1)
		return -1;
	if ((r = store_step(pd->st, s)) != 1)
		return -1;
	str_lcpy(sub, store_col_text(s, 0), NAME_LEN);
	if ((s = store_prepare(pd->st, "UPDATE sub_tokens SET used = 1 WHERE "
	    "hash = ?")) == NULL || store_bind_text(pd->st, s, 1, hash) == -1 ||
	    store_step(pd->st, s) == -1)
		return -1;
	return 0;
}

/* A failed claim gives its token back (it did not attach anyone). */
static void
token_return(struct pipd *pd, const char *hash)
{
	struct sqlite3_stmt *s;

	if (hash[0] != '\0' && (s = store_prepare(pd->st, "UPDATE sub_tokens "
	    "SET used = 0 WHERE hash = ?")) != NULL &&
	    store_bind_text(pd->st, s, 1, hash) == 0)
		store_step(pd->st, s);
}

/* The subscriber whose credential hashes to hash, or -1. */
static int
cred_find(struct pipd *pd, const char *hash, char *sub)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(pd->st, "SELECT subscriber FROM sub_homes "
	    "WHERE credential = ?")) == NULL ||
	    store_bind_text(pd->st, s, 1, hash) == -1 ||
	    store_step(pd->st, s) != 1)
		return -1;
	str_lcpy(sub, store_col_text(s, 0), NAME_LEN);
	return 0;
}

/* Give the home stubs of doc the underlays of the homes attached. */
void
subs_fill(struct pipd *pd, struct slice *doc)
{
	for (size_t i = 0; i < doc->nstubs; i++) {
		struct sqlite3_stmt *s;

		if (strcmp(doc->stubs[i].peer_pip, pd->conf->name) != 0 ||
		    !subs_stub_ok(pd, doc, i))
			continue;
		if ((s = store_prepare(pd->st, "SELECT underlay FROM sub_homes "
		    "WHERE subscriber = ? AND slice = ?")) != NULL &&
		    store_bind_text(pd->st, s, 1, doc->stubs[i].peer_host) ==
		    0 && store_bind_text(pd->st, s, 2, doc->name) == 0 &&
		    store_step(pd->st, s) == 1)
			doc->stubs[i].peer_underlay =
			    (uint32_t)store_col_int(s, 0);
	}
	err_reset();
}

/* A slice is gone: its tokens and homes with it. */
void
subs_forget_slice(struct pipd *pd, const char *slice)
{
	static const char *const sql[] = {
		"DELETE FROM sub_tokens WHERE slice = ?",
		"DELETE FROM sub_homes WHERE slice = ?",
	};

	if (pd->st == NULL)		/* unit tests run without a store */
		return;
	for (size_t i = 0; i < NELEM(sql); i++) {
		struct sqlite3_stmt *s = store_prepare(pd->st, sql[i]);

		if (s != NULL && store_bind_text(pd->st, s, 1, slice) == 0)
			store_step(pd->st, s);
	}
	err_reset();
}

/* Record the home of claim c as attached (or detached). */
static void
home_save(struct pipd *pd, const struct pslice *ps, const struct sub_claim *c,
    const struct topo_link *st)
{
	ssize_t n = topo_node_find(ps->doc->nodes, ps->doc->nnodes,
	    st->end[0].node);
	struct sqlite3_stmt *s;
	char hash[SUB_HEX] = "";

	if (c->cred[0] != '\0')
		sub_hash(c->cred, hash);
	if ((s = store_prepare(pd->st, "INSERT INTO sub_homes (subscriber, "
	    "slice, gateway, host, encap, key, underlay, credential, since) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(subscriber) DO "
	    "UPDATE SET slice = excluded.slice, gateway = excluded.gateway, "
	    "host = excluded.host, encap = excluded.encap, key = excluded.key, "
	    "underlay = excluded.underlay, since = excluded.since, credential "
	    "= CASE WHEN excluded.credential = '' THEN credential ELSE "
	    "excluded.credential END")) == NULL ||
	    store_bind_text(pd->st, s, 1, c->sub) == -1 ||
	    store_bind_text(pd->st, s, 2, ps->name) == -1 ||
	    store_bind_text(pd->st, s, 3, st->end[0].node) == -1 ||
	    store_bind_text(pd->st, s, 4, n >= 0 ? ps->doc->nodes[n].host :
	    "") == -1 ||
	    store_bind_text(pd->st, s, 5, encap_to_string(st->encap)) == -1 ||
	    store_bind_int(pd->st, s, 6, st->key) == -1 ||
	    store_bind_int(pd->st, s, 7, c->underlay) == -1 ||
	    store_bind_text(pd->st, s, 8, hash) == -1 ||
	    store_bind_int(pd->st, s, 9, pd->clock()) == -1 ||
	    store_step(pd->st, s) == -1)
		log_warnx("subscriber %s: cannot record the attachment: %s",
		    c->sub, err_last() != NULL ? err_last()->msg : "?");
	err_reset();
}

/* Answer claim c after its update: the tunnel parameters, or why not. */
static void
claim_answer(struct pipd *pd, struct pslice *ps, struct sub_claim *c,
    int ok, const struct err *why)
{
	char body[512], ra[32], la[32];
	const struct topo_link *st = NULL;
	double s = (double)(now_us() - c->t0) / 1e6;
	int h = -1;

	for (size_t i = 0; ok && ps->doc != NULL && i < ps->doc->nstubs; i++)
		if (strcmp(ps->doc->stubs[i].name, c->stub) == 0)
			st = &ps->doc->stubs[i];
	if (st != NULL) {
		ssize_t n = topo_node_find(ps->doc->nodes, ps->doc->nnodes,
		    st->end[0].node);

		if (n >= 0)
			h = config_host(pd->conf, ps->doc->nodes[n].host);
	}
	if (!ok || st == NULL || h < 0 || st->peer_underlay != c->underlay) {
		token_return(pd, c->token);
		metric_add(pd->m_attach, "result=\"failed\"", 1);
		log_warnx("subscriber %s: %s failed: %s", c->sub, c->underlay ?
		    "attach" : "detach", ok ? "the slice changed" : why->msg);
		err_reset();
		err_set(ERR_PEER, "the home's gateway could not be reached; "
		    "try again later");
		http_reply_error(c->req);
		return;
	}
	home_save(pd, ps, c, st);
	metric_observe(pd->m_claim_s, NULL, s);
	metric_add(pd->m_attach, c->underlay ? "result=\"attached\"" :
	    "result=\"detached\"", 1);
	log_info("subscriber %s: %s (slice %s, stub %s, key %u, home %s) in "
	    "%.1f ms", c->sub, c->underlay ? "attached" : "detached",
	    ps->name, st->name, st->key, units_fmt_ipv4(c->underlay, la,
	    sizeof(la)), s * 1000);
	if (c->underlay == 0) {
		http_reply(c->req, 204, NULL, NULL, 0);
		return;
	}
	snprintf(body, sizeof(body), "subscriber %s\nencap %s\nlayer %s\n"
	    "key %u\nremote %s\nlocal %s\n%s%s%s", c->sub,
	    encap_to_string(st->encap), st->encap == ENCAP_GRETAP ||
	    st->encap == ENCAP_VXLAN ? "l2" : "l3", st->key,
	    units_fmt_ipv4(pd->hosts[h].underlay, ra, sizeof(ra)),
	    units_fmt_ipv4(c->underlay, la, sizeof(la)),
	    c->cred[0] != '\0' ? "credential " : "", c->cred,
	    c->cred[0] != '\0' ? "\n" : "");
	http_reply(c->req, 200, HTTP_CTYPE_TEXT, body, strlen(body));
}

/* The update that carried a batch of claims is done. */
static void
claims_done(struct pipd *pd, struct pslice *ps, int ok, const struct err *why,
    void *arg)
{
	struct sub_claim *c = arg, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		claim_answer(pd, ps, c, ok, why);
		free(c);
	}
}

/*
 * Start one update per idle, ready slice that has homes waiting: every
 * waiting home of that slice gets its stub's underlay in one new
 * document.  Claims whose slice is gone fail.
 */
void
subs_kick(struct pipd *pd)
{
	struct sub_claim **pp = &pd->claims;

	while (*pp != NULL) {
		struct sub_claim *c = *pp, *batch = NULL, **bt = &batch, **q;
		struct pslice *ps = slice_find(pd, c->slice);
		struct slice *nd;

		if (ps != NULL && (ps->busy || ps->state != VS_READY)) {
			pp = &c->next;
			continue;
		}
		if (ps == NULL || (nd = slice_dup(ps->doc)) == NULL) {
			struct err e = { .code = ERR_PEER };

			*pp = c->next;
			c->next = NULL;
			str_lcpy(e.msg, "the slice is gone", sizeof(e.msg));
			claims_done(pd, ps, 0, &e, c);
			continue;
		}
		/* Take every claim of this slice, in order of arrival. */
		for (q = pp; *q != NULL; ) {
			struct sub_claim *x = *q;

			if (strcmp(x->slice, c->slice) != 0) {
				q = &x->next;
				continue;
			}
			*q = x->next;
			x->next = NULL;
			*bt = x;
			bt = &x->next;
			for (size_t i = 0; i < nd->nstubs; i++)
				if (strcmp(nd->stubs[i].name, x->stub) == 0)
					nd->stubs[i].peer_underlay = x->underlay;
		}
		err_reset();
		if (admit_keys(pd, ps, nd) == -1) {
			struct err e = *err_last();

			slice_free(nd);
			claims_done(pd, ps, 0, &e, batch);
		} else if (provision_start_cb(pd, ps, OP_UPDATE, nd, NULL,
		    claims_done, batch) == -1) {
			/* nd was freed. */
			struct err e = *err_last();

			claims_done(pd, ps, 0, &e, batch);
		}
	}
}

/* Read "key value" lines of an attach body into underlay/token/cred. */
static int
attach_body(const struct http_request *req, uint32_t *underlay, char *token,
    char *cred)
{
	char buf[SUB_BODY_MAX + 1], *line, *save = NULL;

	*underlay = 0;
	token[0] = cred[0] = '\0';
	if (req->body_len > SUB_BODY_MAX)
		return -1;
	memcpy(buf, req->body, req->body_len);
	buf[req->body_len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, ' ');
		struct in_addr a;

		if (v == NULL)
			return -1;
		*v++ = '\0';
		if (strcmp(line, "underlay") == 0) {
			if (inet_pton(AF_INET, v, &a) != 1 || a.s_addr == 0)
				return -1;
			*underlay = ntohl(a.s_addr);
		} else if (strcmp(line, "token") == 0 && sub_secret_ok(v))
			str_lcpy(token, v, SUB_HEX);
		else if (strcmp(line, "credential") == 0 && sub_secret_ok(v))
			str_lcpy(cred, v, SUB_HEX);
		else
			return -1;
	}
	return 0;
}

/*
 * POST /v1/subscriber/attach and /v1/subscriber/detach (role
 * subscriber): who the home is (certificate, token or credential),
 * where its entitlement is, then a claim queued for the slice.
 */
static void
h_attach(struct http_request *req, void *arg)
{
	struct pipd *pd = arg;
	int detach = strcmp(req->path, "/v1/subscriber/detach") == 0;
	char token[SUB_HEX], cred[SUB_HEX], hash[SUB_HEX], sub[NAME_LEN];
	struct sub_claim *c;
	struct pslice *ps;
	uint32_t underlay;
	size_t i;

	if (!detach && strcmp(req->path, "/v1/subscriber/attach") != 0) {
		err_set(ERR_NOT_FOUND, "no %s %s", req->method, req->path);
		http_reply_error(req);
		return;
	}
	if (attach_body(req, &underlay, token, cred) == -1 ||
	    (underlay == 0 && !detach)) {
		err_set(ERR_INVALID, "an attach request is lines 'underlay "
		    "A.B.C.D', and 'token HEX' or 'credential HEX'");
		http_reply_error(req);
		return;
	}
	hash[0] = '\0';
	if (token[0] != '\0') {
		if (detach)
			{ sub_refuse(pd, req); return; }
		sub_hash(token, hash);
		if (token_take(pd, hash, sub) == -1)
			{ sub_refuse(pd, req); return; }
	} else if (cred[0] != '\0') {
		char h[SUB_HEX];

		sub_hash(cred, h);
		if (cred_find(pd, h, sub) == -1)
			{ sub_refuse(pd, req); return; }
	} else
		str_lcpy(sub, req->peer.name, sizeof(sub));
	if ((ps = sub_find(pd, sub, &i)) == NULL) {
		token_return(pd, hash);
		{ sub_refuse(pd, req); return; }
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		token_return(pd, hash);
		err_nomem();
		http_reply_error(req);
		return;
	}
	c->req = req;
	c->t0 = req->t0_us;
	str_lcpy(c->slice, ps->name, sizeof(c->slice));
	str_lcpy(c->stub, ps->doc->stubs[i].name, sizeof(c->stub));
	str_lcpy(c->sub, sub, sizeof(c->sub));
	c->underlay = detach ? 0 : underlay;
	str_lcpy(c->token, hash, sizeof(c->token));
	if (token[0] != '\0' && sub_secret(c->cred) == -1) {
		token_return(pd, hash);
		free(c);
		http_reply_error(req);
		return;
	}
	{
		struct sub_claim **t = &pd->claims;

		while (*t != NULL)
			t = &(*t)->next;
		*t = c;
	}
	subs_kick(pd);
}
