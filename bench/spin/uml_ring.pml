/* User-Mode Linux's (2000) mm_struct change ring for SPIN: NPROC host processes share one mm;
 * the running one touches (maps) or unmaps pages of it, and an unmap is appended to the mm's
 * ring of N slots (the slot is count % N; count is absolute). The tracing thread switches
 * between processes; a process switched to catches its host address space up: when more than N
 * changes are unseen the ring has wrapped and it rescans every page, else it replays the unseen
 * slots. Each process does ACTIONS actions (default N + 1, enough for one process to fall a
 * whole lap behind while another works). It is the configuration //search:verify_uml_*_test
 * checks with --strategy=dfs (processes with one mm, a ring of N slots), reduced to the ring.
 *
 * Checked (assertion, no-lost-unmaps): after catching up, no page is mapped in the process's
 * host address space that the mm does not map. The planted bugs:
 *   WRAP_OFF_BY_ONE   the wrap test is unseen > N + 1: with N + 1 unseen the oldest is skipped;
 *   POSITION_MODULO   the position kept is count % N: a full lap behind looks up to date.
 *
 *   spin -DNPROC=2 -DN=2 -a uml_ring.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan
 */
#ifndef NPROC
#define NPROC 2
#endif
#ifndef N
#define N 2
#endif
#ifndef ACTIONS
#define ACTIONS (N + 1)
#endif
#define NPAGES 2

bit mapped[NPAGES];         /* the mm's page table */
bit host[NPROC * NPAGES];   /* host[p * NPAGES + x]: page x mapped in process p's host space */
byte ring[N];               /* the page each slot unmapped */
byte count;                 /* changes ever appended (absolute) */
byte seen[NPROC];           /* each process's position: absolute, or count % N with the bug */
byte cur;                   /* the process the tracing thread let run */
bit finished[NPROC];

/* switch_mm on the way in: bring process p's host address space up to date. */
inline catch_up(p) {  /* uses the caller's unseen, i and x */
#ifdef POSITION_MODULO
  unseen = (count % N + N - seen[p]) % N;  /* slot indexes only: never rescans */
  i = count - unseen;
#else
  unseen = count - seen[p];
#ifdef WRAP_OFF_BY_ONE
  if
  :: unseen > N + 1 -> i = 255
  :: else -> i = seen[p]
  fi;
#else
  if
  :: unseen > N -> i = 255
  :: else -> i = seen[p]
  fi;
#endif
#endif
  if
  :: i == 255 ->  /* wrapped: rescan every page */
     x = 0;
     do
     :: x < NPAGES -> host[p * NPAGES + x] = host[p * NPAGES + x] & mapped[x]; x++
     :: x == NPAGES -> break
     od
  :: else ->  /* replay the unseen slots */
     do
     :: i < count -> host[p * NPAGES + ring[i % N]] = 0; i++
     :: i == count -> break
     od
  fi;
#ifdef POSITION_MODULO
  seen[p] = count % N;
#else
  seen[p] = count;
#endif
  x = 0;
  do
  :: x < NPAGES -> assert(!host[p * NPAGES + x] || mapped[x]); x++  /* no lost unmaps */
  :: x == NPAGES -> break
  od
}

/* The tracing thread stops p and continues another process that has not finished. */
inline switch_from(p) {
  atomic {
    if
    :: finished[0] == 0 && 0 != p -> cur = 0
    :: NPROC > 1 && finished[1] == 0 && 1 != p -> cur = 1
    :: NPROC > 2 && finished[2] == 0 && 2 != p -> cur = 2
    :: NPROC > 3 && finished[3] == 0 && 3 != p -> cur = 3
    :: else -> cur = (finished[p] -> 255 : p)  /* nobody else left */
    fi
  }
}

proctype process(byte p) {
  byte k = 0, x, i, unseen;
  cur == p;
  catch_up(p);
  do
  :: k < ACTIONS ->
     if
     :: x = 0
     :: x = 1
     fi;
     if
     :: mapped[x] = 1; host[p * NPAGES + x] = 1  /* a fault maps the page here */
     :: mapped[x] == 1 ->                         /* munmap or reclaim */
        atomic { mapped[x] = 0; host[p * NPAGES + x] = 0; ring[count % N] = x; count++ }
     fi;
     k++;
     if
     :: skip
     :: switch_from(p); cur == p; catch_up(p)  /* preempted by a tick */
     fi
  :: k == ACTIONS -> break
  od;
  finished[p] = 1;
  switch_from(p)
}

init {
  byte i;
  atomic {
    cur = 0;
    i = 0;
    do
    :: i < NPROC -> run process(i); i++
    :: i == NPROC -> break
    od
  }
}
