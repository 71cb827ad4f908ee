/*
 * os_Linux.c: the platform interface on Linux.  A pidfd becomes
 * readable when the process exits, before anyone reaps it, which
 * matters because a daemonized QEMU's parent (PID 1 in a container)
 * may take seconds to reap; kill(pid, 0) would still succeed.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <net/if.h>
#include <linux/if_tun.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nvq.h"

static int
pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int
os_wait_exit(pid_t pid, double deadline)
{
	struct pollfd pfd;
	int fd, n;

	if ((fd = pidfd_open(pid)) == -1) {
		if (errno == ESRCH)
			return 1;
		return nvq_poll_exit(pid, deadline);
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while ((n = poll(&pfd, 1, nvq_poll_ms(deadline))) == -1 &&
	    errno == EINTR)
		continue;
	close(fd);
	return n;
}

/* The fields after "(comm)" in /proc/PID/stat, from field 3 on. */
static int
read_stat(pid_t pid, char *state, unsigned long long *ticks,
    unsigned long long *start, long long *rss)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %*d %*d %*d %*d %*d %*d %llu %*u %lld",
	    state, &ut, &st, start, rss) != 5) {
		errno = EINVAL;
		return -1;
	}
	*ticks = ut + st;
	return 0;
}

int
os_pid_gone(pid_t pid)
{
	unsigned long long t, s;
	long long r;
	char state;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 1;
	if (read_stat(pid, &state, &t, &s, &r) == -1)
		return errno == ENOENT;
	return state == 'Z' || state == 'X';
}

static double
boot_time(void)
{
	char line[256];
	double bt = 0;
	FILE *f;

	if ((f = fopen("/proc/stat", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %lf", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

int
os_procstat(pid_t pid, struct nvq_procstat *ps)
{
	unsigned long long ticks, start;
	long long rss;
	double hz = (double)sysconf(_SC_CLK_TCK);
	char state;

	if (read_stat(pid, &state, &ticks, &start, &rss) == -1)
		return -1;
	ps->cpu = ticks / hz;
	ps->rss = rss * sysconf(_SC_PAGESIZE);
	ps->start = boot_time() + start / hz;
	return 0;
}

/* NVMM is NetBSD's: there is nothing to probe here. */
int
os_nvmm_probe(char *why, size_t len)
{
	snprintf(why, len, "NVMM exists only on NetBSD");
	return 0;
}

/*
 * A child of nvqctl gets SIGTERM when its parent dies, even by SIGKILL:
 * no task outlives the command that forked it.  A parent already gone
 * before the call is seen as a new parent.
 */
void
os_parent_death(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		kill(getpid(), SIGTERM);
}

/*
 * A fresh tap through the clone device: with no TUNSETPERSIST it lives
 * only while a descriptor to it is open, so it goes with QEMU, even
 * after SIGKILL.  The kernel picks the first free name "nvqtapN", which
 * marks it as one nvqctl made.  Returns the descriptor (close-on-exec)
 * and the name in name, or -1 with errno set.
 */
int
os_tap_open(char *name, size_t len)
{
	struct ifreq ifr;
	int fd, e;

	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "nvqtap%%d");
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	snprintf(name, len, "%.*s", (int)sizeof(ifr.ifr_name), ifr.ifr_name);
	return fd;
}
