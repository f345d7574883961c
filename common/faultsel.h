/* faultsel: which hit of which named fault point the fault tests selected,
 * for the faults builds of xpushd and of the device (component/fault.h,
 * client/devfault.h). XPUSH_FAULT=name[:n] selects the n-th hit (default the
 * first) of the point called name. What a selected point does (crash, or a
 * failure the caller injects) is the caller's decision. */
#ifndef XPUSH_FAULTSEL_H
#define XPUSH_FAULTSEL_H

/* Counts a hit of the point called name if XPUSH_FAULT names it; returns
 * that hit's number when it is the selected one, else 0. One counter per
 * process: the fault tests select one point per process. */
long faultsel_hit(const char *name);

#endif
