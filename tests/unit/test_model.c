/*
 * Document model fixtures, libvirt style: one table line per case.
 *
 *   round trip:  tests/xml/DOC/in/NAME.xml -> format -> DOC/out/NAME.xml,
 *                and formatting the output again changes nothing;
 *   refusals:    tests/xml/DOC/invalid/{schema,meaning}/NAME-invalid.xml
 *                must produce exactly the lines of NAME-invalid.err.
 *
 * VNSM_REGENERATE=1 rewrites the expected files for review (git diff).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "buf.h"
#include "errdoc.h"
#include "error.h"
#include "vnet.h"
#include "xml.h"

#define FIXTURES "tests/xml"

struct rt_case {
	enum doc_type type;
	const char *name;
};

static const struct rt_case rt_cases[] = {
	{ DOC_VNET, "ref5" },
	{ DOC_VNET, "one-pip" },
	{ DOC_VNET, "homes" },
	{ DOC_VNET, "defaults" },
	{ DOC_VNET, "units" },
	{ DOC_SLICE, "pinned" },
	{ DOC_SLICE, "unmapped" },
	{ DOC_SLICE, "host" },
	{ DOC_SLICE, "gateway" },
	{ DOC_SLICE, "transit" },
	{ DOC_ADVERT, "full" },
	{ DOC_ADVERT, "aggregate" },
	{ DOC_ADVERT, "none" },
	{ DOC_MANIFEST, "ready" },
	{ DOC_MANIFEST, "fragment" },
	{ DOC_MANIFEST, "transit" },
	{ DOC_REPORT, "h3" },
	{ DOC_REPORT, "empty" },
	{ DOC_ERROR, "no-resources" },
	{ DOC_ERROR, "many" },
};

struct bad_case {
	enum doc_type type;
	const char *layer;	/* "schema" or "meaning" */
	const char *name;
};

static const struct bad_case bad_cases[] = {
	{ DOC_VNET, "schema", "negative-memory" },
	{ DOC_VNET, "schema", "bad-unit" },
	{ DOC_VNET, "schema", "unknown-kind" },
	{ DOC_VNET, "schema", "unknown-encap" },
	{ DOC_VNET, "schema", "unknown-element" },
	{ DOC_VNET, "schema", "no-nodes" },
	{ DOC_VNET, "schema", "wrong-root" },
	{ DOC_VNET, "schema", "wrong-namespace" },
	{ DOC_VNET, "schema", "host-in-request" },
	{ DOC_VNET, "meaning", "missing-node" },
	{ DOC_VNET, "meaning", "duplicate-node" },
	{ DOC_VNET, "meaning", "self-link" },
	{ DOC_VNET, "meaning", "too-few-interfaces" },
	{ DOC_VNET, "meaning", "zero-cpu" },
	{ DOC_VNET, "meaning", "duplicate-address" },
	{ DOC_VNET, "meaning", "other-subnet" },
	{ DOC_VNET, "meaning", "vni-range" },
	{ DOC_VNET, "meaning", "unknown-access-point" },
	{ DOC_VNET, "meaning", "dhcp-outside-lan" },
	{ DOC_VNET, "meaning", "bridge-l3" },
	{ DOC_SLICE, "schema", "bad-mapping" },
	{ DOC_SLICE, "meaning", "unpinned" },
	{ DOC_SLICE, "meaning", "stub-to-self" },
	{ DOC_SLICE, "meaning", "gateway-on-netns" },
	{ DOC_SLICE, "meaning", "transit-loop" },
	{ DOC_SLICE, "meaning", "bridge-l3" },
	{ DOC_ADVERT, "schema", "bad-kind" },
	{ DOC_ADVERT, "meaning", "link-to-unknown-host" },
	{ DOC_MANIFEST, "schema", "bad-state" },
	{ DOC_MANIFEST, "meaning", "duplicate-node" },
	{ DOC_REPORT, "schema", "no-capacity" },
	{ DOC_REPORT, "meaning", "duplicate-id" },
	{ DOC_ERROR, "schema", "unknown-code" },
};

static int
regenerate(void)
{
	const char *r = getenv("VNSM_REGENERATE");

	return r != NULL && strcmp(r, "1") == 0;
}

static char *
slurp(const char *path, size_t *lenp)
{
	size_t len;
	char *data;

	err_reset();
	data = xml_read_file(path, NULL, &len);
	if (data == NULL)
		return NULL;
	if (lenp != NULL)
		*lenp = len;
	return data;
}

static void
spill(const char *path, const char *data)
{
	FILE *fp = fopen(path, "w");

	ck_assert_msg(fp != NULL, "cannot write %s", path);
	fputs(data, fp);
	fclose(fp);
}

static const char *
dir_of(enum doc_type t)
{
	return doc_type_to_string(t);
}

START_TEST(test_round_trip)
{
	const struct rt_case *c = &rt_cases[_i];
	char in[256], out[256];
	char *data, *fmt, *fmt2, *expected;
	size_t len;
	void *obj, *obj2;

	snprintf(in, sizeof(in), FIXTURES "/%s/in/%s.xml", dir_of(c->type),
	    c->name);
	snprintf(out, sizeof(out), FIXTURES "/%s/out/%s.xml", dir_of(c->type),
	    c->name);
	data = slurp(in, &len);
	ck_assert_msg(data != NULL, "cannot read %s", in);
	obj = doc_parse(data, len, in, c->type);
	if (obj == NULL)
		err_print(stderr);
	ck_assert_msg(obj != NULL, "%s does not parse", in);
	fmt = doc_format(c->type, obj);
	ck_assert_ptr_nonnull(fmt);

	/* Stable: parsing and formatting the output changes nothing. */
	obj2 = doc_parse(fmt, strlen(fmt), out, c->type);
	ck_assert_msg(obj2 != NULL, "formatted %s does not parse", in);
	fmt2 = doc_format(c->type, obj2);
	ck_assert_str_eq(fmt, fmt2);

	if (regenerate())
		spill(out, fmt);
	expected = slurp(out, NULL);
	ck_assert_msg(expected != NULL, "cannot read %s (VNSM_REGENERATE=1 "
	    "writes it)", out);
	ck_assert_str_eq(fmt, expected);
	free(expected);
	free(fmt);
	free(fmt2);
	doc_free(c->type, obj);
	doc_free(c->type, obj2);
	free(data);
}
END_TEST

START_TEST(test_refused)
{
	const struct bad_case *c = &bad_cases[_i];
	char in[256], exp[256], line[2048];
	char *data, *expected;
	struct buf got;
	size_t len;
	void *obj;

	snprintf(in, sizeof(in), FIXTURES "/%s/invalid/%s/%s-invalid.xml",
	    dir_of(c->type), c->layer, c->name);
	snprintf(exp, sizeof(exp), FIXTURES "/%s/invalid/%s/%s-invalid.err",
	    dir_of(c->type), c->layer, c->name);
	data = slurp(in, &len);
	ck_assert_msg(data != NULL, "cannot read %s", in);
	err_reset();
	obj = doc_parse(data, len, in, c->type);
	ck_assert_msg(obj == NULL, "%s was accepted", in);
	ck_assert_uint_gt(err_count(), 0);

	buf_init(&got);
	for (size_t i = 0; i < err_count(); i++) {
		buf_puts(&got, err_line(err_get(i), line, sizeof(line)));
		buf_puts(&got, "\n");
	}
	if (regenerate())
		spill(exp, got.data);
	expected = slurp(exp, NULL);
	ck_assert_msg(expected != NULL, "cannot read %s", exp);
	ck_assert_str_eq(got.data, expected);
	buf_free(&got);
	free(expected);
	free(data);
}
END_TEST

/* The same refusals arrive at a peer intact through <error>. */
START_TEST(test_error_travels)
{
	struct errdoc *e;
	char *xml, *xml2;
	char a[2048], b[2048];

	err_reset();
	err_at(ERR_NO_RESOURCES, "/slice/node[@name='c']", 7,
	    "not enough memory for node 'c' on host h1 & <friends>");
	err_shortfall("memory", "MiB", 4096, 2048.5);
	err_hint("ask for less memory");
	err_offer("node 'c' with at most 2GiB");
	err_set(ERR_DUPLICATE, "second problem");
	xml = errdoc_from_thread(0, NULL);
	ck_assert_ptr_nonnull(xml);

	e = errdoc_parse(xml, strlen(xml), "peer");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->nerrs, 2);
	ck_assert_int_eq(e->errs[0].code, ERR_NO_RESOURCES);
	ck_assert_str_eq(err_line(&e->errs[0], a, sizeof(a)),
	    err_line(err_get(0), b, sizeof(b)));
	ck_assert(e->errs[0].avail == 2048.5);
	ck_assert_int_eq(e->errs[1].code, ERR_DUPLICATE);
	xml2 = errdoc_format(e);
	ck_assert_str_eq(xml, xml2);
	free(xml);
	free(xml2);
	errdoc_free(e);
}
END_TEST

/* Meaning checks that need the outside world: references resolve. */
static int
known_pip(void *arg, const char *pip)
{
	return strcmp(pip, "pip1") == 0 || strcmp(pip, "pip2") == 0;
}

START_TEST(test_refs_resolve)
{
	struct topo_refs refs = { known_pip, NULL, NULL };
	struct vnet *v;

	err_reset();
	{
		size_t len = 0;
		char *d = slurp("examples/ref5.xml", &len);

		ck_assert_ptr_nonnull(d);
		v = vnet_parse(d, len, "ref5.xml");
		free(d);
	}
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(vnet_validate(v, &refs), 0);
	str_lcpy(v->nodes[0].pip, "pip9", sizeof(v->nodes[0].pip));
	ck_assert_int_eq(vnet_validate(v, &refs), -1);
	ck_assert_int_eq(err_last_code(), ERR_NOT_FOUND);
	vnet_free(v);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("fixtures");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_round_trip, 0,
	    (int)(sizeof(rt_cases) / sizeof(rt_cases[0])));
	tcase_add_loop_test(tc, test_refused, 0,
	    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_error_travels);
	tcase_add_test(tc, test_refs_resolve);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
