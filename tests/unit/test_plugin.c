/*
 * Unit tests for the hook registry (src/plugin/loader.c): priority order,
 * ties in registration order, filters transforming a value in turn, and a
 * failing handler stopping the chain with its plugin's name.
 */
#include <stdio.h>
#include <string.h>

#include "plugin/plugin.h"
#include "test_list.h"

/* Each handler appends its tag to the trace and applies its operation. */
static int
add_ten(void *ctx, void *ud)
{
	struct billow_filter_ctx	*f = ctx;

	f->value += 10;
	strncat(f->trace, ud, sizeof(f->trace) - strlen(f->trace) - 1);
	return BILLOW_OK;
}

static int
times_two(void *ctx, void *ud)
{
	struct billow_filter_ctx	*f = ctx;

	f->value *= 2;
	strncat(f->trace, ud, sizeof(f->trace) - strlen(f->trace) - 1);
	return BILLOW_OK;
}

static int
declines(void *ctx, void *ud)
{
	struct billow_filter_ctx	*f = ctx;

	strncat(f->trace, ud, sizeof(f->trace) - strlen(f->trace) - 1);
	return BILLOW_DECLINED;
}

static int
fails(void *ctx, void *ud)
{
	struct billow_filter_ctx	*f = ctx;

	strncat(f->trace, ud, sizeof(f->trace) - strlen(f->trace) - 1);
	return BILLOW_ERROR;
}

START_TEST(filters_run_in_priority_order)
{
	struct billow_filter_ctx	f;

	bw_hook_clear();
	/* Registered out of order; priority decides, lowest first. */
	ck_assert_int_eq(bw_hook_register("b", "test.filter", 20, times_two,
	    "x2 "), BW_OK);
	ck_assert_int_eq(bw_hook_register("a", "test.filter", 10, add_ten,
	    "+10 "), BW_OK);
	ck_assert_int_eq(bw_hook_register("c", "test.filter", 30, add_ten,
	    "+10' "), BW_OK);
	memset(&f, 0, sizeof(f));
	f.value = 1;
	ck_assert_int_eq(bw_hook_filter("test.filter", &f, NULL, 0), BW_OK);
	/* (1 + 10) * 2 + 10 = 32; the other orders give 22 or 42. */
	ck_assert_int_eq(f.value, 32);
	ck_assert_str_eq(f.trace, "+10 x2 +10' ");
	bw_hook_clear();
}
END_TEST

START_TEST(equal_priorities_keep_registration_order)
{
	struct billow_filter_ctx	f;

	bw_hook_clear();
	bw_hook_register("a", "test.filter", 5, times_two, "x2 ");
	bw_hook_register("b", "test.filter", 5, add_ten, "+10 ");
	memset(&f, 0, sizeof(f));
	f.value = 1;
	bw_hook_filter("test.filter", &f, NULL, 0);
	ck_assert_int_eq(f.value, 12);	/* 1 * 2 + 10 */
	ck_assert_str_eq(f.trace, "x2 +10 ");
	bw_hook_clear();
}
END_TEST

START_TEST(an_error_stops_the_chain_and_names_the_plugin)
{
	struct billow_filter_ctx	f;
	char				who[64] = "";

	bw_hook_clear();
	bw_hook_register("first", "test.filter", 1, declines, "d ");
	bw_hook_register("broken", "test.filter", 2, fails, "f ");
	bw_hook_register("last", "test.filter", 3, add_ten, "+10 ");
	/* Another hook's handlers never run for this one. */
	bw_hook_register("other", "http.request", 0, add_ten, "!! ");
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(bw_hook_filter("test.filter", &f, who, sizeof(who)),
	    BW_ERROR);
	ck_assert_str_eq(who, "broken");
	ck_assert_str_eq(f.trace, "d f ");
	ck_assert_int_eq(f.value, 0);
	bw_hook_clear();
}
END_TEST

START_TEST(actions_run_every_handler)
{
	struct billow_filter_ctx	f;

	bw_hook_clear();
	bw_hook_register("a", "event.created", 0, declines, "a ");
	bw_hook_register("b", "event.created", 0, declines, "b ");
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(bw_hook_action("event.created", &f, NULL, 0), BW_OK);
	ck_assert_str_eq(f.trace, "a b ");
	/* A hook nobody registered for is a no-op. */
	ck_assert_int_eq(bw_hook_action("nobody.listens", &f, NULL, 0), BW_OK);
	bw_hook_clear();
}
END_TEST

Suite *
suite_plugin(void)
{
	Suite	*s = suite_create("plugin");
	TCase	*tc = tcase_create("hooks");

	tcase_add_test(tc, filters_run_in_priority_order);
	tcase_add_test(tc, equal_priorities_keep_registration_order);
	tcase_add_test(tc, an_error_stops_the_chain_and_names_the_plugin);
	tcase_add_test(tc, actions_run_every_handler);
	suite_add_tcase(s, tc);
	return s;
}
