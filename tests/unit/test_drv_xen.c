/*
 * The xen driver: the libxl configuration built from a spec (checked as
 * libxl's JSON), and the clear refusal where no Xen hypervisor runs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "../../substrate-agent/driver.h"

static void
spec_init(struct vnode_spec *s)
{
	struct vnode_if *f;

	memset(s, 0, sizeof(*s));
	str_lcpy(s->id, "vtxen1", sizeof(s->id));
	str_lcpy(s->name, "xr1", sizeof(s->name));
	s->kind = VNODE_VM;
	s->cpu_milli = 2500;
	s->mem_mib = 192;
	str_lcpy(s->image, "router", sizeof(s->image));
	f = &s->ifs[s->nifs++];
	str_lcpy(f->name, "eth0", sizeof(f->name));
	vnode_parse_cidr("10.0.0.1/24", &f->addr, &f->prefix);
	str_lcpy(f->bridge, "xenbr0", sizeof(f->bridge));
	str_lcpy(f->peer, "vnx0", sizeof(f->peer));
	f->mtu = 1450;
	s->nroutes = 1;
	vnode_parse_cidr("0.0.0.0/0", &s->routes[0].dst, &s->routes[0].prefix);
	vnode_parse_cidr("10.0.0.254/32", &s->routes[0].via, &(uint8_t){ 0 });
}

START_TEST(test_config_json)
{
	struct drv_conf c = { .imgdir = "/srv/img" };
	struct vnode_spec s;
	struct drv *d;
	char *j, mac[64];
	uint8_t m[6];

	err_reset();
	ck_assert_ptr_nonnull(d = drv_open("xen", &c));
	spec_init(&s);
	ck_assert_ptr_nonnull(j = drv_xen_json(d, &s));
	ck_assert_msg(strstr(j, "\"name\": \"vn-vtxen1\"") != NULL, "%s", j);
	ck_assert_ptr_nonnull(strstr(j, "\"type\": \"pvh\""));
	ck_assert_ptr_nonnull(strstr(j, "\"max_vcpus\": 3"));
	ck_assert_ptr_nonnull(strstr(j, "\"max_memkb\": 196608"));
	ck_assert_ptr_nonnull(strstr(j, "\"cap\": 250"));
	ck_assert_ptr_nonnull(strstr(j, "\"kernel\": \"/srv/img/router/vmlinuz\""));
	ck_assert_ptr_nonnull(strstr(j,
	    "\"ramdisk\": \"/srv/img/router/initrd.img\""));
	ck_assert_ptr_nonnull(strstr(j, "console=hvc0"));
	ck_assert_ptr_nonnull(strstr(j, "vnsm.route=0.0.0.0/0,10.0.0.254"));
	ck_assert_ptr_nonnull(strstr(j, "\"bridge\": \"xenbr0\""));
	ck_assert_ptr_nonnull(strstr(j, "\"ifname\": \"vnx0\""));
	ck_assert_ptr_nonnull(strstr(j, "\"mtu\": 1450"));
	vnode_if_mac(s.id, &s.ifs[0], m);
	snprintf(mac, sizeof(mac), "\"mac\": \"%02x:%02x:%02x:%02x:%02x:%02x\"",
	    m[0], m[1], m[2], m[3], m[4], m[5]);
	ck_assert_msg(strstr(j, mac) != NULL, "%s in %s", mac, j);
	free(j);

	/* A bad spec gives no configuration. */
	str_lcpy(s.id, "bad id", sizeof(s.id));
	ck_assert_ptr_null(drv_xen_json(d, &s));
	ck_assert_int_eq(err_last_code(), ERR_INVALID);
	err_reset();
	drv_close(d);
}
END_TEST

START_TEST(test_refusal_without_xen)
{
	struct vnode_spec s;
	struct vnode_info *v;
	struct drv *d;
	size_t n;

	err_reset();
	if (drv_xen_ops.probe(&(struct drv_conf){ 0 }) == 0) {
		printf("a Xen hypervisor runs here: refusal not tested\n");
		return;
	}
	ck_assert_int_eq(err_last_code(), ERR_UNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err_last()->msg,
	    "no Xen hypervisor runs on this host"));
	err_reset();
	ck_assert_ptr_nonnull(d = drv_open("xen", NULL));
	spec_init(&s);
	ck_assert_int_eq(d->ops->create(d, &s), -1);
	ck_assert_int_eq(err_last_code(), ERR_UNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err_last()->msg,
	    "no Xen hypervisor runs on this host"));
	err_reset();
	ck_assert_int_eq(d->ops->list(d, &v, &n), -1);
	ck_assert_int_eq(err_last_code(), ERR_UNSUPPORTED);
	err_reset();
	drv_close(d);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("drv_xen");
	TCase *tc = tcase_create("xen");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_config_json);
	tcase_add_test(tc, test_refusal_without_xen);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
