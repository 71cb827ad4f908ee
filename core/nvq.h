/*
 * nvq.h: what the pieces of the C core share.
 *
 * Every blocking primitive takes an absolute deadline on the monotonic
 * clock (seconds, as returned by nvq_now()), never a duration, so that a
 * Lua policy can run several VMs' waits against one global deadline.
 */
#ifndef NVQ_H
#define NVQ_H

#include <sys/types.h>

#include <lua.h>
#include <lauxlib.h>

/* The one place the version is written: the Makefile reads it here. */
#define NVQ_VERSION	"0.2.0"

/* clock.c */
double	nvq_now(void);
int	nvq_poll_ms(double);
void	nvq_nap(double);

/* The platform interface: os_Linux.c, os_NetBSD.c. */
struct nvq_procstat {
	double		cpu;	/* user + system seconds */
	long long	rss;	/* bytes */
	double		start;	/* wall-clock start, seconds since the epoch */
};
int	os_wait_exit(pid_t, double);
int	os_procstat(pid_t, struct nvq_procstat *);
int	os_pid_gone(pid_t);
int	nvq_poll_exit(pid_t, double);
void	nvq_childwait(void);
void	nvq_task_signals(void);
void	nvq_task_kill(void);
int	os_nvmm_probe(char *, size_t);
void	os_parent_death(pid_t);
int	os_tap_open(char *, size_t);

/* Shared by the modules that make up nvq.core. */
double	nvq_checkdeadline(lua_State *, int);
void	nvq_newclass(lua_State *, const char *, const luaL_Reg *,
	    const luaL_Reg *);
int	nvq_fail(lua_State *, const char *, int);
void	nvq_pusherrname(lua_State *, int);
void	nvq_register_sys(lua_State *);
void	nvq_register_proc(lua_State *);
void	nvq_register_lock(lua_State *);
void	nvq_register_chan(lua_State *);
void	nvq_register_term(lua_State *);
void	nvq_register_task(lua_State *);
void	nvq_register_net(lua_State *);
void	nvq_register_limit(lua_State *);

/* interp.c */
lua_State *nvq_newstate(void);
int	nvq_pcall(lua_State *, int, int);

#endif
