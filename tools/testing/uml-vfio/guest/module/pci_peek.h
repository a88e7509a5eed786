/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pci_peek test module's interface, shared with the tests in UML: one
 * access to a BAR of a PCI device, made with the kernel's own accessors
 * (the inb() family on the BAR's ports, ioread*() or memcpy_*io() on a
 * pci_iomap_range() of it), so that a test sees what a driver would see.
 */
#ifndef PCI_PEEK_H
#define PCI_PEEK_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PCI_PEEK_DEV	"/dev/pci_peek"
#define PCI_PEEK_BUF	256

enum pci_peek_how {
	PCI_PEEK_INFO,		/* only the BAR's resource */
	PCI_PEEK_PORT,		/* inb/inw/inl or outb/outw/outl */
	PCI_PEEK_PORT_REP,	/* insb/insw/insl or outsb/outsw/outsl */
	PCI_PEEK_IOMAP,		/* ioread8/16/32/64 or iowrite8/16/32/64 */
	PCI_PEEK_COPY,		/* memcpy_fromio or memcpy_toio */
};

struct pci_peek {
	char bdf[16];		/* in: "DDDD:BB:SS.F" */
	__u32 bar;		/* in: 0-5 */
	__u32 how;		/* in: enum pci_peek_how */
	__u32 width;		/* in: 1, 2, 4 (or 8 for IOMAP) */
	__u32 write;		/* in: 0 reads, 1 writes */
	__u64 map_offset;	/* in: IOMAP, COPY: where the mapping starts */
	__u64 map_len;		/* in: IOMAP, COPY: its length (0: to the end) */
	__u64 offset;		/* in: in the mapping, or in the I/O BAR */
	__u64 value;		/* in (write) or out (read): PORT, IOMAP */
	__u32 count;		/* in: PORT_REP (elements), COPY (bytes) */
	__u32 pad;
	__u8 buf[PCI_PEEK_BUF];	/* in or out: PORT_REP, COPY */
	__u64 start;		/* out: the BAR's resource */
	__u64 len;
	__u64 flags;
};

#define PCI_PEEK	_IOWR('P', 0x70, struct pci_peek)

#endif /* PCI_PEEK_H */
