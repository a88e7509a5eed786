// SPDX-License-Identifier: GPL-2.0
/*
 * Every kind of BAR, through the accessors a driver uses (the pci_peek
 * module, module/pci_peek.c): port I/O of each width on I/O BARs, against
 * known content and against the same registers read through a memory BAR;
 * 64-bit BARs of hundreds of MiB, placed above 4 GiB, one of them shared
 * memory where L1 wrote at both ends (rig/l1-init.sh); and expansion ROMs,
 * byte for byte what L1 read from its own sysfs rom files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include "common.h"
#include "kselftest_harness.h"
#include "module/pci_peek.h"

#define PEEK_MODULE	"/tests/pci_peek.ko"
#define L1_ROMS		"/l1-rom"

/* <linux/ioport.h> */
#define IORESOURCE_IO		0x00000100
#define IORESOURCE_MEM		0x00000200
#define IORESOURCE_MEM_64	0x00100000

/* pci-testdev (QEMU's hw/misc/pci-testdev.c): its tests' headers. */
#define TESTDEV_IO_BAR		1
#define TESTDEV_MEM_BAR		0
#define TESTDEV_HDR_LEN		48	/* header and name, zero-padded */
#define TESTDEV_IOSIZE		128	/* where port tests' offsets start */
#define TESTDEV_TESTS		3	/* tests per type, port tests are 3-5 */
#define TESTDEV_DATAMATCH	0xfa
#define TESTDEV_NOMATCH		0xce
#define TESTDEV_COUNT		12	/* offset of the write counter */
#define TESTDEV_NAME		16	/* offset of the test's name */

/* e1000e (QEMU's hw/net/e1000e.c): its I/O BAR reaches the registers. */
#define E1000E_IO_BAR		2
#define E1000E_MEM_BAR		0
#define E1000_IOADDR		0
#define E1000_IODATA		4
#define E1000_RAL0		0x5400
#define E1000_RAH0		0x5404
#define E1000_RAL1		0x5408	/* unused: RAH1's valid bit is clear */

static int peek_fd(void)
{
	int fd = open(PCI_PEEK_DEV, O_RDWR);

	if (fd >= 0)
		return fd;
	if (system("insmod " PEEK_MODULE))
		return -1;
	return open(PCI_PEEK_DEV, O_RDWR);
}

static void peek_init(struct pci_peek *p, const char *bdf, int bar, int how)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->bdf, sizeof(p->bdf), "%s", bdf);
	p->bar = bar;
	p->how = how;
}

/* The BAR's resource in UML: start, len, flags. Return: 0 or -errno. */
static int peek_info(int fd, const char *bdf, int bar, struct pci_peek *p)
{
	peek_init(p, bdf, bar, PCI_PEEK_INFO);
	return ioctl(fd, PCI_PEEK, p) ? -errno : 0;
}

/*
 * One read (*@val out) or write (*@val in) of @width bytes at @offset, with
 * inX()/outX() (PCI_PEEK_PORT) or ioreadX()/iowriteX() on a mapping of the
 * whole BAR (PCI_PEEK_IOMAP). Return: 0 or -errno.
 */
static int peek_rw(int fd, const char *bdf, int bar, int how, int width,
		   unsigned long long offset, int write, unsigned long long *val)
{
	struct pci_peek p;

	peek_init(&p, bdf, bar, how);
	p.width = width;
	p.write = write;
	p.offset = offset;
	p.value = *val;
	if (ioctl(fd, PCI_PEEK, &p))
		return -errno;
	*val = p.value;
	return 0;
}

static unsigned long long peek_read(int fd, const char *bdf, int bar, int how,
				    int width, unsigned long long offset)
{
	unsigned long long v = 0;

	if (peek_rw(fd, bdf, bar, how, width, offset, 0, &v))
		return ~0ULL;
	return v;
}

static int peek_write(int fd, const char *bdf, int bar, int how, int width,
		      unsigned long long offset, unsigned long long v)
{
	return peek_rw(fd, bdf, bar, how, width, offset, 1, &v);
}

/*
 * memcpy_fromio() or memcpy_toio() of @count bytes at @offset of a mapping
 * of [@map_offset, @map_offset + @map_len) of the BAR (0: to its end).
 */
static int peek_copy(int fd, const char *bdf, int bar,
		     unsigned long long map_offset, unsigned long long map_len,
		     unsigned long long offset, void *buf, int count, int write)
{
	struct pci_peek p;

	peek_init(&p, bdf, bar, PCI_PEEK_COPY);
	p.map_offset = map_offset;
	p.map_len = map_len;
	p.offset = offset;
	p.count = count;
	p.write = write;
	if (write)
		memcpy(p.buf, buf, count);
	if (ioctl(fd, PCI_PEEK, &p))
		return -errno;
	if (!write)
		memcpy(buf, p.buf, count);
	return 0;
}

/* insX() or outsX() of @count elements of @width at one port. */
static int peek_rep(int fd, const char *bdf, int bar, int width,
		    unsigned long long offset, void *buf, int count, int write)
{
	struct pci_peek p;

	peek_init(&p, bdf, bar, PCI_PEEK_PORT_REP);
	p.width = width;
	p.offset = offset;
	p.count = count;
	p.write = write;
	if (write)
		memcpy(p.buf, buf, count * width);
	if (ioctl(fd, PCI_PEEK, &p))
		return -errno;
	if (!write)
		memcpy(buf, p.buf, count * width);
	return 0;
}

static unsigned long long le(const unsigned char *p, int width)
{
	unsigned long long v = 0;

	while (width--)
		v = v << 8 | p[width];
	return v;
}

/* The first device of @kind in L1's list, and its address in UML. */
static int find_kind(struct l1_dev *l1, const char *kind, char *bdf,
		     size_t size)
{
	int i, n = l1_devices(l1, MAX_L1_DEVS);

	for (i = 0; i < n; i++) {
		if (!strcmp(l1[i].kind, kind))
			return uml_bdf_of(l1, i, bdf, size) ? -2 : i;
	}
	return -1;
}

/* What a port test of pci-testdev shows once started: header and name. */
static void testdev_header(unsigned char *hdr, int test, const char *name)
{
	int match = test % TESTDEV_TESTS != 1;	/* all but "wildcard" */
	unsigned int offset = TESTDEV_IOSIZE + test;

	memset(hdr, 0, TESTDEV_HDR_LEN);
	hdr[0] = test;
	hdr[1] = 1;				/* access width */
	memcpy(hdr + 4, &offset, 4);		/* UML hosts are little-endian */
	hdr[8] = match ? TESTDEV_DATAMATCH : TESTDEV_NOMATCH;
	snprintf((char *)hdr + TESTDEV_NAME, TESTDEV_HDR_LEN - TESTDEV_NAME, "%s", name);
}

/*
 * Each width of port read (inb/inw/inl, and ioread on the I/O BAR's
 * ioport_map() cookie) at each offset of the header gives what the device
 * holds, as does the same read through the memory BAR.
 */
static int testdev_check_reads(struct __test_metadata *_metadata, int fd,
			       const char *bdf, const unsigned char *hdr)
{
	static const int widths[] = { 1, 2, 4 };
	unsigned long long want, io, iomap, mem;
	int i, off, bad = 0;

	for (i = 0; i < 3; i++) {
		int w = widths[i];

		for (off = 0; off + w <= TESTDEV_HDR_LEN; off += w) {
			want = le(hdr + off, w);
			io = peek_read(fd, bdf, TESTDEV_IO_BAR, PCI_PEEK_PORT, w, off);
			iomap = peek_read(fd, bdf, TESTDEV_IO_BAR, PCI_PEEK_IOMAP, w, off);
			mem = peek_read(fd, bdf, TESTDEV_MEM_BAR, PCI_PEEK_IOMAP, w, off);
			if (io == want && iomap == want && mem == want)
				continue;
			TH_LOG("%d-byte read @%#x: want %#llx, port %#llx, ioread %#llx, mem %#llx",
			       w, off, want, io, iomap, mem);
			bad++;
		}
	}
	return bad;
}

TEST(pci_testdev_port_io_every_width)
{
	unsigned char hdr[TESTDEV_HDR_LEN], buf[16];
	struct l1_dev l1[MAX_L1_DEVS];
	struct pci_peek info;
	char bdf[32];
	int fd, i, idx;

	idx = find_kind(l1, "pci-testdev", bdf, sizeof(bdf));
	if (idx == -1)
		SKIP(return, "no pci-testdev passed through");
	ASSERT_LE(0, idx) TH_LOG("UML has no device for L1's pci-testdev");
	fd = peek_fd();
	ASSERT_LE(0, fd) TH_LOG("%s: %s", PCI_PEEK_DEV, strerror(errno));

	ASSERT_EQ(0, peek_info(fd, bdf, TESTDEV_IO_BAR, &info));
	ASSERT_TRUE(info.flags & IORESOURCE_IO)
		TH_LOG("BAR %d flags %#llx", TESTDEV_IO_BAR, info.flags);
	EXPECT_EQ(l1[idx].bar[TESTDEV_IO_BAR], info.len);
	EXPECT_LE(0x1000, info.start)
		TH_LOG("ports %#llx-%#llx", info.start, info.start + info.len - 1);
	TH_LOG("%s: I/O BAR %d at ports %#llx-%#llx", bdf, TESTDEV_IO_BAR,
	       info.start, info.start + info.len - 1);

	/* A byte 0 at offset 0 starts port test 3, "portio-no-eventfd". */
	ASSERT_EQ(0, peek_write(fd, bdf, TESTDEV_IO_BAR, PCI_PEEK_PORT, 1, 0, 0));
	testdev_header(hdr, 3, "portio-no-eventfd");
	EXPECT_EQ(0, testdev_check_reads(_metadata, fd, bdf, hdr));

	/* A word and a long write at offset 0 start tests 4 and 5. */
	ASSERT_EQ(0, peek_write(fd, bdf, TESTDEV_IO_BAR, PCI_PEEK_PORT, 2, 0, 0x0001));
	testdev_header(hdr, 4, "portio-wildcard-eventfd");
	EXPECT_EQ(0, testdev_check_reads(_metadata, fd, bdf, hdr));
	ASSERT_EQ(0, peek_write(fd, bdf, TESTDEV_IO_BAR, PCI_PEEK_IOMAP, 4, 0, 0x00000002));
	testdev_header(hdr, 5, "portio-datamatch-eventfd");
	EXPECT_EQ(0, testdev_check_reads(_metadata, fd, bdf, hdr));

	/*
	 * Test 3 counts byte writes of its data at its offset: three outb(),
	 * two through outsb(), none for other data.
	 */
	ASSERT_EQ(0, peek_write(fd, bdf, TESTDEV_IO_BAR, PCI_PEEK_PORT, 1, 0, 0));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, peek_write(fd, bdf, TESTDEV_IO_BAR, PCI_PEEK_PORT, 1,
					TESTDEV_IOSIZE + 3, TESTDEV_DATAMATCH));
	ASSERT_EQ(0, peek_write(fd, bdf, TESTDEV_IO_BAR, PCI_PEEK_PORT, 1,
				TESTDEV_IOSIZE + 3, 0x11));
	memset(buf, TESTDEV_DATAMATCH, 2);
	ASSERT_EQ(0, peek_rep(fd, bdf, TESTDEV_IO_BAR, 1, TESTDEV_IOSIZE + 3, buf, 2, 1));
	EXPECT_EQ(5, peek_read(fd, bdf, TESTDEV_IO_BAR, PCI_PEEK_PORT, 4, TESTDEV_COUNT));
	EXPECT_EQ(5, peek_read(fd, bdf, TESTDEV_MEM_BAR, PCI_PEEK_IOMAP, 4, TESTDEV_COUNT));

	/* insX() reads one port again and again. */
	ASSERT_EQ(0, peek_rep(fd, bdf, TESTDEV_IO_BAR, 1, TESTDEV_NAME, buf, 4, 0));
	EXPECT_EQ(0, memcmp(buf, "pppp", 4));
	ASSERT_EQ(0, peek_rep(fd, bdf, TESTDEV_IO_BAR, 2, TESTDEV_NAME, buf, 4, 0));
	EXPECT_EQ(0, memcmp(buf, "popopopo", 8));
	ASSERT_EQ(0, peek_rep(fd, bdf, TESTDEV_IO_BAR, 4, TESTDEV_NAME, buf, 4, 0));
	EXPECT_EQ(0, memcmp(buf, "portportportport", 16));

	/* memcpy_fromio() on the port cookie: the name, byte by byte. */
	ASSERT_EQ(0, peek_copy(fd, bdf, TESTDEV_IO_BAR, 0, 0, TESTDEV_NAME, buf, 16, 0));
	EXPECT_EQ(0, memcmp(buf, "portio-no-eventf", 16)) TH_LOG("\"%.16s\"", buf);
	close(fd);
}

/* e1000e's IOADDR/IODATA window against the same registers in BAR 0. */
TEST(e1000e_port_io_matches_memory_bar)
{
	static const unsigned int regs[] = { E1000_RAL0, E1000_RAH0 };
	unsigned long long mem, v;
	struct l1_dev l1[MAX_L1_DEVS];
	struct pci_peek info;
	char bdf[32];
	int fd, i, idx, w;

	idx = find_kind(l1, "e1000e", bdf, sizeof(bdf));
	if (idx == -1)
		SKIP(return, "no e1000e passed through");
	ASSERT_LE(0, idx) TH_LOG("UML has no device for L1's e1000e");
	fd = peek_fd();
	ASSERT_LE(0, fd) TH_LOG("%s: %s", PCI_PEEK_DEV, strerror(errno));
	ASSERT_EQ(0, peek_info(fd, bdf, E1000E_IO_BAR, &info));
	ASSERT_TRUE(info.flags & IORESOURCE_IO)
		TH_LOG("BAR %d flags %#llx", E1000E_IO_BAR, info.flags);
	EXPECT_EQ(l1[idx].bar[E1000E_IO_BAR], info.len);

	for (i = 0; i < 2; i++) {
		mem = peek_read(fd, bdf, E1000E_MEM_BAR, PCI_PEEK_IOMAP, 4, regs[i]);
		ASSERT_EQ(0, peek_write(fd, bdf, E1000E_IO_BAR, PCI_PEEK_PORT, 4,
					E1000_IOADDR, regs[i]));
		/*
		 * IOADDR holds the register's offset and IODATA is the
		 * register. Both are dwords (the 8254x manuals ask for dword
		 * accesses; QEMU answers narrower ones at their start only).
		 */
		for (w = 4; w; w /= 2) {
			unsigned long long mask = (1ULL << (8 * w)) - 1;

			v = peek_read(fd, bdf, E1000E_IO_BAR, PCI_PEEK_PORT, w, E1000_IOADDR);
			EXPECT_EQ(regs[i] & mask, v) TH_LOG("%d-byte port read of IOADDR", w);
			v = peek_read(fd, bdf, E1000E_IO_BAR, PCI_PEEK_PORT, w, E1000_IODATA);
			EXPECT_EQ(mem & mask, v)
				TH_LOG("register %#x: %d-byte port read of IODATA", regs[i], w);
			v = peek_read(fd, bdf, E1000E_IO_BAR, PCI_PEEK_IOMAP, w, E1000_IODATA);
			EXPECT_EQ(mem & mask, v)
				TH_LOG("register %#x: %d-byte ioread of IODATA", regs[i], w);
		}
		TH_LOG("%s: register %#x = %#llx in BAR 0", bdf, regs[i], mem);
	}

	/* Writes: through the port, seen in BAR 0, and the other way. */
	ASSERT_EQ(0, peek_write(fd, bdf, E1000E_IO_BAR, PCI_PEEK_PORT, 4,
				E1000_IOADDR, E1000_RAL1));
	ASSERT_EQ(0, peek_write(fd, bdf, E1000E_IO_BAR, PCI_PEEK_PORT, 4,
				E1000_IODATA, 0x12345678));
	EXPECT_EQ(0x12345678, peek_read(fd, bdf, E1000E_MEM_BAR, PCI_PEEK_IOMAP, 4, E1000_RAL1));
	ASSERT_EQ(0, peek_write(fd, bdf, E1000E_MEM_BAR, PCI_PEEK_IOMAP, 4,
				E1000_RAL1, 0x9abcdef0));
	EXPECT_EQ(0x9abcdef0, peek_read(fd, bdf, E1000E_IO_BAR, PCI_PEEK_PORT, 4, E1000_IODATA));
	ASSERT_EQ(0, peek_write(fd, bdf, E1000E_MEM_BAR, PCI_PEEK_IOMAP, 4, E1000_RAL1, 0));
	close(fd);
}

#define LARGE_BAR	(256ULL << 20)

/*
 * Every BAR of 256 MiB or more, of every device (the rig has a 512 MiB
 * one on the ivshmem and a 256 MiB one on the pci-testdev), is 64-bit and
 * placed above 4 GiB, all of them at once.
 */
TEST(large_bars_placed_above_4g)
{
	unsigned long long big = 0, start[16], end[16];
	struct l1_dev l1[MAX_L1_DEVS];
	struct pci_peek info;
	int fd = -1, i, j, k, n, bars = 0;
	char bdf[32];

	n = l1_devices(l1, MAX_L1_DEVS);
	for (i = 0; i < n; i++) {
		for (j = 0; j < 6; j++) {
			if (l1[i].bar_io[j] || l1[i].bar[j] < LARGE_BAR)
				continue;
			ASSERT_EQ(0, uml_bdf_of(l1, i, bdf, sizeof(bdf)))
				TH_LOG("UML has no device for L1's %s", l1[i].bdf);
			if (fd < 0)
				fd = peek_fd();
			ASSERT_LE(0, fd) TH_LOG("%s: %s", PCI_PEEK_DEV, strerror(errno));
			ASSERT_EQ(0, peek_info(fd, bdf, j, &info));
			EXPECT_EQ(l1[i].bar[j], info.len);
			EXPECT_TRUE(info.flags & IORESOURCE_MEM_64)
				TH_LOG("flags %#llx", info.flags);
			EXPECT_LE(1ULL << 32, info.start);
			TH_LOG("L1 %s = UML %s: BAR %d of %llu MiB at %#llx", l1[i].bdf, bdf,
			       j, info.len >> 20, info.start);
			/* No two overlap (each BAR in [start, end]). */
			for (k = 0; k < bars && k < 16; k++)
				EXPECT_TRUE(info.start > end[k] ||
					    info.start + info.len <= start[k]);
			if (bars < 16) {
				start[bars] = info.start;
				end[bars] = info.start + info.len - 1;
			}
			bars++;
			if (l1[i].bar[j] > big)
				big = l1[i].bar[j];
		}
	}
	if (fd >= 0)
		close(fd);
	if (!bars)
		SKIP(return, "no device with a BAR of 256 MiB or more passed through");
	EXPECT_LE(512ULL << 20, big) TH_LOG("the largest BAR has %llu MiB", big >> 20);
}

/* The text that rig/l1-init.sh's bar_text writes. */
static void bar_text(char *buf, size_t size, const char *where, int bar,
		     const char *bdf)
{
	snprintf(buf, size, "uml-vfio rig: %s of BAR %d of %s, written by L1",
		 where, bar, bdf);
}

/*
 * ivshmem's BAR 2 is shared memory: mapped whole, and in part far above
 * 16 MiB into it, it holds what L1 wrote at its start and 64 bytes before
 * its end, and what UML writes there reads back.
 */
TEST(large_bar_holds_what_l1_wrote)
{
	struct l1_dev l1[MAX_L1_DEVS];
	unsigned long long size, far, v;
	char bdf[32], want[128], got[128];
	int fd, i, j;

	i = find_kind(l1, "ivshmem", bdf, sizeof(bdf));
	if (i == -1)
		SKIP(return, "no ivshmem passed through");
	ASSERT_LE(0, i) TH_LOG("UML has no device for L1's ivshmem");
	fd = peek_fd();
	ASSERT_LE(0, fd) TH_LOG("%s: %s", PCI_PEEK_DEV, strerror(errno));
	size = l1[i].bar[2];
	ASSERT_LT(4096, size);
	far = size - 64;

	/* One mapping of the whole BAR: both ends, with ioread32(). */
	bar_text(want, sizeof(want), "start", 2, l1[i].bdf);
	for (j = 0; j < 64; j += 4) {
		v = peek_read(fd, bdf, 2, PCI_PEEK_IOMAP, 4, j);
		memcpy(got + j, &v, 4);
	}
	EXPECT_EQ(0, memcmp(want, got, strlen(want))) TH_LOG("start: \"%.64s\"", got);
	bar_text(want, sizeof(want), "end", 2, l1[i].bdf);
	for (j = 0; j < 64; j += 4) {
		v = peek_read(fd, bdf, 2, PCI_PEEK_IOMAP, 4, far + j);
		memcpy(got + j, &v, 4);
	}
	EXPECT_EQ(0, memcmp(want, got, strlen(want))) TH_LOG("far end: \"%.64s\"", got);

	/* A mapping of the last page only, with memcpy_fromio(). */
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, peek_copy(fd, bdf, 2, size - 4096, 4096, 4096 - 64, got, 64, 0));
	EXPECT_EQ(0, memcmp(want, got, strlen(want))) TH_LOG("far end, last page: \"%.64s\"", got);

	/* UML writes with iowrite64() and reads back through the other mapping. */
	ASSERT_EQ(0, peek_write(fd, bdf, 2, PCI_PEEK_IOMAP, 8, far - 64, 0x0123456789abcdefULL));
	ASSERT_EQ(0, peek_copy(fd, bdf, 2, size - 4096, 0, 4096 - 128, got, 8, 0));
	memcpy(&v, got, 8);
	EXPECT_EQ(0x0123456789abcdefULL, v);
	TH_LOG("L1 %s = UML %s: %llu MiB, both ends checked", l1[i].bdf, bdf, size >> 20);
	close(fd);
}

static long read_file(const char *path, unsigned char *buf, size_t size)
{
	long n = 0, r;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while (n < (long)size && (r = read(fd, buf + n, size - n)) > 0)
		n += r;
	close(fd);
	return n;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/* Each ROM reads through sysfs (pci_map_rom()) as L1 read its own. */
TEST(roms_match_l1)
{
	static unsigned char mine[1 << 20], l1rom[1 << 20];
	struct l1_dev l1[MAX_L1_DEVS];
	char bdf[32], path[300];
	int i, n, roms = 0;
	long a, b;

	n = l1_devices(l1, MAX_L1_DEVS);
	for (i = 0; i < n; i++) {
		if (!l1[i].rom)
			continue;
		roms++;
		snprintf(path, sizeof(path), "%s/%s", L1_ROMS, l1[i].bdf);
		b = read_file(path, l1rom, sizeof(l1rom));
		ASSERT_LT(0, b) TH_LOG("%s: L1 has a ROM but wrote no %s", l1[i].bdf, path);
		ASSERT_EQ(0, uml_bdf_of(l1, i, bdf, sizeof(bdf)))
			TH_LOG("UML has no device for L1's %s", l1[i].bdf);

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/rom", bdf);
		ASSERT_EQ(0, write_str(path, "1")) TH_LOG("%s: %s", path, strerror(errno));
		a = read_file(path, mine, sizeof(mine));
		write_str(path, "0");
		EXPECT_EQ(b, a) TH_LOG("%s: %ld bytes, L1 read %ld from %s", path, a, b, l1[i].bdf);
		EXPECT_EQ(0, a == b ? memcmp(mine, l1rom, a) : 0);
		EXPECT_EQ(0x55, mine[0]);
		EXPECT_EQ(0xaa, mine[1]);
		TH_LOG("L1 %s = UML %s: ROM of %ld bytes (BAR %#llx)",
		       l1[i].bdf, bdf, a, l1[i].rom);
	}
	if (!roms)
		SKIP(return, "no passed device has an expansion ROM");
}

TEST_HARNESS_MAIN
