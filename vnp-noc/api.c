/*
 * vnpd's HTTP API for VNOs (docs/api.md, section vnpd), and the job
 * queue behind it.  Handlers run on the main loop: they check the
 * request and the caller's right to the VNet, then either answer at
 * once (status, list, locate, exec relay) or queue a job for a worker
 * and answer when it is done (update, delete, migrate, renew; a create
 * is answered 202 at once and runs on).  A VNO sees and changes only
 * its own VNets: another VNO's name answers 403.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "doc.h"
#include "log.h"
#include "metrics.h"
#include "vnpd.h"

#define API_PREFIX	"/v1/vnets"

static const char *const job_names[JOB_TYPE_LAST] = {
	"create", "update", "delete", "migrate", "renew", "recover", "token"
};

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	vnet_free(j->doc);
	free(j->answer);
	if (j->done_ev != NULL)
		event_free(j->done_ev);
	free(j);
}

/* Main loop: a job is done; answer its request, if any. */
static void
job_done(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	if (j->req != NULL) {
		if (j->rc == 0)
			http_reply(j->req, 200, j->type == JOB_TOKEN ?
			    HTTP_CTYPE_TEXT : HTTP_CTYPE_XML, j->answer,
			    j->answer == NULL ? 0 : strlen(j->answer));
		else {
			err_reset();
			err_push(&j->err);
			http_reply_error(j->req);
		}
	}
	job_free(j);
}

/* Queue j (its VNet already marked busy). */
void
job_submit(struct vnpd *d, struct job *j)
{
	pthread_mutex_lock(&d->lock);
	j->next = NULL;
	if (d->jobs_tail != NULL)
		d->jobs_tail->next = j;
	else
		d->jobs = j;
	d->jobs_tail = j;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* A job for v (marked busy here, lock held), with its done event. */
static struct job *
job_new(struct vnpd *d, enum job_type type, struct vn *v,
    struct http_request *req)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		err_nomem();
		return NULL;
	}
	j->type = type;
	j->vn = v;
	j->req = req;
	if ((j->done_ev = event_new(d->base, -1, 0, job_done, j)) == NULL) {
		free(j);
		err_set(ERR_INTERNAL, "cannot make an event");
		return NULL;
	}
	v->busy = 1;
	return j;
}

/* Run one job on a worker; fills j->rc, j->err and j->answer. */
static void
job_run(struct vnpd *d, struct wctx *w, struct job *j)
{
	struct vn *v = j->vn;
	int rc = -1, gone = 0;
	char labels[64];

	err_reset();
	switch (j->type) {
	case JOB_CREATE:
		rc = txn_create(d, w, v);
		break;
	case JOB_UPDATE:
		rc = txn_update(d, w, v, j->doc);
		j->doc = NULL;		/* taken */
		break;
	case JOB_DELETE:
		rc = txn_delete(d, w, v);
		break;
	case JOB_MIGRATE:
		rc = txn_migrate(d, w, v, j->node, j->pip, j->host);
		break;
	case JOB_RENEW:
		rc = txn_renew(d, w, v, j->seconds);
		break;
	case JOB_TOKEN:
		rc = subs_token(d, w, j);
		break;
	case JOB_RECOVER:
		for (int tries = 0; tries < 30; tries++) {
			if ((rc = txn_recover(d, w, v)) == 0)
				break;
			log_warnx("vnet %s/%s: recovery: %s; retrying in 2 s",
			    v->owner, v->name, err_last() != NULL ?
			    err_last()->msg : "?");
			err_reset();
			sleep(2);
		}
		gone = rc == 0 && v->state == VS_DELETING;
		break;
	default:
		break;
	}
	j->rc = rc;
	if (rc == -1) {
		if (err_last() != NULL)
			j->err = *err_last();
		else
			j->err.code = ERR_INTERNAL;
	}
	pthread_mutex_lock(&d->lock);
	if (j->type == JOB_DELETE && rc == 0) {
		v->state = VS_DELETED;
		j->answer = vn_manifest(v, NULL, time(NULL));
		gone = 1;
	} else if (rc == 0 && j->type != JOB_TOKEN)
		j->answer = vn_manifest(v, NULL, time(NULL));
	v->busy = 0;
	if (gone) {
		vn_unlink(d, v);
		vstore_delete(d, v);
		vn_free(v);
		j->vn = NULL;
	}
	vn_metrics(d);
	pthread_mutex_unlock(&d->lock);
	snprintf(labels, sizeof(labels), "type=\"%s\",outcome=\"%s\"",
	    job_names[j->type], rc == 0 ? "ok" : "failed");
	metric_add(d->m_jobs, labels, 1);
}

static void *
worker_main(void *arg)
{
	struct vnpd *d = arg;
	struct wctx w;

	if (wctx_init(&w, d->conf) == -1) {
		log_warnx("worker: %s", err_last()->msg);
		return NULL;
	}
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&d->lock);
		while (d->jobs == NULL && !d->stopping)
			pthread_cond_wait(&d->cond, &d->lock);
		if ((j = d->jobs) == NULL) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		d->jobs = j->next;
		if (d->jobs == NULL)
			d->jobs_tail = NULL;
		pthread_mutex_unlock(&d->lock);
		job_run(d, &w, j);
		event_active(j->done_ev, 0, 0);
	}
	wctx_fini(&w);
	return NULL;
}

/*
 * The value of key in a query string ("a=1&b=x%20y"), decoded, into
 * out; 1 when found, 0 when not.
 */
static int
query_get(const char *query, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = query;

	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp == NULL ? strlen(p) : (size_t)(amp - p);

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			char raw[256], *dec;

			if (len - klen - 1 >= sizeof(raw))
				return 0;
			memcpy(raw, p + klen + 1, len - klen - 1);
			raw[len - klen - 1] = '\0';
			if ((dec = evhttp_uridecode(raw, 1, NULL)) == NULL)
				return 0;
			str_lcpy(out, dec, size);
			free(dec);
			return 1;
		}
		p = amp == NULL ? NULL : amp + 1;
	}
	return 0;
}

static int
api_has_pip(void *arg, const char *pip)
{
	return vnpd_pip_find(arg, pip) != NULL;
}

/* Parse and check a VNet document from a VNO.  NULL with errors. */
static struct vnet *
api_vnet(struct vnpd *d, struct http_request *req)
{
	struct topo_refs refs = { api_has_pip, NULL, d->conf };
	struct vnet *v = doc_parse(req->body, req->body_len, "request",
	    DOC_VNET);
	size_t longest = 0;

	if (v == NULL)
		return NULL;
	if (vnet_validate(v, &refs) == -1) {
		vnet_free(v);
		return NULL;
	}
	for (size_t k = 0; k < d->conf->npips; k++)
		if (strlen(d->conf->pips[k].name) > longest)
			longest = strlen(d->conf->pips[k].name);
	if (strlen(v->name) + 1 + longest >= NAME_LEN) {
		err_set(ERR_INVALID, "VNet name '%s' is too long: slices are "
		    "named VNET.PIP, at most %d characters", v->name,
		    NAME_LEN - 1);
		vnet_free(v);
		return NULL;
	}
	return v;
}

/*
 * The caller's VNet called name, or NULL after answering req: 403 when
 * it is another VNO's, 404 when there is none.  Lock held.
 */
static struct vn *
api_lookup(struct vnpd *d, struct http_request *req, const char *name)
{
	struct vn *v = vn_find(d, req->peer.name, name);

	if (v != NULL)
		return v;
	if (vn_name_taken(d, req->peer.name, name))
		err_set(ERR_FORBIDDEN, "VNet '%s' is not yours", name);
	else
		err_set(ERR_NOT_FOUND, "no VNet '%s'", name);
	http_reply_error(req);
	return NULL;
}

/* Answer req with v's manifest (or its failure).  Lock held. */
static void
api_status(struct http_request *req, struct vn *v, const char *node,
    int status)
{
	char *m;

	if (v->state == VS_FAILED && v->err.code != ERR_OK) {
		/* The manifest cannot say why; the <error> does. */
		err_reset();
		err_push(&v->err);
		http_reply_error(req);
		return;
	}
	if (node != NULL && topo_node_find(v->doc->nodes, v->doc->nnodes,
	    node) < 0) {
		err_set(ERR_NOT_FOUND, "VNet '%s' has no node '%s'", v->name,
		    node);
		http_reply_error(req);
		return;
	}
	if ((m = vn_manifest(v, node, time(NULL))) == NULL) {
		http_reply_error(req);
		return;
	}
	http_reply(req, status, HTTP_CTYPE_XML, m, strlen(m));
	free(m);
}

/* POST /v1/vnets?discovery=pip|vnp */
static void
api_create(struct vnpd *d, struct http_request *req)
{
	char disc_s[16];
	enum discovery disc = d->conf->discovery;
	struct vnet *doc;
	struct vn *v;
	struct job *j;

	if (query_get(req->query, "discovery", disc_s, sizeof(disc_s))) {
		int k = discovery_from_string(disc_s);

		if (k < 0) {
			err_set(ERR_INVALID, "discovery '%s': use pip or vnp",
			    disc_s);
			http_reply_error(req);
			return;
		}
		disc = (enum discovery)k;
	}
	if ((doc = api_vnet(d, req)) == NULL) {
		http_reply_error(req);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (vn_find(d, req->peer.name, doc->name) != NULL) {
		err_set(ERR_CONFLICT, "you already have a VNet '%s'",
		    doc->name);
		err_hint("change it with PUT (vno apply), or delete it first");
		goto fail;
	}
	if (vn_name_taken(d, req->peer.name, doc->name)) {
		err_set(ERR_CONFLICT, "another VNO has a VNet called '%s'",
		    doc->name);
		err_hint("choose another name (slices are named VNET.PIP at "
		    "each PIP)");
		goto fail;
	}
	if ((v = vn_new(req->peer.name, doc, disc)) == NULL)
		goto fail;
	v->step_ms[STEP_EXCHANGE] = (double)(now_us() - req->t0_us) / 1000.0;
	if (vstore_save(d, v) == -1 ||
	    (j = job_new(d, JOB_CREATE, v, NULL)) == NULL) {
		vn_free(v);
		goto fail;
	}
	v->next = d->vnets;
	d->vnets = v;
	vn_metrics(d);
	log_info("vnet %s/%s: create (discovery at %s, %zu nodes, %zu links)",
	    v->owner, v->name, discovery_to_string(disc), doc->nnodes,
	    doc->nlinks);
	api_status(req, v, NULL, 202);
	pthread_mutex_unlock(&d->lock);
	vnet_free(doc);
	job_submit(d, j);
	return;
fail:
	pthread_mutex_unlock(&d->lock);
	vnet_free(doc);
	http_reply_error(req);
}

/* Queue a job of type for v, answering req when it is done. */
static void
api_job(struct vnpd *d, struct http_request *req, struct vn *v,
    enum job_type type, struct vnet *doc, const char *node,
    const char *pip, const char *host, int64_t seconds)
{
	struct job *j;

	if (v->busy) {
		err_set(ERR_CONFLICT, "VNet '%s' is busy (%s)", v->name,
		    v->phase[0] != '\0' ? v->phase : "another change");
		err_hint("try again when it is done");
		goto fail;
	}
	if (type != JOB_DELETE && v->state != VS_READY &&
	    v->state != VS_DEGRADED) {
		err_set(ERR_CONFLICT, "VNet '%s' is %s, not ready", v->name,
		    vnet_state_to_string(v->state));
		goto fail;
	}
	if ((j = job_new(d, type, v, req)) == NULL)
		goto fail;
	j->doc = doc;
	str_lcpy(j->node, node == NULL ? "" : node, sizeof(j->node));
	str_lcpy(j->pip, pip == NULL ? "" : pip, sizeof(j->pip));
	str_lcpy(j->host, host == NULL ? "" : host, sizeof(j->host));
	j->seconds = seconds;
	pthread_mutex_unlock(&d->lock);
	job_submit(d, j);
	pthread_mutex_lock(&d->lock);
	return;
fail:
	vnet_free(doc);
	http_reply_error(req);
}

/* A copy of v's document without node and its links, or NULL. */
static struct vnet *
doc_without(const struct vnet *v, const char *node)
{
	struct vnet *c = vnet_dup(v);
	size_t k = 0;

	if (c == NULL)
		return NULL;
	if (c->nnodes <= 1) {
		vnet_free(c);
		err_set(ERR_TOPOLOGY, "node '%s' is the last node of VNet '%s'",
		    node, v->name);
		err_hint("delete the VNet instead");
		return NULL;
	}
	for (size_t i = 0; i < c->nnodes; i++) {
		if (strcmp(c->nodes[i].name, node) == 0) {
			topo_node_clear(&c->nodes[i]);
			continue;
		}
		c->nodes[k++] = c->nodes[i];
	}
	c->nnodes = k;
	k = 0;
	for (size_t i = 0; i < c->nlinks; i++) {
		if (strcmp(c->links[i].end[0].node, node) == 0 ||
		    strcmp(c->links[i].end[1].node, node) == 0) {
			topo_link_clear(&c->links[i]);
			continue;
		}
		c->links[k++] = c->links[i];
	}
	c->nlinks = k;
	/* Computed routes are computed again, without the removed links. */
	for (size_t i = 0; c->routing == ROUTING_STATIC && i < c->nnodes; i++)
		topo_node_clear(&c->nodes[i]);
	return c;
}

/* Requests under /v1/vnets/NAME/nodes/NODE[/ACTION]. */
static void
api_node(struct vnpd *d, struct http_request *req, struct vn *v,
    const char *node, const char *action)
{
	char pip[NAME_LEN], host[NAME_LEN], to[2 * NAME_LEN];

	if (action == NULL && strcmp(req->method, "GET") == 0) {
		api_status(req, v, node, 200);
		return;
	}
	if (topo_node_find(v->doc->nodes, v->doc->nnodes, node) < 0) {
		err_set(ERR_NOT_FOUND, "VNet '%s' has no node '%s'", v->name,
		    node);
		http_reply_error(req);
		return;
	}
	if (action == NULL && strcmp(req->method, "DELETE") == 0) {
		struct vnet *doc = doc_without(v->doc, node);

		if (doc == NULL) {
			http_reply_error(req);
			return;
		}
		api_job(d, req, v, JOB_UPDATE, doc, NULL, NULL, NULL, 0);
		return;
	}
	if (action != NULL && strcmp(action, "exec") == 0 &&
	    strcmp(req->method, "POST") == 0) {
		console_exec(d, req, v, node);
		return;
	}
	if (action != NULL && strcmp(action, "migrate") == 0 &&
	    strcmp(req->method, "POST") == 0) {
		query_get(req->query, "pip", pip, sizeof(pip));
		query_get(req->query, "host", host, sizeof(host));
		if (query_get(req->query, "to", to, sizeof(to)) &&
		    host[0] == '\0') {
			char *colon = strchr(to, ':');

			if (colon != NULL) {
				*colon = '\0';
				str_lcpy(pip, to, sizeof(pip));
				str_lcpy(host, colon + 1, sizeof(host));
			} else
				str_lcpy(host, to, sizeof(host));
		}
		if ((pip[0] != '\0' && !name_valid(pip)) ||
		    (host[0] != '\0' && !name_valid(host)) ||
		    (pip[0] == '\0' && host[0] == '\0')) {
			err_set(ERR_INVALID, "migrate needs host=HOST and/or "
			    "pip=PIP, valid names");
			http_reply_error(req);
			return;
		}
		api_job(d, req, v, JOB_MIGRATE, NULL, node, pip, host, 0);
		return;
	}
	err_set(ERR_NOT_FOUND, "no %s %s", req->method, req->path);
	http_reply_error(req);
}

/*
 * Split "/NAME", "/NAME/renew", "/NAME/nodes/NODE" or
 * "/NAME/nodes/NODE/ACTION" (node and action "" when absent).  0, or -1
 * for any other shape or a bad name.
 */
static int
api_split(const char *rest, char *name, char *node, char *action)
{
	char buf[256], *parts[6], *save = NULL, *t;
	size_t n = 0;

	name[0] = node[0] = action[0] = '\0';
	if (str_lcpy(buf, rest, sizeof(buf)) >= sizeof(buf))
		return -1;
	for (t = strtok_r(buf, "/", &save); t != NULL;
	    t = strtok_r(NULL, "/", &save)) {
		if (n == NELEM(parts))
			return -1;
		parts[n++] = t;
	}
	if (n < 1 || !name_valid(parts[0]))
		return -1;
	str_lcpy(name, parts[0], NAME_LEN);
	if (n == 1)
		return 0;
	if (n == 2 && strcmp(parts[1], "renew") == 0) {
		str_lcpy(action, parts[1], 32);
		return 0;
	}
	if ((n == 3 || n == 4) && strcmp(parts[1], "nodes") == 0 &&
	    name_valid(parts[2])) {
		str_lcpy(node, parts[2], NAME_LEN);
		if (n == 4)
			str_lcpy(action, parts[3], 32);
		return 0;
	}
	return -1;
}

/*
 * Requests under /v1/vnets/NAME/subscribers[/SUB[/token]] (lock held):
 * list, add (POST), set (PUT), remove (DELETE), token (POST).  Every
 * change is an update of the VNet (its gateways and access links follow
 * the subscribers, subs.c), answered with the manifest when done.
 */
static void
api_subs(struct vnpd *d, struct http_request *req, struct vn *v,
    const char *sub, const char *action)
{
	const char *m = req->method;
	struct vnet_sub s;
	struct vnet *doc;
	char *list;

	if (sub[0] == '\0' && strcmp(m, "GET") == 0) {
		if ((list = subs_list(v)) == NULL) {
			err_nomem();
			http_reply_error(req);
			return;
		}
		http_reply(req, 200, HTTP_CTYPE_TEXT, list, strlen(list));
		free(list);
		return;
	}
	if (sub[0] != '\0' && strcmp(action, "token") == 0 &&
	    strcmp(m, "POST") == 0) {
		char q[24];
		long long secs = SUB_TOKEN_TTL;

		if (query_get(req->query, "seconds", q, sizeof(q))) {
			char *end;

			secs = strtoll(q, &end, 10);
			if (*end != '\0' || secs < 60 || secs > 30LL * 86400) {
				err_set(ERR_INVALID, "seconds '%s': a number "
				    "from 60 to 2592000", q);
				http_reply_error(req);
				return;
			}
		}
		for (size_t i = 0; i < v->doc->nsubs; i++)
			if (strcmp(v->doc->subs[i].name, sub) == 0) {
				api_job(d, req, v, JOB_TOKEN, NULL, sub, NULL,
				    NULL, secs);
				return;
			}
		err_set(ERR_NOT_FOUND, "VNet '%s' has no subscriber '%s'",
		    v->name, sub);
		http_reply_error(req);
		return;
	}
	if (action[0] != '\0')
		goto notfound;
	if (sub[0] == '\0' && strcmp(m, "POST") == 0) {
		if (subs_parse(req->body, req->body_len, &s) == -1) {
			http_reply_error(req);
			return;
		}
		doc = subs_doc(v->doc, &s, SUB_ADD);
	} else if (sub[0] != '\0' && strcmp(m, "PUT") == 0) {
		if (subs_parse(req->body, req->body_len, &s) == -1) {
			http_reply_error(req);
			return;
		}
		if (strcmp(s.name, sub) != 0) {
			gw_clear(&s.gw);
			err_set(ERR_INVALID, "the document is subscriber '%s', "
			    "not '%s'", s.name, sub);
			http_reply_error(req);
			return;
		}
		doc = subs_doc(v->doc, &s, SUB_SET);
	} else if (sub[0] != '\0' && strcmp(m, "DELETE") == 0) {
		memset(&s, 0, sizeof(s));
		str_lcpy(s.name, sub, sizeof(s.name));
		doc = subs_doc(v->doc, &s, SUB_REMOVE);
	} else
		goto notfound;
	gw_clear(&s.gw);
	if (doc == NULL) {
		http_reply_error(req);
		return;
	}
	log_info("vnet %s/%s: subscriber %s: %s", v->owner, v->name,
	    sub[0] != '\0' ? sub : s.name, m);
	api_job(d, req, v, JOB_UPDATE, doc, NULL, NULL, NULL, 0);
	return;
notfound:
	err_set(ERR_NOT_FOUND, "no %s %s", m, req->path);
	http_reply_error(req);
}

/* "/NAME/subscribers[/SUB[/ACTION]]": 1 and the parts, or 0. */
static int
api_split_subs(const char *rest, char *name, char *sub, char *action)
{
	char buf[256], *parts[5], *save = NULL, *t;
	size_t n = 0;

	name[0] = sub[0] = action[0] = '\0';
	if (str_lcpy(buf, rest, sizeof(buf)) >= sizeof(buf))
		return 0;
	for (t = strtok_r(buf, "/", &save); t != NULL;
	    t = strtok_r(NULL, "/", &save)) {
		if (n == NELEM(parts))
			return 0;
		parts[n++] = t;
	}
	if (n < 2 || n > 4 || strcmp(parts[1], "subscribers") != 0 ||
	    !name_valid(parts[0]) || (n >= 3 && !name_valid(parts[2])) ||
	    (n == 4 && strlen(parts[3]) >= 32))
		return 0;
	str_lcpy(name, parts[0], NAME_LEN);
	if (n >= 3)
		str_lcpy(sub, parts[2], NAME_LEN);
	if (n == 4)
		str_lcpy(action, parts[3], 32);
	return 1;
}

/* Every request under /v1/vnets, from a VNO. */
static void
api_vnets(struct http_request *req, void *arg)
{
	struct vnpd *d = arg;
	char name[NAME_LEN], node[NAME_LEN], action[32];
	const char *rest = req->path + strlen(API_PREFIX);
	struct vn *v;

	if (*rest == '\0' || strcmp(rest, "/") == 0) {
		if (strcmp(req->method, "POST") == 0) {
			api_create(d, req);
			return;
		}
		if (strcmp(req->method, "GET") == 0) {
			char *list;

			pthread_mutex_lock(&d->lock);
			list = vn_list(d, req->peer.name);
			pthread_mutex_unlock(&d->lock);
			if (list == NULL) {
				err_nomem();
				http_reply_error(req);
				return;
			}
			http_reply(req, 200, HTTP_CTYPE_TEXT, list,
			    strlen(list));
			free(list);
			return;
		}
		goto notfound;
	}
	if (api_split_subs(rest, name, node, action)) {
		pthread_mutex_lock(&d->lock);
		if ((v = api_lookup(d, req, name)) != NULL)
			api_subs(d, req, v, node, action);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (api_split(rest, name, node, action) == -1)
		goto notfound;
	pthread_mutex_lock(&d->lock);
	if ((v = api_lookup(d, req, name)) == NULL) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (node[0] != '\0') {
		api_node(d, req, v, node, action[0] != '\0' ? action : NULL);
	} else if (strcmp(action, "renew") == 0) {
		char s[24];
		long long secs = d->conf->lease;

		if (strcmp(req->method, "POST") != 0)
			goto notfound_locked;
		if (query_get(req->query, "seconds", s, sizeof(s))) {
			char *end;

			secs = strtoll(s, &end, 10);
			if (*end != '\0' || secs < 60 || secs > 365LL * 86400) {
				err_set(ERR_INVALID, "seconds '%s': a number "
				    "from 60 to 31536000", s);
				http_reply_error(req);
				pthread_mutex_unlock(&d->lock);
				return;
			}
		}
		api_job(d, req, v, JOB_RENEW, NULL, NULL, NULL, NULL, secs);
	} else if (strcmp(req->method, "GET") == 0)
		api_status(req, v, NULL, 200);
	else if (strcmp(req->method, "DELETE") == 0)
		api_job(d, req, v, JOB_DELETE, NULL, NULL, NULL, NULL, 0);
	else if (strcmp(req->method, "PUT") == 0) {
		struct vnet *doc;

		pthread_mutex_unlock(&d->lock);
		doc = api_vnet(d, req);
		pthread_mutex_lock(&d->lock);
		if (doc == NULL) {
			http_reply_error(req);
		} else if ((v = vn_find(d, req->peer.name, name)) == NULL) {
			vnet_free(doc);
			err_set(ERR_NOT_FOUND, "no VNet '%s'", name);
			http_reply_error(req);
		} else if (strcmp(doc->name, name) != 0) {
			err_set(ERR_INVALID, "the document is VNet '%s', not "
			    "'%s'", doc->name, name);
			vnet_free(doc);
			http_reply_error(req);
		} else
			api_job(d, req, v, JOB_UPDATE, doc, NULL, NULL, NULL,
			    0);
	} else
		goto notfound_locked;
	pthread_mutex_unlock(&d->lock);
	return;
notfound_locked:
	pthread_mutex_unlock(&d->lock);
notfound:
	err_set(ERR_NOT_FOUND, "no %s %s", req->method, req->path);
	http_reply_error(req);
}

/*
 * Routes, workers, and a recovery job for every VNet the store says was
 * mid-way (or may be stale).  0, or -1 with an error recorded.
 */
int
api_init(struct vnpd *d)
{
	if (http_server_route(d->srv, NULL, API_PREFIX,
	    TLS_ROLE_BIT(TLS_ROLE_VNO), api_vnets, d) == -1 ||
	    http_server_route(d->srv, "GET", "/metrics", TLS_ROLE_ANY,
	    metrics_handler, d->metrics) == -1)
		return -1;
	for (size_t i = 0; i < VNPD_WORKERS; i++) {
		if (pthread_create(&d->workers[i], NULL, worker_main, d) != 0)
			return err_sys("pthread_create");
		d->nworkers++;
	}
	pthread_mutex_lock(&d->lock);
	for (struct vn *v = d->vnets; v != NULL; v = v->next) {
		struct job *j;

		if (v->state == VS_FAILED && v->nparts == 0)
			continue;
		if ((j = job_new(d, JOB_RECOVER, v, NULL)) == NULL)
			continue;
		log_info("vnet %s/%s: was %s at shutdown; recovering",
		    v->owner, v->name, vnet_state_to_string(v->state));
		pthread_mutex_unlock(&d->lock);
		job_submit(d, j);
		pthread_mutex_lock(&d->lock);
	}
	vn_metrics(d);
	pthread_mutex_unlock(&d->lock);
	return 0;
}
