// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO-based virtual PCI driver: the VFIO container that all devices'
 * groups share, with the type1 IOMMU, and the devices' DMA: their
 * dma_map_ops map UML memory into the container's IOVA space, only inside
 * the IOVA ranges the host allows and outside its PCI devices' memory
 * ranges, and below each device's DMA mask.
 *
 * vfio_uml.dma= picks how:
 * - ondemand (the default): UML memory is mapped in chunks (256 KiB or
 *   more) the first time a device maps a buffer in one, and stays mapped;
 *   after that, mapping a buffer in the chunk is a table lookup. A chunk's
 *   IOVA follows from its address, in a window of IOVAs as large as UML
 *   memory, so chunks mapped at different times are still neighbours in
 *   IOVA space. Boot time and pinned memory follow what the devices use,
 *   not mem=.
 * - eager: all of UML memory is mapped when the first device is set up,
 *   at IOVA == UML physical address. Chunks whose addresses the host
 *   reserves or its PCI devices use are left out there and mapped on
 *   demand at other IOVAs.
 * - strict: each dma_map_*() gets a mapping of its own, with the access
 *   its direction allows, and its dma_unmap_*() removes it before it
 *   returns: a device access after the unmap, or to memory never mapped,
 *   is stopped by the host IOMMU.
 * A buffer that its chunk's IOVA cannot serve (above the device's DMA
 * mask, or across two chunks mapped apart) gets a mapping of its own, as
 * in strict mode.
 */
#define pr_fmt(fmt) "vfio_uml: " fmt

#include <linux/dma-map-ops.h>
#include <linux/iova.h>
#include <linux/lockdep.h>
#include <linux/memblock.h>
#include <linux/moduleparam.h>
#include <linux/pfn.h>
#include <linux/printk.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/xarray.h>
#include <os.h>

#include "vfio_kern.h"

/* One container for all devices, opened with the first one. */
static struct {
	int fd;
	int users;
} uml_vfio_container = { .fd = -1 };

enum {
	UML_VFIO_DMA_ONDEMAND,
	UML_VFIO_DMA_EAGER,
	UML_VFIO_DMA_STRICT,
};

static const char * const uml_vfio_dma_modes[] = {
	[UML_VFIO_DMA_ONDEMAND] = "ondemand",
	[UML_VFIO_DMA_EAGER] = "eager",
	[UML_VFIO_DMA_STRICT] = "strict",
};

static int uml_vfio_dma_mode = UML_VFIO_DMA_ONDEMAND;

/* Smallest chunk: 256 KiB, 64 pages. */
#define UML_VFIO_CHUNK_SHIFT	18
/* Host IOVA ranges kept; the host reports a handful. */
#define UML_VFIO_MAX_RANGES	16
/* Host PCI memory ranges read (BARs and bridge windows) */
#define UML_VFIO_MAX_PCI	256
/* and the ranges of IOVAs kept out of use, once merged. */
#define UML_VFIO_MAX_AVOID	32
/* In a chunk's table entry: the chunk is mapped (its IOVA is aligned). */
#define UML_VFIO_CHUNK_MAPPED	1ULL
/* Buffer mappings whose IOVAs are not reused at once after their unmap. */
#define UML_VFIO_QUARANTINE	64
/* Highest IOVA used: VFIO's unmap takes a size that must not wrap. */
#define UML_VFIO_IOVA_MAX	(BIT_ULL(63) - 1)

/* A range of IOVA pages, both ends included. */
struct uml_vfio_pages {
	unsigned long first, last;
};

/* The DMA state of the container: set up with the first device. */
static struct {
	bool ready;
	/* Serialises mapping chunks; the table is read without it. */
	spinlock_t lock;
	struct iova_domain iovad;
	unsigned long min_pfn, max_pfn;	/* lowest, highest IOVA page allowed */
	phys_addr_t lo, hi;		/* UML memory that can be mapped */
	unsigned int shift;		/* chunk size: 1 << shift */
	unsigned long first;		/* the chunk number of lo */
	unsigned long nr_chunks;
	u64 *chunk;			/* IOVA | UML_VFIO_CHUNK_MAPPED, or 0 */
	/*
	 * ondemand: IOVAs reserved for all chunks, chunk c at window +
	 * (c << shift), so that neighbouring chunks are neighbours in IOVA
	 * space; 0 if none could be reserved.
	 */
	dma_addr_t window;
	/* ondemand, eager: buffers mapped on their own, by IOVA page */
	struct xarray own;
	atomic_long_t mapped;		/* bytes mapped, for messages */
	/*
	 * IOVAs of the last mappings removed, not handed out again yet: a
	 * device's access after an unmap then finds nothing mapped there.
	 */
	spinlock_t quarantine_lock;
	unsigned int quarantine_next;
	struct {
		unsigned long pfn, pages;
	} quarantine[UML_VFIO_QUARANTINE];
	int nr_ranges;
	struct uml_vfio_iova_range range[UML_VFIO_MAX_RANGES];
	/* IOVA pages reserved by the host or used by its PCI devices */
	int nr_avoid;
	struct uml_vfio_pages avoid[UML_VFIO_MAX_AVOID];
} uml_vfio_dma;

static int uml_vfio_dma_mode_set(const char *val, const struct kernel_param *kp)
{
	int mode = val ? sysfs_match_string(uml_vfio_dma_modes, val) : -EINVAL;

	if (mode < 0)
		pr_err("vfio_uml.dma=%s: expected ondemand, eager or strict; using %s\n",
		       val ?: "", uml_vfio_dma_modes[uml_vfio_dma_mode]);
	else
		uml_vfio_dma_mode = mode;
	return 0;
}

static int uml_vfio_dma_mode_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", uml_vfio_dma_modes[uml_vfio_dma_mode]);
}

static const struct kernel_param_ops uml_vfio_dma_mode_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = uml_vfio_dma_mode_set,
	.get = uml_vfio_dma_mode_get,
};

module_param_cb(dma, &uml_vfio_dma_mode_ops, NULL, 0444);
MODULE_PARM_DESC(dma, "How UML memory is mapped for device DMA: ondemand (default), eager or strict");

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

/* Frees the DMA state; with @unmap, also removes every host mapping. */
static void uml_vfio_dma_release(bool unmap)
{
	if (!uml_vfio_dma.chunk)
		return;
	if (unmap)
		uml_vfio_user_dma_unmap(uml_vfio_container.fd, 0,
					UML_VFIO_IOVA_MAX + 1);
	xa_destroy(&uml_vfio_dma.own);
	put_iova_domain(&uml_vfio_dma.iovad);
	iova_cache_put();
	kvfree(uml_vfio_dma.chunk);
	uml_vfio_dma.chunk = NULL;
	uml_vfio_dma.ready = false;
}

/*
 * Closes the container once no group is attached to it; that removes
 * every DMA mapping on the host, and the next device starts afresh. As
 * UML exits, only the host side goes: the exitcall may have interrupted
 * a DMA op, whose state must stay.
 */
void uml_vfio_container_put(void)
{
	lockdep_assert_held(&uml_vfio_mtx);

	if (uml_vfio_container.users || uml_vfio_container.fd < 0)
		return;
	if (!uml_vfio_exiting)
		uml_vfio_dma_release(false);
	os_close_file(uml_vfio_container.fd);
	uml_vfio_container.fd = -1;
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

/* @bytes as "N MiB", or "N KiB" below 1 MiB, for messages. */
static const char *uml_vfio_size(char *buf, size_t len,
				 unsigned long long bytes)
{
	if (bytes >= SZ_1M)
		snprintf(buf, len, "%llu MiB", bytes >> 20);
	else
		snprintf(buf, len, "%llu KiB", bytes >> 10);
	return buf;
}

/*
 * Why the host refused to map @size bytes, in one line: for -ENOMEM,
 * which limit to raise. @dev names the device (UML's PCI address at run
 * time), @step what was mapped.
 */
static void uml_vfio_dma_refused(const char *dev, const char *step,
				 unsigned long long size, int err)
{
	unsigned long long limit = uml_vfio_user_memlock_limit();
	char asked[24], mapped[24], max[24], hint[160];

	uml_vfio_size(asked, sizeof(asked), size);
	if (err == -ENOMEM && limit != ULLONG_MAX)
		snprintf(hint, sizeof(hint),
			 "%s asked for, %s mapped already, RLIMIT_MEMLOCK is %s: raise the memlock limit",
			 asked,
			 uml_vfio_size(mapped, sizeof(mapped),
				       atomic_long_read(&uml_vfio_dma.mapped)),
			 uml_vfio_size(max, sizeof(max), limit));
	else if (err == -ENOSPC)
		snprintf(hint, sizeof(hint),
			 "the host allows no more DMA mappings: raise dma_entry_limit of vfio_iommu_type1");
	else
		snprintf(hint, sizeof(hint), "%s asked for", asked);
	pr_err_ratelimited("%s: %s: %s (%s)\n", dev, step,
			   uml_vfio_user_strerror(err), hint);
}

static int uml_vfio_range_cmp(const void *a, const void *b)
{
	const struct uml_vfio_iova_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int uml_vfio_pages_cmp(const void *a, const void *b)
{
	const struct uml_vfio_pages *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* The IOVA pages of range @r that are wholly inside it, page 0 left out. */
static unsigned long uml_vfio_range_first(const struct uml_vfio_iova_range *r)
{
	return max(PFN_UP(r->start), 1UL);
}

static unsigned long uml_vfio_range_last(const struct uml_vfio_iova_range *r)
{
	return PFN_DOWN(min(r->last, UML_VFIO_IOVA_MAX) + 1) - 1;
}

/*
 * Sorts and merges the @n page ranges in @p (overlapping or adjacent ones,
 * then those with the smallest gaps until at most @max are left: avoiding
 * a few more pages is harmless) into uml_vfio_dma.avoid.
 */
static void uml_vfio_avoid_merge(struct uml_vfio_pages *p, int n, int max)
{
	int i, j, best;

	sort(p, n, sizeof(*p), uml_vfio_pages_cmp, NULL);
	for (i = 0, j = 0; i < n; i++) {
		if (j && p[i].first <= p[j - 1].last + 1)
			p[j - 1].last = max(p[j - 1].last, p[i].last);
		else
			p[j++] = p[i];
	}
	for (n = j; n > max; n--) {
		for (best = 0, i = 1; i < n - 1; i++)
			if (p[i + 1].first - p[i].last < p[best + 1].first - p[best].last)
				best = i;
		p[best].last = p[best + 1].last;
		memmove(&p[best + 1], &p[best + 2], (n - best - 2) * sizeof(*p));
	}
	memcpy(uml_vfio_dma.avoid, p, n * sizeof(*p));
	uml_vfio_dma.nr_avoid = n;
}

/*
 * The IOVA pages to keep out of use within [min_pfn, max_pfn]: the host's
 * reserved ranges (the gaps between the valid ones) and its PCI devices'
 * memory ranges. @nr valid ranges are in uml_vfio_dma.range.
 */
static int uml_vfio_dma_avoid(const char *dev, int nr)
{
	struct uml_vfio_iova_range *pci;
	struct uml_vfio_pages *p;
	int i, n = 0, nr_pci;

	pci = kmalloc_objs(*pci, UML_VFIO_MAX_PCI);
	p = kmalloc_objs(*p, UML_VFIO_MAX_PCI + UML_VFIO_MAX_RANGES);
	if (!pci || !p) {
		kfree(pci);
		kfree(p);
		uml_vfio_fail(dev, "allocating the IOVA allocator", -ENOMEM, NULL);
		return -ENOMEM;
	}
	for (i = 1; i < nr; i++) {
		p[n].first = uml_vfio_range_last(&uml_vfio_dma.range[i - 1]) + 1;
		p[n].last = uml_vfio_range_first(&uml_vfio_dma.range[i]) - 1;
		if (p[n].first <= p[n].last)
			n++;
	}
	nr_pci = uml_vfio_user_get_pci_mmio(pci, UML_VFIO_MAX_PCI);
	/* Without them, IOVAs may hit a device: report, and go on. */
	if (nr_pci < 0)
		uml_vfio_fail(dev, "reading the host's PCI memory ranges", nr_pci,
			      "DMA may reach PCI devices' BARs");
	for (i = 0; i < nr_pci; i++) {
		p[n].first = max(PFN_DOWN(pci[i].start), uml_vfio_dma.min_pfn);
		p[n].last = min(PFN_DOWN(pci[i].last), uml_vfio_dma.max_pfn);
		if (pci[i].start <= UML_VFIO_IOVA_MAX && p[n].first <= p[n].last)
			n++;
	}
	uml_vfio_avoid_merge(p, n, UML_VFIO_MAX_AVOID);
	kfree(p);
	kfree(pci);
	return 0;
}

/*
 * Reads the host's valid IOVA ranges and its PCI memory ranges, and sets up
 * the IOVA allocator to hand out what is in the first and not the second.
 */
static int uml_vfio_dma_ranges(const char *dev, unsigned int *dma_avail)
{
	struct uml_vfio_iommu_info info = { .ranges = uml_vfio_dma.range };
	struct uml_vfio_iova_range *r = uml_vfio_dma.range;
	int err, i, n = 0;

	err = uml_vfio_user_get_iommu_info(uml_vfio_container.fd, &info,
					   UML_VFIO_MAX_RANGES);
	if (err) {
		uml_vfio_fail(dev, "reading the host IOMMU's IOVA ranges", err,
			      NULL);
		return err;
	}
	*dma_avail = info.dma_avail;
	if (info.pgsizes && !(info.pgsizes & PAGE_SIZE)) {
		pr_err("%s: the host IOMMU cannot map %lu KiB pages (page sizes %#llx)\n",
		       dev, PAGE_SIZE >> 10, info.pgsizes);
		return -EINVAL;
	}
	if (!info.nr_ranges) {
		/* An old host: it reports none, and checks none. */
		r[0].start = 0;
		r[0].last = UML_VFIO_IOVA_MAX;
		info.nr_ranges = 1;
	}
	sort(r, info.nr_ranges, sizeof(*r), uml_vfio_range_cmp, NULL);
	/* Ranges that hold at least a page (but page 0, for IOVA 0). */
	for (i = 0; i < info.nr_ranges; i++) {
		if (r[i].start > UML_VFIO_IOVA_MAX || r[i].last < r[i].start ||
		    uml_vfio_range_last(&r[i]) < uml_vfio_range_first(&r[i]))
			continue;
		r[n++] = r[i];
	}
	if (!n) {
		pr_err("%s: the host IOMMU allows no IOVA range to map UML memory in\n",
		       dev);
		return -ERANGE;
	}
	uml_vfio_dma.nr_ranges = n;
	uml_vfio_dma.min_pfn = uml_vfio_range_first(&r[0]);
	uml_vfio_dma.max_pfn = uml_vfio_range_last(&r[n - 1]);

	err = uml_vfio_dma_avoid(dev, n);
	if (err)
		return err;
	init_iova_domain(&uml_vfio_dma.iovad, PAGE_SIZE, uml_vfio_dma.min_pfn);
	err = iova_domain_init_rcaches(&uml_vfio_dma.iovad);
	for (i = 0; !err && i < uml_vfio_dma.nr_avoid; i++)
		if (!reserve_iova(&uml_vfio_dma.iovad, uml_vfio_dma.avoid[i].first,
				  uml_vfio_dma.avoid[i].last))
			err = -ENOMEM;
	if (err) {
		put_iova_domain(&uml_vfio_dma.iovad);
		uml_vfio_fail(dev, "allocating the IOVA allocator", err, NULL);
	}
	return err;
}

static phys_addr_t uml_vfio_chunk_base(unsigned long c)
{
	return (phys_addr_t)(c + uml_vfio_dma.first) << uml_vfio_dma.shift;
}

/* The part of chunks [@c, @c + @n) that is UML memory: [*start, *end). */
static void uml_vfio_chunk_span(unsigned long c, unsigned long n,
				phys_addr_t *start, phys_addr_t *end)
{
	*start = max(uml_vfio_chunk_base(c), uml_vfio_dma.lo);
	*end = min(uml_vfio_chunk_base(c + n), uml_vfio_dma.hi);
}

/* Can chunk @c be mapped at IOVA == its physical address? */
static bool uml_vfio_chunk_identity(unsigned long c)
{
	unsigned long first, last;
	phys_addr_t start, end;
	int i;

	uml_vfio_chunk_span(c, 1, &start, &end);
	first = PFN_DOWN(start);
	last = PFN_DOWN(end - 1);
	if (first < uml_vfio_dma.min_pfn || last > uml_vfio_dma.max_pfn)
		return false;
	for (i = 0; i < uml_vfio_dma.nr_avoid; i++)
		if (first <= uml_vfio_dma.avoid[i].last &&
		    last >= uml_vfio_dma.avoid[i].first)
			return false;
	return true;
}

/*
 * Eager mode: all of UML memory at IOVA == physical address, in one
 * mapping per stretch between the IOVAs kept out of use (the host's
 * reserved ranges and its PCI memory). A chunk that one of those cuts
 * into stays unmapped here and is mapped on demand elsewhere; the IOVAs
 * of all of UML memory are reserved, so that nothing else lands there.
 */
static int uml_vfio_dma_map_all(const char *dev)
{
	unsigned long c, i, run, left = 0;
	phys_addr_t start, end;
	char more[112];
	int err;

	for (c = 0; c < uml_vfio_dma.nr_chunks; c++)
		left += !uml_vfio_chunk_identity(c);
	if (left)
		snprintf(more, sizeof(more),
			 ", but for %lu chunks at IOVAs that the host reserves or its PCI devices use: those on demand",
			 left);
	pr_info("mapping %llu MiB of UML memory for device DMA%s\n",
		(unsigned long long)(uml_vfio_dma.hi - uml_vfio_dma.lo) >> 20,
		left ? more : "");

	if (!reserve_iova(&uml_vfio_dma.iovad, PFN_DOWN(uml_vfio_chunk_base(0)),
			  PFN_DOWN(uml_vfio_dma.hi - 1))) {
		uml_vfio_fail(dev, "reserving IOVAs for UML memory", -ENOMEM, NULL);
		return -ENOMEM;
	}

	for (c = 0; c < uml_vfio_dma.nr_chunks; c += run) {
		for (run = 0; c + run < uml_vfio_dma.nr_chunks &&
		     uml_vfio_chunk_identity(c + run); run++)
			;
		if (!run) {
			run = 1;
			continue;
		}
		uml_vfio_chunk_span(c, run, &start, &end);
		err = uml_vfio_user_dma_map(uml_vfio_container.fd,
					    (unsigned long)__va(start), start,
					    end - start,
					    UML_VFIO_DMA_READ | UML_VFIO_DMA_WRITE);
		if (err) {
			uml_vfio_dma_refused(dev, "mapping UML memory for DMA",
					     end - start, err);
			return err;
		}
		atomic_long_add(end - start, &uml_vfio_dma.mapped);
		for (i = c; i < c + run; i++)
			uml_vfio_dma.chunk[i] = uml_vfio_chunk_base(i) |
						UML_VFIO_CHUNK_MAPPED;
	}
	return 0;
}

/*
 * ondemand: reserves the window of IOVAs the chunks are mapped at, as high
 * as the host allows (chunks stay mapped: up there, they leave the IOVAs
 * that narrow DMA masks need), aligned to a chunk. Without room for it,
 * chunks get IOVAs as they are mapped, as for masks below the window.
 */
static void uml_vfio_dma_window(void)
{
	unsigned long align = 1UL << (uml_vfio_dma.shift - PAGE_SHIFT);
	unsigned long pages = uml_vfio_dma.nr_chunks * align;
	unsigned long first, last, base;
	int i;

	/* The stretches between the IOVAs kept out of use, top down. */
	for (i = uml_vfio_dma.nr_avoid; i >= 0; i--) {
		first = i ? uml_vfio_dma.avoid[i - 1].last + 1 :
			    uml_vfio_dma.min_pfn;
		last = i < uml_vfio_dma.nr_avoid ?
		       uml_vfio_dma.avoid[i].first - 1 : uml_vfio_dma.max_pfn;
		if (last < first || last - first + 1 < pages)
			continue;
		base = ALIGN_DOWN(last + 1 - pages, align);
		if (base < first)
			continue;
		if (reserve_iova(&uml_vfio_dma.iovad, base, base + pages - 1))
			uml_vfio_dma.window = PFN_PHYS(base);
		return;
	}
}

/* Says how devices' DMA will be mapped, and where the host lets it go. */
static void uml_vfio_dma_say_mode(void)
{
	char ranges[96];
	int i, n = 0;

	for (i = 0; i < uml_vfio_dma.nr_ranges && n < sizeof(ranges); i++)
		n += scnprintf(ranges + n, sizeof(ranges) - n, "%s%#llx-%#llx",
			       i ? " " : "", uml_vfio_dma.range[i].start,
			       uml_vfio_dma.range[i].last);
	if (uml_vfio_dma_mode == UML_VFIO_DMA_STRICT)
		pr_info("DMA: strict, a mapping per buffer; host IOVA ranges %s\n",
			ranges);
	else if (uml_vfio_dma.window)
		pr_info("DMA: on demand, in %lu KiB chunks at IOVAs %#llx-%#llx; host IOVA ranges %s\n",
			(1UL << uml_vfio_dma.shift) >> 10,
			(u64)uml_vfio_dma.window,
			(u64)uml_vfio_dma.window +
			((u64)uml_vfio_dma.nr_chunks << uml_vfio_dma.shift) - 1,
			ranges);
	else
		pr_info("DMA: on demand, in %lu KiB chunks; host IOVA ranges %s\n",
			(1UL << uml_vfio_dma.shift) >> 10, ranges);
}

/* A chunk size that leaves the host's mapping limit room for the rest. */
static unsigned int uml_vfio_chunk_shift(unsigned int dma_avail)
{
	unsigned int shift = UML_VFIO_CHUNK_SHIFT;

	while (dma_avail &&
	       ((uml_vfio_dma.hi - 1) >> shift) - (uml_vfio_dma.lo >> shift) + 1 >
	       dma_avail / 2)
		shift++;
	return shift;
}

/**
 * uml_vfio_dma_map_memory() - make UML memory mappable for device DMA
 * @dev: device name, for messages
 *
 * Done once, when the first device has passed its checks (not when its
 * group joins: in eager mode this pins and maps all of UML's memory, which
 * takes seconds for a large mem=, and a device that is then rejected would
 * waste them). In the other modes it only reads the host's IOVA ranges and
 * sets up the allocator and the chunk table.
 *
 * Return: 0 or a negative errno, already reported.
 */
int uml_vfio_dma_map_memory(const char *dev)
{
	unsigned int dma_avail;
	int err, i;

	lockdep_assert_held(&uml_vfio_mtx);

	if (uml_vfio_dma.ready)
		return 0;

	err = iova_cache_get();
	if (err) {
		uml_vfio_fail(dev, "allocating the IOVA allocator", err, NULL);
		return err;
	}
	err = uml_vfio_dma_ranges(dev, &dma_avail);
	if (err)
		goto put_cache;

	uml_vfio_dma.lo = PFN_PHYS(min_low_pfn);
	uml_vfio_dma.hi = PFN_PHYS(max_low_pfn);
	uml_vfio_dma.shift = uml_vfio_chunk_shift(dma_avail);
	uml_vfio_dma.first = uml_vfio_dma.lo >> uml_vfio_dma.shift;
	uml_vfio_dma.nr_chunks = ((uml_vfio_dma.hi - 1) >> uml_vfio_dma.shift) -
				 uml_vfio_dma.first + 1;
	uml_vfio_dma.chunk = kvcalloc(uml_vfio_dma.nr_chunks, sizeof(u64),
				      GFP_KERNEL);
	if (!uml_vfio_dma.chunk) {
		err = -ENOMEM;
		uml_vfio_fail(dev, "allocating the DMA chunk table", err, NULL);
		goto put_domain;
	}
	spin_lock_init(&uml_vfio_dma.lock);
	spin_lock_init(&uml_vfio_dma.quarantine_lock);
	memset(uml_vfio_dma.quarantine, 0, sizeof(uml_vfio_dma.quarantine));
	uml_vfio_dma.quarantine_next = 0;
	/* Buffers are mapped and unmapped in interrupt context too. */
	xa_init_flags(&uml_vfio_dma.own, XA_FLAGS_LOCK_IRQ);
	atomic_long_set(&uml_vfio_dma.mapped, 0);
	uml_vfio_dma.window = 0;

	if (uml_vfio_dma_mode == UML_VFIO_DMA_ONDEMAND)
		uml_vfio_dma_window();
	if (uml_vfio_dma_mode == UML_VFIO_DMA_EAGER) {
		err = uml_vfio_dma_map_all(dev);
		if (err) {
			uml_vfio_dma_release(true);
			return err;
		}
	} else {
		uml_vfio_dma_say_mode();
	}
	for (i = 0; i < uml_vfio_dma.nr_avoid; i++)
		pr_debug("IOVAs %#llx-%#llx kept out of use\n",
			 (u64)PFN_PHYS(uml_vfio_dma.avoid[i].first),
			 (u64)PFN_PHYS(uml_vfio_dma.avoid[i].last + 1) - 1);
	uml_vfio_dma.ready = true;
	return 0;

put_domain:
	put_iova_domain(&uml_vfio_dma.iovad);
put_cache:
	iova_cache_put();
	return err;
}

/*
 * An IOVA block of @pages pages at or below @mask. A buffer's own mapping
 * (!@cached) goes below 4 GiB if it can, as with dma-iommu, since some
 * devices handle such addresses faster. Chunk runs (@cached) stay mapped
 * until the last device goes: for a wide mask they go as high as they
 * can, so that they never use up the IOVAs a narrow mask needs.
 */
static unsigned long uml_vfio_iova_alloc(unsigned long pages, u64 mask,
					 bool cached)
{
	unsigned long limit = min_t(u64, mask >> PAGE_SHIFT,
				    uml_vfio_dma.max_pfn);
	unsigned long sac = DMA_BIT_MASK(32) >> PAGE_SHIFT, pfn = 0;
	struct iova *iova;

	if (!cached) {
		if (limit > sac)
			pfn = alloc_iova_fast(&uml_vfio_dma.iovad, pages, sac,
					      false);
		return pfn ?: alloc_iova_fast(&uml_vfio_dma.iovad, pages,
					      limit, true);
	}

	iova = alloc_iova(&uml_vfio_dma.iovad, pages, limit, true);
	return iova ? iova->pfn_lo : 0;
}

/*
 * The IOVA of [@phys, @phys + @size) in the chunk table, if its chunks are
 * mapped, next to each other, and end at or below @mask.
 */
static dma_addr_t uml_vfio_chunk_iova(phys_addr_t phys, size_t size, u64 mask)
{
	unsigned long c = (phys >> uml_vfio_dma.shift) - uml_vfio_dma.first;
	unsigned long last = ((phys + size - 1) >> uml_vfio_dma.shift) -
			     uml_vfio_dma.first;
	u64 e = READ_ONCE(uml_vfio_dma.chunk[c]);
	dma_addr_t iova;
	unsigned long i;

	if (!e)
		return DMA_MAPPING_ERROR;
	for (i = c + 1; i <= last; i++)
		if (READ_ONCE(uml_vfio_dma.chunk[i]) !=
		    e + ((u64)(i - c) << uml_vfio_dma.shift))
			return DMA_MAPPING_ERROR;
	iova = (e & ~UML_VFIO_CHUNK_MAPPED) +
	       (phys & ((1ULL << uml_vfio_dma.shift) - 1));
	if (iova + size - 1 > mask)
		return DMA_MAPPING_ERROR;
	return iova;
}

/*
 * Maps chunks [@c, @c + @n), all unmapped, with one host call, at IOVAs
 * below @mask: in the window if it lies below @mask, else wherever there
 * is room. Called with the lock held.
 */
static int uml_vfio_chunk_map_run(const char *dev, unsigned long c,
				  unsigned long n, u64 mask)
{
	unsigned long pages = n << (uml_vfio_dma.shift - PAGE_SHIFT), pfn = 0;
	dma_addr_t iova = uml_vfio_dma.window + ((u64)c << uml_vfio_dma.shift);
	phys_addr_t start, end;
	int err;

	lockdep_assert_held(&uml_vfio_dma.lock);

	if (!uml_vfio_dma.window ||
	    iova + ((u64)n << uml_vfio_dma.shift) - 1 > mask) {
		pfn = uml_vfio_iova_alloc(pages, mask, true);
		if (!pfn)
			return -ERANGE;
		iova = PFN_PHYS(pfn);
	}
	uml_vfio_chunk_span(c, n, &start, &end);
	err = uml_vfio_user_dma_map(uml_vfio_container.fd,
				    (unsigned long)__va(start),
				    iova + (start - uml_vfio_chunk_base(c)),
				    end - start,
				    UML_VFIO_DMA_READ | UML_VFIO_DMA_WRITE);
	if (err) {
		if (pfn)
			free_iova(&uml_vfio_dma.iovad, pfn);
		uml_vfio_dma_refused(dev, "mapping UML memory for DMA",
				     end - start, err);
		return err;
	}
	atomic_long_add(end - start, &uml_vfio_dma.mapped);
	for (; n; n--, c++, iova += 1ULL << uml_vfio_dma.shift)
		WRITE_ONCE(uml_vfio_dma.chunk[c], iova | UML_VFIO_CHUNK_MAPPED);
	return 0;
}

/*
 * Maps the chunks of [@phys, @phys + @size) that are not mapped yet: each
 * stretch of them with one host call. -ERANGE: no IOVA below @mask.
 */
static int uml_vfio_chunk_map(const char *dev, phys_addr_t phys, size_t size,
			      u64 mask)
{
	unsigned long c = (phys >> uml_vfio_dma.shift) - uml_vfio_dma.first;
	unsigned long last = ((phys + size - 1) >> uml_vfio_dma.shift) -
			     uml_vfio_dma.first;
	unsigned long flags, n;
	int err = 0;

	spin_lock_irqsave(&uml_vfio_dma.lock, flags);
	while (c <= last && !err) {
		if (uml_vfio_dma.chunk[c]) {
			c++;
			continue;
		}
		for (n = 1; c + n <= last && !uml_vfio_dma.chunk[c + n]; n++)
			;
		err = uml_vfio_chunk_map_run(dev, c, n, mask);
		c += n;
	}
	spin_unlock_irqrestore(&uml_vfio_dma.lock, flags);
	return err;
}

static int uml_vfio_dma_access(enum dma_data_direction dir)
{
	switch (dir) {
	case DMA_TO_DEVICE:
		return UML_VFIO_DMA_READ;
	case DMA_FROM_DEVICE:
		return UML_VFIO_DMA_WRITE;
	default:
		return UML_VFIO_DMA_READ | UML_VFIO_DMA_WRITE;
	}
}

/* A mapping of [@phys, @phys + @size)'s own, whole pages, below @mask. */
static dma_addr_t uml_vfio_own_map(const char *dev, phys_addr_t phys,
				   size_t size, enum dma_data_direction dir,
				   u64 mask)
{
	size_t offset = offset_in_page(phys);
	unsigned long pages = PFN_UP(offset + size), pfn, flags;
	int err;

	pfn = uml_vfio_iova_alloc(pages, mask, false);
	if (!pfn) {
		pr_err_ratelimited("%s: mapping %zu bytes for DMA: no free IOVA at or below the DMA mask %#llx\n",
				   dev, size, mask);
		return DMA_MAPPING_ERROR;
	}
	err = uml_vfio_user_dma_map(uml_vfio_container.fd,
				    (unsigned long)__va(phys - offset),
				    PFN_PHYS(pfn), PFN_PHYS(pages),
				    uml_vfio_dma_access(dir));
	if (!err && uml_vfio_dma_mode != UML_VFIO_DMA_STRICT) {
		xa_lock_irqsave(&uml_vfio_dma.own, flags);
		err = xa_err(__xa_store(&uml_vfio_dma.own, pfn,
					xa_mk_value(pages), GFP_ATOMIC));
		xa_unlock_irqrestore(&uml_vfio_dma.own, flags);
		if (err)
			uml_vfio_user_dma_unmap(uml_vfio_container.fd,
						PFN_PHYS(pfn), PFN_PHYS(pages));
	}
	if (err) {
		free_iova_fast(&uml_vfio_dma.iovad, pfn, pages);
		uml_vfio_dma_refused(dev, "mapping a buffer for DMA",
				     PFN_PHYS(pages), err);
		return DMA_MAPPING_ERROR;
	}
	atomic_long_add(PFN_PHYS(pages), &uml_vfio_dma.mapped);
	return PFN_PHYS(pfn) + offset;
}

/**
 * uml_vfio_dma_map() - the IOVA of a buffer in UML memory for a device
 * @dev: the device
 * @phys: the buffer's UML physical address
 * @size: its size
 * @dir: the direction of the DMA
 * @mask: the device's DMA mask for it
 *
 * Context: any, also with interrupts off: host calls do not sleep.
 * Return: the IOVA, or DMA_MAPPING_ERROR after saying why.
 */
static dma_addr_t uml_vfio_dma_map(struct device *dev, phys_addr_t phys,
				   size_t size, enum dma_data_direction dir,
				   u64 mask)
{
	dma_addr_t iova;
	int err;

	size = max_t(size_t, size, 1);
	if (phys < uml_vfio_dma.lo || phys >= uml_vfio_dma.hi ||
	    size > uml_vfio_dma.hi - phys) {
		pr_err_ratelimited("%s: mapping %zu bytes at %pa for DMA: not UML memory that can be mapped\n",
				   dev_name(dev), size, &phys);
		return DMA_MAPPING_ERROR;
	}
	if (uml_vfio_dma_mode == UML_VFIO_DMA_STRICT)
		return uml_vfio_own_map(dev_name(dev), phys, size, dir, mask);

	iova = uml_vfio_chunk_iova(phys, size, mask);
	if (likely(iova != DMA_MAPPING_ERROR))
		return iova;
	err = uml_vfio_chunk_map(dev_name(dev), phys, size, mask);
	if (err && err != -ERANGE)
		return DMA_MAPPING_ERROR;
	iova = uml_vfio_chunk_iova(phys, size, mask);
	if (iova != DMA_MAPPING_ERROR)
		return iova;
	return uml_vfio_own_map(dev_name(dev), phys, size, dir, mask);
}

/*
 * Frees the IOVAs of a mapping just removed, but only after
 * UML_VFIO_QUARANTINE more: IOVA allocation reuses the last freed first,
 * and a device still using the old IOVA would reach the new buffer.
 */
static void uml_vfio_iova_quarantine(unsigned long pfn, unsigned long pages)
{
	unsigned long flags, old_pfn, old_pages;
	unsigned int i;

	spin_lock_irqsave(&uml_vfio_dma.quarantine_lock, flags);
	i = uml_vfio_dma.quarantine_next;
	old_pfn = uml_vfio_dma.quarantine[i].pfn;
	old_pages = uml_vfio_dma.quarantine[i].pages;
	uml_vfio_dma.quarantine[i].pfn = pfn;
	uml_vfio_dma.quarantine[i].pages = pages;
	uml_vfio_dma.quarantine_next = (i + 1) % UML_VFIO_QUARANTINE;
	spin_unlock_irqrestore(&uml_vfio_dma.quarantine_lock, flags);
	if (old_pages)
		free_iova_fast(&uml_vfio_dma.iovad, old_pfn, old_pages);
}

/* Removes the mapping of the buffer at @addr if it has one of its own. */
static void uml_vfio_dma_unmap(struct device *dev, dma_addr_t addr,
			       size_t size)
{
	unsigned long pfn = PFN_DOWN(addr), pages, flags;
	void *own;
	int err;

	pages = PFN_UP(offset_in_page(addr) + max_t(size_t, size, 1));
	if (uml_vfio_dma_mode != UML_VFIO_DMA_STRICT) {
		/* Chunks stay mapped; most buffers have no mapping of their own. */
		if (likely(xa_empty(&uml_vfio_dma.own)))
			return;
		xa_lock_irqsave(&uml_vfio_dma.own, flags);
		own = __xa_erase(&uml_vfio_dma.own, pfn);
		xa_unlock_irqrestore(&uml_vfio_dma.own, flags);
		if (!own)
			return;
		pages = xa_to_value(own);
	}
	err = uml_vfio_user_dma_unmap(uml_vfio_container.fd, PFN_PHYS(pfn),
				      PFN_PHYS(pages));
	if (err) {
		pr_err_ratelimited("%s: unmapping %zu bytes at IOVA %pad: %s\n",
				   dev_name(dev), size, &addr,
				   uml_vfio_user_strerror(err));
		return;
	}
	atomic_long_sub(PFN_PHYS(pages), &uml_vfio_dma.mapped);
	uml_vfio_iova_quarantine(pfn, pages);
}

static dma_addr_t uml_vfio_dma_map_phys(struct device *dev, phys_addr_t phys,
					size_t size,
					enum dma_data_direction dir,
					unsigned long attrs)
{
	/* Another device's memory (peer-to-peer): not through UML memory. */
	if (attrs & DMA_ATTR_MMIO)
		return DMA_MAPPING_ERROR;
	return uml_vfio_dma_map(dev, phys, size, dir, dma_get_mask(dev));
}

static void uml_vfio_dma_unmap_phys(struct device *dev, dma_addr_t addr,
				    size_t size, enum dma_data_direction dir,
				    unsigned long attrs)
{
	uml_vfio_dma_unmap(dev, addr, size);
}

static void uml_vfio_dma_unmap_sg(struct device *dev, struct scatterlist *sgl,
				  int nents, enum dma_data_direction dir,
				  unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		uml_vfio_dma_unmap(dev, sg_dma_address(sg), sg_dma_len(sg));
}

static int uml_vfio_dma_map_sg(struct device *dev, struct scatterlist *sgl,
			       int nents, enum dma_data_direction dir,
			       unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		sg_dma_address(sg) = uml_vfio_dma_map(dev, sg_phys(sg),
						      sg->length, dir,
						      dma_get_mask(dev));
		if (sg_dma_address(sg) == DMA_MAPPING_ERROR)
			goto unmap;
		sg_dma_len(sg) = sg->length;
	}
	return nents;

unmap:
	uml_vfio_dma_unmap_sg(dev, sgl, i, dir, attrs);
	return -ENOMEM;
}

static void *uml_vfio_dma_alloc(struct device *dev, size_t size,
				dma_addr_t *dma_handle, gfp_t gfp,
				unsigned long attrs)
{
	struct page *page;

	page = alloc_pages_node(dev_to_node(dev), gfp | __GFP_ZERO,
				get_order(size));
	if (!page)
		return NULL;
	*dma_handle = uml_vfio_dma_map(dev, page_to_phys(page),
				       PAGE_ALIGN(size), DMA_BIDIRECTIONAL,
				       dev->coherent_dma_mask);
	if (*dma_handle == DMA_MAPPING_ERROR) {
		__free_pages(page, get_order(size));
		return NULL;
	}
	return page_address(page);
}

static void uml_vfio_dma_free(struct device *dev, size_t size, void *cpu_addr,
			      dma_addr_t dma_handle, unsigned long attrs)
{
	uml_vfio_dma_unmap(dev, dma_handle, PAGE_ALIGN(size));
	free_pages((unsigned long)cpu_addr, get_order(size));
}

/* A mask is fine if an IOVA page the host allows lies below it. */
static int uml_vfio_dma_supported(struct device *dev, u64 mask)
{
	return (mask >> PAGE_SHIFT) >= uml_vfio_dma.min_pfn;
}

static u64 uml_vfio_dma_required_mask(struct device *dev)
{
	if (uml_vfio_dma_mode == UML_VFIO_DMA_EAGER)
		return DMA_BIT_MASK(fls64(uml_vfio_dma.hi - 1));
	return DMA_BIT_MASK(32);
}

/* The passed-through devices' DMA ops (virt-pci sets them on the pci_dev). */
const struct dma_map_ops uml_vfio_dma_ops = {
	.alloc			= uml_vfio_dma_alloc,
	.free			= uml_vfio_dma_free,
	.alloc_pages_op		= dma_common_alloc_pages,
	.free_pages		= dma_common_free_pages,
	.mmap			= dma_common_mmap,
	.get_sgtable		= dma_common_get_sgtable,
	.map_phys		= uml_vfio_dma_map_phys,
	.unmap_phys		= uml_vfio_dma_unmap_phys,
	.map_sg			= uml_vfio_dma_map_sg,
	.unmap_sg		= uml_vfio_dma_unmap_sg,
	.dma_supported		= uml_vfio_dma_supported,
	.get_required_mask	= uml_vfio_dma_required_mask,
};
