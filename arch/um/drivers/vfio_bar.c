// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO-based virtual PCI driver: config space and BAR accesses, as virt-pci's
 * um_pci_ops and, with BARs mapped, as logic_iomem's ops for each BAR.
 */
#define pr_fmt(fmt) "vfio_uml: " fmt

#include <linux/compiler.h>
#include <linux/limits.h>
#include <linux/logic_iomem.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "vfio_kern.h"

/* Map BARs into UML (vfio_uml.mmap=0 keeps every access on pread/pwrite). */
bool uml_vfio_mmap = true;
module_param_named(mmap, uml_vfio_mmap, bool, 0444);
MODULE_PARM_DESC(mmap, "Map BARs with mmap (default) instead of pread/pwrite per access");

/* Hand logic_iomem direct windows (vfio_uml.direct=0: every access calls us). */
static bool uml_vfio_direct = true;
module_param_named(direct, uml_vfio_direct, bool, 0444);
MODULE_PARM_DESC(direct, "Access mapped BARs inline in the guest driver (default) instead of calling the driver");

static void uml_vfio_io_error(struct uml_vfio_device *dev, const char *what,
			      int region, unsigned int offset, int size,
			      int err)
{
	pr_err_ratelimited("%s: %s of %d bytes at region %d offset %#x failed: %s\n",
			   dev->name, what, size, region, offset,
			   uml_vfio_user_strerror(err));
}

unsigned long uml_vfio_get_le(const u8 *data, int size)
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

void uml_vfio_put_le(u8 *data, int size, unsigned long val)
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

unsigned long uml_vfio_region_read(struct uml_vfio_device *dev, int region,
				   unsigned int offset, int size)
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

void uml_vfio_region_write(struct uml_vfio_device *dev, int region,
			   unsigned int offset, int size, unsigned long val)
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
	unsigned long val;

	if (uml_vfio_cfgspace_beyond(dev, offset, size))
		return ULONG_MAX;

	val = uml_vfio_region_read(dev, UML_VFIO_CONFIG_REGION, offset, size);
	if (val == ULONG_MAX)
		return val;
	return uml_vfio_intr_cfg_read(dev, offset, size, val);
}

static void uml_vfio_cfgspace_write(struct um_pci_device *pdev,
				    unsigned int offset, int size,
				    unsigned long val)
{
	struct uml_vfio_device *dev = to_vdev(pdev);

	if (uml_vfio_intr_cfg_write(dev, offset, size, val))
		return;

	if (!uml_vfio_cfgspace_beyond(dev, offset, size))
		uml_vfio_region_write(dev, UML_VFIO_CONFIG_REGION, offset, size,
				      val);
}

/*
 * Every BAR access is a hot path (doorbells, notifications, tail pointers),
 * and under emulation each call and return costs about as much as the
 * access itself: the mapped path below is inlined into the um_pci_ops.
 *
 * Accesses that touch the MSI-X table or PBA never use a BAR mapping, even
 * where the host allows one: the table is ours to emulate.
 */
/* Where [offset, offset + size) of a BAR is mapped into UML, or NULL. */
static __always_inline void *uml_vfio_mapped(struct uml_vfio_device *dev,
					     int bar, unsigned int offset,
					     int size)
{
	const struct uml_vfio_user_region *r = &dev->udev.region[bar];
	int i;

	if (unlikely(uml_vfio_msix_trapped(dev, bar, offset, size)))
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

/* Widest naturally aligned access at @offset that fits in @left bytes. */
static int uml_vfio_io_width(unsigned int offset, int left)
{
	int w;

	for (w = sizeof(long); w > 1; w /= 2) {
		if (left >= w && IS_ALIGNED(offset, w))
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

	if (uml_vfio_msix_trapped(dev, bar, offset, size))
		return uml_vfio_msix_read(dev, bar, offset, size);

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

	if (uml_vfio_msix_trapped(dev, bar, offset, size)) {
		uml_vfio_msix_write(dev, bar, offset, size, val);
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

	/* memcpy_fromio() of the MSI-X table or PBA: the emulated view. */
	if (uml_vfio_msix_trapped(dev, bar, offset, size)) {
		for (; size > 0; offset += w, b += w, size -= w) {
			w = uml_vfio_io_width(offset, size);
			v = __uml_vfio_bar_read(dev, bar, offset, w);
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

	/*
	 * memcpy_toio() to the MSI-X table: through the shadow, in the
	 * accesses the guest would make, lowest address first (an entry's
	 * vector control, which may unmask it, comes after its message).
	 */
	if (uml_vfio_msix_trapped(dev, bar, offset, size)) {
		for (; size > 0; offset += w, b += w, size -= w) {
			w = uml_vfio_io_width(offset, size);
			memcpy(&v, b, w);
			__uml_vfio_bar_write(dev, bar, offset, w, v);
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

	/* memset_io() of the MSI-X table: through the shadow, as above. */
	if (uml_vfio_msix_trapped(dev, bar, offset, size)) {
		for (; size > 0; offset += w, size -= w) {
			w = uml_vfio_io_width(offset, size);
			__uml_vfio_bar_write(dev, bar, offset, w, v);
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

const struct um_pci_ops uml_vfio_um_pci_ops = {
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

	if (bar == dev->msix.bar) {
		hole_s[holes] = dev->msix.offset;
		hole_e[holes++] = dev->msix.offset + dev->msix.size;
	}
	if (bar == dev->msix.pba_bar) {
		hole_s[holes] = dev->msix.pba_offset;
		hole_e[holes++] = dev->msix.pba_offset + dev->msix.pba_size;
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

const struct logic_iomem_ops uml_vfio_bar_ops = {
	.read = uml_vfio_iomem_read,
	.write = uml_vfio_iomem_write,
	.set = uml_vfio_iomem_set,
	.copy_from = uml_vfio_iomem_copy_from,
	.copy_to = uml_vfio_iomem_copy_to,
	.direct = uml_vfio_iomem_direct,
};
