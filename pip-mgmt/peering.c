/*
 * Links that leave the PIP, stitched at the peering host (docs/api.md):
 * a stub to PIP P whose node is not on our [peering P] host H becomes a
 * stub from the node's host to H, plus a transit on H joining that leg
 * with the tunnel to the peer.  Everything here is a pure function of the
 * slice, so every host slice (provision, update, migration, delete,
 * reconcile) is recomputed the same way.
 */
#include <string.h>

#include "pipd.h"

/* Our host at the peering point with pip, or -1 if none is configured. */
int
peering_host(const struct pipd_conf *c, const char *pip)
{
	for (size_t i = 0; pip[0] != '\0' && i < c->npeerings; i++)
		if (strcmp(c->peerings[i].pip, pip) == 0)
			return c->peerings[i].host;
	return -1;
}

/*
 * The key of the leg between the node's host and the peering host: from
 * pipd's own range (2^31 .. 2^32-1; VXLAN 2^23 .. 2^24-1), derived from
 * the slice and link names (FNV-1a) so that it needs no state and stays
 * the same across updates and restarts.  A clash with another tunnel of
 * the same two hosts is refused by the agent.
 */
uint32_t
peering_key(const char *slice, const char *link, int encap)
{
	uint32_t h = 2166136261u;

	for (const char *p = slice; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = link; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	if (encap == ENCAP_VXLAN)
		return PIPD_VNI_FIRST | (h & (PIPD_VNI_FIRST - 1));
	return PIPD_KEY_FIRST | (h & (PIPD_KEY_FIRST - 1));
}

/*
 * Host index of the node at stub st's end in doc, or -1.  When the stub
 * is stitched (a peering host for its PIP, the node elsewhere), *ph is
 * that peering host, else -1.
 */
int
peering_stub(const struct pipd *pd, const struct slice *doc,
    const struct topo_link *st, int *ph)
{
	ssize_t a = topo_node_find(doc->nodes, doc->nnodes, st->end[0].node);
	int h;

	*ph = -1;
	if (a < 0 || (h = config_host(pd->conf, doc->nodes[a].host)) < 0)
		return -1;
	if (strcmp(st->peer_pip, pd->conf->name) == 0)
		return h;
	*ph = peering_host(pd->conf, st->peer_pip);
	if (*ph == h)
		*ph = -1;
	return h;
}
