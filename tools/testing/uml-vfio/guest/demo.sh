# SPDX-License-Identifier: GPL-2.0
# The demo inside UML: what the passed-through devices look like from here.

say() { printf '\n== %s\n' "$*"; }

say "UML $(uname -r): PCI devices passed through from L1 via VFIO"
for d in /sys/bus/pci/devices/*; do
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
	printf '  %s  %s:%s  class %s  driver %s\n' "$(basename "$d")" \
		"$(cut -c3- "$d/vendor")" "$(cut -c3- "$d/device")" \
		"$(cut -c3- "$d/class")" "${drv:-none}"
done

say "Where UML's PCI core placed the BARs: I/O ports, then memory (64-bit BARs above 4 GiB)"
sed 's/^/  /' /proc/ioports
sed 's/^/  /' /proc/iomem

say "Kernel log of the VFIO driver"
dmesg | grep 'vfio_uml' | sed 's/^/  /'

for c in /sys/class/nvme/nvme*; do
	[ -e "$c" ] || continue
	say "NVMe controller $(basename "$c") (identify data)"
	for f in model serial firmware_rev transport state; do
		printf '  %-13s %s\n' "$f" "$(cat "$c/$f")"
	done
done

say "Block devices"
for b in /sys/block/nvme* /sys/block/vd* /sys/block/sd*; do
	[ -e "$b" ] || continue
	printf '  /dev/%-9s %6d MiB\n' "$(basename "$b")" $(($(cat "$b/size") / 2048))
done

say "Short I/O check: 4 MiB written to and read back from each block device"
for b in /sys/block/nvme*n1 /sys/block/vd* /sys/block/sd*; do
	[ -e "$b" ] || continue
	dev=/dev/$(basename "$b")
	head -c 4194304 /dev/urandom > /tmp/demo.bin
	dd if=/tmp/demo.bin of="$dev" bs=1M oflag=direct 2>/dev/null
	dd if="$dev" of=/tmp/demo.out bs=1M count=4 iflag=direct 2>/dev/null
	if cmp -s /tmp/demo.bin /tmp/demo.out; then r=ok; else r=MISMATCH; fi
	printf '  %-14s %s (sha256 %s)\n' "$dev" "$r" "$(sha256sum < /tmp/demo.out | cut -c1-16)"
done

say "Device interrupts in UML (MSI-X, MSI and INTx)"
grep -E 'PCI-MSI|INTx|vfio' /proc/interrupts | sed 's/^/  /'

for n in /sys/class/net/*; do
	[ "$(basename "$(readlink "$n/device/driver" 2>/dev/null)" 2>/dev/null)" = virtio_net ] || continue
	i=$(basename "$n")
	say "Ping from UML over the passed-through virtio-net ($i) to L1"
	ip addr add 10.0.2.2/24 dev "$i" && ip link set "$i" up
	sleep 1
	ping -c 5 -A 10.0.2.1 | sed 's/^/  /'
	break
done
say "Done"
