/*
 * ViNE-Yard text format: read and write substrates and requests.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vineyard.h"

#define VY_LINE_MAX	512

/* A line reader that counts lines for messages. */
struct vy_in {
	FILE *fp;			/* the stream read */
	const char *name;		/* file name for messages */
	long line;			/* number of the line in buf */
	char buf[VY_LINE_MAX];		/* current line, NUL-terminated */
	char *pos;			/* next character to parse in buf */
};

/* Read the next non-empty line.  0, or -1 at end of file or error. */
static int
vy_next(struct vy_in *in)
{
	for (;;) {
		size_t len;

		if (fgets(in->buf, sizeof(in->buf), in->fp) == NULL) {
			err_at(ERR_INVALID, NULL, in->line,
			    "the file ends too early");
			err_file(in->name);
			return -1;
		}
		in->line++;
		len = strlen(in->buf);
		if (len == sizeof(in->buf) - 1 && in->buf[len - 1] != '\n') {
			err_at(ERR_INVALID, NULL, in->line,
			    "line longer than %d bytes", VY_LINE_MAX - 2);
			err_file(in->name);
			return -1;
		}
		in->pos = in->buf;
		in->pos += strspn(in->pos, " \t\r\n");
		if (*in->pos != '\0')
			return 0;
	}
}

/* Parse one number of the current line as a double.  0 or -1. */
static int
vy_double(struct vy_in *in, const char *what, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(in->pos, &end);
	if (end == in->pos || errno != 0 || !isfinite(*out) ||
	    (*end != '\0' && strchr(" \t\r\n", *end) == NULL)) {
		err_at(ERR_INVALID, NULL, in->line,
		    "expected a number for %s at '%.32s'", what, in->pos);
		err_file(in->name);
		return -1;
	}
	in->pos = end + strspn(end, " \t\r\n");
	return 0;
}

/* Parse an integer in [lo, hi].  0 or -1. */
static int
vy_int(struct vy_in *in, const char *what, int64_t lo, int64_t hi,
    int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(in->pos, &end, 10);
	if (end == in->pos || errno != 0 ||
	    (*end != '\0' && strchr(" \t\r\n", *end) == NULL)) {
		err_at(ERR_INVALID, NULL, in->line,
		    "expected an integer for %s at '%.32s'", what, in->pos);
		err_file(in->name);
		return -1;
	}
	if (v < lo || v > hi) {
		err_at(ERR_INVALID, NULL, in->line,
		    "%s is %lld, not in %lld..%lld", what, v, (long long)lo,
		    (long long)hi);
		err_file(in->name);
		return -1;
	}
	*out = v;
	in->pos = end + strspn(end, " \t\r\n");
	return 0;
}

/* Parse a non-negative amount in units, kept in thousandths. 0 or -1. */
static int
vy_milli(struct vy_in *in, const char *what, int64_t *out)
{
	double v;

	if (vy_double(in, what, &v) == -1)
		return -1;
	if (v < 0 || v > 1e12) {
		err_at(ERR_INVALID, NULL, in->line,
		    "%s is %g, not in 0..1e12", what, v);
		err_file(in->name);
		return -1;
	}
	*out = llround(v * 1000.0);
	return 0;
}

/* The line must have nothing left. 0 or -1. */
static int
vy_end(struct vy_in *in)
{
	if (*in->pos == '\0')
		return 0;
	err_at(ERR_INVALID, NULL, in->line, "unexpected '%.32s' at line end",
	    in->pos);
	err_file(in->name);
	return -1;
}

/* Print a thousandths amount as units with three decimals. */
static int
vy_put_milli(FILE *fp, int64_t v, const char *sep)
{
	return fprintf(fp, "%s%" PRId64 ".%03" PRId64, sep, v / 1000,
	    v % 1000);
}

int
vineyard_write_substrate(FILE *fp, const struct map_substrate *sub)
{
	fprintf(fp, "%d %d\n", (int)sub->nnodes, (int)sub->nlinks);
	for (int32_t i = 0; i < sub->nnodes; i++) {
		const struct map_snode *n = &sub->nodes[i];

		fprintf(fp, "%.17g %.17g", n->x, n->y);
		vy_put_milli(fp, n->cpu, " ");
		fputc('\n', fp);
	}
	for (int32_t i = 0; i < sub->nlinks; i++) {
		const struct map_slink *l = &sub->links[i];

		fprintf(fp, "%d %d", (int)l->a, (int)l->b);
		vy_put_milli(fp, l->bw, " ");
		vy_put_milli(fp, l->delay, " ");
		fputc('\n', fp);
	}
	if (ferror(fp))
		return err_sys("cannot write a substrate");
	return 0;
}

struct map_substrate *
vineyard_read_substrate(FILE *fp, const char *name)
{
	struct vy_in in = { .fp = fp, .name = name };
	struct map_substrate *sub;
	int64_t n, m;

	if ((sub = map_substrate_new()) == NULL)
		return NULL;
	if (vy_next(&in) == -1 ||
	    vy_int(&in, "the node count", 1, VINEYARD_MAX_NODES, &n) == -1 ||
	    vy_int(&in, "the link count", 0, VINEYARD_MAX_LINKS, &m) == -1 ||
	    vy_end(&in) == -1)
		goto fail;
	for (int64_t i = 0; i < n; i++) {
		struct map_snode sn;

		memset(&sn, 0, sizeof(sn));
		sn.ifaces = MAP_NONE;
		sn.pip = MAP_NONE;
		sn.kinds = MAP_KINDS_ALL;
		if (vy_next(&in) == -1 || vy_double(&in, "x", &sn.x) == -1 ||
		    vy_double(&in, "y", &sn.y) == -1 ||
		    vy_milli(&in, "cpu", &sn.cpu) == -1 || vy_end(&in) == -1)
			goto fail;
		if (map_snode_add(sub, &sn) == -1)
			goto fail;
	}
	for (int64_t i = 0; i < m; i++) {
		int64_t a, b, bw, delay;

		if (vy_next(&in) == -1 ||
		    vy_int(&in, "a link end", 0, n - 1, &a) == -1 ||
		    vy_int(&in, "a link end", 0, n - 1, &b) == -1 ||
		    vy_milli(&in, "bandwidth", &bw) == -1 ||
		    vy_milli(&in, "delay", &delay) == -1 || vy_end(&in) == -1)
			goto fail;
		if (map_slink_add(sub, (int32_t)a, (int32_t)b, bw, delay) ==
		    -1) {
			err_file(name);
			goto fail;
		}
	}
	if (map_substrate_finalize(sub) == -1)
		goto fail;
	return sub;
fail:
	map_substrate_free(sub);
	return NULL;
}

int
vineyard_write_request(FILE *fp, const struct map_request *req,
    const struct vineyard_meta *m)
{
	double maxd = req->nodes[0].maxd > 0 ? req->nodes[0].maxd : 0;

	fprintf(fp, "%d %d %d %" PRId64 " %" PRId64 " %d %.17g\n",
	    (int)req->nnodes, (int)req->nlinks, (int)m->split, m->time,
	    m->duration, (int)m->topo, maxd);
	for (int32_t i = 0; i < req->nnodes; i++) {
		const struct map_vnode *v = &req->nodes[i];

		fprintf(fp, "%.17g %.17g", v->x, v->y);
		vy_put_milli(fp, v->cpu, " ");
		fputc('\n', fp);
	}
	for (int32_t i = 0; i < req->nlinks; i++) {
		const struct map_vlink *l = &req->links[i];

		fprintf(fp, "%d %d", (int)l->a, (int)l->b);
		vy_put_milli(fp, l->bw, " ");
		fputs(" 0.000\n", fp);
	}
	if (ferror(fp))
		return err_sys("cannot write a request");
	return 0;
}

struct map_request *
vineyard_read_request(FILE *fp, const char *name, struct vineyard_meta *mp)
{
	struct vy_in in = { .fp = fp, .name = name };
	struct vineyard_meta meta;
	struct map_request *req = NULL;
	int64_t n, m, split, topo;

	if (vy_next(&in) == -1 ||
	    vy_int(&in, "the node count", 1, VINEYARD_MAX_NODES, &n) == -1 ||
	    vy_int(&in, "the link count", 0, VINEYARD_MAX_LINKS, &m) == -1 ||
	    vy_int(&in, "split", 0, 1, &split) == -1 ||
	    vy_int(&in, "time", 0, INT64_MAX / 4, &meta.time) == -1 ||
	    vy_int(&in, "duration", 0, INT64_MAX / 4, &meta.duration) == -1 ||
	    vy_int(&in, "topo", INT32_MIN, INT32_MAX, &topo) == -1 ||
	    vy_double(&in, "maxD", &meta.maxd) == -1 || vy_end(&in) == -1)
		return NULL;
	meta.split = (int32_t)split;
	meta.topo = (int32_t)topo;
	if ((req = map_request_new((int32_t)n, (int32_t)m)) == NULL)
		return NULL;
	for (int32_t i = 0; i < req->nnodes; i++) {
		struct map_vnode *v = &req->nodes[i];

		if (vy_next(&in) == -1 || vy_double(&in, "x", &v->x) == -1 ||
		    vy_double(&in, "y", &v->y) == -1 ||
		    vy_milli(&in, "cpu", &v->cpu) == -1 || vy_end(&in) == -1)
			goto fail;
		v->maxd = meta.maxd > 0 ? meta.maxd : -1;
	}
	for (int32_t i = 0; i < req->nlinks; i++) {
		struct map_vlink *l = &req->links[i];
		int64_t a, b, delay;

		if (vy_next(&in) == -1 ||
		    vy_int(&in, "a link end", 0, n - 1, &a) == -1 ||
		    vy_int(&in, "a link end", 0, n - 1, &b) == -1 ||
		    vy_milli(&in, "bandwidth", &l->bw) == -1 ||
		    vy_milli(&in, "delay", &delay) == -1 || vy_end(&in) == -1)
			goto fail;
		if (a == b) {
			err_at(ERR_TOPOLOGY, NULL, in.line,
			    "virtual link %d joins node %d to itself", (int)i,
			    (int)a);
			err_file(name);
			goto fail;
		}
		l->a = (int32_t)a;
		l->b = (int32_t)b;
	}
	if (mp != NULL)
		*mp = meta;
	return req;
fail:
	map_request_free(req);
	return NULL;
}
