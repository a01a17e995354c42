#include "arch/emu/machine.h"

#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/check.h"

// Unicorn 2.0.1 (Debian's libunicorn2) does not free the self-modifying-code bitmaps that
// tb_invalidate_phys_page_fast allocates for pages written after translation when uc_close()
// tears an instance down; Machine closes every instance it opens. LeakSanitizer would report
// those allocations in every test that runs emulated code, so they are suppressed here, by the
// library's name only: a leak of ours that passes through Unicorn still has our frames.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:tb_invalidate_phys_page_fast\n";
}

namespace switchyard::emu {
namespace {

int PcReg(Isa isa) {
  switch (isa) {
    case Isa::kI386:
      return UC_X86_REG_EIP;
    case Isa::kX86_64:
      return UC_X86_REG_RIP;
    case Isa::kRiscv64:
      return UC_RISCV_REG_PC;
  }
  return UC_RISCV_REG_PC;
}

int HypercallReg(Isa isa) {
  switch (isa) {
    case Isa::kI386:
      return UC_X86_REG_EAX;
    case Isa::kX86_64:
      return UC_X86_REG_RAX;
    case Isa::kRiscv64:
      return UC_RISCV_REG_A7;
  }
  return UC_RISCV_REG_A7;
}

}  // namespace

Machine::Machine(Isa isa, const Elf& elf, uint64_t memory_base, uint64_t memory_size)
    : isa_(isa), elf_(elf), memory_base_(memory_base), memory_size_(memory_size) {
  SY_CHECK(memory_base >= 4096 && memory_base % 4096 == 0 && memory_size % 4096 == 0);
  SY_CHECK(elf.is_64() == (isa != Isa::kI386));
  uc_err err = isa == Isa::kI386     ? uc_open(UC_ARCH_X86, UC_MODE_32, &uc_)
               : isa == Isa::kX86_64 ? uc_open(UC_ARCH_X86, UC_MODE_64, &uc_)
                                     : uc_open(UC_ARCH_RISCV, UC_MODE_RISCV64, &uc_);
  SY_CHECK(err == UC_ERR_OK);
  SY_CHECK(uc_mem_map(uc_, memory_base, memory_size, UC_PROT_ALL) == UC_ERR_OK);
  for (const Segment& segment : elf.segments()) {
    SY_CHECK(segment.address >= memory_base &&
             segment.address + segment.bytes.size() <= memory_base + memory_size);
    SY_CHECK(uc_mem_write(uc_, segment.address, segment.bytes.data(), segment.bytes.size()) ==
             UC_ERR_OK);
  }
  uc_hook hook;
  SY_CHECK(uc_hook_add(uc_, &hook, UC_HOOK_CODE, reinterpret_cast<void*>(&Machine::OnCode), this, 1,
                       0) == UC_ERR_OK);
  SY_CHECK(uc_hook_add(uc_, &hook, UC_HOOK_INTR, reinterpret_cast<void*>(&Machine::OnInterrupt),
                       this, 1, 0) == UC_ERR_OK);
  if (isa == Isa::kX86_64) {
    SY_CHECK(uc_hook_add(uc_, &hook, UC_HOOK_INSN, reinterpret_cast<void*>(&Machine::OnSyscall),
                         this, 1, 0, UC_X86_INS_SYSCALL) == UC_ERR_OK);
  }
  set_pc(elf.entry());
  if (isa != Isa::kRiscv64) {
    csh handle;
    SY_CHECK(cs_open(CS_ARCH_X86, isa == Isa::kI386 ? CS_MODE_32 : CS_MODE_64, &handle) ==
             CS_ERR_OK);
    cs_option(handle, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    capstone_ = handle;
  }
  // objdump's listing: "   10074:\tmov    %ebp,%esp" per line, and with -l a "file.c:12" line
  // (perhaps with " (discriminator 1)") before the instructions of that source line.
  std::string source_line;
  for (const char* line = elf.listing(); *line != '\0';) {
    const char* end = std::strchr(line, '\n');
    if (end == nullptr) end = line + std::strlen(line);
    std::string text(line, end);
    line = *end == '\n' ? end + 1 : end;
    if (!text.empty() && text[0] != ' ') {
      source_line = text.substr(0, text.find(' '));
      continue;
    }
    size_t colon = text.find(':');
    if (colon == std::string::npos) continue;
    uint64_t address = std::strtoull(text.substr(0, colon).c_str(), nullptr, 16);
    size_t start = text.find_first_not_of(" \t", colon + 1);
    if (start == std::string::npos) continue;
    std::string insn = text.substr(start);
    for (char& c : insn) {
      if (c == '\t') c = ' ';
    }
    listing_[address] = insn;
    if (!source_line.empty()) lines_[address] = source_line;
  }
}

void Machine::Snapshot() {
  if (context_ == nullptr) {
    uc_context* context = nullptr;
    SY_CHECK(uc_context_alloc(uc_, &context) == UC_ERR_OK);
    context_ = context;
  }
  SY_CHECK(uc_context_save(uc_, static_cast<uc_context*>(context_)) == UC_ERR_OK);
  snapshot_.resize(memory_size_);
  SY_CHECK(uc_mem_read(uc_, memory_base_, snapshot_.data(), memory_size_) == UC_ERR_OK);
}

void Machine::Restore() {
  SY_CHECK(context_ != nullptr);
  SY_CHECK(uc_context_restore(uc_, static_cast<uc_context*>(context_)) == UC_ERR_OK);
  scratch_.resize(memory_size_);
  SY_CHECK(uc_mem_read(uc_, memory_base_, scratch_.data(), memory_size_) == UC_ERR_OK);
  constexpr uint64_t kPage = 4096;
  for (uint64_t offset = 0; offset < memory_size_; offset += kPage) {
    if (std::memcmp(scratch_.data() + offset, snapshot_.data() + offset, kPage) != 0) {
      SY_CHECK(uc_mem_write(uc_, memory_base_ + offset, snapshot_.data() + offset, kPage) ==
               UC_ERR_OK);
    }
  }
  step_hook_ = nullptr;
  memory_hooks_.clear();
  current_instruction_ = 0;
  store_value_ = 0;
  instructions_ = 0;
  remaining_ = 0;
  hypercall_ = 0;
  stop_requested_ = false;
  hypercall_pending_ = false;
  fault_.clear();
}

Machine::~Machine() {
  if (context_ != nullptr) uc_context_free(static_cast<uc_context*>(context_));
  if (capstone_ != 0) {
    csh handle = capstone_;
    cs_close(&handle);
  }
  uc_close(uc_);
}

uint64_t Machine::Reg(int id) const {
  uint64_t value = 0;
  SY_CHECK(uc_reg_read(uc_, id, &value) == UC_ERR_OK);
  if (isa_ == Isa::kI386) value &= 0xffffffffu;
  return value;
}

void Machine::SetReg(int id, uint64_t value) {
  SY_CHECK(uc_reg_write(uc_, id, &value) == UC_ERR_OK);
}

void Machine::SetTable(int id, uint64_t base, uint32_t limit) {
  uc_x86_mmr table = {};
  table.base = base;
  table.limit = limit;
  SY_CHECK(uc_reg_write(uc_, id, &table) == UC_ERR_OK);
}

uint64_t Machine::pc() const { return Reg(PcReg(isa_)); }
void Machine::set_pc(uint64_t value) { SetReg(PcReg(isa_), value); }

bool Machine::Mapped(uint64_t address, uint64_t size) const {
  return address >= memory_base_ && size <= memory_size_ &&
         address - memory_base_ <= memory_size_ - size;
}

uint32_t Machine::Read32(uint64_t address) const {
  SY_CHECK(Mapped(address, 4));
  uint32_t value;
  SY_CHECK(uc_mem_read(uc_, address, &value, 4) == UC_ERR_OK);
  return value;
}

uint64_t Machine::Read64(uint64_t address) const {
  SY_CHECK(Mapped(address, 8));
  uint64_t value;
  SY_CHECK(uc_mem_read(uc_, address, &value, 8) == UC_ERR_OK);
  return value;
}

void Machine::Write32(uint64_t address, uint32_t value) {
  SY_CHECK(Mapped(address, 4));
  SY_CHECK(uc_mem_write(uc_, address, &value, 4) == UC_ERR_OK);
}

void Machine::Write64(uint64_t address, uint64_t value) {
  SY_CHECK(Mapped(address, 8));
  SY_CHECK(uc_mem_write(uc_, address, &value, 8) == UC_ERR_OK);
}

void Machine::AddMemoryHook(uint64_t begin, uint64_t end, bool loads,
                            std::function<void(uint64_t, int, bool)> hook) {
  SY_CHECK(begin < end);
  memory_hooks_.push_back({begin, end, loads, std::move(hook)});
  if (!memory_hook_installed_) {
    // One Unicorn hook for all of them, over the whole region (the list decides).
    uc_hook handle;
    SY_CHECK(uc_hook_add(uc_, &handle, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE,
                         reinterpret_cast<void*>(&Machine::OnMemory), this, 1, 0) == UC_ERR_OK);
    memory_hook_installed_ = true;
  }
}

void Machine::OnMemory(uc_struct*, int type, uint64_t address, int size, int64_t value,
                       void* self) {
  auto* m = static_cast<Machine*>(self);
  bool store = type == UC_MEM_WRITE;
  m->store_value_ = static_cast<uint64_t>(value);
  for (const MemoryHook& h : m->memory_hooks_) {
    if ((store || h.loads) && address < h.end && address + static_cast<uint64_t>(size) > h.begin) {
      h.hook(address, size, store);
    }
  }
}

void Machine::ReadBytes(uint64_t address, void* out, uint64_t size) const {
  SY_CHECK(Mapped(address, size));
  SY_CHECK(uc_mem_read(uc_, address, out, size) == UC_ERR_OK);
}

void Machine::WriteBytes(uint64_t address, const void* bytes, uint64_t size) {
  SY_CHECK(Mapped(address, size));
  SY_CHECK(uc_mem_write(uc_, address, bytes, size) == UC_ERR_OK);
}

void Machine::OnCode(uc_struct*, uint64_t address, uint32_t, void* self) {
  auto* m = static_cast<Machine*>(self);
  m->current_instruction_ = address;
  if (m->stop_requested_) return;  // already stopping: this instruction will not execute
  if (m->remaining_ == 0) {
    m->stop_requested_ = true;
    uc_emu_stop(m->uc_);
    return;
  }
  if (m->step_hook_) {
    m->step_hook_(address);
    if (m->stop_requested_) return;
  }
  --m->remaining_;
  ++m->instructions_;
}

void Machine::OnInterrupt(uc_struct*, uint32_t number, void* self) {
  static_cast<Machine*>(self)->interrupt_ = number;
  static_cast<Machine*>(self)->HypercallStop();
}

void Machine::OnSyscall(uc_struct*, void* self) {
  static_cast<Machine*>(self)->interrupt_ = ~0u;
  static_cast<Machine*>(self)->HypercallStop();
}

void Machine::HypercallStop() {
  hypercall_pending_ = true;
  hypercall_ = Reg(HypercallReg(isa_));
  stop_requested_ = true;
  uc_emu_stop(uc_);
}

void Machine::Stop() {
  stop_requested_ = true;
  uc_emu_stop(uc_);
}

StopReason Machine::Run(uint64_t count) {
  SY_CHECK(count >= 1);
  remaining_ = count;
  stop_requested_ = false;
  hypercall_pending_ = false;
  uint64_t start = pc();
  // until = an address never reached; no timeout (wall clock) and no count: OnCode counts.
  uc_err err = uc_emu_start(uc_, start, 0xffffffffffffffffull, 0, 0);
  if (err != UC_ERR_OK) {
    char buffer[160];
    std::snprintf(buffer, sizeof buffer, "%s at %s", uc_strerror(err), Where(pc()).c_str());
    fault_ = buffer;
    return StopReason::kFault;
  }
  if (hypercall_pending_) {
    return StopReason::kHypercall;
  }
  if (remaining_ == 0 && !stop_requested_) return StopReason::kCountExhausted;
  if (remaining_ == 0) return StopReason::kCountExhausted;
  return StopReason::kStopped;
}

std::string Machine::Disassemble(uint64_t address) const {
  if (capstone_ != 0 && Mapped(address, 1)) {
    uint8_t bytes[16] = {};
    uint64_t n = std::min<uint64_t>(16, memory_base_ + memory_size_ - address);
    SY_CHECK(uc_mem_read(uc_, address, bytes, n) == UC_ERR_OK);
    cs_insn* insn = nullptr;
    size_t count = cs_disasm(capstone_, bytes, n, address, 1, &insn);
    if (count == 0) return "?";
    std::string text = insn[0].mnemonic;
    if (insn[0].op_str[0] != '\0') text += std::string(" ") + insn[0].op_str;
    cs_free(insn, count);
    return text;
  }
  auto it = listing_.find(address);
  return it == listing_.end() ? "?" : it->second;
}

uint64_t Machine::InstructionLength(uint64_t address) const {
  if (capstone_ == 0 || !Mapped(address, 1)) return 1;
  uint8_t bytes[16] = {};
  uint64_t n = std::min<uint64_t>(16, memory_base_ + memory_size_ - address);
  SY_CHECK(uc_mem_read(uc_, address, bytes, n) == UC_ERR_OK);
  cs_insn* insn = nullptr;
  size_t count = cs_disasm(capstone_, bytes, n, address, 1, &insn);
  if (count == 0) return 1;
  uint64_t size = insn[0].size;
  cs_free(insn, count);
  return size;
}

std::string Machine::SourceLine(uint64_t address) const {
  auto it = lines_.find(address);
  return it == lines_.end() ? "" : it->second;
}

std::string Machine::Where(uint64_t address) const {
  char buffer[64];
  if (const Symbol* s = elf_.FunctionAt(address)) {
    std::snprintf(buffer, sizeof buffer, "+%llu",
                  static_cast<unsigned long long>(address - s->address));
    return s->name + buffer;
  }
  const Symbol* label = nullptr;  // nearest assembly label at or below the address
  for (const Symbol& s : elf_.symbols()) {
    if (s.address <= address && !s.is_function && s.size == 0) label = &s;
  }
  if (label != nullptr && address - label->address < 256) {
    std::snprintf(buffer, sizeof buffer, "+%llu",
                  static_cast<unsigned long long>(address - label->address));
    return label->name + buffer;
  }
  std::snprintf(buffer, sizeof buffer, "%#llx", static_cast<unsigned long long>(address));
  return buffer;
}

}  // namespace switchyard::emu
