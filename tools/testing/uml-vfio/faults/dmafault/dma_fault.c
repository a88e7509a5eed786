// SPDX-License-Identifier: GPL-2.0
/*
 * dma_fault: a UML kernel module for the uml-vfio fault tests. It drives an
 * nvme controller that no driver holds with a minimal admin queue (polled,
 * no interrupts) and sends one Identify whose data pointer (PRP1) lies
 * outside UML's memory, which the host IOMMU must refuse. It then checks
 * that a canary page in UML memory is untouched and that an Identify into
 * UML memory still works, and leaves the controller disabled.
 *
 * Parameters: dev=DDDD:BB:SS.F (UML's address of the nvme), addr=IOVA
 * (default: 1 MiB past the end of UML's physical memory). Prints lines
 * starting with "DMA-FAULT: " and fails the load (-EIO) if a check failed.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/unaligned.h>

static char *dev = "";
module_param(dev, charp, 0444);
static unsigned long long addr;
module_param(addr, ullong, 0444);

#define NVME_REG_CAP	0x00
#define NVME_REG_CC	0x14
#define NVME_REG_CSTS	0x1c
#define NVME_REG_AQA	0x24
#define NVME_REG_ASQ	0x28
#define NVME_REG_ACQ	0x30
#define QDEPTH		4

struct ctl {
	void __iomem *bar;
	u32 *sq;	/* QDEPTH entries of 64 bytes */
	u32 *cq;	/* QDEPTH entries of 16 bytes */
	dma_addr_t sq_dma, cq_dma;
	unsigned int stride, tail, head;
	int phase;
};

static int wait_ready(struct ctl *c, u32 want, unsigned int ms)
{
	while (ms--) {
		if ((readl(c->bar + NVME_REG_CSTS) & 1) == want)
			return 0;
		usleep_range(1000, 2000);
	}
	return -ETIMEDOUT;
}

/* Identify controller (CNS 1) into @prp; returns the completion status. */
static int identify(struct ctl *c, u64 prp, u16 cid)
{
	u32 *e = c->sq + c->tail * 16, *ce;
	unsigned int ms;

	memset(e, 0, 64);
	e[0] = 0x06 | (cid << 16);
	e[6] = lower_32_bits(prp);
	e[7] = upper_32_bits(prp);
	e[10] = 1;
	/* The command must be in memory before the doorbell says so. */
	wmb();
	c->tail = (c->tail + 1) % QDEPTH;
	writel(c->tail, c->bar + 0x1000);

	for (ms = 0; ms < 5000; ms++) {
		ce = c->cq + c->head * 4;
		if (((READ_ONCE(ce[3]) >> 16) & 1) == c->phase) {
			/* Read the entry only after its phase bit says it is new. */
			rmb();
			c->head = (c->head + 1) % QDEPTH;
			if (!c->head)
				c->phase ^= 1;
			writel(c->head, c->bar + 0x1000 + c->stride);
			pr_info("DMA-FAULT: %s prp=%#llx cid=%u status=%#x\n",
				__func__, prp, cid, (ce[3] >> 17) & 0x7fff);
			return (ce[3] >> 17) & 0x7fff;
		}
		usleep_range(1000, 2000);
	}
	pr_info("DMA-FAULT: %s prp=%#llx cid=%u timeout\n", __func__, prp, cid);
	return -ETIMEDOUT;
}

static int run(struct pci_dev *pdev)
{
	struct ctl c = { .phase = 1 };
	u8 *canary, *good;
	dma_addr_t canary_dma, good_dma;
	u64 cap, bad = addr;
	int err, i, bad_bytes = 0, ret = 0;

	if (!bad)
		bad = __pa(high_memory) + SZ_1M;
	err = pci_enable_device_mem(pdev);
	if (err)
		return err;
	pci_set_master(pdev);
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err)
		goto disable;
	c.bar = pci_iomap(pdev, 0, 0);
	if (!c.bar) {
		err = -ENOMEM;
		goto disable;
	}
	c.sq = dma_alloc_coherent(&pdev->dev, 4096, &c.sq_dma, GFP_KERNEL);
	c.cq = dma_alloc_coherent(&pdev->dev, 4096, &c.cq_dma, GFP_KERNEL);
	canary = dma_alloc_coherent(&pdev->dev, 4096, &canary_dma, GFP_KERNEL);
	good = dma_alloc_coherent(&pdev->dev, 4096, &good_dma, GFP_KERNEL);
	if (!c.sq || !c.cq || !canary || !good) {
		err = -ENOMEM;
		goto free;
	}
	memset(canary, 0x5a, 4096);
	memset(good, 0, 4096);

	cap = lo_hi_readq(c.bar + NVME_REG_CAP);
	c.stride = 4 << ((cap >> 32) & 0xf);
	writel(0, c.bar + NVME_REG_CC);
	err = wait_ready(&c, 0, 5000);
	if (err)
		goto free;
	writel(((QDEPTH - 1) << 16) | (QDEPTH - 1), c.bar + NVME_REG_AQA);
	lo_hi_writeq(c.sq_dma, c.bar + NVME_REG_ASQ);
	lo_hi_writeq(c.cq_dma, c.bar + NVME_REG_ACQ);
	writel((4 << 20) | (6 << 16) | 1, c.bar + NVME_REG_CC);
	err = wait_ready(&c, 1, 5000);
	if (err)
		goto free;
	pr_info("DMA-FAULT: %s enabled, UML memory ends at %#llx, sending PRP %#llx\n",
		pci_name(pdev), (u64)__pa(high_memory), bad);

	identify(&c, bad, 1);
	for (i = 0; i < 4096; i++)
		bad_bytes += canary[i] != 0x5a;
	pr_info("DMA-FAULT: canary page at %#llx: %d bytes changed\n",
		(u64)canary_dma, bad_bytes);
	if (bad_bytes)
		ret = -EIO;

	/* The device still works with a good address. */
	if (identify(&c, good_dma, 2) || get_unaligned_le16(good) != pdev->vendor) {
		pr_info("DMA-FAULT: identify into UML memory failed (vid %#x)\n",
			get_unaligned_le16(good));
		ret = -EIO;
	} else {
		pr_info("DMA-FAULT: identify into UML memory ok (vid %#x)\n",
			get_unaligned_le16(good));
	}

	writel(0, c.bar + NVME_REG_CC);
	wait_ready(&c, 0, 5000);
	err = ret;
free:
	if (good)
		dma_free_coherent(&pdev->dev, 4096, good, good_dma);
	if (canary)
		dma_free_coherent(&pdev->dev, 4096, canary, canary_dma);
	if (c.cq)
		dma_free_coherent(&pdev->dev, 4096, c.cq, c.cq_dma);
	if (c.sq)
		dma_free_coherent(&pdev->dev, 4096, c.sq, c.sq_dma);
	if (c.bar)
		pci_iounmap(pdev, c.bar);
	pci_clear_master(pdev);
disable:
	pci_disable_device(pdev);
	return err;
}

static int __init dma_fault_init(void)
{
	unsigned int domain, bus, slot, fn;
	struct pci_dev *pdev;
	int err;

	if (sscanf(dev, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4)
		return -EINVAL;
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev) {
		pr_info("DMA-FAULT: %s: no such device\n", dev);
		return -ENODEV;
	}
	if (pdev->dev.driver) {
		pr_info("DMA-FAULT: %s: unbind its driver first\n", dev);
		pci_dev_put(pdev);
		return -EBUSY;
	}
	err = run(pdev);
	pci_dev_put(pdev);
	pr_info("DMA-FAULT: done err=%d\n", err);
	return err;
}

static void __exit dma_fault_exit(void)
{
}

module_init(dma_fault_init);
module_exit(dma_fault_exit);
MODULE_DESCRIPTION("uml-vfio test: an nvme DMA outside UML's memory");
MODULE_LICENSE("GPL");
