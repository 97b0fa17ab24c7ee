/*
 * bench/links: the virtual link benchmark (BENCH.md §3).  The work is in
 * bench/links/run.sh (namespaces, iperf3, vtun); this program is how
 * `make bench` reaches it: it finds the build directory from its own path
 * ($(BUILD)/bench/links) and runs the script from the source tree.
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
	ssize_t n;

	if (argc > 1) {
		snprintf(build, sizeof(build), "%s", argv[1]);
	} else {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
			perror("bench/links: /proc/self/exe");
			return 1;
		}
		exe[n] = '\0';
		/* $(BUILD)/bench/links -> $(BUILD) */
		snprintf(build, sizeof(build), "%s", dirname(dirname(exe)));
	}
	if (access("bench/links/run.sh", R_OK) != 0) {
		fprintf(stderr, "bench/links: run me from the top of the "
		    "source tree (make bench)\n");
		return 1;
	}
	execlp("sh", "sh", "bench/links/run.sh", build, (char *)NULL);
	perror("bench/links: sh");
	return 1;
}
