#include "sim/module.h"

#include <dlfcn.h>
#include <link.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sim/instrumentation.h"

namespace switchyard::sim {
namespace {

struct Segments {
  uintptr_t load_address = 0;
  bool found = false;
  std::vector<std::pair<uintptr_t, size_t>> writable;   // PT_LOAD with PF_W
  std::vector<std::pair<uintptr_t, size_t>> read_only;  // other PT_LOAD
  uintptr_t relro_begin = 0, relro_end = 0;
};

int CollectSegments(dl_phdr_info* info, size_t, void* data) {
  auto* s = static_cast<Segments*>(data);
  if (info->dlpi_addr != s->load_address) return 0;
  s->found = true;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_GNU_RELRO) {
      s->relro_begin = begin;
      s->relro_end = begin + ph.p_memsz;
    } else if (ph.p_type == PT_LOAD) {
      ((ph.p_flags & PF_W) != 0 ? s->writable : s->read_only).emplace_back(begin, ph.p_memsz);
    }
  }
  return 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Module>> Module::Load(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = dlerror();
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load ", path, ": ", error != nullptr ? error : "dlopen failed"));
  }
  link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) {
    return absl::InternalError(absl::StrCat("cannot find where ", path, " was loaded"));
  }
  Segments segments;
  segments.load_address = map->l_addr;
  dl_iterate_phdr(&CollectSegments, &segments);
  if (!segments.found) {
    return absl::InternalError(absl::StrCat("cannot find the segments of ", path));
  }
  // The writable data outside RELRO: what the code itself writes.
  std::vector<std::pair<uintptr_t, uintptr_t>> data;
  for (auto [begin, size] : segments.writable) {
    uintptr_t end = begin + size;
    if (segments.relro_end > begin && segments.relro_begin < end) {
      if (segments.relro_begin > begin) data.emplace_back(begin, segments.relro_begin);
      begin = segments.relro_end;
    }
    if (end > begin) data.emplace_back(begin, end);
  }
  if (data.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " has ", data.size(),
                     " writable segments outside RELRO, not one: link it with -shared "
                     "-Wl,-z,relro,-z,now"));
  }
  auto module = std::unique_ptr<Module>(new Module());
  module->path_ = path;
  module->handle_ = handle;
  module->load_address_ = map->l_addr;
  module->data_begin_ = data[0].first;
  module->snapshot_.resize(data[0].second - data[0].first);
  std::memcpy(module->snapshot_.data(), reinterpret_cast<const void*>(module->data_begin_),
              module->snapshot_.size());
  const char* base = std::strrchr(path.c_str(), '/');
  try {
    Instrumentation::RegisterRegion(module->data_begin_, module->snapshot_.size(),
                                    absl::StrCat(base != nullptr ? base + 1 : path, " data"));
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(e.what());
  }
  for (auto [begin, size] : segments.read_only) Instrumentation::DeclarePrivate(begin, size);
  if (segments.relro_end > segments.relro_begin) {
    Instrumentation::DeclarePrivate(segments.relro_begin,
                                    segments.relro_end - segments.relro_begin);
  }
  return module;
}

void* Module::Symbol(const char* name) const { return dlsym(handle_, name); }

void Module::Snapshot() {
  std::memcpy(snapshot_.data(), reinterpret_cast<const void*>(data_begin_), snapshot_.size());
  for (Memory& m : memories_) {
    std::memcpy(m.snapshot.data(), reinterpret_cast<const void*>(m.begin), m.snapshot.size());
  }
}

void Module::Reset() {
  std::memcpy(reinterpret_cast<void*>(data_begin_), snapshot_.data(), snapshot_.size());
  for (const Memory& m : memories_) {
    std::memcpy(reinterpret_cast<void*>(m.begin), m.snapshot.data(), m.snapshot.size());
  }
}

absl::Status Module::AddMemory(uintptr_t begin, size_t size, const std::string& name) {
  try {
    Instrumentation::RegisterRegion(begin, size, name);
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(e.what());
  }
  Memory& m = memories_.emplace_back(Memory{begin, std::vector<unsigned char>(size)});
  std::memcpy(m.snapshot.data(), reinterpret_cast<const void*>(begin), size);
  return absl::OkStatus();
}

}  // namespace switchyard::sim
