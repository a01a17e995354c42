#include "arch/emu/elf_image.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "base/check.h"

namespace switchyard::emu {
namespace {

template <typename T>
T Read(const ElfImage& image, uint64_t offset) {
  SY_CHECK(offset + sizeof(T) <= image.size);
  T value;
  std::memcpy(&value, image.bytes + offset, sizeof(T));
  return value;
}

template <typename Ehdr, typename Phdr, typename Shdr, typename Sym>
void Parse(const ElfImage& image, uint64_t* entry, std::vector<Segment>* segments,
           std::vector<Symbol>* symbols) {
  auto ehdr = Read<Ehdr>(image, 0);
  *entry = ehdr.e_entry;
  for (unsigned i = 0; i < ehdr.e_phnum; ++i) {
    auto phdr = Read<Phdr>(image, ehdr.e_phoff + uint64_t{i} * ehdr.e_phentsize);
    if (phdr.p_type != PT_LOAD || phdr.p_memsz == 0) continue;
    SY_CHECK(phdr.p_offset + phdr.p_filesz <= image.size);
    SY_CHECK(phdr.p_filesz <= phdr.p_memsz);
    Segment segment{phdr.p_vaddr, std::vector<uint8_t>(phdr.p_memsz, 0)};
    std::memcpy(segment.bytes.data(), image.bytes + phdr.p_offset, phdr.p_filesz);
    segments->push_back(std::move(segment));
  }
  for (unsigned i = 0; i < ehdr.e_shnum; ++i) {
    auto shdr = Read<Shdr>(image, ehdr.e_shoff + uint64_t{i} * ehdr.e_shentsize);
    if (shdr.sh_type != SHT_SYMTAB) continue;
    auto strtab = Read<Shdr>(image, ehdr.e_shoff + uint64_t{shdr.sh_link} * ehdr.e_shentsize);
    for (uint64_t off = 0; off + sizeof(Sym) <= shdr.sh_size; off += sizeof(Sym)) {
      auto sym = Read<Sym>(image, shdr.sh_offset + off);
      if (sym.st_name == 0 || sym.st_shndx == SHN_UNDEF) continue;
      int type = sym.st_info & 0xf;
      if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) continue;
      uint64_t name_offset = strtab.sh_offset + sym.st_name;
      SY_CHECK(name_offset < image.size);
      const char* name = reinterpret_cast<const char*>(image.bytes + name_offset);
      size_t length = strnlen(name, image.size - name_offset);
      symbols->push_back({std::string(name, length), sym.st_value, sym.st_size, type == STT_FUNC});
    }
  }
}

}  // namespace

Elf::Elf(const ElfImage& image) {
  SY_CHECK(image.size >= EI_NIDENT && std::memcmp(image.bytes, ELFMAG, SELFMAG) == 0);
  SY_CHECK(image.bytes[EI_DATA] == ELFDATA2LSB);
  is_64_ = image.bytes[EI_CLASS] == ELFCLASS64;
  if (image.listing != nullptr) listing_ = image.listing;
  if (is_64_) {
    Parse<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr, Elf64_Sym>(image, &entry_, &segments_, &symbols_);
  } else {
    Parse<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr, Elf32_Sym>(image, &entry_, &segments_, &symbols_);
  }
  std::sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) {
    return a.address != b.address ? a.address < b.address : a.name < b.name;
  });
}

const Symbol* Elf::FindSymbol(std::string_view name) const {
  for (const Symbol& s : symbols_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<uint64_t> Elf::Find(std::string_view name) const {
  const Symbol* s = FindSymbol(name);
  if (s == nullptr) return std::nullopt;
  return s->address;
}

const Symbol* Elf::FunctionAt(uint64_t address) const {
  for (const Symbol& s : symbols_) {
    if (s.is_function && address >= s.address && address < s.address + s.size) return &s;
  }
  return nullptr;
}

}  // namespace switchyard::emu
