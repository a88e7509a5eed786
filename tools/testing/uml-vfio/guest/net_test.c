// SPDX-License-Identifier: GPL-2.0
/*
 * Networking over passed-through NICs. L1 sits on the same QEMU hub (no
 * host backend) with 10.0.2.1/24, 10.0.3.1/24 and 10.0.4.1/24 on its own
 * virtio-net and an echo server on TCP port 5001; see rig/l1-init.sh.
 * UML's virtio-net gets 10.0.2.2/24, its e1000e 10.0.3.2/24, its e1000
 * 10.0.4.2/24.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "common.h"
#include "kselftest_harness.h"

#define PEER_VIRTIO	"10.0.2.1"
#define PEER_E1000E	"10.0.3.1"
#define PEER_E1000	"10.0.4.1"
#define ECHO_PORT	5001
#define TCP_BYTES	(16 << 20)

static int sh(const char *cmd)
{
	int r = system(cmd);

	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* Brings up the first interface driven by @driver with @addr; "" if none. */
static int setup_if(const char *driver, const char *addr, char *name)
{
	char dir[300], drv[64], cmd[256];
	struct dirent *de;
	DIR *d;
	int t;

	name[0] = '\0';
	d = opendir("/sys/class/net");
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		snprintf(dir, sizeof(dir), "/sys/class/net/%s/device", de->d_name);
		driver_of(dir, drv, sizeof(drv));
		if (!strcmp(drv, driver)) {
			snprintf(name, 32, "%s", de->d_name);
			break;
		}
	}
	closedir(d);
	if (!name[0])
		return 0;

	snprintf(cmd, sizeof(cmd),
		 "ip addr flush dev %s && ip addr add %s dev %s && ip link set %s up",
		 name, addr, name, name);
	if (sh(cmd))
		return -1;
	snprintf(dir, sizeof(dir), "/sys/class/net/%s/carrier", name);
	for (t = 0; t < 100 && read_ull(dir) != 1; t++)
		usleep(100000);
	return read_ull(dir) == 1 ? 1 : -1;
}

/* Runs ping and returns the number of replies. */
static int ping_peer(const char *peer, int count)
{
	char cmd[128], line[256];
	int tx = 0, rx = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ping -q -A -W 5 -c %d %s 2>&1", count, peer);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%d packets transmitted, %d packets received", &tx, &rx) == 2)
			fputs(line, stderr);
	}
	pclose(p);
	return rx;
}

TEST(virtio_net_ping_200)
{
	char name[32];

	if (!l1_count_kind("virtio-net"))
		SKIP(return, "no virtio-net passed through");
	ASSERT_EQ(1, setup_if("virtio_net", "10.0.2.2/24", name)) TH_LOG("no link on %s", name);
	EXPECT_EQ(200, ping_peer(PEER_VIRTIO, 200));
}

/*
 * 16 MiB of seeded data through L1's echo server, compared byte for byte.
 * In the debug UML (KASAN) in strict DMA mode, where every buffer costs
 * two host calls, it takes about the harness's default 30 s under TCG:
 * the fixture is only there to give it a longer timeout.
 */
FIXTURE(tcp) {
	int unused;
};

FIXTURE_SETUP(tcp)
{
}

FIXTURE_TEARDOWN(tcp)
{
}

TEST_F_TIMEOUT(tcp, virtio_net_tcp_16m, 300)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };
	static unsigned char want[65536], got[65536];
	unsigned long long seed = 0x7cb, mismatches = 0;
	size_t done = 0, i;
	char name[32];
	int fd, status;
	pid_t pid;

	if (!l1_count_kind("virtio-net"))
		SKIP(return, "no virtio-net passed through");
	ASSERT_EQ(1, setup_if("virtio_net", "10.0.2.2/24", name));
	inet_pton(AF_INET, PEER_VIRTIO, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		TH_LOG("connect: %s", strerror(errno));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		unsigned long long s = seed;
		size_t sent;

		for (sent = 0; sent < TCP_BYTES; sent += sizeof(want)) {
			prng_fill(&s, want, sizeof(want));
			if (write(fd, want, sizeof(want)) != sizeof(want))
				_exit(1);
		}
		shutdown(fd, SHUT_WR);
		_exit(0);
	}

	while (done < TCP_BYTES) {
		size_t fill = done % sizeof(want);
		ssize_t n;

		if (!fill)
			prng_fill(&seed, want, sizeof(want));
		n = read(fd, got, sizeof(want) - fill);
		if (n <= 0)
			break;
		for (i = 0; i < (size_t)n; i++)
			mismatches += got[i] != want[fill + i];
		done += n;
	}
	close(fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(TCP_BYTES, done);
	EXPECT_EQ(0, mismatches);
	TH_LOG("%zu bytes echoed, %llu differ", done, mismatches);
}

/* Does UML's command line have @opt? */
static int cmdline_has(const char *opt)
{
	char buf[4096], *tok, *save;

	if (read_str("/proc/cmdline", buf, sizeof(buf)))
		return 0;
	for (tok = strtok_r(buf, "\n ", &save); tok; tok = strtok_r(NULL, "\n ", &save))
		if (!strcmp(tok, opt))
			return 1;
	return 0;
}

/*
 * 20 pings over the e1000e, whose interrupt count grows. With
 * e1000e.IntMode=0 (one of the rig's runs) its driver uses legacy
 * interrupts: INTx, which /proc/interrupts must show.
 */
TEST(e1000e_ping)
{
	int intx = cmdline_has("e1000e.IntMode=0");
	char name[32], path[300], bdf[32], line[1024] = "";
	long long before, after;
	int irq;

	if (!l1_count_kind("e1000e"))
		SKIP(return, "no e1000e passed through");
	ASSERT_EQ(1, setup_if("e1000e", "10.0.3.2/24", name)) TH_LOG("no link on %s", name);
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", name);
	ASSERT_EQ(0, pci_dev_of(path, bdf, sizeof(bdf)));
	ASSERT_STREQ(intx ? "intx" : "msix", pci_irq_kind(bdf)) TH_LOG("%s (%s)", name, bdf);
	/* INTx: its legacy IRQ; MSI-X: the sum of its vectors. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/irq", bdf);
	irq = read_ull(path);
	before = intx ? irq_line(irq, line, sizeof(line)) : (long long)irq_count(name);
	EXPECT_EQ(20, ping_peer(PEER_E1000E, 20));
	after = intx ? irq_line(irq, line, sizeof(line)) : (long long)irq_count(name);
	TH_LOG("%s (%s, %s): %lld -> %lld interrupts%s%s", name, bdf,
	       pci_irq_kind(bdf), before, after, intx ? ": " : "", line);
	EXPECT_LT(before, after);
	if (intx)
		EXPECT_NE(NULL, strstr(line, "vfio-uml-INTx"))
			TH_LOG("not INTx in /proc/interrupts");
}

/* Lines of /proc/ioports that name @owner: the regions it requested. */
static int ioports_of(const char *owner)
{
	char line[256], want[64], *p;
	int n = 0;
	FILE *f;

	f = fopen("/proc/ioports", "r");
	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%s\n", owner);
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, " : ");
		n += p && !strcmp(p + 3, want);
	}
	fclose(f);
	return n;
}

/*
 * e1000 (QEMU's 82540EM) has an I/O BAR, which its driver requests, and
 * INTx only. The rig's default set has it; its set of devices with MSI
 * and INTx (tests/30-rig.sh's nodirect run) has not.
 */
TEST(e1000_claims_its_ports_and_pings)
{
	char name[32];

	if (!l1_count_kind("e1000"))
		SKIP(return, "no e1000 passed through (not in this run's set of devices)");
	EXPECT_LT(0, ioports_of("e1000")) TH_LOG("/proc/ioports has no region of e1000's");
	ASSERT_EQ(1, setup_if("e1000", "10.0.4.2/24", name)) TH_LOG("no link on %s", name);
	EXPECT_EQ(20, ping_peer(PEER_E1000, 20));
}

TEST_HARNESS_MAIN
