// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO-based virtual PCI driver: interrupt emulation. The guest sees the
 * device's own MSI-X, MSI and legacy (INTx) interrupts; this file keeps
 * their guest-visible state, enables the kind the guest uses on the host
 * and turns what the host signals into the UML IRQs the guest's messages,
 * or its legacy interrupt, name. The host signals each vector of the kind
 * enabled on it through an eventfd; the device's epoll fd gathers them
 * into one UML IRQ.
 */
#define pr_fmt(fmt) "vfio_uml: " fmt

#include <linux/bitfield.h>
#include <linux/bitops.h>
#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/pci_regs.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <irq_kern.h>
#include <os.h>

#include "vfio_kern.h"

#define UML_VFIO_NO_KIND	(-1)

/*
 * Off, more host MSI-X vectors are added as on hosts whose VFIO cannot add
 * them to enabled MSI-X (before Linux 6.5): by disabling and re-enabling
 * it. The tests use it to reach that path on newer hosts.
 */
static bool uml_vfio_msix_resize = true;
module_param_named(msix_resize, uml_vfio_msix_resize, bool, 0644);
MODULE_PARM_DESC(msix_resize, "Add host MSI-X vectors in place where VFIO can (default); 0: by disabling and re-enabling MSI-X, as on hosts that cannot");

static const char * const uml_vfio_kind_name[UML_VFIO_NUM_KINDS] = {
	[UML_VFIO_INTX] = "INTx",
	[UML_VFIO_MSI] = "MSI",
	[UML_VFIO_MSIX] = "MSI-X",
};

/*
 * The host's interrupts follow the kind the guest uses. VFIO enables one
 * kind at a time, and changing the kind or its vector count is a
 * VFIO_DEVICE_SET_IRQS that reprograms host interrupts, so the host keeps
 * its kind while the guest turns interrupts off, and changes only when the
 * guest turns another kind on (see uml_vfio_intr_follow()). Drivers flip
 * MSI-X off and on while they probe (nvme enables it, disables it and
 * enables it again with more vectors once it knows its queues), and
 * between those enables Linux also turns INTx back on in the command
 * register: none of that makes host calls.
 *
 * A device with MSI-X has host MSI-X enabled from set-up on. Each enabled
 * vector costs the host an interrupt vector and devices offer many more
 * than their drivers use (65 for QEMU's nvme), so only enough for a queue
 * per CPU plus two (admin, config or "other" events) are enabled at first,
 * and more when the guest gives a message to a higher vector.
 */
static int uml_vfio_msix_first(struct uml_vfio_device *dev)
{
	return min_t(int, dev->msix.vectors, nr_cpu_ids + 2);
}

/* Vectors up to the highest that has a message. */
static int uml_vfio_msix_used(struct uml_vfio_device *dev)
{
	int i;

	lockdep_assert_held(&dev->lock);

	for (i = dev->msix.vectors; i > 0; i--) {
		if (dev->msix.vec[i - 1].data)
			return i;
	}
	return 0;
}

/* Drops the eventfds of vectors from @first on, and what they hold. */
static void uml_vfio_drop_vectors(struct uml_vfio_device *dev, int first)
{
	int i;

	lockdep_assert_held(&dev->lock);

	for (i = first; i < dev->udev.nr_irqfds; i++)
		uml_vfio_user_deactivate_irq(&dev->udev, i);
}

/* Disables the host's interrupts; nothing is signalled afterwards. */
static void uml_vfio_host_disable(struct uml_vfio_device *dev)
{
	int i, err = 0;

	lockdep_assert_held(&dev->lock);

	if (dev->host_kind != UML_VFIO_NO_KIND)
		err = uml_vfio_user_disable_irqs(&dev->udev, dev->host_kind);
	if (err)
		pr_err_ratelimited("%s: disabling %s on the host: %s\n",
				   dev->name, uml_vfio_kind_name[dev->host_kind],
				   uml_vfio_user_strerror(err));
	uml_vfio_drop_vectors(dev, 0);
	for (i = 0; i < dev->msix.vectors; i++)
		dev->msix.vec[i].pending = false;
	dev->msi.pending = 0;
	dev->intx.host_masked = false;
	dev->host_kind = UML_VFIO_NO_KIND;
	dev->host_vectors = 0;
}

/**
 * uml_vfio_host_enable() - have the host signal vectors [0, @need) of @kind
 * @dev: device, with dev->lock held
 * @kind: UML_VFIO_INTX, UML_VFIO_MSI or UML_VFIO_MSIX
 * @need: number of vectors
 *
 * Another kind is disabled first. More vectors of the enabled kind are
 * added in place where VFIO can (MSI-X that it does not report NORESIZE),
 * else the kind is disabled and enabled again with the new count; an
 * interrupt that the device raised in between is lost to the eventfds, so
 * every vector enabled before is signalled once afterwards (a spurious
 * interrupt is harmless, a lost one can hang a driver). Only host
 * syscalls: safe in atomic context.
 *
 * Return: 0 or a negative errno; on failure the enabled vectors are as
 * before where the host allows it.
 */
static int uml_vfio_host_enable(struct uml_vfio_device *dev, int kind,
				int need)
{
	int have = dev->host_vectors, i, err = 0;

	lockdep_assert_held(&dev->lock);

	if (kind != dev->host_kind) {
		uml_vfio_host_disable(dev);
		have = 0;
	} else if (need <= have) {
		return 0;
	}

	for (i = have; i < need && !err; i++)
		err = uml_vfio_user_activate_irq(&dev->udev, i);
	if (err)
		goto drop;

	if (have && kind == UML_VFIO_MSIX && dev->udev.irq_resizable &&
	    READ_ONCE(uml_vfio_msix_resize)) {
		err = uml_vfio_user_update_irqs(&dev->udev, kind, have,
						need - have);
	} else {
		if (have)
			err = uml_vfio_user_disable_irqs(&dev->udev, kind);
		if (!err)
			err = uml_vfio_user_update_irqs(&dev->udev, kind, 0, need);
		if (err && have &&
		    uml_vfio_user_update_irqs(&dev->udev, kind, 0, have))
			have = 0;
		/* Also when only the old count could be enabled again. */
		for (i = 0; i < have; i++)
			uml_vfio_user_kick_irq(&dev->udev, i);
	}
	if (!err) {
		dev->host_kind = kind;
		dev->host_vectors = need;
		return 0;
	}

drop:
	uml_vfio_drop_vectors(dev, have);
	dev->host_vectors = have;
	if (!have)
		dev->host_kind = UML_VFIO_NO_KIND;
	return err;
}

/**
 * uml_vfio_intr_follow() - enable on the host the kind the guest uses
 * @dev: device, with dev->lock held
 *
 * MSI-X or MSI while the guest has it enabled, else INTx while the guest
 * has its legacy IRQ requested; with none of them the host keeps what it
 * has (see above).
 */
static void uml_vfio_intr_follow(struct uml_vfio_device *dev)
{
	int kind, need, err;

	lockdep_assert_held(&dev->lock);

	if (dev->msix.enabled) {
		kind = UML_VFIO_MSIX;
		need = max(uml_vfio_msix_first(dev), uml_vfio_msix_used(dev));
	} else if (dev->msi.enabled) {
		kind = UML_VFIO_MSI;
		need = dev->msi.nvec;
	} else if (dev->intx.started) {
		kind = UML_VFIO_INTX;
		need = 1;
	} else {
		return;
	}

	err = uml_vfio_host_enable(dev, kind, need);
	if (err)
		pr_err_ratelimited("%s: enabling %s with %d vectors on the host: %s\n",
				   dev->name, uml_vfio_kind_name[kind], need,
				   uml_vfio_user_strerror(err));
}

/* ---- MSI-X ------------------------------------------------------------ */

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

/* The host's MSI-X enable and mask bits are not the guest's. */
static unsigned long uml_vfio_msix_cfg_read(struct uml_vfio_device *dev,
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
static void uml_vfio_msix_cfg_write(struct uml_vfio_device *dev,
				    unsigned int offset, int size,
				    unsigned long val)
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
	uml_vfio_intr_follow(dev);
	for (i = 0; i < dev->msix.vectors; i++) {
		if (!dev->msix.enabled)
			dev->msix.vec[i].pending = false;
		uml_vfio_msix_unmasked(dev, i);
	}
	raw_spin_unlock_irqrestore(&dev->lock, flags);
}

/* A guest write to the MSI-X table: update the shadow, act on changes. */
static void uml_vfio_msix_table_write(struct uml_vfio_device *dev,
				      unsigned int offset, int size,
				      unsigned long val)
{
	unsigned int first, last, i;
	unsigned long flags;
	u8 *entry;

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
		if (vec->data && dev->host_kind == UML_VFIO_MSIX &&
		    i >= dev->host_vectors) {
			int err = uml_vfio_host_enable(dev, UML_VFIO_MSIX, i + 1);

			if (err)
				pr_err_ratelimited("%s: enabling MSI-X vector %u on the host: %s\n",
						   dev->name, i,
						   uml_vfio_user_strerror(err));
		}
		uml_vfio_msix_unmasked(dev, i);
	}
	raw_spin_unlock_irqrestore(&dev->lock, flags);
}

/* The PBA as the guest sees it: the vectors that fired while masked. */
static u8 uml_vfio_msix_pba_byte(struct uml_vfio_device *dev, unsigned int i)
{
	u8 byte = 0;
	int bit;

	lockdep_assert_held(&dev->lock);

	for (bit = 0; bit < 8 && i * 8 + bit < dev->msix.vectors; bit++)
		byte |= dev->msix.vec[i * 8 + bit].pending << bit;
	return byte;
}

/**
 * uml_vfio_msix_read() - a guest read that touches the MSI-X table or PBA
 * @dev: device
 * @bar: BAR
 * @offset: offset in the BAR
 * @size: 1, 2, 4 or 8
 *
 * The table reads back what the guest wrote (the shadow: vfio-pci returns
 * all-ones there) and the PBA the emulated pending bits (the host's are
 * those of the host's own masking). Bytes of the access outside both come
 * from the device.
 *
 * Return: the value read.
 */
unsigned long uml_vfio_msix_read(struct uml_vfio_device *dev, int bar,
				 unsigned int offset, int size)
{
	struct uml_vfio_msix *m = &dev->msix;
	unsigned long flags;
	u8 buf[8];
	int i;

	if (bar == m->bar && offset >= m->offset &&
	    offset + size <= m->offset + m->size)
		return uml_vfio_get_le(m->table + offset - m->offset, size);

	raw_spin_lock_irqsave(&dev->lock, flags);
	for (i = 0; i < size; i++) {
		unsigned int o = offset + i;

		if (bar == m->bar && o >= m->offset && o < m->offset + m->size)
			buf[i] = m->table[o - m->offset];
		else if (bar == m->pba_bar && o >= m->pba_offset &&
			 o < m->pba_offset + m->pba_size)
			buf[i] = uml_vfio_msix_pba_byte(dev, o - m->pba_offset);
		else
			buf[i] = 0xff;	/* filled in below */
	}
	raw_spin_unlock_irqrestore(&dev->lock, flags);

	for (i = 0; i < size; i++) {
		unsigned int o = offset + i;

		if (!uml_vfio_msix_trapped(dev, bar, o, 1))
			buf[i] = uml_vfio_region_read(dev, bar, o, 1);
	}
	return uml_vfio_get_le(buf, size);
}

/**
 * uml_vfio_msix_write() - a guest write that touches the MSI-X table or PBA
 * @dev: device
 * @bar: BAR
 * @offset: offset in the BAR
 * @size: 1, 2, 4 or 8
 * @val: value
 *
 * Table writes go to the shadow and take effect; the PBA is read-only.
 * Bytes of the access outside both go to the device.
 */
void uml_vfio_msix_write(struct uml_vfio_device *dev, int bar,
			 unsigned int offset, int size, unsigned long val)
{
	struct uml_vfio_msix *m = &dev->msix;
	u8 buf[8];
	int i;

	if (bar == m->bar && offset >= m->offset &&
	    offset + size <= m->offset + m->size) {
		uml_vfio_msix_table_write(dev, offset - m->offset, size, val);
		return;
	}

	uml_vfio_put_le(buf, size, val);
	for (i = 0; i < size; i++) {
		unsigned int o = offset + i;

		if (bar == m->bar && o >= m->offset && o < m->offset + m->size)
			uml_vfio_msix_table_write(dev, o - m->offset, 1, buf[i]);
		else if (!uml_vfio_msix_trapped(dev, bar, o, 1))
			uml_vfio_region_write(dev, bar, o, 1, buf[i]);
	}
}

/* ---- MSI -------------------------------------------------------------- */

/* Offsets in the capability of its data, mask and pending registers. */
static unsigned int uml_vfio_msi_data_reg(u16 ctl)
{
	return ctl & PCI_MSI_FLAGS_64BIT ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
}

static unsigned int uml_vfio_msi_mask_reg(u16 ctl)
{
	return ctl & PCI_MSI_FLAGS_64BIT ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32;
}

/* Re-deliver what arrived on vectors that are now unmasked. */
static void uml_vfio_msi_unmasked(struct uml_vfio_device *dev)
{
	u32 fire;
	int i;

	lockdep_assert_held(&dev->lock);

	if (!dev->msi.enabled)
		return;
	fire = dev->msi.pending & ~dev->msi.mask;
	dev->msi.pending &= ~fire;
	for (i = 0; fire; i++, fire >>= 1) {
		if (fire & 1)
			uml_vfio_user_kick_irq(&dev->udev, i);
	}
}

/* Takes the guest's view of the registers in after a write to them. */
static void uml_vfio_msi_update(struct uml_vfio_device *dev)
{
	struct uml_vfio_msi *m = &dev->msi;
	u16 ctl = get_unaligned_le16(m->regs + PCI_MSI_FLAGS);
	bool was_enabled = m->enabled;
	int nvec = m->nvec;

	lockdep_assert_held(&dev->lock);

	m->enabled = ctl & PCI_MSI_FLAGS_ENABLE;
	m->nvec = min_t(int, 1 << FIELD_GET(PCI_MSI_FLAGS_QSIZE, ctl),
			m->vectors);
	m->data = get_unaligned_le16(m->regs + uml_vfio_msi_data_reg(ctl));
	if (ctl & PCI_MSI_FLAGS_MASKBIT)
		m->mask = get_unaligned_le32(m->regs + uml_vfio_msi_mask_reg(ctl));
	if (!m->enabled)
		m->pending = 0;

	if (m->enabled != was_enabled || m->nvec != nvec)
		uml_vfio_intr_follow(dev);
	uml_vfio_msi_unmasked(dev);
}

/* What the guest reads of the capability's bytes in [offset, offset + size). */
static unsigned long uml_vfio_msi_cfg_read(struct uml_vfio_device *dev,
					   unsigned int offset, int size,
					   unsigned long val)
{
	struct uml_vfio_msi *m = &dev->msi;
	unsigned int pend = 0;
	unsigned long flags;
	u16 ctl;
	int i;

	if (offset >= m->cap + m->len || offset + size <= m->cap)
		return val;

	raw_spin_lock_irqsave(&dev->lock, flags);
	ctl = get_unaligned_le16(m->regs + PCI_MSI_FLAGS);
	if (ctl & PCI_MSI_FLAGS_MASKBIT) {
		pend = uml_vfio_msi_mask_reg(ctl) + 4;
		put_unaligned_le32(m->pending, m->regs + pend);
	}
	for (i = 0; i < size; i++) {
		unsigned int o = offset + i;

		if (o < m->cap || o >= m->cap + m->len)
			continue;
		val &= ~(0xffUL << (i * 8));
		val |= (unsigned long)m->regs[o - m->cap] << (i * 8);
	}
	raw_spin_unlock_irqrestore(&dev->lock, flags);
	return val;
}

/* A guest write that touches the capability: it stays in UML. */
static bool uml_vfio_msi_cfg_write(struct uml_vfio_device *dev,
				   unsigned int offset, int size,
				   unsigned long val)
{
	struct uml_vfio_msi *m = &dev->msi;
	unsigned long flags;
	int i;

	if (offset >= m->cap + m->len || offset + size <= m->cap)
		return false;

	raw_spin_lock_irqsave(&dev->lock, flags);
	for (i = 0; i < size; i++) {
		unsigned int o = offset + i - m->cap;
		u8 b = val >> (i * 8);

		if (offset + i < m->cap || o >= m->len)
			continue;
		m->regs[o] = (m->regs[o] & ~m->wmask[o]) | (b & m->wmask[o]);
	}
	uml_vfio_msi_update(dev);
	raw_spin_unlock_irqrestore(&dev->lock, flags);
	return true;
}

/**
 * uml_vfio_msi_init() - set up the emulated MSI capability
 * @dev: device
 * @pos: its config space offset
 *
 * The guest sees as many vectors as the host offers (the capability's own
 * count, as VFIO reports it), no vector enabled and none masked.
 */
static void uml_vfio_msi_init(struct uml_vfio_device *dev, int pos)
{
	struct uml_vfio_msi *m = &dev->msi;
	unsigned int mask;
	u16 ctl;
	int i;

	ctl = uml_vfio_region_read(dev, UML_VFIO_CONFIG_REGION,
				   pos + PCI_MSI_FLAGS, 2);
	m->cap = pos;
	m->vectors = rounddown_pow_of_two(clamp(dev->udev.irq_count[UML_VFIO_MSI],
						1, 32));
	m->len = uml_vfio_msi_data_reg(ctl) + 4;
	if (ctl & PCI_MSI_FLAGS_MASKBIT)
		m->len = uml_vfio_msi_mask_reg(ctl) + 8;

	for (i = 0; i < PCI_MSI_FLAGS; i++)
		m->regs[i] = uml_vfio_region_read(dev, UML_VFIO_CONFIG_REGION,
						  pos + i, 1);
	ctl &= PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT;
	ctl |= FIELD_PREP(PCI_MSI_FLAGS_QMASK, ilog2(m->vectors));
	put_unaligned_le16(ctl, m->regs + PCI_MSI_FLAGS);

	m->wmask[PCI_MSI_FLAGS] = PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE;
	put_unaligned_le32(~3U, m->wmask + PCI_MSI_ADDRESS_LO);
	if (ctl & PCI_MSI_FLAGS_64BIT)
		put_unaligned_le32(~0U, m->wmask + PCI_MSI_ADDRESS_HI);
	put_unaligned_le16(0xffff, m->wmask + uml_vfio_msi_data_reg(ctl));
	if (ctl & PCI_MSI_FLAGS_MASKBIT) {
		mask = uml_vfio_msi_mask_reg(ctl);
		put_unaligned_le32(m->vectors == 32 ? ~0U : BIT(m->vectors) - 1,
				   m->wmask + mask);
	}
	m->nvec = 1;
}

/* ---- INTx ------------------------------------------------------------- */

/*
 * The chip of the device's legacy IRQ; virt-pci runs it with
 * handle_level_irq(). VFIO masks the host's line when it signals it, so
 * the guest's mask needs no host call: the line stays masked until the
 * guest unmasks it, after its handlers ran, and fires again then if the
 * device still asserts it. The guest's command register (INTx disable) is
 * the host's: vfio-pci keeps the line masked while the guest sets it.
 */
static struct uml_vfio_device *uml_vfio_intx_dev(struct irq_data *d)
{
	struct um_pci_device *pdev = irq_data_get_irq_chip_data(d);

	return to_vdev(pdev);
}

/* Lets the host line fire again if it fired since the last unmask. */
static void uml_vfio_intx_host_unmask(struct uml_vfio_device *dev)
{
	int err;

	lockdep_assert_held(&dev->lock);

	if (dev->host_kind != UML_VFIO_INTX || !dev->intx.host_masked)
		return;
	err = uml_vfio_user_unmask_intx(&dev->udev);
	if (err)
		pr_err_ratelimited("%s: unmasking INTx on the host: %s\n",
				   dev->name, uml_vfio_user_strerror(err));
	else
		dev->intx.host_masked = false;
}

/* request_irq() of the legacy IRQ: the guest wants INTx. */
static unsigned int uml_vfio_intx_startup(struct irq_data *d)
{
	struct uml_vfio_device *dev = uml_vfio_intx_dev(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&dev->lock, flags);
	dev->intx.started = true;
	dev->intx.masked = false;
	uml_vfio_intr_follow(dev);
	uml_vfio_intx_host_unmask(dev);
	raw_spin_unlock_irqrestore(&dev->lock, flags);
	return 0;
}

/* Its last free_irq(): the host keeps INTx until another kind is used. */
static void uml_vfio_intx_shutdown(struct irq_data *d)
{
	struct uml_vfio_device *dev = uml_vfio_intx_dev(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&dev->lock, flags);
	dev->intx.started = false;
	dev->intx.masked = true;
	raw_spin_unlock_irqrestore(&dev->lock, flags);
}

static void uml_vfio_intx_mask(struct irq_data *d)
{
	struct uml_vfio_device *dev = uml_vfio_intx_dev(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&dev->lock, flags);
	dev->intx.masked = true;
	raw_spin_unlock_irqrestore(&dev->lock, flags);
}

static void uml_vfio_intx_unmask(struct irq_data *d)
{
	struct uml_vfio_device *dev = uml_vfio_intx_dev(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&dev->lock, flags);
	dev->intx.masked = false;
	uml_vfio_intx_host_unmask(dev);
	raw_spin_unlock_irqrestore(&dev->lock, flags);
}

static const struct irq_chip uml_vfio_intx_chip = {
	.name = "vfio-uml-INTx",
	.irq_startup = uml_vfio_intx_startup,
	.irq_shutdown = uml_vfio_intx_shutdown,
	.irq_mask = uml_vfio_intx_mask,
	.irq_unmask = uml_vfio_intx_unmask,
};

/* ---- config space ----------------------------------------------------- */

/* What the guest reads of config space: its own MSI-X and MSI state. */
unsigned long uml_vfio_intr_cfg_read(struct uml_vfio_device *dev,
				     unsigned int offset, int size,
				     unsigned long val)
{
	if (dev->msix.cap)
		val = uml_vfio_msix_cfg_read(dev, offset, size, val);
	if (dev->msi.cap)
		val = uml_vfio_msi_cfg_read(dev, offset, size, val);
	return val;
}

/**
 * uml_vfio_intr_cfg_write() - track a guest write to config space
 * @dev: device
 * @offset: config space offset
 * @size: 1, 2, 4 or 8
 * @val: value
 *
 * Return: true if the write must not reach the host: it touches the MSI
 * capability, which is emulated (vfio-pci would write the guest's enable
 * bit and mask bits to the device behind the host's back).
 */
bool uml_vfio_intr_cfg_write(struct uml_vfio_device *dev, unsigned int offset,
			     int size, unsigned long val)
{
	if (dev->msix.cap)
		uml_vfio_msix_cfg_write(dev, offset, size, val);
	return dev->msi.cap && uml_vfio_msi_cfg_write(dev, offset, size, val);
}

/* ---- the device's UML IRQ --------------------------------------------- */

/* The UML IRQ that host vector @index stands for now, or 0 for none. */
static unsigned int uml_vfio_target(struct uml_vfio_device *dev, int index)
{
	struct uml_vfio_vector *vec;

	lockdep_assert_held(&dev->lock);

	switch (dev->host_kind) {
	case UML_VFIO_MSIX:
		/* With MSI-X off, the device would have sent nothing. */
		if (!dev->msix.enabled || index >= dev->msix.vectors)
			return 0;
		vec = &dev->msix.vec[index];
		if (vec->masked || dev->msix.maskall) {
			vec->pending = !!vec->data;
			return 0;
		}
		return vec->data;
	case UML_VFIO_MSI:
		if (!dev->msi.enabled || index >= dev->msi.nvec ||
		    !dev->msi.data)
			return 0;
		if (dev->msi.mask & BIT(index)) {
			dev->msi.pending |= BIT(index);
			return 0;
		}
		return dev->msi.data + index;
	case UML_VFIO_INTX:
		dev->intx.host_masked = true;
		if (!dev->intx.started || dev->intx.masked)
			return 0;
		return dev->pdev.irq;
	}
	return 0;
}

/**
 * uml_vfio_interrupt() - demultiplex the device's vector eventfds
 * @irq: UML IRQ of the device's epoll fd
 * @opaque: the device
 *
 * Each vector that fired is handed to the UML IRQ that the guest's
 * message for it names (MSI-X, MSI) or to the device's legacy IRQ (INTx),
 * unless it is masked, in which case it stays pending until unmasked (an
 * INTx line stays masked on the host), or the guest has that kind
 * disabled, in which case it is dropped.
 *
 * Return: IRQ_HANDLED.
 */
static irqreturn_t uml_vfio_interrupt(int irq, void *opaque)
{
	struct uml_vfio_device *dev = opaque;
	int fired[16], n, i;
	unsigned int target[16];
	unsigned long flags;

	for (;;) {
		raw_spin_lock_irqsave(&dev->lock, flags);
		n = uml_vfio_user_poll_irqs(&dev->udev, fired, ARRAY_SIZE(fired));
		for (i = 0; i < n; i++) {
			target[i] = 0;
			/* Host events (< 0) go to uml_vfio_host_event(). */
			if (fired[i] >= 0)
				target[i] = uml_vfio_target(dev, fired[i]);
		}
		raw_spin_unlock_irqrestore(&dev->lock, flags);
		if (n <= 0)
			break;

		for (i = 0; i < n; i++) {
			if (fired[i] < 0)
				uml_vfio_host_event(dev, fired[i]);
			else if (target[i] && generic_handle_irq(target[i]))
				pr_err_ratelimited("%s: vector %d names IRQ %u, which has no handler\n",
						   dev->name, fired[i], target[i]);
		}
		/* Later interrupts raise the IRQ again: no need to poll. */
		if (n < ARRAY_SIZE(fired))
			break;
	}

	if (n < 0)
		pr_err_ratelimited("%s: polling interrupt eventfds: %s\n",
				   dev->name, uml_vfio_user_strerror(n));

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

/* Reads the MSI-X capability and sets up its shadow table. */
static int uml_vfio_msix_init(struct uml_vfio_device *dev, int pos)
{
	unsigned int table, pba, qsize, i;

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
	dev->msix.vectors = min_t(int, qsize,
				  dev->udev.irq_count[UML_VFIO_MSIX]);

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

/**
 * uml_vfio_intr_init() - read the device's interrupt capabilities
 * @dev: device, opened on the host
 *
 * Sets up the guest's view of each kind the host offers: the shadow of the
 * MSI-X table, the emulated MSI capability, the chip of the legacy IRQ.
 *
 * Return: 0, or a negative errno after reporting it.
 */
int uml_vfio_intr_init(struct uml_vfio_device *dev)
{
	int pos, err;

	dev->host_kind = UML_VFIO_NO_KIND;
	dev->msix.bar = -1;
	dev->msix.pba_bar = -1;

	pos = uml_vfio_find_capability(dev, PCI_CAP_ID_MSIX);
	if (pos && dev->udev.irq_count[UML_VFIO_MSIX]) {
		err = uml_vfio_msix_init(dev, pos);
		if (err)
			return err;
	}

	pos = uml_vfio_find_capability(dev, PCI_CAP_ID_MSI);
	if (pos && dev->udev.irq_count[UML_VFIO_MSI])
		uml_vfio_msi_init(dev, pos);

	/* VFIO shows the guest no interrupt pin when it offers no INTx. */
	dev->intx.masked = true;
	dev->pdev.intx_chip = &uml_vfio_intx_chip;

	if (!dev->msix.cap && !dev->msi.cap &&
	    !dev->udev.irq_count[UML_VFIO_INTX])
		pr_warn("%s: the host offers no interrupt for it (drivers will have to poll)\n",
			dev->name);
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
 * Requests the UML IRQ of the device's epoll fd and, for a device with
 * MSI-X, enables host MSI-X (see uml_vfio_msix_first()); other kinds are
 * enabled when the guest uses them. Vectors that fire before the IRQ is
 * requested are not lost: the epoll fd stays ready, and the IRQ fires once
 * it is requested.
 *
 * Return: 0, or a negative errno after reporting it.
 */
int uml_vfio_intr_start(struct uml_vfio_device *dev)
{
	static bool sigio_started;
	unsigned long flags;
	int err = 0;

	lockdep_assert_held(&uml_vfio_mtx);

	if (dev->msix.cap) {
		raw_spin_lock_irqsave(&dev->lock, flags);
		err = uml_vfio_host_enable(dev, UML_VFIO_MSIX,
					   uml_vfio_msix_first(dev));
		raw_spin_unlock_irqrestore(&dev->lock, flags);
	}
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
		goto disable;
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
disable:
	raw_spin_lock_irqsave(&dev->lock, flags);
	uml_vfio_host_disable(dev);
	raw_spin_unlock_irqrestore(&dev->lock, flags);
	return err;
}

/**
 * uml_vfio_intr_stop() - undo uml_vfio_intr_start()
 * @dev: device
 *
 * The IRQ goes first, so that no interrupt runs on a half-released device;
 * then every kind counts as disabled by the guest and the host's is
 * disabled.
 */
void uml_vfio_intr_stop(struct uml_vfio_device *dev)
{
	unsigned long flags;

	um_free_irq(dev->irq, dev);
	ignore_sigio_fd(dev->udev.epoll);

	raw_spin_lock_irqsave(&dev->lock, flags);
	dev->msix.enabled = false;
	dev->msi.enabled = false;
	dev->intx.started = false;
	uml_vfio_host_disable(dev);
	raw_spin_unlock_irqrestore(&dev->lock, flags);
}
