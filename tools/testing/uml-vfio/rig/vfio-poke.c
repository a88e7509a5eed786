// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-poke: write a string into a region of a PCI device through VFIO
 * (type1), as L1 does before UML starts so that UML's tests can read it
 * back (the far end of a large BAR, say).
 *
 * Usage: vfio-poke BDF REGION OFFSET TEXT
 * Writes TEXT (without its NUL) at OFFSET of region REGION (0-5: the BARs)
 * with pwrite() on the device fd, reads it back and prints one line:
 *   RIG-POKE: BDF region=N offset=0xX bytes=N ok
 *   RIG-POKE: BDF fail STEP: REASON
 * Exits 0 on success, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *bdf;

static int fail(const char *step)
{
	printf("RIG-POKE: %s fail %s: %s\n", bdf, step, strerror(errno));
	return 1;
}

static int group_of(void)
{
	char link[256], target[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	return atoi(basename(target));
}

/* The device fd, in a new type1 container of its own, or -1. */
static int open_device(void)
{
	int container, group, fd, id = group_of();
	char path[64];

	if (id < 0)
		return -fail("iommu_group");
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return -fail("open /dev/vfio/vfio");
	snprintf(path, sizeof(path), "/dev/vfio/%d", id);
	group = open(path, O_RDWR);
	if (group < 0)
		return -fail(path);
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return -fail("GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))
		return -fail("SET_IOMMU");
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fd < 0)
		return -fail("GROUP_GET_DEVICE_FD");
	return fd;
}

/* vfio-pci refuses memory BAR accesses while decoding is off. */
static int enable_decoding(int fd)
{
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	unsigned short cmd;

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return fail("GET_REGION_INFO(config)");
	if (pread(fd, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		return fail("reading the command register");
	cmd |= PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
	if (pwrite(fd, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		return fail("writing the command register");
	return 0;
}

int main(int argc, char **argv)
{
	struct vfio_region_info info = { .argsz = sizeof(info) };
	unsigned long long offset;
	char back[4096];
	const char *text;
	size_t len;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: %s BDF REGION OFFSET TEXT\n", argv[0]);
		return 2;
	}
	bdf = argv[1];
	info.index = strtoul(argv[2], NULL, 0);
	offset = strtoull(argv[3], NULL, 0);
	text = argv[4];
	len = strlen(text);
	if (len > sizeof(back)) {
		errno = E2BIG;
		return fail("TEXT");
	}

	fd = open_device();
	if (fd < 0 || enable_decoding(fd))
		return 1;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return fail("GET_REGION_INFO");
	if (offset > info.size || len > info.size - offset) {
		errno = ERANGE;
		return fail("OFFSET");
	}
	if (pwrite(fd, text, len, info.offset + offset) != (ssize_t)len)
		return fail("pwrite");
	if (pread(fd, back, len, info.offset + offset) != (ssize_t)len)
		return fail("pread");
	if (memcmp(back, text, len)) {
		errno = EIO;
		return fail("read back");
	}
	printf("RIG-POKE: %s region=%u offset=0x%llx bytes=%zu ok\n", bdf,
	       info.index, offset, len);
	return 0;
}
