// switchyard's own xv6-compatible kernel: the file system's block size (the buffer cache's unit;
// there is no on-disk file system here).
#define BSIZE 1024  // bytes per block
