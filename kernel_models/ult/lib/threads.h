/* The cooperative user-level threads library, as the seed describes it: threads sit in a ring of
 * struct context; release() returns at once if only one thread exists, otherwise advances
 * `current` and calls switch_context(current->prev, current). The seed's switch_context saves and
 * loads only ebp and relies on its own epilogue (mov %ebp,%esp; pop %ebp; ret) to move the stack
 * (SWITCH_EBP_ONLY); the correct variant saves the callee-saved registers and esp, as
 * Boost.Context's i386 jump_fcontext does (SWITCH_SAVE_REGISTERS, switch_i386.S).
 *
 * The host reads these structures from emulated memory; the layout below is a contract with
 * kernel_models/ult/machine_model.cc (offsets in the comments). */
#ifndef ULT_THREADS_H
#define ULT_THREADS_H

#define MAX_THREADS 4
#define STACK_SIZE 4096

enum { FREE = 0, RUNNABLE = 1, ZOMBIE = 2 };

struct context {
  unsigned ebp;         /* 0: the ebp-only switch's whole saved state */
  unsigned esp;         /* 4: the register-saving switch's saved stack pointer */
  struct context* next; /* 8 */
  struct context* prev; /* 12 */
  int id;               /* 16: slot number; stack is stacks[id] */
  int state;            /* 20 */
  void (*fn)(int);      /* 24 */
  int arg;              /* 28 */
};

extern struct context contexts[MAX_THREADS];
extern struct context* current;
extern int threadcount;
extern volatile int sigblocked; /* the host delivers the timer signal only when 0 */

void release(void);
void switch_context(struct context* from, struct context* to);
int thread_create(void (*fn)(int), int arg);
void thread_exit(void);
void threads_init(void);

#endif
