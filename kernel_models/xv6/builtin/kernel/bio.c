// switchyard's own xv6-compatible kernel: the block cache. Each cached block has one buffer;
// bread() returns it locked (its sleep lock), so only one process at a time uses a block's
// buffer, and brelse() gives it back. bcache.lock guards which block each buffer holds, the
// reference counts and the recently-used order; a buffer whose count is zero may be recycled for
// another block.
//
// Planted bug (xv6_planted_bug):
//  12 bget-looks-up-unlocked  bget() looks for a cached copy before it takes bcache.lock: two
//                             processes that miss the same block at once each recycle a buffer
//                             for it, and a write through one is not seen through the other
//  13 bget-keeps-valid        bget() recycles a buffer for another block without clearing
//                             b->valid: bread() returns the old block's contents
#include "types.h"
#include "param.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "riscv.h"
#include "defs.h"
#include "fs.h"
#include "buf.h"

extern int xv6_planted_bug;
enum { BUG_BGET_LOOKS_UP_UNLOCKED = 12, BUG_BGET_KEEPS_VALID = 13 };

struct {
  struct spinlock lock;
  struct buf buf[NBUF];
  // A circular list through every buffer, most recently released first: head.next is the most
  // recently used, head.prev the least.
  struct buf head;
} bcache;

void binit(void) {
  initlock(&bcache.lock, "bcache");
  bcache.head.prev = &bcache.head;
  bcache.head.next = &bcache.head;
  for (struct buf* b = bcache.buf; b < bcache.buf + NBUF; b++) {
    b->next = bcache.head.next;
    b->prev = &bcache.head;
    initsleeplock(&b->lock, "buffer");
    bcache.head.next->prev = b;
    bcache.head.next = b;
  }
}

// The cached buffer of (dev, blockno), or 0. Caller holds bcache.lock (unless the bug is planted).
static struct buf* lookup(uint dev, uint blockno) {
  for (struct buf* b = bcache.head.next; b != &bcache.head; b = b->next) {
    if (b->dev == dev && b->blockno == blockno) return b;
  }
  return 0;
}

// The buffer of (dev, blockno), locked, with one more reference: the cached one, or the least
// recently used free buffer recycled for it (not yet valid).
static struct buf* bget(uint dev, uint blockno) {
  struct buf* b = 0;
  if (xv6_planted_bug == BUG_BGET_LOOKS_UP_UNLOCKED) {
    b = lookup(dev, blockno);
    acquire(&bcache.lock);
  } else {
    acquire(&bcache.lock);
    b = lookup(dev, blockno);
  }
  if (b != 0) {
    b->refcnt++;
    release(&bcache.lock);
    acquiresleep(&b->lock);
    return b;
  }
  for (b = bcache.head.prev; b != &bcache.head; b = b->prev) {
    if (b->refcnt == 0) {
      b->dev = dev;
      b->blockno = blockno;
      if (xv6_planted_bug != BUG_BGET_KEEPS_VALID) b->valid = 0;
      b->refcnt = 1;
      release(&bcache.lock);
      acquiresleep(&b->lock);
      return b;
    }
  }
  panic("bget: no buffers");
}

// The block's buffer, locked, holding its contents.
struct buf* bread(uint dev, uint blockno) {
  struct buf* b = bget(dev, blockno);
  if (!b->valid) {
    virtio_disk_rw(b, 0);
    b->valid = 1;
  }
  return b;
}

// Writes the buffer's contents to its block. The caller holds the buffer.
void bwrite(struct buf* b) {
  if (!holdingsleep(&b->lock)) panic("bwrite");
  virtio_disk_rw(b, 1);
}

// Gives a buffer from bread() back: unlocks it and, at the last reference, makes it the most
// recently used.
void brelse(struct buf* b) {
  if (!holdingsleep(&b->lock)) panic("brelse");
  releasesleep(&b->lock);
  acquire(&bcache.lock);
  b->refcnt--;
  if (b->refcnt == 0) {
    b->next->prev = b->prev;
    b->prev->next = b->next;
    b->next = bcache.head.next;
    b->prev = &bcache.head;
    bcache.head.next->prev = b;
    bcache.head.next = b;
  }
  release(&bcache.lock);
}

// Keeps a buffer from being recycled without holding it (the log's use).
void bpin(struct buf* b) {
  acquire(&bcache.lock);
  b->refcnt++;
  release(&bcache.lock);
}

void bunpin(struct buf* b) {
  acquire(&bcache.lock);
  b->refcnt--;
  release(&bcache.lock);
}
