// SPDX-License-Identifier: GPL-2.0
/*
 * tsrun: run a command with its stdout and stderr copied to ours, and
 * time how long after the launch it first prints a line containing MARKER.
 *
 *   tsrun MARKER COMMAND [ARGS...]
 *
 * After the command's output ends it prints "BENCH-READY-AT: secs=S" (or
 * "BENCH-READY-AT: none") and exits with the command's status.
 */
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

int main(int argc, char **argv)
{
	static char line[4096];
	const char *marker;
	double t0, ready = -1;
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
			len = 0;
			fflush(stdout);
		} else {
			line[len++] = c;
		}
	}
	waitpid(pid, &st, 0);
	if (ready >= 0)
		printf("BENCH-READY-AT: secs=%.3f\n", ready);
	else
		printf("BENCH-READY-AT: none\n");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
