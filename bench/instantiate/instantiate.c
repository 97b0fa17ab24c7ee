/*
 * bench/instantiate: the VNet instantiation benchmark (BENCH.md §1, the
 * paper's Tables I-III).  The work is in bench/instantiate/run.sh (the
 * demo's substrate, vno); this program is how `make bench` reaches it: it
 * finds the build directory from its own path ($(BUILD)/bench/instantiate)
 * unless one is given, and runs the script from the source tree.
 *
 * Usage: instantiate [BUILD_DIR] [--quick]
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	char exe[PATH_MAX], build[PATH_MAX];
	const char *quick = NULL;
	ssize_t n;
	int i;

	build[0] = '\0';
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = argv[i];
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: instantiate [BUILD_DIR] "
			    "[--quick]\n");
			return 2;
		} else
			snprintf(build, sizeof(build), "%s", argv[i]);
	}
	if (build[0] == '\0') {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
			perror("bench/instantiate: /proc/self/exe");
			return 1;
		}
		exe[n] = '\0';
		/* $(BUILD)/bench/instantiate -> $(BUILD) */
		snprintf(build, sizeof(build), "%s", dirname(dirname(exe)));
	}
	if (access("bench/instantiate/run.sh", R_OK) != 0) {
		fprintf(stderr, "bench/instantiate: run me from the top of the "
		    "source tree (make bench)\n");
		return 1;
	}
	execlp("sh", "sh", "bench/instantiate/run.sh", build, quick,
	    (char *)NULL);
	perror("bench/instantiate: sh");
	return 1;
}
