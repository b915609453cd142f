/*
 * Unit-test runner: runs every suite in test_list.h, or only those named on
 * the command line. Exits non-zero when any test fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_list.h"

struct suite_entry {
	const char	*name;
	Suite		*(*make)(void);
};

#define BW_SUITE_ENTRY(name)	{ #name, suite_##name },
static const struct suite_entry suites[] = {
	BW_TEST_SUITES(BW_SUITE_ENTRY)
};

static int
wanted(const char *name, int argc, char **argv)
{
	int	i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	SRunner	*sr = NULL;
	size_t	 i;
	int	 failed;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (!wanted(suites[i].name, argc, argv))
			continue;
		if (sr == NULL)
			sr = srunner_create(suites[i].make());
		else
			srunner_add_suite(sr, suites[i].make());
	}
	if (sr == NULL) {
		fprintf(stderr, "no such suite\n");
		return 2;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
