/*
 * Interface helpers the backends share: look up, configure, bridge and
 * delete network devices of the current namespace.  ioctl() where it is
 * the shortest way, libnl-route where a device must be made or inspected.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if_arp.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include "error.h"
#include "tun_backend.h"

int
tun_if_index(const char *name)
{
	unsigned int i = if_nametoindex(name);

	if (i == 0)
		return err_sys("interface %s", name);
	return (int)i;
}

/* Run one SIOC* ioctl on name through a throwaway datagram socket. */
static int
tun_if_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int s, rc;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return err_sys("socket");
	str_lcpy(ifr->ifr_name, name, sizeof(ifr->ifr_name));
	rc = ioctl(s, req, ifr);
	close(s);
	if (rc == -1)
		return err_sys("interface %s: ioctl %#lx", name, req);
	return 0;
}

int
tun_if_mac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (tun_if_ioctl(name, SIOCGIFHWADDR, &ifr) == -1)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

int
tun_if_mtu(const char *name, unsigned int *mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (tun_if_ioctl(name, SIOCGIFMTU, &ifr) == -1)
		return -1;
	*mtu = (unsigned int)ifr.ifr_mtu;
	return 0;
}

int
tun_if_set_mtu(const char *name, unsigned int mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)mtu;
	return tun_if_ioctl(name, SIOCSIFMTU, &ifr);
}

int
tun_if_up(const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (tun_if_ioctl(name, SIOCGIFFLAGS, &ifr) == -1)
		return -1;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	return tun_if_ioctl(name, SIOCSIFFLAGS, &ifr);
}

/* A fresh, connected route socket; NULL with the error recorded. */
static struct nl_sock *
tun_rtnl_open(void)
{
	struct nl_sock *sk;
	int rc;

	if ((sk = nl_socket_alloc()) == NULL) {
		err_nomem();
		return NULL;
	}
	if ((rc = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		err_set(ERR_SYSTEM, "netlink: %s", nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/* Fetch a device by name over a fresh route socket; NULL on error. */
static struct rtnl_link *
tun_if_get(const char *name, struct nl_sock **skp)
{
	struct rtnl_link *link = NULL;
	struct nl_sock *sk;
	int rc;

	if ((sk = tun_rtnl_open()) == NULL)
		return NULL;
	if ((rc = rtnl_link_get_kernel(sk, 0, name, &link)) < 0) {
		err_set(ERR_SYSTEM, "interface %s: %s", name, nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	*skp = sk;
	return link;
}

/* 1 if name is a veth device, 0 if not, -1 if it cannot be read. */
int
tun_if_is_veth(const char *name)
{
	struct nl_sock *sk;
	struct rtnl_link *link;
	const char *type;
	int rc;

	if ((link = tun_if_get(name, &sk)) == NULL)
		return -1;
	type = rtnl_link_get_type(link);
	rc = type != NULL && strcmp(type, "veth") == 0;
	rtnl_link_put(link);
	nl_socket_free(sk);
	return rc;
}

/* Name of the interface that holds IPv4 address addr. */
int
tun_if_by_addr(struct in_addr addr, char *name, size_t size)
{
	struct ifaddrs *ifa, *p;
	char buf[INET_ADDRSTRLEN];

	if (getifaddrs(&ifa) == -1)
		return err_sys("getifaddrs");
	for (p = ifa; p != NULL; p = p->ifa_next) {
		const struct sockaddr_in *sin;

		if (p->ifa_addr == NULL || p->ifa_addr->sa_family != AF_INET)
			continue;
		sin = (const struct sockaddr_in *)(const void *)p->ifa_addr;
		if (sin->sin_addr.s_addr == addr.s_addr) {
			str_lcpy(name, p->ifa_name, size);
			freeifaddrs(ifa);
			return 0;
		}
	}
	freeifaddrs(ifa);
	inet_ntop(AF_INET, &addr, buf, sizeof(buf));
	err_set(ERR_NOT_FOUND, "no interface here has underlay address %s",
	    buf);
	err_hint("give the link a local address of this host");
	return -1;
}

/* Write /proc/sys/net/ipv4/conf/<name>/<key> (or ipv6 if key says so). */
int
tun_if_sysctl(const char *name, const char *key, const char *value)
{
	char path[256];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s",
	    strncmp(key, "disable_ipv6", 12) == 0 ? "ipv6" : "ipv4", name, key);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return err_sys("%s", path);
	n = write(fd, value, strlen(value));
	close(fd);
	if (n != (ssize_t)strlen(value))
		return err_sys("%s", path);
	return 0;
}

/* Make bridge if it does not exist yet, and bring it up. */
int
tun_bridge_ensure(const char *bridge)
{
	struct nl_sock *sk;
	struct rtnl_link *link;
	int rc;

	if (if_nametoindex(bridge) != 0)
		return tun_if_up(bridge);
	if ((sk = tun_rtnl_open()) == NULL)
		return -1;
	if ((link = rtnl_link_bridge_alloc()) == NULL) {
		nl_socket_free(sk);
		return err_nomem();
	}
	rtnl_link_set_name(link, bridge);
	rc = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(link);
	nl_socket_free(sk);
	if (rc < 0 && rc != -NLE_EXIST)
		return err_set(ERR_SYSTEM, "bridge %s: %s", bridge,
		    nl_geterror(rc));
	return tun_if_up(bridge);
}

/* Enslave port to bridge and bring the port up. */
int
tun_bridge_add_port(const char *bridge, const char *port)
{
	struct nl_sock *sk;
	struct rtnl_link *change;
	int bi, rc;

	if ((bi = tun_if_index(bridge)) == -1)
		return -1;
	if ((sk = tun_rtnl_open()) == NULL)
		return -1;
	if ((change = rtnl_link_alloc()) == NULL) {
		nl_socket_free(sk);
		return err_nomem();
	}
	rtnl_link_set_name(change, port);
	rtnl_link_set_master(change, bi);
	rtnl_link_set_flags(change, IFF_UP);
	rc = rtnl_link_change(sk, change, change, 0);
	rtnl_link_put(change);
	nl_socket_free(sk);
	if (rc < 0)
		return err_set(ERR_SYSTEM, "adding %s to bridge %s: %s", port,
		    bridge, nl_geterror(rc));
	return 0;
}

/*
 * Make a veth pair name <-> peer, both down, in the calling thread's
 * namespace.  Refused if either name is taken: a device someone else
 * made is never adopted.
 */
int
tun_veth_add(const char *name, const char *peer)
{
	struct nl_sock *sk;
	int rc;

	if ((sk = tun_rtnl_open()) == NULL)
		return -1;
	/* The peer goes to the namespace of the thread (not process) id. */
	rc = rtnl_link_veth_add(sk, name, peer, gettid());
	nl_socket_free(sk);
	if (rc < 0)
		return err_set(rc == -NLE_EXIST ? ERR_DUPLICATE : ERR_SYSTEM,
		    "making veth pair %s/%s: %s", name, peer, nl_geterror(rc));
	return 0;
}

int
tun_if_delete(const char *name)
{
	struct nl_sock *sk;
	struct rtnl_link *link;
	int rc;

	if ((sk = tun_rtnl_open()) == NULL)
		return -1;
	if ((link = rtnl_link_alloc()) == NULL) {
		nl_socket_free(sk);
		return err_nomem();
	}
	rtnl_link_set_name(link, name);
	rc = rtnl_link_delete(sk, link);
	rtnl_link_put(link);
	nl_socket_free(sk);
	if (rc < 0 && rc != -NLE_NODEV && rc != -NLE_OBJ_NOTFOUND)
		return err_set(ERR_SYSTEM, "deleting %s: %s", name,
		    nl_geterror(rc));
	return 0;
}

/* prefix + a hash of seed, short enough for IFNAMSIZ. */
void
tun_hash_name(const char *seed, const char *prefix, char *out, size_t size)
{
	uint32_t h = 2166136261u;

	for (const char *p = seed; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(out, size, "%s%08x", prefix, h);
}

/*
 * The name of the device a link end makes: cfg->port if given, else
 * prefix + a hash of the link name.
 */
void
tun_port_name(const struct tun_link_cfg *cfg, const char *prefix, char *out,
    size_t size)
{
	if (cfg->port[0] != '\0')
		str_lcpy(out, cfg->port, size);
	else
		tun_hash_name(cfg->name, prefix, out, size);
}

/*
 * The MAC of neighbour addr on dev.  If the kernel does not know it yet,
 * nudge it with one empty UDP datagram (to the discard port) and wait up
 * to wait_ms for the neighbour entry.  Returns 0, or -1 without an error
 * recorded when it stays unknown: callers treat that as "learn later".
 */
int
tun_neigh_mac(const char *dev, struct in_addr addr, uint8_t mac[6],
    int wait_ms)
{
	struct sockaddr_in sin;
	struct arpreq req;
	int s, sent = 0;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = addr;
	for (int t = 0; t <= wait_ms; t += 10) {
		memset(&req, 0, sizeof(req));
		memcpy(&req.arp_pa, &sin, sizeof(sin));
		str_lcpy(req.arp_dev, dev, sizeof(req.arp_dev));
		if (ioctl(s, SIOCGARP, &req) == 0 &&
		    (req.arp_flags & ATF_COM)) {
			memcpy(mac, req.arp_ha.sa_data, 6);
			close(s);
			return 0;
		}
		if (!sent) {
			struct sockaddr_in to = sin;

			to.sin_port = htons(9);
			sendto(s, "", 0, 0, (struct sockaddr *)&to, sizeof(to));
			sent = 1;
		}
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	close(s);
	return -1;
}
