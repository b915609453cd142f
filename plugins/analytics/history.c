/*
 * MRR history of the analytics plugin: an event.created hook that, for
 * every subscription.* event, works out the subscription's MRR after the
 * change and appends a row to analytics_mrr_movements when the MRR or its
 * counting as active differs from the subscription's latest row. Runs in
 * the transaction that wrote the event (a request on a Kore task thread,
 * or a scheduler step in `billow worker` or a test clock advance), so the
 * row commits or rolls back with the change; RLS confines it to the
 * event's tenant and mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analytics.h"

static const struct billow_host		*host;
static struct billow_plugin_handle	*self;

/*
 * The plan's price and the subscription's latest history row (NULLs when
 * it has none yet). Rows are ordered by id, which grows with insertion
 * within a process: the subscription is locked by whatever changes it,
 * so its rows are written one after the other.
 */
#define SQL_PLAN_AND_LAST						\
	"SELECT p.amount, p.currency, p.interval, p.interval_count, "	\
	"m.mrr_after, m.active_after::text AS active_after "		\
	"FROM plans p LEFT JOIN LATERAL (SELECT mrr_after, "		\
	"active_after FROM analytics_mrr_movements WHERE "		\
	"subscription_id = $2 ORDER BY id DESC LIMIT 1) m ON true "	\
	"WHERE p.id = $1"

/* at is billow_now(): the billing time, a test clock's while it runs. */
#define SQL_INSERT							\
	"INSERT INTO analytics_mrr_movements (tenant_id, livemode, id, " \
	"subscription_id, customer_id, currency, status, event_id, "	\
	"mrr_before, mrr_after, active_before, active_after) VALUES ("	\
	"current_setting('app.tenant_id'), "				\
	"current_setting('app.livemode')::boolean, $1, $2, $3, $4, $5, " \
	"$6, $7::bigint, $8::bigint, $9::boolean, $10::boolean)"

/*
 * API.md "Analytics": active and past_due subscriptions count their
 * plan's MRR (past_due is still owed and retried); trials, paused and
 * canceled ones count 0.
 */
static int
history_counts(const char *status)
{
	return strcmp(status, "active") == 0 ||
	    strcmp(status, "past_due") == 0;
}

/* The subscription SUB after the change EV (its object). */
static int
history_record(struct billow_req *req, const char *event_id, json_t *sub)
{
	struct billow_result	*res;
	const char		*id, *cus, *plan, *status, *p[10], *v;
	char			 row_id[BILLOW_ID_MAX], before_s[24];
	char			 after_s[24], currency[16], interval[16];
	int64_t			 quantity, amount, count, mrr, before;
	int			 active, was_active, first, rc;

	id = json_string_value(json_object_get(sub, "id"));
	cus = json_string_value(json_object_get(sub, "customer_id"));
	plan = json_string_value(json_object_get(sub, "plan_id"));
	status = json_string_value(json_object_get(sub, "status"));
	quantity = json_integer_value(json_object_get(sub, "quantity"));
	if (id == NULL || cus == NULL || plan == NULL || status == NULL) {
		host->log(self, BILLOW_LOG_ERROR, "event %s: subscription "
		    "without id, customer_id, plan_id or status", event_id);
		return BILLOW_ERROR;
	}

	p[0] = plan;
	p[1] = id;
	if (host->sql(req, SQL_PLAN_AND_LAST, 2, p, &res) != BILLOW_OK)
		return BILLOW_ERROR;
	if (host->result_rows(res) != 1) {
		host->result_free(res);
		host->log(self, BILLOW_LOG_ERROR, "event %s: no plan %s",
		    event_id, plan);
		return BILLOW_ERROR;
	}
	amount = strtoll(host->result_value(res, 0, "amount"), NULL, 10);
	count = strtoll(host->result_value(res, 0, "interval_count"), NULL,
	    10);
	v = host->result_value(res, 0, "interval");
	snprintf(interval, sizeof(interval), "%s", v != NULL ? v : "");
	snprintf(currency, sizeof(currency), "%s",
	    host->result_value(res, 0, "currency"));
	first = (v = host->result_value(res, 0, "mrr_after")) == NULL;
	before = first ? 0 : strtoll(v, NULL, 10);
	v = host->result_value(res, 0, "active_after");
	was_active = v != NULL && strcmp(v, "true") == 0;
	host->result_free(res);

	active = history_counts(status);
	mrr = 0;
	if (active && mrr_monthly(amount, quantity, interval, count, &mrr) !=
	    BILLOW_OK) {
		host->log(self, BILLOW_LOG_ERROR, "event %s: no MRR for plan "
		    "%s", event_id, plan);
		return BILLOW_ERROR;
	}
	/*
	 * Nothing moved (a renewal, a metadata change, active <-> past_due):
	 * no row. The first event of a subscription always writes one, so
	 * every subscription has a history from its start.
	 */
	if (!first && mrr == before && active == was_active)
		return BILLOW_OK;

	host->id_new("amv", row_id);
	snprintf(before_s, sizeof(before_s), "%lld", (long long)before);
	snprintf(after_s, sizeof(after_s), "%lld", (long long)mrr);
	p[0] = row_id;
	p[1] = id;
	p[2] = cus;
	p[3] = currency;
	p[4] = status;
	p[5] = event_id;
	p[6] = before_s;
	p[7] = after_s;
	p[8] = was_active ? "true" : "false";
	p[9] = active ? "true" : "false";
	rc = host->sql(req, SQL_INSERT, 10, p, &res);
	if (rc == BILLOW_OK)
		host->result_free(res);
	return rc;
}

/* event.created: subscription.* events carry the subscription after it. */
static int
history_event(void *vctx, void *ud)
{
	struct billow_event_ctx	*ctx = vctx;
	json_t			*data, *sub;
	const char		*kind;
	int			 rc;

	(void)ud;
	if (ctx->type == NULL || strncmp(ctx->type, "subscription.", 13) != 0)
		return BILLOW_DECLINED;
	if ((data = json_loads(ctx->data_json, 0, NULL)) == NULL) {
		host->log(self, BILLOW_LOG_ERROR, "event %s: data is not JSON",
		    ctx->event_id);
		return BILLOW_ERROR;
	}
	sub = json_object_get(data, "object");
	kind = json_string_value(json_object_get(sub, "object"));
	if (kind == NULL || strcmp(kind, "subscription") != 0) {
		json_decref(data);
		return BILLOW_DECLINED;
	}
	rc = history_record(ctx->req, ctx->event_id, sub);
	json_decref(data);
	return rc;
}

int
history_init(const struct billow_host *h, struct billow_plugin_handle *me)
{
	host = h;
	self = me;
	return host->hook_add(self, BILLOW_HOOK_EVENT_CREATED, 0,
	    history_event, NULL);
}
