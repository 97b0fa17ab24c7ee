/*
 * The sim driver: nodes that exist only in this process's memory.  Every
 * operation sleeps for its configured delay (drv_conf.delay_ms[DRV_OP_*])
 * so a control-plane scale test can run thousands of substrate agents on
 * one machine with believable timings, and create can be told to fail
 * every Nth time (drv_conf.fail_every) to exercise roll-back paths.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "driver.h"

struct sim_node {
	struct vnode_spec spec;
	enum vnode_state state;
};

struct sim {
	struct sim_node *nodes;	/* n used, cap allocated */
	size_t n;
	size_t cap;
	unsigned ncreate;	/* creates attempted, for fail_every */
	pthread_mutex_t lock;	/* nodes, n, cap, ncreate */
};

static void
sim_delay(struct drv *drv, enum drv_op op)
{
	unsigned ms = drv->conf.delay_ms[op];
	struct timespec ts;

	if (ms == 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
sim_probe(const struct drv_conf *conf)
{
	return 0;
}

static int
sim_open(struct drv *drv)
{
	struct sim *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return err_nomem();
	pthread_mutex_init(&s->lock, NULL);
	drv->priv = s;
	return 0;
}

static void
sim_close(struct drv *drv)
{
	struct sim *s = drv->priv;

	pthread_mutex_destroy(&s->lock);
	free(s->nodes);
	free(s);
}

/* The node with id, or NULL with ERR_NOT_FOUND.  Call with lock held. */
static struct sim_node *
sim_find(struct sim *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->nodes[i].spec.id, id) == 0)
			return &s->nodes[i];
	err_set(ERR_NOT_FOUND, "no sim node with id '%s'", id);
	return NULL;
}

static int
sim_create(struct drv *drv, const struct vnode_spec *spec)
{
	struct sim *s = drv->priv;
	struct sim_node *nn;
	int rc = -1;

	if (vnode_spec_check(spec) == -1)
		return -1;
	sim_delay(drv, DRV_OP_CREATE);
	pthread_mutex_lock(&s->lock);
	s->ncreate++;
	if (drv->conf.fail_every != 0 &&
	    s->ncreate % drv->conf.fail_every == 0) {
		err_set(ERR_SYSTEM, "sim node '%s': simulated failure of "
		    "create number %u", spec->id, s->ncreate);
		goto out;
	}
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->nodes[i].spec.id, spec->id) == 0) {
			err_set(ERR_CONFLICT, "sim node '%s' already exists",
			    spec->id);
			goto out;
		}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		if ((nn = reallocarray(s->nodes, cap, sizeof(*nn))) == NULL) {
			err_nomem();
			goto out;
		}
		s->nodes = nn;
		s->cap = cap;
	}
	nn = &s->nodes[s->n++];
	nn->spec = *spec;
	nn->state = VNODE_ST_DEFINED;
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/*
 * Move node id from a state in the mask from to state to; ERR_CONFLICT
 * if it is in another state.
 */
static int
sim_move(struct drv *drv, const char *id, enum drv_op op, unsigned from,
    enum vnode_state to)
{
	struct sim *s = drv->priv;
	struct sim_node *n;
	int rc = -1;

	sim_delay(drv, op);
	pthread_mutex_lock(&s->lock);
	if ((n = sim_find(s, id)) == NULL)
		goto out;
	if (!(from & (1u << n->state))) {
		err_set(ERR_CONFLICT, "sim node '%s' is %s", id,
		    vnode_state_to_string(n->state));
		goto out;
	}
	n->state = to;
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

#define ST(x)	(1u << VNODE_ST_##x)

static int
sim_start(struct drv *drv, const char *id)
{
	return sim_move(drv, id, DRV_OP_START, ST(DEFINED) | ST(RUNNING),
	    VNODE_ST_RUNNING);
}

static int
sim_stop(struct drv *drv, const char *id)
{
	return sim_move(drv, id, DRV_OP_STOP, ST(RUNNING) | ST(PAUSED) |
	    ST(DEFINED), VNODE_ST_DEFINED);
}

static int
sim_pause(struct drv *drv, const char *id)
{
	return sim_move(drv, id, DRV_OP_PAUSE, ST(RUNNING) | ST(PAUSED),
	    VNODE_ST_PAUSED);
}

static int
sim_resume(struct drv *drv, const char *id)
{
	return sim_move(drv, id, DRV_OP_RESUME, ST(PAUSED) | ST(RUNNING),
	    VNODE_ST_RUNNING);
}

static int
sim_attach(struct drv *drv, const char *id, const struct vnode_if *ifc)
{
	struct sim *s = drv->priv;
	struct sim_node *n;
	struct vnode_spec sp;
	int rc = -1;

	sim_delay(drv, DRV_OP_UPDATE);
	pthread_mutex_lock(&s->lock);
	if ((n = sim_find(s, id)) == NULL)
		goto out;
	if (n->spec.nifs == VNODE_IF_MAX) {
		err_set(ERR_NO_RESOURCES, "sim node '%s' has %d interfaces "
		    "already", id, VNODE_IF_MAX);
		goto out;
	}
	sp = n->spec;
	sp.ifs[sp.nifs++] = *ifc;
	if (vnode_spec_check(&sp) == -1)
		goto out;
	n->spec = sp;
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int
sim_detach(struct drv *drv, const char *id, const char *ifname)
{
	struct sim *s = drv->priv;
	struct sim_node *n;
	int rc = -1;

	sim_delay(drv, DRV_OP_UPDATE);
	pthread_mutex_lock(&s->lock);
	if ((n = sim_find(s, id)) == NULL)
		goto out;
	for (size_t i = 0; i < n->spec.nifs; i++)
		if (strcmp(n->spec.ifs[i].name, ifname) == 0) {
			memmove(&n->spec.ifs[i], &n->spec.ifs[i + 1],
			    (n->spec.nifs - i - 1) * sizeof(n->spec.ifs[0]));
			n->spec.nifs--;
			rc = 0;
			goto out;
		}
	err_set(ERR_NOT_FOUND, "sim node '%s' has no interface '%s'", id,
	    ifname);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int
sim_delete(struct drv *drv, const char *id)
{
	struct sim *s = drv->priv;
	struct sim_node *n;
	int rc = -1;

	sim_delay(drv, DRV_OP_DELETE);
	pthread_mutex_lock(&s->lock);
	if ((n = sim_find(s, id)) != NULL) {
		*n = s->nodes[--s->n];
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int
sim_list(struct drv *drv, struct vnode_info **out, size_t *np)
{
	struct sim *s = drv->priv;
	struct vnode_info *v;

	sim_delay(drv, DRV_OP_LIST);
	pthread_mutex_lock(&s->lock);
	if ((v = calloc(s->n ? s->n : 1, sizeof(*v))) == NULL) {
		pthread_mutex_unlock(&s->lock);
		return err_nomem();
	}
	for (size_t i = 0; i < s->n; i++) {
		str_lcpy(v[i].id, s->nodes[i].spec.id, sizeof(v[i].id));
		str_lcpy(v[i].name, s->nodes[i].spec.name, sizeof(v[i].name));
		snprintf(v[i].handle, sizeof(v[i].handle), "sim:%s",
		    s->nodes[i].spec.id);
		v[i].state = s->nodes[i].state;
	}
	*np = s->n;
	pthread_mutex_unlock(&s->lock);
	*out = v;
	return 0;
}

static int
sim_console(struct drv *drv, const char *id, struct vnode_console *con)
{
	return drv_nosup("sim", "offer a console");
}

static int
sim_exec(struct drv *drv, const char *id, const struct vnode_exec *ex,
    int *status)
{
	return drv_nosup("sim", "run commands in a node");
}

const struct drv_ops drv_sim_ops = {
	.name = "sim",
	.probe = sim_probe,
	.open = sim_open,
	.close = sim_close,
	.create = sim_create,
	.start = sim_start,
	.stop = sim_stop,
	.pause = sim_pause,
	.resume = sim_resume,
	.attach = sim_attach,
	.detach = sim_detach,
	.delete = sim_delete,
	.list = sim_list,
	.console = sim_console,
	.exec = sim_exec,
};
