// SPDX-License-Identifier: GPL-2.0
/*
 * netbench: TCP bulk throughput for the uml-vfio benchmark.
 *
 *   netbench sink PORT              accept connections one at a time and
 *                                   discard what they send (runs forever)
 *   netbench send HOST PORT SECS    send for SECS seconds, then wait until
 *                                   the sink has read everything
 *
 * "send" prints one line: "BENCH-TCP: bytes=N secs=S mbps=M".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static char buf[CHUNK];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sink(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int s, c, one = 1;

	a.sin_port = htons(port);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4)) {
		perror("netbench: sink");
		return 1;
	}
	for (;;) {
		c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
}

static int send_for(const char *host, int port, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	unsigned long long bytes = 0;
	double t0, t;
	ssize_t n;
	int s;

	a.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "netbench: bad address %s\n", host);
		return 1;
	}
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("netbench: connect");
		return 1;
	}
	t0 = now();
	do {
		n = write(s, buf, sizeof(buf));
		if (n < 0) {
			perror("netbench: write");
			return 1;
		}
		bytes += n;
	} while (now() - t0 < secs);
	/* The sink closes once it has read everything. */
	shutdown(s, SHUT_WR);
	while (read(s, buf, sizeof(buf)) > 0)
		;
	t = now() - t0;
	printf("BENCH-TCP: bytes=%llu secs=%.3f mbps=%.1f\n", bytes, t, bytes * 8 / t / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "sink"))
		return sink(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_for(argv[2], atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: netbench sink PORT | netbench send HOST PORT SECS\n");
	return 2;
}
