// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-reopen: check that PCI devices still open through VFIO (type1).
 *
 * Usage: vfio-reopen BDF...
 * For each device: new container, its group, VFIO_SET_IOMMU(TYPE1),
 * GET_DEVICE_FD, DEVICE_GET_INFO, and a read of the vendor id from the
 * config region, compared with sysfs. Prints one line per device:
 *   RIG-REOPEN: BDF ok regions=N irqs=N vendor=0xVVVV
 *   RIG-REOPEN: BDF fail STEP: REASON
 * Exits 0 if every device was ok, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct fds {
	int container;
	int group;
	int device;
};

static int fail(const char *bdf, const char *step)
{
	printf("RIG-REOPEN: %s fail %s: %s\n", bdf, step, strerror(errno));
	return -1;
}

static int group_of(const char *bdf)
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

static long sysfs_vendor(const char *bdf)
{
	char path[256], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtol(buf, NULL, 16);
}

static int open_group(const char *bdf, struct fds *fds)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int group = group_of(bdf);

	if (group < 0)
		return fail(bdf, "iommu_group");
	fds->container = open("/dev/vfio/vfio", O_RDWR);
	if (fds->container < 0)
		return fail(bdf, "open /dev/vfio/vfio");
	if (ioctl(fds->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return fail(bdf, "VFIO_GET_API_VERSION");
	if (ioctl(fds->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) <= 0) {
		errno = ENOTSUP;
		return fail(bdf, "CHECK_EXTENSION(TYPE1)");
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	fds->group = open(path, O_RDWR);
	if (fds->group < 0)
		return fail(bdf, path);
	if (ioctl(fds->group, VFIO_GROUP_GET_STATUS, &status))
		return fail(bdf, "GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		return fail(bdf, "group not viable");
	}
	if (ioctl(fds->group, VFIO_GROUP_SET_CONTAINER, &fds->container))
		return fail(bdf, "GROUP_SET_CONTAINER");
	if (ioctl(fds->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU))
		return fail(bdf, "SET_IOMMU");
	return 0;
}

static int check_device(const char *bdf, struct fds *fds)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint16_t vendor = 0;

	fds->device = ioctl(fds->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fds->device < 0)
		return fail(bdf, "GROUP_GET_DEVICE_FD");
	if (ioctl(fds->device, VFIO_DEVICE_GET_INFO, &info))
		return fail(bdf, "DEVICE_GET_INFO");
	if (ioctl(fds->device, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return fail(bdf, "GET_REGION_INFO(config)");
	if (pread(fds->device, &vendor, sizeof(vendor), cfg.offset) != 2)
		return fail(bdf, "config pread");
	if (vendor != sysfs_vendor(bdf)) {
		errno = EIO;
		return fail(bdf, "vendor mismatch");
	}
	printf("RIG-REOPEN: %s ok regions=%u irqs=%u vendor=0x%04x\n",
	       bdf, info.num_regions, info.num_irqs, vendor);
	return 0;
}

static void close_all(struct fds *fds)
{
	if (fds->device >= 0)
		close(fds->device);
	if (fds->group >= 0)
		close(fds->group);
	if (fds->container >= 0)
		close(fds->container);
}

int main(int argc, char **argv)
{
	int i, bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s BDF...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct fds fds = { -1, -1, -1 };

		if (open_group(argv[i], &fds) || check_device(argv[i], &fds))
			bad = 1;
		close_all(&fds);
	}
	fflush(stdout);
	return bad;
}
