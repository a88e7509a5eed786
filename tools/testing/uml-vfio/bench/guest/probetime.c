// SPDX-License-Identifier: GPL-2.0
/*
 * probetime: time one driver bind of a PCI device that is not bound.
 *
 *   probetime DRIVER BDF READY_PATH [TIMEOUT_MS]
 *
 * Writes BDF to /sys/bus/pci/drivers/DRIVER/bind, then checks about every
 * millisecond whether READY_PATH (e.g. the namespace's block device under
 * the PCI device) exists: one stat(2) per check; if only its last
 * component has wildcards, a readdir of its directory and fnmatch(3);
 * otherwise glob(3) (much slower: a glob of sysfs takes ~10 ms in UML).
 * Times are CLOCK_MONOTONIC from just before the write. Prints one line:
 *
 *   probetime: drv=D bdf=B ret=0 write_ms=W probe_ms=P res_ms=R checks=N
 *
 * write_ms: until the write returned; probe_ms: until the check that
 * first saw READY_PATH had finished; res_ms: from the start of the last
 * check that failed (or the end of the write) to then, i.e. the window in
 * which the path appeared: the resolution of probe_ms. Every step is a
 * system call, ~125 us from a UML process under TCG.
 * ret is 0, or -errno of the write, or -ETIMEDOUT.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int ready(const char *pat)
{
	const char *slash = strrchr(pat, '/');
	char dir[256];
	struct dirent *e;
	struct stat st;
	glob_t g;
	DIR *dp;
	int r;

	if (!strpbrk(pat, "*?["))
		return stat(pat, &st) == 0;
	if (slash && slash - pat < (int)sizeof(dir) && !strpbrk(slash + 1, "/")) {
		memcpy(dir, pat, slash - pat);
		dir[slash - pat] = 0;
		if (!strpbrk(dir, "*?[")) {
			dp = opendir(dir);
			if (!dp)
				return 0;
			r = 0;
			while (!r && (e = readdir(dp)))
				r = e->d_name[0] != '.' && !fnmatch(slash + 1, e->d_name, 0);
			closedir(dp);
			return r;
		}
	}
	r = glob(pat, GLOB_NOSORT, NULL, &g);
	globfree(&g);
	return r == 0;
}

int main(int argc, char **argv)
{
	const struct timespec ms = { 0, 1000000 };
	double t0, tw, last, start, t = 0, timeout;
	char path[256];
	int fd, ret = 0, n = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: probetime DRIVER BDF READY_GLOB [TIMEOUT_MS]\n");
		return 2;
	}
	timeout = argc > 4 ? atof(argv[4]) : 30000;
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", argv[1]);
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		printf("probetime: drv=%s bdf=%s ret=%d (open %s: %s)\n",
		       argv[1], argv[2], -errno, path, strerror(errno));
		return 1;
	}
	t0 = now_ms();
	if (write(fd, argv[2], strlen(argv[2])) < 0)
		ret = -errno;
	tw = now_ms();
	close(fd);
	last = tw;
	while (!ret) {
		n++;
		start = n > 1 ? now_ms() : tw;
		if (ready(argv[3])) {
			t = now_ms();
			break;
		}
		last = start;
		if (now_ms() - t0 > timeout) {
			ret = -ETIMEDOUT;
			break;
		}
		nanosleep(&ms, NULL);
	}
	if (ret) {
		printf("probetime: drv=%s bdf=%s ret=%d write_ms=%.3f checks=%d\n",
		       argv[1], argv[2], ret, tw - t0, n);
		return 1;
	}
	printf("probetime: drv=%s bdf=%s ret=0 write_ms=%.3f probe_ms=%.3f res_ms=%.3f checks=%d\n",
	       argv[1], argv[2], tw - t0, t - t0, t - last, n);
	return 0;
}
