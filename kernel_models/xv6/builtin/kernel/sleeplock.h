// switchyard's own xv6-compatible kernel: a lock that sleeps while it waits.
struct sleeplock {
  uint locked;
  struct spinlock lk;  // guards locked and pid
  char* name;
  int pid;  // the holder
};
