// SPDX-License-Identifier: GPL-2.0
/*
 * stale_bar: a UML kernel module for the uml-vfio lifecycle tests that
 * plays a buggy guest driver: it maps BAR 0 of an nvme controller (which
 * the nvme driver keeps), and keeps the mapping when the device goes away.
 * Then its accesses must read all-ones and drop writes instead of taking
 * UML down.
 *
 * Parameters: dev=DDDD:BB:SS.F (UML's address of the nvme). Loading maps
 * BAR 0 and prints "STALE-BAR: mapped ... vs=0x...". Writing anything to
 * /sys/module/stale_bar/parameters/poke reads the version register (in the
 * BAR's direct window), the first MSI-X table entry (through the driver's
 * ops) and 16 bytes with memcpy_fromio(), writes the controller
 * configuration register, and prints "STALE-BAR: poke vs=0x... msix=0x...
 * copy=HEX... after-write=0x...". Unloading unmaps the BAR.
 */
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>

#define NVME_REG_VS	0x08
#define NVME_REG_CC	0x14

static char *dev = "";
module_param(dev, charp, 0444);

static struct pci_dev *pdev;
static void __iomem *bar;
static unsigned int msix_table;

static int stale_bar_poke(const char *val, const struct kernel_param *kp)
{
	u8 copy[16];
	u32 vs, msix, after;

	if (!bar)
		return -ENODEV;

	vs = readl(bar + NVME_REG_VS);
	msix = readl(bar + msix_table);
	memcpy_fromio(copy, bar, sizeof(copy));
	writel(0, bar + NVME_REG_CC);
	after = readl(bar + NVME_REG_CC);
	pr_info("STALE-BAR: poke vs=%#x msix=%#x copy=%16phN after-write=%#x\n",
		vs, msix, copy, after);
	return 0;
}

static const struct kernel_param_ops stale_bar_poke_ops = {
	.set = stale_bar_poke,
};
module_param_cb(poke, &stale_bar_poke_ops, NULL, 0200);

static int __init stale_bar_init(void)
{
	unsigned int domain, bus, slot, fn;
	u32 table;
	int cap;

	if (sscanf(dev, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4) {
		pr_err("STALE-BAR: dev=%s is not DDDD:BB:SS.F\n", dev);
		return -EINVAL;
	}
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev) {
		pr_err("STALE-BAR: no PCI device %s\n", dev);
		return -ENODEV;
	}

	cap = pci_find_capability(pdev, PCI_CAP_ID_MSIX);
	if (!cap) {
		pr_err("STALE-BAR: %s has no MSI-X capability\n", dev);
		goto put;
	}
	pci_read_config_dword(pdev, cap + PCI_MSIX_TABLE, &table);
	if (table & PCI_MSIX_TABLE_BIR) {
		pr_err("STALE-BAR: %s has its MSI-X table in BAR %u, not 0\n",
		       dev, table & PCI_MSIX_TABLE_BIR);
		goto put;
	}
	msix_table = table & PCI_MSIX_TABLE_OFFSET;

	bar = pci_iomap(pdev, 0, 0);
	if (!bar) {
		pr_err("STALE-BAR: cannot map BAR 0 of %s\n", dev);
		goto put;
	}
	pr_info("STALE-BAR: mapped BAR 0 of %s, MSI-X table at %#x, vs=%#x\n",
		dev, msix_table, readl(bar + NVME_REG_VS));
	return 0;

put:
	pci_dev_put(pdev);
	return -ENODEV;
}

static void __exit stale_bar_exit(void)
{
	pci_iounmap(pdev, bar);
	pci_dev_put(pdev);
	pr_info("STALE-BAR: unmapped\n");
}

module_init(stale_bar_init);
module_exit(stale_bar_exit);
MODULE_DESCRIPTION("uml-vfio test: keeps a BAR mapping after its device is gone");
MODULE_LICENSE("GPL");
