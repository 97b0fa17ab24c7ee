/*
 * Harness helpers that fail the running Check test; in an object of
 * their own so that a benchmark, which links no Check, never pulls them.
 */
#include <check.h>
#include <string.h>

#include "harness.h"

const struct mf_node *
hn_mf_node(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nnodes; i++)
		if (strcmp(m->nodes[i].name, name) == 0)
			return &m->nodes[i];
	ck_abort_msg("no node %s in the manifest", name);
	return NULL;
}
