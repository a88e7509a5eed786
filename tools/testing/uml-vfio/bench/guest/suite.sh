# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
# The measurements, the same in L1 (sourced by job.sh) and in UML (sourced
# by init.sh); busybox ash. Each writes its raw output into a directory;
# the host parses it (report.py). The caller defines:
#   BENCH_HOME   directory with fio.job, fio-sqpoll.job and bin/netbench
#   fio_cmd      a function running Debian's fio with its arguments
#   NET_PREFIX   command prefix for the network side ("" or nsenter ...)
#   BENCH_RUNTIME, BENCH_PINGS, BENCH_TCP_SECS

PEER_IP=10.0.2.1
SINK_PORT=5002

# suite_io DEV OUT: fio.json (qd1, qd32, 128k sequential), sqpoll.json
suite_io() {
	BENCH_DEV=$1
	export BENCH_DEV BENCH_RUNTIME
	fio_cmd --output-format=json \
		--output="$2/fio.json" "$BENCH_HOME/fio.job" > "$2/fio.err" 2>&1
	echo "exit=$?" >> "$2/fio.err"
	fio_cmd --output-format=json \
		--output="$2/sqpoll.json" "$BENCH_HOME/fio-sqpoll.job" > "$2/sqpoll.err" 2>&1
	echo "exit=$?" >> "$2/sqpoll.err"
}

# suite_net OUT: ping.txt (ICMP echo to the peer), tcp.txt (bulk TCP to it)
suite_net() {
	# shellcheck disable=SC2086 # NET_PREFIX is a command prefix
	$NET_PREFIX ping -c 3 -W 5 "$PEER_IP" > "$1/ping-warmup.txt" 2>&1
	# shellcheck disable=SC2086
	$NET_PREFIX ping -c "$BENCH_PINGS" -i 0.05 "$PEER_IP" > "$1/ping.txt" 2>&1
	# shellcheck disable=SC2086
	$NET_PREFIX timeout 60 "$BENCH_HOME/bin/netbench" send "$PEER_IP" "$SINK_PORT" \
		"$BENCH_TCP_SECS" > "$1/tcp.txt" 2>&1
}

# suite_mmio BDF MODULE OUT: unbind the nvme, then bench_nvme.ko on it (mod.txt)
suite_mmio() {
	local d=/sys/bus/pci/devices/$1

	[ -e "$d/driver" ] && echo "$1" > "$d/driver/unbind"
	insmod "$2" bdf="$1" > "$3/mod.err" 2>&1
	echo "exit=$?" >> "$3/mod.err"
	dmesg | grep 'bench_nvme: ' | tail -n 1 > "$3/mod.txt"
	rmmod bench_nvme 2>/dev/null
	return 0
}
