/*
 * Invoice logic shared by the invoice API and the billing core: the invoice
 * and payment objects, finalization (customer balance, gapless numbers) and
 * one collection attempt. Runs on task threads and in the background worker,
 * always inside the caller's tenant transaction (RLS confines every row).
 */
#ifndef BW_BILLING_INVOICE_H
#define BW_BILLING_INVOICE_H

#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "auth/crypto.h"

struct bw_req;

/* The payments columns bw_payment_json() reads, for SELECT ... FROM payments. */
#define BW_PAYMENT_COLUMNS \
	"id, livemode, invoice_id, subscription_id, customer_id, amount, " \
	"currency, status, application_fee_amount, net_amount, " \
	"amount_refunded, payment_method, provider, provider_payment_id, " \
	"failure_code, failure_reason, " \
	"floor(extract(epoch FROM created))::bigint AS created"

/* A payments row (BW_PAYMENT_COLUMNS) as the contract's payment object. */
json_t	*bw_payment_json(const PGresult *, int row);

/*
 * The invoice ID with its lines as the contract's invoice object, in *OUT
 * (caller decrefs). BW_OK, BW_DECLINED when there is no such invoice in
 * the tenant and mode, BW_ERROR on a database failure.
 */
int	bw_invoice_get(struct bw_req *, const char *id, json_t **out);

/*
 * Lists: invoices of the page PAGE (struct bw_page) with the filters
 * (NULL: any), newest first as bw_page_respond() wants them. Steals
 * nothing; *OUT is a new array.
 */
struct bw_page;
int	bw_invoice_list(struct bw_req *, const struct bw_page *,
	    const char *customer_id, const char *subscription_id,
	    const char *status, json_t **out);

/*
 * Finalizes draft invoice ID (BILLING.md "Invoices"): applies the
 * customer's balance, assigns the next gapless number of the tenant and
 * mode, and makes it open, or paid at once when nothing is due (no payment
 * object, attempt_count 0). Emits invoice.finalized (and invoice.paid).
 * Never attempts a payment: callers that collect call bw_invoice_collect.
 * BW_OK with the invoice in *OUT (may be NULL), BW_DECLINED when there is
 * no such invoice, BW_ERROR with the request's error set (409 when it is
 * not a draft) or on a database failure.
 */
int	bw_invoice_finalize(struct bw_req *, const char *id, json_t **out);

/* The outcome of one collection attempt. */
struct bw_invoice_attempt {
	int	 succeeded;
	char	 payment_id[BW_ID_MAX];
	char	 failure_code[48];
	char	 failure_reason[160];
};

/*
 * One collection attempt on open invoice ID (BILLING.md "Collection and
 * dunning"): a payment of amount_due, succeeded or failed, attempt_count
 * + 1; paid on success. Emits payment.succeeded and invoice.paid, or
 * payment.failed and invoice.payment_failed. A declined card is BW_OK
 * with ATTEMPT->succeeded 0: the caller decides (the API answers 402, the
 * billing core schedules dunning). BW_DECLINED when there is no such
 * invoice, BW_ERROR with the request's error set (409 when it is not open)
 * or on a database failure. *OUT (may be NULL) gets the invoice after.
 */
int	bw_invoice_collect(struct bw_req *, const char *id,
	    struct bw_invoice_attempt *attempt, json_t **out);

/*
 * The built-in test-mode card simulator (API.md "Customers"): the outcome
 * of charging payment method PM (NULL: none). Returns 1 on success; else 0
 * with CODE and REASON (static strings) set.
 */
int	bw_invoice_simulate(const char *pm, int livemode, const char **code,
	    const char **reason);

/*
 * Runs SQL with P for its effect only, in the request's transaction: it
 * is queued and travels with the next statement (or the COMMIT), in
 * order; its failure fails that statement and so the transaction.
 */
int	bw_billing_exec(struct bw_req *, const char *sql, int n,
	    const char **p);

/* Writes event TYPE with {"object": OBJ} as data; OBJ is borrowed. */
int	bw_invoice_emit(struct bw_req *, const char *type, json_t *obj);

/*
 * API.md "Conventions": the amount_decimal beside an amount, formatted with
 * CURRENCY's exponent ("-14.48", "500"); JSON null for an unknown currency.
 */
json_t	*bw_amount_decimal_json(long long amount, const char *currency);

#endif
