// SPDX-License-Identifier: GPL-2.0
/*
 * Block devices behind passed-through nvme and virtio-blk, seen from UML:
 * every one binds, takes seeded data with O_DIRECT and gives it back byte
 * for byte, raises MSI-X interrupts while doing so, and carries a file
 * system across a remount.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"
#include "kselftest_harness.h"

#define CHUNK		(1024 * 1024)
#define DATA_SIZE	(64ULL << 20)
#define MAX_BLK		16

struct blk {
	char name[32];
	unsigned long long size;
};

/* Block devices whose names start with @prefix and end in a digit. */
static int find_blk(const char *prefix, struct blk *out, int max)
{
	struct dirent *de;
	char path[300];
	DIR *d;
	int n = 0;

	d = opendir("/sys/block");
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", de->d_name);
		snprintf(path, sizeof(path), "/sys/block/%s/size", de->d_name);
		out[n].size = read_ull(path) * 512;
		n++;
	}
	closedir(d);
	return n;
}

/* Block devices of one kind: nvme namespaces ("nvme0n1") or virtio ("vda"). */
static int find_kind(const char *kind, struct blk *out, int max)
{
	struct blk all[MAX_BLK];
	int i, n, count = 0;

	if (!strcmp(kind, "virtio-blk"))
		return find_blk("vd", out, max);

	n = find_blk("nvme", all, MAX_BLK);
	for (i = 0; i < n && count < max; i++) {
		if (strchr(all[i].name + 4, 'n'))	/* nvme<c>n<ns> */
			out[count++] = all[i];
	}
	return count;
}

/* Writes @len seeded bytes to @dev with O_DIRECT and compares them back. */
static long long integrity(struct __test_metadata *_metadata, const char *dev,
			   unsigned long long len, unsigned long long seed)
{
	unsigned long long s, off, mismatches = 0;
	char path[64];
	void *wbuf, *rbuf;
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", dev);
	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0) {
		TH_LOG("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (posix_memalign(&wbuf, 4096, CHUNK) || posix_memalign(&rbuf, 4096, CHUNK)) {
		close(fd);
		return -1;
	}

	for (s = seed, off = 0; off < len; off += CHUNK) {
		prng_fill(&s, wbuf, CHUNK);
		if (pwrite(fd, wbuf, CHUNK, off) != CHUNK) {
			TH_LOG("%s: write at %llu: %s", dev, off, strerror(errno));
			goto fail;
		}
	}
	if (fsync(fd)) {
		TH_LOG("%s: fsync: %s", dev, strerror(errno));
		goto fail;
	}

	for (s = seed, off = 0; off < len; off += CHUNK) {
		unsigned char *w = wbuf, *r = rbuf;
		size_t i;

		prng_fill(&s, wbuf, CHUNK);
		if (pread(fd, rbuf, CHUNK, off) != CHUNK) {
			TH_LOG("%s: read at %llu: %s", dev, off, strerror(errno));
			goto fail;
		}
		for (i = 0; i < CHUNK; i++)
			mismatches += w[i] != r[i];
	}

	close(fd);
	free(wbuf);
	free(rbuf);
	TH_LOG("%s: %llu MiB written and read back, %llu bytes differ", dev,
	       len >> 20, mismatches);
	return mismatches;

fail:
	close(fd);
	free(wbuf);
	free(rbuf);
	return -1;
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
