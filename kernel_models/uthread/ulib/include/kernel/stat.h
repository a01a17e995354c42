// switchyard's stand-in for xv6's kernel/stat.h (see kernel/types.h).
#ifndef SWITCHYARD_ULIB_KERNEL_STAT_H_
#define SWITCHYARD_ULIB_KERNEL_STAT_H_
#define T_DIR 1
#define T_FILE 2
#define T_DEVICE 3
struct stat {
  int dev;
  uint ino;
  short type;
  short nlink;
  uint64 size;
};
#endif
