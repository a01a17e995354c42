// switchyard's stand-in for xv6's kernel/types.h, for threads programs built outside an xv6
// tree (an xv6 tree's own header comes first on the include path).
#ifndef SWITCHYARD_ULIB_KERNEL_TYPES_H_
#define SWITCHYARD_ULIB_KERNEL_TYPES_H_
typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;
typedef unsigned char uint8;
typedef unsigned short uint16;
typedef unsigned int uint32;
typedef unsigned long long uint64;
#endif
