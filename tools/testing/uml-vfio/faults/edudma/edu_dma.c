// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma: a UML kernel module for the uml-vfio DMA mask test. QEMU's edu
 * device (1234:11e8) has a DMA engine that copies between RAM and a 4 KiB
 * buffer at 0x40000 in its own space, and it only reaches the low 28 bits
 * of an address (QEMU masks off the rest). The module sets a 28-bit DMA
 * mask, takes pages whose UML physical address is above it, and has the
 * engine copy a pattern from one into its buffer and from there into the
 * other: that works only if both DMA addresses are below the mask. It polls
 * the engine (no interrupt). Parameters: dev=DDDD:BB:SS.F (UML's address of
 * the edu). Prints lines starting with "EDU-DMA: "; fails the load (-EIO)
 * if a check failed.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/random.h>

static char *dev = "";
module_param(dev, charp, 0444);

#define EDU_ID		0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_RUN	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000
#define EDU_MASK_BITS	28
/*
 * Bytes per transfer: less than the 4 KiB buffer, because QEMU before
 * 8.2.1 (bookworm has 7.2) takes a transfer that ends at the buffer's end
 * for one out of bounds and aborts the whole machine.
 */
#define EDU_XFER	2048

/* One transfer of EDU_XFER bytes; returns 0 when the engine says it is done. */
static int edu_copy(void __iomem *bar, u64 src, u64 dst, u32 cmd)
{
	unsigned int ms;

	writeq(src, bar + EDU_DMA_SRC);
	writeq(dst, bar + EDU_DMA_DST);
	writeq(EDU_XFER, bar + EDU_DMA_CNT);
	writeq(cmd | EDU_CMD_RUN, bar + EDU_DMA_CMD);
	/* The engine runs from a QEMU timer 100 ms later. */
	for (ms = 0; ms < 5000; ms++) {
		if (!(readq(bar + EDU_DMA_CMD) & EDU_CMD_RUN))
			return 0;
		usleep_range(1000, 2000);
	}
	return -ETIMEDOUT;
}

/**
 * high_page() - allocate a page whose physical address is above the mask
 *
 * The allocator may hand out every free page below the mask first, so the
 * pages below it are held until one above it comes (at most all of them:
 * 256 MiB), then given back.
 *
 * Return: the page, or NULL when UML has no free page above the mask.
 */
static struct page *high_page(void)
{
	struct page *page, *pos, *tmp;
	unsigned long n;
	LIST_HEAD(low);

	for (n = 0; n <= BIT(EDU_MASK_BITS - PAGE_SHIFT); n++) {
		page = alloc_page(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
		if (!page || page_to_phys(page) >= BIT_ULL(EDU_MASK_BITS))
			break;
		list_add(&page->lru, &low);
		page = NULL;
	}
	list_for_each_entry_safe(pos, tmp, &low, lru)
		__free_page(pos);
	return page;
}

static int run(struct pci_dev *pdev)
{
	struct device *d = &pdev->dev;
	struct page *src = NULL, *dst = NULL;
	dma_addr_t src_dma = DMA_MAPPING_ERROR, dst_dma = DMA_MAPPING_ERROR;
	void __iomem *bar;
	u32 id;
	int err;

	err = pci_enable_device_mem(pdev);
	if (err)
		return err;
	pci_set_master(pdev);
	err = dma_set_mask_and_coherent(d, DMA_BIT_MASK(EDU_MASK_BITS));
	if (err)
		goto disable;
	bar = pci_iomap(pdev, 0, 0);
	if (!bar) {
		err = -ENOMEM;
		goto disable;
	}
	id = readl(bar + EDU_ID);
	pr_info("EDU-DMA: %s id %#x\n", pci_name(pdev), id);

	src = high_page();
	dst = high_page();
	if (!src || !dst) {
		pr_info("EDU-DMA: no page above the %d-bit mask (is mem= larger?)\n",
			EDU_MASK_BITS);
		err = -ENOMEM;
		goto free;
	}
	get_random_bytes(page_address(src), PAGE_SIZE);
	memset(page_address(dst), 0, PAGE_SIZE);
	src_dma = dma_map_page(d, src, 0, PAGE_SIZE, DMA_TO_DEVICE);
	dst_dma = dma_map_page(d, dst, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(d, src_dma) || dma_mapping_error(d, dst_dma)) {
		pr_info("EDU-DMA: mapping failed\n");
		err = -EIO;
		goto free;
	}
	pr_info("EDU-DMA: src phys %#llx dma %#llx, dst phys %#llx dma %#llx\n",
		(u64)page_to_phys(src), (u64)src_dma, (u64)page_to_phys(dst),
		(u64)dst_dma);
	if (src_dma + PAGE_SIZE - 1 > DMA_BIT_MASK(EDU_MASK_BITS) ||
	    dst_dma + PAGE_SIZE - 1 > DMA_BIT_MASK(EDU_MASK_BITS)) {
		pr_info("EDU-DMA: a DMA address is above the %d-bit mask\n",
			EDU_MASK_BITS);
		err = -EIO;
		goto free;
	}

	err = edu_copy(bar, src_dma, EDU_BUF, 0);
	if (!err)
		err = edu_copy(bar, EDU_BUF, dst_dma, EDU_CMD_TO_RAM);
	if (err) {
		pr_info("EDU-DMA: the engine did not finish\n");
		goto free;
	}
	dma_unmap_page(d, dst_dma, PAGE_SIZE, DMA_FROM_DEVICE);
	dst_dma = DMA_MAPPING_ERROR;
	if (memcmp(page_address(src), page_address(dst), EDU_XFER)) {
		pr_info("EDU-DMA: the page copied through the device differs\n");
		err = -EIO;
	} else {
		pr_info("EDU-DMA: %d bytes copied RAM -> device -> RAM below the %d-bit mask: identical\n",
			EDU_XFER, EDU_MASK_BITS);
	}

free:
	if (!dma_mapping_error(d, dst_dma))
		dma_unmap_page(d, dst_dma, PAGE_SIZE, DMA_FROM_DEVICE);
	if (!dma_mapping_error(d, src_dma))
		dma_unmap_page(d, src_dma, PAGE_SIZE, DMA_TO_DEVICE);
	if (dst)
		__free_page(dst);
	if (src)
		__free_page(src);
	pci_iounmap(pdev, bar);
	pci_clear_master(pdev);
disable:
	pci_disable_device(pdev);
	return err;
}

static int __init edu_dma_init(void)
{
	unsigned int domain, bus, slot, fn;
	struct pci_dev *pdev;
	int err;

	if (sscanf(dev, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4)
		return -EINVAL;
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev) {
		pr_info("EDU-DMA: %s: no such device\n", dev);
		return -ENODEV;
	}
	err = run(pdev);
	pci_dev_put(pdev);
	pr_info("EDU-DMA: done err=%d\n", err);
	return err;
}

static void __exit edu_dma_exit(void)
{
}

module_init(edu_dma_init);
module_exit(edu_dma_exit);
MODULE_DESCRIPTION("uml-vfio test: DMA below edu's 28-bit mask from memory above it");
MODULE_LICENSE("GPL");
