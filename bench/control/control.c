/*
 * bench/control: the control plane at scale (BENCH.md §4).  The work is
 * in bench/control/run.sh (sim agents, pipd, vnpd on loopback) and
 * bench/control/load.py (the clients); this program is how `make bench`
 * reaches it: it finds the build directory from its own path
 * ($(BUILD)/bench/control) unless one is given, and runs the script
 * from the source tree.  Parameters are the script's environment
 * (PIPS, HOSTS, C, D, KS, REPORT).
 *
 * Usage: control [BUILD_DIR]
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

	build[0] = '\0';
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: control [BUILD_DIR]\n");
		return 2;
	}
	if (argc == 2)
		snprintf(build, sizeof(build), "%s", argv[1]);
	else {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
			perror("bench/control: /proc/self/exe");
			return 1;
		}
		exe[n] = '\0';
		/* $(BUILD)/bench/control -> $(BUILD) */
		snprintf(build, sizeof(build), "%s", dirname(dirname(exe)));
	}
	if (access("bench/control/run.sh", R_OK) != 0) {
		fprintf(stderr, "bench/control: run me from the top of the "
		    "source tree (make bench)\n");
		return 1;
	}
	execlp("sh", "sh", "bench/control/run.sh", build, (char *)NULL);
	perror("bench/control: sh");
	return 1;
}
