/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __UM_VFIO_USER_H
#define __UM_VFIO_USER_H

/*
 * vfio-pci region indexes 0-5 are the BARs, 6 the ROM and 7 config space;
 * this header is shared with the kernel half, which cannot see the host's
 * <linux/vfio.h>.
 */
#define UML_VFIO_NUM_REGIONS	8
#define UML_VFIO_NUM_BARS	6
#define UML_VFIO_CONFIG_REGION	7

/*
 * Reported by uml_vfio_user_poll_irqs() besides vectors (>= 0): the host
 * wants the device back, or reports an uncorrectable error on it.
 */
#define UML_VFIO_REQUEST	(-1)
#define UML_VFIO_ERROR		(-2)

/* Interrupt kinds: VFIO's interrupt indexes of a PCI device. */
#define UML_VFIO_INTX		0
#define UML_VFIO_MSI		1
#define UML_VFIO_MSIX		2
#define UML_VFIO_NUM_KINDS	3

/* A part of a BAR mapped into UML's (host) address space. */
struct uml_vfio_user_map {
	unsigned long long offset;
	unsigned long long size;
	void *addr;
};

struct uml_vfio_user_region {
	unsigned long long size;
	unsigned long long offset;
	struct uml_vfio_user_map *maps;
	int nr_maps;
};

struct uml_vfio_user_device {
	int device;
	/* The thread opening it, if uml_vfio_user_open_early() started one. */
	void *opener;
	/* Readiness of all vector eventfds, registered as one UML IRQ. */
	int epoll;
	/* VFIO's request and error eventfds, or -1 if the device has none. */
	int reqfd;
	int errfd;

	struct uml_vfio_user_region region[UML_VFIO_NUM_REGIONS];
	bool can_reset;		/* VFIO_DEVICE_RESET works */

	/* Vectors the host offers, per kind (UML_VFIO_INTX...). */
	int irq_count[UML_VFIO_NUM_KINDS];
	bool irq_resizable;	/* VFIO can add vectors to enabled MSI-X */
	/* One eventfd per vector of the kind enabled on the host. */
	int nr_irqfds;
	int *irqfd;
	/* VFIO_DEVICE_SET_IRQS argument, preallocated for atomic context. */
	void *irq_set;
};

const char *uml_vfio_user_strerror(int err);
int uml_vfio_user_device_exists(const char *device);
int uml_vfio_user_get_driver(const char *device, char *buf, int size);

int uml_vfio_user_open_container(void);
int uml_vfio_user_set_iommu(int container);

/* A range of IOVAs the host lets the container map, both ends included. */
struct uml_vfio_iova_range {
	unsigned long long start;
	unsigned long long last;
};

/* What the container's IOMMU allows (uml_vfio_user_get_iommu_info()). */
struct uml_vfio_iommu_info {
	unsigned long long pgsizes;	/* IOMMU page sizes, 0 if not reported */
	unsigned int dma_avail;		/* mappings left, 0 if not reported */
	int nr_ranges;			/* 0: the host reports no ranges */
	struct uml_vfio_iova_range *ranges;
};

/* Access a device has to a DMA mapping (uml_vfio_user_dma_map()). */
#define UML_VFIO_DMA_READ	0x1	/* the device reads the memory */
#define UML_VFIO_DMA_WRITE	0x2	/* the device writes it */

int uml_vfio_user_get_iommu_info(int container,
				 struct uml_vfio_iommu_info *info,
				 int max_ranges);
int uml_vfio_user_get_pci_mmio(struct uml_vfio_iova_range *ranges, int max);
int uml_vfio_user_dma_map(int container, unsigned long vaddr,
			  unsigned long long iova, unsigned long long size,
			  int access);
int uml_vfio_user_dma_unmap(int container, unsigned long long iova,
			    unsigned long long size);
unsigned long long uml_vfio_user_memlock_limit(void);

int uml_vfio_user_get_group_id(const char *device);
int uml_vfio_user_open_group(int group_id);
int uml_vfio_user_group_viable(int group);
int uml_vfio_user_set_container(int container, int group);
void uml_vfio_user_unset_container(int container, int group);

int uml_vfio_user_open_early(struct uml_vfio_user_device *dev, int group,
			     const char *device);
int uml_vfio_user_setup_device(struct uml_vfio_user_device *dev, int group,
			       const char *device, const char **step);
int uml_vfio_user_map_bars(struct uml_vfio_user_device *dev);
void uml_vfio_user_abandon_bars(struct uml_vfio_user_device *dev);
int uml_vfio_user_reset_device(struct uml_vfio_user_device *dev);
void uml_vfio_user_teardown_device(struct uml_vfio_user_device *dev);

int uml_vfio_user_activate_irq(struct uml_vfio_user_device *dev, int index);
void uml_vfio_user_deactivate_irq(struct uml_vfio_user_device *dev,
				  int index);
int uml_vfio_user_update_irqs(struct uml_vfio_user_device *dev, int kind,
			      int start, int count);
int uml_vfio_user_disable_irqs(struct uml_vfio_user_device *dev, int kind);
int uml_vfio_user_unmask_intx(struct uml_vfio_user_device *dev);
int uml_vfio_user_poll_irqs(struct uml_vfio_user_device *dev, int *fired,
			    int max);
int uml_vfio_user_kick_irq(struct uml_vfio_user_device *dev, int index);
int uml_vfio_user_kick_request(struct uml_vfio_user_device *dev);

int uml_vfio_user_region_read(struct uml_vfio_user_device *dev, int index,
			      unsigned long long offset, void *buf, int size);
int uml_vfio_user_region_write(struct uml_vfio_user_device *dev, int index,
			       unsigned long long offset, const void *buf,
			       int size);

#endif /* __UM_VFIO_USER_H */
