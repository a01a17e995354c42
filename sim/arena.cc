#include "sim/arena.h"

#include <elf.h>
#include <link.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sim/check.h"
#include "sim/instrumentation.h"

namespace switchyard::sim {
namespace {

unsigned char* base = nullptr;  // the mapping, made at the first scope
size_t used_bytes = 0;          // bump pointer of the open scope
size_t dirty_bytes = 0;         // bytes written since the mapping was last zeroed
bool open = false;

// The executable's read-only segments (text, constants, RELRO) are never shared state.
int DeclareExecutableReadOnly(dl_phdr_info* info, size_t, void*) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if ((ph.p_type == PT_LOAD && (ph.p_flags & PF_W) == 0) || ph.p_type == PT_GNU_RELRO) {
      Instrumentation::DeclarePrivate(begin, ph.p_memsz);
    }
  }
  return 1;  // the first object is the executable
}

}  // namespace

Arena::Scope::Scope() {
  SY_CHECK(!open);
  if (base == nullptr) {
    void* m = mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      std::fprintf(stderr, "switchyard: cannot map the model heap (%zu bytes)\n", kSize);
      std::exit(2);
    }
    base = static_cast<unsigned char*>(m);
    Instrumentation::SetArena(reinterpret_cast<uintptr_t>(base), kSize);
  }
  dl_iterate_phdr(&DeclareExecutableReadOnly, nullptr);
  std::memset(base, 0, dirty_bytes);
  dirty_bytes = 0;
  used_bytes = 0;
  open = true;
}

Arena::Scope::~Scope() { open = false; }

void* Arena::Allocate(size_t bytes, size_t alignment) {
  if (!open) return ::operator new (bytes, std::align_val_t{alignment});
  const size_t start = (used_bytes + alignment - 1) & ~(alignment - 1);
  if (start > kSize || bytes > kSize - start) {
    std::fprintf(stderr,
                 "switchyard: the model allocated more than %zu bytes in one run (its heap "
                 "arena); run it with a smaller configuration\n",
                 kSize);
    std::abort();
  }
  used_bytes = start + bytes;
  if (used_bytes > dirty_bytes) dirty_bytes = used_bytes;
  return base + start;
}

void Arena::Deallocate(void* p, size_t alignment) noexcept {
  if (Contains(p)) return;
  ::operator delete (p, std::align_val_t{alignment});
}

bool Arena::Contains(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  const auto b = reinterpret_cast<uintptr_t>(base);
  return base != nullptr && a >= b && a - b < kSize;
}

size_t Arena::used() { return used_bytes; }

}  // namespace switchyard::sim
