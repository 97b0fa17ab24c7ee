/*
 * The VY-100 workload (BENCH.md §2), seeded and deterministic, and its
 * ViNE-Yard files.
 *
 * Substrate: nodes on integer points of a square grid; each pair linked
 * with the Waxman probability alpha * exp(-d / (beta * L)), L the grid's
 * diagonal; CPU and bandwidth uniform [50, 100].  For VY-100 (100 nodes,
 * 100 x 100 grid, alpha 0.5, beta 0.2) the draw is repeated until the
 * graph is connected with 500..570 links.  For the scale sweep the grid
 * grows with the node count (same density) and alpha is set so that the
 * expected mean degree is the one asked; stray components are joined to
 * their nearest node.
 *
 * Requests: 2..10 nodes, each pair linked with p 0.5 (redrawn until
 * connected), CPU uniform (0, 20], bandwidth uniform (0, 50]; Poisson
 * arrivals at rate per 100 time units, exponential lifetimes of mean
 * 1000.  Times are whole time units, as the file format has them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "vne.h"

#define VY_ALPHA	0.5
#define VY_BETA		0.2
#define VY_GRID		100
#define VY_LINKS_MIN	500
#define VY_LINKS_MAX	570
#define VY_LIFETIME	1000.0
#define VY_DRAWS	10000	/* substrate redraws before giving up */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void
rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

double
rng_u01(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [lo, hi]. */
static int64_t
rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_u01(r) * (double)(hi - lo + 1));
}

/* Union-find root with path halving. */
static int32_t
uf_find(int32_t *p, int32_t x)
{
	while (p[x] != x) {
		p[x] = p[p[x]];
		x = p[x];
	}
	return x;
}

/* One pending substrate link of a draw. */
struct gen_link {
	int32_t a, b;		/* ends */
};

/*
 * Draw Waxman links among n placed nodes with probability alpha *
 * exp(-d / (beta * diag)).  Returns the count in *out (malloc'd), or -1.
 */
static int32_t
gen_waxman(struct rng *r, const double *x, const double *y, int32_t n,
    double alpha, double diag, struct gen_link **out)
{
	int32_t cnt = 0, cap = 1024;
	struct gen_link *l = malloc((size_t)cap * sizeof(*l));

	if (l == NULL)
		return -1;
	for (int32_t i = 0; i < n; i++)
		for (int32_t j = i + 1; j < n; j++) {
			double d = hypot(x[i] - x[j], y[i] - y[j]);

			if (rng_u01(r) >= alpha * exp(-d / (VY_BETA * diag)))
				continue;
			if (cnt == cap) {
				struct gen_link *nl;

				cap *= 2;
				if ((nl = realloc(l, (size_t)cap *
				    sizeof(*l))) == NULL) {
					free(l);
					return -1;
				}
				l = nl;
			}
			l[cnt].a = i;
			l[cnt].b = j;
			cnt++;
		}
	*out = l;
	return cnt;
}

/*
 * Join every component to the nearest node of the component holding
 * node 0, appending links to *links.  Returns the new count, or -1.
 */
static int32_t
gen_connect(const double *x, const double *y, int32_t n,
    struct gen_link **links, int32_t cnt)
{
	int32_t *p = malloc((size_t)n * sizeof(*p));
	struct gen_link *l = *links;

	if (p == NULL)
		return -1;
	for (int32_t i = 0; i < n; i++)
		p[i] = i;
	for (int32_t i = 0; i < cnt; i++)
		p[uf_find(p, l[i].a)] = uf_find(p, l[i].b);
	for (int32_t i = 1; i < n; i++) {
		struct gen_link *nl;
		int32_t best = -1;
		double bd = 0;

		if (uf_find(p, i) == uf_find(p, 0))
			continue;
		for (int32_t j = 0; j < n; j++) {
			double d = hypot(x[i] - x[j], y[i] - y[j]);

			if (uf_find(p, j) != uf_find(p, 0))
				continue;
			if (best < 0 || d < bd) {
				best = j;
				bd = d;
			}
		}
		if ((nl = realloc(l, (size_t)(cnt + 1) * sizeof(*l))) == NULL) {
			free(p);
			*links = l;
			return -1;
		}
		l = nl;
		l[cnt].a = best;
		l[cnt].b = i;
		cnt++;
		p[uf_find(p, i)] = uf_find(p, 0);
	}
	free(p);
	*links = l;
	return cnt;
}

/* 1 if the links join all n nodes. */
static int
gen_connected(int32_t n, const struct gen_link *l, int32_t cnt)
{
	int32_t *p = malloc((size_t)n * sizeof(*p)), comps = n;

	if (p == NULL)
		return 0;
	for (int32_t i = 0; i < n; i++)
		p[i] = i;
	for (int32_t i = 0; i < cnt; i++) {
		int32_t ra = uf_find(p, l[i].a), rb = uf_find(p, l[i].b);

		if (ra != rb) {
			p[ra] = rb;
			comps--;
		}
	}
	free(p);
	return comps == 1;
}

/* Make the substrate of the workload into inst->sub.  0 or -1. */
static int
gen_substrate(struct vne_inst *inst, const struct vne_params *pa,
    struct rng *r)
{
	int32_t n = pa->nodes, cnt = -1;
	double side = VY_GRID * sqrt(n / 100.0), diag = side * sqrt(2.0);
	double *x = calloc((size_t)n, sizeof(*x));
	double *y = calloc((size_t)n, sizeof(*y));
	struct gen_link *l = NULL;
	int rc = -1;

	if (x == NULL || y == NULL)
		goto out;
	for (int draw = 0; draw < VY_DRAWS; draw++) {
		double alpha = VY_ALPHA;

		for (int32_t i = 0; i < n; i++) {
			x[i] = (double)rng_range(r, 0, (int64_t)side - 1);
			y[i] = (double)rng_range(r, 0, (int64_t)side - 1);
		}
		if (pa->degree > 0) {
			double sum = 0;

			for (int32_t i = 0; i < n; i++)
				for (int32_t j = i + 1; j < n; j++)
					sum += exp(-hypot(x[i] - x[j],
					    y[i] - y[j]) / (VY_BETA * diag));
			alpha = fmin(1.0, pa->degree * n / 2.0 / sum);
		}
		free(l);
		l = NULL;
		if ((cnt = gen_waxman(r, x, y, n, alpha, diag, &l)) < 0)
			goto out;
		if (pa->degree > 0) {
			if ((cnt = gen_connect(x, y, n, &l, cnt)) < 0)
				goto out;
			break;
		}
		if (cnt >= VY_LINKS_MIN * n / 100 &&
		    cnt <= VY_LINKS_MAX * n / 100 && gen_connected(n, l, cnt))
			break;
		cnt = -1;
	}
	if (cnt < 0) {
		err_set(ERR_INTERNAL, "no connected Waxman draw in range");
		goto out;
	}
	if ((inst->sub = map_substrate_new()) == NULL)
		goto out;
	for (int32_t i = 0; i < n; i++) {
		struct map_snode sn;

		memset(&sn, 0, sizeof(sn));
		snprintf(sn.name, sizeof(sn.name), "s%d", (int)i);
		sn.x = x[i];
		sn.y = y[i];
		sn.cpu = rng_range(r, 50000, 100000);
		sn.ifaces = MAP_NONE;
		sn.pip = MAP_NONE;
		sn.kinds = MAP_KINDS_ALL;
		if (map_snode_add(inst->sub, &sn) == -1)
			goto out;
	}
	for (int32_t i = 0; i < cnt; i++) {
		double d = hypot(x[l[i].a] - x[l[i].b], y[l[i].a] - y[l[i].b]);

		if (map_slink_add(inst->sub, l[i].a, l[i].b,
		    rng_range(r, 50000, 100000), llround(d * 1000)) == -1)
			goto out;
	}
	rc = map_substrate_finalize(inst->sub);
out:
	free(x);
	free(y);
	free(l);
	return rc;
}

/* One random request of the workload; NULL on failure. */
static struct map_request *
gen_request(struct rng *r, double side, double maxd)
{
	int32_t n = (int32_t)rng_range(r, 2, 10), m;
	struct gen_link pairs[45];
	struct map_request *req;

	do {
		m = 0;
		for (int32_t i = 0; i < n; i++)
			for (int32_t j = i + 1; j < n; j++)
				if (rng_u01(r) < 0.5) {
					pairs[m].a = i;
					pairs[m].b = j;
					m++;
				}
	} while (!gen_connected(n, pairs, m));
	if ((req = map_request_new(n, m)) == NULL)
		return NULL;
	for (int32_t i = 0; i < n; i++) {
		struct map_vnode *v = &req->nodes[i];

		v->x = (double)rng_range(r, 0, (int64_t)side - 1);
		v->y = (double)rng_range(r, 0, (int64_t)side - 1);
		v->cpu = rng_range(r, 1, 20000);
		v->maxd = maxd > 0 ? maxd : -1;
	}
	for (int32_t i = 0; i < m; i++) {
		req->links[i].a = pairs[i].a;
		req->links[i].b = pairs[i].b;
		req->links[i].bw = rng_range(r, 1, 50000);
	}
	return req;
}

/*
 * Generate a workload: the substrate from seed alone (so every rate runs
 * on the same substrate), the requests from seed and rate.  0 or -1.
 */
int
vne_generate(struct vne_inst *inst, const struct vne_params *pa,
    uint64_t seed)
{
	struct rng rs, rq;
	double t = 0, side = VY_GRID * sqrt(pa->nodes / 100.0);
	int32_t cap = 0;

	memset(inst, 0, sizeof(*inst));
	inst->horizon = pa->horizon;
	rng_seed(&rs, seed * 2654435761u + (uint64_t)pa->nodes);
	rng_seed(&rq, seed * 0x100000001b3ull + (uint64_t)(pa->rate * 1000) +
	    ((uint64_t)pa->nodes << 32));
	if (gen_substrate(inst, pa, &rs) == -1)
		return -1;
	for (;;) {
		struct vne_req *vr;

		t += -log(1.0 - rng_u01(&rq)) * 100.0 / pa->rate;
		if ((int64_t)llround(t) >= pa->horizon)
			break;
		if (pa->max_reqs > 0 && inst->nreqs >= pa->max_reqs)
			break;
		if (inst->nreqs == cap) {
			struct vne_req *nr;

			cap = cap > 0 ? 2 * cap : 1024;
			if ((nr = realloc(inst->reqs, (size_t)cap *
			    sizeof(*nr))) == NULL)
				return err_nomem();
			inst->reqs = nr;
		}
		vr = &inst->reqs[inst->nreqs];
		memset(vr, 0, sizeof(*vr));
		vr->meta.time = llround(t);
		vr->meta.duration = llround(-log(1.0 - rng_u01(&rq)) *
		    VY_LIFETIME);
		if (vr->meta.duration < 1)
			vr->meta.duration = 1;
		vr->meta.maxd = pa->maxd > 0 ? pa->maxd : 0;
		if ((vr->req = gen_request(&rq, side, pa->maxd)) == NULL)
			return -1;
		inst->nreqs++;
	}
	return 0;
}

void
vne_inst_free(struct vne_inst *inst)
{
	map_substrate_free(inst->sub);
	for (int32_t i = 0; i < inst->nreqs; i++)
		map_request_free(inst->reqs[i].req);
	free(inst->reqs);
	memset(inst, 0, sizeof(*inst));
}

/* Make a directory unless it exists.  0 or -1. */
int
vne_write_dir(const char *dir)
{
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return err_sys("cannot make %s", dir);
	return 0;
}

/* Write dir/sub.txt and dir/req<i>.txt (dir made if missing).  0 or -1. */
int
vne_write(const struct vne_inst *inst, const char *dir)
{
	char path[4096];
	FILE *fp;
	int rc;

	if (vne_write_dir(dir) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/sub.txt", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return err_sys("cannot write %s", path);
	rc = vineyard_write_substrate(fp, inst->sub);
	if (fclose(fp) != 0 || rc == -1)
		return err_sys("cannot write %s", path);
	for (int32_t i = 0; i < inst->nreqs; i++) {
		snprintf(path, sizeof(path), "%s/req%d.txt", dir, (int)i);
		if ((fp = fopen(path, "w")) == NULL)
			return err_sys("cannot write %s", path);
		rc = vineyard_write_request(fp, inst->reqs[i].req,
		    &inst->reqs[i].meta);
		if (fclose(fp) != 0 || rc == -1)
			return err_sys("cannot write %s", path);
	}
	return 0;
}

/*
 * Read dir/sub.txt and dir/req0.txt, req1.txt, ... until one is missing.
 * Requests must come in order of arrival.  0 or -1.
 */
int
vne_read(struct vne_inst *inst, const char *dir, int64_t horizon)
{
	char path[4096];
	FILE *fp;
	int32_t cap = 0;

	memset(inst, 0, sizeof(*inst));
	inst->horizon = horizon;
	snprintf(path, sizeof(path), "%s/sub.txt", dir);
	if ((fp = fopen(path, "r")) == NULL)
		return err_sys("cannot read %s", path);
	inst->sub = vineyard_read_substrate(fp, path);
	fclose(fp);
	if (inst->sub == NULL)
		return -1;
	for (;;) {
		struct vne_req *vr;

		snprintf(path, sizeof(path), "%s/req%d.txt", dir,
		    (int)inst->nreqs);
		if ((fp = fopen(path, "r")) == NULL)
			break;
		if (inst->nreqs == cap) {
			struct vne_req *nr;

			cap = cap > 0 ? 2 * cap : 1024;
			if ((nr = realloc(inst->reqs, (size_t)cap *
			    sizeof(*nr))) == NULL) {
				fclose(fp);
				return err_nomem();
			}
			inst->reqs = nr;
		}
		vr = &inst->reqs[inst->nreqs];
		vr->req = vineyard_read_request(fp, path, &vr->meta);
		fclose(fp);
		if (vr->req == NULL)
			return -1;
		inst->nreqs++;
		if (inst->nreqs > 1 &&
		    vr->meta.time < inst->reqs[inst->nreqs - 2].meta.time)
			return err_set(ERR_INVALID,
			    "%s arrives before the request before it", path);
	}
	return 0;
}
