// switchyard's stand-in for xv6's user/user.h: what ulib.c provides to a threads program. The
// system calls that make no sense for one process without a file system (fork, exec, pipe,
// open, ...) are deliberately absent: a program that calls one fails to link, and switchyard
// names the function.
#ifndef SWITCHYARD_ULIB_USER_USER_H_
#define SWITCHYARD_ULIB_USER_USER_H_
struct stat;

// System calls, served by the host.
int exit(int) __attribute__((noreturn));
int write(int, const void*, int);
int read(int, void*, int);
int close(int);
int getpid(void);
char* sbrk(int);
int sleep(int);
int uptime(void);
int sigalarm(int ticks, void (*handler)(void));  // xv6's alarm lab
int sigreturn(void);

// ulib.c
int stat(const char*, struct stat*);
char* strcpy(char*, const char*);
void* memmove(void*, const void*, int);
char* strchr(const char*, char c);
int strcmp(const char*, const char*);
void fprintf(int, const char*, ...);
void printf(const char*, ...);
char* gets(char*, int max);
uint strlen(const char*);
void* memset(void*, int, uint);
void* malloc(uint);
void free(void*);
int atoi(const char*);
int memcmp(const void*, const void*, uint);
void* memcpy(void*, const void*, uint);
#endif
