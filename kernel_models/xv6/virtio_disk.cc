// The disk's request/interrupt/wakeup protocol (kernel/virtio_disk.c), without the descriptors.
#include "kernel_models/xv6/kernel.h"

namespace switchyard::xv6 {

void Kernel::virtio_disk_rw(buf* b) {
  acquire(&disk_.vdisk_lock);
  b->disk = 1;
  // Tell the device: it completes the request after a latency the decider picks, puts it on the
  // used ring and raises the interrupt line.
  uint64_t latency = 1 + sim_.decider().Choose(disk_stream_, config_.workload.disk_latency_max);
  sim_.AddOneShot(latency, [this, b] {
    disk_.used.push_back(b);
    sim_.RaiseExternal(kDiskLine);
  });
  // Wait for virtio_disk_intr() to say request has finished.
  while (b->disk == 1) sleep(b, &disk_.vdisk_lock);
  release(&disk_.vdisk_lock);
}

void Kernel::virtio_disk_intr() {
  acquire(&disk_.vdisk_lock);
  // the device may have raised the line for requests we then handled in one go; take every
  // completed request on the used ring.
  for (size_t i = 0; i < disk_.used.size(); ++i) {
    buf* b = disk_.used[i];
    b->disk = 0;  // disk is done with buf
    wakeup(b);
  }
  disk_.used.clear();
  release(&disk_.vdisk_lock);
}

}  // namespace switchyard::xv6
