/*
 * Tenant and user JSON shared by the tenant, team and admin endpoints.
 * Task threads only; the rows come from the SELECTs in tenants.c.
 */
#ifndef BW_API_TENANT_H
#define BW_API_TENANT_H

#include <jansson.h>
#include <libpq-fe.h>

enum bw_tenant_view {
	BW_TENANT_FULL,		/* register: the caller adds the secrets */
	BW_TENANT_LAST4,	/* details, login, me, admin */
	BW_TENANT_PUBLIC	/* publishable keys */
};

/* The SELECT list bw_tenant_json reads (ends with "FROM tenants t "). */
extern const char	bw_sql_tenant_select[];

json_t	*bw_tenant_json(const PGresult *, int row, enum bw_tenant_view);
json_t	*bw_user_json(const PGresult *, int row);
/* Basis points as the contract's percentage string: 1500 -> "15.00". */
void	 bw_tenant_fee_string(long long bps, char *out, size_t len);

#endif
