// switchyard's own xv6-compatible kernel: a mutual-exclusion spin lock.
struct spinlock {
  uint locked;      // 1 while held
  char* name;       // for messages
  struct cpu* cpu;  // the holder, while held
};
