#include "error.h"
#include "tun_backend.h"
static int p(void) { return err_set(ERR_UNSUPPORTED, "not yet"); }
static int o(struct tun_ctx *c) { return p(); }
static void cl(struct tun_ctx *c) { }
static int a(struct tun_ctx *c, struct tun_link *l) { return p(); }
static int s(struct tun_ctx *c, struct tun_link *l, struct tun_stats *st) { return p(); }
static uint64_t u(struct tun_ctx *c) { return 0; }
const struct tun_ops tun_user_ops = { "user", p, o, cl, a, a, s, u };
