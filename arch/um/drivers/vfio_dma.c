// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO-based virtual PCI driver: the VFIO container that all devices'
 * groups share, with the type1 IOMMU, and the DMA mapping of UML's memory.
 */
#define pr_fmt(fmt) "vfio_uml: " fmt

#include <linux/lockdep.h>
#include <linux/printk.h>
#include <os.h>

#include "vfio_kern.h"

/* One container for all devices, opened with the first one. */
static struct {
	int fd;
	int users;
	bool mapped;
} uml_vfio_container = { .fd = -1 };

/**
 * uml_vfio_container_get() - open the container if it is not open yet
 * @dev: device name, for messages
 *
 * Return: 0 or a negative errno, already reported.
 */
int uml_vfio_container_get(const char *dev)
{
	int fd;

	lockdep_assert_held(&uml_vfio_mtx);

	if (uml_vfio_container.fd >= 0)
		return 0;

	fd = uml_vfio_user_open_container();
	if (fd == -ENODEV) {
		uml_vfio_fail(dev, "opening /dev/vfio/vfio", fd,
			      "no type1 IOMMU: load vfio_iommu_type1 on the host");
		return fd;
	}
	if (fd < 0) {
		uml_vfio_fail(dev, "opening /dev/vfio/vfio", fd,
			      fd == -ENOENT ? "vfio modules not loaded on the host" :
			      fd == -EACCES ? "no access for this user" : NULL);
		return fd;
	}

	uml_vfio_container.fd = fd;
	return 0;
}

/* Closes the container once no group is attached to it. */
void uml_vfio_container_put(void)
{
	lockdep_assert_held(&uml_vfio_mtx);

	if (uml_vfio_container.users || uml_vfio_container.fd < 0)
		return;
	os_close_file(uml_vfio_container.fd);
	uml_vfio_container.fd = -1;
	uml_vfio_container.mapped = false;
}

/**
 * uml_vfio_container_attach() - add a group to the container
 * @dev: device name, for messages
 * @group: group fd
 *
 * The first group also selects the IOMMU.
 *
 * Return: 0 or a negative errno, already reported.
 */
int uml_vfio_container_attach(const char *dev, int group)
{
	int err;

	lockdep_assert_held(&uml_vfio_mtx);

	err = uml_vfio_user_set_container(uml_vfio_container.fd, group);
	if (err) {
		uml_vfio_fail(dev, "adding group to container", err, NULL);
		return err;
	}

	if (uml_vfio_container.users++)
		return 0;

	err = uml_vfio_user_set_iommu(uml_vfio_container.fd);
	if (err) {
		uml_vfio_fail(dev, "selecting the type1 IOMMU", err, NULL);
		uml_vfio_user_unset_container(uml_vfio_container.fd, group);
		uml_vfio_container.users--;
	}
	return err;
}

void uml_vfio_container_detach(int group)
{
	lockdep_assert_held(&uml_vfio_mtx);

	uml_vfio_user_unset_container(uml_vfio_container.fd, group);
	uml_vfio_container.users--;
}

/**
 * uml_vfio_dma_map_memory() - map all of UML's memory for device DMA, once
 * @dev: device name, for messages
 *
 * Done when the first device has passed its checks, not when its group
 * joins: pinning and mapping all of UML's memory takes seconds for a large
 * mem=, and a device that is then rejected would waste them.
 *
 * Return: 0 or a negative errno, already reported.
 */
int uml_vfio_dma_map_memory(const char *dev)
{
	unsigned long long size = uml_vfio_user_dma_size() >> 20;
	char hint[96];
	int err;

	lockdep_assert_held(&uml_vfio_mtx);

	if (uml_vfio_container.mapped)
		return 0;

	pr_info("mapping %llu MiB of UML memory for device DMA\n", size);
	err = uml_vfio_user_map_dma(uml_vfio_container.fd);
	if (err) {
		snprintf(hint, sizeof(hint),
			 "%llu MiB to pin: is RLIMIT_MEMLOCK high enough?", size);
		uml_vfio_fail(dev, "mapping UML memory for DMA", err,
			      err == -ENOMEM ? hint : NULL);
		return err;
	}

	uml_vfio_container.mapped = true;
	return 0;
}
