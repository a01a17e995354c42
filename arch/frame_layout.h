// Byte offsets of the frame that switchyard_jump_context pushes on a stack it leaves. Shared by
// the assembly (jump_*.S, which include this file through the C preprocessor) and by context.h
// and context.cc, which build a context's first frame and check these numbers with
// static_asserts. Only #defines: an assembler reads this file.
#ifndef SWITCHYARD_ARCH_FRAME_LAYOUT_H_
#define SWITCHYARD_ARCH_FRAME_LAYOUT_H_

#if defined(__x86_64__)

// x86-64 System V: the six callee-saved general-purpose registers, pushed in the order rbp, rbx,
// r12, r13, r14, r15, below the return address that the `call` into the switch pushed. A saved
// stack pointer points at the r15 slot.
#define SWITCHYARD_FRAME_R15 0
#define SWITCHYARD_FRAME_R14 8
#define SWITCHYARD_FRAME_R13 16
#define SWITCHYARD_FRAME_R12 24
#define SWITCHYARD_FRAME_RBX 32
#define SWITCHYARD_FRAME_RBP 40
#define SWITCHYARD_FRAME_RETURN_ADDRESS 48
#define SWITCHYARD_FRAME_BYTES 56

// Where MakeContext puts what the start trampoline needs in a new context's first frame.
#define SWITCHYARD_FRAME_START_ENTRY SWITCHYARD_FRAME_R12
#define SWITCHYARD_FRAME_START_ARG SWITCHYARD_FRAME_R13
#define SWITCHYARD_FRAME_START_NAME SWITCHYARD_FRAME_R14
#define SWITCHYARD_FRAME_FRAME_POINTER SWITCHYARD_FRAME_RBP

#elif defined(__aarch64__)

// AArch64 AAPCS64: d8-d15 (the low halves of v8-v15, the only callee-saved FP state), x19-x28,
// the frame pointer x29 and the link register x30. A saved stack pointer points at the d8 slot.
#define SWITCHYARD_FRAME_D8 0
#define SWITCHYARD_FRAME_D10 16
#define SWITCHYARD_FRAME_D12 32
#define SWITCHYARD_FRAME_D14 48
#define SWITCHYARD_FRAME_X19 64
#define SWITCHYARD_FRAME_X20 72
#define SWITCHYARD_FRAME_X21 80
#define SWITCHYARD_FRAME_X23 96
#define SWITCHYARD_FRAME_X25 112
#define SWITCHYARD_FRAME_X27 128
#define SWITCHYARD_FRAME_X29 144
#define SWITCHYARD_FRAME_RETURN_ADDRESS 152
#define SWITCHYARD_FRAME_BYTES 160

#define SWITCHYARD_FRAME_START_ENTRY SWITCHYARD_FRAME_X19
#define SWITCHYARD_FRAME_START_ARG SWITCHYARD_FRAME_X20
#define SWITCHYARD_FRAME_START_NAME SWITCHYARD_FRAME_X21
#define SWITCHYARD_FRAME_FRAME_POINTER SWITCHYARD_FRAME_X29

#else
#error "switchyard/arch: no context switch for this architecture (have x86-64 and AArch64)"
#endif

#endif  // SWITCHYARD_ARCH_FRAME_LAYOUT_H_
