/*
 * bench/vne: mapping and admission (BENCH.md §2).
 *
 * Runs G-SP, GRC-SP and vnsm's default mapper on the same VY-100
 * instances over several seeds and arrival rates, prints a table per
 * algorithm and vnsm's ratios to GRC-SP, then the decision times of a
 * scale sweep from 100 to 5000 substrate nodes.  See --help.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vne.h"

#define VNE_MAX_RATES	16
#define VNE_MAX_SWEEP	16
#define VNE_HORIZON	50000

/* Command line settings. */
struct vne_opts {
	int seeds;			/* seeds 1..seeds */
	double rates[VNE_MAX_RATES];	/* arrivals per 100 time units */
	int nrates;			/* entries of rates */
	int32_t sweep[VNE_MAX_SWEEP];	/* substrate sizes of the sweep */
	int nsweep;			/* entries of sweep; 0: no sweep */
	const char *write_dir;		/* write instances here, or NULL */
	const char *read_dir;		/* read instances from here, or NULL */
	double maxd;			/* location bound variant; <= 0: none */
	int roots;			/* vnsm first hosts, 0: its default */
};

/* Mean of each metric over the seeds of one (algorithm, rate). */
struct vne_agg {
	struct vne_stats sum;		/* sums of each field */
	double acc_min, acc_max;	/* acceptance over seeds */
	int n;				/* seeds summed */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: vne [--seeds N] [--rates R,R,...] [--sweep N,N,...] "
	    "[--quick]\n"
	    "           [--write-instances DIR | --read-instances DIR] "
	    "[--maxd D] [--roots K]\n"
	    "  --seeds N             seeds 1..N (default 10)\n"
	    "  --rates LIST          arrivals per 100 time units "
	    "(default 4,5,6,8)\n"
	    "  --sweep LIST          substrate sizes of the scale sweep, "
	    "or 0 for none\n"
	    "                        (default 100,500,1000,2000,5000)\n"
	    "  --quick               3 seeds, rates 4,8, sweep 100,1000\n"
	    "  --write-instances DIR write every instance in ViNE-Yard "
	    "format under DIR\n"
	    "  --read-instances DIR  run on instances read from DIR "
	    "instead of generating\n"
	    "                        (DIR/s<seed>/r<rate>/sub.txt, "
	    "req<i>.txt)\n"
	    "  --maxd D              location-bound variant: each virtual "
	    "node within D\n"
	    "  --roots K             first hosts the vnsm mapper tries "
	    "(default: auto)\n");
}

/* Parse "a,b,c" into up to max doubles; count or -1. */
static int
parse_list(const char *s, double *out, int max)
{
	int n = 0;
	char *end;

	while (*s != '\0') {
		if (n == max)
			return -1;
		out[n++] = strtod(s, &end);
		if (end == s || (*end != ',' && *end != '\0'))
			return -1;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static void
agg_add(struct vne_agg *a, const struct vne_stats *s)
{
	double acc = s->arrived ? (double)s->accepted / s->arrived : 0;

	if (a->n == 0 || acc < a->acc_min)
		a->acc_min = acc;
	if (a->n == 0 || acc > a->acc_max)
		a->acc_max = acc;
	a->n++;
	a->sum.arrived += s->arrived;
	a->sum.accepted += s->accepted;
	a->sum.revenue += s->revenue;
	a->sum.cost += s->cost;
	a->sum.lar += s->lar;
	a->sum.node_util += s->node_util;
	a->sum.link_util += s->link_util;
	a->sum.dec_p50 += s->dec_p50;
	a->sum.dec_p99 += s->dec_p99;
	a->sum.chk_p50 += s->chk_p50;
	a->sum.chk_p99 += s->chk_p99;
	a->sum.adm_p50 += s->adm_p50;
	a->sum.wall_s += s->wall_s;
}

/*
 * One (rate, algorithm) cell.  Acceptance and R/C are averaged per seed,
 * as the literature does; the other metrics are summed in agg.
 */
struct vne_cell {
	struct vne_agg agg;		/* sums */
	double acc_sum;			/* sum of per-seed acceptance */
	double rc_sum;			/* sum of per-seed R/C */
};

static double
cell_acc(const struct vne_cell *c)
{
	return c->agg.n ? c->acc_sum / c->agg.n : 0;
}

static double
cell_rc(const struct vne_cell *c)
{
	return c->agg.n ? c->rc_sum / c->agg.n : 0;
}

static double
cell_mean(const struct vne_cell *c, double v)
{
	return c->agg.n ? v / c->agg.n : 0;
}

static void
cell_add(struct vne_cell *c, const struct vne_stats *s)
{
	agg_add(&c->agg, s);
	c->acc_sum += s->arrived ? (double)s->accepted / s->arrived : 0;
	c->rc_sum += s->cost > 0 ? s->revenue / s->cost : 0;
}

/* Load or make the instance of (seed, rate); write it if asked. 0/-1. */
static int
get_instance(const struct vne_opts *o, struct vne_inst *inst,
    const struct vne_params *pa, int seed, const char *tag)
{
	char dir[4096];

	if (o->read_dir != NULL) {
		snprintf(dir, sizeof(dir), "%s/%s", o->read_dir, tag);
		return vne_read(inst, dir, pa->horizon);
	}
	if (vne_generate(inst, pa, (uint64_t)seed) == -1)
		return -1;
	if (o->write_dir != NULL) {
		char parent[4096];
		const char *slash = strchr(tag, '/');

		if (slash != NULL) {
			snprintf(parent, sizeof(parent), "%s/%.*s", o->write_dir,
			    (int)(slash - tag), tag);
			if (vne_write_dir(parent) == -1)
				return -1;
		}
		snprintf(dir, sizeof(dir), "%s/%s", o->write_dir, tag);
		return vne_write(inst, dir);
	}
	return 0;
}

static void
print_algo_table(enum map_algo a, const struct vne_opts *o,
    struct vne_cell cells[][MAP_ALGO_LAST])
{
	printf("\n%s (mean over %d seeds; times are per-seed p50/p99, "
	    "averaged)\n", a == MAP_ALGO_GRC ? "GRC-SP" :
	    a == MAP_ALGO_GSP ? "G-SP" : "vnsm", o->seeds);
	printf("%5s %7s %8s %15s %6s %8s %6s %6s %9s %9s %8s %8s\n",
	    "rate", "reqs", "accept%", "(min-max)", "R/C", "LAR", "node%",
	    "link%", "dec50us", "dec99us", "chk50us", "adm50us");
	for (int r = 0; r < o->nrates; r++) {
		const struct vne_cell *c = &cells[r][a];
		const struct vne_stats *s = &c->agg.sum;

		printf("%5g %7.0f %8.2f %7.2f-%-7.2f %6.3f %8.1f %6.1f %6.1f "
		    "%9.1f %9.1f %8.2f %8.2f\n", o->rates[r],
		    cell_mean(c, s->arrived), 100 * cell_acc(c),
		    100 * c->agg.acc_min, 100 * c->agg.acc_max, cell_rc(c),
		    cell_mean(c, s->lar), 100 * cell_mean(c, s->node_util),
		    100 * cell_mean(c, s->link_util), cell_mean(c, s->dec_p50),
		    cell_mean(c, s->dec_p99), cell_mean(c, s->chk_p50),
		    cell_mean(c, s->adm_p50));
	}
}

/* The seeds x rates runs, tables and ratios.  0 or -1. */
static int
run_main(const struct vne_opts *o)
{
	struct vne_cell (*cells)[MAP_ALGO_LAST];
	int rc = -1;

	if ((cells = calloc((size_t)o->nrates, sizeof(*cells))) == NULL)
		return err_nomem();
	printf("VY-100: 100 substrate nodes, Waxman(0.5, 0.2), requests "
	    "2-10 nodes, %d seeds, horizon %d%s\n", o->seeds, VNE_HORIZON,
	    o->maxd > 0 ? ", location bound" : "");
	for (int r = 0; r < o->nrates; r++)
		for (int seed = 1; seed <= o->seeds; seed++) {
			struct vne_params pa = { 100, 0, o->rates[r],
			    VNE_HORIZON, 0, o->maxd };
			struct vne_inst inst;
			char tag[64];

			snprintf(tag, sizeof(tag), "s%d/r%g", seed, o->rates[r]);
			if (get_instance(o, &inst, &pa, seed, tag) == -1)
				goto out;
			for (int a = 0; a < MAP_ALGO_LAST; a++) {
				struct vne_stats st;

				if (vne_simulate(&inst, a, &st, o->roots) == -1) {
					vne_inst_free(&inst);
					goto out;
				}
				cell_add(&cells[r][a], &st);
			}
			fprintf(stderr, "  rate %g seed %d: %d requests, "
			    "accepted gsp %.3f grc %.3f vnsm %.3f\n",
			    o->rates[r], seed, inst.nreqs,
			    cells[r][0].acc_sum / cells[r][0].agg.n,
			    cells[r][1].acc_sum / cells[r][1].agg.n,
			    cells[r][2].acc_sum / cells[r][2].agg.n);
			vne_inst_free(&inst);
		}
	for (int a = 0; a < MAP_ALGO_LAST; a++)
		print_algo_table(a, o, cells);
	printf("\nvnsm vs GRC-SP (same instances)\n");
	printf("%5s %10s %10s %8s %8s %9s %9s\n", "rate", "accept-pp",
	    "accept-x", "R/C-x", "LAR-x", "linkutil-x", "dec50-x");
	for (int r = 0; r < o->nrates; r++) {
		const struct vne_cell *v = &cells[r][MAP_ALGO_VNSM];
		const struct vne_cell *g = &cells[r][MAP_ALGO_GRC];

		printf("%5g %+10.2f %10.3f %8.3f %8.3f %9.3f %9.2f\n",
		    o->rates[r], 100 * (cell_acc(v) - cell_acc(g)),
		    cell_acc(v) / cell_acc(g), cell_rc(v) / cell_rc(g),
		    v->agg.sum.lar / g->agg.sum.lar,
		    v->agg.sum.link_util / g->agg.sum.link_util,
		    v->agg.sum.dec_p50 / g->agg.sum.dec_p50);
	}
	rc = 0;
out:
	free(cells);
	return rc;
}

/* The scale sweep: decision and admission times by substrate size. */
static int
run_sweep(const struct vne_opts *o)
{
	printf("\nScale sweep: Waxman, mean degree ~10, rate 4 per 100 "
	    "time units per 100 nodes, seed 1\n");
	printf("%6s %6s %6s %6s %8s %6s %9s %9s %8s %8s %7s\n", "nodes",
	    "links", "algo", "reqs", "accept%", "R/C", "dec50us", "dec99us",
	    "chk50us", "adm50us", "wall_s");
	for (int i = 0; i < o->nsweep; i++) {
		int32_t n = o->sweep[i];
		int32_t reqs = n * 3 / 5 > 2000 ? n * 3 / 5 : 2000;
		struct vne_params pa = { n, 10, 4.0 * n / 100, VNE_HORIZON,
		    reqs, 0 };
		struct vne_inst inst;
		char tag[64];

		snprintf(tag, sizeof(tag), "sweep%d", (int)n);
		if (get_instance(o, &inst, &pa, 1, tag) == -1)
			return -1;
		/* The horizon ends at the last arrival. */
		if (inst.nreqs > 0)
			inst.horizon = inst.reqs[inst.nreqs - 1].meta.time + 1;
		for (int a = 0; a < MAP_ALGO_LAST; a++) {
			struct vne_stats st;

			if (vne_simulate(&inst, a, &st, o->roots) == -1) {
				vne_inst_free(&inst);
				return -1;
			}
			printf("%6d %6d %6s %6d %8.2f %6.3f %9.1f %9.1f %8.2f "
			    "%8.2f %7.1f\n", (int)n, (int)inst.sub->nlinks,
			    map_algo_to_string(a), (int)st.arrived,
			    100.0 * st.accepted / st.arrived,
			    st.cost > 0 ? st.revenue / st.cost : 0, st.dec_p50,
			    st.dec_p99, st.chk_p50, st.adm_p50, st.wall_s);
			fflush(stdout);
		}
		vne_inst_free(&inst);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seeds", required_argument, NULL, 's' },
		{ "rates", required_argument, NULL, 'r' },
		{ "sweep", required_argument, NULL, 'w' },
		{ "quick", no_argument, NULL, 'q' },
		{ "write-instances", required_argument, NULL, 'W' },
		{ "read-instances", required_argument, NULL, 'R' },
		{ "maxd", required_argument, NULL, 'm' },
		{ "roots", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct vne_opts o = { .seeds = 10, .rates = { 4, 5, 6, 8 },
	    .nrates = 4, .sweep = { 100, 500, 1000, 2000, 5000 },
	    .nsweep = 5 };
	double tmp[VNE_MAX_SWEEP];
	int ch, n;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.seeds = atoi(optarg);
			if (o.seeds < 1 || o.seeds > 1000) {
				fprintf(stderr, "vne: --seeds wants 1..1000, "
				    "not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			if ((n = parse_list(optarg, o.rates, VNE_MAX_RATES)) < 1) {
				fprintf(stderr, "vne: bad --rates '%s'\n", optarg);
				return 2;
			}
			o.nrates = n;
			break;
		case 'w':
			if ((n = parse_list(optarg, tmp, VNE_MAX_SWEEP)) < 1) {
				fprintf(stderr, "vne: bad --sweep '%s'\n", optarg);
				return 2;
			}
			o.nsweep = 0;
			for (int i = 0; i < n; i++)
				if (tmp[i] >= 10)
					o.sweep[o.nsweep++] = (int32_t)tmp[i];
			break;
		case 'q':
			o.seeds = 3;
			o.rates[0] = 4;
			o.rates[1] = 8;
			o.nrates = 2;
			o.sweep[0] = 100;
			o.sweep[1] = 1000;
			o.nsweep = 2;
			break;
		case 'W':
			o.write_dir = optarg;
			break;
		case 'R':
			o.read_dir = optarg;
			break;
		case 'm':
			o.maxd = atof(optarg);
			break;
		case 'k':
			o.roots = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (o.write_dir != NULL && o.read_dir != NULL)) {
		usage(stderr);
		return 2;
	}
	if (o.write_dir != NULL && vne_write_dir(o.write_dir) == -1)
		goto fail;
	if (run_main(&o) == -1 || run_sweep(&o) == -1)
		goto fail;
	return 0;
fail:
	err_print(stderr);
	return 1;
}
