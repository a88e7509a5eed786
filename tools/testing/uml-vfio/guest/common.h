/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the tests that run inside UML: L1's view of the passed
 * devices and small file utilities.
 */
#ifndef UML_VFIO_GUEST_COMMON_H
#define UML_VFIO_GUEST_COMMON_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Written by L1 before UML starts; see rig/l1-init.sh. */
#define L1_VIEW "/l1-devices.txt"

#define MAX_L1_DEVS 32

struct l1_dev {
	char bdf[32];
	char kind[32];
	unsigned int vendor, device, class;
	unsigned long long bar[6];
	int bar_io[6];
	unsigned long long rom;		/* expansion ROM size, 0 if none */
	char irqs[32];		/* "msix,msi,intx", a subset, or "none" */
};

/*
 * One line per device, as rig/l1-init.sh writes it:
 * BDF kind=K vendor=0xV device=0xD class=0xC group=N irqs=KINDS
 * [barI=mem|io:0xSIZE]... [rom=0xSIZE]
 */
static inline int l1_parse(char *line, struct l1_dev *d)
{
	char *tok, *save;
	int fields = 0;

	memset(d, 0, sizeof(*d));
	for (tok = strtok_r(line, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		unsigned int i;
		char type[8];
		unsigned long long size;

		if (!fields++) {
			snprintf(d->bdf, sizeof(d->bdf), "%s", tok);
		} else if (!strncmp(tok, "kind=", 5)) {
			snprintf(d->kind, sizeof(d->kind), "%s", tok + 5);
		} else if (!strncmp(tok, "irqs=", 5)) {
			snprintf(d->irqs, sizeof(d->irqs), "%s", tok + 5);
		} else if (sscanf(tok, "vendor=%x", &d->vendor) == 1 ||
			   sscanf(tok, "device=%x", &d->device) == 1 ||
			   sscanf(tok, "class=%x", &d->class) == 1) {
			continue;
		} else if (sscanf(tok, "bar%u=%7[a-z]:%llx", &i, type, &size) == 3 && i < 6) {
			d->bar[i] = size;
			d->bar_io[i] = !strcmp(type, "io");
		} else if (sscanf(tok, "rom=%llx", &size) == 1) {
			d->rom = size;
		}
	}
	return d->kind[0] && d->vendor ? 0 : -1;
}

/* Return: number of devices read, or -1 if the file is missing. */
static inline int l1_devices(struct l1_dev *devs, int max)
{
	char line[512];
	FILE *f;
	int n = 0;

	f = fopen(L1_VIEW, "r");
	if (!f)
		return -1;

	while (n < max && fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!l1_parse(line, &devs[n]))
			n++;
	}
	fclose(f);
	return n;
}

static inline int l1_count_kind(const char *kind)
{
	struct l1_dev devs[MAX_L1_DEVS];
	int i, n, count = 0;

	n = l1_devices(devs, MAX_L1_DEVS);
	for (i = 0; i < n; i++)
		count += !strcmp(devs[i].kind, kind);
	return count;
}

static inline int bdf_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static inline unsigned int hex_attr(const char *bdf, const char *attr)
{
	char path[300], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtoul(buf, NULL, 16);
}

/*
 * UML's address of L1's device @idx of @devs: UML registers the devices in
 * L1's order, so the device with the same IDs and the same rank among the
 * devices that have them. Return: 0, or -1 if UML has no such device.
 */
static inline int uml_bdf_of(const struct l1_dev *devs, int idx, char *bdf,
			     size_t size)
{
	struct dirent **de;
	int i, n, rank = 0, ret = -1;

	for (i = 0; i < idx; i++)
		rank += devs[i].vendor == devs[idx].vendor &&
			devs[i].device == devs[idx].device;

	n = scandir("/sys/bus/pci/devices", &de, NULL, bdf_cmp);
	for (i = 0; i < n; i++) {
		const char *name = de[i]->d_name;

		if (ret && name[0] != '.' &&
		    hex_attr(name, "vendor") == devs[idx].vendor &&
		    hex_attr(name, "device") == devs[idx].device && !rank--) {
			snprintf(bdf, size, "%s", name);
			ret = 0;
		}
		free(de[i]);
	}
	if (n >= 0)
		free(de);
	return ret;
}

/* Reads a whole small file into @buf, without a trailing newline. */
static inline int read_str(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static inline unsigned long long read_ull(const char *path)
{
	char buf[64];

	if (read_str(path, buf, sizeof(buf)))
		return ~0ULL;
	return strtoull(buf, NULL, 0);
}

/* The driver bound to a sysfs device directory, or "" if none. */
static inline void driver_of(const char *devdir, char *buf, size_t size)
{
	char path[512], link[512];
	ssize_t n;
	char *slash;

	snprintf(path, sizeof(path), "%s/driver", devdir);
	n = readlink(path, link, sizeof(link) - 1);
	buf[0] = '\0';
	if (n <= 0)
		return;
	link[n] = '\0';
	slash = strrchr(link, '/');
	snprintf(buf, size, "%s", slash ? slash + 1 : link);
}

/* Is @word one of the comma-separated words of @list? */
static inline int in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)); p += n) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
	}
	return 0;
}

/*
 * The /proc/interrupts line of IRQ @irq (without the newline), and the
 * sum of its counts; -1 if there is none.
 */
static inline long long irq_line(int irq, char *buf, size_t size)
{
	char line[1024], want[16];
	long long sum = -1;
	FILE *f;

	snprintf(want, sizeof(want), "%d:", irq);
	f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		while (*p == ' ')
			p++;
		if (strncmp(p, want, strlen(want)))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, size, "%s", line);
		sum = 0;
		for (p += strlen(want);;) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		break;
	}
	fclose(f);
	return sum;
}

/* /proc/interrupts lines that mention @name and, if not NULL, @also. */
static inline int irq_lines(const char *name, const char *also)
{
	char line[1024];
	int n = 0;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, name) && (!also || strstr(line, also));
	fclose(f);
	return n;
}

/*
 * The interrupt kind a bound PCI device uses: "msix" or "msi" (what its
 * msi_irqs say), else "intx".
 */
static inline const char *pci_irq_kind(const char *bdf)
{
	static char kind[16];
	struct dirent *de;
	char path[300];
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs", bdf);
	d = opendir(path);
	snprintf(kind, sizeof(kind), "intx");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs/%s",
			 bdf, de->d_name);
		if (!read_str(path, kind, sizeof(kind)))
			break;
	}
	if (d)
		closedir(d);
	return kind;
}

/*
 * The PCI device (its "DDDD:BB:SS.F") that a sysfs path is below, the
 * nearest one; -1 if none.
 */
static inline int pci_dev_of(const char *sysfs_path, char *bdf, size_t size)
{
	char real[PATH_MAX], *tok, *save;
	unsigned int a, b, c, f;
	char tail;
	int found = -1;

	if (!realpath(sysfs_path, real))
		return -1;
	for (tok = strtok_r(real, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (strlen(tok) == 12 &&
		    sscanf(tok, "%4x:%2x:%2x.%1x%c", &a, &b, &c, &f, &tail) == 4) {
			snprintf(bdf, size, "%s", tok);
			found = 0;
		}
	}
	return found;
}

/* Sum of /proc/interrupts counts on lines that mention @name. */
static inline unsigned long long irq_count(const char *name)
{
	unsigned long long sum = 0;
	char line[1024];
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!p || !strstr(line, name))
			continue;
		for (p++;;) {
			char *end;
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
	}
	fclose(f);
	return sum;
}

/* xorshift64*: reproducible test data from a seed. */
static inline unsigned long long prng_next(unsigned long long *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static inline void prng_fill(unsigned long long *seed, void *buf, size_t len)
{
	unsigned long long *p = buf;
	size_t i;

	for (i = 0; i < len / sizeof(*p); i++)
		p[i] = prng_next(seed);
}

#endif
