/* The threads library. Compiled freestanding for i386 by kernel_models/ult/BUILD at several
 * optimisation levels; planted bugs are selected with -DBUG_*. */
#include "threads.h"

#include "hypercall.h"

#ifdef SWITCH_NOINLINE
#define SWITCH_ATTRIBUTES __attribute__((noinline))
#else
#define SWITCH_ATTRIBUTES
#endif

struct context contexts[MAX_THREADS];
struct context *current;
int threadcount;
/* Blocked until threads_init has built the ring: a signal before that would find current and
 * threadcount unset (the preemptive runs found exactly that). */
volatile int sigblocked = 1;
unsigned char stacks[MAX_THREADS][STACK_SIZE] __attribute__((aligned(16)));

/* Critical sections against the timer signal's handler (which calls release()). The memory
 * clobbers keep the compiler from moving the ring's plain stores out of the section (a volatile
 * store alone orders only volatile accesses). */
static inline void block(void) {
#ifndef BUG_SIGNAL_RACE
  sigblocked = 1;
  __asm__ volatile("" : : : "memory");
#endif
}
static inline void unblock(void) {
#ifndef BUG_SIGNAL_RACE
  __asm__ volatile("" : : : "memory");
  sigblocked = 0;
#endif
}

#ifdef SWITCH_EBP_ONLY
/* The seed's switch: save ebp in from, load ebp from to, and let the epilogue
 * (mov %ebp,%esp; pop %ebp; ret, or leave; ret) move the stack to the frame ebp now names. The
 * local gives the function a stack frame, which is what makes the compiler emit that epilogue;
 * -DSWITCH_NO_LOCAL measures the same switch without it. */
SWITCH_ATTRIBUTES void switch_context(struct context *from, struct context *to) {
#ifdef SWITCH_NO_LOCAL
  __asm__ volatile("movl %%ebp, (%0)\n\tmovl (%1), %%ebp" : : "r"(&from->ebp), "r"(&to->ebp)
                   : "memory");
#else
  struct context *volatile target = to;
  __asm__ volatile("movl %%ebp, (%0)\n\tmovl (%1), %%ebp" : : "r"(&from->ebp), "r"(&target->ebp)
                   : "memory");
#endif
}
#endif
/* SWITCH_SAVE_REGISTERS: switch_context is in switch_i386.S. */

void release(void) {
#ifdef BUG_RELEASE_RETURNS_BLOCKED
  /* The fast path taken after the signal is blocked: with one thread in the ring, release()
   * returns with the timer signal still blocked, and the caller runs on without preemption until
   * some other path (thread_create, a switch) unblocks it. */
  block();
  if (threadcount == 1) return;
#else
  if (threadcount == 1) return;
  block();
#endif
  current = current->next;
  switch_context(current->prev, current);
  unblock();
}

/* A new thread starts here, returned to by switch_context's `ret` from its fabricated frame. */
__attribute__((noinline, used)) static void thread_start(void) {
  unblock();
  current->fn(current->arg);
  thread_exit();
}

static void thread_start_trap(void) {
  hypercall(HC_FAIL, FAIL_TRAP, (unsigned)current->id);
}

int thread_create(void (*fn)(int), int arg) {
  int slot;
  struct context *c;
  unsigned *top;
  block();
  for (slot = 1; slot < MAX_THREADS; slot++) {
    if (contexts[slot].state != RUNNABLE && &contexts[slot] != current) break;
  }
  if (slot == MAX_THREADS || threadcount >= MAX_THREADS) {
    unblock();
    return -1;
  }
  c = &contexts[slot];
  c->id = slot;
  c->fn = fn;
  c->arg = arg;
  c->state = RUNNABLE;
  top = (unsigned *)(stacks[slot] + STACK_SIZE);
#ifdef SWITCH_EBP_ONLY
  /* switch_context's epilogue into the new thread: esp = ebp; pop ebp (a fake 0); ret to
   * thread_start, whose own return address slot is a trap. thread_start is entered as if called:
   * (esp + 4) % 16 == 0, so ebp % 16 == 4. */
  {
    unsigned *frame = top - 7; /* trap slot = frame + 2 = top - 20 bytes; + 4 = top - 16 */
#ifdef BUG_FRAME_MISALIGNED
    frame -= 1;
#endif
    frame[0] = 0;                         /* saved ebp */
    frame[1] = (unsigned)thread_start;    /* return address */
    frame[2] = (unsigned)thread_start_trap;
    c->ebp = (unsigned)frame;
#ifdef BUG_FRAME_OFF_BY_ONE
    c->ebp = (unsigned)(frame - 1);
#endif
  }
#else
  /* switch_i386.S pops edi, esi, ebx, ebp and returns: the frame is those four words, then
   * thread_start, then the trap as thread_start's return address. At thread_start's entry
   * esp points at the trap slot and (esp + 4) % 16 == 0. */
  {
    unsigned *frame = top - 10; /* trap slot = frame + 5 = top - 20 bytes; + 4 = top - 16 */
#ifdef BUG_FRAME_MISALIGNED
    frame -= 1;
#endif
    frame[0] = 0;                      /* edi */
    frame[1] = 0;                      /* esi */
    frame[2] = 0;                      /* ebx */
    frame[3] = 0;                      /* ebp */
    frame[4] = (unsigned)thread_start; /* return address */
    frame[5] = (unsigned)thread_start_trap;
    c->esp = (unsigned)frame;
#ifdef BUG_FRAME_OFF_BY_ONE
    c->esp = (unsigned)(frame + 1);
#endif
  }
#endif
  /* Insert after current: it runs after every thread already in the ring. */
  c->next = current->next;
  c->prev = current;
  current->next->prev = c;
  current->next = c;
  threadcount++;
  unblock();
  return slot;
}

void thread_exit(void) {
  struct context *me = current;
  block();
  me->prev->next = me->next;
  me->next->prev = me->prev;
#ifndef BUG_THREADCOUNT_NOT_UPDATED
  threadcount--;
#endif
  me->state = ZOMBIE;
#ifdef BUG_REMOVE_RUNNING
  /* Unlinked while it runs, then leaves through release(): release switches from current->prev,
   * which is no longer this thread. */
  release();
#else
  current = me->next;
  switch_context(me, current);
#endif
  hypercall(HC_FAIL, FAIL_RING, (unsigned)me->id);
}

void threads_init(void) {
  current = &contexts[0];
  current->id = 0;
  current->state = RUNNABLE;
  current->next = current;
  current->prev = current;
  threadcount = 1;
  __asm__ volatile("" : : : "memory");
  sigblocked = 0; /* not unblock(): the signal-race variant must get signals too */
}
