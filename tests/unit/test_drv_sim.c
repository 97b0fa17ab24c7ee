/* The sim driver: state machine, delays, injected failures, list. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "../../substrate-agent/driver.h"

static void
spec(struct vnode_spec *s, const char *id)
{
	memset(s, 0, sizeof(*s));
	str_lcpy(s->id, id, sizeof(s->id));
	str_lcpy(s->name, id, sizeof(s->name));
	s->kind = VNODE_NETNS;
}

START_TEST(test_lifecycle_and_delays)
{
	struct drv_conf c = { 0 };
	struct vnode_spec s;
	struct vnode_info *v;
	struct vnode_if f;
	struct drv *d;
	double t0;
	size_t n;

	err_reset();
	c.delay_ms[DRV_OP_CREATE] = 20;
	ck_assert_ptr_nonnull(d = drv_open("sim", &c));
	spec(&s, "n1");
	t0 = now_ms();
	ck_assert_int_eq(d->ops->create(d, &s), 0);
	ck_assert(now_ms() - t0 >= 19.5);
	ck_assert_int_eq(d->ops->create(d, &s), -1);
	ck_assert_int_eq(err_last_code(), ERR_CONFLICT);
	err_reset();
	ck_assert_int_eq(d->ops->pause(d, "n1"), -1);
	ck_assert_int_eq(err_last_code(), ERR_CONFLICT);
	err_reset();
	ck_assert_int_eq(d->ops->start(d, "n1"), 0);
	ck_assert_int_eq(d->ops->pause(d, "n1"), 0);
	ck_assert_int_eq(d->ops->resume(d, "n1"), 0);
	memset(&f, 0, sizeof(f));
	str_lcpy(f.name, "eth0", sizeof(f.name));
	ck_assert_int_eq(d->ops->attach(d, "n1", &f), 0);
	ck_assert_int_eq(d->ops->attach(d, "n1", &f), -1);
	ck_assert_int_eq(err_last_code(), ERR_DUPLICATE);
	err_reset();
	ck_assert_int_eq(d->ops->detach(d, "n1", "eth0"), 0);
	ck_assert_int_eq(d->ops->detach(d, "n1", "eth0"), -1);
	err_reset();
	for (int i = 0; i < 1000; i++) {
		char id[16];

		snprintf(id, sizeof(id), "m%d", i);
		c.delay_ms[DRV_OP_CREATE] = 0;
		d->conf.delay_ms[DRV_OP_CREATE] = 0;
		spec(&s, id);
		ck_assert_int_eq(d->ops->create(d, &s), 0);
	}
	ck_assert_int_eq(d->ops->list(d, &v, &n), 0);
	ck_assert_uint_eq(n, 1001);
	ck_assert_str_eq(v[0].id, "n1");
	ck_assert_int_eq(v[0].state, VNODE_ST_RUNNING);
	free(v);
	ck_assert_int_eq(d->ops->delete(d, "n1"), 0);
	ck_assert_int_eq(d->ops->delete(d, "n1"), -1);
	ck_assert_int_eq(err_last_code(), ERR_NOT_FOUND);
	err_reset();
	drv_close(d);
}
END_TEST

START_TEST(test_fail_every)
{
	struct drv_conf c = { .fail_every = 3 };
	struct vnode_spec s;
	struct drv *d;
	int fails = 0;

	err_reset();
	ck_assert_ptr_nonnull(d = drv_open("sim", &c));
	for (int i = 0; i < 9; i++) {
		char id[16];

		snprintf(id, sizeof(id), "f%d", i);
		spec(&s, id);
		if (d->ops->create(d, &s) == -1)
			fails++;
	}
	ck_assert_int_eq(fails, 3);
	err_reset();
	drv_close(d);
}
END_TEST

START_TEST(test_spec_checks)
{
	struct vnode_spec s;
	struct in_addr a;
	uint8_t p;

	err_reset();
	spec(&s, "ok-id_1");
	ck_assert_int_eq(vnode_spec_check(&s), 0);
	spec(&s, "bad/id");
	ck_assert_int_eq(vnode_spec_check(&s), -1);
	spec(&s, "x");
	s.nifs = 1;
	str_lcpy(s.ifs[0].name, "eth/0", sizeof(s.ifs[0].name));
	ck_assert_int_eq(vnode_spec_check(&s), -1);
	spec(&s, "x");
	s.flags = VNODE_F_SSHD;
	ck_assert_int_eq(vnode_spec_check(&s), -1);
	str_lcpy(s.ssh_key, "ssh-ed25519 AAAA k", sizeof(s.ssh_key));
	ck_assert_int_eq(vnode_spec_check(&s), 0);
	ck_assert_int_eq(vnode_parse_cidr("10.1.2.3/24", &a, &p), 0);
	ck_assert_int_eq(p, 24);
	ck_assert_int_eq(vnode_parse_cidr("10.1.2.3", &a, &p), -1);
	ck_assert_int_eq(vnode_parse_cidr("10.1.2.3/33", &a, &p), -1);
	ck_assert_int_eq(vnode_parse_cidr("10.1.2/8", &a, &p), -1);
	ck_assert_ptr_null(drv_open("nope", NULL));
	err_reset();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("drv_sim");
	TCase *tc = tcase_create("sim");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_lifecycle_and_delays);
	tcase_add_test(tc, test_fail_every);
	tcase_add_test(tc, test_spec_checks);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
