// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO-based virtual PCI driver: interrupt emulation. The guest's MSI-X
 * capability and table are emulated here; the host's vectors signal
 * eventfds, gathered in the device's epoll fd, which is one UML IRQ.
 */
#define pr_fmt(fmt) "vfio_uml: " fmt

#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/pci_regs.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <irq_kern.h>
#include <os.h>

#include "vfio_kern.h"

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
	return min_t(int, dev->msix.vectors, nr_cpu_ids + 2);
}

/**
 * uml_vfio_msix_arm() - have the host signal vectors [0, @need)
 * @dev: device, with dev->lock held
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
	int have = dev->msix.host_vectors, i, err = 0;

	lockdep_assert_held(&dev->lock);

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
		dev->msix.host_vectors = need;
		return 0;
	}

deactivate:
	for (i = have; i < dev->msix.vectors; i++)
		uml_vfio_user_deactivate_irq(&dev->udev, i);
	dev->msix.host_vectors = have;
	return err;
}

/* Disables host MSI-X and drops every vector's eventfd. */
static void uml_vfio_msix_disarm(struct uml_vfio_device *dev)
{
	int i, err = 0;

	lockdep_assert_held(&dev->lock);

	if (dev->msix.host_vectors)
		err = uml_vfio_user_disable_irqs(&dev->udev);
	if (err)
		pr_err_ratelimited("%s: disabling MSI-X on the host: %s\n",
				   dev->name, uml_vfio_user_strerror(err));
	for (i = 0; i < dev->msix.vectors; i++) {
		uml_vfio_user_deactivate_irq(&dev->udev, i);
		dev->msix.vec[i].pending = false;
	}
	dev->msix.host_vectors = 0;
}

/* Re-deliver, through the eventfd, what arrived while masked. */
static void uml_vfio_msix_unmasked(struct uml_vfio_device *dev, int index)
{
	struct uml_vfio_vector *vec = &dev->msix.vec[index];

	lockdep_assert_held(&dev->lock);

	if (vec->masked || dev->msix.maskall || !vec->pending)
		return;
	vec->pending = false;
	uml_vfio_user_kick_irq(&dev->udev, index);
}

/* The host's MSI-X is not the guest's: show what the guest wrote. */
unsigned long uml_vfio_intr_cfg_read(struct uml_vfio_device *dev,
				     unsigned int offset, int size,
				     unsigned long val)
{
	unsigned int hi = dev->msix.cap + PCI_MSIX_FLAGS + 1, shift;
	unsigned long ctl;

	if (hi >= offset && hi < offset + size) {
		shift = (hi - offset) * 8;
		ctl = (dev->msix.enabled ? PCI_MSIX_FLAGS_ENABLE >> 8 : 0) |
		      (dev->msix.maskall ? PCI_MSIX_FLAGS_MASKALL >> 8 : 0);
		val &= ~((unsigned long)(PCI_MSIX_FLAGS_ENABLE |
					 PCI_MSIX_FLAGS_MASKALL) >> 8 << shift);
		val |= ctl << shift;
	}
	return val;
}

/* A guest write to config space: track its MSI-X enable and mask bits. */
void uml_vfio_intr_cfg_write(struct uml_vfio_device *dev, unsigned int offset,
			     int size, unsigned long val)
{
	/* ENABLE and MASKALL live in the high byte of Message Control. */
	unsigned int hi = dev->msix.cap + PCI_MSIX_FLAGS + 1;
	unsigned long flags;
	u8 ctl;
	int i;

	if (hi < offset || hi >= offset + size)
		return;

	ctl = val >> ((hi - offset) * 8);

	raw_spin_lock_irqsave(&dev->lock, flags);
	dev->msix.enabled = ctl & (PCI_MSIX_FLAGS_ENABLE >> 8);
	dev->msix.maskall = ctl & (PCI_MSIX_FLAGS_MASKALL >> 8);
	for (i = 0; i < dev->msix.vectors; i++) {
		if (!dev->msix.enabled)
			dev->msix.vec[i].pending = false;
		uml_vfio_msix_unmasked(dev, i);
	}
	raw_spin_unlock_irqrestore(&dev->lock, flags);
}

/* A guest read of the MSI-X table: what it wrote, from the shadow. */
unsigned long uml_vfio_msix_table_read(struct uml_vfio_device *dev,
				       unsigned int offset, int size)
{
	return uml_vfio_get_le(dev->msix.table + offset - dev->msix.offset,
			       size);
}

/* A guest write to the MSI-X table: update the shadow, act on changes. */
void uml_vfio_msix_table_write(struct uml_vfio_device *dev,
			       unsigned int offset, int size,
			       unsigned long val)
{
	unsigned int first, last, i;
	unsigned long flags;
	u8 *entry;

	offset -= dev->msix.offset;
	first = offset / PCI_MSIX_ENTRY_SIZE;
	last = (offset + size - 1) / PCI_MSIX_ENTRY_SIZE;

	raw_spin_lock_irqsave(&dev->lock, flags);
	uml_vfio_put_le(dev->msix.table + offset, size, val);

	for (i = first; i <= last; i++) {
		struct uml_vfio_vector *vec;

		if (i >= dev->msix.vectors) {
			pr_err_ratelimited("%s: MSI-X table write to entry %u, but the host offers %d vectors\n",
					   dev->name, i, dev->msix.vectors);
			continue;
		}

		vec = &dev->msix.vec[i];
		entry = dev->msix.table + i * PCI_MSIX_ENTRY_SIZE;
		vec->data = get_unaligned_le32(entry + PCI_MSIX_ENTRY_DATA);
		vec->masked = get_unaligned_le32(entry + PCI_MSIX_ENTRY_VECTOR_CTRL) &
			      PCI_MSIX_ENTRY_CTRL_MASKBIT;
		if (vec->data && i >= dev->msix.host_vectors) {
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
			if (fired[i] < 0 || !dev->msix.enabled)
				continue;
			vec = &dev->msix.vec[fired[i]];
			if (vec->masked || dev->msix.maskall)
				vec->pending = !!vec->data;
			else
				target[i] = vec->data;
		}
		raw_spin_unlock_irqrestore(&dev->lock, flags);
		if (n <= 0)
			break;

		for (i = 0; i < n; i++) {
			if (fired[i] < 0)
				uml_vfio_host_event(dev, fired[i]);
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

/**
 * uml_vfio_intr_init() - read the device's MSI-X capability, set up its shadow
 * @dev: device, opened on the host
 *
 * Return: 0, or a negative errno after reporting it.
 */
int uml_vfio_intr_init(struct uml_vfio_device *dev)
{
	unsigned int table, pba, qsize, i;
	int pos;

	pos = uml_vfio_find_capability(dev, PCI_CAP_ID_MSIX);
	if (!pos) {
		uml_vfio_err("%s: no MSI-X capability (only MSI-X devices are supported for now)\n",
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

	dev->msix.cap = pos;
	dev->msix.bar = table & PCI_MSIX_TABLE_BIR;
	dev->msix.offset = table & PCI_MSIX_TABLE_OFFSET;
	dev->msix.size = qsize * PCI_MSIX_ENTRY_SIZE;
	dev->msix.pba_bar = pba & PCI_MSIX_PBA_BIR;
	dev->msix.pba_offset = pba & PCI_MSIX_PBA_OFFSET;
	dev->msix.pba_size = DIV_ROUND_UP(qsize, 64) * 8;
	dev->msix.vectors = min_t(int, qsize, dev->udev.irq_count);
	if (!dev->msix.vectors) {
		uml_vfio_err("%s: the host offers no MSI-X vectors for it\n",
			     dev->name);
		return -EOPNOTSUPP;
	}

	dev->msix.table = kzalloc(dev->msix.size, GFP_KERNEL);
	dev->msix.vec = kzalloc_objs(*dev->msix.vec, dev->msix.vectors);
	if (!dev->msix.table || !dev->msix.vec) {
		kfree(dev->msix.table);
		kfree(dev->msix.vec);
		uml_vfio_fail(dev->name, "allocating MSI-X state", -ENOMEM, NULL);
		return -ENOMEM;
	}

	/* Vectors come out of reset masked. */
	for (i = 0; i < qsize; i++)
		put_unaligned_le32(PCI_MSIX_ENTRY_CTRL_MASKBIT,
				   dev->msix.table + i * PCI_MSIX_ENTRY_SIZE +
				   PCI_MSIX_ENTRY_VECTOR_CTRL);
	for (i = 0; i < dev->msix.vectors; i++)
		dev->msix.vec[i].masked = true;

	return 0;
}

/* Undoes uml_vfio_intr_init(). */
void uml_vfio_intr_free(struct uml_vfio_device *dev)
{
	kfree(dev->msix.vec);
	kfree(dev->msix.table);
}

/**
 * uml_vfio_intr_start() - have the host signal the device's interrupts
 * @dev: device, set up by uml_vfio_intr_init()
 *
 * Enables host MSI-X, then requests the UML IRQ of the device's epoll fd.
 * Vectors that fire before the IRQ is requested are not lost: the epoll fd
 * stays ready, and the IRQ fires once it is requested.
 *
 * Return: 0, or a negative errno after reporting it.
 */
int uml_vfio_intr_start(struct uml_vfio_device *dev)
{
	static bool sigio_started;
	unsigned long flags;
	int err;

	lockdep_assert_held(&uml_vfio_mtx);

	raw_spin_lock_irqsave(&dev->lock, flags);
	err = uml_vfio_msix_arm(dev, uml_vfio_msix_first(dev));
	raw_spin_unlock_irqrestore(&dev->lock, flags);
	if (err) {
		uml_vfio_fail(dev->name, "enabling MSI-X on the host", err,
			      err == -ENOSPC ?
			      "the host has no free interrupt vectors" : NULL);
		return err;
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

	return 0;

ignore_sigio:
	ignore_sigio_fd(dev->udev.epoll);
disarm:
	raw_spin_lock_irqsave(&dev->lock, flags);
	uml_vfio_msix_disarm(dev);
	raw_spin_unlock_irqrestore(&dev->lock, flags);
	return err;
}

/**
 * uml_vfio_intr_stop() - undo uml_vfio_intr_start()
 * @dev: device
 *
 * The IRQ goes first, so that no interrupt runs on a half-released device;
 * then the guest's MSI-X counts as disabled and the host's is disabled.
 */
void uml_vfio_intr_stop(struct uml_vfio_device *dev)
{
	unsigned long flags;

	um_free_irq(dev->irq, dev);
	ignore_sigio_fd(dev->udev.epoll);

	raw_spin_lock_irqsave(&dev->lock, flags);
	dev->msix.enabled = false;
	uml_vfio_msix_disarm(dev);
	raw_spin_unlock_irqrestore(&dev->lock, flags);
}
