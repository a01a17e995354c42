// switchyard's own xv6-compatible kernel: system call numbers (xv6's user ABI).
#define SYS_fork 1
#define SYS_exit 2
#define SYS_wait 3
#define SYS_read 5
#define SYS_kill 6
#define SYS_getpid 11
#define SYS_sleep 13
#define SYS_uptime 14
#define SYS_write 16
