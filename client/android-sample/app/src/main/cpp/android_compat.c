/* android_compat: what libxpush takes from glibc and older bionic versions lack.
 * Compiled only into the Android build (CMakeLists.txt), and only with
 * content when the NDK has no explicit_bzero for the target API level. */
#include <string.h>

#ifndef HAVE_EXPLICIT_BZERO
#include "android_compat.h"

/* A memset the compiler may not drop (libxpush wipes passwords with it). */
void explicit_bzero(void *s, size_t n)
{
	memset(s, 0, n);
	__asm__ __volatile__("" : : "r"(s) : "memory");
}
#else
typedef int android_compat_unused; /* ISO C forbids an empty translation unit */
#endif
