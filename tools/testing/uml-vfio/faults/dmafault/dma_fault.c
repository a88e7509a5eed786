// SPDX-License-Identifier: GPL-2.0
/*
 * dma_fault: a UML kernel module for the uml-vfio fault and DMA tests. It
 * drives an nvme controller that no driver holds with a minimal admin
 * queue (polled, no interrupts) and has the device write Identify data
 * (4 KiB) where a test says:
 *
 * test=outside (default): to an IOVA outside UML's memory (addr=, default
 *   1 MiB past its end), which the host IOMMU must refuse; a canary page
 *   must stay untouched.
 * test=unmap: to a buffer after dma_unmap_single(): with vfio_uml.dma=strict
 *   the IOMMU must refuse it and the buffer stay untouched; in the other
 *   modes the buffer's chunk stays mapped and the write lands (the test
 *   reports how many bytes changed; the caller judges).
 * test=mask: with a 28-bit DMA mask (mask=BITS), into pages whose UML
 *   physical address is above the mask; every DMA address handed out must
 *   be below it.
 * test=spread: into pages all over UML memory (the lowest, one in the top
 *   1/16, the first above 4 GiB, and hole=ADDR if given: a range the host
 *   reserves), each with its own mapping.
 *
 * Then an Identify into UML memory must still work, and the controller is
 * left disabled. Parameters: dev=DDDD:BB:SS.F (UML's address of the nvme),
 * test=, addr=, mask=, hole=. Prints lines starting with "DMA-FAULT: " and
 * fails the load (-EIO) if a check failed.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/unaligned.h>

static char *dev = "";
module_param(dev, charp, 0444);
static char *test = "outside";
module_param(test, charp, 0444);
static unsigned long long addr;
module_param(addr, ullong, 0444);
static unsigned int mask = 28;
module_param(mask, uint, 0444);
static unsigned long long hole;
module_param(hole, ullong, 0444);

#define NVME_REG_CAP	0x00
#define NVME_REG_CC	0x14
#define NVME_REG_CSTS	0x1c
#define NVME_REG_AQA	0x24
#define NVME_REG_ASQ	0x28
#define NVME_REG_ACQ	0x30
#define QDEPTH		4

struct ctl {
	struct pci_dev *pdev;
	void __iomem *bar;
	u32 *sq;	/* QDEPTH entries of 64 bytes */
	u32 *cq;	/* QDEPTH entries of 16 bytes */
	dma_addr_t sq_dma, cq_dma;
	unsigned int stride, tail, head;
	int phase;
	u16 cid;
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
static int identify(struct ctl *c, u64 prp)
{
	u32 *e = c->sq + c->tail * 16, *ce;
	u16 cid = ++c->cid;
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

static int changed(const u8 *p, u8 fill)
{
	int i, n = 0;

	for (i = 0; i < PAGE_SIZE; i++)
		n += p[i] != fill;
	return n;
}

/* An Identify into @page (mapped by the caller at @dma) that must work. */
static int identify_into(struct ctl *c, struct page *page, dma_addr_t dma)
{
	u8 *p = page_address(page);

	if (identify(c, dma) || get_unaligned_le16(p) != c->pdev->vendor) {
		pr_info("DMA-FAULT: identify into phys %#llx dma %#llx failed (vid %#x)\n",
			(u64)page_to_phys(page), (u64)dma, get_unaligned_le16(p));
		return -EIO;
	}
	return 0;
}

static int test_outside(struct ctl *c)
{
	u64 bad = addr ?: __pa(high_memory) + SZ_1M;
	dma_addr_t canary_dma;
	u8 *canary;
	int n;

	canary = dma_alloc_coherent(&c->pdev->dev, PAGE_SIZE, &canary_dma,
				    GFP_KERNEL);
	if (!canary)
		return -ENOMEM;
	memset(canary, 0x5a, PAGE_SIZE);
	pr_info("DMA-FAULT: %s enabled, UML memory ends at %#llx, sending PRP %#llx\n",
		pci_name(c->pdev), (u64)__pa(high_memory), bad);
	identify(c, bad);
	n = changed(canary, 0x5a);
	pr_info("DMA-FAULT: canary page at %#llx: %d bytes changed\n",
		(u64)canary_dma, n);
	dma_free_coherent(&c->pdev->dev, PAGE_SIZE, canary, canary_dma);
	return n ? -EIO : 0;
}

static int test_unmap(struct ctl *c)
{
	struct page *page = alloc_page(GFP_KERNEL);
	dma_addr_t dma;
	int n;

	if (!page)
		return -ENOMEM;
	memset(page_address(page), 0x5a, PAGE_SIZE);
	dma = dma_map_page(&c->pdev->dev, page, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(&c->pdev->dev, dma)) {
		__free_page(page);
		return -ENOMEM;
	}
	dma_unmap_page(&c->pdev->dev, dma, PAGE_SIZE, DMA_FROM_DEVICE);
	pr_info("DMA-FAULT: %s enabled, buffer at phys %#llx was mapped at %#llx and is unmapped: sending PRP %#llx\n",
		pci_name(c->pdev), (u64)page_to_phys(page), (u64)dma, (u64)dma);
	identify(c, dma);
	n = changed(page_address(page), 0x5a);
	pr_info("DMA-FAULT: unmapped buffer: %d bytes changed\n", n);
	__free_page(page);
	return 0;
}

/*
 * Pages at physical addresses that the default mapping would get wrong:
 * above @limit (test=mask), or at the places test=spread names. Order-8
 * blocks (1 MiB) are taken until each wanted place has one or memory runs
 * out; the others go back.
 */
struct block {
	struct list_head list;
	struct page *page;
	const char *what;
};

enum { W_MASK, W_LOW, W_HIGH, W_4G, W_HOLE, W_NR };

static const char * const wanted_what[W_NR] = {
	"above the mask", "lowest", "highest", "above 4 GiB", "in the hole",
};

/* Which wanted places the module looks for: a bit each. */
static unsigned long wanted_set(bool mask_test, phys_addr_t top)
{
	if (mask_test)
		return BIT(W_MASK);
	return BIT(W_LOW) | BIT(W_HIGH) |
	       (top > SZ_4G + SZ_64M ? BIT(W_4G) : 0) |
	       (hole && hole < top ? BIT(W_HOLE) : 0);
}

/*
 * The place still in @want that the block at @p serves, or -1. "Highest"
 * is the top 1/16 of memory: memblock allocates top-down, so the kernel's
 * own early allocations (the memory map: 1/64 of memory) sit at the very
 * top.
 */
static int wanted(phys_addr_t p, phys_addr_t top, unsigned long want)
{
	if ((want & BIT(W_MASK)) && p >= BIT_ULL(mask))
		return W_MASK;
	if ((want & BIT(W_HOLE)) && p <= hole && hole < p + SZ_1M)
		return W_HOLE;
	if ((want & BIT(W_4G)) && p >= SZ_4G && p < SZ_4G + SZ_64M)
		return W_4G;
	if ((want & BIT(W_HIGH)) && p >= top - top / 16)
		return W_HIGH;
	if ((want & BIT(W_LOW)) && p < SZ_64M)
		return W_LOW;
	return -1;
}

static int find_blocks(struct list_head *keep, bool mask_test)
{
	phys_addr_t top = __pa(high_memory);
	unsigned long want = wanted_set(mask_test, top);
	struct block *b, *tmp;
	LIST_HEAD(rest);
	struct page *page;
	int n = 0, w;

	while (want) {
		page = alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY, 8);
		if (!page)
			break;
		b = kmalloc_obj(*b);
		if (!b) {
			__free_pages(page, 8);
			break;
		}
		b->page = page;
		w = wanted(page_to_phys(page), top, want);
		if (w >= 0) {
			want &= ~BIT(w);
			b->what = wanted_what[w];
			list_add_tail(&b->list, keep);
			n++;
		} else {
			list_add(&b->list, &rest);
		}
	}
	list_for_each_entry_safe(b, tmp, &rest, list) {
		__free_pages(b->page, 8);
		kfree(b);
	}
	for (w = 0; w < W_NR; w++)
		if (want & BIT(w))
			pr_info("DMA-FAULT: no free block %s\n", wanted_what[w]);
	return want ? -ENOMEM : n;
}

/* Identify into each block's first page through its own streaming map. */
static int test_blocks(struct ctl *c, bool mask_test)
{
	u64 limit = mask_test ? DMA_BIT_MASK(mask) : DMA_BIT_MASK(64);
	struct device *d = &c->pdev->dev;
	struct block *b, *tmp;
	LIST_HEAD(blocks);
	int ret = 0, n, bad;
	dma_addr_t dma;

	n = find_blocks(&blocks, mask_test);
	pr_info("DMA-FAULT: %s enabled, UML memory ends at %#llx, %d block(s) found\n",
		pci_name(c->pdev), (u64)__pa(high_memory), n);
	if (n <= 0)
		ret = -ENOMEM;
	list_for_each_entry_safe(b, tmp, &blocks, list) {
		memset(page_address(b->page), 0, PAGE_SIZE);
		dma = dma_map_page(d, b->page, 0, PAGE_SIZE, DMA_FROM_DEVICE);
		bad = dma_mapping_error(d, dma);
		if (!bad) {
			bad = dma + PAGE_SIZE - 1 > limit ||
			      identify_into(c, b->page, dma);
			dma_unmap_page(d, dma, PAGE_SIZE, DMA_FROM_DEVICE);
		}
		pr_info("DMA-FAULT: block %s at phys %#llx dma %#llx: %s\n",
			b->what, (u64)page_to_phys(b->page), (u64)dma,
			bad ? "FAILED" : "ok");
		if (bad)
			ret = -EIO;
		__free_pages(b->page, 8);
		list_del(&b->list);
		kfree(b);
	}
	return ret;
}

static int run(struct pci_dev *pdev)
{
	struct ctl c = { .pdev = pdev, .phase = 1 };
	bool mask_test = !strcmp(test, "mask");
	struct page *good;
	dma_addr_t good_dma;
	int err, ret = 0;
	u64 cap;

	err = pci_enable_device_mem(pdev);
	if (err)
		return err;
	pci_set_master(pdev);
	err = dma_set_mask_and_coherent(&pdev->dev, mask_test ?
					DMA_BIT_MASK(mask) : DMA_BIT_MASK(64));
	if (err)
		goto disable;
	c.bar = pci_iomap(pdev, 0, 0);
	if (!c.bar) {
		err = -ENOMEM;
		goto disable;
	}
	c.sq = dma_alloc_coherent(&pdev->dev, 4096, &c.sq_dma, GFP_KERNEL);
	c.cq = dma_alloc_coherent(&pdev->dev, 4096, &c.cq_dma, GFP_KERNEL);
	good = alloc_page(GFP_KERNEL);
	if (!c.sq || !c.cq || !good) {
		err = -ENOMEM;
		goto free;
	}
	if (mask_test && (c.sq_dma > DMA_BIT_MASK(mask) ||
			  c.cq_dma > DMA_BIT_MASK(mask))) {
		pr_info("DMA-FAULT: queues at %#llx, %#llx: above the %u-bit mask\n",
			(u64)c.sq_dma, (u64)c.cq_dma, mask);
		err = -EIO;
		goto free;
	}

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

	if (!strcmp(test, "unmap"))
		ret = test_unmap(&c);
	else if (mask_test || !strcmp(test, "spread"))
		ret = test_blocks(&c, mask_test);
	else
		ret = test_outside(&c);

	/* The device still works with a good address. */
	good_dma = dma_map_page(&pdev->dev, good, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(&pdev->dev, good_dma)) {
		ret = -EIO;
	} else {
		memset(page_address(good), 0, PAGE_SIZE);
		if (identify_into(&c, good, good_dma))
			ret = -EIO;
		else
			pr_info("DMA-FAULT: identify into UML memory ok (vid %#x)\n",
				get_unaligned_le16(page_address(good)));
		dma_unmap_page(&pdev->dev, good_dma, PAGE_SIZE, DMA_FROM_DEVICE);
	}

	writel(0, c.bar + NVME_REG_CC);
	wait_ready(&c, 0, 5000);
	err = ret;
free:
	if (good)
		__free_page(good);
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
	pr_info("DMA-FAULT: done test=%s err=%d\n", test, err);
	return err;
}

static void __exit dma_fault_exit(void)
{
}

module_init(dma_fault_init);
module_exit(dma_fault_exit);
MODULE_DESCRIPTION("uml-vfio test: nvme DMA outside UML's memory, after unmap, below a mask, all over memory");
MODULE_LICENSE("GPL");
