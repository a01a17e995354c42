#include "sim/arena.h"

#include <elf.h>
#include <link.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "sim/instrumentation.h"

namespace switchyard::sim {
namespace {

constexpr size_t kGranule = 8;
constexpr size_t kGranules = Arena::kSize / kGranule;
unsigned char* base = nullptr;  // the mapping, made at the first scope
size_t used_bytes = 0;          // bump pointer of the open scope
size_t dirty_bytes = 0;         // bytes written since the mapping was last zeroed
bool open = false;
// One bit per granule: inside a block allocated in this scope (allocated), and not freed since
// (live).
std::vector<uint64_t> allocated_bits;
std::vector<uint64_t> live_bits;

void SetBits(std::vector<uint64_t>& bits, size_t first, size_t end, bool value) {
  for (size_t g = first; g < end; ++g) {
    if (value) {
      bits[g / 64] |= uint64_t{1} << (g % 64);
    } else {
      bits[g / 64] &= ~(uint64_t{1} << (g % 64));
    }
  }
}

bool AllSet(const std::vector<uint64_t>& bits, size_t first, size_t end) {
  for (size_t g = first; g < end; ++g) {
    if ((bits[g / 64] >> (g % 64) & 1) == 0) return false;
  }
  return true;
}

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
    allocated_bits.assign(kGranules / 64, 0);
    live_bits.assign(kGranules / 64, 0);
    Instrumentation::SetArena(reinterpret_cast<uintptr_t>(base), kSize);
  }
  dl_iterate_phdr(&DeclareExecutableReadOnly, nullptr);
  std::memset(base, 0, dirty_bytes);
  const size_t words = (dirty_bytes / kGranule + 63) / 64;
  std::fill(allocated_bits.begin(), allocated_bits.begin() + static_cast<ptrdiff_t>(words), 0);
  std::fill(live_bits.begin(), live_bits.begin() + static_cast<ptrdiff_t>(words), 0);
  dirty_bytes = 0;
  used_bytes = 0;
  open = true;
}

Arena::Scope::~Scope() { open = false; }

void* Arena::Allocate(size_t bytes, size_t alignment) {
  if (!open) return ::operator new (bytes, std::align_val_t{alignment});
  if (alignment < kGranule) alignment = kGranule;
  const size_t start = (used_bytes + alignment - 1) & ~(alignment - 1);
  if (start > kSize || bytes + kRedzone > kSize - start) {
    std::fprintf(stderr,
                 "switchyard: the model allocated more than %zu bytes in one run (its heap "
                 "arena); run it with a smaller configuration\n",
                 kSize);
    std::abort();
  }
  const size_t end = start + bytes;
  SetBits(allocated_bits, start / kGranule, (end + kGranule - 1) / kGranule, true);
  SetBits(live_bits, start / kGranule, (end + kGranule - 1) / kGranule, true);
  used_bytes = end + kRedzone;
  if (used_bytes > dirty_bytes) dirty_bytes = used_bytes;
  return base + start;
}

void Arena::Deallocate(void* p, size_t bytes, size_t alignment) noexcept {
  if (!Contains(p)) {
    ::operator delete (p, std::align_val_t{alignment});
    return;
  }
  if (!open) return;  // after the scope: the next one forgets every block anyway
  const size_t start = static_cast<size_t>(static_cast<unsigned char*>(p) - base);
  SetBits(live_bits, start / kGranule, (start + bytes + kGranule - 1) / kGranule, false);
}

Arena::State Arena::Classify(const void* p, size_t bytes) {
  const size_t start = static_cast<size_t>(static_cast<const unsigned char*>(p) - base);
  const size_t first = start / kGranule;
  const size_t end =
      std::min((start + (bytes == 0 ? 1 : bytes) + kGranule - 1) / kGranule, kGranules);
  if (AllSet(live_bits, first, end)) return State::kLive;
  return AllSet(allocated_bits, first, end) ? State::kFreed : State::kUnallocated;
}

bool Arena::Contains(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  const auto b = reinterpret_cast<uintptr_t>(base);
  return base != nullptr && a >= b && a - b < kSize;
}

size_t Arena::used() { return used_bytes; }

}  // namespace switchyard::sim
