/*
 * Usage lines (usage.h). NOT DONE YET: meters and usage ingest are being
 * written (issue 11); until they land there are no usage events, so a
 * plan's usage charges bill no lines. This file is replaced whole by the
 * metering engine.
 */
#include <stddef.h>

#include "billing/usage.h"
#include "core/core.h"

int
bw_usage_lines(struct bw_req *req, const char *plan_id,
    const char *customer_id, int64_t start, int64_t end,
    struct bw_usage_line **out, int *n)
{
	(void)req;
	(void)plan_id;
	(void)customer_id;
	(void)start;
	(void)end;
	*out = NULL;
	*n = 0;
	return BW_OK;
}
