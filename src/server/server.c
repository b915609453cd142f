/*
 * Server-wide state and the answers that need no database: /healthz,
 * /metrics, 404 and 405. Runs in the Kore event loop; the route table is
 * built here at module load.
 */
#include <string.h>

#include "api/api.h"
#include "plugin/plugin.h"
#include "server/server.h"

struct bw_server	bw_server;

static const struct bw_route_table	*core_tables[] = {
	&bw_api_ops,
	&bw_api_tenants,
	&bw_api_team,
	&bw_api_admin,
	&bw_api_events,
	&bw_api_plans,
	&bw_api_customers,
	&bw_api_test_clocks,
	&bw_api_upcoming,	/* /invoices/upcoming before /invoices/{id} */
	&bw_api_invoices,
	&bw_api_payments,
	&bw_api_subscriptions,
	&bw_api_meters,
};

void
bw_routes_init(void)
{
	size_t	i;

	bw_router_clear();
	for (i = 0; i < BW_NELEM(core_tables); i++)
		bw_router_add(core_tables[i]->routes, core_tables[i]->n);
	/* Plugins after the core: a core route always wins a tie. */
	bw_plugin_routes_register();
}

int
bw_answer_inline(struct bw_req *req)
{
	int	allow, rc;
	char	allowhdr[64];

	rc = bw_router_match(req, &allow);
	if (rc == BW_MATCH_OK) {
		if (strcmp(req->route->pattern, "/healthz") == 0) {
			bw_req_json(req, 200, json_pack("{s:s}", "status",
			    "ok"));
			return 1;
		}
		if (strcmp(req->route->pattern, "/metrics") == 0) {
			req->status = 200;
			req->content_type = "text/plain; version=0.0.4";
			bw_metrics_render(&req->out);
			return 1;
		}
		return bw_dispatch_fast(req);
	}
	if (rc == BW_MATCH_METHOD) {
		allowhdr[0] = '\0';
		for (rc = BW_GET; rc <= BW_OPTIONS; rc <<= 1) {
			if (!(allow & rc))
				continue;
			snprintf(allowhdr + strlen(allowhdr),
			    sizeof(allowhdr) - strlen(allowhdr), "%s%s",
			    allowhdr[0] != '\0' ? ", " : "",
			    bw_http_method_name(rc));
		}
		bw_req_set_header(req, "Allow", allowhdr);
		bw_req_error(req, 405, "invalid_request_error",
		    "method_not_allowed", NULL, "%s is not allowed here.",
		    bw_http_method_name(req->method));
	} else {
		bw_req_error(req, 404, "invalid_request_error",
		    "resource_missing", NULL, "Unrecognized request URL.");
	}
	bw_req_render_error(req);
	return 1;
}
