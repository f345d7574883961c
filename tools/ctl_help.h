/* ctl_help: the --help text of xpushctl and of each subcommand. */
#ifndef XPUSH_CTL_HELP_H
#define XPUSH_CTL_HELP_H

#include <stdio.h>

#include "ctl_args.h"

/* The help of cmd (CTL_CMD_NONE: the tool's overview). */
void ctl_help_print(FILE *f, enum ctl_command cmd);

#endif
