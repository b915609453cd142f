/*
 * The webhooks plugin's parts, seen by each other (never by the core: the
 * plugin is built with -fvisibility=hidden). webhooks.c owns init, the
 * configuration and the endpoint routes; deliver.c the fan-out, the
 * delivery task and the delivery routes; send.c the HTTP POST itself, the
 * target address rules and the signature (no host calls).
 */
#ifndef BILLOW_WEBHOOKS_H
#define BILLOW_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "billow/plugin.h"

#define WH_URL_MAX		2048
/* "whsec_" and 32 random bytes in hex. */
#define WH_SECRET_MAX		(6 + 64 + 1)
/* What is kept of an answer's body (API.md: read at most 64 KiB). */
#define WH_BODY_MAX		(64 * 1024)
/* API.md: 2xx within 10 s is delivered. */
#define WH_TIMEOUT_MS		10000L
/* API.md: 5 attempts in all, base 60 s, factor 4, cap 10 h. */
#define WH_ATTEMPTS_MAX		5
#define WH_RETRY_BASE_MS	60000LL
#define WH_RETRY_FACTOR		4
#define WH_RETRY_CAP_MS		(10LL * 3600 * 1000)

/* The plugin's configuration (its block in the server's config). */
struct wh_config {
	int64_t	retry_base_ms;		/* retry_base_ms, default 60000 */
	int	allow_loopback;		/* allow_loopback yes: test mode only */
};

extern struct wh_config	wh_conf;

/* One delivery to send. */
struct wh_send_req {
	const char	*url;
	const char	*secret;
	const char	*event_id;
	const char	*event_type;
	const char	*body;		/* the event JSON, sent as is */
	int		 livemode;
	int		 allow_loopback;
	int64_t		 now;		/* the signature's t (UNIX seconds) */
};

/* What came back. status 0: no HTTP answer (error says why). */
struct wh_send_result {
	long	 status;
	char	*body;			/* malloc'd, <= WH_BODY_MAX, text */
	char	 error[256];		/* "" after an HTTP answer */
	int	 refused;		/* the target address is not allowed */
};

/*
 * Checks URL as an endpoint of the mode LIVEMODE at create or update:
 * http:// or https:// (live: https:// only), at most WH_URL_MAX bytes,
 * a host, no credentials, no spaces or control characters; a literal IP
 * address is checked with wh_addr_allowed's rules. BILLOW_OK, or
 * BILLOW_ERROR with a sentence for the error message in WHY.
 */
int	wh_url_check(const char *url, int livemode, int allow_loopback,
	    char *why, size_t whylen);

/*
 * POSTs REQ->body to REQ->url, signed (API.md), refusing any address the
 * mode does not allow at connect time. Fills RES (free with
 * wh_send_result_free). BILLOW_OK when an HTTP answer came back (any
 * status), BILLOW_ERROR otherwise.
 */
int	wh_send(const struct wh_send_req *, struct wh_send_result *);
void	wh_send_result_free(struct wh_send_result *);

/*
 * "t=T,v1=HEX" for BODY at time T with SECRET into OUT (at least 96
 * bytes): HMAC-SHA256(secret, "T.body") in lower-case hex.
 */
int	wh_signature(const char *secret, int64_t t, const char *body,
	    char *out, size_t len);

/* A new secret "whsec_<64 hex>" into OUT (WH_SECRET_MAX bytes). */
int	wh_secret_new(char *out);

/*
 * The delay before the retry that follows attempt ATTEMPT (1-based):
 * BASE × 4^(ATTEMPT-1), capped at 10 h, then ±20 % of jitter (capped
 * again). JITTER is a random number in [0, 1000].
 */
int64_t	wh_backoff_ms(int64_t base, int attempt, unsigned jitter);

/* Whether TYPE is an event type of API.md's list. */
int	wh_event_type_known(const char *type);

/* deliver.c: the event.relayed hook, the task and the delivery routes. */
int	deliver_init(const struct billow_host *, struct billow_plugin_handle *);

#endif
