/*
 * The core's API resources. Each file under src/api/ owns one resource's
 * route table and handlers (STYLE.md); this header lists the tables so the
 * router can register them at start-up.
 */
#ifndef BW_API_H
#define BW_API_H

#include <jansson.h>

#include "server/http.h"
#include "server/params.h"

struct bw_route_table {
	const struct bw_route	*routes;
	size_t			 n;
};

extern const struct bw_route_table	bw_api_ops;
extern const struct bw_route_table	bw_api_tenants;
extern const struct bw_route_table	bw_api_team;
extern const struct bw_route_table	bw_api_admin;
extern const struct bw_route_table	bw_api_events;
extern const struct bw_route_table	bw_api_plans;
extern const struct bw_route_table	bw_api_invoices;
extern const struct bw_route_table	bw_api_payments;
extern const struct bw_route_table	bw_api_test_clocks;
extern const struct bw_route_table	bw_api_customers;
extern const struct bw_route_table	bw_api_subscriptions;
extern const struct bw_route_table	bw_api_upcoming;
extern const struct bw_route_table	bw_api_meters;

/*
 * Runs the subscription.changed hook (BILLING.md "Changes mid-period") on
 * CTX, filled by the caller but for req and the lines, and returns the
 * lines its handlers appended (prorations only) as invoice lines in
 * req->arena: *N of them in *OUT. Shared by PATCH /subscriptions/{id} and
 * the upcoming-invoice preview (CTX->preview 1); defined in
 * subscriptions.c. BW_ERROR with the request's error set when a handler
 * fails or adds an invalid line.
 */
struct billow_change_ctx;
struct bw_sub_line;
int	bw_sub_change_lines(struct bw_req *, struct billow_change_ctx *ctx,
	    struct bw_sub_line **out, int *n);

/* An event row (SELECT of events.c) as the contract's event object. */
struct pg_result;
json_t	*bw_event_json(const struct pg_result *, int row);

/* The customers columns bw_customer_json() reads. */
#define BW_CUSTOMER_COLUMNS \
	"id, livemode, email, name, external_id, description, phone, " \
	"metadata::text AS metadata, payment_method, test_clock_id, balance, " \
	"deleted, floor(extract(epoch FROM created))::bigint AS created"

/* A customers row (BW_CUSTOMER_COLUMNS) as the contract's customer object. */
json_t	*bw_customer_json(const struct pg_result *, int row);

/* Writes an audit log row in the request's transaction. */
int	bw_audit(struct bw_req *, const char *action, const char *target,
	    json_t *details /* stolen, may be NULL */);

#define BW_ROUTE_TABLE(name, arr) \
	const struct bw_route_table name = { arr, sizeof(arr) / sizeof(arr[0]) }

#endif
