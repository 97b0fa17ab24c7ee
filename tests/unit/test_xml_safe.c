/*
 * Hostile documents: each is refused with one clear error, quickly and in
 * bounded memory, and nothing outside the document is ever read.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "doc.h"
#include "buf.h"
#include "error.h"
#include "util.h"
#include "vnet.h"

/* Parse as a VNet; expect refusal with code, within a second. */
static void
expect_refused(const char *data, size_t len, enum err_code code)
{
	uint64_t t0 = now_us();
	struct vnet *v;

	err_reset();
	v = vnet_parse(data, len, "hostile.xml");
	ck_assert_ptr_null(v);
	ck_assert_uint_ge(err_count(), 1);
	ck_assert_msg(err_get(0)->code == code, "code %s, expected %s: %s",
	    err_code_to_string(err_get(0)->code), err_code_to_string(code),
	    err_get(0)->msg);
	ck_assert_msg(now_us() - t0 < 1000000, "took %llu us",
	    (unsigned long long)(now_us() - t0));
}

/* Peak RSS stays small even for the large inputs. */
static long
max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

START_TEST(test_billion_laughs)
{
	static const char doc[] =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE vnet [\n"
	    " <!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
	    " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
	    " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
	    " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
	    " <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
	    " <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
	    " <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
	    " <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
	    " <!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">\n"
	    "]>\n<vnet xmlns=\"urn:vnsm:1\" name=\"x\"><description>&i;"
	    "</description><node name=\"a\" cpu=\"1\" memory=\"1\"/></vnet>\n";

	expect_refused(doc, sizeof(doc) - 1, ERR_XML_FORBIDDEN);
	ck_assert_int_eq(err_get(0)->line, 2);
}
END_TEST

START_TEST(test_external_entity)
{
	char secret[] = "/tmp/vnsm-secret-XXXXXX";
	char doc[512];
	int fd = mkstemp(secret);
	int n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "TOPSECRET\n", 10), 10);
	close(fd);
	n = snprintf(doc, sizeof(doc), "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE vnet [<!ENTITY x SYSTEM \"file://%s\">]>\n"
	    "<vnet xmlns=\"urn:vnsm:1\" name=\"x\"><description>&x;"
	    "</description><node name=\"a\" cpu=\"1\" memory=\"1\"/></vnet>",
	    secret);
	expect_refused(doc, (size_t)n, ERR_XML_FORBIDDEN);
	for (size_t i = 0; i < err_count(); i++)
		ck_assert_ptr_null(strstr(err_get(i)->msg, "TOPSECRET"));
	unlink(secret);

	/* And /etc/passwd by name, as the issue asks. */
	n = snprintf(doc, sizeof(doc), "<!DOCTYPE v [<!ENTITY x SYSTEM "
	    "\"file:///etc/passwd\">]><vnet xmlns=\"urn:vnsm:1\" name=\"x\">"
	    "<description>&x;</description></vnet>");
	expect_refused(doc, (size_t)n, ERR_XML_FORBIDDEN);
	for (size_t i = 0; i < err_count(); i++)
		ck_assert_ptr_null(strstr(err_get(i)->msg, "root:"));
}
END_TEST

START_TEST(test_undeclared_entity)
{
	static const char doc[] = "<vnet xmlns=\"urn:vnsm:1\" name=\"x\">"
	    "<description>&x;</description></vnet>";

	expect_refused(doc, sizeof(doc) - 1, ERR_XML_SYNTAX);
}
END_TEST

START_TEST(test_fifty_megabytes)
{
	size_t len = 50u << 20;
	char *doc = malloc(len);
	long rss0 = max_rss_kb();

	ck_assert_ptr_nonnull(doc);
	memset(doc, ' ', len);
	memcpy(doc, "<vnet xmlns=\"urn:vnsm:1\" name=\"x\">", 34);
	memcpy(doc + len - 7, "</vnet>", 7);
	expect_refused(doc, len, ERR_XML_LIMIT);
	free(doc);
	/* The refusal itself allocates nothing in proportion to the input. */
	ck_assert_int_lt(max_rss_kb() - rss0, 60 * 1024);
}
END_TEST

START_TEST(test_million_nodes)
{
	static const char head[] = "<vnet xmlns=\"urn:vnsm:1\" name=\"x\">";
	static const char node[] = "<node/>";
	size_t n = 1000000, len = sizeof(head) - 1 + n * 7 + 7;
	char *doc = malloc(len), *p = doc;
	long rss0;

	ck_assert_ptr_nonnull(doc);
	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	for (size_t i = 0; i < n; i++, p += 7)
		memcpy(p, node, 7);
	memcpy(p, "</vnet>", 7);
	rss0 = max_rss_kb();
	expect_refused(doc, len, ERR_XML_LIMIT);
	/* Stopped at the element limit, long before a million nodes. */
	ck_assert_int_lt(max_rss_kb() - rss0, 128 * 1024);
	free(doc);
}
END_TEST

START_TEST(test_deep_nesting)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "<vnet xmlns=\"urn:vnsm:1\" name=\"x\">");
	for (int i = 0; i < 100000; i++)
		buf_puts(&b, "<a>");
	expect_refused(b.data, b.len, ERR_XML_LIMIT);
	buf_free(&b);
}
END_TEST

START_TEST(test_missing_node)
{
	static const char doc[] = "<vnet xmlns=\"urn:vnsm:1\" name=\"x\">\n"
	    "<node name=\"a\" cpu=\"1\" memory=\"64MiB\"/>\n"
	    "<link name=\"l\"><end node=\"a\"/><end node=\"ghost\"/></link>\n"
	    "</vnet>";

	expect_refused(doc, sizeof(doc) - 1, ERR_NOT_FOUND);
	ck_assert_int_eq(err_get(0)->line, 3);
	ck_assert_ptr_nonnull(strstr(err_get(0)->msg, "'ghost'"));
}
END_TEST

START_TEST(test_negative_memory)
{
	static const char doc[] = "<vnet xmlns=\"urn:vnsm:1\" name=\"x\">"
	    "<node name=\"a\" cpu=\"1\" memory=\"-1MiB\"/></vnet>";

	expect_refused(doc, sizeof(doc) - 1, ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err_get(0)->msg, "\"-1MiB\""));
}
END_TEST

START_TEST(test_duplicate_name)
{
	static const char doc[] = "<vnet xmlns=\"urn:vnsm:1\" name=\"x\">\n"
	    "<node name=\"a\" cpu=\"1\" memory=\"1\"/>\n"
	    "<node name=\"a\" cpu=\"1\" memory=\"1\"/></vnet>";

	expect_refused(doc, sizeof(doc) - 1, ERR_DUPLICATE);
	ck_assert_int_eq(err_get(0)->line, 3);
}
END_TEST

START_TEST(test_wrong_root_and_namespace)
{
	static const char root[] = "<slice xmlns=\"urn:vnsm:1\" name=\"x\"/>";
	static const char ns[] = "<vnet xmlns=\"urn:evil:1\" name=\"x\">"
	    "<node name=\"a\" cpu=\"1\" memory=\"1\"/></vnet>";
	static const char none[] = "<vnet name=\"x\"/>";

	expect_refused(root, sizeof(root) - 1, ERR_XML_ROOT);
	expect_refused(ns, sizeof(ns) - 1, ERR_XML_ROOT);
	expect_refused(none, sizeof(none) - 1, ERR_XML_ROOT);
}
END_TEST

START_TEST(test_garbage)
{
	static const char *const docs[] = {
		"", "<", "not xml at all", "<vnet xmlns=\"urn:vnsm:1\"",
		"<?xml version=\"1.0\" encoding=\"EBCDIC-XX\"?><vnet/>",
		"<vnet xmlns=\"urn:vnsm:1\" name=\"x\"><node name=\"a\" cpu=\"1\" "
		"memory=\"1\"/></vnet><extra/>",
	};

	for (size_t i = 0; i < NELEM(docs); i++) {
		err_reset();
		ck_assert_ptr_null(vnet_parse(docs[i], strlen(docs[i]), "g"));
		ck_assert_uint_ge(err_count(), 1);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("xml-safe");
	TCase *tc = tcase_create("hostile");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_billion_laughs);
	tcase_add_test(tc, test_external_entity);
	tcase_add_test(tc, test_undeclared_entity);
	tcase_add_test(tc, test_fifty_megabytes);
	tcase_add_test(tc, test_million_nodes);
	tcase_add_test(tc, test_deep_nesting);
	tcase_add_test(tc, test_missing_node);
	tcase_add_test(tc, test_negative_memory);
	tcase_add_test(tc, test_duplicate_name);
	tcase_add_test(tc, test_wrong_root_and_namespace);
	tcase_add_test(tc, test_garbage);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
