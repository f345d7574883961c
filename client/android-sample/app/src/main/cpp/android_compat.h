/* android_compat.h: force-included into libxpush's sources by CMakeLists.txt
 * when the NDK's string.h does not declare explicit_bzero for this API level
 * (clang refuses calls to undeclared functions). */
#ifndef XPUSH_ANDROID_COMPAT_H
#define XPUSH_ANDROID_COMPAT_H
#include <stddef.h>
void explicit_bzero(void *s, size_t n);
#endif
