// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO-based virtual PCI driver: passes host PCI devices, bound to vfio-pci,
 * through to UML on top of the um_pci_ops layer (virt-pci). This file holds
 * the device lifecycle: parameters, mconsole commands, IOMMU groups, set-up
 * and release (see vfio_kern.h for the other files and the locking rules).
 *
 * Based on the design of the RFC "um: Add VFIO-based virtual PCI driver" by
 * Tiwei Bie.
 */
#define pr_fmt(fmt) "vfio_uml: " fmt

#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/hex.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <asm/setup.h>
#include <init.h>
#include <os.h>

#include "mconsole_kern.h"

#include "vfio_kern.h"

static LIST_HEAD(uml_vfio_groups);
static LIST_HEAD(uml_vfio_devices);
/* Set-up and release, the lists above and the container (vfio_kern.h). */
DEFINE_MUTEX(uml_vfio_mtx);

/*
 * vfio_uml.device= values, NUL-separated. Parameters are parsed before the
 * slab allocator is up, so they are only recorded here and parsed by the
 * initcall. Every value comes from the command line, so this cannot fill up.
 */
static char uml_vfio_args[COMMAND_LINE_SIZE] __initdata;
static size_t uml_vfio_args_len __initdata;
static bool uml_vfio_args_truncated __initdata;

/*
 * While a device is added or removed over mconsole (uml_vfio_mtx held),
 * the first error line logged is also kept here, for the reply.
 */
static char *uml_vfio_msg;
static size_t uml_vfio_msg_size;

/**
 * uml_vfio_err() - log an error line of a set-up or release step
 * @fmt: printf format, ending in a newline
 *
 * Called with uml_vfio_mtx held when an mconsole command may be waiting
 * for the line.
 */
void uml_vfio_err(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;
	size_t len;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("%pV", &vaf);
	va_end(args);

	if (!uml_vfio_msg || uml_vfio_msg[0])
		return;
	va_start(args, fmt);
	len = vscnprintf(uml_vfio_msg, uml_vfio_msg_size, fmt, args);
	va_end(args);
	if (len && uml_vfio_msg[len - 1] == '\n')
		uml_vfio_msg[len - 1] = '\0';
}

/* Reports a failed step in one line: device, step, error and a hint. */
void uml_vfio_fail(const char *dev, const char *step, int err,
		   const char *hint)
{
	uml_vfio_err("%s: %s: %s%s%s%s\n", dev, step,
		     uml_vfio_user_strerror(err), hint ? " (" : "", hint ?: "",
		     hint ? ")" : "");
}

static void uml_vfio_no_group_hint(const char *dev, char *hint, size_t len)
{
	char driver[64];

	uml_vfio_user_get_driver(dev, driver, sizeof(driver));
	if (!driver[0])
		snprintf(hint, len, "not bound to any host driver: bind it to vfio-pci");
	else if (!strstr(driver, "vfio"))
		snprintf(hint, len, "bound to host driver %s, not vfio-pci", driver);
	else
		hint[0] = '\0';
}

/**
 * uml_vfio_get_group() - find or open the device's IOMMU group
 * @dev: device name
 *
 * Devices of one group share its fd.
 *
 * Return: the group or an ERR_PTR, already reported.
 */
static struct uml_vfio_group *uml_vfio_get_group(const char *dev)
{
	struct uml_vfio_group *group;
	char step[40], hint[96];
	int id, fd, err;

	lockdep_assert_held(&uml_vfio_mtx);

	id = uml_vfio_user_get_group_id(dev);
	if (id < 0) {
		uml_vfio_fail(dev, "reading its IOMMU group", id,
			      id == -ENOENT ? "no IOMMU group: is the host IOMMU on?" : NULL);
		return ERR_PTR(id);
	}

	list_for_each_entry(group, &uml_vfio_groups, list) {
		if (group->id == id) {
			group->users++;
			return group;
		}
	}

	err = uml_vfio_container_get(dev);
	if (err)
		return ERR_PTR(err);

	snprintf(step, sizeof(step), "opening /dev/vfio/%d", id);
	fd = uml_vfio_user_open_group(id);
	if (fd < 0) {
		err = fd;
		if (err == -ENOENT)
			uml_vfio_no_group_hint(dev, hint, sizeof(hint));
		else if (err == -EACCES)
			snprintf(hint, sizeof(hint),
				 "no access: check owner and mode of /dev/vfio/%d", id);
		else if (err == -EBUSY)
			snprintf(hint, sizeof(hint), "group in use by another process");
		else
			hint[0] = '\0';
		uml_vfio_fail(dev, step, err, hint[0] ? hint : NULL);
		goto put_container;
	}

	err = uml_vfio_user_group_viable(fd);
	if (err <= 0) {
		if (!err) {
			uml_vfio_err("%s: IOMMU group %d is not viable (bind every device of /sys/kernel/iommu_groups/%d/devices to vfio-pci)\n",
				     dev, id, id);
			err = -EINVAL;
		} else {
			uml_vfio_fail(dev, "reading group status", err, NULL);
		}
		goto close_group;
	}

	err = uml_vfio_container_attach(dev, fd);
	if (err)
		goto close_group;

	group = kzalloc_obj(*group);
	if (!group) {
		err = -ENOMEM;
		uml_vfio_fail(dev, "allocating group", err, NULL);
		goto detach_group;
	}
	group->id = id;
	group->fd = fd;
	group->users = 1;
	list_add_tail(&group->list, &uml_vfio_groups);
	return group;

detach_group:
	uml_vfio_container_detach(fd);
close_group:
	os_close_file(fd);
put_container:
	uml_vfio_container_put();
	return ERR_PTR(err);
}

static void uml_vfio_put_group(struct uml_vfio_group *group)
{
	lockdep_assert_held(&uml_vfio_mtx);

	if (--group->users)
		return;

	list_del(&group->list);
	uml_vfio_container_detach(group->fd);
	os_close_file(group->fd);
	kfree(group);
	uml_vfio_container_put();
}

/*
 * The host asks for the device back (interrupt context), repeatedly until
 * it has it. A registered device is released by its release_work; one
 * being set up once it is registered (uml_vfio_open_device()), not before,
 * so that set-up owns it until then and may still fail and free it; one
 * being released already needs nothing more.
 */
static void uml_vfio_request(struct uml_vfio_device *dev)
{
	unsigned long flags;
	bool claim;

	raw_spin_lock_irqsave(&dev->lock, flags);
	dev->host_request = true;
	claim = dev->state == UML_VFIO_ACTIVE;
	if (claim)
		dev->state = UML_VFIO_RELEASING;
	raw_spin_unlock_irqrestore(&dev->lock, flags);

	if (claim)
		schedule_work(&dev->release_work);
}

/**
 * uml_vfio_host_event() - the host signalled one of the device's events
 * @dev: device
 * @event: UML_VFIO_REQUEST or UML_VFIO_ERROR
 *
 * Called from the device's interrupt handler.
 */
void uml_vfio_host_event(struct uml_vfio_device *dev, int event)
{
	if (event == UML_VFIO_ERROR)
		pr_err_ratelimited("%s: the host reports an uncorrectable error on the device (AER)\n",
				   dev->name);
	else
		uml_vfio_request(dev);
}

/*
 * Fault injection for tests, in kernels built with CONFIG_FAULT_INJECTION
 * (also writable in /sys/module/vfio_uml/parameters/fault):
 *   vfio_uml.fault=request_setup  each set-up has the host ask for the
 *       device back just before it is registered, then fails
 *   vfio_uml.fault=slow_release   each release waits 5 s before it removes
 *       the guest driver, so that a test can try to remove it meanwhile
 *   vfio_uml.fault=device_fd      the early open of each device given at
 *       boot asks the host for a device its group does not have
 */
static char uml_vfio_fault[16];
#ifdef CONFIG_FAULT_INJECTION
module_param_string(fault, uml_vfio_fault, sizeof(uml_vfio_fault), 0644);
MODULE_PARM_DESC(fault, "Inject a fault: request_setup, slow_release or device_fd");
#endif

static bool uml_vfio_fault_on(const char *what)
{
	return IS_ENABLED(CONFIG_FAULT_INJECTION) &&
	       sysfs_streq(uml_vfio_fault, what);
}

/*
 * vfio_uml.fault=request_setup: a host request (through the request
 * eventfd, as VFIO signals it) reaches the interrupt handler, then set-up
 * fails. Return: the injected error.
 */
static int uml_vfio_fault_request(struct uml_vfio_device *dev)
{
	int i, err;

	err = uml_vfio_user_kick_request(&dev->udev);
	for (i = 0; !err && i < 250 && !READ_ONCE(dev->host_request); i++)
		msleep(20);
	uml_vfio_err("%s: registering with virt-pci: injected failure (vfio_uml.fault=request_setup) %s\n",
		     dev->name, READ_ONCE(dev->host_request) ?
		     "after a host request" : "but no host request arrived");
	return -EIO;
}

/* Devices registered with virt-pci, to explain its limit when hit. */
static int uml_vfio_registered;

/**
 * uml_vfio_open_begin() - find a device's group and attach it
 * @dev: device, with its name set
 * @early: also start opening the device in a host thread (at boot)
 *
 * The first step of a set-up, which uml_vfio_open_device() completes.
 * Called with uml_vfio_mtx held; failures are reported as in
 * uml_vfio_open_device(), and leave nothing to undo.
 *
 * Return: 0 or a negative errno.
 */
static int uml_vfio_open_begin(struct uml_vfio_device *dev, bool early)
{
	int err;

	lockdep_assert_held(&uml_vfio_mtx);

	err = uml_vfio_user_device_exists(dev->name);
	if (err) {
		uml_vfio_err("%s: no such PCI device on the host\n", dev->name);
		return err;
	}

	dev->group = uml_vfio_get_group(dev->name);
	if (IS_ERR(dev->group))
		return PTR_ERR(dev->group);

	/* Without the thread, set-up opens the device itself. */
	if (early)
		uml_vfio_user_open_early(&dev->udev, dev->group->fd,
					 uml_vfio_fault_on("device_fd") ?
					 "injected" : dev->name);
	return 0;
}

/**
 * uml_vfio_open_device() - set a device up and register it with virt-pci
 * @dev: device, after uml_vfio_open_begin()
 *
 * Called with uml_vfio_mtx held. Every failure is reported in one line that
 * names the device and the failing step, and undoes uml_vfio_open_begin()
 * too.
 *
 * Return: 0 or a negative errno.
 */
static int uml_vfio_open_device(struct uml_vfio_device *dev)
{
	unsigned long flags;
	const char *step;
	bool asked;
	int err;

	lockdep_assert_held(&uml_vfio_mtx);

	err = uml_vfio_user_setup_device(&dev->udev, dev->group->fd, dev->name,
					 &step);
	if (err) {
		uml_vfio_fail(dev->name, step, err,
			      uml_vfio_fault_on("device_fd") ?
			      "injected: vfio_uml.fault=device_fd" : NULL);
		goto put_group;
	}

	/*
	 * vfio-pci has just reset the device as it opened it, wherever it
	 * can, and says so with VFIO_DEVICE_FLAGS_RESET: the guest driver
	 * starts afresh. Another reset here would only cost boot time (a
	 * function-level reset alone waits 100 ms).
	 */
	if (!dev->udev.can_reset)
		pr_info("%s: the host cannot reset it: the guest driver gets it as its last user left it\n",
			dev->name);

	err = uml_vfio_intr_init(dev);
	if (err)
		goto teardown_udev;

	err = uml_vfio_dma_map_memory(dev->name);
	if (err)
		goto free_intr;

	if (uml_vfio_mmap) {
		err = uml_vfio_user_map_bars(&dev->udev);
		if (err)
			pr_warn("%s: mapping BARs: %s (unmapped parts use pread/pwrite)\n",
				dev->name, uml_vfio_user_strerror(err));
	}

	err = uml_vfio_intr_start(dev);
	if (err)
		goto free_intr;

	dev->pdev.ops = &uml_vfio_um_pci_ops;
	dev->pdev.dma_ops = &uml_vfio_dma_ops;
	if (uml_vfio_mmap)
		dev->pdev.bar_ops = &uml_vfio_bar_ops;
	if (uml_vfio_fault_on("request_setup")) {
		err = uml_vfio_fault_request(dev);
		goto stop_intr;
	}

	err = um_pci_device_register(&dev->pdev);
	if (err) {
		if (err == -ENOSPC)
			uml_vfio_err("%s: registering with virt-pci: no free slot (virt-pci holds no more than the %d devices already registered)\n",
				     dev->name, uml_vfio_registered);
		else
			uml_vfio_fail(dev->name, "registering with virt-pci",
				      err, NULL);
		goto stop_intr;
	}

	uml_vfio_registered++;

	raw_spin_lock_irqsave(&dev->lock, flags);
	asked = dev->host_request;
	dev->state = asked ? UML_VFIO_RELEASING : UML_VFIO_ACTIVE;
	raw_spin_unlock_irqrestore(&dev->lock, flags);
	if (asked)
		schedule_work(&dev->release_work);
	return 0;

stop_intr:
	uml_vfio_intr_stop(dev);
free_intr:
	uml_vfio_intr_free(dev);
teardown_udev:
	uml_vfio_user_teardown_device(&dev->udev);
put_group:
	uml_vfio_put_group(dev->group);
	return err;
}

/*
 * Undoes uml_vfio_open_device() on the host side once virt-pci has let go
 * of the device: its interrupts, then a reset for the next user (@reset),
 * its BARs and fds, then its group and the container as their last users
 * go. @keep_maps: guest accesses may still use direct windows into the
 * BARs, whose addresses must stay mapped.
 */
static void uml_vfio_close_device(struct uml_vfio_device *dev, bool reset,
				  bool keep_maps)
{
	int err;

	lockdep_assert_held(&uml_vfio_mtx);

	uml_vfio_intr_stop(dev);
	uml_vfio_intr_free(dev);
	if (reset) {
		err = uml_vfio_user_reset_device(&dev->udev);
		if (err && err != -ENOTTY)
			uml_vfio_fail(dev->name, "resetting it for the next user",
				      err, NULL);
	}
	if (keep_maps)
		uml_vfio_user_abandon_bars(&dev->udev);
	uml_vfio_user_teardown_device(&dev->udev);
	uml_vfio_put_group(dev->group);
}

/* Set by uml_vfio_exit(): the host side is gone. */
bool uml_vfio_exiting;

/**
 * uml_vfio_release() - give a device back to the host
 * @dev: device, claimed for release (UML_VFIO_RELEASING) by the caller
 * @why: what asked for it, for the log
 *
 * The one way a device goes while UML runs, as a PCI hot-unplug: the
 * guest driver is removed first, with the device still working, then the
 * device is closed on the host (which lets a host unbind complete) and
 * freed. UML keeps running without it.
 */
static void uml_vfio_release(struct uml_vfio_device *dev, const char *why)
{
	int kept;

	pr_info("%s: %s: releasing it\n", dev->name, why);
	if (uml_vfio_fault_on("slow_release"))
		msleep(5000);
	if (READ_ONCE(uml_vfio_exiting))
		return;

	/* Cuts off BAR mappings that a guest driver kept (a driver bug). */
	kept = um_pci_device_unregister(&dev->pdev);
	if (kept)
		pr_warn("%s: a guest driver kept %d BAR mapping(s) of it, which read all-ones from now on\n",
			dev->name, kept);

	guard(mutex)(&uml_vfio_mtx);
	if (uml_vfio_exiting)
		return;
	uml_vfio_registered--;
	/*
	 * No reset when the host asked for the device: its unbind holds the
	 * device lock while it waits for us, so VFIO's reset could only fail
	 * with -EAGAIN. The host has the device next, and vfio-pci tries a
	 * reset of its own as the device is closed.
	 */
	uml_vfio_close_device(dev, !READ_ONCE(dev->host_request), kept > 0);
	list_del(&dev->list);
	kfree(dev);
}

/*
 * VFIO asks through the request eventfd, e.g. when the host unbinds the
 * device from vfio-pci, and repeats until the device is closed.
 */
static void uml_vfio_release_work(struct work_struct *work)
{
	uml_vfio_release(container_of(work, struct uml_vfio_device,
				      release_work),
			 "the host asks for the device back");
}

/**
 * uml_vfio_parse_addr() - validate and normalise a PCI address
 * @s: "DDDD:BB:SS.F" or "BB:SS.F" (domain 0000), hexadecimal
 * @name: the address as sysfs spells it, on success
 *
 * Return: NULL on success, else why @s was rejected.
 */
static const char *uml_vfio_parse_addr(const char *s, char *name)
{
	unsigned int field[4] = { 0 }, max[4] = { 0xffffffff, 0xff, 0x1f, 0x7 };
	static const char * const what[4] = { "domain", "bus", "slot", "function" };
	static const char sep[4] = { ':', ':', '.', '\0' };
	int colons = 0, i, first, digits;
	const char *p;

	for (p = s; *p; p++)
		colons += *p == ':';
	if (colons < 1 || colons > 2)
		return "expected DDDD:BB:SS.F";

	first = colons == 2 ? 0 : 1;
	for (p = s, i = first; i < 4; i++) {
		u64 v = 0;

		for (digits = 0; isxdigit(*p); p++, digits++) {
			v = v * 16 + hex_to_bin(*p);
			if (v > 0xffffffffULL)
				break;
		}
		if (!digits || *p != sep[i])
			return "expected DDDD:BB:SS.F (hexadecimal)";
		if (v > max[i]) {
			uml_vfio_err("%s: %s %#llx out of range (0-%#x)\n", s,
				     what[i], v, max[i]);
			return "";
		}
		field[i] = v;
		if (*p)
			p++;
	}

	snprintf(name, UML_VFIO_NAME_LEN, "%04x:%02x:%02x.%x", field[0],
		 field[1], field[2], field[3]);
	return NULL;
}

/* Return: 0 with @arg normalised into @name, or -EINVAL after saying why not. */
static int uml_vfio_check_addr(const char *arg, char *name)
{
	const char *why;

	if (!*arg) {
		uml_vfio_err("vfio_uml.device= given without an address; expected DDDD:BB:SS.F\n");
		return -EINVAL;
	}

	why = uml_vfio_parse_addr(arg, name);
	if (why) {
		if (*why)
			uml_vfio_err("%s: invalid device address: %s\n", arg,
				     why);
		return -EINVAL;
	}
	return 0;
}

static struct uml_vfio_device *uml_vfio_find(const char *name)
{
	struct uml_vfio_device *dev;

	lockdep_assert_held(&uml_vfio_mtx);

	list_for_each_entry(dev, &uml_vfio_devices, list) {
		if (!strcmp(dev->name, name))
			return dev;
	}
	return NULL;
}

/* Return: a new device named @name, or NULL after saying so. */
static struct uml_vfio_device *uml_vfio_alloc(const char *name)
{
	struct uml_vfio_device *dev;

	dev = kzalloc_obj(*dev);
	if (!dev) {
		uml_vfio_fail(name, "allocating device", -ENOMEM, NULL);
		return NULL;
	}
	strscpy(dev->name, name);
	raw_spin_lock_init(&dev->lock);
	INIT_WORK(&dev->release_work, uml_vfio_release_work);
	return dev;
}

/*
 * Only called while the boot command line is parsed (the parameter is not
 * writable at run time), hence __ref for the __initdata it fills.
 */
static int __ref uml_vfio_cmdline_set(const char *val,
				      const struct kernel_param *kp)
{
	size_t len = val ? strlen(val) + 1 : 1;

	if (uml_vfio_args_len + len > sizeof(uml_vfio_args)) {
		uml_vfio_args_truncated = true;
		return 0;
	}
	if (val)
		memcpy(uml_vfio_args + uml_vfio_args_len, val, len);
	else
		uml_vfio_args[uml_vfio_args_len] = '\0';
	uml_vfio_args_len += len;
	return 0;
}

/* Lists the devices that were set up. */
static int uml_vfio_cmdline_get(char *buffer, const struct kernel_param *kp)
{
	struct uml_vfio_device *dev;
	int n = 0;

	guard(mutex)(&uml_vfio_mtx);
	list_for_each_entry(dev, &uml_vfio_devices, list)
		n += sysfs_emit_at(buffer, n, "%s%s", n ? "," : "", dev->name);
	n += sysfs_emit_at(buffer, n, "\n");
	return n;
}

static const struct kernel_param_ops uml_vfio_cmdline_param_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = uml_vfio_cmdline_set,
	.get = uml_vfio_cmdline_get,
};

/* Not device_param_cb(): uml_vfio_init_early() needs the values. */
module_param_cb(device, &uml_vfio_cmdline_param_ops, NULL, 0400);
__uml_help(uml_vfio_cmdline_param_ops,
	   "vfio_uml.device=<domain:bus:slot.function>\n"
	   "    Pass a host PCI device, bound to vfio-pci, through to UML via VFIO.\n"
	   "    The domain may be left out (bus:slot.function means domain 0000).\n"
	   "    Repeat the parameter to pass more devices; while UML runs,\n"
	   "    \"uml_mconsole UMID config vfio_uml.device=<address>\" adds one,\n"
	   "    \"... remove vfio_uml.device=<address>\" removes one and\n"
	   "    \"... config vfio_uml.device\" lists them. Their drivers may use\n"
	   "    MSI-X, MSI or INTx.\n"
	   "    vfio_uml.mmap=0 turns off mapping BARs into UML: every BAR\n"
	   "    access is then a pread/pwrite on the device.\n"
	   "    vfio_uml.direct=0 keeps the mappings but makes every readl()/\n"
	   "    writel() call the driver instead of accessing them inline.\n"
	   "    vfio_uml.dma=ondemand|eager|strict: how UML memory is mapped for\n"
	   "    device DMA: on demand as devices use it (the default), all of it\n"
	   "    at boot, or each buffer on its own and unmapped with it (catches\n"
	   "    a device's DMA after unmap).\n\n");

static int uml_vfio_mapped_areas(struct uml_vfio_device *dev)
{
	int i, n = 0;

	for (i = 0; i < UML_VFIO_NUM_BARS; i++)
		n += dev->udev.region[i].nr_maps;
	return n;
}

/* Logs that @dev is the guest's now, and puts the same into @msg. */
static void uml_vfio_passed(struct uml_vfio_device *dev, char *msg,
			    size_t size)
{
	snprintf(msg, size,
		 "%s: passed through (IOMMU group %d, %d MSI-X vectors, %d MSI, %s, %d BAR areas mapped)",
		 dev->name, dev->group->id, dev->msix.vectors,
		 dev->msi.vectors,
		 dev->udev.irq_count[UML_VFIO_INTX] ? "INTx" : "no INTx",
		 uml_vfio_mapped_areas(dev));
	pr_info("%s\n", msg);
}

/* The next error line logged also goes to @msg (uml_vfio_mtx held). */
static void uml_vfio_msg_start(char *msg, size_t size)
{
	lockdep_assert_held(&uml_vfio_mtx);
	msg[0] = '\0';
	uml_vfio_msg = msg;
	uml_vfio_msg_size = size;
}

/* Ends uml_vfio_msg_start(); says at least that @err happened. */
static int uml_vfio_msg_end(const char *arg, int err)
{
	char *msg = uml_vfio_msg;

	uml_vfio_msg = NULL;
	if (err && !msg[0])
		snprintf(msg, uml_vfio_msg_size, "%s: %s", arg,
			 uml_vfio_user_strerror(err));
	return err;
}

/**
 * uml_vfio_add() - pass a device through while UML runs
 * @arg: its address, as vfio_uml.device= takes it
 * @msg: the line that says how it went, for mconsole's reply
 * @size: size of @msg
 *
 * The same checks, and the same messages, as for a device given at boot.
 *
 * Return: 0 or a negative errno.
 */
static int uml_vfio_add(const char *arg, char *msg, size_t size)
{
	struct uml_vfio_device *dev;
	char name[UML_VFIO_NAME_LEN];
	int err;

	guard(mutex)(&uml_vfio_mtx);
	uml_vfio_msg_start(msg, size);
	if (uml_vfio_exiting)
		return uml_vfio_msg_end(arg, -ESHUTDOWN);

	err = uml_vfio_check_addr(arg, name);
	if (err)
		return uml_vfio_msg_end(arg, err);

	dev = uml_vfio_find(name);
	if (dev) {
		uml_vfio_err("%s: already passed through%s\n", name,
			     READ_ONCE(dev->state) == UML_VFIO_RELEASING ?
			     " and being released: add it again once it is gone" : "");
		return uml_vfio_msg_end(arg, -EEXIST);
	}

	dev = uml_vfio_alloc(name);
	if (!dev)
		return uml_vfio_msg_end(arg, -ENOMEM);

	list_add_tail(&dev->list, &uml_vfio_devices);
	err = uml_vfio_open_begin(dev, false);
	if (!err)
		err = uml_vfio_open_device(dev);
	if (err) {
		list_del(&dev->list);
		kfree(dev);
		return uml_vfio_msg_end(arg, err);
	}
	uml_vfio_msg_end(arg, 0);
	uml_vfio_passed(dev, msg, size);
	return 0;
}

/* Finds the device at @arg and claims it for release, or says why not. */
static struct uml_vfio_device *uml_vfio_claim(const char *arg)
{
	struct uml_vfio_device *dev;
	char name[UML_VFIO_NAME_LEN];
	unsigned long flags;
	bool busy;
	int err;

	lockdep_assert_held(&uml_vfio_mtx);

	err = uml_vfio_check_addr(arg, name);
	if (err)
		return ERR_PTR(err);

	dev = uml_vfio_find(name);
	if (!dev) {
		uml_vfio_err("%s: not passed through: nothing to remove\n", name);
		return ERR_PTR(-ENODEV);
	}

	raw_spin_lock_irqsave(&dev->lock, flags);
	busy = dev->state != UML_VFIO_ACTIVE;
	if (!busy)
		dev->state = UML_VFIO_RELEASING;
	raw_spin_unlock_irqrestore(&dev->lock, flags);
	if (busy) {
		uml_vfio_err("%s: being released already%s\n", name,
			     READ_ONCE(dev->host_request) ?
			     " (the host asked for it back)" : "");
		return ERR_PTR(-EBUSY);
	}
	return dev;
}

/**
 * uml_vfio_remove() - unplug a device while UML runs
 * @arg: its address
 * @msg: the line that says why not, for mconsole's reply
 * @size: size of @msg
 *
 * Return: 0 once it is released, -ENODEV if it is not passed through,
 * -EBUSY if it is being released already, -EINVAL for a bad address.
 */
static int uml_vfio_remove(const char *arg, char *msg, size_t size)
{
	struct uml_vfio_device *dev;

	scoped_guard(mutex, &uml_vfio_mtx) {
		uml_vfio_msg_start(msg, size);
		dev = uml_vfio_claim(arg);
		uml_vfio_msg_end(arg, PTR_ERR_OR_ZERO(dev));
	}
	if (IS_ERR(dev))
		return PTR_ERR(dev);

	uml_vfio_release(dev, "removal asked for over mconsole");
	return 0;
}

static const char *uml_vfio_state_name(struct uml_vfio_device *dev)
{
	switch (READ_ONCE(dev->state)) {
	case UML_VFIO_SETUP:
		return "being set up";
	case UML_VFIO_ACTIVE:
		return "active";
	default:
		return READ_ONCE(dev->host_request) ?
		       "being released (the host asked for it back)" :
		       "being released";
	}
}

/*
 * mconsole: "config vfio_uml.device=ADDRESS" adds a device, "config
 * vfio_uml.device" lists them, "remove vfio_uml.device=ADDRESS" removes
 * one. mconsole runs its commands one at a time, from one work item, and
 * sends the reply strings after the handlers return.
 */
static char uml_vfio_mc_reply[256];
static char uml_vfio_mc_addr[UML_VFIO_NAME_LEN + 16];

static int uml_vfio_mc_config(char *str, char **error_out)
{
	*error_out = uml_vfio_mc_reply;
	/* mconsole calls this with "=ADDRESS" only */
	return uml_vfio_add(str + 1, uml_vfio_mc_reply,
			    sizeof(uml_vfio_mc_reply));
}

static int uml_vfio_mc_get_config(char *name, char *str, int size,
				  char **error_out)
{
	struct uml_vfio_device *dev;
	int n = 0, at;

	if (*skip_spaces(name)) {
		*error_out = "list with vfio_uml.device, add with vfio_uml.device=ADDRESS";
		return 0;
	}

	guard(mutex)(&uml_vfio_mtx);
	list_for_each_entry(dev, &uml_vfio_devices, list) {
		at = min(n, size);
		n += snprintf(str + at, size - at, "%s%s: %s (IOMMU group %d)",
			      n ? "\n" : "", dev->name,
			      uml_vfio_state_name(dev), dev->group->id);
	}
	if (!n)
		n = snprintf(str, size, "no devices passed through");
	return n + 1;
}

/*
 * mconsole asks id() for a device number in [start, end], then, right
 * after, calls remove() with it. Addresses are no such numbers: id()
 * keeps the address for remove(), which says what is wrong with it.
 */
static int uml_vfio_mc_id(char **str, int *start_out, int *end_out)
{
	const char *arg = *str;

	if (*arg == '=')
		arg++;
	strscpy(uml_vfio_mc_addr, arg);
	*start_out = 0;
	*end_out = 0;
	return 0;
}

static int uml_vfio_mc_remove(int n, char **error_out)
{
	*error_out = uml_vfio_mc_reply;
	return uml_vfio_remove(uml_vfio_mc_addr, uml_vfio_mc_reply,
			       sizeof(uml_vfio_mc_reply));
}

static struct mc_device uml_vfio_mc = {
	.list		= LIST_HEAD_INIT(uml_vfio_mc.list),
	.name		= "vfio_uml.device",
	.config		= uml_vfio_mc_config,
	.get_config	= uml_vfio_mc_get_config,
	.id		= uml_vfio_mc_id,
	.remove		= uml_vfio_mc_remove,
};

/*
 * The devices given at boot, as early as the slab allocator allows: their
 * groups are attached and each device is opened in a host thread, so that
 * vfio-pci resets them while the rest of UML boots. uml_vfio_init() sets
 * them up once virt-pci and the guest drivers are there.
 */
static int __init uml_vfio_init_early(void)
{
	struct uml_vfio_device *dev, *next;
	char name[UML_VFIO_NAME_LEN];
	size_t pos;

	if (uml_vfio_args_truncated)
		pr_err("too many vfio_uml.device= parameters; ignoring the last ones\n");

	guard(mutex)(&uml_vfio_mtx);
	/* All of them first, so that duplicates of failed ones are caught. */
	for (pos = 0; pos < uml_vfio_args_len;
	     pos += strlen(uml_vfio_args + pos) + 1) {
		if (uml_vfio_check_addr(uml_vfio_args + pos, name))
			continue;
		if (uml_vfio_find(name)) {
			uml_vfio_err("%s: given more than once; using it once\n",
				     name);
			continue;
		}
		dev = uml_vfio_alloc(name);
		if (dev)
			list_add_tail(&dev->list, &uml_vfio_devices);
	}

	list_for_each_entry_safe(dev, next, &uml_vfio_devices, list) {
		if (uml_vfio_open_begin(dev, true)) {
			list_del(&dev->list);
			kfree(dev);
		}
	}
	return 0;
}
early_initcall(uml_vfio_init_early);

static int __init uml_vfio_init(void)
{
	struct uml_vfio_device *dev, *next;
	char msg[128];

	scoped_guard(mutex, &uml_vfio_mtx) {
		list_for_each_entry_safe(dev, next, &uml_vfio_devices, list) {
			if (uml_vfio_open_device(dev)) {
				list_del(&dev->list);
				kfree(dev);
				continue;
			}
			uml_vfio_passed(dev, msg, sizeof(msg));
		}
	}

	mconsole_register_dev(&uml_vfio_mc);
	return 0;
}
late_initcall(uml_vfio_init);

/**
 * uml_vfio_exit() - close every device as UML exits
 *
 * Built-in code has no module_exit: this exitcall runs as UML's host
 * process exits, from power-off (after the guest drivers' shutdown) or
 * from a fatal signal's handler, in whatever context that interrupted.
 * It closes the devices on the host only, since the kernel is going away
 * around them, and must not wait: if a set-up or a release holds the
 * lock, it leaves them to the host, which closes all of it with the
 * process. A release under way stops short of the host side (which this
 * has closed) when it goes on.
 */
static void uml_vfio_exit(void)
{
	struct uml_vfio_device *dev, *next;

	if (!mutex_trylock(&uml_vfio_mtx))
		return;

	WRITE_ONCE(uml_vfio_exiting, true);
	list_for_each_entry_safe(dev, next, &uml_vfio_devices, list) {
		/* Given at boot, not set up yet: the host closes its group. */
		if (READ_ONCE(dev->state) == UML_VFIO_SETUP)
			continue;
		/*
		 * The kernel is halting: vfio-pci resets the device as it is
		 * closed, and the guest's direct windows into its BARs were
		 * never revoked.
		 */
		uml_vfio_close_device(dev, false, true);
		list_del(&dev->list);
	}
	mutex_unlock(&uml_vfio_mtx);
}

__uml_exitcall(uml_vfio_exit);
