/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Block device helpers for the tests that run inside UML (after
 * kselftest_harness.h): finding the disks of a kind and a byte-for-byte
 * round trip of seeded data.
 */
#ifndef UML_VFIO_GUEST_BLKDEV_H
#define UML_VFIO_GUEST_BLKDEV_H

#include <fcntl.h>

#include "common.h"

#define CHUNK		(1024 * 1024)
#define DATA_MIB	64
#define MAX_BLK		16

struct blk {
	char name[32];
	unsigned long long size;
};

/*
 * Data per device: 64 MiB, or UML_TEST_DATA_MIB (from uml.data_mib= on
 * UML's command line). The debug UML asks for less: under KASAN and TCG
 * each MiB costs seconds, and its reports come from the paths, not from
 * the amount.
 */
static inline unsigned long long data_size(void)
{
	const char *s = getenv("UML_TEST_DATA_MIB");
	unsigned long mib = s ? strtoul(s, NULL, 10) : 0;

	return (unsigned long long)(mib ? mib : DATA_MIB) << 20;
}

/* Block devices whose names start with @prefix and end in a digit. */
static inline int find_blk(const char *prefix, struct blk *out, int max)
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
static inline int find_kind(const char *kind, struct blk *out, int max)
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
static inline long long integrity(struct __test_metadata *_metadata,
				  const char *dev, unsigned long long len,
				  unsigned long long seed)
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

#endif
