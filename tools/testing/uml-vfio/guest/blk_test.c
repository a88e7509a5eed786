// SPDX-License-Identifier: GPL-2.0
/*
 * Block devices behind passed-through nvme and virtio-blk, seen from UML:
 * every one binds, takes seeded data with O_DIRECT and gives it back byte
 * for byte, raises MSI-X interrupts while doing so, and carries a file
 * system across a remount.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"
#include "kselftest_harness.h"
#include "blkdev.h"

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
		unsigned long long len = devs[i].size < DATA_SIZE ? devs[i].size : DATA_SIZE;

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
	}
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
