// SPDX-License-Identifier: GPL-2.0
/*
 * Block devices behind passed-through nvme, virtio-blk, xHCI (USB storage)
 * and AHCI, seen from UML: every one binds, takes seeded data with
 * O_DIRECT and gives it back byte for byte, raises interrupts of the kind
 * its device offers while doing so (MSI-X, INTx for a virtio-blk without
 * MSI-X, MSI for the xHCI and AHCI), and an nvme carries a file system
 * across a remount.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"
#include "kselftest_harness.h"
#include "blkdev.h"

/* Vectors in a msi_irqs directory. */
static int count_msi_irqs(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void check_kind(struct __test_metadata *_metadata, const char *kind)
{
	struct blk devs[MAX_BLK];
	int expected = l1_count_kind(kind);
	int i, n;

	ASSERT_LE(0, expected) TH_LOG("no %s", L1_VIEW);
	if (!expected)
		SKIP(return, "no %s device passed through", kind);

	n = find_kind(kind, devs, MAX_BLK);
	ASSERT_EQ(expected, n) TH_LOG("%d %s devices passed, %d block devices", expected, kind, n);

	for (i = 0; i < n; i++) {
		unsigned long long len = devs[i].size < data_size() ? devs[i].size : data_size();

		ASSERT_GE(len, CHUNK) TH_LOG("%s is too small", devs[i].name);
		len -= len % CHUNK;
		EXPECT_EQ(0, integrity(_metadata, devs[i].name, len, 0x5eed + i));
	}
}

TEST(nvme_data_integrity)
{
	check_kind(_metadata, "nvme");
}

TEST(virtio_blk_data_integrity)
{
	check_kind(_metadata, "virtio-blk");
}

/* MSI-X vectors of every nvme controller count up during its I/O. */
TEST(nvme_msix_interrupts)
{
	struct blk devs[MAX_BLK];
	int i, n;

	n = find_kind("nvme", devs, MAX_BLK);
	if (!n)
		SKIP(return, "no nvme namespace");

	for (i = 0; i < n; i++) {
		char ctrl[32];
		unsigned long long before, after;

		int len = strrchr(devs[i].name, 'n') - devs[i].name;

		snprintf(ctrl, sizeof(ctrl), "%.*s", len, devs[i].name);
		before = irq_count(ctrl);
		ASSERT_EQ(0, integrity(_metadata, devs[i].name, 4 * CHUNK, 7 + i));
		after = irq_count(ctrl);
		TH_LOG("%s: %llu -> %llu interrupts", ctrl, before, after);
		EXPECT_LT(before, after);
		EXPECT_EQ(irq_lines(ctrl, NULL), irq_lines(ctrl, "PCI-MSIX-"))
			TH_LOG("%s: not all of its /proc/interrupts lines say MSI-X", ctrl);
	}
}

/* L1's devices of @kind that offer @irq and, unless NULL, not @not. */
static int l1_count_irqs(const char *kind, const char *irq, const char *not)
{
	struct l1_dev devs[MAX_L1_DEVS];
	int i, n, count = 0;

	n = l1_devices(devs, MAX_L1_DEVS);
	for (i = 0; i < n; i++)
		count += !strcmp(devs[i].kind, kind) && in_list(devs[i].irqs, irq) &&
			 (!not || !in_list(devs[i].irqs, not));
	return count;
}

/*
 * I/O on disk @name raises the interrupt of kind @kind (what msi_irqs
 * says, or INTx) of its PCI device, and /proc/interrupts names the kind
 * (@chip): "PCI-MSI-", "PCI-MSIX-" or "INTx".
 */
static void check_irq_kind(struct __test_metadata *_metadata, const char *name,
			   const char *bdf, const char *kind, const char *chip)
{
	char path[300], line[1024] = "";
	long long before, after;
	int irq;

	ASSERT_STREQ(kind, pci_irq_kind(bdf)) TH_LOG("%s (%s)", name, bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/irq", bdf);
	irq = read_ull(path);
	before = irq_line(irq, line, sizeof(line));
	ASSERT_LE(0, before) TH_LOG("%s: IRQ %d is not in /proc/interrupts", bdf, irq);
	ASSERT_EQ(0, integrity(_metadata, name, 4 * CHUNK, 11));
	after = irq_line(irq, line, sizeof(line));
	TH_LOG("%s (%s, %s): %lld -> %lld interrupts: %s", name, bdf, kind,
	       before, after, line);
	EXPECT_LT(before, after);
	EXPECT_NE(NULL, strstr(line, chip)) TH_LOG("no \"%s\" in the line", chip);
}

/* A virtio-blk without MSI-X vectors falls back to INTx, and it works. */
TEST(virtio_blk_intx_interrupts)
{
	int want = l1_count_irqs("virtio-blk", "intx", "msix");
	struct blk devs[MAX_BLK];
	char path[64], bdf[32];
	int i, n, found = 0;

	if (!want)
		SKIP(return, "no virtio-blk without MSI-X passed through");

	n = find_kind("virtio-blk", devs, MAX_BLK);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/sys/block/%s", devs[i].name);
		ASSERT_EQ(0, pci_dev_of(path, bdf, sizeof(bdf)));
		if (strcmp(pci_irq_kind(bdf), "intx"))
			continue;
		found++;
		check_irq_kind(_metadata, devs[i].name, bdf, "intx", "vfio-uml-INTx");
	}
	EXPECT_EQ(want, found);
}

/*
 * The disks behind each L1 device of @kind (with MSI only) that is bound
 * to @driver in UML: all the data comes back, over MSI with at least
 * @vectors vectors enabled.
 */
static void check_msi_disks(struct __test_metadata *_metadata, const char *kind,
			    const char *driver, int vectors)
{
	int want = l1_count_irqs(kind, "msi", "msix");
	struct blk devs[MAX_BLK];
	char path[300], bdf[32], drv[64];
	int i, n, found = 0;

	if (!want)
		SKIP(return, "no %s with MSI only passed through", kind);

	/* A USB disk shows up after the controller's probe. */
	for (i = 0; i < 100 && !find_blk("sd", devs, MAX_BLK); i++)
		usleep(100000);
	n = find_blk("sd", devs, MAX_BLK);
	for (i = 0; i < n; i++) {
		unsigned long long len = devs[i].size < data_size() ? devs[i].size : data_size();

		snprintf(path, sizeof(path), "/sys/block/%s", devs[i].name);
		if (pci_dev_of(path, bdf, sizeof(bdf)))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
		driver_of(path, drv, sizeof(drv));
		if (strcmp(drv, driver))
			continue;
		found++;
		len -= len % CHUNK;
		EXPECT_EQ(0, integrity(_metadata, devs[i].name, len, 0x3151 + i));
		check_irq_kind(_metadata, devs[i].name, bdf, "msi", "PCI-MSI-");
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs", bdf);
		TH_LOG("%s: %d MSI vectors", bdf, count_msi_irqs(path));
		EXPECT_LE(vectors, count_msi_irqs(path));
	}
	EXPECT_LE(want, found) TH_LOG("%d %s passed, disks on %d", want, kind, found);
}

/*
 * xhci_hcd asks for a vector per CPU plus one: with UML's one CPU, a
 * multi-message MSI block of two.
 */
TEST(usb_storage_over_msi)
{
	check_msi_disks(_metadata, "xhci", "xhci_hcd", 2);
}

TEST(ahci_over_msi)
{
	check_msi_disks(_metadata, "ahci", "ahci", 1);
}

/*
 * One read at a time, each completed by one MSI-X interrupt: the count of
 * the controller's vectors grows by exactly the number of reads. A lost
 * interrupt stalls a read until nvme's timeout (and shows as fewer); one
 * delivered twice shows as more.
 */
TEST(nvme_one_interrupt_per_read)
{
	unsigned long long before, after;
	struct blk devs[MAX_BLK];
	char ctrl[32], path[64];
	const int reads = 400;
	void *buf;
	int fd, i, n, len;

	n = find_kind("nvme", devs, MAX_BLK);
	if (!n)
		SKIP(return, "no nvme namespace");

	len = strrchr(devs[0].name, 'n') - devs[0].name;
	snprintf(ctrl, sizeof(ctrl), "%.*sq", len, devs[0].name);
	snprintf(path, sizeof(path), "/dev/%s", devs[0].name);
	fd = open(path, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	ASSERT_EQ(0, posix_memalign(&buf, 4096, 4096));

	before = irq_count(ctrl);
	for (i = 0; i < reads; i++) {
		if (pread(fd, buf, 4096, (off_t)(i % 256) * 4096) != 4096)
			break;
	}
	after = irq_count(ctrl);
	close(fd);
	free(buf);
	ASSERT_EQ(reads, i) TH_LOG("%s: read %d failed: %s", path, i, strerror(errno));
	TH_LOG("%s: %d reads, %llu -> %llu interrupts of %s*", path, reads,
	       before, after, ctrl);
	EXPECT_EQ((unsigned long long)reads, after - before);
}

/* All nvme namespaces at once: several groups in one container. */
TEST(nvme_concurrent_io)
{
	struct blk devs[MAX_BLK];
	int i, n, status, ok = 0;
	pid_t pid[MAX_BLK];

	n = find_kind("nvme", devs, MAX_BLK);
	if (n < 2)
		SKIP(return, "%d nvme namespaces, need 2", n);

	for (i = 0; i < n; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i])
			_exit(integrity(_metadata, devs[i].name, 16 * CHUNK, 99 + i) ? 1 : 0);
	}
	for (i = 0; i < n; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		ok += WIFEXITED(status) && !WEXITSTATUS(status);
	}
	EXPECT_EQ(n, ok);
}

static int sh(const char *cmd)
{
	int r = system(cmd);

	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* Four files of odd sizes and their checksums, for the round trip. */
#define FS_FILES \
	"for i in 1 2 3 4; do head -c $((i * 1000000 + 123)) /dev/urandom > /mnt/f$i; done && " \
	"cd /mnt && sha256sum f1 f2 f3 f4 > /tmp/fs.sum"

/* mkfs, files with known checksums, umount, mount again, verify. */
TEST(nvme_filesystem_roundtrip)
{
	struct blk devs[MAX_BLK];
	char cmd[512];
	int n;

	n = find_kind("nvme", devs, MAX_BLK);
	if (!n)
		SKIP(return, "no nvme namespace");

	snprintf(cmd, sizeof(cmd), "mke2fs -q -F /dev/%s >/dev/null", devs[n - 1].name);
	ASSERT_EQ(0, sh(cmd));
	mkdir("/mnt", 0755);
	snprintf(cmd, sizeof(cmd), "mount -t ext2 /dev/%s /mnt", devs[n - 1].name);
	ASSERT_EQ(0, sh(cmd));
	ASSERT_EQ(0, sh(FS_FILES));
	ASSERT_EQ(0, sh("umount /mnt"));
	ASSERT_EQ(0, sh(cmd));
	EXPECT_EQ(0, sh("cd /mnt && sha256sum -c /tmp/fs.sum"));
	EXPECT_EQ(0, sh("umount /mnt"));
}

TEST_HARNESS_MAIN
