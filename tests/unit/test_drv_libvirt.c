/*
 * The libvirt driver against test:///default: libvirt's in-process mock,
 * no daemon.  Domain XML content, life cycle, hot-plug, list by id.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "../../substrate-agent/driver.h"

static struct drv *drv;
static char id[32];

static void
spec_init(struct vnode_spec *s, const char *sid)
{
	struct vnode_if *f;

	memset(s, 0, sizeof(*s));
	str_lcpy(s->id, sid, sizeof(s->id));
	str_lcpy(s->name, "r<1>&'x'", sizeof(s->name));
	s->kind = VNODE_VM;
	s->cpu_milli = 1500;
	s->mem_mib = 128;
	str_lcpy(s->image, "router", sizeof(s->image));
	f = &s->ifs[s->nifs++];
	str_lcpy(f->name, "eth0", sizeof(f->name));
	vnode_parse_cidr("10.0.0.1/24", &f->addr, &f->prefix);
	str_lcpy(f->peer, "vtap0", sizeof(f->peer));
	f->mtu = 1400;
	f = &s->ifs[s->nifs++];
	str_lcpy(f->name, "eth1", sizeof(f->name));
	vnode_parse_cidr("10.0.1.1/24", &f->addr, &f->prefix);
	str_lcpy(f->bridge, "br0", sizeof(f->bridge));
	s->nroutes = 1;
	vnode_parse_cidr("10.9.0.0/16", &s->routes[0].dst, &s->routes[0].prefix);
	vnode_parse_cidr("10.0.0.254/32", &s->routes[0].via, &(uint8_t){ 0 });
}

static void
setup(void)
{
	struct drv_conf c = { .uri = "test:///default", .imgdir = "/img" };

	err_reset();
	snprintf(id, sizeof(id), "vt%d", (int)getpid());
	drv = drv_open("libvirt", &c);
	if (drv == NULL)
		err_print(stderr);
	ck_assert_ptr_nonnull(drv);
}

static void
teardown(void)
{
	drv->ops->delete(drv, id);
	drv_close(drv);
	err_reset();
}

static int
find(const char *sid, struct vnode_info *out)
{
	struct vnode_info *v;
	size_t n;
	int found = 0;

	ck_assert_int_eq(drv->ops->list(drv, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].id, sid) == 0) {
			*out = v[i];
			found = 1;
		}
	free(v);
	return found;
}

START_TEST(test_xml)
{
	struct vnode_spec s;
	char *x;
	uint8_t m[6];
	char mac[64];

	spec_init(&s, id);
	ck_assert_ptr_nonnull(x = drv_libvirt_xml(&drv->conf, &s));
	/* test:// domains are type='test'; names and metadata carry the id. */
	ck_assert_ptr_nonnull(strstr(x, "<domain type='test'>"));
	ck_assert_ptr_nonnull(strstr(x, "<name>vn-vt"));
	ck_assert_ptr_nonnull(strstr(x, "<title>r&lt;1&gt;&amp;&apos;x&apos;"
	    "</title>"));
	ck_assert_ptr_nonnull(strstr(x, "xmlns:vnsm='urn:vnsm:node:1' id='vt"));
	ck_assert_ptr_nonnull(strstr(x, "<memory unit='MiB'>128</memory>"));
	ck_assert_ptr_nonnull(strstr(x, "<vcpu>2</vcpu>"));
	ck_assert_ptr_nonnull(strstr(x, "<features>\n    <acpi/>"));
	ck_assert_ptr_nonnull(strstr(x, "<kernel>/img/router/vmlinuz</kernel>"));
	ck_assert_ptr_nonnull(strstr(x, "<initrd>/img/router/initrd.img"));
	vnode_if_mac(s.id, &s.ifs[0], m);
	snprintf(mac, sizeof(mac), "vnsm.if=eth0,%02x:%02x:%02x:%02x:%02x:%02x,"
	    "10.0.0.1/24,1400", m[0], m[1], m[2], m[3], m[4], m[5]);
	ck_assert_msg(strstr(x, mac) != NULL, "%s", x);
	ck_assert_ptr_nonnull(strstr(x, "vnsm.route=10.9.0.0/16,10.0.0.254"));
	ck_assert_ptr_nonnull(strstr(x, "<interface type='ethernet'>"));
	ck_assert_ptr_nonnull(strstr(x, "<target dev='vtap0'/>"));
	ck_assert_ptr_nonnull(strstr(x, "<interface type='bridge'>\n"
	    "      <source bridge='br0'/>"));
	ck_assert_ptr_nonnull(strstr(x, "<mtu size='1400'/>"));
	ck_assert_ptr_nonnull(strstr(x, "<alias name='ua-eth1'/>"));
	ck_assert_ptr_nonnull(strstr(x, "<target type='serial' port='0'/>"));
	free(x);
}
END_TEST

/* QEMU: kvm by default, qemu (TCG) when asked; LXC: exe + rootfs. */
START_TEST(test_xml_flavours)
{
	struct drv_conf c = { .uri = "qemu:///system", .imgdir = "/img" };
	struct vnode_spec s;
	char *x;

	spec_init(&s, id);
	ck_assert_ptr_nonnull(x = drv_libvirt_xml(&c, &s));
	ck_assert_ptr_nonnull(strstr(x, "<domain type='kvm'>"));
	ck_assert_ptr_nonnull(strstr(x, "<model type='virtio'/>"));
	/* 1500 milli-cores on 2 vCPUs: 75% of each. */
	ck_assert_ptr_nonnull(strstr(x, "<quota>75000</quota>"));
	ck_assert_ptr_nonnull(strstr(x, "<cmdline>console=ttyS0"));
	free(x);
	c.virt_type = 1;
	ck_assert_ptr_nonnull(x = drv_libvirt_xml(&c, &s));
	ck_assert_ptr_nonnull(strstr(x, "<domain type='qemu'>"));
	free(x);
	c.uri = "lxc:///system";
	s.kind = VNODE_CONTAINER;
	ck_assert_ptr_nonnull(x = drv_libvirt_xml(&c, &s));
	ck_assert_ptr_nonnull(strstr(x, "<domain type='lxc'>"));
	ck_assert_ptr_nonnull(strstr(x, "<type>exe</type>"));
	ck_assert_ptr_nonnull(strstr(x, "<init>/init</init>"));
	ck_assert_ptr_nonnull(strstr(x, "<initarg>vnsm.route=10.9.0.0/16,"
	    "10.0.0.254</initarg>"));
	ck_assert_ptr_nonnull(strstr(x, "<source dir='/img/router/rootfs'/>"));
	ck_assert_ptr_nonnull(strstr(x, "<guest dev='eth1'/>"));
	ck_assert_ptr_null(strstr(x, "<kernel>"));
	free(x);
	/* A bad spec gives no XML. */
	s.ifs[1].prefix = 40;
	ck_assert_ptr_null(drv_libvirt_xml(&c, &s));
	ck_assert_int_eq(err_last_code(), ERR_INVALID);
	err_reset();
}
END_TEST

START_TEST(test_lifecycle)
{
	struct vnode_spec s;
	struct vnode_info vi;
	struct vnode_if nif;
	struct vnode_console con;

	spec_init(&s, id);
	ck_assert_int_eq(drv->ops->create(drv, &s), 0);
	ck_assert(find(id, &vi));
	ck_assert_int_eq(vi.state, VNODE_ST_DEFINED);
	ck_assert_str_eq(vi.name, "r&lt;1&gt;&amp;'x'") ;
	ck_assert_int_eq(drv->ops->create(drv, &s), -1);
	ck_assert_int_eq(err_last_code(), ERR_CONFLICT);
	err_reset();

	ck_assert_int_eq(drv->ops->start(drv, id), 0);
	ck_assert(find(id, &vi) && vi.state == VNODE_ST_RUNNING);
	ck_assert_int_eq(drv->ops->pause(drv, id), 0);
	ck_assert(find(id, &vi) && vi.state == VNODE_ST_PAUSED);
	ck_assert_int_eq(drv->ops->resume(drv, id), 0);
	ck_assert(find(id, &vi) && vi.state == VNODE_ST_RUNNING);

	memset(&nif, 0, sizeof(nif));
	str_lcpy(nif.name, "eth2", sizeof(nif.name));
	str_lcpy(nif.peer, "vtap2", sizeof(nif.peer));
	/* test:// has no hot-plug: the refusal must say so. */
	ck_assert_int_eq(drv->ops->attach(drv, id, &nif), -1);
	ck_assert_int_eq(err_last_code(), ERR_UNSUPPORTED);
	err_reset();
	ck_assert_int_eq(drv->ops->detach(drv, id, "eth1"), -1);
	ck_assert_int_eq(err_last_code(), ERR_UNSUPPORTED);
	err_reset();
	ck_assert_int_eq(drv->ops->detach(drv, id, "eth9"), -1);
	ck_assert_int_eq(err_last_code(), ERR_NOT_FOUND);
	err_reset();

	ck_assert_int_eq(drv->ops->console(drv, id, &con), 0);
	ck_assert(con.kind == VNODE_CON_STREAM || con.kind == VNODE_CON_PTY);
	ck_assert_str_eq(con.uri, "test:///default");
	ck_assert(strncmp(con.domain, "vn-vt", 5) == 0);
	{
		const char *argv[] = { "true", NULL };
		struct vnode_exec ex = { .argv = argv };
		int st;

		ck_assert_int_eq(drv->ops->exec(drv, id, &ex, &st), -1);
		ck_assert_int_eq(err_last_code(), ERR_UNSUPPORTED);
		err_reset();
	}

	ck_assert_int_eq(drv->ops->stop(drv, id), 0);
	ck_assert(find(id, &vi) && vi.state == VNODE_ST_DEFINED);
	ck_assert_int_eq(drv->ops->delete(drv, id), 0);
	ck_assert(!find(id, &vi));
	ck_assert_int_eq(drv->ops->delete(drv, id), -1);
	ck_assert_int_eq(err_last_code(), ERR_NOT_FOUND);
	err_reset();
}
END_TEST

/* list ignores domains that are not vnsm's (test:///default has "test"). */
START_TEST(test_list_ignores_others)
{
	struct vnode_info vi;

	ck_assert(!find("test", &vi));
}
END_TEST

START_TEST(test_bad_uri)
{
	struct drv_conf c = { .uri = "qemu+unix:///system?socket=/nonexistent" };

	ck_assert_ptr_null(drv_open("libvirt", &c));
	ck_assert_int_eq(err_last_code(), ERR_UNSUPPORTED);
	err_reset();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("drv_libvirt");
	TCase *tc = tcase_create("test-driver");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_xml);
	tcase_add_test(tc, test_xml_flavours);
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_list_ignores_others);
	tcase_add_test(tc, test_bad_uri);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
