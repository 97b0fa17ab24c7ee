/*
 * vno validate FILE...: schema and meaning checks, offline.
 */
#include <stdio.h>
#include <string.h>

#include "doc.h"
#include "error.h"
#include "vno.h"

const char cmd_validate_help[] =
    "Check each FILE — a VNet request, slice request, advertisement,\n"
    "manifest, substrate report or error document — against its schema\n"
    "and for meaning: unique names, link ends that exist, enough\n"
    "interfaces, values in range.  Nothing is sent anywhere.\n\n"
    "Prints one line per problem, \"FILE:LINE: message\", and exits 1 if\n"
    "any file has a problem; prints nothing and exits 0 when all are\n"
    "valid.  With -v, prints \"FILE: valid TYPE\" for each good file.\n"
    "A FILE of \"-\" reads standard input.\n";

static int
check_stdin(void)
{
	static char data[8u << 20];
	size_t n = fread(data, 1, sizeof(data), stdin);

	if (n == sizeof(data) && getchar() != EOF)
		return err_set(ERR_XML_LIMIT, "standard input is more than "
		    "%zu bytes", sizeof(data));
	return doc_check(data, n, "<stdin>");
}

int
cmd_validate(int argc, char **argv)
{
	int verbose = 0, bad = 0, files = 0;

	for (int i = 1; i < argc; i++) {
		int t;

		if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "vno validate: unknown option '%s'\n",
			    argv[i]);
			return VNO_EXIT_USAGE;
		}
		files++;
		err_reset();
		t = strcmp(argv[i], "-") == 0 ? check_stdin() :
		    doc_check_file(argv[i]);
		if (t < 0) {
			err_file(argv[i]);
			err_print(stdout);
			bad = 1;
		} else if (verbose)
			printf("%s: valid %s\n", argv[i], doc_type_to_string(t));
	}
	if (files == 0) {
		fprintf(stderr, "usage: vno validate [-v] FILE...\n");
		return VNO_EXIT_USAGE;
	}
	return bad ? VNO_EXIT_INVALID : VNO_EXIT_OK;
}
