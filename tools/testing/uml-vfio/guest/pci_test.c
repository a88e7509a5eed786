// SPDX-License-Identifier: GPL-2.0
/*
 * The passed-through devices as UML's PCI core sees them: the same IDs,
 * BARs (memory and I/O) and ROM as L1 sees, and each bound to its
 * unmodified in-tree driver.
 */
#define _GNU_SOURCE
#include "common.h"
#include "kselftest_harness.h"

#define MAX_UML_DEVS 32
#define PCI_STATUS_OFF 0x06

static unsigned int hexfile(const char *dir, const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return read_ull(path);
}

/*
 * BAR and ROM sizes and kinds from a sysfs "resource" file: "start end
 * flags" per line, the six BARs, then the ROM. A BAR that the PCI core
 * could not place starts at 0 (nothing of UML's PCI is there: its memory
 * windows are at 0xf0000000 and 1 TiB, its ports from 0x1000): size 0.
 */
static void bar_sizes(const char *dir, struct l1_dev *d)
{
	unsigned long long start, end, flags, size;
	char path[512];
	FILE *f;
	int i;

	memset(d->bar, 0, sizeof(d->bar));
	memset(d->bar_io, 0, sizeof(d->bar_io));
	d->rom = 0;
	snprintf(path, sizeof(path), "%s/resource", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	for (i = 0; i < 7 && fscanf(f, "%llx %llx %llx", &start, &end, &flags) == 3; i++) {
		size = start ? end - start + 1 : 0;
		if (i == 6) {
			d->rom = size;
		} else {
			d->bar[i] = size;
			d->bar_io[i] = !!(flags & 0x100);	/* IORESOURCE_IO */
		}
	}
	fclose(f);
}

static int uml_devices(struct l1_dev *out, int max)
{
	struct dirent *de;
	char dir[300];
	DIR *d;
	int n = 0;

	d = opendir("/sys/bus/pci/devices");
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", de->d_name);
		snprintf(out[n].bdf, sizeof(out[n].bdf), "%s", de->d_name);
		out[n].vendor = hexfile(dir, "vendor");
		out[n].device = hexfile(dir, "device");
		out[n].class = hexfile(dir, "class");
		bar_sizes(dir, &out[n]);
		n++;
	}
	closedir(d);
	return n;
}

static int same_ids(const struct l1_dev *a, const struct l1_dev *b)
{
	return a->vendor == b->vendor && a->device == b->device &&
	       a->class == b->class;
}

/* Every BAR of the same kind and size, I/O BARs too, and the same ROM. */
static int same_bars(const struct l1_dev *l1, const struct l1_dev *uml)
{
	int i;

	for (i = 0; i < 6; i++) {
		if (l1->bar[i] != uml->bar[i] ||
		    (l1->bar[i] && l1->bar_io[i] != uml->bar_io[i]))
			return 0;
	}
	return l1->rom == uml->rom;
}

TEST(enumeration_matches_l1)
{
	struct l1_dev l1[MAX_L1_DEVS], uml[MAX_UML_DEVS];
	int used[MAX_UML_DEVS] = { 0 };
	int i, j, nl1, numl;

	nl1 = l1_devices(l1, MAX_L1_DEVS);
	ASSERT_LT(0, nl1) TH_LOG("no devices in %s", L1_VIEW);
	numl = uml_devices(uml, MAX_UML_DEVS);
	ASSERT_EQ(nl1, numl) TH_LOG("L1 passed %d devices, UML sees %d", nl1, numl);

	for (i = 0; i < nl1; i++) {
		for (j = 0; j < numl; j++) {
			if (!used[j] && same_ids(&l1[i], &uml[j]) &&
			    same_bars(&l1[i], &uml[j]))
				break;
		}
		EXPECT_LT(j, numl)
			TH_LOG("%s %s %04x:%04x class %06x bar0 %#llx rom %#llx: no match in UML",
			       l1[i].bdf, l1[i].kind, l1[i].vendor,
			       l1[i].device, l1[i].class, l1[i].bar[0],
			       l1[i].rom);
		if (j < numl) {
			used[j] = 1;
			TH_LOG("L1 %s (%s) = UML %s", l1[i].bdf, l1[i].kind, uml[j].bdf);
		}
	}
}

/*
 * The interrupt kinds a UML PCI device offers, from its config space as
 * UML shows it, in L1's notation: "msix,msi,intx", a subset, or "none".
 */
static void uml_irqs(const char *bdf, char *out, size_t size)
{
	unsigned char cfg[256];
	char path[300];
	int pos, ttl = 48;
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	f = fopen(path, "r");
	if (!f || fread(cfg, 1, sizeof(cfg), f) != sizeof(cfg)) {
		if (f)
			fclose(f);
		snprintf(out, size, "unreadable");
		return;
	}
	fclose(f);
	if (cfg[PCI_STATUS_OFF] & 0x10) {
		for (pos = cfg[0x34] & ~3; pos >= 0x40 && ttl--; pos = cfg[pos + 1] & ~3) {
			if (cfg[pos] == 0x05)
				snprintf(out + strlen(out), size - strlen(out), ",msi");
			else if (cfg[pos] == 0x11)
				snprintf(out + strlen(out), size - strlen(out), ",msix");
		}
	}
	if (cfg[0x3d])
		snprintf(out + strlen(out), size - strlen(out), ",intx");
	if (!out[0])
		snprintf(out, size, ",none");
	memmove(out, out + 1, strlen(out));
}

/* Are two comma-separated lists the same set? */
static int same_set(const char *a, const char *b)
{
	char copy[64], *tok, *save;
	int n = 0, m = 0;

	snprintf(copy, sizeof(copy), "%s", a);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++)
		if (!in_list(b, tok))
			return 0;
	snprintf(copy, sizeof(copy), "%s", b);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		m++;
	return n == m;
}

/*
 * UML shows each device the interrupts it has in L1: its MSI-X and MSI
 * capabilities (emulated by our driver) and its interrupt pin.
 */
TEST(interrupt_kinds_match_l1)
{
	struct l1_dev l1[MAX_L1_DEVS], uml[MAX_UML_DEVS];
	int used[MAX_UML_DEVS] = { 0 };
	char irqs[64];
	int i, j, nl1, numl;

	nl1 = l1_devices(l1, MAX_L1_DEVS);
	ASSERT_LT(0, nl1) TH_LOG("no devices in %s", L1_VIEW);
	numl = uml_devices(uml, MAX_UML_DEVS);
	for (i = 0; i < nl1; i++) {
		if (!l1[i].irqs[0])
			SKIP(return, "%s has no irqs= field", L1_VIEW);
		for (j = 0; j < numl; j++) {
			if (used[j] || !same_ids(&l1[i], &uml[j]))
				continue;
			uml_irqs(uml[j].bdf, irqs, sizeof(irqs));
			if (same_set(l1[i].irqs, irqs))
				break;
		}
		EXPECT_LT(j, numl) TH_LOG("%s %s (%s): no UML device with these interrupts",
					  l1[i].bdf, l1[i].kind, l1[i].irqs);
		if (j < numl) {
			used[j] = 1;
			TH_LOG("L1 %s (%s) = UML %s: %s", l1[i].bdf, l1[i].kind,
			       uml[j].bdf, l1[i].irqs);
		}
	}
}

static int count_dir(const char *path, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

/* Interfaces whose device is bound to @driver. */
static int netdevs_of(const char *driver, char names[][32], int max)
{
	struct dirent *de;
	char dir[300], drv[64];
	DIR *d;
	int n = 0;

	d = opendir("/sys/class/net");
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "/sys/class/net/%s/device", de->d_name);
		driver_of(dir, drv, sizeof(drv));
		if (!strcmp(drv, driver))
			snprintf(names[n++], 32, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

TEST(nvme_binds)
{
	int want = l1_count_kind("nvme");

	if (!want)
		SKIP(return, "no nvme passed through");
	EXPECT_EQ(want, count_dir("/sys/class/nvme", "nvme"));
	EXPECT_EQ(want, count_dir("/sys/bus/pci/drivers/nvme", "0000:"));
}

TEST(virtio_blk_binds)
{
	int want = l1_count_kind("virtio-blk");

	if (!want)
		SKIP(return, "no virtio-blk passed through");
	EXPECT_EQ(want, count_dir("/sys/block", "vd"));
}

TEST(virtio_net_binds)
{
	char names[8][32];
	int want = l1_count_kind("virtio-net");

	if (!want)
		SKIP(return, "no virtio-net passed through");
	EXPECT_EQ(want, netdevs_of("virtio_net", names, 8));
}

TEST(e1000e_binds_with_link)
{
	char names[8][32], path[128], cmd[128];
	int want = l1_count_kind("e1000e");
	int i, n, t;

	if (!want)
		SKIP(return, "no e1000e passed through");
	n = netdevs_of("e1000e", names, 8);
	ASSERT_EQ(want, n);
	for (i = 0; i < n; i++) {
		snprintf(cmd, sizeof(cmd), "ip link set %s up", names[i]);
		ASSERT_EQ(0, system(cmd));
		snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", names[i]);
		for (t = 0; t < 100 && read_ull(path) != 1; t++)
			usleep(100000);
		EXPECT_EQ(1, read_ull(path)) TH_LOG("%s: no link after 10 s", names[i]);
	}
}

TEST_HARNESS_MAIN
