#include "arch/emu/machine.h"

#include <unicorn/unicorn.h>

#include "arch/emu/test_i386.h"
#include "arch/emu/test_riscv64.h"
#include "arch/emu/test_x86_64.h"
#include "gtest/gtest.h"

namespace switchyard::emu {
namespace {

TEST(MachineTest, I386CountsHypercallsAndFaults) {
  Elf elf(test_i386);
  Machine m(Isa::kI386, elf, 0x10000, 0x10000);
  EXPECT_EQ(m.pc(), elf.entry());
  EXPECT_EQ(m.Disassemble(m.pc()), "xorl %ecx, %ecx");
  EXPECT_EQ(m.Run(2), StopReason::kCountExhausted);
  EXPECT_EQ(m.instructions(), 2u);
  EXPECT_EQ(m.Where(m.pc()), "loop+0");
  EXPECT_EQ(m.Run(1000), StopReason::kHypercall);
  EXPECT_EQ(m.hypercall(), 7u);
  EXPECT_EQ(m.Reg(UC_X86_REG_EBX), 3u);
  EXPECT_EQ(m.pc(), *elf.Find("after_hypercall"));
  EXPECT_EQ(m.Run(1000), StopReason::kFault);
  EXPECT_NE(m.fault().find("UC_ERR_READ_UNMAPPED"), std::string::npos) << m.fault();
}

TEST(MachineTest, StepHookStopsBeforeTheInstruction) {
  Elf elf(test_i386);
  Machine m(Isa::kI386, elf, 0x10000, 0x10000);
  uint64_t target = *elf.Find("after_hypercall");
  uint64_t seen = 0;
  m.SetStepHook([&](uint64_t address) {
    ++seen;
    if (address == *elf.Find("loop")) m.Stop();
  });
  EXPECT_EQ(m.Run(100), StopReason::kStopped);
  EXPECT_EQ(m.pc(), *elf.Find("loop"));
  EXPECT_EQ(m.instructions(), 2u);
  m.SetStepHook(nullptr);
  EXPECT_EQ(m.Run(100), StopReason::kHypercall);
  EXPECT_EQ(m.pc(), target);
  EXPECT_EQ(m.instructions(), 2u + 3 * 3 + 3);
  EXPECT_GE(seen, 3u);
}

TEST(MachineTest, SameProgramSameInstructionCount) {
  uint64_t counts[2];
  for (uint64_t& count : counts) {
    Elf elf(test_i386);
    Machine m(Isa::kI386, elf, 0x10000, 0x10000);
    while (m.Run(1) == StopReason::kCountExhausted) {
    }
    count = m.instructions();
  }
  EXPECT_EQ(counts[0], counts[1]);
}

TEST(MachineTest, Riscv64RunsAndDisassembles) {
  Elf elf(test_riscv64);
  Machine m(Isa::kRiscv64, elf, 0x80000000, 0x10000);
  m.SetReg(UC_RISCV_REG_S0, 41);
  EXPECT_EQ(m.Run(100), StopReason::kHypercall);
  EXPECT_EQ(m.hypercall(), 9u);
  EXPECT_EQ(m.Reg(UC_RISCV_REG_A0), 42u);
  EXPECT_EQ(m.pc(), *elf.Find("after_ecall"));
  EXPECT_EQ(m.Read64(*elf.Find("slot")), 41u);
  EXPECT_EQ(m.Disassemble(*elf.Find("after_ecall")).substr(0, 2), "ld");
  EXPECT_EQ(m.Run(1), StopReason::kCountExhausted);
  EXPECT_EQ(m.Reg(UC_RISCV_REG_S1), 41u);
}

TEST(MachineTest, X86_64HypercallsBothWaysAndFaults) {
  Elf elf(test_x86_64);
  Machine m(Isa::kX86_64, elf, 0x10000, 0x10000);
  EXPECT_EQ(m.Disassemble(m.pc()), "xorq %rcx, %rcx");
  EXPECT_EQ(m.Run(1000), StopReason::kHypercall);
  EXPECT_EQ(m.hypercall(), 7u);
  EXPECT_EQ(m.Reg(UC_X86_REG_RBX), 3u);
  EXPECT_EQ(m.pc(), *elf.Find("after_hypercall"));
  EXPECT_EQ(m.Run(1000), StopReason::kHypercall);
  EXPECT_EQ(m.hypercall(), 14u);
  EXPECT_EQ(m.pc(), *elf.Find("after_syscall"));
  m.SetReg(UC_X86_REG_MXCSR, 0x7f80);
  EXPECT_EQ(m.Run(1000), StopReason::kFault);
  EXPECT_EQ(m.Read32(*elf.Find("mxcsr_slot")), 0x7f80u);
  EXPECT_NE(m.fault().find("UC_ERR_READ_UNMAPPED"), std::string::npos) << m.fault();
}

}  // namespace
}  // namespace switchyard::emu
