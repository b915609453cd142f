/* Unit tests for src/core: buffers, arenas, constant-time comparison. */
#include <string.h>

#include "core/core.h"
#include "test_list.h"

START_TEST(buf_grows_and_stays_terminated)
{
	struct bw_buf	b;
	int		i;

	bw_buf_init(&b);
	for (i = 0; i < 1000; i++)
		bw_buf_appendf(&b, "%d,", i % 10);
	ck_assert_uint_eq(b.len, 2000);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	bw_buf_free(&b);
}
END_TEST

START_TEST(arena_keeps_alignment_and_large_blocks)
{
	struct bw_arena	 a;
	char		*p, *q;
	void		*big;

	bw_arena_init(&a);
	p = bw_arena_strdup(&a, "abc");
	q = bw_arena_printf(&a, "%s-%d", p, 42);
	big = bw_arena_alloc(&a, 100000);
	memset(big, 1, 100000);
	ck_assert_str_eq(q, "abc-42");
	ck_assert_uint_eq((uintptr_t)q % sizeof(max_align_t), 0);
	bw_arena_free(&a);
}
END_TEST

START_TEST(ct_equal_compares_bytes)
{
	ck_assert(bw_ct_equal("abcd", "abcd", 4));
	ck_assert(!bw_ct_equal("abcd", "abce", 4));
}
END_TEST

Suite *
suite_core(void)
{
	Suite	*s = suite_create("core");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, buf_grows_and_stays_terminated);
	tcase_add_test(tc, arena_keeps_alignment_and_large_blocks);
	tcase_add_test(tc, ct_equal_compares_bytes);
	suite_add_tcase(s, tc);
	return s;
}
