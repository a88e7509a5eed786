// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts of each kind, raised on demand through the irqtest module
 * (guest/irqtest/): QEMU's edu with MSI and INTx, an nvme with MSI-X and
 * INTx. Each kind delivers, shows in /proc/interrupts, honours masking,
 * disabling and the command register's INTx disable bit, a line that is
 * still asserted after its handler fires again, and a device switches
 * kinds (and goes back to its own driver) with nothing lost or left over.
 * Two INTx devices interrupt at once.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <sys/wait.h>

#include "common.h"
#include "kselftest_harness.h"
#include "blkdev.h"

#define MODULE		"/modules/irqtest.ko"
#define DRIVER		"/sys/bus/pci/drivers/irqtest"
#define RESIZE		"/sys/module/vfio_uml/parameters/msix_resize"

struct stats {
	char kind[16];
	int irq, handled, held, spurious, rt_n;
	unsigned int rt_p50_ns;
};

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* One irqtest command to device @bdf: 0 or the command's -errno. */
static int cmd(const char *bdf, const char *fmt, ...)
{
	char path[128], buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/irqtest", bdf);
	return write_str(path, buf);
}

static int stats(const char *bdf, struct stats *st)
{
	char path[128], buf[256];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/stats", bdf);
	memset(st, 0, sizeof(*st));
	if (read_str(path, buf, sizeof(buf)))
		return -1;
	return sscanf(buf, "kind=%15s irq=%d handled=%d held=%d spurious=%d rt_n=%d rt_p50_ns=%u",
		      st->kind, &st->irq, &st->handled, &st->held, &st->spurious,
		      &st->rt_n, &st->rt_p50_ns) == 7 ? 0 : -1;
}

static unsigned int pci_attr(const char *bdf, const char *attr)
{
	char path[300];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return read_ull(path);
}

/*
 * The UML PCI device with this vendor and device (@class 0) or this
 * class, the lowest or (@last) the highest in BDF order; "" if none.
 */
static void find_pci(unsigned int vendor, unsigned int device,
		     unsigned int class, char *bdf, size_t size, int last)
{
	struct dirent *de;
	const char *n;
	DIR *d;

	bdf[0] = '\0';
	d = opendir("/sys/bus/pci/devices");
	if (!d)
		return;
	while ((de = readdir(d))) {
		n = de->d_name;
		if (n[0] == '.')
			continue;
		if (class ? pci_attr(n, "class") != class :
			    pci_attr(n, "vendor") != vendor ||
			    pci_attr(n, "device") != device)
			continue;
		if (!bdf[0] || (strcmp(n, bdf) < 0) != last)
			snprintf(bdf, size, "%s", n);
	}
	closedir(d);
}

/* The nvme namespace block device of PCI device @bdf: 1, or 0 if none. */
static int nvme_ns_of(const char *bdf, char *blk, size_t size)
{
	struct blk devs[MAX_BLK];
	char path[64], pci[32];
	int i, n;

	n = find_kind("nvme", devs, MAX_BLK);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/sys/block/%s", devs[i].name);
		if (!pci_dev_of(path, pci, sizeof(pci)) && !strcmp(pci, bdf)) {
			snprintf(blk, size, "%s", devs[i].name);
			return 1;
		}
	}
	return 0;
}

/* Loads the module once; its driver then holds every edu. */
static int irqtest_loaded(void)
{
	if (!access(DRIVER, F_OK))
		return 1;
	if (access(MODULE, F_OK))
		return 0;
	return system("insmod " MODULE) == 0 && !access(DRIVER, F_OK);
}

/* edu, bound to irqtest; SKIPs the test if there is none. */
#define EDU(bdf)							\
	do {								\
		if (!l1_count_kind("edu"))				\
			SKIP(return, "no edu passed through");		\
		ASSERT_TRUE(irqtest_loaded()) TH_LOG("no %s", MODULE);	\
		find_pci(0x1234, 0x11e8, 0, bdf, sizeof(bdf), 0);	\
		ASSERT_NE(0, bdf[0]) TH_LOG("L1 passed an edu, UML has none"); \
	} while (0)

/*
 * @n round trips of kind @kind: each comes back, the handler counts it,
 * and the vector's /proc/interrupts line counts it and names @chip.
 */
static void round_trips(struct __test_metadata *_metadata, const char *bdf,
			const char *kind, const char *chip, int n)
{
	struct stats a, b;
	char line[1024] = "";
	long long before, after;

	ASSERT_EQ(0, cmd(bdf, "kind %s", kind));
	ASSERT_EQ(0, stats(bdf, &a));
	ASSERT_STREQ(kind, a.kind);
	before = irq_line(a.irq, line, sizeof(line));
	ASSERT_EQ(0, cmd(bdf, "raise %d", n));
	ASSERT_EQ(0, stats(bdf, &b));
	after = irq_line(b.irq, line, sizeof(line));
	TH_LOG("%s %s: %d round trips, median %u us: %s", bdf, kind, n,
	       b.rt_p50_ns / 1000, line);
	EXPECT_EQ(a.handled + n, b.handled);
	EXPECT_LE(before + n, after);
	EXPECT_NE(NULL, strstr(line, chip)) TH_LOG("no \"%s\" in the line", chip);
	EXPECT_NE(NULL, strstr(line, "irqtest"));
}

TEST(edu_msi)
{
	char bdf[32];

	EDU(bdf);
	round_trips(_metadata, bdf, "msi", "PCI-MSI-", 100);
}

TEST(edu_intx)
{
	char bdf[32];

	EDU(bdf);
	round_trips(_metadata, bdf, "intx", "vfio-uml-INTx", 100);
}

/*
 * INTx is level-triggered: a handler that leaves the line asserted gets
 * called again once it returns (the line is unmasked after it), until the
 * line is acknowledged.
 */
TEST(edu_intx_still_asserted_fires_again)
{
	struct stats a, b;
	char bdf[32];

	EDU(bdf);
	ASSERT_EQ(0, cmd(bdf, "kind intx"));
	ASSERT_EQ(0, stats(bdf, &a));
	ASSERT_EQ(0, cmd(bdf, "hold_ack 3"));
	ASSERT_EQ(0, cmd(bdf, "raise 1"));
	ASSERT_EQ(0, stats(bdf, &b));
	EXPECT_EQ(a.held + 3, b.held);
	EXPECT_EQ(a.handled + 1, b.handled);
}

/* Nothing comes while @what is set; what came meanwhile comes on @undo. */
static void held_back(struct __test_metadata *_metadata, const char *bdf,
		      const char *what, const char *undo)
{
	struct stats a, b;

	ASSERT_EQ(0, stats(bdf, &a));
	ASSERT_EQ(0, cmd(bdf, "%s", what));
	ASSERT_EQ(0, cmd(bdf, "post"));
	usleep(300000);
	ASSERT_EQ(0, stats(bdf, &b));
	EXPECT_EQ(a.handled, b.handled) TH_LOG("%s %s: delivered anyway", a.kind, what);
	ASSERT_EQ(0, cmd(bdf, "%s", undo));
	EXPECT_EQ(0, cmd(bdf, "wait 2000")) TH_LOG("%s: lost after %s", a.kind, undo);
}

/* PCI_COMMAND_INTX_DISABLE holds the line back; it fires when cleared. */
TEST(edu_intx_disable_bit)
{
	char bdf[32];

	EDU(bdf);
	ASSERT_EQ(0, cmd(bdf, "kind intx"));
	held_back(_metadata, bdf, "intx_disable 1", "intx_disable 0");
}

/* disable_irq()/enable_irq(): nothing runs meanwhile, nothing is lost. */
TEST(edu_irq_disable_enable)
{
	char bdf[32];

	EDU(bdf);
	ASSERT_EQ(0, cmd(bdf, "kind intx"));
	held_back(_metadata, bdf, "irq_disable", "irq_enable");
	ASSERT_EQ(0, cmd(bdf, "kind msi"));
	held_back(_metadata, bdf, "irq_disable", "irq_enable");
}

/* MSI, INTx and back, on one device and one bind. */
TEST(edu_switch_kinds)
{
	char bdf[32];

	EDU(bdf);
	round_trips(_metadata, bdf, "msi", "PCI-MSI-", 20);
	round_trips(_metadata, bdf, "intx", "vfio-uml-INTx", 20);
	round_trips(_metadata, bdf, "msi", "PCI-MSI-", 20);
	round_trips(_metadata, bdf, "intx", "vfio-uml-INTx", 20);
	EXPECT_EQ(0, cmd(bdf, "kind none"));
}

/* Moves @bdf from its driver to @driver (by driver_override); 0 if bound. */
static int rebind(const char *bdf, const char *driver)
{
	char path[160], drv[64];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	if (!access(path, F_OK) && write_str(path, bdf))
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (write_str(path, driver))
		return -1;
	write_str("/sys/bus/pci/drivers_probe", bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	driver_of(path, drv, sizeof(drv));
	return strcmp(drv, driver) ? -1 : 0;
}

/* Lets @bdf match drivers by ID again. */
static void rebind_clear(const char *bdf)
{
	char path[160];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	write_str(path, "\n");
}

/* An nvme taken from its driver for a test, given back in any case. */
FIXTURE(nvme) {
	char bdf[32];
};

FIXTURE_SETUP(nvme)
{
	self->bdf[0] = '\0';
	if (l1_count_kind("nvme") < 2)
		SKIP(return, "needs two nvme (the other keeps its driver)");
	ASSERT_TRUE(irqtest_loaded()) TH_LOG("no %s", MODULE);
	find_pci(0, 0, 0x010802, self->bdf, sizeof(self->bdf), 1);
	ASSERT_NE(0, self->bdf[0]);
	ASSERT_EQ(0, rebind(self->bdf, "irqtest")) TH_LOG("%s: binding irqtest", self->bdf);
}

/* Back to the nvme driver, whose namespace must work. */
FIXTURE_TEARDOWN(nvme)
{
	char blk[64] = "";
	int i;

	if (!self->bdf[0])
		return;
	write_str(RESIZE, "1");
	ASSERT_EQ(0, rebind(self->bdf, "nvme")) TH_LOG("%s: back to nvme", self->bdf);
	rebind_clear(self->bdf);
	for (i = 0; i < 100 && !nvme_ns_of(self->bdf, blk, sizeof(blk)); i++)
		usleep(100000);
	ASSERT_NE(0, blk[0]) TH_LOG("%s: no namespace after rebinding nvme", self->bdf);
	EXPECT_EQ(0, integrity(_metadata, blk, 4 * CHUNK, 0x9999));
}

/* MSI-X, INTx (whose still asserted line fires again) and MSI-X again. */
TEST_F(nvme, switch_kinds)
{
	struct stats a, b;

	round_trips(_metadata, self->bdf, "msix", "PCI-MSIX-", 50);
	round_trips(_metadata, self->bdf, "intx", "vfio-uml-INTx", 50);
	ASSERT_EQ(0, stats(self->bdf, &a));
	EXPECT_EQ(0, cmd(self->bdf, "hold_ack 2"));
	EXPECT_EQ(0, cmd(self->bdf, "raise 1"));
	ASSERT_EQ(0, stats(self->bdf, &b));
	EXPECT_EQ(a.held + 2, b.held) TH_LOG("the still asserted line did not fire again");
	round_trips(_metadata, self->bdf, "msix", "PCI-MSIX-", 50);
	round_trips(_metadata, self->bdf, "intx", "vfio-uml-INTx", 10);
	EXPECT_EQ(0, cmd(self->bdf, "kind none"));
}

/*
 * The MSI-X table and PBA as the guest sees them: masking by writel() and
 * by memcpy_toio() of a whole entry, memcpy_fromio() and memset_io() of
 * entries, the PBA's pending bit (irqtest's msix_shadow).
 */
TEST_F(nvme, msix_table_and_pba)
{
	ASSERT_EQ(0, cmd(self->bdf, "kind msix"));
	EXPECT_EQ(0, cmd(self->bdf, "msix_shadow")) TH_LOG("see the IRQTEST lines in the log");
	EXPECT_EQ(0, cmd(self->bdf, "kind none"));
}

/*
 * Where VFIO cannot add vectors to enabled MSI-X, the driver disables and
 * re-enables it: no interrupt may be lost meanwhile (irqtest's msix_grow,
 * with vfio_uml.msix_resize=0 to take that path on this host).
 */
TEST_F(nvme, msix_grow_without_resize)
{
	if (access(RESIZE, W_OK))
		SKIP(return, "no %s", RESIZE);
	ASSERT_EQ(0, cmd(self->bdf, "kind msix"));
	ASSERT_EQ(0, write_str(RESIZE, "0"));
	EXPECT_EQ(0, cmd(self->bdf, "msix_grow")) TH_LOG("see the IRQTEST lines in the log");
	EXPECT_EQ(0, write_str(RESIZE, "1"));
	EXPECT_EQ(0, cmd(self->bdf, "kind none"));
}

/*
 * Two devices on INTx at once: edu raising interrupts in a child while a
 * virtio-blk without MSI-X moves data.
 */
TEST(two_intx_devices_at_once)
{
	int i, n, status;
	struct blk devs[MAX_BLK];
	char bdf[32], vbdf[32], path[64], *disk = NULL;
	struct stats a, b;
	pid_t pid;

	EDU(bdf);
	n = find_kind("virtio-blk", devs, MAX_BLK);
	for (i = 0; i < n && !disk; i++) {
		snprintf(path, sizeof(path), "/sys/block/%s", devs[i].name);
		if (!pci_dev_of(path, vbdf, sizeof(vbdf)) &&
		    !strcmp(pci_irq_kind(vbdf), "intx"))
			disk = devs[i].name;
	}
	if (!disk)
		SKIP(return, "no virtio-blk on INTx");

	ASSERT_EQ(0, cmd(bdf, "kind intx"));
	ASSERT_EQ(0, stats(bdf, &a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(cmd(bdf, "raise 300") ? 1 : 0);
	EXPECT_EQ(0, integrity(_metadata, disk, 16 * CHUNK, 0x1717));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	ASSERT_EQ(0, stats(bdf, &b));
	EXPECT_EQ(a.handled + 300, b.handled);
	EXPECT_EQ(0, cmd(bdf, "kind none"));
}

TEST_HARNESS_MAIN
