/* The platform of code under test: what a kernel needs from its CPU, for C and C++.
 *
 * Code under test (a kernel compiled with -fsanitize=thread into a module, sim/module.h) reaches
 * its "hardware" only through these functions; a port to a kernel is a directory of headers that
 * map the kernel's own names onto them (xv6: intr_on -> sy_intr_on, r_tp -> sy_cpuid, swtch ->
 * sy_swtch). The host side (sim/platform_host.h) binds them to the running simulator.
 *
 * Every CPU-state operation here is a point while the calling vCPU has interrupts on, because
 * real hardware can take an interrupt between any two instructions, also between two that touch
 * no memory (reading tp and then turning interrupts off, say). With interrupts off, reading the
 * CPU id or the interrupt state is not a point: nothing can move the thread or interrupt it.
 *
 * Threads and contexts. A struct sy_context is a saved kernel thread. sy_swtch(old, new) saves
 * the running thread into *old and resumes the thread saved in *new on this vCPU; it returns
 * when some vCPU switches back to *old. A context that was never saved by sy_swtch (its `entry`
 * is not SY_SAVED, as after a kernel's memset and `ctx.entry = forkret`) starts a NEW thread
 * that calls entry(); each context address has its own fiber (a kernel stack), so starting a
 * context again while its previous thread still runs is the violation
 * "stack-reused-while-running", and resuming a context whose thread runs elsewhere is
 * "one-thread-per-core". Thread entry functions must not return ("fiber-returned").
 *
 * Errors end the run as violations: sy_panic(msg) is the violation "panic" with the message and
 * the caller's code address (views show it as file:line); sy_panic_at(msg, pc) names `pc`
 * instead, for a port's panic() that passes on its own caller (__builtin_return_address(0));
 * sy_fail(invariant, msg) is any named safety violation. None returns.
 */
#ifndef SWITCHYARD_SIM_PLATFORM_H_
#define SWITCHYARD_SIM_PLATFORM_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The value of sy_context.entry after sy_swtch saved a thread into it. */
#define SY_SAVED ((uintptr_t)1)

struct sy_context {
  uintptr_t entry; /* SY_SAVED, or a function void entry(void) that starts a new thread */
  uintptr_t token; /* the platform's: which thread was saved here */
};

/* ---- CPU state ---- */
int sy_cpuid(void);    /* the running vCPU, 0..cpus-1 (RISC-V tp, x86 APIC id) */
int sy_intr_get(void); /* 1 when the running vCPU has interrupts enabled (sstatus.SIE) */
void sy_intr_on(void);
void sy_intr_off(void);
/* Stops this vCPU until an interrupt is pending for it (RISC-V wfi, x86 hlt). */
void sy_wfi(void);
/* A point for an operation on the running vCPU's own registers (a CSR read or write) that has
 * no function of its own here; `write`: it changes them. Not a point with interrupts off.
 * Returns the vCPU (after the point: the thread may have been interrupted there). */
int sy_cpu_state_point(int write); /* returns the running vCPU, as sy_cpuid */
/* One failed iteration of a spin-wait that reads without an atomic read-modify-write: lets
 * another vCPU run (optional: failed test-and-set and compare-and-swap count by themselves). */
void sy_spin(void);

/* ---- Threads ---- */
void sy_swtch(struct sy_context* old_context, struct sy_context* new_context);

/* Abandons every frame of the running thread and calls fn() at the top of its stack, as a trap
 * vector does when it loads the kernel stack pointer (RISC-V uservec: a trap from user mode
 * starts on an empty kernel stack). fn must not return. */
__attribute__((noreturn)) void sy_reenter(void (*fn)(void));

/* ---- Interrupts and devices ---- */
/* The trap entry that the timer (line 0) and external interrupts (lines 1..31) call, on the
 * interrupted thread's stack with interrupts off; interrupts are on again when it returns (as
 * sret does). Set once, before the run. */
void sy_set_trap(void (*trap)(int line));
/* The device side: calls fire(arg) after `delay` ticks of virtual time, outside any thread (no
 * points, no switches; it may call sy_raise). */
void sy_after(uint64_t delay, void (*fire)(void* arg), void* arg);
/* Raises external interrupt line 1..31 until a vCPU with interrupts on takes it. */
void sy_raise(int line);
/* Virtual time in ticks. */
uint64_t sy_now(void);

/* ---- Outcomes and the trace ---- */
__attribute__((noreturn)) void sy_panic(const char* message);
__attribute__((noreturn)) void sy_panic_at(const char* message, const void* pc);
__attribute__((noreturn)) void sy_fail(const char* invariant, const char* message);
/* The workload completed: the run ends as a pass (checkers permitting). */
__attribute__((noreturn)) void sy_finish(void);
/* The code did useful work (resets the no-progress budget). */
void sy_progress(void);
/* Counts a visit to a rare interleaving; `site` must be a string literal. */
void sy_mark(const char* site);
/* Records an event in the trace; `label` must be a string literal. */
void sy_note(const char* label, uint64_t a, uint64_t b);

/* A choice among `options` (1..2^32-1) values, 0..options-1, from the run's decider: what a
 * simulated user program does next. `stream` names the choice (a string literal); each name is
 * its own stream of the decider, so adding choices of one kind leaves the others unchanged. */
uint64_t sy_choose(const char* stream, uint64_t options);

/* ---- Memory ---- */
/* Declares [address, address + size) private: its accesses are never points (a CPU's own
 * state that only it and its interrupt handlers touch). Call before the run. */
void sy_private(const void* address, uint64_t size);

#ifdef __cplusplus
}
#endif

#endif /* SWITCHYARD_SIM_PLATFORM_H_ */
