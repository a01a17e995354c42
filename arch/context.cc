// Stacks (mapping, guard, pool), making contexts, and the stack overflow reporter. The switch
// itself is inline in context.h and in arch/jump_*.S.
#include "arch/context.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#if SWITCHYARD_ARCH_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#endif

// The first code a new context runs (arch/jump_*.S). Not a C++ function: only its address is
// taken, to be the resume address of a context's first frame.
extern "C" void switchyard_start_context();

namespace switchyard::arch {
namespace internal {

// One per mapped stack. Records are never freed, because stacks are never unmapped: the pool
// hands them out again. The signal handler walks every record without a lock, so everything it
// reads is either immutable after publication or atomic.
struct StackRecord {
  // Immutable once published in all_records.
  uintptr_t guard_begin = 0;  // lowest address of the mapping: the guard region starts here
  char* base = nullptr;       // usable region [base, base + usable_bytes); the guard ends here
  size_t usable_bytes = 0;
  StackRecord* next_record = nullptr;

  // The fiber the stack belongs to, set by MakeContext; nullptr while no context was made on it
  // since the stack was allocated. A guard fault counts as an overflow only when it is set.
  std::atomic<const char*> fiber_name{nullptr};

  // Guarded by StackPool::mutex.
  StackRecord* next_free = nullptr;
};

}  // namespace internal

namespace {

using internal::StackRecord;

// Every record ever made, newest first; read by the signal handler.
std::atomic<StackRecord*> all_records{nullptr};

// Usable sizes are whole pages; so are guards.
size_t PageBytes() {
  static const size_t page_bytes = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page_bytes;
}

size_t GuardBytes() {
  const size_t page = PageBytes();
  return (kStackGuardBytes + page - 1) / page * page;
}

[[noreturn]] void DieErrno(const char* what, size_t bytes, int error) {
  std::fprintf(stderr, "switchyard: cannot %s for a %zu KiB fiber stack: %s\n", what, bytes / 1024,
               std::strerror(error));
  std::abort();
}

[[noreturn]] void Die(const char* message) {
  std::fprintf(stderr, "switchyard: %s\n", message);
  std::abort();
}

// Maps a new stack: guard region, then usable region. MAP_NORESERVE because most of a fiber's
// stack is never touched; the kernel supplies pages on first use.
StackRecord* MapStack(size_t usable_bytes) {
  const size_t guard_bytes = GuardBytes();
  void* mapping = mmap(nullptr, guard_bytes + usable_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (mapping == MAP_FAILED) {
    DieErrno("mmap", usable_bytes, errno);
  }
  if (mprotect(mapping, guard_bytes, PROT_NONE) != 0) {
    DieErrno("mprotect the guard", usable_bytes, errno);
  }
  auto* record = new StackRecord;
  record->guard_begin = reinterpret_cast<uintptr_t>(mapping);
  record->base = static_cast<char*>(mapping) + guard_bytes;
  record->usable_bytes = usable_bytes;
  // Publish: the handler may walk the list at any moment, so link before swinging the head.
  StackRecord* head = all_records.load(std::memory_order_relaxed);
  do {
    record->next_record = head;
  } while (!all_records.compare_exchange_weak(head, record, std::memory_order_release,
                                              std::memory_order_relaxed));
  return record;
}

// Free stacks, one list per usable size. Few sizes exist (the default and a handful of
// overrides), so a vector searched linearly beats a map.
class StackPool {
 public:
  StackRecord* Take(size_t usable_bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [bytes, head] : free_lists_) {
      if (bytes == usable_bytes && head != nullptr) {
        StackRecord* record = head;
        head = record->next_free;
        record->next_free = nullptr;
        return record;
      }
    }
    return nullptr;
  }

  void Give(StackRecord* record) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [bytes, head] : free_lists_) {
      if (bytes == record->usable_bytes) {
        record->next_free = head;
        head = record;
        return;
      }
    }
    free_lists_.emplace_back(record->usable_bytes, record);
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<size_t, StackRecord*>> free_lists_;  // (usable bytes, first free)
};

// Never destroyed: Stacks in static objects may be released after static destructors ran.
StackPool& Pool() {
  static StackPool* const pool = new StackPool;
  return *pool;
}

void UnpoisonForAsan([[maybe_unused]] void* base, [[maybe_unused]] size_t bytes) {
#if SWITCHYARD_ARCH_ASAN
  // Frames of whatever ran on this memory before and never returned left their redzones
  // poisoned; the next fiber's frames would trip over them.
  __asan_unpoison_memory_region(base, bytes);
#endif
}

// ---- Stack overflow reporter ----

struct sigaction previous_segv_action;
struct sigaction previous_bus_action;

// Appends text to buf[*used..capacity), truncating; async-signal-safe.
void Append(char* buf, size_t capacity, size_t* used, const char* text) {
  while (*text != '\0' && *used < capacity) {
    buf[(*used)++] = *text++;
  }
}

void AppendDecimal(char* buf, size_t capacity, size_t* used, size_t value) {
  char digits[24];
  size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (count > 0 && *used < capacity) {
    buf[(*used)++] = digits[--count];
  }
}

void ReportOverflow(const char* name, size_t usable_bytes) {
  char line[512];
  const size_t capacity = sizeof(line) - 1;  // room for the newline
  size_t used = 0;
  Append(line, capacity, &used, "switchyard: stack overflow in fiber '");
  Append(line, capacity - 64, &used, name);  // leave room for the rest of the line
  Append(line, capacity, &used, "' (");
  AppendDecimal(line, capacity, &used, usable_bytes / 1024);
  Append(line, capacity, &used, " KiB stack); give it a larger stack");
  line[used++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, used);
  (void)ignored;
}

// The name of the fiber whose guard region holds `address`, or nullptr.
const char* OverflowedFiber(uintptr_t address, size_t* usable_bytes) {
  for (StackRecord* record = all_records.load(std::memory_order_acquire); record != nullptr;
       record = record->next_record) {
    if (address >= record->guard_begin && address < reinterpret_cast<uintptr_t>(record->base)) {
      *usable_bytes = record->usable_bytes;
      return record->fiber_name.load(std::memory_order_acquire);
    }
  }
  return nullptr;
}

void OnFault(int signal_number, siginfo_t* info, void* /*ucontext*/) {
  const struct sigaction* previous =
      signal_number == SIGBUS ? &previous_bus_action : &previous_segv_action;
  // si_code > 0: raised by the hardware for the access at si_addr, not sent by kill().
  if (info->si_code > 0) {
    size_t usable_bytes = 0;
    const char* name = OverflowedFiber(reinterpret_cast<uintptr_t>(info->si_addr), &usable_bytes);
    if (name != nullptr) {
      ReportOverflow(name, usable_bytes);
      struct sigaction default_action = {};
      default_action.sa_handler = SIG_DFL;
      sigemptyset(&default_action.sa_mask);
      previous = &default_action;
      // Returning re-executes the faulting access, which now kills the process the default way
      // (with a core dump where enabled) and the fault address intact.
      sigaction(signal_number, previous, nullptr);
      return;
    }
  }
  // Not an overflow: hand it to whoever had the signal before us. A hardware fault recurs when
  // we return; a sent signal has to be sent again.
  sigaction(signal_number, previous, nullptr);
  if (info->si_code <= 0) {
    raise(signal_number);
  }
}

void InstallHandlers() {
  struct sigaction action = {};
  action.sa_sigaction = OnFault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGSEGV, &action, &previous_segv_action) != 0) {
    Die("cannot install the stack overflow reporter: sigaction(SIGSEGV) failed");
  }
  if (sigaction(SIGBUS, &action, &previous_bus_action) != 0) {
    Die("cannot install the stack overflow reporter: sigaction(SIGBUS) failed");
  }
}

// The handler runs on an alternate stack: on an overflowed stack there is no room for the
// kernel's signal frame, and without one the kernel kills the process silently.
constexpr size_t kAltStackBytes = 64 * 1024;
constexpr size_t kAltStackMinimumBytes = 16 * 1024;

class AltStack {
 public:
  AltStack() = default;
  AltStack(const AltStack&) = delete;
  AltStack& operator=(const AltStack&) = delete;
  ~AltStack() {
    if (memory_ == nullptr) {
      return;
    }
    stack_t current = {};
    if (sigaltstack(nullptr, &current) == 0 && current.ss_sp == memory_) {
      stack_t disable = {};
      disable.ss_flags = SS_DISABLE;
      sigaltstack(&disable, nullptr);
    }
    munmap(memory_, kAltStackBytes);
  }

  void Ensure() {
    if (ready_) {
      return;
    }
    stack_t current = {};
    if (sigaltstack(nullptr, &current) != 0) {
      Die("cannot install the stack overflow reporter: sigaltstack failed");
    }
    // Keep an alternate stack someone else (ASan, the embedding program) installed if it is
    // large enough: replacing it could pull it from under their handler.
    if ((current.ss_flags & SS_DISABLE) != 0 || current.ss_size < kAltStackMinimumBytes) {
      void* memory =
          mmap(nullptr, kAltStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (memory == MAP_FAILED) {
        DieErrno("mmap the signal stack", kAltStackBytes, errno);
      }
      stack_t ours = {};
      ours.ss_sp = memory;
      ours.ss_size = kAltStackBytes;
      if (sigaltstack(&ours, nullptr) != 0) {
        Die("cannot install the stack overflow reporter: sigaltstack failed");
      }
      memory_ = memory;
    }
    ready_ = true;
  }

 private:
  bool ready_ = false;
  void* memory_ = nullptr;  // ours to unmap, or nullptr if the thread had a usable one
};

}  // namespace

// ---- Stack ----

Stack Stack::Allocate(size_t usable_bytes) {
  if (usable_bytes == 0) {
    Die("Stack::Allocate(0): a fiber stack needs at least one byte");
  }
  const size_t page = PageBytes();
  if (usable_bytes > SIZE_MAX / 2) {
    Die("Stack::Allocate: absurd stack size (more than half the address space)");
  }
  const size_t rounded = (usable_bytes + page - 1) / page * page;
  StackRecord* record = Pool().Take(rounded);
  if (record != nullptr) {
    UnpoisonForAsan(record->base, record->usable_bytes);
  } else {
    record = MapStack(rounded);
  }
#if SWITCHYARD_ARCH_ASAN
  // LeakSanitizer scans thread stacks, not our mappings: make a parked fiber's locals roots.
  __lsan_register_root_region(record->base, record->usable_bytes);
#endif
  Stack stack;
  stack.base_ = record->base;
  stack.size_ = record->usable_bytes;
  stack.record_ = record;
  return stack;
}

Stack::Stack(Stack&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      record_(std::exchange(other.record_, nullptr)) {}

Stack& Stack::operator=(Stack&& other) noexcept {
  if (this != &other) {
    Release();
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    record_ = std::exchange(other.record_, nullptr);
  }
  return *this;
}

Stack::~Stack() { Release(); }

void Stack::Release() {
  if (record_ == nullptr) {
    return;
  }
#if SWITCHYARD_ARCH_ASAN
  __lsan_unregister_root_region(record_->base, record_->usable_bytes);
#endif
  // A fault in a free stack's guard is not any fiber's overflow, and the name may die with it.
  record_->fiber_name.store(nullptr, std::memory_order_release);
  Pool().Give(record_);
  base_ = nullptr;
  size_ = 0;
  record_ = nullptr;
}

// ---- Contexts ----

namespace {

struct StackBounds {
  void* bottom = nullptr;
  size_t bytes = 0;
};

// pthread_getattr_np reads /proc/self/maps for the main thread (hundreds of thousands of
// instructions), and simulators are made thousands of times a second: ask once per thread.
StackBounds ThisThreadsStack() {
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) {
    Die("HostContext: pthread_getattr_np failed");
  }
  StackBounds bounds;
  if (pthread_attr_getstack(&attributes, &bounds.bottom, &bounds.bytes) != 0) {
    Die("HostContext: pthread_attr_getstack failed");
  }
  pthread_attr_destroy(&attributes);
  return bounds;
}

}  // namespace

Context HostContext(const char* name) {
  thread_local const StackBounds bounds = ThisThreadsStack();
  Context context;
  context.name = name != nullptr ? name : "";
  context.stack_bottom = bounds.bottom;
  context.stack_size = bounds.bytes;
  return context;
}

namespace {

template <typename T>
void StoreSlot(char* frame, int offset, T value) {
  static_assert(sizeof(T) == 8, "frame slots are 8 bytes");
  std::memcpy(frame + offset, &value, sizeof(value));
}

}  // namespace

void MakeContext(Context* ctx, const Stack& stack, void (*entry)(void*), void* arg) {
  if (ctx == nullptr) {
    Die("MakeContext: ctx is null");
  }
  const char* name = ctx->name != nullptr ? ctx->name : "";
  if (stack.empty()) {
    std::fprintf(stderr, "switchyard: MakeContext for fiber '%s': the stack is empty\n", name);
    std::abort();
  }
  if (entry == nullptr) {
    std::fprintf(stderr, "switchyard: MakeContext for fiber '%s': the entry function is null\n",
                 name);
    std::abort();
  }
  InstallStackOverflowReporter();
  stack.record_->fiber_name.store(name, std::memory_order_release);
  UnpoisonForAsan(stack.base(), stack.size());

  // The first frame, as if the context had called switchyard_jump_context from
  // switchyard_start_context with the stack otherwise empty. The top is page aligned.
  char* top = static_cast<char*>(stack.base()) + stack.size();
  char* frame = top - SWITCHYARD_FRAME_BYTES;
  std::memset(frame, 0, SWITCHYARD_FRAME_BYTES);  // frame pointer 0 ends unwinders' walks
  StoreSlot(frame, SWITCHYARD_FRAME_START_ENTRY, entry);
  StoreSlot(frame, SWITCHYARD_FRAME_START_ARG, arg);
  StoreSlot(frame, SWITCHYARD_FRAME_START_NAME, name);
  StoreSlot(frame, SWITCHYARD_FRAME_RETURN_ADDRESS, &switchyard_start_context);

  ctx->name = name;
  ctx->sp = frame;
  ctx->stack_bottom = stack.base();
  ctx->stack_size = stack.size();
  ctx->fake_stack = nullptr;
}

void InstallStackOverflowReporter() {
  static std::once_flag installed;
  std::call_once(installed, InstallHandlers);
  thread_local AltStack alt_stack;
  alt_stack.Ensure();
}

namespace internal {

void DieSwitching(const Context* from, const Context* to) {
  if (from == to) {
    std::fprintf(stderr, "switchyard: SwitchContext from fiber '%s' to itself\n", from->name);
  } else {
    std::fprintf(stderr,
                 "switchyard: SwitchContext from fiber '%s' to fiber '%s', which was neither made "
                 "by MakeContext nor saved by a switch\n",
                 from->name, to->name);
  }
  std::abort();
}

}  // namespace internal
}  // namespace switchyard::arch

// Called by switchyard_start_context on a fiber's first run, on the fiber's own stack.
extern "C" __attribute__((visibility("hidden"))) void switchyard_fiber_start(void* arg,
                                                                             void (*entry)(void*)) {
#if SWITCHYARD_ARCH_ASAN
  // The switch into this fiber began in SwitchContext; a new fiber has no fake stack to restore.
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  entry(arg);
}

// Called by switchyard_start_context when a fiber's entry function returned.
extern "C" __attribute__((visibility("hidden"), noreturn)) void switchyard_fiber_returned(
    const char* name) {
  std::fprintf(stderr,
               "switchyard: fiber '%s' returned from its entry function; fiber entry functions "
               "must never return\n",
               name != nullptr ? name : "");
  std::abort();
}
