/*
 * Static routes over a VNet's virtual topology (routing="static").
 *
 * For every virtual node, one route to every link subnet the node is not
 * on, via the address of the next hop on the first link of a shortest
 * path (in hops) towards that subnet.  Breadth-first search visits links
 * in document order and the first path found wins, so the same topology
 * always gives the same routes.  Links whose ends carry no address have
 * no subnet and cannot carry a route.
 */
#ifndef VNSM_ROUTES_H
#define VNSM_ROUTES_H

#include <stddef.h>

#include "topo.h"

/*
 * The computed routes of node index `node`: a malloc'd array in *out
 * (NULL when there are none) of *nout entries.  Returns 0, or -1 with an
 * error recorded (out of memory, bad node index).
 */
int routes_for_node(const struct topo_node *nodes, size_t nn,
    const struct topo_link *links, size_t nl, size_t node,
    struct topo_route **out, size_t *nout);

/*
 * Give every node its routes: the routes a document already has stay,
 * first; a computed route is added when no route to that network is
 * there yet.  Returns 0, or -1 with an error recorded (nodes unchanged
 * from the failing one on).
 */
int routes_apply(struct topo_node *nodes, size_t nn,
    const struct topo_link *links, size_t nl);

#endif
