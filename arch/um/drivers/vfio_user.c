// SPDX-License-Identifier: GPL-2.0
/*
 * Host half of the VFIO-based virtual PCI driver: VFIO container, group and
 * device ioctls, region I/O, BAR mappings and interrupt eventfds. Everything
 * here returns a negative errno and leaves the reporting to the kernel half.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/vfio.h>
#include <os.h>
#include <um_malloc.h>

#include "vfio_user.h"

/* Vectors drained per epoll_wait() in the interrupt handler. */
#define UML_VFIO_POLL_BATCH 16

/*
 * This code runs on UML's kernel stack: no PATH_MAX buffers. Sysfs paths of
 * a PCI device and the links read here are far shorter than this.
 */
#define UML_VFIO_PATH_LEN 256

static ssize_t vfio_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = readlink(path, buf, size);

	if (n < 0)
		return -errno;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return n;
}

const char *uml_vfio_user_strerror(int err)
{
	return strerror(err < 0 ? -err : err);
}

/**
 * uml_vfio_user_device_exists() - check that the host has this PCI device
 * @device: address as sysfs names it
 *
 * Return: 0 if it exists, a negative errno otherwise.
 */
int uml_vfio_user_device_exists(const char *device)
{
	char path[UML_VFIO_PATH_LEN];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", device);
	return access(path, F_OK) ? -errno : 0;
}

/**
 * uml_vfio_user_get_driver() - name the host driver the device is bound to
 * @device: address as sysfs names it
 * @buf: where the name goes ("" when unbound)
 * @size: size of @buf
 *
 * Only used to explain a failure, so it never fails itself.
 *
 * Return: @buf's length.
 */
int uml_vfio_user_get_driver(const char *device, char *buf, int size)
{
	char path[UML_VFIO_PATH_LEN], link[UML_VFIO_PATH_LEN];
	const char *name;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", device);
	if (vfio_readlink(path, link, sizeof(link)) <= 0)
		return 0;
	name = strrchr(link, '/');
	snprintf(buf, size, "%s", name ? name + 1 : link);
	return strlen(buf);
}

int uml_vfio_user_open_container(void)
{
	int r, fd;

	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	r = ioctl(fd, VFIO_GET_API_VERSION);
	if (r != VFIO_API_VERSION) {
		r = r < 0 ? -errno : -EPROTO;
		goto error;
	}

	/* Without vfio_iommu_type1 loaded this answers 0, not an error. */
	r = ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU);
	if (r <= 0) {
		r = r < 0 ? -errno : -ENODEV;
		goto error;
	}

	return fd;

error:
	close(fd);
	return r;
}

/*
 * Type1 v2 when the host has it (every kernel since 3.x): it refuses an
 * unmap that would cut a mapping in two instead of removing it whole.
 */
int uml_vfio_user_set_iommu(int container)
{
	unsigned long type = VFIO_TYPE1_IOMMU;

	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		type = VFIO_TYPE1v2_IOMMU;
	if (ioctl(container, VFIO_SET_IOMMU, type) < 0)
		return -errno;
	return 0;
}

static void vfio_iommu_caps(struct vfio_iommu_type1_info *vinfo,
			    unsigned int argsz, struct uml_vfio_iommu_info *info,
			    int max_ranges)
{
	struct vfio_iommu_type1_info_cap_iova_range *cap;
	struct vfio_info_cap_header *hdr;
	unsigned int off, i;

	for (off = vinfo->cap_offset; off && off + sizeof(*hdr) <= argsz;
	     off = hdr->next) {
		hdr = (void *)vinfo + off;
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL &&
		    off + sizeof(struct vfio_iommu_type1_info_dma_avail) <= argsz) {
			info->dma_avail =
				((struct vfio_iommu_type1_info_dma_avail *)hdr)->avail;
			continue;
		}
		if (hdr->id != VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE ||
		    off + sizeof(*cap) > argsz)
			continue;
		cap = (void *)hdr;
		for (i = 0; i < cap->nr_iovas && (int)i < max_ranges &&
		     off + sizeof(*cap) + (i + 1) * sizeof(cap->iova_ranges[0]) <= argsz;
		     i++) {
			info->ranges[i].start = cap->iova_ranges[i].start;
			info->ranges[i].last = cap->iova_ranges[i].end;
		}
		info->nr_ranges = i;
	}
}

/**
 * uml_vfio_user_get_iommu_info() - what the container's IOMMU can map
 * @container: container fd, with the IOMMU selected
 * @info: filled in; @info->ranges must have room for @max_ranges
 * @max_ranges: ranges to store at most (the lowest ones)
 *
 * Return: 0 or a negative errno.
 */
int uml_vfio_user_get_iommu_info(int container,
				 struct uml_vfio_iommu_info *info,
				 int max_ranges)
{
	struct vfio_iommu_type1_info *vinfo;
	unsigned int argsz = sizeof(*vinfo);
	int err = 0;

	info->pgsizes = 0;
	info->dma_avail = 0;
	info->nr_ranges = 0;
	for (;;) {
		vinfo = uml_kmalloc(argsz, UM_GFP_KERNEL);
		if (!vinfo)
			return -ENOMEM;
		memset(vinfo, 0, argsz);
		vinfo->argsz = argsz;
		if (ioctl(container, VFIO_IOMMU_GET_INFO, vinfo) < 0) {
			err = -errno;
			goto out;
		}
		if (vinfo->argsz <= argsz)
			break;
		argsz = vinfo->argsz;
		kfree(vinfo);
	}

	if (vinfo->flags & VFIO_IOMMU_INFO_PGSIZES)
		info->pgsizes = vinfo->iova_pgsizes;
	if (vinfo->flags & VFIO_IOMMU_INFO_CAPS)
		vfio_iommu_caps(vinfo, argsz, info, max_ranges);
out:
	kfree(vinfo);
	return err;
}

/* Adds the memory ranges of one sysfs "resource" file to @ranges. */
static int vfio_pci_mmio_of(const char *name, char *buf, int len,
			    struct uml_vfio_iova_range *ranges, int n, int max)
{
	unsigned long long start, end, flags;
	char path[UML_VFIO_PATH_LEN], *line, *next;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return n;
	got = read(fd, buf, len - 1);
	close(fd);
	if (got <= 0)
		return n;
	buf[got] = '\0';

	for (line = buf; line && *line && n < max; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3 ||
		    !(flags & 0x200) || end <= start)	/* IORESOURCE_MEM */
			continue;
		ranges[n].start = start;
		ranges[n].last = end;
		n++;
	}
	return n;
}

/**
 * uml_vfio_user_get_pci_mmio() - the host's PCI memory ranges
 * @ranges: where they go
 * @max: room in @ranges
 *
 * Every memory BAR of every host PCI device and every bridge window, from
 * sysfs (readable by any user). A device DMA to such an address may be
 * routed to that device instead of the IOMMU (peer-to-peer, without ACS;
 * QEMU's nvme also refuses its own BAR's addresses), so IOVAs stay out of
 * them, as dma-iommu keeps them out of the host bridge windows.
 *
 * Return: the number of ranges stored (at most @max), or a negative errno.
 */
int uml_vfio_user_get_pci_mmio(struct uml_vfio_iova_range *ranges, int max)
{
	struct dirent *de;
	int n = 0, len = 4096;
	char *buf;
	DIR *dir;

	buf = uml_kmalloc(len, UM_GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	dir = opendir("/sys/bus/pci/devices");
	if (!dir) {
		n = -errno;
		goto out;
	}
	while (n < max && (de = readdir(dir)))
		if (de->d_name[0] != '.')
			n = vfio_pci_mmio_of(de->d_name, buf, len, ranges, n, max);
	closedir(dir);
out:
	kfree(buf);
	return n;
}

/**
 * uml_vfio_user_dma_map() - map UML memory at an IOVA for device DMA
 * @container: container fd, with the IOMMU selected
 * @vaddr: where the memory is in UML's (host) address space
 * @iova: where devices see it
 * @size: bytes, a multiple of the IOMMU page size
 * @access: UML_VFIO_DMA_READ and/or UML_VFIO_DMA_WRITE
 *
 * The host pins the pages, against the process's RLIMIT_MEMLOCK.
 *
 * Return: 0 or a negative errno.
 */
int uml_vfio_user_dma_map(int container, unsigned long vaddr,
			  unsigned long long iova, unsigned long long size,
			  int access)
{
	struct vfio_iommu_type1_dma_map dma_map = {
		.argsz = sizeof(dma_map),
		.vaddr = vaddr,
		.iova = iova,
		.size = size,
	};

	if (access & UML_VFIO_DMA_READ)
		dma_map.flags |= VFIO_DMA_MAP_FLAG_READ;
	if (access & UML_VFIO_DMA_WRITE)
		dma_map.flags |= VFIO_DMA_MAP_FLAG_WRITE;
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &dma_map) < 0)
		return -errno;
	return 0;
}

/*
 * Removes the mappings in [iova, iova + size), which must cover them
 * whole; once this returns, the IOMMU refuses device accesses there.
 */
int uml_vfio_user_dma_unmap(int container, unsigned long long iova,
			    unsigned long long size)
{
	struct vfio_iommu_type1_dma_unmap dma_unmap = {
		.argsz = sizeof(dma_unmap),
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &dma_unmap) < 0)
		return -errno;
	return dma_unmap.size == size ? 0 : -ENOENT;
}

/* Return: RLIMIT_MEMLOCK in bytes, ULLONG_MAX if unlimited or unknown. */
unsigned long long uml_vfio_user_memlock_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return ULLONG_MAX;
	return rl.rlim_cur;
}

/**
 * uml_vfio_user_get_group_id() - read the device's IOMMU group number
 * @device: address as sysfs names it
 *
 * Return: the group number or a negative errno.
 */
int uml_vfio_user_get_group_id(const char *device)
{
	char path[UML_VFIO_PATH_LEN], link[UML_VFIO_PATH_LEN];
	const char *name;
	unsigned long id;
	ssize_t n;
	char *end;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 device);
	n = vfio_readlink(path, link, sizeof(link));
	if (n < 0)
		return n;

	name = strrchr(link, '/');
	name = name ? name + 1 : link;
	errno = 0;
	id = strtoul(name, &end, 10);
	if (errno || *end != '\0' || end == name || id > INT_MAX)
		return -EINVAL;

	return id;
}

int uml_vfio_user_open_group(int group_id)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group_id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Return: 1 if every device of the group is bound to VFIO (or none), 0 if not. */
int uml_vfio_user_group_viable(int group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };

	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0)
		return -errno;

	return !!(status.flags & VFIO_GROUP_FLAGS_VIABLE);
}

int uml_vfio_user_set_container(int container, int group)
{
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
		return -errno;
	return 0;
}

void uml_vfio_user_unset_container(int container, int group)
{
	ioctl(group, VFIO_GROUP_UNSET_CONTAINER, &container);
}

static int vfio_get_regions(struct uml_vfio_user_device *dev,
			    unsigned int num_regions)
{
	unsigned int i;

	memset(dev->region, 0, sizeof(dev->region));
	for (i = 0; i < num_regions && i < UML_VFIO_NUM_REGIONS; i++) {
		struct vfio_region_info info = {
			.argsz = sizeof(info),
			.index = i,
		};

		if (ioctl(dev->device, VFIO_DEVICE_GET_REGION_INFO, &info) < 0)
			return -errno;
		dev->region[i].size = info.size;
		dev->region[i].offset = info.offset;
	}

	return 0;
}

/*
 * VFIO_DEVICE_SET_IRQS with @action on @count vectors of @index from
 * @start, with the eventfds in @fds, or with no data when @fds is NULL.
 */
static int vfio_set_irqs(struct uml_vfio_user_device *dev, unsigned int action,
			 unsigned int index, unsigned int start,
			 unsigned int count, const int *fds)
{
	struct vfio_irq_set *irq_set = dev->irq_set;

	irq_set->argsz = sizeof(*irq_set) + (fds ? sizeof(int) * count : 0);
	irq_set->flags = action | (fds ? VFIO_IRQ_SET_DATA_EVENTFD :
					 VFIO_IRQ_SET_DATA_NONE);
	irq_set->index = index;
	irq_set->start = start;
	irq_set->count = count;
	if (fds)
		memcpy(irq_set->data, fds, sizeof(int) * count);

	if (ioctl(dev->device, VFIO_DEVICE_SET_IRQS, irq_set) < 0)
		return -errno;
	return 0;
}

/**
 * vfio_setup_event() - have VFIO signal one of the device's events
 * @dev: device
 * @num_irqs: the device's number of IRQ indexes
 * @index: VFIO_PCI_REQ_IRQ_INDEX or VFIO_PCI_ERR_IRQ_INDEX
 * @tag: what uml_vfio_user_poll_irqs() reports it as
 * @fdp: the eventfd, or -1 if the device has no such event
 *
 * VFIO signals the request eventfd when the host wants the device back
 * (e.g. an unbind from vfio-pci; without one, such an unbind blocks until
 * UML exits), and the error eventfd when AER reports an uncorrectable
 * error (PCIe devices only). Both share the epoll fd with the vectors.
 *
 * Return: 0 or a negative errno.
 */
static int vfio_setup_event(struct uml_vfio_user_device *dev,
			    unsigned int num_irqs, unsigned int index, int tag,
			    int *fdp)
{
	struct vfio_irq_info info = {
		.argsz = sizeof(info),
		.index = index,
	};
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u32 = (unsigned int)tag,
	};
	int fd, err;

	*fdp = -1;
	if (num_irqs <= index ||
	    ioctl(dev->device, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0 ||
	    info.count < 1 || !(info.flags & VFIO_IRQ_INFO_EVENTFD))
		return 0;

	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -errno;

	if (epoll_ctl(dev->epoll, EPOLL_CTL_ADD, fd, &ev) < 0)
		err = -errno;
	else
		err = vfio_set_irqs(dev, VFIO_IRQ_SET_ACTION_TRIGGER, index,
				    0, 1, &fd);
	if (err) {
		close(fd);
		return err;
	}

	*fdp = fd;
	return 0;
}

/* The mmap-able parts of a region: the sparse areas, else all of it. */
static int vfio_map_region(struct uml_vfio_user_device *dev, int index)
{
	struct uml_vfio_user_region *r = &dev->region[index];
	struct vfio_region_info_cap_sparse_mmap *sparse = NULL;
	struct vfio_region_info *info;
	struct vfio_info_cap_header *hdr;
	unsigned int argsz = sizeof(*info), off;
	int i, n, err = 0;

	for (;;) {
		info = uml_kmalloc(argsz, UM_GFP_KERNEL);
		if (!info)
			return -ENOMEM;
		memset(info, 0, argsz);
		info->argsz = argsz;
		info->index = index;
		if (ioctl(dev->device, VFIO_DEVICE_GET_REGION_INFO, info) < 0) {
			err = -errno;
			goto out;
		}
		if (info->argsz <= argsz)
			break;
		argsz = info->argsz;
		kfree(info);
	}

	if (!(info->flags & VFIO_REGION_INFO_FLAG_MMAP) || !info->size)
		goto out;

	if (info->flags & VFIO_REGION_INFO_FLAG_CAPS) {
		for (off = info->cap_offset; off && off + sizeof(*hdr) <= argsz;
		     off = hdr->next) {
			hdr = (void *)info + off;
			if (hdr->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
				sparse = (void *)hdr;
				break;
			}
		}
	}

	n = sparse ? sparse->nr_areas : 1;
	if (!n)
		goto out;
	r->maps = uml_kmalloc(sizeof(*r->maps) * n, UM_GFP_KERNEL);
	if (!r->maps) {
		err = -ENOMEM;
		goto out;
	}

	for (i = 0; i < n; i++) {
		struct uml_vfio_user_map *m = &r->maps[r->nr_maps];

		m->offset = sparse ? sparse->areas[i].offset : 0;
		m->size = sparse ? sparse->areas[i].size : info->size;
		if (!m->size || m->offset + m->size > info->size)
			continue;
		/*
		 * The host picks the address: like the stacks of UML's helper
		 * threads, it lands in the host's mmap area, far above the
		 * lowest-first vmalloc range that UML's kernel maps itself.
		 */
		m->addr = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       dev->device, r->offset + m->offset);
		if (m->addr == MAP_FAILED) {
			err = -errno;
			break;
		}
		/*
		 * Not into children: a helper that UML starts without CLONE_VM
		 * (the SIGWINCH thread of a console on a terminal) would hold
		 * the device file, and with it the group, open after UML let
		 * go of the device. It cannot fail on a valid mapping.
		 */
		madvise(m->addr, m->size, MADV_DONTFORK);
		r->nr_maps++;
	}

out:
	kfree(info);
	return err;
}

static void vfio_unmap_bars(struct uml_vfio_user_device *dev)
{
	int i, j;

	for (i = 0; i < UML_VFIO_NUM_BARS; i++) {
		struct uml_vfio_user_region *r = &dev->region[i];

		for (j = 0; j < r->nr_maps; j++)
			munmap(r->maps[j].addr, r->maps[j].size);
		kfree(r->maps);
		r->maps = NULL;
		r->nr_maps = 0;
	}
}

/**
 * uml_vfio_user_map_bars() - map the BARs that the host lets us map
 * @dev: device
 *
 * What cannot be mapped (vfio-pci leaves out the MSI-X table and PBA
 * unless the platform can remap interrupts) stays on pread/pwrite.
 *
 * Return: 0, or the first error; what was mapped before it stays mapped.
 */
int uml_vfio_user_map_bars(struct uml_vfio_user_device *dev)
{
	int i, err;

	for (i = 0; i < UML_VFIO_NUM_BARS; i++) {
		err = vfio_map_region(dev, i);
		if (err)
			return err;
	}
	return 0;
}

/*
 * How many vectors of each kind (INTx, MSI, MSI-X) VFIO offers, and
 * whether it can add vectors to enabled MSI-X. VFIO reports what the
 * device has; a kind the device lacks has a count of 0.
 */
static int vfio_get_irq_kinds(struct uml_vfio_user_device *dev,
			      unsigned int num_irqs)
{
	int kind;

	dev->irq_resizable = false;
	for (kind = 0; kind < UML_VFIO_NUM_KINDS; kind++) {
		struct vfio_irq_info info = {
			.argsz = sizeof(info),
			.index = kind,
		};

		dev->irq_count[kind] = 0;
		if ((unsigned int)kind >= num_irqs)
			continue;
		if (ioctl(dev->device, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
			return -errno;
		if (!(info.flags & VFIO_IRQ_INFO_EVENTFD))
			continue;
		dev->irq_count[kind] = info.count;
		if (kind == UML_VFIO_MSIX)
			dev->irq_resizable = !(info.flags & VFIO_IRQ_INFO_NORESIZE);
	}
	return 0;
}

/**
 * uml_vfio_user_abandon_bars() - let go of the BAR mappings, not of their addresses
 * @dev: device
 *
 * Each mapping is replaced by anonymous memory at its address, which then
 * stays mapped for good: a guest access that found a BAR's direct window
 * before it was revoked may still load or store there. The device's pages
 * are let go of, as closing the device needs (a mapping holds its file).
 */
void uml_vfio_user_abandon_bars(struct uml_vfio_user_device *dev)
{
	int i, j;

	for (i = 0; i < UML_VFIO_NUM_BARS; i++) {
		struct uml_vfio_user_region *r = &dev->region[i];

		for (j = 0; j < r->nr_maps; j++) {
			struct uml_vfio_user_map *m = &r->maps[j];

			if (mmap(m->addr, m->size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				 MAP_NORESERVE, -1, 0) == MAP_FAILED)
				munmap(m->addr, m->size);
		}
		kfree(r->maps);
		r->maps = NULL;
		r->nr_maps = 0;
	}
}

/* Return: 0, -ENOTTY if VFIO cannot reset the device, or a negative errno. */
int uml_vfio_user_reset_device(struct uml_vfio_user_device *dev)
{
	if (!dev->can_reset)
		return -ENOTTY;
	if (ioctl(dev->device, VFIO_DEVICE_RESET) < 0)
		return -errno;
	return 0;
}

/* A device fd opened in a host thread of its own (uml_vfio_user_open_early()). */
struct vfio_opener {
	struct os_helper_thread *td;
	int group;
	int fd;			/* the device fd or a negative errno */
	char device[32];	/* "dddddddd:bb:ss.f" */
};

static void *vfio_open_thread(void *arg)
{
	struct vfio_opener *op = arg;

	op->fd = ioctl(op->group, VFIO_GROUP_GET_DEVICE_FD, op->device);
	if (op->fd < 0)
		op->fd = -errno;
	return NULL;
}

/* Return: the fd the thread opened, or its negative errno. */
static int vfio_open_wait(struct vfio_opener *op)
{
	int fd;

	os_join_helper_thread(op->td);
	fd = op->fd;
	kfree(op);
	return fd;
}

/**
 * uml_vfio_user_open_early() - start opening a device fd in a host thread
 * @dev: device, not set up yet
 * @group: its group fd, in the container
 * @device: device name
 *
 * vfio-pci resets a device as it is opened; a function-level reset alone
 * waits 100 ms. Opened in a thread of its own, a device given at boot is
 * reset while UML boots on, and at the same time as the other devices.
 * uml_vfio_user_setup_device() waits for the thread.
 *
 * Return: 0, or a negative errno if no thread was started (then
 * uml_vfio_user_setup_device() opens the device itself).
 */
int uml_vfio_user_open_early(struct uml_vfio_user_device *dev, int group,
			     const char *device)
{
	struct vfio_opener *op;
	int err;

	op = uml_kmalloc(sizeof(*op), UM_GFP_KERNEL);
	if (!op)
		return -ENOMEM;
	op->group = group;
	if (snprintf(op->device, sizeof(op->device), "%s", device) >=
	    sizeof(op->device)) {
		kfree(op);
		return -ENAMETOOLONG;
	}

	err = os_run_helper_thread(&op->td, vfio_open_thread, op);
	if (err) {
		kfree(op);
		return err;
	}
	dev->opener = op;
	return 0;
}

/**
 * uml_vfio_user_setup_device() - open a device of an attached group
 * @dev: filled in on success
 * @group: group fd, already in the container
 * @device: address as sysfs names it
 * @step: on failure, set to what failed
 *
 * Every interrupt kind is left disabled on the host: the kernel half
 * enables the one the guest uses with uml_vfio_user_update_irqs().
 *
 * Return: 0 or a negative errno.
 */
int uml_vfio_user_setup_device(struct uml_vfio_user_device *dev, int group,
			       const char *device, const char **step)
{
	struct vfio_device_info device_info = { .argsz = sizeof(device_info) };
	int err, i, kind;

	dev->reqfd = -1;
	dev->errfd = -1;
	*step = "getting device fd";
	if (dev->opener) {
		dev->device = vfio_open_wait(dev->opener);
		dev->opener = NULL;
	} else {
		dev->device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, device);
		if (dev->device < 0)
			dev->device = -errno;
	}
	if (dev->device < 0)
		return dev->device;

	*step = "reading device info";
	if (ioctl(dev->device, VFIO_DEVICE_GET_INFO, &device_info) < 0) {
		err = -errno;
		goto close_device;
	}

	dev->can_reset = device_info.flags & VFIO_DEVICE_FLAGS_RESET;

	*step = "reading region info";
	err = vfio_get_regions(dev, device_info.num_regions);
	if (err)
		goto close_device;

	*step = "reading interrupt info";
	err = vfio_get_irq_kinds(dev, device_info.num_irqs);
	if (err)
		goto close_device;

	*step = "allocating interrupt state";
	err = -ENOMEM;
	dev->nr_irqfds = 1;
	for (kind = 0; kind < UML_VFIO_NUM_KINDS; kind++) {
		if (dev->irq_count[kind] > dev->nr_irqfds)
			dev->nr_irqfds = dev->irq_count[kind];
	}
	dev->irqfd = uml_kmalloc(sizeof(int) * dev->nr_irqfds, UM_GFP_KERNEL);
	if (!dev->irqfd)
		goto close_device;
	for (i = 0; i < dev->nr_irqfds; i++)
		dev->irqfd[i] = -1;

	dev->irq_set = uml_kmalloc(sizeof(struct vfio_irq_set) +
				   sizeof(int) * (dev->nr_irqfds + 1),
				   UM_GFP_KERNEL);
	if (!dev->irq_set)
		goto free_irqfd;

	*step = "creating epoll fd";
	dev->epoll = epoll_create1(EPOLL_CLOEXEC);
	if (dev->epoll < 0) {
		err = -errno;
		goto free_irq_set;
	}

	*step = "setting up the request eventfd";
	err = vfio_setup_event(dev, device_info.num_irqs, VFIO_PCI_REQ_IRQ_INDEX,
			       UML_VFIO_REQUEST, &dev->reqfd);
	if (err)
		goto close_epoll;

	*step = "setting up the error eventfd";
	err = vfio_setup_event(dev, device_info.num_irqs, VFIO_PCI_ERR_IRQ_INDEX,
			       UML_VFIO_ERROR, &dev->errfd);
	if (err)
		goto close_reqfd;

	return 0;

close_reqfd:
	if (dev->reqfd >= 0)
		close(dev->reqfd);
close_epoll:
	close(dev->epoll);

free_irq_set:
	kfree(dev->irq_set);
free_irqfd:
	kfree(dev->irqfd);
close_device:
	close(dev->device);
	return err;
}

/* Undoes uml_vfio_user_setup_device(); interrupts must be disabled first. */
void uml_vfio_user_teardown_device(struct uml_vfio_user_device *dev)
{
	int i;

	for (i = 0; i < dev->nr_irqfds; i++)
		uml_vfio_user_deactivate_irq(dev, i);
	vfio_unmap_bars(dev);
	if (dev->errfd >= 0)
		close(dev->errfd);
	if (dev->reqfd >= 0)
		close(dev->reqfd);
	close(dev->epoll);
	kfree(dev->irq_set);
	kfree(dev->irqfd);
	close(dev->device);
}

/*
 * Creates the vector's eventfd; only host syscalls, safe in atomic context.
 * It is watched edge-triggered: every interrupt is a write to it, hence a
 * new edge, so it never needs to be read (one system call less each time).
 */
int uml_vfio_user_activate_irq(struct uml_vfio_user_device *dev, int index)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLET,
		.data.u32 = index,
	};
	int fd;

	if (dev->irqfd[index] >= 0)
		return 0;

	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -errno;

	if (epoll_ctl(dev->epoll, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}

	dev->irqfd[index] = fd;
	return 0;
}

void uml_vfio_user_deactivate_irq(struct uml_vfio_user_device *dev, int index)
{
	if (dev->irqfd[index] < 0)
		return;

	epoll_ctl(dev->epoll, EPOLL_CTL_DEL, dev->irqfd[index], NULL);
	close(dev->irqfd[index]);
	dev->irqfd[index] = -1;
}

/**
 * uml_vfio_user_update_irqs() - push eventfds of vectors to VFIO
 * @dev: device
 * @kind: UML_VFIO_INTX, UML_VFIO_MSI or UML_VFIO_MSIX
 * @start: first vector
 * @count: number of vectors
 *
 * The first call for a kind that is disabled on the host enables it with
 * @start + @count vectors; later calls only change triggers (and, where
 * VFIO can, add MSI-X vectors). VFIO refuses to enable a kind while
 * another one is enabled.
 *
 * Return: 0 or a negative errno.
 */
int uml_vfio_user_update_irqs(struct uml_vfio_user_device *dev, int kind,
			      int start, int count)
{
	return vfio_set_irqs(dev, VFIO_IRQ_SET_ACTION_TRIGGER, kind,
			     start, count, &dev->irqfd[start]);
}

int uml_vfio_user_disable_irqs(struct uml_vfio_user_device *dev, int kind)
{
	return vfio_set_irqs(dev, VFIO_IRQ_SET_ACTION_TRIGGER, kind, 0, 0,
			     NULL);
}

/*
 * VFIO masks INTx when it signals it, until it is unmasked here: a line
 * that is still asserted then fires again.
 */
int uml_vfio_user_unmask_intx(struct uml_vfio_user_device *dev)
{
	return vfio_set_irqs(dev, VFIO_IRQ_SET_ACTION_UNMASK,
			     VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL);
}

/**
 * uml_vfio_user_poll_irqs() - collect vectors that fired, without blocking
 * @dev: device
 * @fired: vector indexes that fired are stored here
 * @max: room in @fired
 *
 * Vectors are reported once per new interrupt (their eventfds are
 * edge-triggered); an interrupt that arrives after this call makes the
 * device's epoll fd, and so its UML IRQ, fire again.
 *
 * Return: the number of vectors stored, or a negative errno.
 */
int uml_vfio_user_poll_irqs(struct uml_vfio_user_device *dev, int *fired,
			    int max)
{
	struct epoll_event ev[UML_VFIO_POLL_BATCH];
	int i, n, count = 0;
	unsigned long long v;

	if (max > UML_VFIO_POLL_BATCH)
		max = UML_VFIO_POLL_BATCH;

	n = epoll_wait(dev->epoll, ev, max, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;

	for (i = 0; i < n; i++) {
		int index = ev[i].data.u32;

		if (index == UML_VFIO_REQUEST || index == UML_VFIO_ERROR) {
			int fd = index == UML_VFIO_ERROR ? dev->errfd : dev->reqfd;

			if (read(fd, &v, sizeof(v)) == sizeof(v))
				fired[count++] = index;
			continue;
		}
		if (index >= 0 && index < dev->nr_irqfds && dev->irqfd[index] >= 0)
			fired[count++] = index;
	}

	return count;
}

/* Re-signals a vector whose interrupt arrived while it was masked. */
int uml_vfio_user_kick_irq(struct uml_vfio_user_device *dev, int index)
{
	unsigned long long v = 1;

	if (dev->irqfd[index] < 0)
		return -EBADF;
	if (write(dev->irqfd[index], &v, sizeof(v)) != sizeof(v))
		return -errno;
	return 0;
}

/* Signals the request eventfd as VFIO does (fault injection). */
int uml_vfio_user_kick_request(struct uml_vfio_user_device *dev)
{
	unsigned long long v = 1;

	if (dev->reqfd < 0)
		return -ENOENT;
	if (write(dev->reqfd, &v, sizeof(v)) != sizeof(v))
		return -errno;
	return 0;
}

static int vfio_region_check(struct uml_vfio_user_device *dev, int index,
			     unsigned long long offset, int size)
{
	if (index < 0 || index >= UML_VFIO_NUM_REGIONS || size < 0)
		return -EINVAL;
	if (offset > dev->region[index].size ||
	    size > dev->region[index].size - offset)
		return -ERANGE;
	return 0;
}

/* Return: 0 or a negative errno; a short transfer is -EIO. */
int uml_vfio_user_region_read(struct uml_vfio_user_device *dev, int index,
			      unsigned long long offset, void *buf, int size)
{
	ssize_t n;
	int err;

	err = vfio_region_check(dev, index, offset, size);
	if (err)
		return err;

	n = pread(dev->device, buf, size, dev->region[index].offset + offset);
	if (n < 0)
		return -errno;
	return n == size ? 0 : -EIO;
}

int uml_vfio_user_region_write(struct uml_vfio_user_device *dev, int index,
			       unsigned long long offset, const void *buf,
			       int size)
{
	ssize_t n;
	int err;

	err = vfio_region_check(dev, index, offset, size);
	if (err)
		return err;

	n = pwrite(dev->device, buf, size, dev->region[index].offset + offset);
	if (n < 0)
		return -errno;
	return n == size ? 0 : -EIO;
}
