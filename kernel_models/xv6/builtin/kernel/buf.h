// switchyard's own xv6-compatible kernel: a buffer of the block cache (bio.c), with xv6's layout.
struct buf {
  int valid;  // data holds the block's contents
  int disk;   // the disk owns the buffer: a request is in flight
  uint dev;
  uint blockno;
  struct sleeplock lock;  // held by whoever bread() returned the buffer to, until brelse()
  uint refcnt;            // bread()s not yet brelse()d; guarded by bcache.lock
  struct buf* prev;       // least recently used order; guarded by bcache.lock
  struct buf* next;
  uchar data[BSIZE];
};
