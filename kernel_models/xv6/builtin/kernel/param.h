// switchyard's own xv6-compatible kernel: limits.
#define NPROC 16   // process slots
#define NCPU 8     // harts
#define NOFILE 16  // open files per process (none are opened here)
#define NBUF 30    // buffers in the block cache
#define ROOTDEV 1  // the disk's device number
