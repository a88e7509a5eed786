// SPDX-License-Identifier: GPL-2.0
/*
 * tsrun: run a command with its stdout and stderr copied to ours, and
 * time how long after the launch it first prints a line containing MARKER.
 *
 *   tsrun MARKER COMMAND [ARGS...]
 *
 * After the command's output ends it prints "BENCH-READY-AT: secs=S" (or
 * "BENCH-READY-AT: none") and exits with the command's status. Before that,
 * "BENCH-KERNEL-LINE-AT: secs=S stamp=T" says when the first line that
 * starts with a kernel log time stamp ("[    0.310000] ...") came, and its
 * stamp T: S - T is at most how long UML took from its launch until its
 * kernel's clock started (more only if the kernel printed the line later
 * than it logged it, as when its console output waits behind other work).
 *
 * It also measures the host CPU time the command and its descendants (UML,
 * its threads and processes) use while idle: between a line containing
 * "BENCH-IDLE-BEGIN" and one containing "BENCH-IDLE-END" in the output, it
 * prints "BENCH-IDLE: cpu_ms=C wall_ms=W", C from the
 * /proc/PID/task/TID/schedstat (time on a CPU, in ns) of every thread
 * that lives through the window (see tasks_delta()).
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The parent of process @pid, or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %*c %d", &ppid) != 1)
			ppid = -1;
	}
	fclose(f);
	return ppid;
}

static int descends_from(pid_t pid, pid_t root)
{
	int depth;

	for (depth = 0; pid > 1 && depth < 64; depth++) {
		if (pid == root)
			return 1;
		pid = parent_of(pid);
	}
	return 0;
}

/* A thread and its time on a CPU so far, in ns. */
struct task_ns {
	int tid;
	unsigned long long ns;
};

#define MAX_TASKS 4096

/* Appends every thread of @pid to @t, which holds *@n of MAX_TASKS. */
static void process_tasks(pid_t pid, struct task_ns *t, size_t *n)
{
	unsigned long long ns;
	char path[96];
	struct dirent *de;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && *n < MAX_TASKS) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/schedstat", pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) == 1) {
			t[*n].tid = atoi(de->d_name);
			t[*n].ns = ns;
			(*n)++;
		}
		fclose(f);
	}
	closedir(d);
}

/* Every thread of @root and of every process below it; returns how many. */
static size_t tree_tasks(pid_t root, struct task_ns *t)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (descends_from(pid, root))
			process_tasks(pid, t, &n);
	}
	closedir(d);
	return n;
}

/*
 * The time on a CPU between two samples of the threads that are in both.
 * A thread that exits in between takes its time with it (a plain sum
 * could go down), and one that starts in between is not counted: an idle
 * UML's work is done by its lasting threads (the kernel, the SIGIO helper,
 * the process that sleeps).
 */
static unsigned long long tasks_delta(const struct task_ns *a, size_t na,
				      const struct task_ns *b, size_t nb)
{
	unsigned long long sum = 0;
	size_t i, j;

	for (j = 0; j < nb; j++) {
		for (i = 0; i < na; i++) {
			if (a[i].tid == b[j].tid && b[j].ns >= a[i].ns) {
				sum += b[j].ns - a[i].ns;
				break;
			}
		}
	}
	return sum;
}

int main(int argc, char **argv)
{
	static char line[4096];
	const char *marker;
	static struct task_ns idle_a[MAX_TASKS], idle_b[MAX_TASKS];
	double t0, ready = -1, idle_t = -1, kline = -1, kstamp = 0;
	size_t idle_na = 0;
	size_t len = 0;
	int p[2], st;
	char c;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: tsrun MARKER COMMAND [ARGS...]\n");
		return 2;
	}
	marker = argv[1];
	if (pipe(p))
		return 1;
	t0 = now();
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[2], argv + 2);
		perror("tsrun: exec");
		_exit(127);
	}
	close(p[1]);
	/* Byte by byte: the output is a console log, not bulk data. */
	while (read(p[0], &c, 1) == 1) {
		putchar(c);
		if (c == '\n' || len == sizeof(line) - 1) {
			line[len] = 0;
			if (ready < 0 && strstr(line, marker))
				ready = now() - t0;
			if (kline < 0 && sscanf(line, "[%lf]", &kstamp) == 1)
				kline = now() - t0;
			if (strstr(line, "BENCH-IDLE-BEGIN")) {
				idle_na = tree_tasks(pid, idle_a);
				idle_t = now();
			} else if (idle_t >= 0 && strstr(line, "BENCH-IDLE-END")) {
				size_t nb = tree_tasks(pid, idle_b);
				double wall = now() - idle_t;

				printf("\nBENCH-IDLE: cpu_ms=%.3f wall_ms=%.3f\n",
				       tasks_delta(idle_a, idle_na, idle_b, nb) / 1e6,
				       wall * 1e3);
				idle_t = -1;
			}
			len = 0;
			fflush(stdout);
		} else {
			line[len++] = c;
		}
	}
	waitpid(pid, &st, 0);
	if (kline >= 0)
		printf("BENCH-KERNEL-LINE-AT: secs=%.3f stamp=%.3f\n", kline,
		       kstamp);
	if (ready >= 0)
		printf("BENCH-READY-AT: secs=%.3f\n", ready);
	else
		printf("BENCH-READY-AT: none\n");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
