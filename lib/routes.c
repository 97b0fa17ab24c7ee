/*
 * Shortest-path static routes over a virtual topology; see routes.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "routes.h"

/* Breadth-first search state, one entry per virtual node. */
struct routes_bfs {
	int32_t *dist;		/* hops from the source; -1: not reached */
	int32_t *first;		/* link by which the path leaves the source */
	int32_t *queue;		/* FIFO of node indices */
};

/* The node index of link end e, or -1 (an unknown name). */
static int32_t
end_node(const struct topo_node *nodes, size_t nn, const struct topo_end *e)
{
	ssize_t i = topo_node_find(nodes, nn, e->node);

	return i < 0 ? -1 : (int32_t)i;
}

/*
 * Hops from src to every node, and the first link of the first shortest
 * path found, visiting links in document order.
 */
static void
routes_search(const struct topo_node *nodes, size_t nn,
    const struct topo_link *links, size_t nl, int32_t src,
    struct routes_bfs *b)
{
	size_t head = 0, tail = 0;

	for (size_t i = 0; i < nn; i++) {
		b->dist[i] = -1;
		b->first[i] = -1;
	}
	b->dist[src] = 0;
	b->queue[tail++] = src;
	while (head < tail) {
		int32_t u = b->queue[head++];

		for (size_t l = 0; l < nl; l++) {
			int32_t x = end_node(nodes, nn, &links[l].end[0]);
			int32_t y = end_node(nodes, nn, &links[l].end[1]);
			int32_t v;

			if (x < 0 || y < 0 || x == y)
				continue;
			if (x == u)
				v = y;
			else if (y == u)
				v = x;
			else
				continue;
			if (b->dist[v] >= 0)
				continue;
			b->dist[v] = b->dist[u] + 1;
			b->first[v] = u == src ? (int32_t)l : b->first[u];
			b->queue[tail++] = v;
		}
	}
}

/* 1 if node index n has an interface on the network of p. */
static int
node_on_net(const struct topo_node *nodes, size_t nn,
    const struct topo_link *links, size_t nl, int32_t n,
    const struct ipv4_prefix *p)
{
	for (size_t l = 0; l < nl; l++)
		for (int e = 0; e < 2; e++)
			if (links[l].end[e].has_addr &&
			    end_node(nodes, nn, &links[l].end[e]) == n &&
			    prefix_same_net(&links[l].end[e].addr, p))
				return 1;
	return 0;
}

int
routes_for_node(const struct topo_node *nodes, size_t nn,
    const struct topo_link *links, size_t nl, size_t node,
    struct topo_route **out, size_t *nout)
{
	struct routes_bfs b = { NULL, NULL, NULL };
	struct topo_route *r = NULL;
	size_t n = 0;
	int rc = -1;

	*out = NULL;
	*nout = 0;
	if (node >= nn)
		return err_set(ERR_INTERNAL, "routes: node index %zu of %zu",
		    node, nn);
	b.dist = calloc(nn, sizeof(*b.dist));
	b.first = calloc(nn, sizeof(*b.first));
	b.queue = calloc(nn, sizeof(*b.queue));
	if (b.dist == NULL || b.first == NULL || b.queue == NULL ||
	    (nl > 0 && (r = calloc(nl, sizeof(*r))) == NULL)) {
		err_nomem();
		goto done;
	}
	routes_search(nodes, nn, links, nl, (int32_t)node, &b);
	for (size_t l = 0; l < nl; l++) {
		const struct topo_link *lk = &links[l];
		struct ipv4_prefix net;
		int32_t best = -1, hop, hl;
		int32_t ends[2];

		if (!lk->end[0].has_addr && !lk->end[1].has_addr)
			continue;
		net = lk->end[lk->end[0].has_addr ? 0 : 1].addr;
		net.addr = prefix_network(&net);
		if (node_on_net(nodes, nn, links, nl, (int32_t)node, &net))
			continue;
		for (int e = 0; e < 2; e++) {
			ends[e] = end_node(nodes, nn, &lk->end[e]);
			if (ends[e] < 0 || b.dist[ends[e]] < 0)
				continue;
			if (best < 0 || b.dist[ends[e]] < b.dist[best])
				best = ends[e];
		}
		if (best < 0)
			continue;	/* not reachable from here */
		/* The neighbour across the first link, and its address. */
		hl = b.first[best];
		hop = end_node(nodes, nn, &links[hl].end[0]) == (int32_t)node ?
		    1 : 0;
		if (!links[hl].end[hop].has_addr)
			continue;	/* no next-hop address to route by */
		{
			int dup = 0;

			for (size_t i = 0; i < n; i++)
				dup |= prefix_same_net(&r[i].to, &net);
			if (dup)
				continue;
		}
		r[n].to = net;
		r[n].via = links[hl].end[hop].addr.addr;
		n++;
	}
	if (n == 0) {
		free(r);
		r = NULL;
	}
	*out = r;
	*nout = n;
	r = NULL;
	rc = 0;
done:
	free(r);
	free(b.dist);
	free(b.first);
	free(b.queue);
	return rc;
}

int
routes_apply(struct topo_node *nodes, size_t nn,
    const struct topo_link *links, size_t nl)
{
	for (size_t i = 0; i < nn; i++) {
		struct topo_route *r, *all;
		size_t n, have = nodes[i].nroutes, k;

		if (routes_for_node(nodes, nn, links, nl, i, &r, &n) == -1)
			return -1;
		if (n == 0)
			continue;
		if ((all = calloc(have + n, sizeof(*all))) == NULL) {
			free(r);
			return err_nomem();
		}
		if (have > 0)
			memcpy(all, nodes[i].routes, have * sizeof(*all));
		k = have;
		for (size_t j = 0; j < n; j++) {
			int dup = 0;

			for (size_t h = 0; h < have; h++)
				dup |= prefix_same_net(&all[h].to, &r[j].to);
			if (!dup)
				all[k++] = r[j];
		}
		free(r);
		free(nodes[i].routes);
		nodes[i].routes = all;
		nodes[i].nroutes = k;
	}
	return 0;
}
