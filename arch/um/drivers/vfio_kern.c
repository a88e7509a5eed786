// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO-based virtual PCI driver: passes host PCI devices, bound to vfio-pci,
 * through to UML on top of the um_pci_ops layer (virt-pci).
 *
 * Based on the design of the RFC "um: Add VFIO-based virtual PCI driver" by
 * Tiwei Bie.
 */
#define pr_fmt(fmt) "vfio_uml: " fmt

#include <linux/ctype.h>
#include <linux/hex.h>
#include <linux/irq.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/unaligned.h>
#include <linux/workqueue.h>
#include <asm/setup.h>
#include <irq_kern.h>
#include <init.h>
#include <os.h>

#include "virt-pci.h"
#include "vfio_user.h"

/* "dddddddd:bb:ss.f" and a NUL */
#define UML_VFIO_NAME_LEN 17

struct uml_vfio_group {
	struct list_head list;
	int id;
	int fd;
	int users;
};

/* Guest view of one MSI-X vector and its host eventfd's state. */
struct uml_vfio_vector {
	u32 data;		/* UML IRQ number, as virt-pci composes it */
	bool masked;
	bool pending;		/* fired while masked */
};

struct uml_vfio_device {
	struct list_head list;
	char name[UML_VFIO_NAME_LEN];
	struct uml_vfio_group *group;

	struct um_pci_device pdev;
	struct uml_vfio_user_device udev;
	int irq;		/* UML IRQ of udev.epoll */
	bool released;		/* the host asked for it back */
	struct work_struct release_work;

	/* Protects the MSI-X state below against the interrupt handler. */
	raw_spinlock_t lock;
	int msix_cap;
	int msix_bar;
	unsigned int msix_offset;
	unsigned int msix_size;
	int pba_bar;
	unsigned int pba_offset;
	unsigned int pba_size;
	int msix_vectors;
	bool msix_enabled;
	bool msix_maskall;
	int host_vectors;	/* vectors MSI-X is enabled with on the host */
	u8 *msix_table;		/* shadow: vfio-pci drops guest writes */
	struct uml_vfio_vector *vec;
};

#define to_vdev(_pdev) container_of(_pdev, struct uml_vfio_device, pdev)

/* One container for all devices, opened with the first one. */
static struct {
	int fd;
	int users;
	bool mapped;
} uml_vfio_container = { .fd = -1 };

/* Map BARs into UML (vfio_uml.mmap=0 keeps every access on pread/pwrite). */
static bool uml_vfio_mmap = true;
module_param_named(mmap, uml_vfio_mmap, bool, 0444);
MODULE_PARM_DESC(mmap, "Map BARs with mmap (default) instead of pread/pwrite per access");

/* Hand logic_iomem direct windows (vfio_uml.direct=0: every access calls us). */
static bool uml_vfio_direct = true;
module_param_named(direct, uml_vfio_direct, bool, 0444);
MODULE_PARM_DESC(direct, "Access mapped BARs inline in the guest driver (default) instead of calling the driver");

static LIST_HEAD(uml_vfio_groups);
static LIST_HEAD(uml_vfio_devices);
static DEFINE_MUTEX(uml_vfio_mtx);

/*
 * vfio_uml.device= values, NUL-separated. Parameters are parsed before the
 * slab allocator is up, so they are only recorded here and parsed by the
 * initcall. Every value comes from the command line, so this cannot fill up.
 */
static char uml_vfio_args[COMMAND_LINE_SIZE] __initdata;
static size_t uml_vfio_args_len __initdata;
static bool uml_vfio_args_truncated __initdata;

static void uml_vfio_fail(const char *dev, const char *step, int err,
			  const char *hint)
{
	pr_err("%s: %s: %s%s%s%s\n", dev, step, uml_vfio_user_strerror(err),
	       hint ? " (" : "", hint ?: "", hint ? ")" : "");
}

/* Called with uml_vfio_mtx held. */
static int uml_vfio_get_container(const char *dev)
{
	int fd;

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

/* Called with uml_vfio_mtx held. */
static void uml_vfio_put_container(void)
{
	if (uml_vfio_container.users || uml_vfio_container.fd < 0)
		return;
	os_close_file(uml_vfio_container.fd);
	uml_vfio_container.fd = -1;
	uml_vfio_container.mapped = false;
}

/**
 * uml_vfio_attach_group() - add a group to the container
 * @dev: device name, for messages
 * @group: group fd
 *
 * The first group also selects the IOMMU. Called with uml_vfio_mtx held.
 *
 * Return: 0 or a negative errno, already reported.
 */
static int uml_vfio_attach_group(const char *dev, int group)
{
	int err;

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

/**
 * uml_vfio_map_memory() - map all of UML's memory for device DMA, once
 * @dev: device name, for messages
 *
 * Done when the first device has passed its checks, not when its group
 * joins: pinning and mapping all of UML's memory takes seconds for a large
 * mem=, and a device that is then rejected would waste them. Called with
 * uml_vfio_mtx held.
 *
 * Return: 0 or a negative errno, already reported.
 */
static int uml_vfio_map_memory(const char *dev)
{
	unsigned long long size = uml_vfio_user_dma_size() >> 20;
	char hint[96];
	int err;

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

/* Called with uml_vfio_mtx held. */
static void uml_vfio_detach_group(int group)
{
	uml_vfio_user_unset_container(uml_vfio_container.fd, group);
	uml_vfio_container.users--;
}

static void uml_vfio_no_group_hint(const char *dev, char *hint, size_t len)
{
	char driver[64];

	uml_vfio_user_get_driver(dev, driver, sizeof(driver));
	if (!driver[0])
		snprintf(hint, len, "not bound to any host driver: bind it to vfio-pci");
	else if (!strstr(driver, "vfio"))
		snprintf(hint, len, "bound to host driver %s, not vfio-pci", driver);
	else
		hint[0] = '\0';
}

/**
 * uml_vfio_get_group() - find or open the device's IOMMU group
 * @dev: device name
 *
 * Devices of one group share its fd. Called with uml_vfio_mtx held.
 *
 * Return: the group or an ERR_PTR, already reported.
 */
static struct uml_vfio_group *uml_vfio_get_group(const char *dev)
{
	struct uml_vfio_group *group;
	char step[40], hint[96];
	int id, fd, err;

	id = uml_vfio_user_get_group_id(dev);
	if (id < 0) {
		uml_vfio_fail(dev, "reading its IOMMU group", id,
			      id == -ENOENT ? "no IOMMU group: is the host IOMMU on?" : NULL);
		return ERR_PTR(id);
	}

	list_for_each_entry(group, &uml_vfio_groups, list) {
		if (group->id == id) {
			group->users++;
			return group;
		}
	}

	err = uml_vfio_get_container(dev);
	if (err)
		return ERR_PTR(err);

	snprintf(step, sizeof(step), "opening /dev/vfio/%d", id);
	fd = uml_vfio_user_open_group(id);
	if (fd < 0) {
		err = fd;
		if (err == -ENOENT)
			uml_vfio_no_group_hint(dev, hint, sizeof(hint));
		else if (err == -EACCES)
			snprintf(hint, sizeof(hint),
				 "no access: check owner and mode of /dev/vfio/%d", id);
		else if (err == -EBUSY)
			snprintf(hint, sizeof(hint), "group in use by another process");
		else
			hint[0] = '\0';
		uml_vfio_fail(dev, step, err, hint[0] ? hint : NULL);
		goto put_container;
	}

	err = uml_vfio_user_group_viable(fd);
	if (err <= 0) {
		if (!err) {
			pr_err("%s: IOMMU group %d is not viable (bind every device of /sys/kernel/iommu_groups/%d/devices to vfio-pci)\n",
			       dev, id, id);
			err = -EINVAL;
		} else {
			uml_vfio_fail(dev, "reading group status", err, NULL);
		}
		goto close_group;
	}

	err = uml_vfio_attach_group(dev, fd);
	if (err)
		goto close_group;

	group = kzalloc_obj(*group);
	if (!group) {
		err = -ENOMEM;
		uml_vfio_fail(dev, "allocating group", err, NULL);
		goto detach_group;
	}
	group->id = id;
	group->fd = fd;
	group->users = 1;
	list_add_tail(&group->list, &uml_vfio_groups);
	return group;

detach_group:
	uml_vfio_detach_group(fd);
close_group:
	os_close_file(fd);
put_container:
	uml_vfio_put_container();
	return ERR_PTR(err);
}

/* Called with uml_vfio_mtx held. */
static void uml_vfio_put_group(struct uml_vfio_group *group)
{
	if (--group->users)
		return;

	list_del(&group->list);
	uml_vfio_detach_group(group->fd);
	os_close_file(group->fd);
	kfree(group);
	uml_vfio_put_container();
}

static void uml_vfio_io_error(struct uml_vfio_device *dev, const char *what,
			      int region, unsigned int offset, int size,
			      int err)
{
	pr_err_ratelimited("%s: %s of %d bytes at region %d offset %#x failed: %s\n",
			   dev->name, what, size, region, offset,
			   uml_vfio_user_strerror(err));
}

static unsigned long uml_vfio_get_le(const u8 *data, int size)
{
	switch (size) {
	case 1:
		return data[0];
	case 2:
		return get_unaligned_le16(data);
	case 4:
		return get_unaligned_le32(data);
#ifdef CONFIG_64BIT
	case 8:
		return get_unaligned_le64(data);
#endif
	default:
		return ULONG_MAX;
	}
}

static void uml_vfio_put_le(u8 *data, int size, unsigned long val)
{
	switch (size) {
	case 1:
		data[0] = val;
		break;
	case 2:
		put_unaligned_le16(val, data);
		break;
	case 4:
		put_unaligned_le32(val, data);
		break;
#ifdef CONFIG_64BIT
	case 8:
		put_unaligned_le64(val, data);
		break;
#endif
	}
}

static unsigned long uml_vfio_region_read(struct uml_vfio_device *dev,
					  int region, unsigned int offset,
					  int size)
{
	u8 data[8];
	int err;

	err = uml_vfio_user_region_read(&dev->udev, region, offset, data, size);
	if (err) {
		uml_vfio_io_error(dev, "read", region, offset, size, err);
		return ULONG_MAX;
	}

	return uml_vfio_get_le(data, size);
}

static void uml_vfio_region_write(struct uml_vfio_device *dev, int region,
				  unsigned int offset, int size,
				  unsigned long val)
{
	u8 data[8];
	int err;

	uml_vfio_put_le(data, size, val);
	err = uml_vfio_user_region_write(&dev->udev, region, offset, data,
					 size);
	if (err)
		uml_vfio_io_error(dev, "write", region, offset, size, err);
}

/*
 * Host MSI-X is enabled when the device is set up and stays enabled until it
 * is released, every enabled vector with its eventfd. The guest's enable
 * bit, function mask, vector masks and messages are emulated here: drivers
 * flip them during probe (nvme enables MSI-X, disables it and enables it
 * again with more vectors once it knows its queues), and every host change
 * is a VFIO_DEVICE_SET_IRQS that reprograms host interrupts. Each enabled
 * vector costs the host an interrupt vector and devices offer many more
 * than their drivers use (65 for QEMU's nvme), so only enough for a queue
 * per CPU plus two (admin, config or "other" events) are enabled at first,
 * and more when the guest gives a message to a higher vector.
 */
static int uml_vfio_msix_first(struct uml_vfio_device *dev)
{
	return min_t(int, dev->msix_vectors, nr_cpu_ids + 2);
}

/**
 * uml_vfio_msix_arm() - have the host signal vectors [0, @need)
 * @dev: device, with dev->lock held or not yet registered
 * @need: number of vectors
 *
 * Grows host MSI-X in place where VFIO can add vectors to enabled MSI-X,
 * else (it reports NORESIZE) disables and enables it with the new count.
 * Only host syscalls: safe in atomic context.
 *
 * Return: 0 or a negative errno; on failure the enabled vectors are as
 * before where the host allows it.
 */
static int uml_vfio_msix_arm(struct uml_vfio_device *dev, int need)
{
	int have = dev->host_vectors, i, err = 0;

	if (need <= have)
		return 0;

	for (i = have; i < need && !err; i++)
		err = uml_vfio_user_activate_irq(&dev->udev, i);
	if (err)
		goto deactivate;

	if (have && dev->udev.irq_resizable) {
		err = uml_vfio_user_update_irqs(&dev->udev, have, need - have);
	} else {
		if (have)
			err = uml_vfio_user_disable_irqs(&dev->udev);
		if (!err)
			err = uml_vfio_user_update_irqs(&dev->udev, 0, need);
		if (err && have && uml_vfio_user_update_irqs(&dev->udev, 0, have))
			have = 0;
	}
	if (!err) {
		dev->host_vectors = need;
		return 0;
	}

deactivate:
	for (i = have; i < dev->msix_vectors; i++)
		uml_vfio_user_deactivate_irq(&dev->udev, i);
	dev->host_vectors = have;
	return err;
}

/* Called with dev->lock held, or with the device's IRQ freed. */
static void uml_vfio_msix_disarm(struct uml_vfio_device *dev)
{
	int i, err = 0;

	if (dev->host_vectors)
		err = uml_vfio_user_disable_irqs(&dev->udev);
	if (err)
		pr_err_ratelimited("%s: disabling MSI-X on the host: %s\n",
				   dev->name, uml_vfio_user_strerror(err));
	for (i = 0; i < dev->msix_vectors; i++) {
		uml_vfio_user_deactivate_irq(&dev->udev, i);
		dev->vec[i].pending = false;
	}
	dev->host_vectors = 0;
}

/* Re-deliver, through the eventfd, what arrived while masked. */
static void uml_vfio_msix_unmasked(struct uml_vfio_device *dev, int index)
{
	struct uml_vfio_vector *vec = &dev->vec[index];

	if (vec->masked || dev->msix_maskall || !vec->pending)
		return;
	vec->pending = false;
	uml_vfio_user_kick_irq(&dev->udev, index);
}

/*
 * Linux reads offset 0x100 of every device to size its config space; a
 * conventional PCI device has only 256 bytes, which reads as all-ones.
 */
static bool uml_vfio_cfgspace_beyond(struct uml_vfio_device *dev,
				     unsigned int offset, int size)
{
	return offset + size > dev->udev.region[UML_VFIO_CONFIG_REGION].size;
}

static unsigned long uml_vfio_cfgspace_read(struct um_pci_device *pdev,
					    unsigned int offset, int size)
{
	struct uml_vfio_device *dev = to_vdev(pdev);
	unsigned int hi = dev->msix_cap + PCI_MSIX_FLAGS + 1, shift;
	unsigned long val, ctl;

	if (uml_vfio_cfgspace_beyond(dev, offset, size))
		return ULONG_MAX;

	val = uml_vfio_region_read(dev, UML_VFIO_CONFIG_REGION, offset, size);

	/* The host's MSI-X is not the guest's: show what the guest wrote. */
	if (val != ULONG_MAX && hi >= offset && hi < offset + size) {
		shift = (hi - offset) * 8;
		ctl = (dev->msix_enabled ? PCI_MSIX_FLAGS_ENABLE >> 8 : 0) |
		      (dev->msix_maskall ? PCI_MSIX_FLAGS_MASKALL >> 8 : 0);
		val &= ~((unsigned long)(PCI_MSIX_FLAGS_ENABLE |
					 PCI_MSIX_FLAGS_MASKALL) >> 8 << shift);
		val |= ctl << shift;
	}
	return val;
}

static void uml_vfio_cfgspace_write(struct um_pci_device *pdev,
				    unsigned int offset, int size,
				    unsigned long val)
{
	struct uml_vfio_device *dev = to_vdev(pdev);
	/* ENABLE and MASKALL live in the high byte of Message Control. */
	unsigned int hi = dev->msix_cap + PCI_MSIX_FLAGS + 1;
	unsigned long flags;
	u8 ctl;
	int i;

	if (hi >= offset && hi < offset + size) {
		ctl = val >> ((hi - offset) * 8);

		raw_spin_lock_irqsave(&dev->lock, flags);
		dev->msix_enabled = ctl & (PCI_MSIX_FLAGS_ENABLE >> 8);
		dev->msix_maskall = ctl & (PCI_MSIX_FLAGS_MASKALL >> 8);
		for (i = 0; i < dev->msix_vectors; i++) {
			if (!dev->msix_enabled)
				dev->vec[i].pending = false;
			uml_vfio_msix_unmasked(dev, i);
		}
		raw_spin_unlock_irqrestore(&dev->lock, flags);
	}

	if (!uml_vfio_cfgspace_beyond(dev, offset, size))
		uml_vfio_region_write(dev, UML_VFIO_CONFIG_REGION, offset, size,
				      val);
}

static bool uml_vfio_in_msix_table(struct uml_vfio_device *dev, int bar,
				   unsigned int offset, int size)
{
	return bar == dev->msix_bar && offset >= dev->msix_offset &&
	       offset + size <= dev->msix_offset + dev->msix_size;
}

/*
 * Every BAR access is a hot path (doorbells, notifications, tail pointers),
 * and under emulation each call and return costs about as much as the
 * access itself: the mapped path below is inlined into the um_pci_ops.
 *
 * Accesses that touch the MSI-X table or PBA never use a BAR mapping, even
 * where the host allows one: the table is ours to emulate.
 */
static __always_inline bool uml_vfio_trapped(struct uml_vfio_device *dev,
					     int bar, unsigned int offset,
					     int size)
{
	return (bar == dev->msix_bar && offset < dev->msix_offset + dev->msix_size &&
		offset + size > dev->msix_offset) ||
	       (bar == dev->pba_bar && offset < dev->pba_offset + dev->pba_size &&
		offset + size > dev->pba_offset);
}

/* A guest write to the MSI-X table: update the shadow, act on changes. */
static void uml_vfio_msix_table_write(struct uml_vfio_device *dev,
				      unsigned int offset, int size,
				      unsigned long val)
{
	unsigned int first, last, i;
	unsigned long flags;
	u8 *entry;

	offset -= dev->msix_offset;
	first = offset / PCI_MSIX_ENTRY_SIZE;
	last = (offset + size - 1) / PCI_MSIX_ENTRY_SIZE;

	raw_spin_lock_irqsave(&dev->lock, flags);
	uml_vfio_put_le(dev->msix_table + offset, size, val);

	for (i = first; i <= last; i++) {
		struct uml_vfio_vector *vec;

		if (i >= dev->msix_vectors) {
			pr_err_ratelimited("%s: MSI-X table write to entry %u, but the host offers %d vectors\n",
					   dev->name, i, dev->msix_vectors);
			continue;
		}

		vec = &dev->vec[i];
		entry = dev->msix_table + i * PCI_MSIX_ENTRY_SIZE;
		vec->data = get_unaligned_le32(entry + PCI_MSIX_ENTRY_DATA);
		vec->masked = get_unaligned_le32(entry + PCI_MSIX_ENTRY_VECTOR_CTRL) &
			      PCI_MSIX_ENTRY_CTRL_MASKBIT;
		if (vec->data && i >= dev->host_vectors) {
			int err = uml_vfio_msix_arm(dev, i + 1);

			if (err)
				pr_err_ratelimited("%s: enabling MSI-X vector %u on the host: %s\n",
						   dev->name, i,
						   uml_vfio_user_strerror(err));
		}
		uml_vfio_msix_unmasked(dev, i);
	}
	raw_spin_unlock_irqrestore(&dev->lock, flags);
}

/* Where [offset, offset + size) of a BAR is mapped into UML, or NULL. */
static __always_inline void *uml_vfio_mapped(struct uml_vfio_device *dev,
					     int bar, unsigned int offset,
					     int size)
{
	const struct uml_vfio_user_region *r = &dev->udev.region[bar];
	int i;

	if (unlikely(uml_vfio_trapped(dev, bar, offset, size)))
		return NULL;

	for (i = 0; i < r->nr_maps; i++) {
		const struct uml_vfio_user_map *m = &r->maps[i];

		if (offset >= m->offset && offset + size <= m->offset + m->size)
			return m->addr + (offset - m->offset);
	}
	return NULL;
}

/*
 * One access of exactly the width the guest driver asked for: READ_ONCE()
 * and WRITE_ONCE() of a naturally sized value are single, untorn accesses.
 */
static __always_inline unsigned long uml_vfio_mmio_read(const void *p, int size)
{
	if (size == 4)
		return READ_ONCE(*(const u32 *)p);
	if (size == 2)
		return READ_ONCE(*(const u16 *)p);
	if (size == 1)
		return READ_ONCE(*(const u8 *)p);
	return READ_ONCE(*(const u64 *)p);
}

static __always_inline void uml_vfio_mmio_write(void *p, int size,
						unsigned long val)
{
	if (size == 4)
		WRITE_ONCE(*(u32 *)p, val);
	else if (size == 2)
		WRITE_ONCE(*(u16 *)p, val);
	else if (size == 1)
		WRITE_ONCE(*(u8 *)p, val);
	else
		WRITE_ONCE(*(u64 *)p, val);
}

/* Widest naturally aligned access that fits, as memcpy_fromio() does. */
static int uml_vfio_mmio_width(const void *p, int left)
{
	int w;

	for (w = sizeof(long); w > 1; w /= 2) {
		if (left >= w && IS_ALIGNED((unsigned long)p, w))
			return w;
	}
	return 1;
}

static __always_inline bool uml_vfio_mmio_size_ok(int size)
{
	return size == 1 || size == 2 || size == 4 || size == sizeof(long);
}

static __always_inline unsigned long
__uml_vfio_bar_read(struct uml_vfio_device *dev, int bar, unsigned int offset,
		    int size)
{
	void *p = uml_vfio_mapped(dev, bar, offset, size);

	if (likely(p && uml_vfio_mmio_size_ok(size)))
		return uml_vfio_mmio_read(p, size);

	if (uml_vfio_in_msix_table(dev, bar, offset, size))
		return uml_vfio_get_le(dev->msix_table + offset -
				       dev->msix_offset, size);

	return uml_vfio_region_read(dev, bar, offset, size);
}

static __always_inline void __uml_vfio_bar_write(struct uml_vfio_device *dev,
						 int bar, unsigned int offset,
						 int size, unsigned long val)
{
	void *p = uml_vfio_mapped(dev, bar, offset, size);

	if (likely(p && uml_vfio_mmio_size_ok(size))) {
		uml_vfio_mmio_write(p, size, val);
		return;
	}

	if (uml_vfio_in_msix_table(dev, bar, offset, size)) {
		uml_vfio_msix_table_write(dev, offset, size, val);
		return;
	}

	uml_vfio_region_write(dev, bar, offset, size, val);
}

static unsigned long uml_vfio_bar_read(struct um_pci_device *pdev, int bar,
				       unsigned int offset, int size)
{
	return __uml_vfio_bar_read(to_vdev(pdev), bar, offset, size);
}

static void uml_vfio_bar_write(struct um_pci_device *pdev, int bar,
			       unsigned int offset, int size, unsigned long val)
{
	__uml_vfio_bar_write(to_vdev(pdev), bar, offset, size, val);
}

/* UML hosts are little-endian: the low w bytes of a value are its data. */
static void uml_vfio_bar_copy_from(struct um_pci_device *pdev, int bar,
				   void *buffer, unsigned int offset, int size)
{
	struct uml_vfio_device *dev = to_vdev(pdev);
	u8 *p = uml_vfio_mapped(dev, bar, offset, size);
	u8 *b = buffer;
	unsigned long v;
	int err, w;

	if (p) {
		for (; size > 0; p += w, b += w, size -= w) {
			w = uml_vfio_mmio_width(p, size);
			v = uml_vfio_mmio_read(p, w);
			memcpy(b, &v, w);
		}
		return;
	}

	err = uml_vfio_user_region_read(&dev->udev, bar, offset, buffer, size);
	if (err) {
		memset(buffer, 0xff, size);
		uml_vfio_io_error(dev, "read", bar, offset, size, err);
	}
}

static void uml_vfio_bar_copy_to(struct um_pci_device *pdev, int bar,
				 unsigned int offset, const void *buffer,
				 int size)
{
	struct uml_vfio_device *dev = to_vdev(pdev);
	u8 *p = uml_vfio_mapped(dev, bar, offset, size);
	const u8 *b = buffer;
	unsigned long v = 0;
	int err, w;

	if (p) {
		for (; size > 0; p += w, b += w, size -= w) {
			w = uml_vfio_mmio_width(p, size);
			memcpy(&v, b, w);
			uml_vfio_mmio_write(p, w, v);
		}
		return;
	}

	err = uml_vfio_user_region_write(&dev->udev, bar, offset, buffer, size);
	if (err)
		uml_vfio_io_error(dev, "write", bar, offset, size, err);
}

static void uml_vfio_bar_set(struct um_pci_device *pdev, int bar,
			     unsigned int offset, u8 value, int size)
{
	struct uml_vfio_device *dev = to_vdev(pdev);
	u8 *p = uml_vfio_mapped(dev, bar, offset, size);
	unsigned long v = value * (ULONG_MAX / 0xff);
	u8 buf[256];
	int n, w;

	if (p) {
		for (; size > 0; p += w, size -= w) {
			w = uml_vfio_mmio_width(p, size);
			uml_vfio_mmio_write(p, w, v);
		}
		return;
	}

	memset(buf, value, min_t(int, size, sizeof(buf)));
	while (size > 0) {
		n = min_t(int, size, sizeof(buf));
		uml_vfio_bar_copy_to(pdev, bar, offset, buf, n);
		offset += n;
		size -= n;
	}
}

static const struct um_pci_ops uml_vfio_um_pci_ops = {
	.cfgspace_read = uml_vfio_cfgspace_read,
	.cfgspace_write = uml_vfio_cfgspace_write,
	.bar_read = uml_vfio_bar_read,
	.bar_write = uml_vfio_bar_write,
	.bar_copy_from = uml_vfio_bar_copy_from,
	.bar_copy_to = uml_vfio_bar_copy_to,
	.bar_set = uml_vfio_bar_set,
};

/*
 * With BAR mapping on, logic_iomem calls these directly (virt-pci's
 * bar_ops) for accesses outside the window that uml_vfio_iomem_direct()
 * gives it: one call per readl() instead of three, which under emulation
 * is most of an access's cost. The um_pci_ops above stay the path for
 * vfio_uml.mmap=0, as in the RFC.
 */
static unsigned long uml_vfio_iomem_read(void *priv, unsigned int offset,
					 int size)
{
	int bar;
	struct um_pci_device *pdev = um_pci_bar_priv(priv, &bar);

	return __uml_vfio_bar_read(to_vdev(pdev), bar, offset, size);
}

static void uml_vfio_iomem_write(void *priv, unsigned int offset, int size,
				 unsigned long val)
{
	int bar;
	struct um_pci_device *pdev = um_pci_bar_priv(priv, &bar);

	__uml_vfio_bar_write(to_vdev(pdev), bar, offset, size, val);
}

static void uml_vfio_iomem_set(void *priv, unsigned int offset, u8 value,
			       int size)
{
	int bar;
	struct um_pci_device *pdev = um_pci_bar_priv(priv, &bar);

	uml_vfio_bar_set(pdev, bar, offset, value, size);
}

static void uml_vfio_iomem_copy_from(void *priv, void *buffer,
				     unsigned int offset, int size)
{
	int bar;
	struct um_pci_device *pdev = um_pci_bar_priv(priv, &bar);

	uml_vfio_bar_copy_from(pdev, bar, buffer, offset, size);
}

static void uml_vfio_iomem_copy_to(void *priv, unsigned int offset,
				   const void *buffer, int size)
{
	int bar;
	struct um_pci_device *pdev = um_pci_bar_priv(priv, &bar);

	uml_vfio_bar_copy_to(pdev, bar, offset, buffer, size);
}

/* Keeps [s, e) as the best window if it is longer than the one so far. */
static bool uml_vfio_direct_best(unsigned long long s, unsigned long long e,
				 unsigned long long *best_s,
				 unsigned long long *best_e)
{
	if (e <= s || e - s <= *best_e - *best_s)
		return false;
	*best_s = s;
	*best_e = e;
	return true;
}

/**
 * uml_vfio_iomem_direct() - the window logic_iomem may access directly
 * @priv: the BAR's bar_ops priv
 * @start: where to store the window's first offset in the BAR
 * @end: where to store the offset just past the window
 *
 * The largest piece of the BAR's mappings that holds neither the MSI-X
 * table nor the PBA. Within it readX()/writeX() are a single load or store
 * of their width, inlined in the guest driver, with no call at all: most
 * registers and all doorbells of the devices we know sit in one such
 * piece. Accesses elsewhere still come to uml_vfio_iomem_read() and
 * uml_vfio_iomem_write().
 *
 * Return: the address of offset *@start, or NULL for no window.
 */
static void *uml_vfio_iomem_direct(void *priv, unsigned int *start,
				   unsigned int *end)
{
	int bar;
	struct uml_vfio_device *dev = to_vdev(um_pci_bar_priv(priv, &bar));
	const struct uml_vfio_user_region *r = &dev->udev.region[bar];
	unsigned long long hole_s[2], hole_e[2], s, e, cur;
	unsigned long long best_s = 0, best_e = 0;
	void *best = NULL;
	int i, j, holes = 0;

	if (!uml_vfio_direct)
		return NULL;

	if (bar == dev->msix_bar) {
		hole_s[holes] = dev->msix_offset;
		hole_e[holes++] = dev->msix_offset + dev->msix_size;
	}
	if (bar == dev->pba_bar) {
		hole_s[holes] = dev->pba_offset;
		hole_e[holes++] = dev->pba_offset + dev->pba_size;
	}
	if (holes == 2 && hole_s[1] < hole_s[0]) {
		swap(hole_s[0], hole_s[1]);
		swap(hole_e[0], hole_e[1]);
	}

	for (i = 0; i < r->nr_maps; i++) {
		const struct uml_vfio_user_map *m = &r->maps[i];
		bool found = false;

		s = m->offset;
		e = min(m->offset + m->size, (unsigned long long)UINT_MAX);
		cur = s;
		for (j = 0; j < holes; j++) {
			if (hole_e[j] <= cur || hole_s[j] >= e)
				continue;
			found |= uml_vfio_direct_best(cur, hole_s[j], &best_s, &best_e);
			cur = max(cur, hole_e[j]);
		}
		found |= uml_vfio_direct_best(cur, e, &best_s, &best_e);
		if (found)
			best = m->addr + (best_s - m->offset);
	}

	if (best)
		pr_debug("%s: BAR %d: direct window [%#llx, %#llx)\n",
			 dev->name, bar, best_s, best_e);
	*start = best_s;
	*end = best_e;
	return best;
}

static const struct logic_iomem_ops uml_vfio_bar_ops = {
	.read = uml_vfio_iomem_read,
	.write = uml_vfio_iomem_write,
	.set = uml_vfio_iomem_set,
	.copy_from = uml_vfio_iomem_copy_from,
	.copy_to = uml_vfio_iomem_copy_to,
	.direct = uml_vfio_iomem_direct,
};

static void uml_vfio_request(struct uml_vfio_device *dev)
{
	unsigned long flags;
	bool first;

	raw_spin_lock_irqsave(&dev->lock, flags);
	first = !dev->released;
	dev->released = true;
	raw_spin_unlock_irqrestore(&dev->lock, flags);

	if (first)
		schedule_work(&dev->release_work);
}

/**
 * uml_vfio_interrupt() - demultiplex the device's vector eventfds
 * @irq: UML IRQ of the device's epoll fd
 * @opaque: the device
 *
 * Each vector that fired is handed to the UML IRQ its MSI-X message names,
 * unless it is masked, in which case it stays pending until unmasked, or
 * the guest has MSI-X disabled, in which case it is dropped.
 *
 * Return: IRQ_HANDLED.
 */
static irqreturn_t uml_vfio_interrupt(int irq, void *opaque)
{
	struct uml_vfio_device *dev = opaque;
	int fired[16], target[16], n, i;
	unsigned long flags;

	for (;;) {
		raw_spin_lock_irqsave(&dev->lock, flags);
		n = uml_vfio_user_poll_irqs(&dev->udev, fired, ARRAY_SIZE(fired));
		for (i = 0; i < n; i++) {
			struct uml_vfio_vector *vec;

			target[i] = 0;
			/* With MSI-X off, the device would have sent nothing. */
			if (fired[i] == UML_VFIO_REQUEST || !dev->msix_enabled)
				continue;
			vec = &dev->vec[fired[i]];
			if (vec->masked || dev->msix_maskall)
				vec->pending = !!vec->data;
			else
				target[i] = vec->data;
		}
		raw_spin_unlock_irqrestore(&dev->lock, flags);
		if (n <= 0)
			break;

		for (i = 0; i < n; i++) {
			if (fired[i] == UML_VFIO_REQUEST)
				uml_vfio_request(dev);
			else if (target[i] && generic_handle_irq(target[i]))
				pr_err_ratelimited("%s: MSI-X vector %d names IRQ %d, which has no handler\n",
						   dev->name, fired[i], target[i]);
		}
		/* Later interrupts raise the IRQ again: no need to poll. */
		if (n < ARRAY_SIZE(fired))
			break;
	}

	if (n < 0)
		pr_err_ratelimited("%s: polling MSI-X eventfds: %s\n", dev->name,
				   uml_vfio_user_strerror(n));

	return IRQ_HANDLED;
}

static int uml_vfio_find_capability(struct uml_vfio_device *dev, u8 cap)
{
	int ttl = 48;
	u16 ent;
	u8 pos;

	if (!(uml_vfio_region_read(dev, UML_VFIO_CONFIG_REGION, PCI_STATUS, 2) &
	      PCI_STATUS_CAP_LIST))
		return 0;

	pos = uml_vfio_region_read(dev, UML_VFIO_CONFIG_REGION,
				   PCI_CAPABILITY_LIST, 1);
	while (pos >= PCI_STD_HEADER_SIZEOF && ttl--) {
		ent = uml_vfio_region_read(dev, UML_VFIO_CONFIG_REGION,
					   pos & ~3, 2);
		if ((ent & 0xff) == 0xff)
			break;
		if ((ent & 0xff) == cap)
			return pos & ~3;
		pos = ent >> 8;
	}

	return 0;
}

/* Return: 0, or a negative errno after reporting it. */
static int uml_vfio_setup_msix(struct uml_vfio_device *dev)
{
	unsigned int table, pba, qsize, i;
	int pos;

	pos = uml_vfio_find_capability(dev, PCI_CAP_ID_MSIX);
	if (!pos) {
		pr_err("%s: no MSI-X capability (only MSI-X devices are supported for now)\n",
		       dev->name);
		return -EOPNOTSUPP;
	}

	table = uml_vfio_region_read(dev, UML_VFIO_CONFIG_REGION,
				     pos + PCI_MSIX_TABLE, 4);
	pba = uml_vfio_region_read(dev, UML_VFIO_CONFIG_REGION,
				   pos + PCI_MSIX_PBA, 4);
	qsize = (uml_vfio_region_read(dev, UML_VFIO_CONFIG_REGION,
				      pos + PCI_MSIX_FLAGS, 2) &
		 PCI_MSIX_FLAGS_QSIZE) + 1;

	dev->msix_cap = pos;
	dev->msix_bar = table & PCI_MSIX_TABLE_BIR;
	dev->msix_offset = table & PCI_MSIX_TABLE_OFFSET;
	dev->msix_size = qsize * PCI_MSIX_ENTRY_SIZE;
	dev->pba_bar = pba & PCI_MSIX_PBA_BIR;
	dev->pba_offset = pba & PCI_MSIX_PBA_OFFSET;
	dev->pba_size = DIV_ROUND_UP(qsize, 64) * 8;
	dev->msix_vectors = min_t(int, qsize, dev->udev.irq_count);
	if (!dev->msix_vectors) {
		pr_err("%s: the host offers no MSI-X vectors for it\n",
		       dev->name);
		return -EOPNOTSUPP;
	}

	dev->msix_table = kzalloc(dev->msix_size, GFP_KERNEL);
	dev->vec = kzalloc_objs(*dev->vec, dev->msix_vectors);
	if (!dev->msix_table || !dev->vec) {
		kfree(dev->msix_table);
		kfree(dev->vec);
		uml_vfio_fail(dev->name, "allocating MSI-X state", -ENOMEM, NULL);
		return -ENOMEM;
	}

	/* Vectors come out of reset masked. */
	for (i = 0; i < qsize; i++)
		put_unaligned_le32(PCI_MSIX_ENTRY_CTRL_MASKBIT,
				   dev->msix_table + i * PCI_MSIX_ENTRY_SIZE +
				   PCI_MSIX_ENTRY_VECTOR_CTRL);
	for (i = 0; i < dev->msix_vectors; i++)
		dev->vec[i].masked = true;

	return 0;
}

static void uml_vfio_free_msix(struct uml_vfio_device *dev)
{
	kfree(dev->vec);
	kfree(dev->msix_table);
}

/* Devices registered with virt-pci, to explain its limit when hit. */
static int uml_vfio_registered;

/**
 * uml_vfio_open_device() - set a device up and register it with virt-pci
 * @dev: device, with its name set
 *
 * Called with uml_vfio_mtx held. Every failure is reported in one line that
 * names the device and the failing step.
 *
 * Return: 0 or a negative errno.
 */
static int uml_vfio_open_device(struct uml_vfio_device *dev)
{
	static bool sigio_started;
	const char *step;
	int err;

	err = uml_vfio_user_device_exists(dev->name);
	if (err) {
		pr_err("%s: no such PCI device on the host\n", dev->name);
		return err;
	}

	dev->group = uml_vfio_get_group(dev->name);
	if (IS_ERR(dev->group))
		return PTR_ERR(dev->group);

	err = uml_vfio_user_setup_device(&dev->udev, dev->group->fd, dev->name,
					 &step);
	if (err) {
		uml_vfio_fail(dev->name, step, err, NULL);
		goto put_group;
	}

	err = uml_vfio_setup_msix(dev);
	if (err)
		goto teardown_udev;

	err = uml_vfio_map_memory(dev->name);
	if (err)
		goto free_msix;

	if (uml_vfio_mmap) {
		err = uml_vfio_user_map_bars(&dev->udev);
		if (err)
			pr_warn("%s: mapping BARs: %s (unmapped parts use pread/pwrite)\n",
				dev->name, uml_vfio_user_strerror(err));
	}

	/*
	 * Vectors that fire before the IRQ is requested are not lost: the
	 * epoll fd stays ready, and the IRQ fires once it is requested.
	 */
	err = uml_vfio_msix_arm(dev, uml_vfio_msix_first(dev));
	if (err) {
		uml_vfio_fail(dev->name, "enabling MSI-X on the host", err,
			      err == -ENOSPC ?
			      "the host has no free interrupt vectors" : NULL);
		goto free_msix;
	}

	/* eventfds and epoll fds do not raise SIGIO: use the helper thread. */
	if (!sigio_started) {
		sigio_broken();
		sigio_started = true;
	}

	/*
	 * The helper's watch goes first: an fd's waiters are woken newest
	 * first, so an idle UML, waiting on its IRQ epoll fd, is woken
	 * before the helper thread, whose SIGIO it then does not need.
	 */
	err = add_sigio_fd(dev->udev.epoll);
	if (err) {
		uml_vfio_fail(dev->name, "adding SIGIO fd", err, NULL);
		goto disarm;
	}

	dev->irq = um_request_irq(UM_IRQ_ALLOC, dev->udev.epoll, IRQ_READ,
				  uml_vfio_interrupt, 0, "vfio-uml", dev);
	if (dev->irq < 0) {
		err = dev->irq;
		uml_vfio_fail(dev->name, "requesting UML IRQ", err, NULL);
		goto ignore_sigio;
	}

	dev->pdev.ops = &uml_vfio_um_pci_ops;
	if (uml_vfio_mmap)
		dev->pdev.bar_ops = &uml_vfio_bar_ops;
	err = um_pci_device_register(&dev->pdev);
	if (err) {
		if (err == -ENOSPC)
			pr_err("%s: registering with virt-pci: no free slot (virt-pci holds no more than the %d devices already registered)\n",
			       dev->name, uml_vfio_registered);
		else
			uml_vfio_fail(dev->name, "registering with virt-pci",
				      err, NULL);
		goto free_irq;
	}

	uml_vfio_registered++;
	return 0;

free_irq:
	um_free_irq(dev->irq, dev);
ignore_sigio:
	ignore_sigio_fd(dev->udev.epoll);
disarm:
	uml_vfio_msix_disarm(dev);
free_msix:
	uml_vfio_free_msix(dev);
teardown_udev:
	uml_vfio_user_teardown_device(&dev->udev);
put_group:
	uml_vfio_put_group(dev->group);
	return err;
}

/**
 * uml_vfio_release_work() - give a device back to the host
 * @work: the device's release_work
 *
 * VFIO asks through the request eventfd, e.g. when the host unbinds the
 * device from vfio-pci, and repeats until the device is closed. The guest
 * driver is removed first, then the device is released on the host, which
 * lets the host's unbind complete. UML keeps running without it.
 */
static void uml_vfio_release_work(struct work_struct *work)
{
	struct uml_vfio_device *dev = container_of(work, struct uml_vfio_device,
						   release_work);
	unsigned long flags;

	pr_info("%s: the host asks for the device back: releasing it\n",
		dev->name);
	um_pci_device_unregister(&dev->pdev);

	guard(mutex)(&uml_vfio_mtx);
	list_del(&dev->list);
	uml_vfio_registered--;
	ignore_sigio_fd(dev->udev.epoll);
	um_free_irq(dev->irq, dev);

	raw_spin_lock_irqsave(&dev->lock, flags);
	dev->msix_enabled = false;
	uml_vfio_msix_disarm(dev);
	raw_spin_unlock_irqrestore(&dev->lock, flags);

	uml_vfio_free_msix(dev);
	uml_vfio_user_teardown_device(&dev->udev);
	uml_vfio_put_group(dev->group);
	kfree(dev);
}

/**
 * uml_vfio_parse_addr() - validate and normalise a PCI address
 * @s: "DDDD:BB:SS.F" or "BB:SS.F" (domain 0000), hexadecimal
 * @name: the address as sysfs spells it, on success
 *
 * Return: NULL on success, else why @s was rejected.
 */
static const char *uml_vfio_parse_addr(const char *s, char *name)
{
	unsigned int field[4] = { 0 }, max[4] = { 0xffffffff, 0xff, 0x1f, 0x7 };
	static const char * const what[4] = { "domain", "bus", "slot", "function" };
	static const char sep[4] = { ':', ':', '.', '\0' };
	int colons = 0, i, first, digits;
	const char *p;

	for (p = s; *p; p++)
		colons += *p == ':';
	if (colons < 1 || colons > 2)
		return "expected DDDD:BB:SS.F";

	first = colons == 2 ? 0 : 1;
	for (p = s, i = first; i < 4; i++) {
		u64 v = 0;

		for (digits = 0; isxdigit(*p); p++, digits++) {
			v = v * 16 + hex_to_bin(*p);
			if (v > 0xffffffffULL)
				break;
		}
		if (!digits || *p != sep[i])
			return "expected DDDD:BB:SS.F (hexadecimal)";
		if (v > max[i]) {
			pr_err("%s: %s %#llx out of range (0-%#x)\n", s, what[i],
			       v, max[i]);
			return "";
		}
		field[i] = v;
		if (*p)
			p++;
	}

	snprintf(name, UML_VFIO_NAME_LEN, "%04x:%02x:%02x.%x", field[0],
		 field[1], field[2], field[3]);
	return NULL;
}

/* Return: the new device, or NULL after saying why @arg is not used. */
static struct uml_vfio_device * __init uml_vfio_new_device(const char *arg)
{
	char name[UML_VFIO_NAME_LEN];
	struct uml_vfio_device *dev;
	const char *why;

	if (!*arg) {
		pr_err("vfio_uml.device= given without an address; expected DDDD:BB:SS.F\n");
		return NULL;
	}

	why = uml_vfio_parse_addr(arg, name);
	if (why) {
		if (*why)
			pr_err("%s: invalid device address: %s\n", arg, why);
		return NULL;
	}

	list_for_each_entry(dev, &uml_vfio_devices, list) {
		if (!strcmp(dev->name, name)) {
			pr_err("%s: given more than once; using it once\n",
			       name);
			return NULL;
		}
	}

	dev = kzalloc_obj(*dev);
	if (!dev) {
		uml_vfio_fail(name, "allocating device", -ENOMEM, NULL);
		return NULL;
	}
	strscpy(dev->name, name);
	raw_spin_lock_init(&dev->lock);
	INIT_WORK(&dev->release_work, uml_vfio_release_work);
	return dev;
}

/*
 * Only called while the boot command line is parsed (the parameter is not
 * writable at run time), hence __ref for the __initdata it fills.
 */
static int __ref uml_vfio_cmdline_set(const char *val,
				      const struct kernel_param *kp)
{
	size_t len = val ? strlen(val) + 1 : 1;

	if (uml_vfio_args_len + len > sizeof(uml_vfio_args)) {
		uml_vfio_args_truncated = true;
		return 0;
	}
	if (val)
		memcpy(uml_vfio_args + uml_vfio_args_len, val, len);
	else
		uml_vfio_args[uml_vfio_args_len] = '\0';
	uml_vfio_args_len += len;
	return 0;
}

/* Lists the devices that were set up. */
static int uml_vfio_cmdline_get(char *buffer, const struct kernel_param *kp)
{
	struct uml_vfio_device *dev;
	int n = 0;

	guard(mutex)(&uml_vfio_mtx);
	list_for_each_entry(dev, &uml_vfio_devices, list)
		n += sysfs_emit_at(buffer, n, "%s%s", n ? "," : "", dev->name);
	n += sysfs_emit_at(buffer, n, "\n");
	return n;
}

static const struct kernel_param_ops uml_vfio_cmdline_param_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = uml_vfio_cmdline_set,
	.get = uml_vfio_cmdline_get,
};

device_param_cb(device, &uml_vfio_cmdline_param_ops, NULL, 0400);
__uml_help(uml_vfio_cmdline_param_ops,
	   "vfio_uml.device=<domain:bus:slot.function>\n"
	   "    Pass a host PCI device, bound to vfio-pci, through to UML via VFIO.\n"
	   "    The domain may be left out (bus:slot.function means domain 0000).\n"
	   "    Repeat the parameter to pass more devices. Only MSI-X capable\n"
	   "    devices are supported for now, and their drivers must use MSI-X.\n"
	   "    vfio_uml.mmap=0 turns off mapping BARs into UML: every BAR\n"
	   "    access is then a pread/pwrite on the device.\n"
	   "    vfio_uml.direct=0 keeps the mappings but makes every readl()/\n"
	   "    writel() call the driver instead of accessing them inline.\n\n");

static int __init uml_vfio_mapped_areas(struct uml_vfio_device *dev)
{
	int i, n = 0;

	for (i = 0; i < UML_VFIO_NUM_BARS; i++)
		n += dev->udev.region[i].nr_maps;
	return n;
}

static int __init uml_vfio_init(void)
{
	struct uml_vfio_device *dev, *next;
	size_t pos;

	if (uml_vfio_args_truncated)
		pr_err("too many vfio_uml.device= parameters; ignoring the last ones\n");

	guard(mutex)(&uml_vfio_mtx);

	/* All of them first, so that duplicates of failed ones are caught. */
	for (pos = 0; pos < uml_vfio_args_len;
	     pos += strlen(uml_vfio_args + pos) + 1) {
		dev = uml_vfio_new_device(uml_vfio_args + pos);
		if (dev)
			list_add_tail(&dev->list, &uml_vfio_devices);
	}

	list_for_each_entry_safe(dev, next, &uml_vfio_devices, list) {
		if (uml_vfio_open_device(dev)) {
			list_del(&dev->list);
			kfree(dev);
			continue;
		}
		pr_info("%s: passed through (IOMMU group %d, %d MSI-X vectors, %d BAR areas mapped)\n",
			dev->name, dev->group->id, dev->msix_vectors,
			uml_vfio_mapped_areas(dev));
	}

	return 0;
}
late_initcall(uml_vfio_init);

/*
 * Built-in code has no module_exit: this runs as UML exits and releases
 * the host side only, since the kernel is going away around it. As in
 * uml_vfio_release_work(), the IRQ goes first, so that no interrupt runs
 * on a half-released device.
 */
static void uml_vfio_exit(void)
{
	struct uml_vfio_device *dev;
	struct uml_vfio_group *group;

	list_for_each_entry(dev, &uml_vfio_devices, list) {
		ignore_sigio_fd(dev->udev.epoll);
		um_free_irq(dev->irq, dev);
		uml_vfio_msix_disarm(dev);
		uml_vfio_user_teardown_device(&dev->udev);
	}

	list_for_each_entry(group, &uml_vfio_groups, list) {
		uml_vfio_user_unset_container(uml_vfio_container.fd, group->fd);
		os_close_file(group->fd);
	}

	if (uml_vfio_container.fd >= 0)
		os_close_file(uml_vfio_container.fd);
}

__uml_exitcall(uml_vfio_exit);
