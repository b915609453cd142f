/*
 * Billing fixtures for the API tests: test clocks, customers, plans and
 * subscriptions made through the API, and the look-ups life-cycle tests
 * repeat (integer fields, events of an object, invoices of a
 * subscription). Each asserts its own HTTP status.
 */
#ifndef BILLOW_TESTS_API_FIXTURES_H
#define BILLOW_TESTS_API_FIXTURES_H

#include <jansson.h>

#include "harness.h"

/* The integer at PATH (asserted to be one). */
long long	 fx_int(json_t *, const char *path);
/* Whether PATH holds JSON null. */
int		 fx_is_null(json_t *, const char *path);
/* UNIX seconds of the RFC 3339 string at PATH (asserted). */
long long	 fx_time(json_t *, const char *path);
/* T (UNIX seconds) as RFC 3339 into BUF (at least 32 bytes). */
const char	*fx_rfc3339(long long t, char *buf);

/* A test clock frozen at the RFC 3339 time AT; its id (free it). */
char		*fx_clock_new(const char *auth, const char *at);
/* Advances CLOCK to the UNIX time T, asserting 200. */
void		 fx_clock_to(const char *auth, const char *clock, long long t);
/* A customer with payment method PM (NULL: none) on CLOCK (NULL: none). */
char		*fx_customer_new(const char *auth, const char *pm,
		    const char *clock);
/* A plan from the JSON object members EXTRA ("amount":...). */
char		*fx_plan_new(const char *auth, const char *extra);
/* POST /subscriptions with the members EXTRA ("" none), asserting 201. */
char		*fx_sub_new(const char *auth, const char *cus, const char *plan,
		    const char *extra);

/* GET of the path FMT with ID in it, asserting 200; the JSON (decref). */
json_t		*fx_get(const char *auth, const char *fmt, const char *id);
/* The subscription's invoices, oldest first (decref). */
json_t		*fx_sub_invoices(const char *auth, const char *sub);
/* The events of TYPE about object ID, oldest first (decref). */
json_t		*fx_events(const char *auth, const char *type, const char *id);

#endif
