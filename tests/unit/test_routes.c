/*
 * Shortest-path static routes (lib/routes.c) over examples/ref5.xml and
 * small hand-made topologies.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "routes.h"
#include "units.h"
#include "vnet.h"
#include "xml.h"

static struct vnet *
load(const char *path)
{
	size_t len;
	char *data = xml_read_file(path, NULL, &len);
	struct vnet *v;

	ck_assert_ptr_nonnull(data);
	v = vnet_parse(data, len, path);
	free(data);
	if (v == NULL)
		err_print(stderr);
	ck_assert_ptr_nonnull(v);
	return v;
}

/* The next hop of node's route to net ("10.0.5.0/24"), as text, or "". */
static const char *
via(const struct vnet *v, const char *node, const char *net)
{
	static char out[32];
	ssize_t i = topo_node_find(v->nodes, v->nnodes, node);
	struct ipv4_prefix p;

	ck_assert_int_ge(i, 0);
	ck_assert_int_eq(units_parse_prefix(net, &p), 0);
	for (size_t r = 0; r < v->nodes[i].nroutes; r++)
		if (prefix_same_net(&v->nodes[i].routes[r].to, &p))
			return units_fmt_ipv4(v->nodes[i].routes[r].via, out,
			    sizeof(out));
	return "";
}

START_TEST(ref5_routes)
{
	struct vnet *v = load("examples/ref5.xml");

	ck_assert_int_eq(routes_apply(v->nodes, v->nnodes, v->links,
	    v->nlinks), 0);
	/* a reaches d-e through c (2 hops), not through b (3). */
	ck_assert_str_eq(via(v, "a", "10.0.5.0/24"), "10.0.3.1");
	ck_assert_str_eq(via(v, "a", "10.0.4.0/24"), "10.0.3.1");
	/* b-c: both ends one hop away; b comes first in the document. */
	ck_assert_str_eq(via(v, "a", "10.0.2.0/24"), "10.0.1.2");
	/* No route to a network the node is on. */
	ck_assert_str_eq(via(v, "a", "10.0.1.0/24"), "");
	ck_assert_str_eq(via(v, "a", "10.0.3.0/24"), "");
	/* Every node reaches the four networks it is not on. */
	ck_assert_uint_eq(v->nodes[0].nroutes, 3);	/* a: on 2 of 5 */
	ck_assert_uint_eq(v->nodes[2].nroutes, 2);	/* c: on 3 of 5 */
	ck_assert_uint_eq(v->nodes[4].nroutes, 4);	/* e: on 1 of 5 */
	ck_assert_str_eq(via(v, "e", "10.0.1.0/24"), "10.0.5.1");
	ck_assert_str_eq(via(v, "d", "10.0.1.0/24"), "10.0.4.1");
	ck_assert_str_eq(via(v, "b", "10.0.5.0/24"), "10.0.2.2");
	vnet_free(v);
}
END_TEST

/* The same input twice gives the same routes, in the same order. */
START_TEST(deterministic)
{
	struct vnet *v = load("examples/ref5.xml");
	struct topo_route *r1, *r2;
	size_t n1, n2;

	for (size_t i = 0; i < v->nnodes; i++) {
		ck_assert_int_eq(routes_for_node(v->nodes, v->nnodes, v->links,
		    v->nlinks, i, &r1, &n1), 0);
		ck_assert_int_eq(routes_for_node(v->nodes, v->nnodes, v->links,
		    v->nlinks, i, &r2, &n2), 0);
		ck_assert_uint_eq(n1, n2);
		ck_assert(n1 == 0 || memcmp(r1, r2, n1 * sizeof(*r1)) == 0);
		free(r1);
		free(r2);
	}
	vnet_free(v);
}
END_TEST

/* Routes the document gives stay first; no second route to their net. */
START_TEST(explicit_routes_kept)
{
	static const char doc[] =
	    "<vnet xmlns=\"urn:vnsm:1\" name=\"t\" routing=\"static\">"
	    "<node name=\"x\" cpu=\"1\" memory=\"8MiB\">"
	    "<route to=\"10.9.2.0/24\" via=\"10.9.1.9\"/></node>"
	    "<node name=\"y\" cpu=\"1\" memory=\"8MiB\"/>"
	    "<node name=\"z\" cpu=\"1\" memory=\"8MiB\"/>"
	    "<node name=\"lone\" cpu=\"1\" memory=\"8MiB\"/>"
	    "<link name=\"x-y\"><end node=\"x\" address=\"10.9.1.1/24\"/>"
	    "<end node=\"y\" address=\"10.9.1.2/24\"/></link>"
	    "<link name=\"y-z\"><end node=\"y\" address=\"10.9.2.1/24\"/>"
	    "<end node=\"z\" address=\"10.9.2.2/24\"/></link>"
	    "<link name=\"bare\"><end node=\"z\"/><end node=\"lone\"/></link>"
	    "</vnet>";
	struct vnet *v = vnet_parse(doc, sizeof(doc) - 1, "t");

	if (v == NULL)
		err_print(stderr);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(routes_apply(v->nodes, v->nnodes, v->links,
	    v->nlinks), 0);
	ck_assert_uint_eq(v->nodes[0].nroutes, 1);
	ck_assert_str_eq(via(v, "x", "10.9.2.0/24"), "10.9.1.9");
	ck_assert_str_eq(via(v, "z", "10.9.1.0/24"), "10.9.2.1");
	/* lone is reachable only over a link without addresses. */
	ck_assert_uint_eq(v->nodes[3].nroutes, 0);
	vnet_free(v);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("routes");
	TCase *tc = tcase_create("routes");
	SRunner *sr;
	int failed;

	xml_init();
	tcase_add_test(tc, ref5_routes);
	tcase_add_test(tc, deterministic);
	tcase_add_test(tc, explicit_routes_kept);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
