/*
 * vnpd's planning, without a network: discovery at PIP (split.c: which
 * PIP takes each node, and the slices with their stubs) and discovery
 * at VNP (vmap.c: the whole VNet mapped with lib/map.h onto real
 * advertisement documents, links across PIPs at peering points).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "../../vnp-noc/vnpd.h"
#include "xml.h"

static const char pip2_ad[] =
    "<advertisement xmlns=\"urn:vnsm:1\" pip=\"pip2\" detail=\"full\">"
    "<host name=\"g1\" location=\"berlin\" cpu=\"8\" memory=\"16GiB\" "
    "interfaces=\"60\" kinds=\"netns vm\"/>"
    "<host name=\"g2\" location=\"berlin\" cpu=\"8\" memory=\"16GiB\" "
    "interfaces=\"60\" kinds=\"netns\"/>"
    "<substrate-link from=\"g1\" to=\"g2\" bandwidth=\"1Gbit\"/>"
    "<peering pip=\"pip1\" host=\"g1\" address=\"10.99.0.21\" "
    "bandwidth=\"500Mbit\"/>"
    "</advertisement>";

static struct vnpd_conf conf;

static void
setup(void)
{
	memset(&conf, 0, sizeof(conf));
	conf.npips = 2;
	str_lcpy(conf.pips[0].name, "pip1", sizeof(conf.pips[0].name));
	str_lcpy(conf.pips[1].name, "pip2", sizeof(conf.pips[1].name));
	conf.lease = 600;
	err_reset();
}

static char *
slurp(const char *path, size_t *len)
{
	char *d = xml_read_file(path, NULL, len);

	ck_assert_ptr_nonnull(d);
	return d;
}

static struct vnet *
load_vnet(const char *path)
{
	size_t len;
	char *d = slurp(path, &len);
	struct vnet *v = vnet_parse(d, len, path);

	free(d);
	if (v == NULL)
		err_print(stderr);
	ck_assert_ptr_nonnull(v);
	return v;
}

/* ref5 without its pip= constraints. */
static struct vnet *
load_free_ref5(void)
{
	struct vnet *v = load_vnet("examples/ref5.xml");

	for (size_t i = 0; i < v->nnodes; i++)
		v->nodes[i].pip[0] = '\0';
	return v;
}

static void
load_ads(struct advert **ads)
{
	size_t len;
	char *d = slurp("examples/advertisement.xml", &len);

	ads[0] = advert_parse(d, len, "pip1");
	free(d);
	ads[1] = advert_parse(pip2_ad, sizeof(pip2_ad) - 1, "pip2");
	if (ads[0] == NULL || ads[1] == NULL)
		err_print(stderr);
	ck_assert_ptr_nonnull(ads[0]);
	ck_assert_ptr_nonnull(ads[1]);
}

static int
pip_of(const struct vnet *v, const struct plan *p, const char *node)
{
	ssize_t i = topo_node_find(v->nodes, v->nnodes, node);

	ck_assert_int_ge(i, 0);
	return p->pip[i];
}

static const struct topo_link *
find_link(const struct topo_link *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return &l[i];
	return NULL;
}

/* ref5 as written: a, b, c at pip1, d, e at pip2; c-d two stubs. */
START_TEST(split_ref5)
{
	struct vnet *v = load_vnet("examples/ref5.xml");
	struct advert *ads[2] = { NULL, NULL };
	int excluded[2] = { 0, 0 };
	struct plan *p = plan_new(v, 2);
	struct vn_part *parts;
	size_t n;
	const struct topo_link *st;

	ck_assert_int_eq(split_assign(&conf, v, ads, excluded, NULL, p), 0);
	ck_assert_int_eq(pip_of(v, p, "a"), 0);
	ck_assert_int_eq(pip_of(v, p, "c"), 0);
	ck_assert_int_eq(pip_of(v, p, "d"), 1);
	ck_assert_int_eq(pip_of(v, p, "e"), 1);
	ck_assert_int_eq(split_build(&conf, v, p, 1000, &parts, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(parts[0].slice, "ref5.pip1");
	ck_assert_str_eq(parts[1].slice, "ref5.pip2");
	ck_assert_int_eq(parts[0].sl->mapping, SLICE_MAP_PIP);
	ck_assert_uint_eq(parts[0].sl->nnodes, 3);
	ck_assert_uint_eq(parts[0].sl->nlinks, 3);
	ck_assert_uint_eq(parts[0].sl->nstubs, 1);
	ck_assert_uint_eq(parts[1].sl->nnodes, 2);
	ck_assert_uint_eq(parts[1].sl->nlinks, 1);
	st = find_link(parts[0].sl->stubs, 1, "c-d");
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(st->end[0].node, "c");
	ck_assert_str_eq(st->peer_pip, "pip2");
	ck_assert_str_eq(st->peer_node, "d");
	st = find_link(parts[1].sl->stubs, 1, "c-d");
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(st->end[0].node, "d");
	ck_assert_str_eq(st->peer_pip, "pip1");
	ck_assert_str_eq(st->peer_node, "c");
	/* The slices are valid documents: they format and parse back. */
	for (size_t i = 0; i < n; i++) {
		char *x = slice_format(parts[i].sl);
		struct slice *back;

		ck_assert_ptr_nonnull(x);
		back = slice_parse(x, strlen(x), "slice");
		if (back == NULL)
			err_print(stderr);
		ck_assert_ptr_nonnull(back);
		ck_assert_int_eq(back->expires, 1000);
		slice_free(back);
		free(x);
	}
	vn_parts_free(parts, n);
	plan_free(p);
	vnet_free(v);
}
END_TEST

/*
 * Without constraints, neighbours stay together on the PIP with the
 * most room; with that PIP excluded (it refused), everything goes to
 * the other.
 */
START_TEST(split_free_and_excluded)
{
	struct vnet *v = load_free_ref5();
	struct advert *ads[2];
	int excluded[2] = { 0, 0 };
	struct plan *p = plan_new(v, 2);
	int first;

	load_ads(ads);
	ck_assert_int_eq(split_assign(&conf, v, ads, excluded, NULL, p), 0);
	first = pip_of(v, p, "a");
	for (size_t i = 0; i < v->nnodes; i++)
		ck_assert_int_eq(p->pip[i], first);
	plan_free(p);
	excluded[first] = 1;
	p = plan_new(v, 2);
	ck_assert_int_eq(split_assign(&conf, v, ads, excluded, NULL, p), 0);
	for (size_t i = 0; i < v->nnodes; i++)
		ck_assert_int_eq(p->pip[i], 1 - first);
	plan_free(p);
	/* Nodes fixed where they run stay there. */
	{
		int fixed[5] = { 1, 1, -1, -1, -1 };

		excluded[0] = excluded[1] = 0;
		p = plan_new(v, 2);
		ck_assert_int_eq(split_assign(&conf, v, ads, excluded, fixed,
		    p), 0);
		ck_assert_int_eq(pip_of(v, p, "a"), 1);
		ck_assert_int_eq(pip_of(v, p, "c"), 1);	/* a's neighbour */
		plan_free(p);
	}
	advert_free(ads[0]);
	advert_free(ads[1]);
	vnet_free(v);
}
END_TEST

/*
 * When no PIP can take a node, the refusal names what really fell short:
 * CPU, memory, or that no PIP offers a host at all (agents down).
 */
START_TEST(split_no_room)
{
	struct vnet *v = load_free_ref5();
	struct advert *ads[2];
	int excluded[2] = { 0, 0 };
	struct plan *p;
	size_t nh[2];

	load_ads(ads);
	v->nodes[0].cpu = 4000000000u;			/* 4 M cores */
	p = plan_new(v, 2);
	err_reset();
	ck_assert_int_eq(split_assign(&conf, v, ads, excluded, NULL, p), -1);
	ck_assert_str_eq(err_last()->resource, "cpu");
	ck_assert(err_last()->avail > 0);
	plan_free(p);

	v->nodes[0].cpu = 1;
	v->nodes[0].memory = 1ull << 40;		/* 1 EiB in MiB */
	p = plan_new(v, 2);
	err_reset();
	ck_assert_int_eq(split_assign(&conf, v, ads, excluded, NULL, p), -1);
	ck_assert_str_eq(err_last()->resource, "memory");
	plan_free(p);

	/* Every host down: the adverts list none. */
	v->nodes[0].memory = 1;
	for (int k = 0; k < 2; k++) {
		nh[k] = ads[k]->nhosts;
		ads[k]->nhosts = 0;
		ck_assert_uint_eq(ads[k]->nlocations, 0);
	}
	p = plan_new(v, 2);
	err_reset();
	ck_assert_int_eq(split_assign(&conf, v, ads, excluded, NULL, p), -1);
	ck_assert_str_eq(err_last()->resource, "");
	ck_assert_ptr_nonnull(strstr(err_last()->hint, "no PIP offers any host"));
	plan_free(p);
	err_reset();
	for (int k = 0; k < 2; k++)
		ads[k]->nhosts = nh[k];
	advert_free(ads[0]);
	advert_free(ads[1]);
	vnet_free(v);
}
END_TEST

/* A node pinned to a PIP that refused cannot go anywhere else. */
START_TEST(split_pinned_refused)
{
	struct vnet *v = load_vnet("examples/ref5.xml");
	struct advert *ads[2] = { NULL, NULL };
	int excluded[2] = { 0, 1 };
	struct plan *p = plan_new(v, 2);

	ck_assert_int_eq(split_assign(&conf, v, ads, excluded, NULL, p), -1);
	ck_assert_int_eq(err_last_code(), ERR_NO_RESOURCES);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "pip2"));
	plan_free(p);
	vnet_free(v);
}
END_TEST

/* location= picks the PIP that advertises the location. */
START_TEST(split_location)
{
	struct vnet *v = load_free_ref5();
	struct advert *ads[2];
	int excluded[2] = { 0, 0 };
	struct plan *p = plan_new(v, 2);

	load_ads(ads);
	str_lcpy(v->nodes[0].location, "berlin", sizeof(v->nodes[0].location));
	str_lcpy(v->nodes[4].location, "lyon", sizeof(v->nodes[4].location));
	ck_assert_int_eq(split_assign(&conf, v, ads, excluded, NULL, p), 0);
	ck_assert_int_eq(pip_of(v, p, "a"), 1);
	ck_assert_int_eq(pip_of(v, p, "e"), 0);
	plan_free(p);
	str_lcpy(v->nodes[0].location, "tokyo", sizeof(v->nodes[0].location));
	p = plan_new(v, 2);
	ck_assert_int_eq(split_assign(&conf, v, ads, excluded, NULL, p), -1);
	ck_assert_int_eq(err_last_code(), ERR_NO_RESOURCES);
	plan_free(p);
	advert_free(ads[0]);
	advert_free(ads[1]);
	vnet_free(v);
}
END_TEST

/*
 * Discovery at VNP on ref5: the constraints hold, every node is pinned
 * to an advertised host of its PIP, and c-d runs between the peering
 * hosts (pip1/h3 and pip2/g1).
 */
START_TEST(vmap_ref5)
{
	struct vnet *v = load_vnet("examples/ref5.xml");
	struct advert *ads[2];
	int excluded[2] = { 0, 0 };
	struct plan *p = plan_new(v, 2);
	struct vn_part *parts;
	size_t n;
	const struct topo_link *st;
	ssize_t c, d;

	load_ads(ads);
	if (vmap_plan(&conf, v, ads, excluded, NULL, NULL, p) == -1)
		err_print(stderr);
	ck_assert_int_eq(pip_of(v, p, "a"), 0);
	ck_assert_int_eq(pip_of(v, p, "b"), 0);
	ck_assert_int_eq(pip_of(v, p, "c"), 0);
	ck_assert_int_eq(pip_of(v, p, "d"), 1);
	ck_assert_int_eq(pip_of(v, p, "e"), 1);
	for (size_t i = 0; i < v->nnodes; i++)
		ck_assert(p->host[i][0] != '\0');
	c = topo_node_find(v->nodes, v->nnodes, "c");
	d = topo_node_find(v->nodes, v->nnodes, "d");
	/* c-d is link 3: its substrate path starts at c's host, ends at d's. */
	ck_assert_uint_ge(p->npath[3], 2);
	ck_assert_str_eq(p->path[3][0], p->host[c]);
	ck_assert_str_eq(p->path[3][p->npath[3] - 1], p->host[d]);
	{
		int crossed = 0;

		for (size_t h = 0; h + 1 < p->npath[3]; h++)
			crossed |= strcmp(p->path[3][h], "h3") == 0 &&
			    strcmp(p->path[3][h + 1], "g1") == 0;
		ck_assert_msg(crossed, "c-d does not cross at h3 -> g1");
	}
	ck_assert_int_eq(split_build(&conf, v, p, 1000, &parts, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(parts[0].sl->mapping, SLICE_MAP_VNP);
	for (size_t i = 0; i < parts[0].sl->nnodes; i++)
		ck_assert(parts[0].sl->nodes[i].host[0] == 'h');
	for (size_t i = 0; i < parts[1].sl->nnodes; i++)
		ck_assert(parts[1].sl->nodes[i].host[0] == 'g');
	st = find_link(parts[1].sl->stubs, parts[1].sl->nstubs, "c-d");
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(st->peer_pip, "pip1");
	for (size_t i = 0; i < n; i++) {
		char *x = slice_format(parts[i].sl);
		struct slice *back = slice_parse(x, strlen(x), "slice");

		if (back == NULL)
			err_print(stderr);
		ck_assert_ptr_nonnull(back);
		slice_free(back);
		free(x);
	}
	vn_parts_free(parts, n);
	plan_free(p);
	advert_free(ads[0]);
	advert_free(ads[1]);
	vnet_free(v);
}
END_TEST

/* Too big for any host: refused with the resource that fell short. */
START_TEST(vmap_refused)
{
	struct vnet *v = load_free_ref5();
	struct advert *ads[2];
	int excluded[2] = { 0, 0 };
	struct plan *p = plan_new(v, 2);

	load_ads(ads);
	v->nodes[0].memory = 64 * 1024;	/* 64 GiB */
	ck_assert_int_eq(vmap_plan(&conf, v, ads, excluded, NULL, NULL, p), -1);
	ck_assert_int_eq(err_last_code(), ERR_NO_RESOURCES);
	plan_free(p);
	/* A PIP that advertises nothing cannot take a pinned node. */
	err_reset();
	v->nodes[0].memory = 64;
	ads[1]->detail = ADV_NONE;
	str_lcpy(v->nodes[0].pip, "pip2", sizeof(v->nodes[0].pip));
	p = plan_new(v, 2);
	ck_assert_int_eq(vmap_plan(&conf, v, ads, excluded, NULL, NULL, p), -1);
	ck_assert_int_eq(err_last_code(), ERR_UNSUPPORTED);
	plan_free(p);
	advert_free(ads[0]);
	advert_free(ads[1]);
	vnet_free(v);
}
END_TEST

/* Fixed nodes keep PIP and host (vno apply). */
START_TEST(vmap_fixed)
{
	struct vnet *v = load_free_ref5();
	struct advert *ads[2];
	int excluded[2] = { 0, 0 }, fixed[5] = { 1, -1, -1, -1, -1 };
	char hosts[5][NAME_LEN] = { "g2", "", "", "", "" };
	struct plan *p = plan_new(v, 2);

	load_ads(ads);
	ck_assert_int_eq(vmap_plan(&conf, v, ads, excluded, fixed,
	    (const char (*)[NAME_LEN])hosts, p), 0);
	ck_assert_int_eq(pip_of(v, p, "a"), 1);
	ck_assert_str_eq(p->host[0], "g2");
	plan_free(p);
	advert_free(ads[0]);
	advert_free(ads[1]);
	vnet_free(v);
}
END_TEST


/*
 * The state store: a VNet with its parts, steps and failure saved, then
 * loaded back by a fresh vnpd (as after a restart); keys never repeat.
 */
START_TEST(store_round_trip)
{
	char path[] = "/tmp/vnsm-test-vnpd.XXXXXX", db[64];
	struct vnpd d, d2;
	struct vnet *doc = load_vnet("examples/ref5.xml");
	struct advert *ads[2] = { NULL, NULL };
	int excluded[2] = { 0, 0 };
	struct plan *p = plan_new(doc, 2);
	struct vn *v, *w;
	uint32_t k1, k2;

	ck_assert_ptr_nonnull(mkdtemp(path));
	snprintf(db, sizeof(db), "%s/vnpd.db", path);
	conf.state = db;
	memset(&d, 0, sizeof(d));
	d.conf = &conf;
	ck_assert_int_eq(vstore_open(&d), 0);
	ck_assert_int_eq(vstore_load(&d), 0);
	ck_assert_ptr_null(d.vnets);
	v = vn_new("alice", doc, DISC_VNP);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(split_assign(&conf, doc, ads, excluded, NULL, p), 0);
	ck_assert_int_eq(split_build(&conf, doc, p, 1000, &v->parts,
	    &v->nparts), 0);
	v->parts[0].state = PART_ALLOCATED;
	v->parts[1].state = PART_ALLOCATING;
	v->step_ms[STEP_MAPPING] = 1.5;
	v->state = VS_FAILED;
	v->err.code = ERR_NO_RESOURCES;
	str_lcpy(v->err.msg, "PIP pip2: no room", sizeof(v->err.msg));
	ck_assert_int_eq(vstore_save(&d, v), 0);
	ck_assert_int_eq(vstore_keys(&d, 5, &k1), 0);
	vstore_close(&d);

	memset(&d2, 0, sizeof(d2));
	d2.conf = &conf;
	ck_assert_int_eq(vstore_open(&d2), 0);
	ck_assert_int_eq(vstore_load(&d2), 0);
	w = d2.vnets;
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(w->owner, "alice");
	ck_assert_str_eq(w->name, "ref5");
	ck_assert_int_eq(w->disc, DISC_VNP);
	ck_assert_int_eq(w->state, VS_FAILED);
	ck_assert_str_eq(w->err.msg, "PIP pip2: no room");
	ck_assert(w->step_ms[STEP_MAPPING] > 1.49 &&
	    w->step_ms[STEP_MAPPING] < 1.51);
	ck_assert(w->step_ms[STEP_TOTAL] < 0);
	ck_assert_uint_eq(w->nparts, 2);
	ck_assert_str_eq(w->parts[0].slice, "ref5.pip1");
	ck_assert_int_eq(w->parts[0].state, PART_ALLOCATED);
	ck_assert_int_eq(w->parts[1].state, PART_ALLOCATING);
	ck_assert_uint_eq(w->parts[1].sl->nstubs, 1);
	ck_assert_uint_eq(w->doc->nnodes, 5);
	ck_assert_int_eq(vstore_keys(&d2, 1, &k2), 0);
	ck_assert_uint_eq(k2, k1 + 5);
	ck_assert_int_eq(vstore_delete(&d2, w), 0);
	vstore_close(&d2);
	vn_free(w);
	vn_free(v);
	plan_free(p);
	vnet_free(doc);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("vnpd_plan");
	TCase *tc = tcase_create("plan");
	SRunner *sr;
	int failed;

	xml_init();
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, split_ref5);
	tcase_add_test(tc, split_free_and_excluded);
	tcase_add_test(tc, split_no_room);
	tcase_add_test(tc, split_pinned_refused);
	tcase_add_test(tc, split_location);
	tcase_add_test(tc, vmap_ref5);
	tcase_add_test(tc, vmap_refused);
	tcase_add_test(tc, vmap_fixed);
	tcase_add_test(tc, store_round_trip);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
