/*
 * Every unit-test suite, registered in one list (libuv's test-list.h).
 * A suite lives in tests/unit/test_<subsystem>.c and exports suite_<name>().
 */
#ifndef BW_TEST_LIST_H
#define BW_TEST_LIST_H

#include <check.h>

#define BW_TEST_SUITES(X)	\
	X(core)			\
	X(config)		\
	X(crypto)		\
	X(http)			\
	X(fuzz)			\
	X(plugin)		\
	X(period)		\
	X(money)		\
	X(rules)		\
	X(proration)		\
	X(mrr)			\
	X(queue)

#define BW_DECLARE_SUITE(name)	Suite *suite_##name(void);
BW_TEST_SUITES(BW_DECLARE_SUITE)

#endif
