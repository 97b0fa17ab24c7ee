/*
 * vtun: set up virtual link ends from the command line, keep them until
 * SIGTERM or SIGINT, and write their counters to a file on SIGUSR1 and at
 * exit.  The integration tests (tests/integration/NN-tunnels-NAME.sh) and the
 * benchmark (bench/links) drive the library through it.
 *
 *   vtun detect                      print the backend this host would use
 *   vtun [-v] [-b backend] [-s file] LINK...
 *   vtun inject LINK [COUNT [DST]]   send COUNT (1) encapsulated echo
 *                                    requests (192.168.7.2 -> DST, default
 *                                    192.168.7.1) as LINK would, from a raw
 *                                    socket: for testing that wrong keys
 *                                    and inner destinations outside a
 *                                    link's inner prefix are dropped
 *
 * LINK is a comma-separated list of key=value: name, encap, local, remote,
 * key, mtu, attach (direct|bridge), node, netns, bridge, port, inner
 * (A.B.C.D/N: the inner-address filter, tunnel.h; ebpf and user).  An
 * argument starting with "transit=" is a transit instead (tunnel.h):
 * transit=NAME,encap=E,local=A,remote1=A,key1=K,remote2=A,key2=K.  Once
 * everything is up vtun prints "ready <backend>" on stdout.
 */
#include <sys/stat.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "tunnel.h"

static void
usage(void)
{
	fprintf(stderr, "usage: vtun detect\n"
	    "       vtun [-v] [-b ebpf|kernel|user] [-s statsfile] "
	    "name=N,encap=E,local=A,remote=A[,key=K][,mtu=M]"
	    "[,attach=direct|bridge][,node=IF][,netns=PATH][,bridge=BR]"
	    "[,port=IF][,inner=A.B.C.D/N] ...\n"
	    "       vtun inject LINK [COUNT [DST]]\n");
	exit(2);
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || *out > max)
		return err_set(ERR_INVALID, "'%s' is not a number up to %lu",
		    s, max);
	return 0;
}

/* Fill c from one LINK argument; the argument is modified. */
static int
parse_link(char *arg, struct tun_link_cfg *c)
{
	char *kv, *save = NULL;
	unsigned long n;
	int a;

	memset(c, 0, sizeof(*c));
	for (kv = strtok_r(arg, ",", &save); kv != NULL;
	    kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');

		if (v == NULL)
			return err_set(ERR_USAGE, "'%s' is not key=value", kv);
		*v++ = '\0';
		if (strcmp(kv, "name") == 0)
			str_lcpy(c->name, v, sizeof(c->name));
		else if (strcmp(kv, "encap") == 0) {
			if (tun_parse_encap(v, &c->encap) == -1)
				return -1;
		} else if (strcmp(kv, "local") == 0) {
			if (tun_parse_addr(v, &c->local) == -1)
				return -1;
		} else if (strcmp(kv, "remote") == 0) {
			if (tun_parse_addr(v, &c->remote) == -1)
				return -1;
		} else if (strcmp(kv, "key") == 0) {
			if (parse_uint(v, UINT32_MAX, &n) == -1)
				return -1;
			c->key = (uint32_t)n;
		} else if (strcmp(kv, "mtu") == 0) {
			if (parse_uint(v, 65535, &n) == -1)
				return -1;
			c->mtu = (unsigned int)n;
		} else if (strcmp(kv, "attach") == 0) {
			if ((a = tun_attach_from_string(v)) < 0)
				return err_set(ERR_USAGE,
				    "attach '%s' is not direct or bridge", v);
			c->attach = a;
		} else if (strcmp(kv, "node") == 0)
			str_lcpy(c->node_if, v, sizeof(c->node_if));
		else if (strcmp(kv, "netns") == 0)
			str_lcpy(c->node_netns, v, sizeof(c->node_netns));
		else if (strcmp(kv, "bridge") == 0)
			str_lcpy(c->bridge, v, sizeof(c->bridge));
		else if (strcmp(kv, "port") == 0)
			str_lcpy(c->port, v, sizeof(c->port));
		else if (strcmp(kv, "inner") == 0) {
			if (tun_parse_prefix(v, &c->inner, &c->inner_len) == -1)
				return -1;
			c->has_inner = 1;
		} else
			return err_set(ERR_USAGE, "unknown link key '%s'", kv);
	}
	return 0;
}

/* Transits given on the command line, for write_stats. */
static struct tun_transit **transits;
static int ntransits;

/* Fill c from one "transit=..." argument; the argument is modified. */
static int
parse_transit(char *arg, struct tun_transit_cfg *c)
{
	char *kv, *save = NULL;
	unsigned long n;

	memset(c, 0, sizeof(*c));
	for (kv = strtok_r(arg, ",", &save); kv != NULL;
	    kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		int i;

		if (v == NULL)
			return err_set(ERR_USAGE, "'%s' is not key=value", kv);
		*v++ = '\0';
		i = kv[0] != '\0' && kv[strlen(kv) - 1] == '2';
		if (strcmp(kv, "transit") == 0)
			str_lcpy(c->name, v, sizeof(c->name));
		else if (strcmp(kv, "encap") == 0) {
			if (tun_parse_encap(v, &c->encap) == -1)
				return -1;
		} else if (strcmp(kv, "local") == 0) {
			if (tun_parse_addr(v, &c->local) == -1)
				return -1;
		} else if (strcmp(kv, "remote1") == 0 ||
		    strcmp(kv, "remote2") == 0) {
			if (tun_parse_addr(v, &c->side[i].remote) == -1)
				return -1;
		} else if (strcmp(kv, "key1") == 0 || strcmp(kv, "key2") == 0) {
			if (parse_uint(v, UINT32_MAX, &n) == -1)
				return -1;
			c->side[i].key = (uint32_t)n;
		} else
			return err_set(ERR_USAGE, "unknown transit key '%s'",
			    kv);
	}
	return 0;
}

/*
 * Write every link's counters to path, atomically (tmp + rename) when
 * path is a regular file or does not exist yet.  Anything else — a FIFO,
 * /dev/null — is written in place: renaming over it would replace a
 * device node with a file.
 */
static void
write_stats(struct tun_ctx *ctx, struct tun_link **links, int n,
    const char *path)
{
	char tmp[4096];
	struct stat sb;
	int direct;
	FILE *fp;

	if (path == NULL)
		return;
	direct = stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(direct ? path : tmp, "w")) == NULL) {
		log_warn("%s", tmp);
		return;
	}
	fprintf(fp, "backend %s\n",
	    tun_backend_to_string(tun_ctx_backend(ctx)));
	for (int i = 0; i < n; i++) {
		struct tun_stats st;

		if (tun_link_stats(ctx, links[i], &st) == -1) {
			err_print(stderr);
			err_reset();
			continue;
		}
		fprintf(fp, "link %s tx_packets %llu tx_bytes %llu "
		    "rx_packets %llu rx_bytes %llu drops %llu\n",
		    tun_link_config(links[i])->name,
		    (unsigned long long)st.tx_packets,
		    (unsigned long long)st.tx_bytes,
		    (unsigned long long)st.rx_packets,
		    (unsigned long long)st.rx_bytes,
		    (unsigned long long)st.drops);
	}
	for (int i = 0; i < ntransits; i++) {
		struct tun_transit_stats ts;

		if (tun_transit_stats(ctx, transits[i], &ts) == -1) {
			err_print(stderr);
			err_reset();
			continue;
		}
		fprintf(fp, "transit %s packets1 %llu bytes1 %llu "
		    "packets2 %llu bytes2 %llu drops %llu\n",
		    tun_transit_config(transits[i])->name,
		    (unsigned long long)ts.packets[0],
		    (unsigned long long)ts.bytes[0],
		    (unsigned long long)ts.packets[1],
		    (unsigned long long)ts.bytes[1],
		    (unsigned long long)ts.drops);
	}
	fprintf(fp, "unknown_drops %llu\n",
	    (unsigned long long)tun_unknown_drops(ctx));
	if (fclose(fp) != 0 || (!direct && rename(tmp, path) == -1))
		log_warn("%s", path);
}

static uint16_t
cksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* An IPv4 header at p; checksum filled. */
static void
put_ip(uint8_t *p, size_t len, uint8_t proto, uint32_t src, uint32_t dst)
{
	struct iphdr ip;

	memset(&ip, 0, sizeof(ip));
	ip.version = 4;
	ip.ihl = 5;
	ip.tot_len = htons((uint16_t)len);
	ip.frag_off = htons(IP_DF);
	ip.ttl = 64;
	ip.protocol = proto;
	ip.saddr = src;
	ip.daddr = dst;
	memcpy(p, &ip, sizeof(ip));
	ip.check = cksum(p, sizeof(ip));
	memcpy(p, &ip, sizeof(ip));
}

/*
 * Send count echo requests to dst wrapped as link c would wrap them,
 * through a raw socket, bypassing every backend.
 */
static int
inject(const struct tun_link_cfg *c, int count, struct in_addr dst)
{
	static const uint8_t eth[14] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x99, 0x08, 0x00
	};
	uint8_t pkt[256], *in;
	struct sockaddr_in to;
	size_t hdr, ilen = 20 + 8 + 32, len;
	int s, one = 1;

	memset(pkt, 0, sizeof(pkt));
	switch (c->encap) {
	case TUN_ENCAP_IPIP:
		hdr = 20;
		break;
	case TUN_ENCAP_GRE:
		hdr = 28;
		break;
	case TUN_ENCAP_GRETAP:
		hdr = 42;
		break;
	default:
		hdr = 50;
		break;
	}
	len = hdr + ilen;
	in = pkt + hdr;
	put_ip(in, ilen, IPPROTO_ICMP, htonl(0xc0a80702), dst.s_addr);
	in[20] = 8;			/* echo request */
	in[24] = 0x12;			/* id */
	in[26] = 0x00;
	in[27] = 0x01;			/* seq */
	for (int i = 0; i < 32; i++)
		in[28 + i] = (uint8_t)i;
	{
		uint16_t ck = cksum(in + 20, 8 + 32);

		memcpy(in + 22, &ck, 2);
	}
	if (tun_encap_is_l2(c->encap))
		memcpy(in - 14, eth, sizeof(eth));
	if (c->encap == TUN_ENCAP_GRE || c->encap == TUN_ENCAP_GRETAP) {
		uint16_t f = htons(0x2000), pr = htons(c->encap ==
		    TUN_ENCAP_GRE ? 0x0800 : 0x6558);
		uint32_t k = htonl(c->key);

		memcpy(pkt + 20, &f, 2);
		memcpy(pkt + 22, &pr, 2);
		memcpy(pkt + 24, &k, 4);
	} else if (c->encap == TUN_ENCAP_VXLAN) {
		uint16_t u[4] = { htons(49999), htons(TUN_VXLAN_PORT),
		    htons((uint16_t)(len - 20)), 0 };
		uint32_t v[2] = { htonl(0x08000000), htonl(c->key << 8) };

		memcpy(pkt + 20, u, sizeof(u));
		memcpy(pkt + 28, v, sizeof(v));
	}
	put_ip(pkt, len, c->encap == TUN_ENCAP_IPIP ? IPPROTO_IPIP :
	    c->encap == TUN_ENCAP_VXLAN ? IPPROTO_UDP : IPPROTO_GRE,
	    c->local.s_addr, c->remote.s_addr);

	if ((s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) == -1)
		return err_sys("raw socket");
	setsockopt(s, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr = c->remote;
	for (int i = 0; i < count; i++)
		if (sendto(s, pkt, len, 0, (struct sockaddr *)&to,
		    sizeof(to)) != (ssize_t)len) {
			close(s);
			return err_sys("sending to the raw socket");
		}
	close(s);
	return 0;
}

static int
detect(void)
{
	for (int b = 0; b < TUN_BACKEND_LAST; b++) {
		int ok = tun_backend_probe(b) == 0;

		printf("%-7s %s", tun_backend_to_string(b), ok ? "yes" : "no");
		if (!ok && err_last() != NULL)
			printf(" (%s)", err_last()->msg);
		printf("\n");
		err_reset();
	}
	if (tun_backend_detect() < 0) {
		err_print(stderr);
		return 1;
	}
	printf("default %s\n", tun_backend_to_string(tun_backend_detect()));
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *stats = NULL;
	struct tun_link **links;
	struct tun_ctx *ctx;
	sigset_t set;
	int ch, b = -1, verbose = 0, n = 0, sig, rc = 0;

	while ((ch = getopt(argc, argv, "b:s:v")) != -1) {
		switch (ch) {
		case 'b':
			if ((b = tun_backend_from_string(optarg)) < 0)
				usage();
			break;
		case 's':
			stats = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	log_init("vtun", 1, verbose);
	if (argc == 1 && strcmp(argv[0], "detect") == 0)
		return detect();
	if (argc >= 2 && strcmp(argv[0], "inject") == 0) {
		struct tun_link_cfg c;
		struct in_addr dst = { htonl(0xc0a80701) };
		unsigned long count = 1;

		if (argc > 4)
			usage();
		if (parse_link(argv[1], &c) == -1 || (argc > 2 &&
		    parse_uint(argv[2], 100000, &count) == -1) ||
		    (argc > 3 && tun_parse_addr(argv[3], &dst) == -1) ||
		    inject(&c, (int)count, dst) == -1) {
			err_print(stderr);
			return 1;
		}
		return 0;
	}
	if (argc < 1)
		usage();

	/* The user backend's thread inherits this mask: signals come here. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if ((links = calloc((size_t)argc, sizeof(*links))) == NULL ||
	    (transits = calloc((size_t)argc, sizeof(*transits))) == NULL)
		fatal("calloc");
	if ((ctx = tun_open(b)) == NULL) {
		err_print(stderr);
		free(links);
		free(transits);
		return 1;
	}
	for (int i = 0; i < argc; i++) {
		struct tun_link_cfg c;
		struct tun_transit_cfg tc;

		if (strncmp(argv[i], "transit=", 8) == 0) {
			if (parse_transit(argv[i], &tc) == -1 ||
			    (transits[ntransits] = tun_transit_add(ctx,
			    &tc)) == NULL) {
				err_print(stderr);
				rc = 1;
				goto out;
			}
			ntransits++;
			continue;
		}
		if (parse_link(argv[i], &c) == -1 ||
		    (links[n] = tun_link_add(ctx, &c)) == NULL) {
			err_print(stderr);
			rc = 1;
			goto out;
		}
		n++;
	}
	printf("ready %s\n", tun_backend_to_string(tun_ctx_backend(ctx)));
	fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			break;
		if (sig == SIGUSR1)
			write_stats(ctx, links, n, stats);
		else
			break;
	}
out:
	write_stats(ctx, links, n, stats);
	tun_close(ctx);
	free(links);
	free(transits);
	return rc;
}
