/*
 * pipd without a network: configuration, inventory (reports, hosts going
 * down), admission control (refusals that name the resource, CPU
 * overcommit, interfaces, bandwidth on paths, sums under random load),
 * expiry, tunnel keys, host slices.  The daemon's files are linked from
 * libpipd.a; the world is built in memory with no store and no agents.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "metrics.h"
#include "../../pip-mgmt/pipd.h"
#include "report.h"

static int64_t fake_now = 1800000000;

static int64_t
fake_clock(void)
{
	return fake_now;
}

static const char base_conf[] =
    "name pip1\n"
    "listen 127.0.0.1:0\n"
    "lease 60\n"
    "cpu-overcommit 1.0\n"
    "report-interval 50ms\n"
    "report-timeout 150ms\n"
    "[host h1]\nunderlay 10.99.0.11\nlocation paris\ncpu 4\n"
    "memory 4GiB\ninterfaces 8\n"
    "[host h2]\nunderlay 10.99.0.12\nlocation paris\ncpu 4\n"
    "memory 4GiB\ninterfaces 8\n"
    "[host h3]\nunderlay 10.99.0.13\nlocation lyon\ncpu 2\n"
    "memory 2GiB\ninterfaces 4\n"
    "[link l12]\nfrom h1\nto h2\nbandwidth 100Mbit\n"
    "[link l23]\nfrom h2\nto h3\nbandwidth 50Mbit\n"
    "[peering pip2]\nhost h3\n"
    "[vnp vnp2]\nadvertise aggregate\n";

static struct pipd *
world(const char *text)
{
	struct pipd *pd = calloc(1, sizeof(*pd));

	ck_assert_ptr_nonnull(pd);
	pd->clock = fake_clock;
	err_reset();
	pd->conf = config_parse("test.conf", text, strlen(text));
	if (pd->conf == NULL)
		err_print(stderr);
	ck_assert_ptr_nonnull(pd->conf);
	ck_assert_int_eq(inventory_init(pd), 0);
	ck_assert_ptr_nonnull(pd->m = metrics_new());
	ck_assert_int_eq(pmetrics_init(pd), 0);
	pd->next_key = PIPD_KEY_FIRST;
	pd->next_vni = PIPD_VNI_FIRST;
	return pd;
}

static void
world_free(struct pipd *pd)
{
	slices_free(pd);
	inventory_free(pd);
	metrics_free(pd->m);
	config_free(pd->conf);
	free(pd);
}

static int
alloc(struct pipd *pd, const char *owner, const char *doc,
    struct pslice **out)
{
	struct pslice *ps;

	err_reset();
	if (slices_allocate(pd, owner, doc, strlen(doc), &ps) == -1)
		return -1;
	if (out != NULL)
		*out = ps;
	return 0;
}

/* The sums every test can check: used == what the slices hold. */
static void
check_sums(const struct pipd *pd)
{
	for (size_t h = 0; h < pd->nhosts; h++) {
		uint64_t cpu = 0, mem = 0, ifs = 0;

		for (const struct pslice *ps = pd->slices; ps != NULL;
		    ps = ps->next) {
			struct usage u;

			ck_assert_int_eq(usage_of(pd, ps->doc, &u), 0);
			for (size_t i = 0; i < u.nh; i++)
				if (u.h[i].host == (int)h) {
					cpu += u.h[i].cpu;
					mem += u.h[i].mem;
					ifs += u.h[i].ifs;
				}
			usage_clear(&u);
		}
		ck_assert_uint_eq(cpu, pd->hosts[h].cpu_used);
		ck_assert_uint_eq(mem, pd->hosts[h].mem_used);
		ck_assert_uint_eq(ifs, pd->hosts[h].if_used);
		ck_assert_uint_le(mem, pd->hosts[h].memory);
		ck_assert_uint_le(ifs, pd->hosts[h].interfaces);
		ck_assert_uint_le(cpu, host_cpu_cap(pd, (int)h));
	}
	for (size_t l = 0; l < pd->nlinks; l++) {
		uint64_t bw = 0;

		for (const struct pslice *ps = pd->slices; ps != NULL;
		    ps = ps->next) {
			struct usage u;

			ck_assert_int_eq(usage_of(pd, ps->doc, &u), 0);
			for (size_t i = 0; i < u.nl; i++)
				if (u.l[i].link == (int)l)
					bw += u.l[i].bw;
			usage_clear(&u);
		}
		ck_assert_uint_eq(bw, pd->links[l].bw_used);
		ck_assert_uint_le(bw, pd->links[l].conf->bandwidth);
	}
}

START_TEST(config_good)
{
	struct pipd *pd = world(base_conf);
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_str_eq(pd->conf->name, "pip1");
	ck_assert_uint_eq(pd->conf->nhosts, 3);
	ck_assert_uint_eq(pd->conf->hosts[0].memory, 4096);
	ck_assert_uint_eq(pd->conf->hosts[2].cpu, 2000);
	ck_assert_uint_eq(pd->conf->links[1].bandwidth, 50000);
	ck_assert_int_eq(pd->conf->links[1].a, 1);
	ck_assert_uint_eq(pd->conf->report_ms, 50);
	ck_assert_uint_eq(pd->conf->down_ms, 150);
	ck_assert_uint_eq(pd->conf->overcommit, 1000);
	ck_assert_uint_eq(pd->conf->lease_s, 60);
	/* The peering address defaults to the host's underlay. */
	ck_assert_uint_eq(pd->conf->peerings[0].address, 0x0a63000d);
	ck_assert_int_eq(config_detail(pd->conf, "vnp2"), ADV_AGGREGATE);
	ck_assert_int_eq(config_detail(pd->conf, "vnp1"), ADV_FULL);
	/* The printed configuration reads back the same. */
	config_print(fp, pd->conf);
	fclose(fp);
	{
		struct pipd_conf *c2 = config_parse("printed", buf, len);

		if (c2 == NULL)
			err_print(stderr);
		ck_assert_ptr_nonnull(c2);
		ck_assert_uint_eq(c2->nlinks, 2);
		ck_assert_uint_eq(c2->hosts[1].underlay, 0x0a63000c);
		config_free(c2);
	}
	free(buf);
	world_free(pd);
}
END_TEST

START_TEST(config_bad)
{
	static const struct {
		const char *text;
		const char *want;	/* in the first error */
	} cases[] = {
		{ "name p\n[host h1]\nmemory 4 GBytes\n", "memory" },
		{ "name p\n[host h1]\nmemroy 4GiB\n", "unknown key" },
		{ "name p\n[host h1]\n[link x]\nfrom h1\nto h9\n"
		    "bandwidth 1Gbit\n", "no [host h9]" },
		{ "name p\n[host h1]\n[link x]\nfrom h1\nto h1\n"
		    "bandwidth 1Gbit\n", "itself" },
		{ "name p\ncpu-overcommit 0\n[host h1]\n", "ratio" },
		{ "name p\n", "no [host NAME]" },
		{ "[host h1]\n", "required" },
		{ "name p\nadvertise some\n[host h1]\n", "policy" },
		{ "name p\n[host h1]\n[host h1]\n", "twice" },
		{ "name p\nreport-interval 2h\n[host h1]\n", "unit" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct pipd_conf *c;

		err_reset();
		c = config_parse("bad.conf", cases[i].text,
		    strlen(cases[i].text));
		ck_assert_msg(c == NULL, "case %zu parsed", i);
		ck_assert_msg(err_count() > 0, "case %zu: no error", i);
		ck_assert_msg(strstr(err_get(0)->msg, cases[i].want) != NULL,
		    "case %zu: '%s' lacks '%s'", i, err_get(0)->msg,
		    cases[i].want);
		ck_assert_str_eq(err_get(0)->file, "bad.conf");
	}
}
END_TEST

static const char s_three[] =
    "<slice xmlns=\"urn:vnsm:1\" name=\"v1.pip1\" vnet=\"v1\" pip=\"pip1\" "
    "mapping=\"pip\">"
    "<node name=\"a\" cpu=\"1\" memory=\"512MiB\"/>"
    "<node name=\"b\" cpu=\"1\" memory=\"512MiB\"/>"
    "<node name=\"c\" cpu=\"1\" memory=\"512MiB\"/>"
    "<link name=\"a-b\" bandwidth=\"10Mbit\"><end node=\"a\"/>"
    "<end node=\"b\"/></link>"
    "<link name=\"b-c\" bandwidth=\"10Mbit\"><end node=\"b\"/>"
    "<end node=\"c\"/></link>"
    "<stub name=\"c-d\" bandwidth=\"10Mbit\" key=\"7\"><end node=\"c\"/>"
    "<peer pip=\"pip2\" node=\"d\" underlay=\"10.99.0.21\"/></stub>"
    "</slice>";

START_TEST(allocate_maps_and_reserves)
{
	struct pipd *pd = world(base_conf);
	struct pslice *ps;
	char *m;

	ck_assert_int_eq(alloc(pd, "vnp1", s_three, &ps), 0);
	ck_assert_int_eq(ps->state, VS_ALLOCATED);
	ck_assert_int_eq(ps->expires, fake_now + 60);
	for (size_t i = 0; i < ps->doc->nnodes; i++)
		ck_assert(ps->doc->nodes[i].host[0] != '\0');
	/* pipd assigned keys from its own range; the VNP's key stays. */
	ck_assert_uint_ge(ps->doc->links[0].key, PIPD_KEY_FIRST);
	ck_assert_uint_ne(ps->doc->links[0].key, ps->doc->links[1].key);
	ck_assert_uint_eq(ps->doc->stubs[0].key, 7);
	check_sums(pd);
	ck_assert_uint_eq(pd->hosts[0].mem_used + pd->hosts[1].mem_used +
	    pd->hosts[2].mem_used, 1536);
	/* Same name again: conflict; another VNP's view is its own. */
	ck_assert_int_eq(alloc(pd, "vnp1", s_three, NULL), -1);
	ck_assert_int_eq(err_last_code(), ERR_CONFLICT);
	m = slices_manifest(pd, ps, NULL, VS_LAST, NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m, "state=\"allocated\""));
	ck_assert_ptr_nonnull(strstr(m, "host=\"h"));
	ck_assert_ptr_nonnull(strstr(m, "<step name=\"mapping\""));
	free(m);
	slices_drop(pd, ps);
	check_sums(pd);
	for (size_t h = 0; h < pd->nhosts; h++)
		ck_assert_uint_eq(pd->hosts[h].mem_used, 0);
	world_free(pd);
}
END_TEST

START_TEST(refusal_names_resource)
{
	struct pipd *pd = world(base_conf);
	const struct err *e;
	static const char big[] =
	    "<slice xmlns=\"urn:vnsm:1\" name=\"big\" vnet=\"v\" pip=\"pip1\" "
	    "mapping=\"pip\"><node name=\"a\" cpu=\"1\" memory=\"5GiB\"/>"
	    "</slice>";
	static const char pinned[] =
	    "<slice xmlns=\"urn:vnsm:1\" name=\"p\" vnet=\"v\" pip=\"pip1\" "
	    "mapping=\"vnp\"><node name=\"a\" cpu=\"1\" memory=\"3GiB\" "
	    "host=\"h3\"/></slice>";
	static const char bw[] =
	    "<slice xmlns=\"urn:vnsm:1\" name=\"bw\" vnet=\"v\" pip=\"pip1\" "
	    "mapping=\"vnp\"><node name=\"a\" cpu=\"1\" memory=\"1GiB\" "
	    "host=\"h1\"/><node name=\"b\" cpu=\"1\" memory=\"1GiB\" "
	    "host=\"h3\"/><link name=\"a-b\" bandwidth=\"60Mbit\">"
	    "<end node=\"a\"/><end node=\"b\"/></link></slice>";

	ck_assert_int_eq(alloc(pd, "vnp1", big, NULL), -1);
	e = err_last();
	ck_assert_int_eq(e->code, ERR_NO_RESOURCES);
	ck_assert_str_eq(e->resource, "memory");
	ck_assert_double_eq(e->asked, 5120);
	ck_assert_double_eq(e->avail, 4096);
	ck_assert(e->offer[0] != '\0');

	ck_assert_int_eq(alloc(pd, "vnp1", pinned, NULL), -1);
	e = err_last();
	ck_assert_str_eq(e->resource, "memory");
	ck_assert_double_eq(e->asked, 3072);
	ck_assert_double_eq(e->avail, 2048);
	ck_assert_ptr_nonnull(strstr(e->msg, "h3"));
	ck_assert_ptr_nonnull(strstr(e->offer, "host 'h"));

	ck_assert_int_eq(alloc(pd, "vnp1", bw, NULL), -1);
	e = err_last();
	ck_assert_str_eq(e->resource, "bandwidth");
	ck_assert_double_eq(e->asked, 60);
	ck_assert_double_eq(e->avail, 50);
	/* A refusal changes nothing. */
	check_sums(pd);
	for (size_t h = 0; h < pd->nhosts; h++)
		ck_assert_uint_eq(pd->hosts[h].mem_used, 0);
	ck_assert_ptr_null(pd->slices);
	world_free(pd);
}
END_TEST

START_TEST(cpu_overcommit_and_interfaces)
{
	char conf[2048];
	struct pipd *pd;
	char doc[512];
	const struct err *e;

	snprintf(conf, sizeof(conf), "name pip1\ncpu-overcommit 2.5\n"
	    "[host h1]\ncpu 2\nmemory 1GiB\ninterfaces 3\n");
	pd = world(conf);
	/* 2 cores x 2.5 = 5 cores: 5 fit, the sixth does not. */
	for (int i = 0; i < 5; i++) {
		snprintf(doc, sizeof(doc), "<slice xmlns=\"urn:vnsm:1\" "
		    "name=\"c%d\" vnet=\"v\" pip=\"pip1\" mapping=\"pip\">"
		    "<node name=\"a\" cpu=\"1\" memory=\"16MiB\"/></slice>", i);
		ck_assert_int_eq(alloc(pd, "vnp1", doc, NULL), 0);
	}
	ck_assert_int_eq(alloc(pd, "vnp1", "<slice xmlns=\"urn:vnsm:1\" "
	    "name=\"c9\" vnet=\"v\" pip=\"pip1\" mapping=\"pip\">"
	    "<node name=\"a\" cpu=\"0.5\" memory=\"16MiB\"/></slice>", NULL),
	    -1);
	e = err_last();
	ck_assert_str_eq(e->resource, "cpu");
	ck_assert_double_eq(e->asked, 0.5);
	ck_assert_double_eq(e->avail, 0);
	check_sums(pd);
	world_free(pd);

	/* Interfaces: declared 4 on a host with 3. */
	pd = world("name pip1\n[host h1]\ncpu 8\nmemory 1GiB\ninterfaces 3\n");
	ck_assert_int_eq(alloc(pd, "vnp1", "<slice xmlns=\"urn:vnsm:1\" "
	    "name=\"i\" vnet=\"v\" pip=\"pip1\" mapping=\"vnp\">"
	    "<node name=\"a\" cpu=\"1\" memory=\"16MiB\" interfaces=\"4\" "
	    "host=\"h1\"/></slice>", NULL), -1);
	e = err_last();
	ck_assert_str_eq(e->resource, "interfaces");
	ck_assert_double_eq(e->asked, 4);
	ck_assert_double_eq(e->avail, 3);
	world_free(pd);
}
END_TEST

START_TEST(random_load_never_oversubscribes)
{
	struct pipd *pd = world(base_conf);
	unsigned seed = 12345;
	int ok = 0, refused = 0;

	for (int round = 0; round < 400; round++) {
		char doc[4096];
		int n = 1 + rand_r(&seed) % 3, len;
		int pinned = rand_r(&seed) % 2;

		len = snprintf(doc, sizeof(doc), "<slice xmlns=\"urn:vnsm:1\" "
		    "name=\"r%d\" vnet=\"r%d\" pip=\"pip1\" mapping=\"%s\">",
		    round, round, pinned ? "vnp" : "pip");
		for (int i = 0; i < n; i++)
			len += snprintf(doc + len, sizeof(doc) - (size_t)len,
			    "<node name=\"n%d\" cpu=\"%d\" memory=\"%dMiB\"%s%s%s"
			    "/>", i, 1 + rand_r(&seed) % 2,
			    64 * (1 + rand_r(&seed) % 16),
			    pinned ? " host=\"h" : "",
			    pinned ? (const char *[]){ "1", "2", "3" }
			    [rand_r(&seed) % 3] : "", pinned ? "\"" : "");
		for (int i = 0; i + 1 < n; i++)
			len += snprintf(doc + len, sizeof(doc) - (size_t)len,
			    "<link name=\"l%d\" bandwidth=\"%dMbit\"><end "
			    "node=\"n%d\"/><end node=\"n%d\"/></link>", i,
			    1 + rand_r(&seed) % 30, i, i + 1);
		snprintf(doc + len, sizeof(doc) - (size_t)len, "</slice>");
		if (alloc(pd, "vnp1", doc, NULL) == 0)
			ok++;
		else {
			ck_assert_msg(err_last_code() == ERR_NO_RESOURCES,
			    "round %d: %s", round, err_last()->msg);
			ck_assert(err_last()->resource[0] != '\0');
			refused++;
		}
		/* Now and then drop a random slice. */
		if (pd->slices != NULL && rand_r(&seed) % 3 == 0) {
			struct pslice *ps = pd->slices;
			int k = rand_r(&seed) % 4;

			while (k-- > 0 && ps->next != NULL)
				ps = ps->next;
			slices_drop(pd, ps);
		}
		check_sums(pd);
	}
	ck_assert_int_gt(ok, 20);
	ck_assert_int_gt(refused, 20);
	world_free(pd);
}
END_TEST

START_TEST(expiry_releases)
{
	struct pipd *pd = world(base_conf);
	struct pslice *ps;
	char doc[1024];

	snprintf(doc, sizeof(doc), "<slice xmlns=\"urn:vnsm:1\" name=\"e\" "
	    "vnet=\"v\" pip=\"pip1\" mapping=\"pip\" expires=\"%s\">"
	    "<node name=\"a\" cpu=\"1\" memory=\"1GiB\"/></slice>",
	    "2027-01-15T08:00:30Z");
	fake_now = 1800000000;	/* 2027-01-15T08:00:00Z */
	ck_assert_int_eq(alloc(pd, "vnp1", doc, &ps), 0);
	ck_assert_int_eq(ps->expires, fake_now + 30);
	ck_assert_int_eq(slices_renew(pd, ps, 10), 0);
	ck_assert_int_eq(ps->expires, fake_now + 10);
	fake_now += 9;
	slices_expire(pd);
	ck_assert_ptr_nonnull(pd->slices);
	fake_now += 2;
	slices_expire(pd);
	ck_assert_ptr_null(pd->slices);
	for (size_t h = 0; h < pd->nhosts; h++)
		ck_assert_uint_eq(pd->hosts[h].mem_used, 0);
	/* Too long a lease is refused. */
	snprintf(doc, sizeof(doc), "<slice xmlns=\"urn:vnsm:1\" name=\"e\" "
	    "vnet=\"v\" pip=\"pip1\" mapping=\"pip\" expires=\"%s\">"
	    "<node name=\"a\" cpu=\"1\" memory=\"1GiB\"/></slice>",
	    "2030-01-15T08:00:30Z");
	ck_assert_int_eq(alloc(pd, "vnp1", doc, NULL), -1);
	ck_assert_int_eq(err_last_code(), ERR_INVALID);
	world_free(pd);
}
END_TEST

static const char report_h2[] =
    "<report xmlns=\"urn:vnsm:1\" host=\"h2\" pip=\"pip1\">"
    "<capacity cpu=\"8\" memory=\"8GiB\" interfaces=\"32\"/>"
    "<use cpu=\"0\" memory=\"0MiB\" interfaces=\"0\"/>"
    "<driver name=\"netns\" kinds=\"netns gateway\"/>"
    "<interface name=\"eth0\" address=\"10.99.0.22/24\"/>"
    "<pool driver=\"netns\" kind=\"netns\" image=\"router\" depth=\"3\" "
    "target=\"4\"/></report>";

START_TEST(reports_and_liveness)
{
	struct pipd *pd = world(base_conf);
	char *adv;

	/* Only the host itself may report about itself. */
	err_reset();
	ck_assert_int_eq(inventory_report(pd, "h9", report_h2,
	    strlen(report_h2)), -1);
	ck_assert_int_eq(err_last_code(), ERR_FORBIDDEN);
	ck_assert_int_eq(inventory_report(pd, "h1", report_h2,
	    strlen(report_h2)), -1);
	ck_assert_int_eq(err_last_code(), ERR_FORBIDDEN);
	ck_assert_int_eq(inventory_report(pd, "h2", "<report", 7), -1);
	ck_assert_int_eq(pd->hosts[1].state, HOST_UNKNOWN);
	ck_assert_int_eq(inventory_report(pd, "h2", report_h2,
	    strlen(report_h2)), 0);
	ck_assert_int_eq(pd->hosts[1].state, HOST_UP);
	ck_assert_uint_eq(pd->hosts[1].memory, 8192);
	ck_assert_uint_eq(pd->hosts[1].cpu, 8000);
	/* The configured underlay wins over the reported address. */
	ck_assert_uint_eq(pd->hosts[1].underlay, 0x0a63000c);
	adv = inventory_advert(pd, "vnp1", NULL);
	ck_assert_ptr_nonnull(strstr(adv, "name=\"h2\" location=\"paris\" "
	    "cpu=\"8\" memory=\"8GiB\""));
	ck_assert_ptr_nonnull(strstr(adv, "depth=\"3\""));
	free(adv);
	adv = inventory_advert(pd, "vnp2", NULL);
	ck_assert_ptr_nonnull(strstr(adv, "detail=\"aggregate\""));
	ck_assert_ptr_nonnull(strstr(adv, "<location name=\"paris\" "
	    "hosts=\"2\""));
	ck_assert_ptr_null(strstr(adv, "<host"));
	free(adv);
	/* Silence for the report timeout: down, not offered. */
	usleep(200 * 1000);
	inventory_tick(pd);
	ck_assert_int_eq(pd->hosts[1].state, HOST_DOWN);
	ck_assert_int_eq(pd->hosts[0].state, HOST_UNKNOWN);
	adv = inventory_advert(pd, "vnp1", NULL);
	ck_assert_ptr_null(strstr(adv, "name=\"h2\""));
	ck_assert_ptr_null(strstr(adv, "<substrate-link"));
	free(adv);
	ck_assert_int_eq(alloc(pd, "vnp1", "<slice xmlns=\"urn:vnsm:1\" "
	    "name=\"d\" vnet=\"v\" pip=\"pip1\" mapping=\"vnp\">"
	    "<node name=\"a\" cpu=\"1\" memory=\"1GiB\" host=\"h2\"/>"
	    "</slice>", NULL), -1);
	ck_assert_int_eq(err_last_code(), ERR_NO_RESOURCES);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "down"));
	/* The mapper avoids it too. */
	for (int i = 0; i < 4; i++) {
		char doc[512];
		struct pslice *ps;

		snprintf(doc, sizeof(doc), "<slice xmlns=\"urn:vnsm:1\" "
		    "name=\"m%d\" vnet=\"v\" pip=\"pip1\" mapping=\"pip\">"
		    "<node name=\"a\" cpu=\"0.1\" memory=\"16MiB\"/></slice>",
		    i);
		ck_assert_int_eq(alloc(pd, "vnp1", doc, &ps), 0);
		ck_assert_str_ne(ps->doc->nodes[0].host, "h2");
	}
	world_free(pd);
}
END_TEST

START_TEST(host_slices_and_keys)
{
	struct pipd *pd = world(base_conf);
	struct pslice *ps;
	char *hs;
	static const char pin[] =
	    "<slice xmlns=\"urn:vnsm:1\" name=\"k.pip1\" vnet=\"k\" "
	    "pip=\"pip1\" mapping=\"vnp\">"
	    "<node name=\"a\" cpu=\"1\" memory=\"64MiB\" host=\"h1\"/>"
	    "<node name=\"b\" cpu=\"1\" memory=\"64MiB\" host=\"h1\"/>"
	    "<node name=\"c\" cpu=\"1\" memory=\"64MiB\" host=\"h3\"/>"
	    "<link name=\"a-b\" key=\"11\"><end node=\"a\" "
	    "address=\"10.0.0.1/24\"/><end node=\"b\" "
	    "address=\"10.0.0.2/24\"/></link>"
	    "<link name=\"b-c\" key=\"12\" bandwidth=\"5Mbit\"><end "
	    "node=\"b\"/><end node=\"c\"/></link>"
	    "<stub name=\"c-x\" key=\"13\"><end node=\"c\"/>"
	    "<peer pip=\"pip2\" node=\"x\" underlay=\"10.99.1.1\"/></stub>"
	    "</slice>";

	ck_assert_int_eq(alloc(pd, "vnp1", pin, &ps), 0);
	/* b-c was routed h1 h2 h3 and takes 5 Mbit/s on both links. */
	ck_assert_uint_eq(ps->doc->links[1].npath, 3);
	ck_assert_uint_eq(pd->links[0].bw_used, 5000);
	ck_assert_uint_eq(pd->links[1].bw_used, 5000);
	hs = host_slice(pd, ps->doc, ps->name, 0);
	ck_assert_ptr_nonnull(hs);
	ck_assert_ptr_nonnull(strstr(hs, "name=\"k.pip1.h1\""));
	ck_assert_ptr_nonnull(strstr(hs, "<link name=\"a-b\""));
	ck_assert_ptr_nonnull(strstr(hs, "<stub name=\"b-c\""));
	ck_assert_ptr_nonnull(strstr(hs, "<peer pip=\"pip1\" node=\"c\" "
	    "host=\"h3\" underlay=\"10.99.0.13\"/>"));
	ck_assert_ptr_null(strstr(hs, "c-x"));
	ck_assert_ptr_null(strstr(hs, "<path"));
	/* The agent can read it as a host slice. */
	{
		struct slice *s = slice_parse(hs, strlen(hs), "hs");

		ck_assert_ptr_nonnull(s);
		ck_assert_uint_eq(s->nnodes, 2);
		slice_free(s);
	}
	free(hs);
	hs = host_slice(pd, ps->doc, ps->name, 2);
	ck_assert_ptr_nonnull(strstr(hs, "<stub name=\"c-x\""));
	ck_assert_ptr_nonnull(strstr(hs, "node=\"b\" host=\"h1\" "
	    "underlay=\"10.99.0.11\""));
	free(hs);
	ck_assert_ptr_null(host_slice(pd, ps->doc, ps->name, 1));
	/* The same key between the same hosts: 409. */
	ck_assert_int_eq(alloc(pd, "vnp1", "<slice xmlns=\"urn:vnsm:1\" "
	    "name=\"k2\" vnet=\"k2\" pip=\"pip1\" mapping=\"vnp\">"
	    "<node name=\"a\" cpu=\"1\" memory=\"64MiB\" host=\"h1\"/>"
	    "<node name=\"b\" cpu=\"1\" memory=\"64MiB\" host=\"h3\"/>"
	    "<link name=\"x\" key=\"12\"><end node=\"a\"/><end node=\"b\"/>"
	    "</link></slice>", NULL), -1);
	ck_assert_int_eq(err_last_code(), ERR_CONFLICT);
	/* Other hosts: fine. */
	ck_assert_int_eq(alloc(pd, "vnp1", "<slice xmlns=\"urn:vnsm:1\" "
	    "name=\"k3\" vnet=\"k3\" pip=\"pip1\" mapping=\"vnp\">"
	    "<node name=\"a\" cpu=\"1\" memory=\"64MiB\" host=\"h1\"/>"
	    "<node name=\"b\" cpu=\"1\" memory=\"64MiB\" host=\"h2\"/>"
	    "<link name=\"x\" key=\"12\"><end node=\"a\"/><end node=\"b\"/>"
	    "</link></slice>", NULL), 0);
	check_sums(pd);
	world_free(pd);
}
END_TEST

START_TEST(update_migrate_terminate)
{
	struct pipd *pd = world(base_conf);
	struct pslice *ps;
	struct slice *nd;
	uint32_t key;
	static const char two[] =
	    "<slice xmlns=\"urn:vnsm:1\" name=\"u\" vnet=\"u\" pip=\"pip1\" "
	    "mapping=\"pip\"><node name=\"a\" cpu=\"1\" memory=\"1GiB\"/>"
	    "<node name=\"b\" cpu=\"1\" memory=\"1GiB\"/>"
	    "<link name=\"a-b\" bandwidth=\"20Mbit\"><end node=\"a\"/>"
	    "<end node=\"b\"/></link></slice>";
	static const char three[] =
	    "<slice xmlns=\"urn:vnsm:1\" name=\"u\" vnet=\"u\" pip=\"pip1\" "
	    "mapping=\"pip\"><node name=\"a\" cpu=\"1\" memory=\"1GiB\"/>"
	    "<node name=\"b\" cpu=\"1\" memory=\"1GiB\"/>"
	    "<node name=\"c\" cpu=\"1\" memory=\"1GiB\"/>"
	    "<link name=\"a-b\" bandwidth=\"20Mbit\"><end node=\"a\"/>"
	    "<end node=\"b\"/></link>"
	    "<link name=\"b-c\" bandwidth=\"1Mbit\"><end node=\"b\"/>"
	    "<end node=\"c\"/></link></slice>";
	char ha[NAME_LEN], hb[NAME_LEN];

	ck_assert_int_eq(alloc(pd, "vnp1", two, &ps), 0);
	str_lcpy(ha, ps->doc->nodes[0].host, sizeof(ha));
	str_lcpy(hb, ps->doc->nodes[1].host, sizeof(hb));
	key = ps->doc->links[0].key;
	err_reset();
	ck_assert_int_eq(slices_update_check(pd, ps, three, strlen(three),
	    &nd), 0);
	/* Existing nodes stay; the link keeps its key. */
	ck_assert_str_eq(nd->nodes[0].host, ha);
	ck_assert_str_eq(nd->nodes[1].host, hb);
	ck_assert_uint_eq(nd->links[0].key, key);
	ck_assert_int_eq(slices_commit_doc(pd, ps, nd), 0);
	check_sums(pd);
	/* Migrate a to the host nobody uses yet, or any other. */
	{
		const char *to = strcmp(ha, "h1") != 0 && strcmp(hb, "h1") != 0
		    ? "h1" : strcmp(ha, "h2") != 0 && strcmp(hb, "h2") != 0 ?
		    "h2" : "h3";

		ck_assert_int_eq(slices_migrated(pd, ps, "a", to, &nd), 0);
		ck_assert_str_eq(nd->nodes[0].host, to);
		ck_assert_int_eq(slices_commit_doc(pd, ps, nd), 0);
		check_sums(pd);
	}
	ck_assert_int_eq(slices_migrated(pd, ps, "zz", "h1", &nd), -1);
	ck_assert_int_eq(err_last_code(), ERR_NOT_FOUND);
	ck_assert_int_eq(slices_without_node(pd, ps, "c", &nd), 0);
	ck_assert_uint_eq(nd->nnodes, 2);
	ck_assert_uint_eq(nd->nlinks, 1);
	ck_assert_int_eq(slices_commit_doc(pd, ps, nd), 0);
	check_sums(pd);
	world_free(pd);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("pipd");
	TCase *t = tcase_create("core");

	tcase_set_timeout(t, 30);
	tcase_add_test(t, config_good);
	tcase_add_test(t, config_bad);
	tcase_add_test(t, allocate_maps_and_reserves);
	tcase_add_test(t, refusal_names_resource);
	tcase_add_test(t, cpu_overcommit_and_interfaces);
	tcase_add_test(t, random_load_never_oversubscribes);
	tcase_add_test(t, expiry_releases);
	tcase_add_test(t, reports_and_liveness);
	tcase_add_test(t, host_slices_and_keys);
	tcase_add_test(t, update_migrate_terminate);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
