/* clock.c: the monotonic clock every deadline is measured on. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "nvq.h"

double
nvq_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Milliseconds until the deadline, rounded up, as poll(2) wants them. */
int
nvq_poll_ms(double deadline)
{
	double left = deadline - nvq_now();

	if (left <= 0)
		return 0;
	if (left > 86400)
		return 86400 * 1000;
	return (int)ceil(left * 1000);
}

void
nvq_nap(double seconds)
{
	struct timespec ts;

	/* NaN too; a day at most, as nvq_poll_ms: past it the conversion
	 * below would overflow. */
	if (!(seconds > 0))
		return;
	if (seconds > 86400)
		seconds = 86400;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}
