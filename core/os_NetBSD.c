/*
 * os_NetBSD.c: the platform interface on NetBSD.  kqueue's EVFILT_PROC
 * fires when the process exits, whether or not it has been reaped;
 * sysctl(KERN_PROC2) gives what ps(1) shows.
 *
 * An exiting process first becomes SDYING, then closes its descriptors
 * (so QEMU's pidfile lock is held until then), posts NOTE_EXIT, and ends
 * SDEAD and SZOMB.  "Gone" here means past the descriptors: the NOTE_EXIT
 * event, or p_realstat SDEAD/SZOMB, or no such process.
 */
#include <sys/param.h>
#include <sys/event.h>
#include <sys/ioctl.h>
#include <sys/sysctl.h>
#include <sys/time.h>

#include <net/if.h>
#include <net/if_tap.h>

/* NVMM exists, and its headers are installed, on amd64 only. */
#if defined(__x86_64__)
#include <dev/nvmm/nvmm.h>
#include <dev/nvmm/nvmm_ioctl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nvq.h"

/*
 * Process states, as kinfo_proc2's p_realstat gives them (<sys/proc.h>;
 * SDYING is 3).  Its p_stat is the state of an LWP for a live process
 * (LSSLEEP is 3, LSZOMB 5...): not what is wanted here.
 */
#ifndef SZOMB
#define SZOMB	5
#endif
#ifndef SDEAD
#define SDEAD	6
#endif

int
os_wait_exit(pid_t pid, double deadline)
{
	struct kevent ev;
	struct timespec ts;
	int kq, n, ms;

	if ((kq = kqueue()) == -1)
		return nvq_poll_exit(pid, deadline);
	EV_SET(&ev, pid, EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0, 0);
	if (kevent(kq, &ev, 1, NULL, 0, NULL) == -1) {
		/*
		 * ESRCH does not mean gone: the filter attaches only to
		 * SACTIVE and SSTOP processes, so one that is SDYING, still
		 * closing its descriptors, is refused too.  Its state is
		 * polled until it is really gone (as on any other error).
		 */
		close(kq);
		return nvq_poll_exit(pid, deadline);
	}
	do {
		ms = nvq_poll_ms(deadline);
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		n = kevent(kq, NULL, 0, &ev, 1, &ts);
	} while (n == -1 && errno == EINTR);
	close(kq);
	return n > 0 ? 1 : n;
}

static int
kinfo(pid_t pid, struct kinfo_proc2 *kp)
{
	int mib[6] = { CTL_KERN, KERN_PROC2, KERN_PROC_PID, 0,
	    sizeof(struct kinfo_proc2), 1 };
	size_t len = sizeof(*kp);

	mib[3] = pid;
	if (sysctl(mib, 6, kp, &len, NULL, 0) == -1)
		return -1;
	if (len == 0) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/* SDYING is not gone: the process may still hold its locks. */
int
os_pid_gone(pid_t pid)
{
	struct kinfo_proc2 kp;

	if (kinfo(pid, &kp) == -1)
		return errno == ESRCH;
	return kp.p_realstat == SZOMB || kp.p_realstat == SDEAD;
}

int
os_procstat(pid_t pid, struct nvq_procstat *ps)
{
	struct kinfo_proc2 kp;

	if (kinfo(pid, &kp) == -1)
		return -1;
	/*
	 * For an exiting or zombie process the kernel leaves the start
	 * and run times at 0 and says so in p_uvalid: a start of 0 would
	 * be an uptime of decades.  No figures rather than wrong ones.
	 */
	if (!kp.p_uvalid) {
		errno = ESRCH;
		return -1;
	}
	ps->cpu = kp.p_rtime_sec + kp.p_rtime_usec / 1e6;
	ps->rss = (long long)kp.p_vm_rssize * getpagesize();
	ps->start = kp.p_ustart_sec + kp.p_ustart_usec / 1e6;
	return 0;
}

/*
 * Whether QEMU's -accel nvmm can work: the device opens (ENXIO means
 * the kernel found no VMX/SVM backend) and answers the capability query
 * with a version no older than the headers here.
 */
#if defined(__x86_64__)
int
os_nvmm_probe(char *why, size_t len)
{
	struct nvmm_ioc_capability args;
	int fd, e;

	if ((fd = open("/dev/nvmm", O_RDONLY | O_CLOEXEC)) == -1) {
		e = errno;
		if (e == ENOENT)
			snprintf(why, len, "no /dev/nvmm (modload nvmm?)");
		else if (e == ENXIO)
			snprintf(why, len, "/dev/nvmm has no backend: "
			    "the CPU offers no VMX/SVM");
		else
			snprintf(why, len, "/dev/nvmm: %s", strerror(e));
		return 0;
	}
	memset(&args, 0, sizeof(args));
	if (ioctl(fd, NVMM_IOC_CAPABILITY, &args) == -1) {
		e = errno;
		close(fd);
		snprintf(why, len, "/dev/nvmm: capability query failed: %s",
		    strerror(e));
		return 0;
	}
	close(fd);
	/* As libnvmm: only a kernel older than the headers is refused. */
	if (args.cap.version < NVMM_KERN_VERSION) {
		snprintf(why, len, "/dev/nvmm speaks version %u, older than %u",
		    (unsigned)args.cap.version, (unsigned)NVMM_KERN_VERSION);
		return 0;
	}
	snprintf(why, len, "NVMM version %u, up to %u vCPUs",
	    (unsigned)args.cap.version, (unsigned)args.cap.max_vcpus);
	return 1;
}
#else
int
os_nvmm_probe(char *why, size_t len)
{
	snprintf(why, len, "NVMM exists only on amd64");
	return 0;
}
#endif

/*
 * NetBSD has no parent-death signal: a child learns of its parent's
 * death only when a report to it fails (EPIPE).
 */
void
os_parent_death(pid_t parent)
{
	(void)parent;
}

/*
 * A fresh tap through the clone device /dev/tap (tap(4)): the interface
 * exists while a descriptor to it is open, so it goes with QEMU, even
 * after SIGKILL.  TAPGIFNAME tells which tapN it became.  Returns the
 * descriptor (close-on-exec) and the name in name, or -1 with errno set.
 */
int
os_tap_open(char *name, size_t len)
{
	struct ifreq ifr;
	int fd, e;

	if ((fd = open("/dev/tap", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TAPGIFNAME, &ifr) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	snprintf(name, len, "%.*s", (int)sizeof(ifr.ifr_name), ifr.ifr_name);
	return fd;
}
