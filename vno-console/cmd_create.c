/*
 * vno create FILE [--discovery pip|vnp] [--wait]: ask for a VNet, and
 * with --wait follow it step by step and node by node until it is up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vno.h"

const char cmd_create_help[] =
    "Hand the VNet document FILE (\"-\": standard input) to the VNP.\n"
    "The VNP maps it across its PIPs and builds it; this returns as soon\n"
    "as the VNP has accepted the request, unless --wait is given.\n\n"
    "  --discovery pip   split the VNet and let each PIP map its part\n"
    "  --discovery vnp   the VNP maps the whole VNet on the PIPs'\n"
    "                    advertisements (default: the VNP's setting)\n"
    "  --wait            follow the creation: one line per step as it\n"
    "                    completes and per node as its state changes,\n"
    "                    until the VNet is ready (exit 0) or failed\n"
    "                    (exit 6, with the reason)\n"
    "  --timeout SECONDS give up waiting after this long (default 300;\n"
    "                    exit 5; the VNet is not deleted)\n";

struct create_opts {
	const char *discovery;	/* NULL: the VNP's default */
	int wait;
	long timeout_s;
};

static int
create_flag(int argc, char **argv, int *i, void *arg)
{
	struct create_opts *o = arg;
	char *end;

	if (strcmp(argv[*i], "--wait") == 0) {
		o->wait = 1;
		return 1;
	}
	if (strcmp(argv[*i], "--discovery") == 0) {
		if (*i + 1 >= argc || (strcmp(argv[*i + 1], "pip") != 0 &&
		    strcmp(argv[*i + 1], "vnp") != 0))
			return vno_usage("create", "--discovery takes pip or "
			    "vnp"), -1;
		o->discovery = argv[++*i];
		return 1;
	}
	if (strcmp(argv[*i], "--timeout") == 0) {
		if (*i + 1 >= argc)
			return vno_usage("create", "--timeout needs seconds"),
			    -1;
		o->timeout_s = strtol(argv[++*i], &end, 10);
		if (*end != '\0' || o->timeout_s < 1)
			return vno_usage("create", "--timeout '%s': a number "
			    "of seconds", argv[*i]), -1;
		return 1;
	}
	return 0;
}

/* What has been printed already, so that each line shows once. */
struct seen {
	char steps[64][2 * NAME_LEN];	/* "STEP/PIP" */
	size_t nsteps;
	char nodes[256][NAME_LEN];
	int states[256];
	size_t nnodes;
};

static void
progress(const struct manifest *m, struct seen *s, FILE *fp)
{
	for (size_t i = 0; i < m->nsteps; i++) {
		char key[2 * NAME_LEN];
		int known = 0;

		snprintf(key, sizeof(key), "%s/%s",
		    step_to_string(m->steps[i].step), m->steps[i].pip);
		for (size_t k = 0; k < s->nsteps; k++)
			known |= strcmp(s->steps[k], key) == 0;
		if (known || s->nsteps == NELEM(s->steps))
			continue;
		str_lcpy(s->steps[s->nsteps++], key, sizeof(s->steps[0]));
		fprintf(fp, "  step %-15s %10.3f ms%s%s\n",
		    step_to_string(m->steps[i].step), m->steps[i].ms,
		    m->steps[i].pip[0] ? "  at " : "", m->steps[i].pip);
	}
	for (size_t i = 0; i < m->nnodes; i++) {
		size_t k;

		for (k = 0; k < s->nnodes; k++)
			if (strcmp(s->nodes[k], m->nodes[i].name) == 0)
				break;
		if (k == s->nnodes) {
			if (s->nnodes == NELEM(s->nodes))
				continue;
			str_lcpy(s->nodes[k], m->nodes[i].name,
			    sizeof(s->nodes[0]));
			s->states[k] = -1;
			s->nnodes++;
		}
		if (s->states[k] == (int)m->nodes[i].state)
			continue;
		s->states[k] = (int)m->nodes[i].state;
		fprintf(fp, "  node");
		show_node_line(&m->nodes[i], fp);
	}
	fflush(fp);
}

/* Poll the VNet until it is up or failed; returns the exit code. */
static int
create_wait(struct vno_client *c, const char *name, long timeout_s)
{
	FILE *fp = c->xml ? stderr : stdout;
	struct seen *s = calloc(1, sizeof(*s));
	double t0 = now_ms();
	char path[128];
	int rc = VNO_EXIT_PEER;

	if (s == NULL)
		return VNO_EXIT_PEER;
	snprintf(path, sizeof(path), "/v1/vnets/%s", name);
	while (now_ms() - t0 < (double)timeout_s * 1000) {
		struct http_response resp;
		struct manifest *m;
		/*
		 * 20 ms for the first 2 s, then 200 ms: a VNet of pooled
		 * nodes is ready in well under 200 ms, and a 200 ms step
		 * from the start made "ready in N ms" up to 200 ms late.
		 */
		struct timespec ts = { 0, (now_ms() - t0 < 2000 ? 20 : 200) *
		    1000 * 1000 };

		if (vno_call(c, "GET", path, NULL, NULL, 0, &resp) == -1) {
			rc = vno_report(c, name, &resp);
			http_response_clear(&resp);
			break;
		}
		if (resp.status != 200) {
			fprintf(fp, "%s: failed\n", name);
			rc = vno_report(c, name, &resp);
			if (resp.status != 404 && resp.status != 403)
				rc = VNO_EXIT_FAILED;
			http_response_clear(&resp);
			break;
		}
		if ((m = manifest_parse(resp.body, resp.len, name)) == NULL) {
			err_print(stderr);
			http_response_clear(&resp);
			break;
		}
		progress(m, s, fp);
		if (m->state == VS_READY || m->state == VS_DEGRADED) {
			fprintf(fp, "%s: %s in %.0f ms\n", name,
			    vnet_state_to_string(m->state), now_ms() - t0);
			if (c->xml)
				fwrite(resp.body, 1, resp.len, stdout);
			rc = m->state == VS_READY ? VNO_EXIT_OK :
			    VNO_EXIT_FAILED;
			manifest_free(m);
			http_response_clear(&resp);
			free(s);
			return rc;
		}
		manifest_free(m);
		http_response_clear(&resp);
		nanosleep(&ts, NULL);
	}
	if (now_ms() - t0 >= (double)timeout_s * 1000)
		fprintf(stderr, "vno: %s: not ready after %ld s; it goes on "
		    "(vno status %s)\n", name, timeout_s, name);
	free(s);
	return rc;
}

int
cmd_create(int argc, char **argv)
{
	struct create_opts o = { NULL, 0, 300 };
	struct vno_client c;
	struct http_response resp;
	struct manifest *m;
	char *pos[1], *doc, path[64], name[NAME_LEN];
	size_t len;
	int n, rc;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 1, 1, &n, create_flag, &o,
	    NULL)) != 0)
		return rc;
	if ((doc = vno_read_file(pos[0], &len)) == NULL) {
		err_print(stderr);
		return VNO_EXIT_USAGE;
	}
	if ((rc = vno_client_open(&c)) != 0) {
		free(doc);
		return rc;
	}
	snprintf(path, sizeof(path), "/v1/vnets%s%s",
	    o.discovery ? "?discovery=" : "", o.discovery ? o.discovery : "");
	if (vno_call(&c, "POST", path, NULL, doc, len, &resp) == -1 ||
	    resp.status != 202) {
		rc = vno_report(&c, pos[0], &resp);
		goto out;
	}
	if ((m = manifest_parse(resp.body, resp.len, "answer")) == NULL) {
		err_print(stderr);
		rc = VNO_EXIT_PEER;
		goto out;
	}
	str_lcpy(name, m->vnet, sizeof(name));
	fprintf(c.xml ? stderr : stdout, "%s: accepted, discovery at %s\n",
	    name, m->discovery >= 0 ? discovery_to_string(m->discovery) : "?");
	manifest_free(m);
	if (o.wait)
		rc = create_wait(&c, name, o.timeout_s);
	else if (c.xml)
		fwrite(resp.body, 1, resp.len, stdout);
out:
	http_response_clear(&resp);
	free(doc);
	vno_client_close(&c);
	return rc;
}
