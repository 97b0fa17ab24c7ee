/*
 * exec through a console (substrate-agent/lv_console.c) without a guest:
 * the marker parser on what a serial console really gives (echo, prompts,
 * CRLF, kernel noise, output without a final newline, bytes one at a
 * time), the typed lines, and the talk against a fake console that
 * answers, never answers, or never ends the command.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "../../substrate-agent/lv_console.h"

#define N	"0123abcd"

/* A console as QEMU's serial port gives it: echo, prompts, CRLF. */
static const char tty[] =
    "\r\n[    2.1] random: crng init done\r\n"
    "/ # stty -echo 2>/dev/null; printf '%s_%s\\n' __VNSM_READY " N "\r\n"
    "__VNSM_READY_" N "\r\n/ # / # / # __VNSM_BEGIN_" N "\r\n"
    "Linux\r\nline two\r\r\n\r\n"
    "__VNSM_END_" N " 3\r\n/ # ";

START_TEST(test_parse_noise)
{
	char out[64];
	int st = -1;

	ck_assert_int_eq(lvc_ready(tty, sizeof(tty) - 1, N), 1);
	ck_assert_int_eq(lvc_ready(tty, sizeof(tty) - 1, "0123abce"), 0);
	ck_assert_int_eq(lvc_parse(tty, sizeof(tty) - 1, N, out, sizeof(out),
	    &st), 1);
	ck_assert_str_eq(out, "Linux\nline two\n\n");
	ck_assert_int_eq(st, 3);
}
END_TEST

/* Every prefix is incomplete until the end marker's line ends. */
START_TEST(test_parse_partial)
{
	const char *end = strstr(tty, "__VNSM_END_");
	size_t full = (size_t)(strchr(end, '\r') - tty) + 1;
	char out[64];
	int st;

	for (size_t n = 0; n < full; n++)
		ck_assert_msg(lvc_parse(tty, n, N, out, sizeof(out), &st) == 0,
		    "complete after %zu of %zu bytes", n, full);
	ck_assert_int_eq(lvc_parse(tty, full, N, out, sizeof(out), &st), 1);
	ck_assert_str_eq(out, "Linux\nline two\n\n");
}
END_TEST

/* Output without a final newline; NUL bytes dropped; truncation. */
START_TEST(test_parse_edges)
{
	const char a[] = "__VNSM_BEGIN_" N "\nab\0c\036/tmp__VNSM_END_" N
	    " 0\n";
	const char big[] = "__VNSM_BEGIN_" N "\r\n0123456789abcdefghij\r\n__VNSM_END_" N
	    " 255\r\n";
	const char bad[] = "__VNSM_BEGIN_" N "\nx\n__VNSM_END_" N " 300\n";
	const char nost[] = "__VNSM_BEGIN_" N "\nx\n__VNSM_END_" N " \n";
	/* The echo of the command line (split words) is no marker. */
	const char echo[] = "printf '%s_%s\\n' __VNSM_BEGIN " N "; x; "
	    "printf '%s_%s %s\\n' __VNSM_END " N " $?\r\n";
	char out[16];
	int st;

	ck_assert_int_eq(lvc_parse(a, sizeof(a) - 1, N, out, sizeof(out),
	    &st), 1);
	ck_assert_str_eq(out, "abc\036/tmp");
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(lvc_parse(big, sizeof(big) - 1, N, out, sizeof(out),
	    &st), 1);
	ck_assert_str_eq(out, "0123456789abcde");
	ck_assert_int_eq(st, 255);
	ck_assert_int_eq(lvc_parse(big, sizeof(big) - 1, N, NULL, 0, &st), 1);
	ck_assert_int_eq(lvc_parse(bad, sizeof(bad) - 1, N, out, sizeof(out),
	    &st), -1);
	ck_assert_int_eq(err_last_code(), ERR_PEER);
	err_reset();
	ck_assert_int_eq(lvc_parse(nost, sizeof(nost) - 1, N, out, sizeof(out),
	    &st), -1);
	err_reset();
	ck_assert_int_eq(lvc_parse(echo, sizeof(echo) - 1, N, out, sizeof(out),
	    &st), 0);
	ck_assert_int_eq(lvc_ready(echo, sizeof(echo) - 1, N), 0);
}
END_TEST

/* The typed lines: short, the command only in base64. */
START_TEST(test_script)
{
	char cmd[3000], *s, *line, *save = NULL;
	size_t len;

	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	memcpy(cmd, "echo '\"$HOME\003\n", 15);
	ck_assert_ptr_nonnull(s = lvc_script(cmd, N, 7, &len));
	ck_assert_uint_eq(strlen(s), len);
	ck_assert_ptr_null(strstr(s, "HOME"));
	ck_assert_ptr_null(strchr(s, '\003'));
	ck_assert_ptr_nonnull(strstr(s, "timeout -s KILL 7 "));
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		ck_assert_uint_lt(strlen(line), 512);
	free(s);
	ck_assert_ptr_nonnull(s = lvc_probe(N, &len));
	ck_assert_int_eq(s[0], '\025');
	ck_assert_ptr_nonnull(strstr(s, "stty -echo"));
	free(s);
}
END_TEST

/*
 * A fake console: a shell that answers the probe (unless mute) and runs
 * the command by printing canned output (with the end marker unless
 * endless), a few bytes per read.
 */
struct fake {
	int mute;		/* never answer */
	int endless;		/* never print the end marker */
	int ctrl_c;		/* Ctrl-C typed */
	char nonce[32];		/* learnt from the probe */
	struct buf pending;	/* what the "guest" will print */
};

static int
fake_send(void *arg, const char *s, size_t len, const char *id)
{
	struct fake *f = arg;
	const char *p;

	if (len == 1 && s[0] == '\003') {
		f->ctrl_c = 1;
		return 0;
	}
	if (f->mute)
		return 0;
	if ((p = strstr(s, "__VNSM_READY ")) != NULL) {
		sscanf(p + 13, "%31[0-9a-f]", f->nonce);
		buf_printf(&f->pending, "%.*s\r\n__VNSM_READY_%s\r\n/ # ",
		    (int)len - 2, s + 1, f->nonce);
	} else if (strstr(s, "__VNSM_BEGIN ") != NULL) {
		buf_printf(&f->pending, "/ # / # __VNSM_BEGIN_%s\r\nhello\r\n",
		    f->nonce);
		if (!f->endless)
			buf_printf(&f->pending, "__VNSM_END_%s 4\r\n/ # ",
			    f->nonce);
	}
	return 0;
}

static int
fake_recv(void *arg, struct buf *b, const char *id)
{
	struct fake *f = arg;
	size_t n = f->pending.len < 5 ? f->pending.len : 5;

	if (n == 0)
		return 0;
	buf_append(b, f->pending.data, n);
	memmove(f->pending.data, f->pending.data + n, f->pending.len - n);
	f->pending.len -= n;
	return 1;
}

static int
talk(struct fake *f, char *out, size_t outsz, int *st)
{
	struct lvc_io io = { fake_send, fake_recv, f };
	int rc;

	buf_init(&f->pending);
	rc = lvc_talk(&io, "n1", "echo hello; exit 4", out, outsz, 300, st);
	buf_free(&f->pending);
	return rc;
}

START_TEST(test_talk)
{
	struct fake f;
	char out[64];
	int st = -1;

	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(talk(&f, out, sizeof(out), &st), 0);
	ck_assert_str_eq(out, "hello\n");
	ck_assert_int_eq(st, 4);
	ck_assert_int_eq(f.ctrl_c, 0);

	memset(&f, 0, sizeof(f));
	f.mute = 1;
	ck_assert_int_eq(talk(&f, out, sizeof(out), &st), -1);
	ck_assert_int_eq(err_last_code(), ERR_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "did not answer"));
	err_reset();

	memset(&f, 0, sizeof(f));
	f.endless = 1;
	ck_assert_int_eq(talk(&f, out, sizeof(out), &st), -1);
	ck_assert_int_eq(err_last_code(), ERR_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "did not end"));
	ck_assert_int_eq(f.ctrl_c, 1);
	err_reset();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lv_console");
	TCase *tc = tcase_create("markers");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_parse_noise);
	tcase_add_test(tc, test_parse_partial);
	tcase_add_test(tc, test_parse_edges);
	tcase_add_test(tc, test_script);
	tcase_add_test(tc, test_talk);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
