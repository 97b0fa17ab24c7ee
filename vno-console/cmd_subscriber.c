/*
 * vno subscriber add|set|remove|list|token VNET [NAME] [options]: the
 * homes a VNO enrols itself (VNO-initiated attachment), and enrolment
 * tokens for homes that attach themselves (vno attach --token).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "vno.h"

const char cmd_subscriber_help[] =
    "  vno subscriber add VNET NAME --access-point AP [options] [--token]\n"
    "  vno subscriber set VNET NAME [options]\n"
    "  vno subscriber remove VNET NAME\n"
    "  vno subscriber list VNET\n"
    "  vno subscriber token VNET NAME [--seconds N]\n"
    "\n"
    "add enrols home NAME at access point AP of VNET: the VNP has the\n"
    "PIP of that access point provision the home's gateway and access\n"
    "link; the home then attaches with vno attach.  set changes the\n"
    "home's settings (applied without breaking its tunnel); remove takes\n"
    "the home and its gateway away; list prints one line per home:\n"
    "NAME AP LINE C-VLAN S-VLAN GATEWAY PIP HOST KEY STATE.  token (or\n"
    "add --token) prints a one-time enrolment token for the home\n"
    "(valid --seconds N, default a day), shown once and kept nowhere.\n"
    "\n"
    "Options: --line L, --c-vlan N, --s-vlan M (1-4094), the home's\n"
    "gateway: --lan A.B.C.D/N, --dhcp-from A, --dhcp-to A, --lease S,\n"
    "--dns 'A B', --forward [tcp|udp:]PORT:HOST[:PORT] (repeatable), or\n"
    "--gateway FILE holding a <gateway> element (docs/formats.md).\n";

#define FWD_MAX	16

struct sub_opts {
	const char *ap, *line, *cvlan, *svlan;
	const char *lan, *from, *to, *lease, *dns, *gwfile;
	const char *fwd[FWD_MAX];
	int nfwd;
	int token;
	long seconds;
};

static int
sub_flag(int argc, char **argv, int *i, void *arg)
{
	static const struct { const char *flag; size_t off; } v[] = {
		{ "--access-point", offsetof(struct sub_opts, ap) },
		{ "--line", offsetof(struct sub_opts, line) },
		{ "--c-vlan", offsetof(struct sub_opts, cvlan) },
		{ "--s-vlan", offsetof(struct sub_opts, svlan) },
		{ "--lan", offsetof(struct sub_opts, lan) },
		{ "--dhcp-from", offsetof(struct sub_opts, from) },
		{ "--dhcp-to", offsetof(struct sub_opts, to) },
		{ "--lease", offsetof(struct sub_opts, lease) },
		{ "--dns", offsetof(struct sub_opts, dns) },
		{ "--gateway", offsetof(struct sub_opts, gwfile) },
	};
	struct sub_opts *o = arg;

	if (strcmp(argv[*i], "--token") == 0) {
		o->token = 1;
		return 1;
	}
	if (strcmp(argv[*i], "--seconds") == 0 ||
	    strcmp(argv[*i], "--forward") == 0) {
		char *end;

		if (*i + 1 >= argc)
			return vno_usage("subscriber", "%s needs a value",
			    argv[*i]), -1;
		if (strcmp(argv[*i], "--forward") == 0) {
			if (o->nfwd == FWD_MAX)
				return vno_usage("subscriber", "at most %d "
				    "--forward", FWD_MAX), -1;
			o->fwd[o->nfwd++] = argv[++*i];
			return 1;
		}
		o->seconds = strtol(argv[++*i], &end, 10);
		if (*end != '\0' || o->seconds < 60)
			return vno_usage("subscriber", "--seconds '%s': a "
			    "number of seconds, at least 60", argv[*i]), -1;
		return 1;
	}
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
		if (strcmp(argv[*i], v[k].flag) == 0) {
			if (*i + 1 >= argc)
				return vno_usage("subscriber", "%s needs a "
				    "value", argv[*i]), -1;
			*(const char **)((char *)o + v[k].off) = argv[++*i];
			return 1;
		}
	return 0;
}

/* The <gateway> element of the options, or "" if none was given. */
static int
gw_element(struct buf *b, const struct sub_opts *o)
{
	char *f;
	size_t len;

	if (o->gwfile != NULL) {
		if ((f = vno_read_file(o->gwfile, &len)) == NULL) {
			fprintf(stderr, "vno: subscriber: cannot read %s\n",
			    o->gwfile);
			return -1;
		}
		/* Drop an XML declaration: the element goes inside ours. */
		if (strncmp(f, "<?xml", 5) == 0 && strstr(f, "?>") != NULL)
			buf_puts(b, strstr(f, "?>") + 2);
		else
			buf_puts(b, f);
		free(f);
		return 0;
	}
	if (o->lan == NULL && o->from == NULL && o->to == NULL &&
	    o->lease == NULL && o->dns == NULL && o->nfwd == 0)
		return 0;
	buf_puts(b, "<gateway");
	buf_attr(b, "lan", o->lan != NULL ? o->lan : "192.168.1.1/24");
	if (o->from != NULL)
		buf_attr(b, "dhcp-from", o->from);
	if (o->to != NULL)
		buf_attr(b, "dhcp-to", o->to);
	if (o->lease != NULL)
		buf_attr(b, "lease", o->lease);
	if (o->dns != NULL)
		buf_attr(b, "dns", o->dns);
	buf_puts(b, ">");
	for (int i = 0; i < o->nfwd; i++) {
		char w[4][64], *s, *save = NULL;
		int n = 0;

		if (strlen(o->fwd[i]) >= sizeof(w[0])) {
			vno_usage("subscriber", "--forward '%s' is too long",
			    o->fwd[i]);
			return -1;
		}
		char tmp[64];

		str_lcpy(tmp, o->fwd[i], sizeof(tmp));
		for (s = strtok_r(tmp, ":", &save); s != NULL && n < 4;
		    s = strtok_r(NULL, ":", &save))
			str_lcpy(w[n++], s, sizeof(w[0]));
		buf_puts(b, "<forward");
		if (n >= 1 && (strcmp(w[0], "tcp") == 0 ||
		    strcmp(w[0], "udp") == 0)) {
			buf_attr(b, "proto", w[0]);
			memmove(w, w + 1, sizeof(w[0]) * 3);
			n--;
		}
		if (n < 2 || n > 3) {
			vno_usage("subscriber", "--forward '%s': write "
			    "[tcp|udp:]PORT:HOST[:PORT]", o->fwd[i]);
			return -1;
		}
		buf_attr(b, "port", w[0]);
		buf_attr(b, "to", w[1]);
		if (n == 3)
			buf_attr(b, "to-port", w[2]);
		buf_puts(b, "/>");
	}
	buf_puts(b, "</gateway>");
	return 0;
}

/* The <subscriber> document of name and the options. */
static char *
sub_doc(const char *name, const struct sub_opts *o, size_t *len)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\"?>\n<subscriber "
	    "xmlns=\"urn:vnsm:1\"");
	buf_attr(&b, "name", name);
	if (o->ap != NULL)
		buf_attr(&b, "access-point", o->ap);
	if (o->line != NULL)
		buf_attr(&b, "line", o->line);
	if (o->cvlan != NULL)
		buf_attr(&b, "c-vlan", o->cvlan);
	if (o->svlan != NULL)
		buf_attr(&b, "s-vlan", o->svlan);
	buf_puts(&b, ">");
	if (gw_element(&b, o) == -1) {
		buf_free(&b);
		return NULL;
	}
	buf_puts(&b, "</subscriber>\n");
	return buf_steal(&b, len);
}

/* Ask for a token for sub and print it.  An exit code. */
static int
sub_token(struct vno_client *c, const char *vnet, const char *sub,
    long seconds)
{
	struct http_response resp;
	char path[256];
	int rc = VNO_EXIT_OK;

	if (seconds > 0)
		snprintf(path, sizeof(path), "/v1/vnets/%s/subscribers/%s/"
		    "token?seconds=%ld", vnet, sub, seconds);
	else
		snprintf(path, sizeof(path), "/v1/vnets/%s/subscribers/%s/"
		    "token", vnet, sub);
	if (vno_call(c, "POST", path, NULL, NULL, 0, &resp) == -1 ||
	    resp.status != 200)
		rc = vno_report(c, sub, &resp);
	else
		fwrite(resp.body, 1, resp.len, stdout);
	http_response_clear(&resp);
	return rc;
}

int
cmd_subscriber(int argc, char **argv)
{
	struct vno_client c;
	struct sub_opts o;
	struct http_response resp;
	char *pos[3], path[256], *doc = NULL;
	const char *op;
	size_t len = 0;
	int n, rc;

	memset(&o, 0, sizeof(o));
	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 2, 3, &n, sub_flag, &o,
	    NULL)) != 0)
		return rc;
	op = pos[0];
	if (strcmp(op, "list") == 0) {
		if (n != 2)
			return vno_usage("subscriber", "list takes the VNet "
			    "only");
	} else if (strcmp(op, "add") == 0 || strcmp(op, "set") == 0 ||
	    strcmp(op, "remove") == 0 || strcmp(op, "token") == 0) {
		if (n != 3)
			return vno_usage("subscriber", "%s needs VNET NAME", op);
		if (strcmp(op, "add") == 0 && o.ap == NULL)
			return vno_usage("subscriber", "add needs "
			    "--access-point AP");
	} else
		return vno_usage("subscriber", "'%s': use add, set, remove, "
		    "list or token", op);
	if ((strcmp(op, "add") == 0 || strcmp(op, "set") == 0) &&
	    (doc = sub_doc(pos[2], &o, &len)) == NULL)
		return VNO_EXIT_USAGE;
	if ((rc = vno_client_open(&c)) != 0) {
		free(doc);
		return rc;
	}
	if (strcmp(op, "token") == 0) {
		rc = sub_token(&c, pos[1], pos[2], o.seconds);
		goto done;
	}
	if (strcmp(op, "list") == 0) {
		snprintf(path, sizeof(path), "/v1/vnets/%s/subscribers",
		    pos[1]);
		if (vno_call(&c, "GET", path, NULL, NULL, 0, &resp) == -1 ||
		    resp.status != 200)
			rc = vno_report(&c, pos[1], &resp);
		else
			fwrite(resp.body, 1, resp.len, stdout);
		http_response_clear(&resp);
		goto done;
	}
	if (strcmp(op, "add") == 0)
		snprintf(path, sizeof(path), "/v1/vnets/%s/subscribers",
		    pos[1]);
	else
		snprintf(path, sizeof(path), "/v1/vnets/%s/subscribers/%s",
		    pos[1], pos[2]);
	if (vno_call(&c, strcmp(op, "add") == 0 ? "POST" :
	    strcmp(op, "set") == 0 ? "PUT" : "DELETE", path, HTTP_CTYPE_XML,
	    doc, len, &resp) == -1 || resp.status >= 300)
		rc = vno_report(&c, pos[2], &resp);
	else {
		printf("subscriber %s: %s\n", pos[2], strcmp(op, "add") == 0 ?
		    "added" : strcmp(op, "set") == 0 ? "changed" : "removed");
		rc = VNO_EXIT_OK;
	}
	http_response_clear(&resp);
	if (rc == VNO_EXIT_OK && strcmp(op, "add") == 0 && o.token)
		rc = sub_token(&c, pos[1], pos[2], o.seconds);
done:
	free(doc);
	vno_client_close(&c);
	return rc;
}
