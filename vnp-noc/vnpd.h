/*
 * vnpd: the VNP's network operation centre.  VNOs (role vno) hand it
 * VNet requests; it splits or maps them across the PIPs it knows, runs
 * the allocate / peer / provision transaction with every pipd, checks
 * every node's console, and then serves the VNet's life: status, exec
 * relay, changes, migration, renewal, deletion.  See docs/api.md
 * (section vnpd) and vnpd(8).
 *
 * Threads: the main thread runs the event loop (HTTP server, exec
 * relay); a few workers run the long jobs (create, update, migrate,
 * delete, renew, recovery) with blocking calls to the PIPs on a loop of
 * their own.  One mutex (vnpd.lock) guards the VNet table and the store.
 */
#ifndef VNPD_H
#define VNPD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "advert.h"
#include "error.h"
#include "http.h"
#include "manifest.h"
#include "slice.h"
#include "tls.h"
#include "vnet.h"

#define VNPD_CONF	"/etc/vnsm/vnpd.conf"
#define VNPD_PIPS_MAX	32		/* PIPs in one configuration */
#define VNPD_WORKERS	4		/* job threads */
#define VNPD_KEY_MAX	0x7fffffffu	/* our tunnel keys: 1 .. 2^31 - 1 */
#define VNPD_VNI_END	0x800000u	/* our VXLAN VNIs: 1 .. 2^23 - 1 */

/* One PIP as the configuration names it. */
struct vnpd_pip {
	char name[NAME_LEN];		/* the PIP's name in documents */
	char address[128];		/* HOST:PORT of its pipd */
	char cn[TLS_NAME_MAX + 1];	/* CN its certificate must carry */
};

/* The configuration, apart from runtime state. */
struct vnpd_conf {
	const char *path;		/* the file read */
	const char *listen;		/* ADDR:PORT */
	struct tls_conf tls;		/* our certificate, CA, CRL */
	const char *state;		/* SQLite file */
	const char *pidfile;
	enum discovery discovery;	/* default mode per request */
	int64_t lease;			/* seconds of a slice reservation */
	int timeout_ms;			/* per call to a pipd */
	struct vnpd_pip pips[VNPD_PIPS_MAX];
	size_t npips;
	struct conf *raw;		/* owns the strings above */
};

/* Where one PIP's part of a VNet stands. */
enum part_state {
	PART_NEW,		/* planned, nothing sent */
	PART_ALLOCATING,	/* POST sent (maybe reserved at the PIP) */
	PART_ALLOCATED,		/* reserved */
	PART_PROVISIONING,	/* provision sent */
	PART_READY,		/* built */
	PART_RELEASING,		/* DELETE sent */
	PART_STATE_LAST
};
ENUM_DECL(part_state);

/* One PIP's part of a VNet: the slice vnpd made there. */
struct vn_part {
	char pip[NAME_LEN];		/* the PIP */
	char slice[NAME_LEN];		/* VNET.PIP */
	enum part_state state;
	struct slice *sl;		/* as last sent, owned */
	struct manifest *mf;		/* the PIP's last answer, owned or NULL */
};

/* A VNet of one VNO. */
struct vn {
	char owner[TLS_NAME_MAX + 1];	/* the VNO's CN */
	char name[NAME_LEN];		/* unique per owner */
	enum discovery disc;
	enum vnet_state state;
	struct vnet *doc;		/* as asked, with keys and routes */
	struct vn_part *parts;		/* [nparts], one per PIP used */
	size_t nparts;
	double step_ms[STEP_LAST];	/* VNP-wide step times; < 0: not yet */
	char phase[96];			/* what vnpd does now (progress) */
	struct err err;			/* why it failed; code ERR_OK if not */
	int64_t expires;		/* epoch s; 0: none */
	int busy;			/* a job is working on it */
	struct vn *next;
};

/* What a job is for. */
enum job_type { JOB_CREATE, JOB_UPDATE, JOB_DELETE, JOB_MIGRATE, JOB_RENEW,
	JOB_RECOVER, JOB_TOKEN, JOB_TYPE_LAST };

struct job {
	enum job_type type;
	struct vn *vn;			/* the VNet (busy while the job runs) */
	struct vnet *doc;		/* update: the new document, owned */
	char node[NAME_LEN];		/* migrate: the node; token: the
					   subscriber */
	char pip[NAME_LEN];		/* migrate: target PIP, "" = same */
	char host[NAME_LEN];		/* migrate: target host, "" = any */
	int64_t seconds;		/* renew; token: its lifetime */
	struct http_request *req;	/* answered when done, or NULL */
	int rc;				/* outcome: 0 or -1 */
	struct err err;			/* rc -1: why */
	char *answer;			/* rc 0: the manifest to send, owned */
	struct event *done_ev;		/* on the main loop */
	struct job *next;
};

/* One worker's private loop and client for calls to the PIPs. */
struct wctx {
	struct event_base *base;
	struct http_client *client;
};

struct vnpd {
	struct vnpd_conf *conf;
	struct event_base *base;	/* main loop */
	struct http_server *srv;
	struct http_client *client;	/* main loop: exec relay */
	struct store *st;
	struct metrics *metrics;
	struct metric *m_vnets;		/* gauge: VNets by state */
	struct metric *m_steps;		/* histogram: step seconds */
	struct metric *m_jobs;		/* counter: jobs by type and outcome */
	pthread_mutex_t lock;		/* vnets, st, key_next */
	pthread_cond_t cond;		/* jobs queued or stopping */
	struct vn *vnets;		/* every VNet known */
	struct job *jobs, *jobs_tail;	/* queue */
	int stopping;			/* workers should end */
	pthread_t workers[VNPD_WORKERS];
	size_t nworkers;
	uint32_t key_next;		/* next tunnel key to hand out */
};

/* vnpd.c */
extern struct vnpd *vnpd;

/* config.c */
struct vnpd_conf *vnpd_conf_load(const char *path);
void vnpd_conf_free(struct vnpd_conf *c);
void vnpd_conf_print(const struct vnpd_conf *c, FILE *fp);
const struct vnpd_pip *vnpd_pip_find(const struct vnpd_conf *c,
    const char *name);
ssize_t vnpd_pip_index(const struct vnpd_conf *c, const char *name);

/* api.c */
int api_init(struct vnpd *d);
void job_submit(struct vnpd *d, struct job *j);
void job_free(struct job *j);

/* vnets.c */
struct vn *vn_find(struct vnpd *d, const char *owner, const char *name);
int vn_name_taken(struct vnpd *d, const char *owner, const char *name);
struct vn *vn_new(const char *owner, const struct vnet *doc,
    enum discovery disc);
void vn_free(struct vn *v);
void vn_unlink(struct vnpd *d, struct vn *v);
void vn_parts_free(struct vn_part *p, size_t n);
struct vn_part *vn_part_of_node(struct vn *v, const char *node);
struct vn_part *vn_part_of_pip(struct vn *v, const char *pip);
void vn_phase(struct vnpd *d, struct vn *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vn_fail(struct vnpd *d, struct vn *v, const struct err *e);
char *vn_manifest(const struct vn *v, const char *node, int64_t now);
char *vn_list(struct vnpd *d, const char *owner);
void vn_metrics(struct vnpd *d);
int vn_assign_keys(struct vnpd *d, struct vnet *doc, const struct vnet *old);

/* split.c: discovery at PIP */
struct plan {
	int *pip;			/* [nnodes] PIP index per node */
	char (*host)[NAME_LEN];		/* [nnodes] host, "" = the PIP maps */
	char (*loc)[NAME_LEN];		/* [nnodes] location to ask, "" = any */
	char (**path)[NAME_LEN];	/* [nlinks] hosts carrying the link */
	size_t *npath;			/* [nlinks] */
	int *pinned;			/* [npips] 1: slice mapping "vnp" */
	size_t nnodes, nlinks;
};
struct plan *plan_new(const struct vnet *v, size_t npips);
void plan_free(struct plan *p);
int split_assign(const struct vnpd_conf *c, const struct vnet *v,
    struct advert *const *ads, const int *excluded, const int *fixed,
    struct plan *p);
int split_build(const struct vnpd_conf *c, const struct vnet *v,
    const struct plan *p, int64_t expires, struct vn_part **parts,
    size_t *nparts);

/* vmap.c: discovery at VNP */
int vmap_plan(const struct vnpd_conf *c, const struct vnet *v,
    struct advert *const *ads, const int *excluded, const int *fixed,
    const char (*fixed_host)[NAME_LEN], struct plan *p);

/* pipc.c: calls to the pipds */
struct pcall {
	const struct vnpd_pip *pip;	/* whom */
	const char *method;
	char path[320];
	const char *ctype;		/* of body; NULL: XML */
	char *body;			/* owned, may be NULL */
	size_t len;
	struct http_response resp;	/* the answer (body owned) */
	int done;
};
int wctx_init(struct wctx *w, const struct vnpd_conf *c);
void wctx_fini(struct wctx *w);
void pcall_set(struct pcall *pc, const struct vnpd_pip *pip,
    const char *method, const char *ctype, char *body, const char *fmt,
    ...) __attribute__((format(printf, 6, 7)));
void pcall_clear(struct pcall *pc);
void pcall_run(struct wctx *w, const struct vnpd_conf *c, struct pcall *pcs,
    size_t n);
void pcall_run_tick(struct wctx *w, const struct vnpd_conf *c,
    struct pcall *pcs, size_t n, void (*tick)(struct wctx *, void *),
    void *arg, int period_ms);
int pcall_ok(const struct pcall *pc);
int pcall_error(const struct pcall *pc);
struct manifest *pcall_manifest(const struct pcall *pc);
struct advert *pip_advert(struct wctx *w, const struct vnpd_conf *c,
    const struct vnpd_pip *pip);

/* txn.c */
int txn_create(struct vnpd *d, struct wctx *w, struct vn *v);
int txn_update(struct vnpd *d, struct wctx *w, struct vn *v,
    struct vnet *doc);
int txn_migrate(struct vnpd *d, struct wctx *w, struct vn *v,
    const char *node, const char *pip, const char *host);
int txn_delete(struct vnpd *d, struct wctx *w, struct vn *v);
int txn_renew(struct vnpd *d, struct wctx *w, struct vn *v, int64_t seconds);
int txn_recover(struct vnpd *d, struct wctx *w, struct vn *v);
int txn_release(struct vnpd *d, struct wctx *w, struct vn *v);

/* subs.c: subscribers (docs/subscribers.md) */
enum sub_op { SUB_ADD, SUB_SET, SUB_REMOVE };
#define SUB_TOKEN_TTL	86400		/* default token lifetime, s */
int subs_names(const char *sub, char *gw, char *acc, char *home);
int subs_expand(struct vnet *v);
int subs_routes(struct vnet *v);
int subs_stubs(const struct vnet *v, struct vn_part *parts, size_t nparts);
int subs_parse(const char *body, size_t len, struct vnet_sub *out);
struct vnet *subs_doc(const struct vnet *v, const struct vnet_sub *s,
    enum sub_op op);
char *subs_list(const struct vn *v);
int subs_token(struct vnpd *d, struct wctx *w, struct job *j);

/* console.c */
void console_exec(struct vnpd *d, struct http_request *req, struct vn *v,
    const char *node);
int console_check(struct vnpd *d, struct wctx *w, struct vn *v);

/* store.c */
int vstore_open(struct vnpd *d);
void vstore_close(struct vnpd *d);
int vstore_save(struct vnpd *d, const struct vn *v);
int vstore_delete(struct vnpd *d, const struct vn *v);
int vstore_load(struct vnpd *d);
int vstore_keys(struct vnpd *d, uint32_t n, uint32_t *first);

#endif
