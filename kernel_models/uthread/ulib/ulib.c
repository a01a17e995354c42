// switchyard's stand-in for xv6's user library (user/ulib.c, user/printf.c, user/umalloc.c and
// the system call stubs of user/usys.pl), written for the uthread model: a threads program is
// linked against it and runs alone in the emulator, so system calls are hypercalls the model
// serves (ulib/hypercall.h) and printf's formatting is done by the host.
//
// Not provided on purpose: fork, exec, wait, pipe, open, kill, dup, link, unlink, mkdir, chdir,
// fstat, mknod. A program that calls one does not link, and the model names the function.
#include <stdarg.h>

#include "hypercall.h"

typedef unsigned int uint;
typedef unsigned long uptr;  // a pointer's width: 64 bits on RISC-V, 32 on i386

static long hc(long number, long a, long b, long c) {
#if defined(__riscv)
  register long a0 __asm__("a0") = a;
  register long a1 __asm__("a1") = b;
  register long a2 __asm__("a2") = c;
  register long a7 __asm__("a7") = number;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
  return a0;
#elif defined(__i386__)
  long result;
  __asm__ volatile("int $0x80" : "=a"(result) : "a"(number), "b"(a), "c"(b), "d"(c) : "memory");
  return result;
#else
#error "ulib.c: RISC-V or i386 only"
#endif
}

int main(int argc, char* argv[]);

__attribute__((noreturn)) int exit(int status) {
  hc(SY_HC_EXIT, status, 0, 0);
  for (;;) {
  }
}

// The program's entry: the model sets the stack pointer (and, on i386, a zero return address)
// before the first instruction.
static char program_name[] = "uthread";
static char* program_argv[] = {program_name, 0};
void _start(void) { exit(main(1, program_argv)); }

// The return address the model gives a thread_yield call of its own (an extra yield the program
// cannot tell from its own): the model takes over before its first instruction runs.
void sy_again(void) {
  hc(SY_HC_AGAIN, 0, 0, 0);
  exit(-2);
}

int write(int fd, const void* buffer, int bytes) {
  return (int)hc(SY_HC_WRITE, fd, (long)(uptr)buffer, bytes);
}
int read(int fd, void* buffer, int bytes) {
  (void)fd;
  (void)buffer;
  (void)bytes;
  return 0;  // standard input is empty
}
int close(int fd) {
  (void)fd;
  return 0;
}
int getpid(void) { return (int)hc(SY_HC_GETPID, 0, 0, 0); }
char* sbrk(int bytes) { return (char*)(uptr)hc(SY_HC_SBRK, bytes, 0, 0); }
int sleep(int ticks) { return (int)hc(SY_HC_SLEEP, ticks, 0, 0); }
int uptime(void) { return (int)hc(SY_HC_UPTIME, 0, 0, 0); }
int sigalarm(int ticks, void (*handler)(void)) {
  return (int)hc(SY_HC_SIGALARM, ticks, (long)(uptr)handler, 0);
}
int sigreturn(void) { return (int)hc(SY_HC_SIGRETURN, 0, 0, 0); }

void printf(const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  hc(SY_HC_PRINTF, 1, (long)(uptr)format, (long)(uptr)&ap);
  va_end(ap);
}

void fprintf(int fd, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  hc(SY_HC_PRINTF, fd, (long)(uptr)format, (long)(uptr)&ap);
  va_end(ap);
}

struct stat;
int stat(const char* path, struct stat* st) {
  (void)path;
  (void)st;
  return -1;  // no file system
}

char* strcpy(char* s, const char* t) {
  char* os = s;
  while ((*s++ = *t++) != 0) {
  }
  return os;
}

int strcmp(const char* p, const char* q) {
  while (*p && *p == *q) p++, q++;
  return (unsigned char)*p - (unsigned char)*q;
}

uint strlen(const char* s) {
  uint n = 0;
  while (s[n]) n++;
  return n;
}

void* memset(void* dst, int c, uint n) {
  char* d = (char*)dst;
  for (uint i = 0; i < n; i++) d[i] = (char)c;
  return dst;
}

char* strchr(const char* s, char c) {
  for (; *s; s++) {
    if (*s == c) return (char*)s;
  }
  return 0;
}

char* gets(char* buffer, int max) {
  if (max > 0) buffer[0] = '\0';  // standard input is empty
  return buffer;
}

int atoi(const char* s) {
  int n = 0;
  while ('0' <= *s && *s <= '9') n = n * 10 + *s++ - '0';
  return n;
}

void* memmove(void* dst, const void* src, int n) {
  char* d = (char*)dst;
  const char* s = (const char*)src;
  if (s > d) {
    while (n-- > 0) *d++ = *s++;
  } else {
    d += n;
    s += n;
    while (n-- > 0) *--d = *--s;
  }
  return dst;
}

int memcmp(const void* s1, const void* s2, uint n) {
  const unsigned char* a = (const unsigned char*)s1;
  const unsigned char* b = (const unsigned char*)s2;
  for (uint i = 0; i < n; i++) {
    if (a[i] != b[i]) return a[i] - b[i];
  }
  return 0;
}

void* memcpy(void* dst, const void* src, uint n) { return memmove(dst, src, (int)n); }

// malloc and free: a first-fit list of free blocks sorted by address, coalesced on free, grown
// with sbrk. Blocks are 16-byte aligned on both architectures.
struct block {
  uptr bytes;  // the block's size including this header
  struct block* next;
} __attribute__((aligned(16)));

static struct block* free_blocks;

void free(void* p) {
  if (p == 0) return;
  struct block* b = (struct block*)p - 1;
  struct block** link = &free_blocks;
  while (*link != 0 && *link < b) link = &(*link)->next;
  b->next = *link;
  *link = b;
  if (b->next != 0 && (char*)b + b->bytes == (char*)b->next) {
    b->bytes += b->next->bytes;
    b->next = b->next->next;
  }
  if (link != &free_blocks) {
    struct block* before = (struct block*)((char*)link - __builtin_offsetof(struct block, next));
    if ((char*)before + before->bytes == (char*)b) {
      before->bytes += b->bytes;
      before->next = b->next;
    }
  }
}

void* malloc(uint n) {
  uptr want = ((uptr)n + sizeof(struct block) + 15) & ~(uptr)15;
  for (int attempt = 0; attempt < 2; attempt++) {
    for (struct block** link = &free_blocks; *link != 0; link = &(*link)->next) {
      struct block* b = *link;
      if (b->bytes < want) continue;
      if (b->bytes - want >= 2 * sizeof(struct block)) {
        struct block* rest = (struct block*)((char*)b + want);
        rest->bytes = b->bytes - want;
        rest->next = b->next;
        *link = rest;
        b->bytes = want;
      } else {
        *link = b->next;
      }
      return b + 1;
    }
    uptr grow = want < 4096 ? 4096 : want;
    char* more = sbrk((int)grow);
    if (more == (char*)-1) return 0;
    struct block* b = (struct block*)more;
    b->bytes = grow;
    free(b + 1);
  }
  return 0;
}
