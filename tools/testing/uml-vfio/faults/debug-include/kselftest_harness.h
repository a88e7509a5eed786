/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the debug build's run of the rig tests (tests/45-debug.sh): the
 * kernel's harness with a 10x longer per-test timeout, since KASAN and
 * lockdep make UML several times slower. Found before the real header
 * through -I; TEST() expands TEST_TIMEOUT_DEFAULT where the tests use it.
 */
#include_next "kselftest_harness.h"
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
