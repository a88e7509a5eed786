// SPDX-License-Identifier: GPL-2.0
/*
 * bench_nvme: time, from kernel context, 4-byte BAR accesses and the
 * interrupt path of an NVMe controller that no driver is using.
 *
 * Part of the uml-vfio benchmark (tools/testing/uml-vfio/bench); it is
 * built for L1's kernel and for UML and is not meant for production use.
 *
 *   insmod bench_nvme.ko bdf=0000:00:03.0 [mmio_loops=N] [cmds=N]
 *
 * The module disables the controller and times ioread32() of VS and
 * iowrite32() of AQA (harmless while the controller is disabled). Then it
 * enables the controller with its own admin queue and creates two I/O
 * queue pairs: one whose completion queue raises MSI-X vector 1, one with
 * interrupts off. It issues one-block reads, one at a time, alternating
 * between the two:
 *
 *  - interrupt: doorbell write until the handler of vector 1 runs;
 *  - polled: doorbell write until the completion entry is seen.
 *
 * Both do the same device work (command fetch, data and completion DMA);
 * the difference of their medians is the cost of getting the device's
 * interrupt to the handler. The module prints one line, leaves the
 * controller disabled and does nothing more until rmmod.
 *
 * In UML, trace=DIR (the host's tracefs, e.g. /sys/kernel/tracing) has
 * the timed reads run with the host's tracing on, each marked in the
 * host's trace (trace_marker): "bench_nvme: db irq|poll N T0" just before
 * the doorbell write at UML time T0 (ns), "bench_nvme: handler N DT" in
 * the handler once it has taken its time (DT after T0), "bench_nvme: done
 * poll N DT" when a polled read is seen complete. bench/irqtrace.py lays
 * the host's events between them out step by step.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/nvme.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sort.h>
#ifdef CONFIG_UML
#include <os.h>
#endif

#define BENCH_QD	16
#define BENCH_REPS	21
#define BENCH_TIMEOUT_NS	(2 * NSEC_PER_SEC)

static char *bdf;
module_param(bdf, charp, 0444);
MODULE_PARM_DESC(bdf, "PCI address of an NVMe controller bound to no driver");

static unsigned int mmio_loops = 21000;
module_param(mmio_loops, uint, 0444);
MODULE_PARM_DESC(mmio_loops, "MMIO reads (and writes) to time");

static unsigned int cmds = 300;
module_param(cmds, uint, 0444);
MODULE_PARM_DESC(cmds, "reads to time per mode (interrupt, polled)");

static char *trace;
module_param(trace, charp, 0444);
MODULE_PARM_DESC(trace, "UML only: the host's tracefs; mark the timed reads in its trace");

/* One submission/completion queue pair; qid 0 is the admin queue. */
struct bench_queue {
	u16 qid;
	struct nvme_command *sq;
	struct nvme_completion *cq;
	dma_addr_t sq_dma;
	dma_addr_t cq_dma;
	void __iomem *sq_db;
	void __iomem *cq_db;
	u16 sq_tail;
	u16 cq_head;
	u16 phase;
};

enum { BENCH_ADMIN, BENCH_IRQ, BENCH_POLL, BENCH_NR_QUEUES };

struct bench {
	struct pci_dev *pdev;
	void __iomem *bar;
	u32 dstrd;
	u16 cid;
	struct bench_queue q[BENCH_NR_QUEUES];
	void *buf;
	dma_addr_t buf_dma;
	struct completion done;
	u64 t_irq;
	u64 t0;			/* of the last doorbell write */
	unsigned int seq;
	bool marking;		/* the timed reads run: mark them (trace=) */
	int trace_on;		/* host fds of tracing_on and trace_marker, or -1 */
	int trace_marker;
	u64 *irq_ns;
	u64 *poll_ns;
};

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v and returns its @pct-th percentile. */
static u64 bench_pct(u64 *v, unsigned int n, unsigned int pct)
{
	sort(v, n, sizeof(*v), bench_cmp_u64, NULL);
	return v[min(n - 1, n * pct / 100)];
}

#ifdef CONFIG_UML
/* Opens the host's tracefs file @name; returns its fd or a negative errno. */
static int bench_trace_open(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", trace, name);
	return os_open_file(path, of_write(OPENFLAGS()), 0);
}

static void bench_trace_write(int fd, const char *s)
{
	if (fd >= 0)
		os_write_file(fd, s, strlen(s));
}

static void bench_trace_close(int fd)
{
	if (fd >= 0)
		os_close_file(fd);
}
#else
static int bench_trace_open(const char *name)
{
	return -EOPNOTSUPP;
}

static void bench_trace_write(int fd, const char *s)
{
}

static void bench_trace_close(int fd)
{
}
#endif

/* A line in the host's trace (trace=), at most 64 bytes. */
static __printf(2, 3) void bench_mark(struct bench *b, const char *fmt, ...)
{
	char line[64];
	va_list ap;

	if (b->trace_marker < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	bench_trace_write(b->trace_marker, line);
}

/* Median over BENCH_REPS batches of the mean time of one access, in ns. */
static u64 bench_mmio(struct bench *b, bool write)
{
	unsigned int per = max(1U, mmio_loops / BENCH_REPS), r, i;
	u64 t0, v[BENCH_REPS];
	u32 sink = 0;

	for (r = 0; r < BENCH_REPS; r++) {
		t0 = ktime_get_ns();
		for (i = 0; i < per; i++) {
			if (write)
				iowrite32(0, b->bar + NVME_REG_AQA);
			else
				sink += ioread32(b->bar + NVME_REG_VS);
		}
		v[r] = (ktime_get_ns() - t0) / per;
	}
	if (!write && !sink)
		pr_warn("VS reads as 0\n");
	return bench_pct(v, BENCH_REPS, 50);
}

static int bench_wait_ready(struct bench *b, u32 want)
{
	u64 cap = lo_hi_readq(b->bar + NVME_REG_CAP);
	unsigned long end = jiffies + msecs_to_jiffies(500 * (NVME_CAP_TIMEOUT(cap) + 1));

	while ((ioread32(b->bar + NVME_REG_CSTS) & NVME_CSTS_RDY) != want) {
		if (time_after(jiffies, end)) {
			pr_err("%s: CSTS.RDY stayed %u\n", bdf, !want);
			return -ETIMEDOUT;
		}
		usleep_range(1000, 2000);
	}
	return 0;
}

static int bench_disable(struct bench *b)
{
	iowrite32(0, b->bar + NVME_REG_CC);
	return bench_wait_ready(b, 0);
}

static int bench_queue_alloc(struct bench *b, struct bench_queue *q, u16 qid)
{
	struct device *dev = &b->pdev->dev;

	q->qid = qid;
	q->sq = dma_alloc_coherent(dev, BENCH_QD * sizeof(*q->sq), &q->sq_dma, GFP_KERNEL);
	q->cq = dma_alloc_coherent(dev, BENCH_QD * sizeof(*q->cq), &q->cq_dma, GFP_KERNEL);
	if (!q->sq || !q->cq)
		return -ENOMEM;
	q->sq_db = b->bar + NVME_REG_DBS + (2 * qid) * (4 << b->dstrd);
	q->cq_db = b->bar + NVME_REG_DBS + (2 * qid + 1) * (4 << b->dstrd);
	q->sq_tail = 0;
	q->cq_head = 0;
	q->phase = 1;
	return 0;
}

static void bench_queue_free(struct bench *b, struct bench_queue *q)
{
	struct device *dev = &b->pdev->dev;

	if (q->cq)
		dma_free_coherent(dev, BENCH_QD * sizeof(*q->cq), q->cq, q->cq_dma);
	if (q->sq)
		dma_free_coherent(dev, BENCH_QD * sizeof(*q->sq), q->sq, q->sq_dma);
}

static bool bench_cqe_ready(struct bench_queue *q)
{
	return (le16_to_cpu(READ_ONCE(q->cq[q->cq_head].status)) & 1) == q->phase;
}

/* Consumes the completion at the head; returns its NVMe status. */
static u16 bench_cqe_consume(struct bench_queue *q)
{
	u16 status = le16_to_cpu(q->cq[q->cq_head].status) >> 1;

	if (++q->cq_head == BENCH_QD) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	iowrite32(q->cq_head, q->cq_db);
	return status;
}

/* Queues @cmd and returns the time just before its doorbell write. */
static u64 bench_submit(struct bench *b, struct bench_queue *q, struct nvme_command *cmd)
{
	u64 t0;

	cmd->common.command_id = ++b->cid;
	q->sq[q->sq_tail] = *cmd;
	if (++q->sq_tail == BENCH_QD)
		q->sq_tail = 0;
	/* The entry must be in memory before the device sees the doorbell. */
	wmb();
	t0 = ktime_get_ns();
	b->t0 = t0;
	iowrite32(q->sq_tail, q->sq_db);
	return t0;
}

/* Spins until @q has a completion; returns its time, 0 on timeout. */
static u64 bench_poll(struct bench_queue *q, u64 t0)
{
	u64 t;

	do {
		cpu_relax();
		t = ktime_get_ns();
		if (t - t0 > BENCH_TIMEOUT_NS)
			return 0;
	} while (!bench_cqe_ready(q));
	dma_rmb();
	return t;
}

/* An admin command, completion polled (its vector is left alone). */
static int bench_admin(struct bench *b, struct nvme_command *cmd)
{
	struct bench_queue *q = &b->q[BENCH_ADMIN];
	u16 status;

	if (!bench_poll(q, bench_submit(b, q, cmd))) {
		pr_err("%s: admin command 0x%x timed out\n", bdf, cmd->common.opcode);
		return -ETIMEDOUT;
	}
	status = bench_cqe_consume(q);
	if (status) {
		pr_err("%s: admin command 0x%x failed: 0x%x\n", bdf, cmd->common.opcode, status);
		return -EIO;
	}
	return 0;
}

static irqreturn_t bench_irq_admin(int irq, void *data)
{
	return IRQ_HANDLED;
}

static irqreturn_t bench_irq(int irq, void *data)
{
	struct bench *b = data;
	struct bench_queue *q = &b->q[BENCH_IRQ];
	u64 now = ktime_get_ns();

	if (!bench_cqe_ready(q))
		return IRQ_NONE;
	dma_rmb();
	b->t_irq = now;
	if (b->marking)
		bench_mark(b, "bench_nvme: handler %u %llu\n", b->seq, now - b->t0);
	bench_cqe_consume(q);
	complete(&b->done);
	return IRQ_HANDLED;
}

static int bench_enable(struct bench *b)
{
	struct bench_queue *a = &b->q[BENCH_ADMIN];
	u32 cc = NVME_CC_CSS_NVM | NVME_CC_AMS_RR | NVME_CC_SHN_NONE |
		 NVME_CC_IOSQES | NVME_CC_IOCQES | NVME_CC_ENABLE;

	iowrite32((BENCH_QD - 1) | (BENCH_QD - 1) << 16, b->bar + NVME_REG_AQA);
	lo_hi_writeq(a->sq_dma, b->bar + NVME_REG_ASQ);
	lo_hi_writeq(a->cq_dma, b->bar + NVME_REG_ACQ);
	iowrite32(cc, b->bar + NVME_REG_CC);
	return bench_wait_ready(b, NVME_CSTS_RDY);
}

/* I/O queue pair @q on vector 1 if @irq, else with interrupts off. */
static int bench_create_io_queue(struct bench *b, struct bench_queue *q, bool irq)
{
	struct nvme_command c = { };
	int ret;

	c.create_cq.opcode = nvme_admin_create_cq;
	c.create_cq.prp1 = cpu_to_le64(q->cq_dma);
	c.create_cq.cqid = cpu_to_le16(q->qid);
	c.create_cq.qsize = cpu_to_le16(BENCH_QD - 1);
	c.create_cq.cq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG |
					   (irq ? NVME_CQ_IRQ_ENABLED : 0));
	c.create_cq.irq_vector = cpu_to_le16(irq ? 1 : 0);
	ret = bench_admin(b, &c);
	if (ret)
		return ret;
	memset(&c, 0, sizeof(c));
	c.create_sq.opcode = nvme_admin_create_sq;
	c.create_sq.prp1 = cpu_to_le64(q->sq_dma);
	c.create_sq.sqid = cpu_to_le16(q->qid);
	c.create_sq.qsize = cpu_to_le16(BENCH_QD - 1);
	c.create_sq.sq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG | NVME_SQ_PRIO_MEDIUM);
	c.create_sq.cqid = cpu_to_le16(q->qid);
	return bench_admin(b, &c);
}

/*
 * Reads of one block (LBA 0 of namespace 1, into a 4 KiB buffer), one at a
 * time, alternating between the interrupt-driven and the polled queue so
 * that both see the same conditions.
 */
static int bench_reads(struct bench *b, unsigned int n, bool record)
{
	struct bench_queue *qi = &b->q[BENCH_IRQ], *qp = &b->q[BENCH_POLL];
	struct nvme_command c = { };
	unsigned int i;
	u64 t0, t1;
	u16 status;

	c.rw.opcode = nvme_cmd_read;
	c.rw.nsid = cpu_to_le32(1);
	c.rw.dptr.prp1 = cpu_to_le64(b->buf_dma);
	c.rw.length = 0;	/* one block */
	b->marking = record;
	for (i = 0; i < n; i++) {
		b->seq = i;
		reinit_completion(&b->done);
		if (record)
			bench_mark(b, "bench_nvme: db irq %u %llu\n", i, ktime_get_ns());
		t0 = bench_submit(b, qi, &c);
		if (!wait_for_completion_timeout(&b->done, 2 * HZ)) {
			pr_err("%s: no interrupt for read %u\n", bdf, i);
			b->marking = false;
			return -ETIMEDOUT;
		}
		if (record) {
			b->irq_ns[i] = b->t_irq - t0;
			bench_mark(b, "bench_nvme: db poll %u %llu\n", i, ktime_get_ns());
		}

		t0 = bench_submit(b, qp, &c);
		t1 = bench_poll(qp, t0);
		if (!t1) {
			pr_err("%s: no completion for read %u\n", bdf, i);
			return -ETIMEDOUT;
		}
		if (record)
			bench_mark(b, "bench_nvme: done poll %u %llu\n", i, t1 - t0);
		status = bench_cqe_consume(qp);
		if (status) {
			pr_err("%s: read failed: 0x%x\n", bdf, status);
			return -EIO;
		}
		if (record)
			b->poll_ns[i] = t1 - t0;
	}
	return 0;
}

static int bench_queues(struct bench *b, u64 *res)
{
	struct device *dev = &b->pdev->dev;
	int ret, i, irq0, irq1;

	b->dstrd = NVME_CAP_STRIDE(lo_hi_readq(b->bar + NVME_REG_CAP));
	b->buf = dma_alloc_coherent(dev, PAGE_SIZE, &b->buf_dma, GFP_KERNEL);
	ret = b->buf ? 0 : -ENOMEM;
	for (i = 0; i < BENCH_NR_QUEUES && !ret; i++)
		ret = bench_queue_alloc(b, &b->q[i], i);
	if (ret)
		goto free;

	/* Vector 0 for the admin queue (polled), 1 for the timed queue. */
	ret = pci_alloc_irq_vectors(b->pdev, 2, 2, PCI_IRQ_MSIX);
	if (ret < 0) {
		pr_err("%s: no 2 MSI-X vectors: %d\n", bdf, ret);
		goto free;
	}
	irq0 = pci_irq_vector(b->pdev, 0);
	irq1 = pci_irq_vector(b->pdev, 1);
	ret = request_irq(irq0, bench_irq_admin, 0, KBUILD_MODNAME, b);
	if (ret)
		goto vectors;
	ret = request_irq(irq1, bench_irq, 0, KBUILD_MODNAME, b);
	if (ret)
		goto irq0;

	ret = bench_enable(b);
	if (!ret)
		ret = bench_create_io_queue(b, &b->q[BENCH_IRQ], true);
	if (!ret)
		ret = bench_create_io_queue(b, &b->q[BENCH_POLL], false);
	/* Warm up, then time. */
	if (!ret)
		ret = bench_reads(b, min(cmds, 10U), false);
	if (!ret) {
		bench_trace_write(b->trace_on, "1");
		ret = bench_reads(b, cmds, true);
		b->marking = false;
		bench_trace_write(b->trace_on, "0");
	}
	if (!ret) {
		res[0] = bench_pct(b->irq_ns, cmds, 50);
		res[1] = bench_pct(b->irq_ns, cmds, 99);
		res[2] = bench_pct(b->poll_ns, cmds, 50);
		res[3] = bench_pct(b->poll_ns, cmds, 99);
	}
	bench_disable(b);
	free_irq(irq1, b);
irq0:
	free_irq(irq0, b);
vectors:
	pci_free_irq_vectors(b->pdev);
free:
	for (i = 0; i < BENCH_NR_QUEUES; i++)
		bench_queue_free(b, &b->q[i]);
	if (b->buf)
		dma_free_coherent(dev, PAGE_SIZE, b->buf, b->buf_dma);
	return ret;
}

static struct pci_dev *bench_find(void)
{
	unsigned int dom, bus, slot, fn;

	if (!bdf || sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4) {
		pr_err("bdf=DDDD:BB:SS.F is required\n");
		return NULL;
	}
	return pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
}

static int bench_run(struct bench *b)
{
	u64 rd, wr, res[4] = { };
	int ret;

	b->bar = pci_iomap(b->pdev, 0, 0);
	if (!b->bar)
		return -ENOMEM;
	ret = bench_disable(b);
	if (ret)
		goto unmap;
	rd = bench_mmio(b, false);
	wr = bench_mmio(b, true);
	ret = bench_queues(b, res);
	pr_info("%s mmio_read_ns=%llu mmio_write_ns=%llu read_irq_p50_ns=%llu read_irq_p99_ns=%llu read_poll_p50_ns=%llu read_poll_p99_ns=%llu cmds=%u loops=%u ret=%d\n",
		bdf, rd, wr, res[0], res[1], res[2], res[3], cmds, mmio_loops, ret);
unmap:
	pci_iounmap(b->pdev, b->bar);
	return ret;
}

static int __init bench_init(void)
{
	struct bench *b;
	int ret;

	if (!cmds || cmds > 100000)
		return -EINVAL;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	init_completion(&b->done);
	b->trace_on = -1;
	b->trace_marker = -1;
	if (trace) {
		b->trace_on = bench_trace_open("tracing_on");
		b->trace_marker = bench_trace_open("trace_marker");
		if (b->trace_on < 0 || b->trace_marker < 0) {
			pr_err("trace=%s: cannot open its tracing_on and trace_marker: %d %d\n",
			       trace, b->trace_on, b->trace_marker);
			ret = b->trace_on < 0 ? b->trace_on : b->trace_marker;
			goto out;
		}
	}
	b->irq_ns = kcalloc(cmds, sizeof(*b->irq_ns), GFP_KERNEL);
	b->poll_ns = kcalloc(cmds, sizeof(*b->poll_ns), GFP_KERNEL);
	b->pdev = bench_find();
	ret = -ENOMEM;
	if (!b->irq_ns || !b->poll_ns)
		goto out;
	ret = -ENODEV;
	if (!b->pdev)
		goto out;
	ret = -EBUSY;
	if (b->pdev->driver) {
		pr_err("%s is bound to %s: unbind it first\n", bdf, b->pdev->driver->name);
		goto put;
	}
	ret = pci_enable_device_mem(b->pdev);
	if (ret)
		goto put;
	ret = pci_request_mem_regions(b->pdev, KBUILD_MODNAME);
	if (ret)
		goto disable;
	pci_set_master(b->pdev);
	ret = dma_set_mask_and_coherent(&b->pdev->dev, DMA_BIT_MASK(64));
	if (!ret)
		ret = bench_run(b);
	pci_clear_master(b->pdev);
	pci_release_mem_regions(b->pdev);
disable:
	pci_disable_device(b->pdev);
put:
	pci_dev_put(b->pdev);
out:
	bench_trace_close(b->trace_marker);
	bench_trace_close(b->trace_on);
	kfree(b->poll_ns);
	kfree(b->irq_ns);
	kfree(b);
	return ret;
}

static void __exit bench_exit(void)
{
}

module_init(bench_init);
module_exit(bench_exit);
MODULE_DESCRIPTION("uml-vfio benchmark: NVMe MMIO and interrupt round trips");
MODULE_LICENSE("GPL");
