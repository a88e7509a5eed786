// SPDX-License-Identifier: GPL-2.0
/*
 * irqtest: a kernel module for the uml-vfio interrupt tests. It binds to
 * QEMU's edu device (by ID) or, through driver_override, to an nvme
 * controller or an e1000, and makes it raise interrupts of the kind asked
 * for:
 *
 *   edu   MSI or INTx: a write to its raise register (0x60); the handler
 *         reads the status (0x24) and acknowledges it (0x64), which lowers
 *         INTx.
 *   nvme  MSI-X or INTx: a Get Features command on a minimal admin queue;
 *         the handler takes the completion and moves the completion
 *         queue's head, which lowers INTx.
 *   e1000 INTx: a link status change cause set through ICS; the handler
 *         reads (and so clears) ICR, which lowers INTx.
 *
 * Commands are written to the device's "irqtest" attribute, one at a time;
 * the write fails with the command's error. "stats" reads the counters.
 *
 *   kind msix|msi|intx|none  free the vectors, allocate one of this kind
 *   raise N                  N round trips, each within 2 s (-ETIMEDOUT)
 *   post                     make the device interrupt and return
 *   wait MS                  wait up to MS ms for the last post's interrupt
 *   hold_ack N               the next N handler calls leave it asserted
 *   intx_disable 0|1         the command register's INTx disable bit
 *   irq_disable, irq_enable  disable_irq()/enable_irq() of the vector
 *   msix_shadow              nvme with MSI-X: the MSI-X table and PBA as
 *                            the guest sees them (see msix_shadow())
 *   msix_grow                nvme with MSI-X: interrupts raised while the
 *                            host adds MSI-X vectors (see msix_grow())
 *
 * Lines for the log start with "IRQTEST: ".
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sort.h>
#include <linux/wait.h>

#define EDU_STATUS	0x24
#define EDU_RAISE	0x60
#define EDU_ACK		0x64

#define NVME_REG_CAP	0x00
#define NVME_REG_CC	0x14
#define NVME_REG_CSTS	0x1c
#define NVME_REG_AQA	0x24
#define NVME_REG_ASQ	0x28
#define NVME_REG_ACQ	0x30
#define QDEPTH		16

#define E1000_ICR	0xc0
#define E1000_ICS	0xc8
#define E1000_IMS	0xd0
#define E1000_IMC	0xd8
#define E1000_LSC	0x04

#define RT_MAX		1024

enum it_type { IT_EDU, IT_NVME, IT_E1000 };

struct it_dev {
	struct pci_dev *pdev;
	enum it_type type;
	void __iomem *bar;
	struct mutex cmd_lock;	/* one command at a time */

	unsigned int kind;	/* PCI_IRQ_* of the vector in use, 0 for none */
	int irq;
	atomic_t handled;	/* interrupts taken and acknowledged */
	atomic_t held;		/* handler calls that left it asserted */
	atomic_t spurious;	/* handler calls with nothing to do */
	atomic_t hold_ack;
	int posted;		/* handled count the last post waits for */
	wait_queue_head_t wq;
	ktime_t t_post;
	u32 rt_ns[RT_MAX];	/* post to handler, of the last raise */
	int rt_n;
	bool irq_off;

	/* nvme: admin queue */
	spinlock_t q_lock;
	u32 *sq, *cq;
	dma_addr_t sq_dma, cq_dma;
	unsigned int stride, sq_tail, cq_head;
	int phase;
	u16 cid;
};

/* Takes the admin completions that are new; returns how many. */
static int nvme_reap(struct it_dev *it)
{
	int n = 0;
	u32 *ce;

	for (;;) {
		ce = it->cq + it->cq_head * 4;
		if (((READ_ONCE(ce[3]) >> 16) & 1) != it->phase)
			break;
		/* The entry only after its phase bit says it is new. */
		dma_rmb();
		it->cq_head = (it->cq_head + 1) % QDEPTH;
		if (!it->cq_head)
			it->phase ^= 1;
		n++;
	}
	if (n)
		writel(it->cq_head, it->bar + 0x1000 + it->stride);
	return n;
}

/* Is there a completion the handler has not taken yet? */
static bool nvme_cqe_visible(struct it_dev *it)
{
	u32 *ce = it->cq + it->cq_head * 4;

	return ((READ_ONCE(ce[3]) >> 16) & 1) == it->phase;
}

static irqreturn_t it_interrupt(int irq, void *data)
{
	struct it_dev *it = data;
	int n = 0;

	if (it->type == IT_EDU) {
		u32 st = readl(it->bar + EDU_STATUS);

		if (!st)
			goto none;
		if (atomic_add_unless(&it->hold_ack, -1, 0)) {
			atomic_inc(&it->held);
			return IRQ_HANDLED;
		}
		writel(st, it->bar + EDU_ACK);
		n = 1;
	} else if (it->type == IT_E1000) {
		if (atomic_add_unless(&it->hold_ack, -1, 0)) {
			atomic_inc(&it->held);
			return IRQ_HANDLED;
		}
		if (!(readl(it->bar + E1000_ICR) & E1000_LSC))
			goto none;
		n = 1;
	} else {
		spin_lock(&it->q_lock);
		if (nvme_cqe_visible(it) &&
		    atomic_add_unless(&it->hold_ack, -1, 0)) {
			spin_unlock(&it->q_lock);
			atomic_inc(&it->held);
			return IRQ_HANDLED;
		}
		n = nvme_reap(it);
		spin_unlock(&it->q_lock);
		if (!n)
			goto none;
	}

	if (it->rt_n < RT_MAX)
		it->rt_ns[it->rt_n++] = ktime_to_ns(ktime_sub(ktime_get(), it->t_post));
	atomic_add(n, &it->handled);
	wake_up(&it->wq);
	return IRQ_HANDLED;

none:
	atomic_inc(&it->spurious);
	return IRQ_NONE;
}

/* Makes the device raise one interrupt. */
static void it_post(struct it_dev *it)
{
	it->posted = atomic_read(&it->handled) + 1;
	it->t_post = ktime_get();
	if (it->type == IT_EDU) {
		writel(1, it->bar + EDU_RAISE);
		return;
	}
	if (it->type == IT_E1000) {
		writel(E1000_LSC, it->bar + E1000_ICS);
		return;
	}

	spin_lock_irq(&it->q_lock);
	{
		u32 *e = it->sq + it->sq_tail * 16;

		memset(e, 0, 64);
		/* Get Features: Number of Queues (no data transfer). */
		e[0] = 0x0a | (++it->cid << 16);
		e[10] = 0x07;
		/* The command must be in memory before the doorbell says so. */
		wmb();
		it->sq_tail = (it->sq_tail + 1) % QDEPTH;
		writel(it->sq_tail, it->bar + 0x1000);
	}
	spin_unlock_irq(&it->q_lock);
}

static int it_wait(struct it_dev *it, unsigned int ms)
{
	if (!wait_event_timeout(it->wq, atomic_read(&it->handled) >= it->posted,
				msecs_to_jiffies(ms)))
		return -ETIMEDOUT;
	return 0;
}

static int it_raise(struct it_dev *it, unsigned int n)
{
	unsigned int i;
	int err;

	if (!it->kind)
		return -EINVAL;
	it->rt_n = 0;
	for (i = 0; i < n; i++) {
		it_post(it);
		err = it_wait(it, 2000);
		if (err) {
			pr_info("IRQTEST: %s: interrupt %u of %u did not come\n",
				pci_name(it->pdev), i + 1, n);
			return err;
		}
	}
	return 0;
}

static void it_free_vector(struct it_dev *it)
{
	if (!it->kind)
		return;
	if (it->irq_off)
		enable_irq(it->irq);
	it->irq_off = false;
	free_irq(it->irq, it);
	pci_free_irq_vectors(it->pdev);
	it->kind = 0;
	it->irq = 0;
}

static int it_set_kind(struct it_dev *it, const char *name)
{
	unsigned int kind;
	int err;

	if (!strcmp(name, "msix"))
		kind = PCI_IRQ_MSIX;
	else if (!strcmp(name, "msi"))
		kind = PCI_IRQ_MSI;
	else if (!strcmp(name, "intx"))
		kind = PCI_IRQ_INTX;
	else if (!strcmp(name, "none"))
		kind = 0;
	else
		return -EINVAL;

	it_free_vector(it);
	if (!kind)
		return 0;

	err = pci_alloc_irq_vectors(it->pdev, 1, 1, kind);
	if (err < 0) {
		pr_info("IRQTEST: %s: no %s vector: %d\n", pci_name(it->pdev),
			name, err);
		return err;
	}
	it->irq = pci_irq_vector(it->pdev, 0);
	err = request_irq(it->irq, it_interrupt,
			  kind == PCI_IRQ_INTX ? IRQF_SHARED : 0, "irqtest", it);
	if (err) {
		pci_free_irq_vectors(it->pdev);
		it->irq = 0;
		return err;
	}
	it->kind = kind;
	pr_info("IRQTEST: %s: %s on IRQ %d\n", pci_name(it->pdev), name, it->irq);
	return 0;
}

/* Offset of entry @i's dword @dw in the MSI-X table. */
#define ENTRY(i, dw)	((i) * PCI_MSIX_ENTRY_SIZE + (dw) * 4)

/* Waits until the device has completed the last post, not the handler. */
static int nvme_wait_cqe(struct it_dev *it)
{
	int ms;

	for (ms = 0; ms < 2000; ms++) {
		if (nvme_cqe_visible(it))
			return 0;
		usleep_range(1000, 2000);
	}
	return -ETIMEDOUT;
}

/*
 * A masked vector that fires must not interrupt, must show in the PBA and
 * must interrupt once unmasked.
 */
static int check_masked(struct it_dev *it, void __iomem *table,
			void __iomem *pba, const char *how,
			void (*mask)(void __iomem *table, bool on))
{
	int before = atomic_read(&it->handled), err;
	u32 bits;

	mask(table, true);
	it_post(it);
	err = nvme_wait_cqe(it);
	if (err)
		return err;
	/* Time for an interrupt to come through if it wrongly does. */
	msleep(100);
	bits = readl(pba);
	pr_info("IRQTEST: %s: %s: masked vector fired: %d interrupts, PBA %#x\n",
		pci_name(it->pdev), how, atomic_read(&it->handled) - before,
		bits);
	if (atomic_read(&it->handled) != before || !(bits & 1))
		err = -EIO;
	mask(table, false);
	if (it_wait(it, 2000)) {
		pr_info("IRQTEST: %s: %s: no interrupt after unmasking\n",
			pci_name(it->pdev), how);
		err = -EIO;
	}
	bits = readl(pba);
	if (bits & 1) {
		pr_info("IRQTEST: %s: %s: PBA %#x after delivery\n",
			pci_name(it->pdev), how, bits);
		err = -EIO;
	}
	return err;
}

static void mask_writel(void __iomem *table, bool on)
{
	writel(on ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0,
	       table + ENTRY(0, 3));
}

static u32 entry0[4];

/* The whole entry at once, as memcpy_toio() copies it. */
static void mask_memcpy(void __iomem *table, bool on)
{
	u32 e[4];

	memcpy(e, entry0, sizeof(e));
	e[3] = on ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0;
	memcpy_toio(table, e, sizeof(e));
}

/**
 * msix_shadow() - the MSI-X table and PBA as the guest sees them
 * @it: nvme with an MSI-X vector (entry 0)
 *
 * Under VFIO the table is emulated: reads of it, memcpy_fromio() included,
 * must give back what was written, writes, memcpy_toio() and memset_io()
 * included, must take effect, and the PBA must show a vector that fired
 * while masked.
 *
 * Return: 0 if all holds, else -EIO (details in the log).
 */
static int msix_shadow(struct it_dev *it)
{
	struct pci_dev *pdev = it->pdev;
	void __iomem *table, *pba;
	u32 tbl, pbao, e[4], last;
	u16 ctl;
	int i, qsize, err = 0;

	if (it->type != IT_NVME || it->kind != PCI_IRQ_MSIX)
		return -EINVAL;

	pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &ctl);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &tbl);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_PBA, &pbao);
	qsize = (ctl & PCI_MSIX_FLAGS_QSIZE) + 1;
	table = pci_iomap_range(pdev, tbl & PCI_MSIX_TABLE_BIR,
				tbl & PCI_MSIX_TABLE_OFFSET,
				qsize * PCI_MSIX_ENTRY_SIZE);
	pba = pci_iomap_range(pdev, pbao & PCI_MSIX_PBA_BIR,
			      pbao & PCI_MSIX_PBA_OFFSET, 8);
	if (!table || !pba) {
		err = -ENOMEM;
		goto unmap;
	}

	for (i = 0; i < 4; i++)
		entry0[i] = readl(table + ENTRY(0, i));
	memcpy_fromio(e, table, sizeof(e));
	pr_info("IRQTEST: %s: entry 0 %08x %08x %08x %08x, by memcpy_fromio() %08x %08x %08x %08x\n",
		pci_name(pdev), entry0[0], entry0[1], entry0[2], entry0[3],
		e[0], e[1], e[2], e[3]);
	if (memcmp(e, entry0, sizeof(e)) || !entry0[2] || (entry0[3] & 1)) {
		pr_info("IRQTEST: %s: entry 0 is not the message of IRQ %d\n",
			pci_name(pdev), it->irq);
		err = -EIO;
	}

	if (check_masked(it, table, pba, "writel", mask_writel))
		err = -EIO;
	if (check_masked(it, table, pba, "memcpy_toio", mask_memcpy))
		err = -EIO;

	/* memset_io() of the last entry's message, which no one uses. */
	i = qsize - 1;
	memset_io(table + ENTRY(i, 0), 0x5a, 12);
	last = readl(table + ENTRY(i, 2));
	memset_io(table + ENTRY(i, 0), 0, 12);
	pr_info("IRQTEST: %s: entry %d data after memset_io(0x5a): %#x, after memset_io(0): %#x\n",
		pci_name(pdev), i, last, readl(table + ENTRY(i, 2)));
	if (last != 0x5a5a5a5a || readl(table + ENTRY(i, 2)))
		err = -EIO;

	/* Nothing left behind: the vector works as before. */
	if (it_raise(it, 3))
		err = -EIO;
unmap:
	if (pba)
		pci_iounmap(pdev, pba);
	if (table)
		pci_iounmap(pdev, table);
	pr_info("IRQTEST: %s: %s %s\n", pci_name(pdev), __func__,
		err ? "FAILED" : "ok");
	return err;
}

/**
 * msix_grow() - no interrupt is lost while the host adds MSI-X vectors
 * @it: nvme with an MSI-X vector (entry 0)
 *
 * A message written to an entry above those enabled on the host makes
 * UML's driver enable more host vectors, which, where VFIO cannot add
 * them in place, disables host MSI-X for a moment. Each round posts a
 * command, waits a little (longer each round, so that the completion
 * falls at different points of the change) and writes the next entry;
 * the command's interrupt must come. The entries get vector 0's message:
 * the device never uses them.
 *
 * Return: 0, or -EIO if an interrupt was lost (details in the log).
 */
static int msix_grow(struct it_dev *it)
{
	struct pci_dev *pdev = it->pdev;
	void __iomem *table;
	int i, qsize, lost = 0, rounds = 0;
	u32 tbl, data;
	u16 ctl;

	if (it->type != IT_NVME || it->kind != PCI_IRQ_MSIX)
		return -EINVAL;

	pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &ctl);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &tbl);
	qsize = (ctl & PCI_MSIX_FLAGS_QSIZE) + 1;
	table = pci_iomap_range(pdev, tbl & PCI_MSIX_TABLE_BIR,
				tbl & PCI_MSIX_TABLE_OFFSET,
				qsize * PCI_MSIX_ENTRY_SIZE);
	if (!table)
		return -ENOMEM;
	data = readl(table + ENTRY(0, 2));

	for (i = 1; i < qsize; i++) {
		/* Entries the PCI core wrote before are enabled already. */
		if (readl(table + ENTRY(i, 2)))
			continue;
		it_post(it);
		udelay((rounds++ * 37) % 500);
		writel(readl(table + ENTRY(0, 0)), table + ENTRY(i, 0));
		writel(readl(table + ENTRY(0, 1)), table + ENTRY(i, 1));
		writel(data, table + ENTRY(i, 2));
		if (it_wait(it, 2000)) {
			pr_info("IRQTEST: %s: %s: the interrupt of round %d (entry %d) was lost\n",
				pci_name(pdev), __func__, rounds, i);
			lost++;
			/* Take the completion, so that the next round is clean. */
			spin_lock_irq(&it->q_lock);
			atomic_add(nvme_reap(it), &it->handled);
			spin_unlock_irq(&it->q_lock);
		}
	}
	for (i = 1; i < qsize; i++)
		writel(0, table + ENTRY(i, 2));
	pci_iounmap(pdev, table);
	pr_info("IRQTEST: %s: %s: %d rounds, %d interrupts lost, %d spurious\n",
		pci_name(pdev), __func__, rounds, lost, atomic_read(&it->spurious));
	return lost ? -EIO : 0;
}

static int it_command(struct it_dev *it, const char *buf)
{
	char cmd[32], arg[32] = "";
	unsigned int n = 0;

	if (sscanf(buf, "%31s %31s", cmd, arg) < 1)
		return -EINVAL;
	if (arg[0] && kstrtouint(arg, 0, &n) && strcmp(cmd, "kind"))
		return -EINVAL;

	if (!strcmp(cmd, "kind"))
		return it_set_kind(it, arg);
	if (!strcmp(cmd, "raise"))
		return it_raise(it, n);
	if (!strcmp(cmd, "post")) {
		it_post(it);
		return 0;
	}
	if (!strcmp(cmd, "wait"))
		return it_wait(it, n);
	if (!strcmp(cmd, "hold_ack")) {
		atomic_set(&it->hold_ack, n);
		return 0;
	}
	if (!strcmp(cmd, "intx_disable")) {
		pci_intx(it->pdev, !n);
		return 0;
	}
	if (!strcmp(cmd, "irq_disable") && it->kind && !it->irq_off) {
		disable_irq(it->irq);
		it->irq_off = true;
		return 0;
	}
	if (!strcmp(cmd, "irq_enable") && it->irq_off) {
		enable_irq(it->irq);
		it->irq_off = false;
		return 0;
	}
	if (!strcmp(cmd, "msix_shadow"))
		return msix_shadow(it);
	if (!strcmp(cmd, "msix_grow"))
		return msix_grow(it);
	return -EINVAL;
}

static ssize_t irqtest_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct it_dev *it = dev_get_drvdata(dev);
	int err;

	mutex_lock(&it->cmd_lock);
	err = it_command(it, buf);
	mutex_unlock(&it->cmd_lock);
	return err ? err : count;
}
static DEVICE_ATTR_WO(irqtest);

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static ssize_t stats_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct it_dev *it = dev_get_drvdata(dev);
	static const char * const kinds[] = { "none", "intx", "msi", "", "msix" };
	u32 p50 = 0;

	mutex_lock(&it->cmd_lock);
	if (it->rt_n) {
		sort(it->rt_ns, it->rt_n, sizeof(u32), cmp_u32, NULL);
		p50 = it->rt_ns[it->rt_n / 2];
	}
	mutex_unlock(&it->cmd_lock);
	return sysfs_emit(buf,
			  "kind=%s irq=%d handled=%d held=%d spurious=%d rt_n=%d rt_p50_ns=%u\n",
			  it->kind < ARRAY_SIZE(kinds) ? kinds[it->kind] : "?",
			  it->irq, atomic_read(&it->handled),
			  atomic_read(&it->held), atomic_read(&it->spurious),
			  it->rt_n, p50);
}
static DEVICE_ATTR_RO(stats);

static struct attribute *it_attrs[] = {
	&dev_attr_irqtest.attr,
	&dev_attr_stats.attr,
	NULL,
};
ATTRIBUTE_GROUPS(it);

static int nvme_wait_ready(struct it_dev *it, u32 want)
{
	int ms;

	for (ms = 0; ms < 5000; ms++) {
		if ((readl(it->bar + NVME_REG_CSTS) & 1) == want)
			return 0;
		usleep_range(1000, 2000);
	}
	return -ETIMEDOUT;
}

static int nvme_setup(struct it_dev *it)
{
	struct device *dev = &it->pdev->dev;
	u64 cap;
	int err;

	it->sq = dma_alloc_coherent(dev, 4096, &it->sq_dma, GFP_KERNEL);
	it->cq = dma_alloc_coherent(dev, 4096, &it->cq_dma, GFP_KERNEL);
	if (!it->sq || !it->cq)
		return -ENOMEM;
	it->phase = 1;

	cap = lo_hi_readq(it->bar + NVME_REG_CAP);
	it->stride = 4 << ((cap >> 32) & 0xf);
	writel(0, it->bar + NVME_REG_CC);
	err = nvme_wait_ready(it, 0);
	if (err)
		return err;
	writel(((QDEPTH - 1) << 16) | (QDEPTH - 1), it->bar + NVME_REG_AQA);
	lo_hi_writeq(it->sq_dma, it->bar + NVME_REG_ASQ);
	lo_hi_writeq(it->cq_dma, it->bar + NVME_REG_ACQ);
	writel((4 << 20) | (6 << 16) | 1, it->bar + NVME_REG_CC);
	return nvme_wait_ready(it, 1);
}

static void nvme_teardown(struct it_dev *it)
{
	struct device *dev = &it->pdev->dev;

	writel(0, it->bar + NVME_REG_CC);
	nvme_wait_ready(it, 0);
	if (it->cq)
		dma_free_coherent(dev, 4096, it->cq, it->cq_dma);
	if (it->sq)
		dma_free_coherent(dev, 4096, it->sq, it->sq_dma);
}

static int it_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct it_dev *it;
	int err;

	it = devm_kzalloc(&pdev->dev, sizeof(*it), GFP_KERNEL);
	if (!it)
		return -ENOMEM;
	it->pdev = pdev;
	if (pdev->class == PCI_CLASS_STORAGE_EXPRESS)
		it->type = IT_NVME;
	else if (pdev->vendor == 0x1234 && pdev->device == 0x11e8)
		it->type = IT_EDU;
	else if (pdev->vendor == PCI_VENDOR_ID_INTEL && pdev->device == 0x100e)
		it->type = IT_E1000;
	else
		return -ENODEV;
	mutex_init(&it->cmd_lock);
	spin_lock_init(&it->q_lock);
	init_waitqueue_head(&it->wq);
	pci_set_drvdata(pdev, it);

	err = pci_enable_device_mem(pdev);
	if (err)
		return err;
	pci_set_master(pdev);
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err)
		goto disable;
	it->bar = pci_iomap(pdev, 0, 0);
	if (!it->bar) {
		err = -ENOMEM;
		goto disable;
	}
	if (it->type == IT_NVME) {
		err = nvme_setup(it);
		if (err) {
			nvme_teardown(it);
			goto unmap;
		}
	}
	if (it->type == IT_E1000) {
		/* Only the cause this module sets, and none pending. */
		writel(~0U, it->bar + E1000_IMC);
		readl(it->bar + E1000_ICR);
		writel(E1000_LSC, it->bar + E1000_IMS);
	}
	pr_info("IRQTEST: %s: bound (%s)\n", pci_name(pdev),
		it->type == IT_NVME ? "nvme" : it->type == IT_EDU ? "edu" : "e1000");
	return 0;

unmap:
	pci_iounmap(pdev, it->bar);
disable:
	pci_clear_master(pdev);
	pci_disable_device(pdev);
	return err;
}

static void it_remove(struct pci_dev *pdev)
{
	struct it_dev *it = pci_get_drvdata(pdev);

	it_free_vector(it);
	if (it->type == IT_NVME)
		nvme_teardown(it);
	if (it->type == IT_E1000)
		writel(~0U, it->bar + E1000_IMC);
	pci_iounmap(pdev, it->bar);
	pci_clear_master(pdev);
	pci_disable_device(pdev);
}

static const struct pci_device_id it_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },	/* QEMU edu */
	{ }
};
MODULE_DEVICE_TABLE(pci, it_ids);

static struct pci_driver it_driver = {
	.name = "irqtest",
	.id_table = it_ids,
	.probe = it_probe,
	.remove = it_remove,
	.dev_groups = it_groups,
};
module_pci_driver(it_driver);

MODULE_DESCRIPTION("uml-vfio test: interrupts of each kind from edu and nvme");
MODULE_LICENSE("GPL");
