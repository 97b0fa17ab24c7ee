/*
 * Configuration files (FILE:LINE errors, typed getters, sections) and
 * the daemon helpers (flags, pidfile lock).
 */
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "error.h"

static struct conf *
parse(const char *text)
{
	err_reset();
	return conf_parse("test.conf", text, strlen(text));
}

START_TEST(test_good)
{
	const char *text =
	    "# substrated\n"
	    "listen 127.0.0.1:8443   # comment\n"
	    "listen6 [::1]:0\n"
	    "any *:9000\n"
	    "pipd \"pip #1\"\n"
	    "memory 64MiB\n"
	    "disk 2 GB\n"
	    "debug yes\n"
	    "allow alice\n"
	    "allow bob\n"
	    "\n"
	    "[pool small]\n"
	    "  depth 4\n"
	    "[pool big]\n"
	    "depth 1\n"
	    "[driver]\n"
	    "kind netns\n";
	struct conf *c = parse(text);
	struct conf_section *g, *s;
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *v;
	long long n;
	uint64_t sz;
	size_t it = 0;
	long line;
	int b;

	ck_assert_ptr_nonnull(c);
	g = conf_global(c);
	ck_assert_int_eq(conf_addr(g, "listen", NULL, &ss, &sl), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8443);
	ck_assert_int_eq(conf_addr(g, "listen6", NULL, &ss, &sl), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_int_eq(conf_addr(g, "any", NULL, &ss, &sl), 0);
	ck_assert_int_eq(conf_str(g, "pipd", NULL, &v), 0);
	ck_assert_str_eq(v, "pip #1");
	ck_assert_int_eq(conf_size(g, "memory", 0, &sz), 0);
	ck_assert_uint_eq(sz, 64ull << 20);
	ck_assert_int_eq(conf_size(g, "disk", 0, &sz), 0);
	ck_assert_uint_eq(sz, 2000000000ull);
	ck_assert_int_eq(conf_bool(g, "debug", 0, &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(conf_int(g, "absent", 7, 0, 10, &n), 0);
	ck_assert_int_eq(n, 7);
	ck_assert_str_eq(conf_each(g, "allow", &it, &line), "alice");
	ck_assert_int_eq(line, 9);
	ck_assert_str_eq(conf_each(g, "allow", &it, NULL), "bob");
	ck_assert_ptr_null(conf_each(g, "allow", &it, NULL));

	s = conf_next(c, NULL, "pool");
	ck_assert_str_eq(conf_section_name(s), "small");
	ck_assert_int_eq(conf_section_line(s), 12);
	ck_assert_int_eq(conf_int(s, "depth", 0, 0, 64, &n), 0);
	ck_assert_int_eq(n, 4);
	s = conf_next(c, s, "pool");
	ck_assert_str_eq(conf_section_name(s), "big");
	ck_assert_int_eq(conf_int(s, "depth", 0, 0, 64, &n), 0);
	ck_assert_ptr_null(conf_next(c, s, "pool"));
	s = conf_next(c, NULL, "driver");
	ck_assert_str_eq(conf_section_name(s), "");
	/* kind was never read: a typo would be caught here. */
	ck_assert_int_eq(conf_check_unused(c), -1);
	ck_assert_uint_eq(err_count(), 1);
	{
		char buf[256];

		ck_assert_str_eq(err_line(err_last(), buf, sizeof(buf)),
		    "test.conf:17: unknown key 'kind' in section [driver]");
	}
	conf_free(c);
}
END_TEST

/* Parse text, expect failure with exactly this first error line. */
static void
expect_parse_error(const char *text, const char *want)
{
	char buf[512];

	ck_assert_ptr_null(parse(text));
	ck_assert_str_eq(err_line(err_get(0), buf, sizeof(buf)), want);
}

START_TEST(test_syntax_errors)
{
	expect_parse_error("a 1\n[pool x\n", "test.conf:2: section header "
	    "without ']'");
	expect_parse_error("\n\nlonely\n", "test.conf:3: key 'lonely' has no "
	    "value");
	expect_parse_error("k \"open\n", "test.conf:1: unterminated quoted "
	    "value");
	expect_parse_error("[]\n", "test.conf:1: empty section header");
	expect_parse_error("b@d 1\n", "test.conf:1: bad key 'b@d'");
	expect_parse_error("[pool a b]\n", "test.conf:1: section name 'a b' "
	    "has blanks");
	/* Every bad line is reported, not only the first. */
	ck_assert_ptr_null(parse("x\ny\nz 1\n"));
	ck_assert_uint_eq(err_count(), 2);
}
END_TEST

START_TEST(test_value_errors)
{
	struct conf *c = parse("n 12x\nbig 100\nsz 5 parsecs\nb maybe\n"
	    "a 1.2.3.4\ndup 1\ndup 2\nport 1.2.3.4:70000\n");
	struct conf_section *g;
	struct sockaddr_storage ss;
	socklen_t sl;
	long long n;
	uint64_t sz;
	char buf[512];
	int b;

	ck_assert_ptr_nonnull(c);
	g = conf_global(c);
#define LAST() err_line(err_last(), buf, sizeof(buf))
	ck_assert_int_eq(conf_int(g, "n", 0, 0, 10, &n), -1);
	ck_assert_str_eq(LAST(), "test.conf:1: n: '12x' is not an integer");
	ck_assert_int_eq(conf_int(g, "big", 0, 0, 10, &n), -1);
	ck_assert_str_eq(LAST(), "test.conf:2: big: 100 is out of range "
	    "[0, 10]");
	ck_assert_int_eq(conf_size(g, "sz", 0, &sz), -1);
	ck_assert_ptr_nonnull(strstr(LAST(), "test.conf:3: sz: unknown unit"));
	ck_assert_int_eq(conf_bool(g, "b", 0, &b), -1);
	ck_assert_str_eq(LAST(), "test.conf:4: b: 'maybe' is not yes or no");
	ck_assert_int_eq(conf_addr(g, "a", NULL, &ss, &sl), -1);
	ck_assert_str_eq(LAST(), "test.conf:5: a: '1.2.3.4' is not "
	    "ADDR:PORT, [V6ADDR]:PORT or *:PORT");
	ck_assert_int_eq(conf_int(g, "dup", 0, 0, 10, &n), -1);
	ck_assert_str_eq(LAST(), "test.conf:7: 'dup' is set twice (first on "
	    "line 6)");
	ck_assert_int_eq(conf_addr(g, "port", NULL, &ss, &sl), -1);
	ck_assert_int_eq(conf_error(g, "n", "must be even"), -1);
	ck_assert_str_eq(LAST(), "test.conf:1: n: must be even");
#undef LAST
	conf_free(c);
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/vnsm-test-conf.XXXXXX";
	int fd = mkstemp(path);
	char buf[512];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "ok 1\nbad\n", 9), 9);
	close(fd);
	err_reset();
	ck_assert_ptr_null(conf_load(path));
	snprintf(buf, sizeof(buf), "%s:2: key 'bad' has no value", path);
	{
		char line[512];

		ck_assert_str_eq(err_line(err_get(0), line, sizeof(line)), buf);
	}
	unlink(path);
	err_reset();
	ck_assert_ptr_null(conf_load(path));
	ck_assert_int_eq(err_last_code(), ERR_SYSTEM);
}
END_TEST

START_TEST(test_daemon_args)
{
	struct daemon_opts o;
	char w[7][16] = { "d", "-d", "-vv", "-f", "/x.conf", "-n", "stray" };
	char *a1[] = { w[0], w[1], w[2], w[3], w[4], w[5], NULL };
	char *a2[] = { w[0], NULL };
	char x[] = "-x";
	char *a3[] = { w[0], x, NULL };
	char *a4[] = { w[0], w[6], NULL };

	ck_assert_int_eq(daemon_parse_args(6, a1, "d", "/etc/d.conf", &o), 0);
	ck_assert_int_eq(o.foreground, 1);
	ck_assert_int_eq(o.verbose, 2);
	ck_assert_int_eq(o.check_only, 1);
	ck_assert_str_eq(o.conf_path, "/x.conf");
	ck_assert_int_eq(daemon_parse_args(1, a2, "d", "/etc/d.conf", &o), 0);
	ck_assert_str_eq(o.conf_path, "/etc/d.conf");
	ck_assert_int_eq(o.foreground, 0);
	ck_assert_int_eq(daemon_parse_args(2, a3, "d", "/etc/d.conf", &o), -1);
	ck_assert_int_eq(daemon_parse_args(2, a4, "d", "/etc/d.conf", &o), -1);
}
END_TEST

START_TEST(test_pidfile)
{
	char path[] = "/tmp/vnsm-test-pid.XXXXXX";
	int fd = mkstemp(path), fd1, st;
	pid_t pid;

	close(fd);
	fd1 = daemon_pidfile_lock(path);
	ck_assert_int_ge(fd1, 0);
	ck_assert_int_eq(daemon_pidfile_write(fd1), 0);
	/* A second instance (another process) is told who runs. */
	if ((pid = fork()) == 0) {
		char want[64];

		err_reset();
		if (daemon_pidfile_lock(path) != -1)
			_exit(1);
		snprintf(want, sizeof(want), "already running (pid %ld;",
		    (long)getppid());
		_exit(err_last_code() == ERR_CONFLICT &&
		    strstr(err_last()->msg, want) != NULL ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	daemon_pidfile_remove(path, fd1);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_value_errors);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_daemon_args);
	tcase_add_test(tc, test_pidfile);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
