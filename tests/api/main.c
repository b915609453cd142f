/*
 * Runner for the black-box API tests: every suite against the server at
 * BILLOW_URL (default http://127.0.0.1:18080). Exits non-zero when any
 * check fails. CK_RUN_SUITE / CK_RUN_CASE select a subset (Check's own).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int
main(int argc, char **argv)
{
	SRunner	*sr;
	int	 failed;

	api_init();
	printf("api_tests: server %s\n", api_base);
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "limits") == 0) {
		/* Only against a server with the default limits. */
		sr = srunner_create(suite_limits());
		srunner_set_fork_status(sr, CK_NOFORK);
		srunner_run_all(sr, CK_NORMAL);
		failed = srunner_ntests_failed(sr);
		srunner_free(sr);
		api_cleanup();
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	sr = srunner_create(suite_http());
	srunner_add_suite(sr, suite_auth());
	srunner_add_suite(sr, suite_keys());
	srunner_add_suite(sr, suite_team());
	srunner_add_suite(sr, suite_admin());
	srunner_add_suite(sr, suite_rls());
	srunner_add_suite(sr, suite_analytics());
	srunner_add_suite(sr, suite_customers());
	srunner_add_suite(sr, suite_plans());
	srunner_add_suite(sr, suite_test_clocks());
	srunner_add_suite(sr, suite_invoices());
	srunner_add_suite(sr, suite_subscriptions());
	srunner_add_suite(sr, suite_billing());
	srunner_add_suite(sr, suite_changes());
	srunner_add_suite(sr, suite_property());
	srunner_add_suite(sr, suite_usage());
	srunner_add_suite(sr, suite_webhooks());
	srunner_add_suite(sr, suite_final());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	api_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
