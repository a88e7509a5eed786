// SPDX-License-Identifier: GPL-2.0
/*
 * pci_peek: a test module for the rig's tests in UML. Through /dev/pci_peek
 * (ioctl PCI_PEEK, see pci_peek.h) a test makes one access to a BAR of a
 * PCI device with the accessors a driver uses: the inb() family on an I/O
 * BAR's ports, ioread*()/iowrite*() or memcpy_fromio()/memcpy_toio() on a
 * pci_iomap_range() of any BAR. UML has no sysfs resource files, and these
 * are the paths under test: port I/O, large and 64-bit BARs.
 */
#define pr_fmt(fmt) "pci_peek: " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pci_peek.h"

static int pci_peek_port(struct pci_peek *p, unsigned long port)
{
	if (p->offset + p->width > p->len)
		return -ERANGE;
	port += p->offset;

	switch (p->width | (p->write ? 0x100 : 0)) {
	case 1:
		p->value = inb(port);
		return 0;
	case 2:
		p->value = inw(port);
		return 0;
	case 4:
		p->value = inl(port);
		return 0;
	case 0x101:
		outb(p->value, port);
		return 0;
	case 0x102:
		outw(p->value, port);
		return 0;
	case 0x104:
		outl(p->value, port);
		return 0;
	}
	return -EINVAL;
}

/* @count elements of @width at one port, as the string instructions do. */
static int pci_peek_port_rep(struct pci_peek *p, unsigned long port)
{
	if (p->offset + p->width > p->len || !p->count ||
	    p->count > PCI_PEEK_BUF / p->width)
		return -ERANGE;
	port += p->offset;

	switch (p->width | (p->write ? 0x100 : 0)) {
	case 1:
		insb(port, p->buf, p->count);
		return 0;
	case 2:
		insw(port, p->buf, p->count);
		return 0;
	case 4:
		insl(port, p->buf, p->count);
		return 0;
	case 0x101:
		outsb(port, p->buf, p->count);
		return 0;
	case 0x102:
		outsw(port, p->buf, p->count);
		return 0;
	case 0x104:
		outsl(port, p->buf, p->count);
		return 0;
	}
	return -EINVAL;
}

static int pci_peek_iomap(struct pci_peek *p, void __iomem *base)
{
	void __iomem *a = base + p->offset;

	switch (p->width | (p->write ? 0x100 : 0)) {
	case 1:
		p->value = ioread8(a);
		return 0;
	case 2:
		p->value = ioread16(a);
		return 0;
	case 4:
		p->value = ioread32(a);
		return 0;
#ifdef CONFIG_64BIT
	case 8:
		p->value = ioread64(a);
		return 0;
#endif
	case 0x101:
		iowrite8(p->value, a);
		return 0;
	case 0x102:
		iowrite16(p->value, a);
		return 0;
	case 0x104:
		iowrite32(p->value, a);
		return 0;
#ifdef CONFIG_64BIT
	case 0x108:
		iowrite64(p->value, a);
		return 0;
#endif
	}
	return -EINVAL;
}

/* Maps [map_offset, map_offset + map_len) of the BAR for one access. */
static int pci_peek_mapped(struct pci_dev *pdev, struct pci_peek *p)
{
	u64 map_len = p->map_len ?: p->len - min(p->map_offset, p->len);
	u64 end = p->how == PCI_PEEK_COPY ? p->offset + p->count :
					     p->offset + p->width;
	void __iomem *base;
	int err = 0;

	if (p->map_offset >= p->len || map_len > p->len - p->map_offset ||
	    end > map_len ||
	    (p->how == PCI_PEEK_COPY && p->count > PCI_PEEK_BUF))
		return -ERANGE;

	base = pci_iomap_range(pdev, p->bar, p->map_offset, map_len);
	if (!base)
		return -ENOMEM;

	if (p->how == PCI_PEEK_IOMAP)
		err = pci_peek_iomap(p, base);
	else if (p->write)
		memcpy_toio(base + p->offset, p->buf, p->count);
	else
		memcpy_fromio(p->buf, base + p->offset, p->count);

	pci_iounmap(pdev, base);
	return err;
}

static int pci_peek_do(struct pci_peek *p)
{
	unsigned int domain, bus, slot, fn;
	struct pci_dev *pdev;
	u16 cmd, decode;
	int err;

	p->bdf[sizeof(p->bdf) - 1] = '\0';
	if (sscanf(p->bdf, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4 ||
	    p->bar >= PCI_STD_NUM_BARS)
		return -EINVAL;

	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev)
		return -ENODEV;

	p->start = pci_resource_start(pdev, p->bar);
	p->len = pci_resource_len(pdev, p->bar);
	p->flags = pci_resource_flags(pdev, p->bar);
	if (p->how == PCI_PEEK_INFO) {
		err = 0;
		goto put;
	}

	/* As a driver would; only counted if a driver enabled it already. */
	err = pci_enable_device(pdev);
	if (err)
		goto put;

	/*
	 * A driver that enabled only its memory BARs (pci_enable_device_mem(),
	 * as e1000e does) left I/O decoding off: turn on what this BAR needs
	 * for the access, and back off after it.
	 */
	decode = p->flags & IORESOURCE_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (!(cmd & decode))
		pci_write_config_word(pdev, PCI_COMMAND, cmd | decode);

	switch (p->how) {
	case PCI_PEEK_PORT:
	case PCI_PEEK_PORT_REP:
		if (!(p->flags & IORESOURCE_IO)) {
			err = -EINVAL;
			break;
		}
		if (p->how == PCI_PEEK_PORT)
			err = pci_peek_port(p, p->start);
		else
			err = pci_peek_port_rep(p, p->start);
		break;
	case PCI_PEEK_IOMAP:
	case PCI_PEEK_COPY:
		err = pci_peek_mapped(pdev, p);
		break;
	default:
		err = -EINVAL;
	}

	if (!(cmd & decode))
		pci_write_config_word(pdev, PCI_COMMAND, cmd);
	pci_disable_device(pdev);
put:
	pci_dev_put(pdev);
	return err;
}

static long pci_peek_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct pci_peek *p;
	long err;

	if (cmd != PCI_PEEK)
		return -ENOTTY;
	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;

	p = memdup_user((void __user *)arg, sizeof(*p));
	if (IS_ERR(p))
		return PTR_ERR(p);

	err = pci_peek_do(p);
	if (!err && copy_to_user((void __user *)arg, p, sizeof(*p)))
		err = -EFAULT;

	kfree(p);
	return err;
}

static const struct file_operations pci_peek_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = pci_peek_ioctl,
};

static struct miscdevice pci_peek_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pci_peek",
	.fops = &pci_peek_fops,
};

module_misc_device(pci_peek_misc);

MODULE_DESCRIPTION("uml-vfio tests: accesses to PCI BARs with the kernel's accessors");
MODULE_LICENSE("GPL");
