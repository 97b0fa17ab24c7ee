/* Schemas compiled into the library by scripts/embed.sh. */
#ifndef VNSM_SCHEMA_DATA_H
#define VNSM_SCHEMA_DATA_H

#include <stddef.h>

struct schema_file {
	const char *name;		/* file name, e.g. "vnet.rng" */
	const unsigned char *data;	/* contents, NUL-terminated */
	size_t len;			/* length without the NUL */
};

/* Terminated by an entry whose name is NULL. */
extern const struct schema_file schema_files[];

#endif
