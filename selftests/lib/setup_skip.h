/* SPDX-License-Identifier: GPL-2.0 */
#ifndef THAW_SELFTEST_LIB_SETUP_SKIP_H
#define THAW_SELFTEST_LIB_SETUP_SKIP_H

#include <unistd.h>

/*
 * SETUP_SKIP(fmt, ...): SKIP from a FIXTURE_SETUP.  Linux 6.1's
 * kselftest_harness.h (used in place from linux-source-6.1) runs the test
 * body even after SKIP(return, ...) in the setup, so the body then fails on
 * what the setup could not make.  Ending the test's own child process with
 * status 255 is what that harness reports as skipped, with SKIP's reason.
 */
#define SETUP_SKIP(fmt, ...) SKIP(_exit(255), fmt, ##__VA_ARGS__)

#endif
