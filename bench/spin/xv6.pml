/* xv6-riscv's scheduler, sleep and wakeup (kernel/proc.c) for SPIN: NCPU per-CPU scheduler
 * loops and NPROC = NCHILD + 1 processes. The parent sleeps in sleep(&done, &lk) until each
 * child has incremented `done` under lk and called wakeup(&done); then every process exits.
 * It is the configuration //search:verify_xv6_test checks with --strategy=dfs (init waits for
 * its children), reduced to the locking and the state machine: no traps, timers or pages.
 *
 * The context switch is a hand-off: the scheduler sets run_on[p] and waits for back[c]; the
 * process runs while run_on[p] says so and, in sched(), gives the CPU back. onstack[p] is
 * "some CPU is on p's kernel stack": set when a scheduler switches to p, cleared by p's own
 * swtch back. Checked:
 *   - assertion: a scheduler never switches to a process whose stack another CPU is still on
 *     (the planted bug SCHED_RELEASES_EARLY: sched() releases p->lock before swtch);
 *   - invalid end state: a lost wakeup leaves the parent asleep with every scheduler idle
 *     (the planted bug WAKEUP_WITHOUT_LOCK: wakeup() tests the state before taking p->lock).
 *
 *   spin -DNCPU=2 -DNCHILD=1 -a xv6.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan
 */
#ifndef NCPU
#define NCPU 2
#endif
#ifndef NCHILD
#define NCHILD 1
#endif
#define NPROC (NCHILD + 1)

mtype = { RUNNABLE, RUNNING, SLEEPING, ZOMBIE };

mtype state[NPROC];
bit plock[NPROC];    /* p->lock */
bit pchan[NPROC];     /* p->chan == &done */
bit onstack[NPROC];
byte run_on[NPROC];  /* 0: not running; c + 1: running on CPU c */
bit back[NCPU];      /* the process running on CPU c switched back to its scheduler */
bit lk;              /* the condition's spinlock */
byte done;

inline acquire(l) { atomic { l == 0 -> l = 1 } }  /* amoswap loop; push_off is implicit */
inline release(l) { l = 0 }

/* sched(): holding p->lock, with p->state changed, switch to this CPU's scheduler. Returns
 * when a scheduler switches back (holding p->lock for us). */
inline sched(p) {
  c = run_on[p] - 1;
#ifdef SCHED_RELEASES_EARLY
  release(plock[p]);
#endif
  atomic { onstack[p] = 0; run_on[p] = 0; back[c] = 1 }  /* swtch(&p->context, &c->context) */
  run_on[p] != 0
}

inline wakeup_parent() {
#ifdef WAKEUP_WITHOUT_LOCK
  if
  :: state[0] == SLEEPING && pchan[0] -> acquire(plock[0]); state[0] = RUNNABLE; release(plock[0])
  :: else -> skip
  fi
#else
  acquire(plock[0]);
  if
  :: state[0] == SLEEPING && pchan[0] -> state[0] = RUNNABLE
  :: else -> skip
  fi;
  release(plock[0])
#endif
}

/* exit(): the process becomes a zombie and switches away for good. */
inline exit_(p) {
  acquire(plock[p]);
  state[p] = ZOMBIE;
  c = run_on[p] - 1;
#ifdef SCHED_RELEASES_EARLY
  release(plock[p]);
#endif
  atomic { onstack[p] = 0; run_on[p] = 0; back[c] = 1 }
}

proctype parent() {
  byte c;
  run_on[0] != 0;
  release(plock[0]);  /* forkret */
  acquire(lk);
  do
  :: done == NCHILD -> break
  :: else ->
     /* sleep(&done, &lk) */
     acquire(plock[0]);
     release(lk);
     pchan[0] = 1;
     state[0] = SLEEPING;
     sched(0);
     pchan[0] = 0;
     release(plock[0]);
     acquire(lk)
  od;
  release(lk);
  exit_(0)
}

proctype child(byte p) {
  byte c;
  run_on[p] != 0;
  release(plock[p]);  /* forkret */
  acquire(lk);
  done++;
  wakeup_parent();
  release(lk);
  exit_(p)
}

#if NPROC == 2
#define ANY_RUNNABLE (state[0] == RUNNABLE || state[1] == RUNNABLE)
#elif NPROC == 3
#define ANY_RUNNABLE (state[0] == RUNNABLE || state[1] == RUNNABLE || state[2] == RUNNABLE)
#elif NPROC == 4
#define ANY_RUNNABLE (state[0] == RUNNABLE || state[1] == RUNNABLE || state[2] == RUNNABLE || \
                      state[3] == RUNNABLE)
#else
#error "NCHILD must be 1, 2 or 3"
#endif

proctype scheduler(byte c) {
  byte p;
  do
  :: true ->
end: ANY_RUNNABLE;  /* wfi: idle until something can run (idle is a valid end) */
     p = 0;
     do
     :: p < NPROC ->
        acquire(plock[p]);
        if
        :: state[p] == RUNNABLE ->
           assert(!onstack[p]);  /* one CPU per kernel stack */
           state[p] = RUNNING;
           atomic { onstack[p] = 1; run_on[p] = c + 1 }  /* swtch(&c->context, &p->context) */
           back[c] == 1;
           back[c] = 0;
#ifdef SCHED_RELEASES_EARLY
           acquire(plock[p]);  /* as the C++ model does, so the release below is balanced */
#endif
        :: else -> skip
        fi;
        release(plock[p]);
        p++
     :: p == NPROC -> break
     od
  od
}

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < NPROC -> state[i] = RUNNABLE; i++
    :: i == NPROC -> break
    od;
    run parent();
    i = 1;
    do
    :: i < NPROC -> run child(i); i++
    :: i == NPROC -> break
    od;
    i = 0;
    do
    :: i < NCPU -> run scheduler(i); i++
    :: i == NCPU -> break
    od
  }
}
