// SPDX-License-Identifier: GPL-2.0
/*
 * runas: run a command as another user with a memlock limit, for the
 * uml-vfio fault tests (L1's busybox has no su/setpriv that can do both).
 *
 * Usage: runas UID GID MEMLOCK_KIB COMMAND [ARGS...]
 * Sets RLIMIT_MEMLOCK (soft and hard) to MEMLOCK_KIB KiB, drops every
 * supplementary group, then sets GID and UID and execs COMMAND.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rlimit rl;
	uid_t uid;
	gid_t gid;

	if (argc < 5) {
		fprintf(stderr, "usage: runas UID GID MEMLOCK_KIB COMMAND [ARGS...]\n");
		return 2;
	}
	uid = strtoul(argv[1], NULL, 10);
	gid = strtoul(argv[2], NULL, 10);
	rl.rlim_cur = strtoull(argv[3], NULL, 10) * 1024;
	rl.rlim_max = rl.rlim_cur;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
	    setgid(gid) || setuid(uid)) {
		perror("runas");
		return 1;
	}
	execv(argv[4], argv + 4);
	perror(argv[4]);
	return 127;
}
