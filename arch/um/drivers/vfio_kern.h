/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel half of the VFIO-based virtual PCI driver: what its files share.
 *
 *   vfio_kern.c  device lifecycle, parameters and IOMMU groups
 *   vfio_dma.c   the VFIO container and the DMA mapping of UML memory
 *   vfio_bar.c   config space and BAR accesses (um_pci_ops, logic_iomem)
 *   vfio_intr.c  interrupt emulation (MSI-X, MSI, INTx) and the device's
 *                UML IRQ
 *
 * vfio_user.c is the host half: every host system call is made there.
 *
 * Locking:
 * - uml_vfio_mtx serialises device set-up and release, and guards the
 *   device and group lists and the container;
 * - each device's lock (a raw spinlock, taken with interrupts off, since
 *   MSI-X table writes, MSI capability writes and the INTx chip's calls
 *   come under an IRQ descriptor's or the PCI config lock) guards its
 *   interrupt state, its state and its host_request flag against its
 *   interrupt handler. It is taken inside those locks: no IRQ descriptor
 *   lock is taken with it held (the interrupt handler drops it before
 *   generic_handle_irq()).
 * - the DMA ops run in any context. The DMA state they use is set up under
 *   uml_vfio_mtx before the first device is registered, and freed under it
 *   only when the last group leaves the container, when every device has
 *   been unregistered (never as UML exits: uml_vfio_exiting). In
 *   vfio_dma.c, a spinlock (interrupts off) serialises mapping chunks and
 *   another one the quarantine of unmapped IOVAs; no other lock is taken
 *   under them.
 *
 * A device's life: UML_VFIO_SETUP while it is set up (uml_vfio_mtx held
 * throughout, but for a device given at boot between its early start and
 * its set-up in the late initcall, when no command can reach it yet),
 * UML_VFIO_ACTIVE once registered with virt-pci, then
 * UML_VFIO_RELEASING from the moment whatever releases it claims it (see
 * uml_vfio_request()) until it is freed. Only the claimant releases it.
 */
#ifndef __UM_VFIO_KERN_H
#define __UM_VFIO_KERN_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

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

/* The device's MSI-X capability as the guest sees it (vfio_intr.c). */
struct uml_vfio_msix {
	int cap;		/* config space offset, 0 if it has none */
	int bar;		/* where the table is */
	unsigned int offset;
	unsigned int size;
	int pba_bar;		/* where the PBA is */
	unsigned int pba_offset;
	unsigned int pba_size;
	int vectors;		/* guest-visible vectors the host offers */
	bool enabled;		/* the guest's enable bit */
	bool maskall;		/* the guest's function mask */
	u8 *table;		/* shadow: vfio-pci drops guest writes */
	struct uml_vfio_vector *vec;
};

/* Bytes of the largest MSI capability: 64-bit, per-vector masking. */
#define UML_VFIO_MSI_CAP_MAX	24

/*
 * The device's MSI capability, emulated as a whole (vfio_intr.c): the
 * host's is programmed by VFIO_DEVICE_SET_IRQS only.
 */
struct uml_vfio_msi {
	int cap;		/* config space offset, 0 if it has none */
	int len;		/* its size in config space */
	int vectors;		/* guest-visible vectors the host offers */
	bool enabled;		/* the guest's enable bit */
	int nvec;		/* vectors the guest enabled (1 << QSIZE) */
	u16 data;		/* first vector's UML IRQ; vector k is data + k */
	u32 mask;		/* per-vector mask bits, if it has them */
	u32 pending;		/* fired while masked */
	u8 regs[UML_VFIO_MSI_CAP_MAX];	/* what the guest reads */
	u8 wmask[UML_VFIO_MSI_CAP_MAX];	/* bits the guest can write */
};

/* The device's legacy interrupt (vfio_intr.c). */
struct uml_vfio_intx {
	bool started;		/* the guest requested its IRQ */
	bool masked;		/* the guest's irq_chip has it masked */
	bool host_masked;	/* VFIO masked it when it fired */
};

enum uml_vfio_state {
	UML_VFIO_SETUP,
	UML_VFIO_ACTIVE,
	UML_VFIO_RELEASING,
};

struct uml_vfio_device {
	struct list_head list;
	char name[UML_VFIO_NAME_LEN];
	struct uml_vfio_group *group;

	struct um_pci_device pdev;
	struct uml_vfio_user_device udev;
	int irq;		/* UML IRQ of udev.epoll */
	struct work_struct release_work;

	raw_spinlock_t lock;
	enum uml_vfio_state state;
	bool host_request;	/* the host asked for it back */
	int host_kind;		/* UML_VFIO_INTX... enabled on the host, or -1 */
	int host_vectors;	/* of host_kind, each with its eventfd */
	struct uml_vfio_msix msix;
	struct uml_vfio_msi msi;
	struct uml_vfio_intx intx;
};

#define to_vdev(_pdev) container_of(_pdev, struct uml_vfio_device, pdev)

extern struct mutex uml_vfio_mtx;
extern bool uml_vfio_exiting;

/* vfio_kern.c */
__printf(1, 2) void uml_vfio_err(const char *fmt, ...);
void uml_vfio_fail(const char *dev, const char *step, int err,
		   const char *hint);
void uml_vfio_host_event(struct uml_vfio_device *dev, int event);

/* vfio_dma.c: all but the DMA ops called with uml_vfio_mtx held */
int uml_vfio_container_get(const char *dev);
void uml_vfio_container_put(void);
int uml_vfio_container_attach(const char *dev, int group);
void uml_vfio_container_detach(int group);
int uml_vfio_dma_map_memory(const char *dev);
extern const struct dma_map_ops uml_vfio_dma_ops;

/* vfio_bar.c */
extern bool uml_vfio_mmap;
extern const struct um_pci_ops uml_vfio_um_pci_ops;
extern const struct logic_iomem_ops uml_vfio_bar_ops;
unsigned long uml_vfio_region_read(struct uml_vfio_device *dev, int region,
				   unsigned int offset, int size);
void uml_vfio_region_write(struct uml_vfio_device *dev, int region,
			   unsigned int offset, int size, unsigned long val);
unsigned long uml_vfio_get_le(const u8 *data, int size);
void uml_vfio_put_le(u8 *data, int size, unsigned long val);

/* vfio_intr.c */
int uml_vfio_intr_init(struct uml_vfio_device *dev);
void uml_vfio_intr_free(struct uml_vfio_device *dev);
int uml_vfio_intr_start(struct uml_vfio_device *dev);
void uml_vfio_intr_stop(struct uml_vfio_device *dev);
unsigned long uml_vfio_intr_cfg_read(struct uml_vfio_device *dev,
				     unsigned int offset, int size,
				     unsigned long val);
bool uml_vfio_intr_cfg_write(struct uml_vfio_device *dev, unsigned int offset,
			     int size, unsigned long val);
unsigned long uml_vfio_msix_read(struct uml_vfio_device *dev, int bar,
				 unsigned int offset, int size);
void uml_vfio_msix_write(struct uml_vfio_device *dev, int bar,
			 unsigned int offset, int size, unsigned long val);

/* Does [offset, offset + size) of a BAR touch the MSI-X table or PBA? */
static __always_inline bool uml_vfio_msix_trapped(struct uml_vfio_device *dev,
						  int bar, unsigned int offset,
						  int size)
{
	const struct uml_vfio_msix *m = &dev->msix;

	return (bar == m->bar && offset < m->offset + m->size &&
		offset + size > m->offset) ||
	       (bar == m->pba_bar && offset < m->pba_offset + m->pba_size &&
		offset + size > m->pba_offset);
}

#endif /* __UM_VFIO_KERN_H */
