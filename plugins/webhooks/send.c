/*
 * One webhook POST (API.md "Events and webhooks"), run by the delivery
 * task in a `billow worker`: the signature, the URL rules and libcurl.
 * No host calls, so it is the same code whichever process runs it.
 *
 * Security: tenants choose the URL, so every address curl is about to
 * connect to is checked in its open-socket callback, after DNS and for
 * each address it tries: a name that resolves (or re-resolves, DNS
 * rebinding) to a private, loopback or link-local address is refused at
 * connect time, whatever it said at create. Proxies from the environment
 * are switched off (the check would see the proxy's address), redirects
 * are not followed (a 3xx is just a failed attempt) and only http and
 * https are spoken.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "webhooks.h"

/* API.md's event types; "*" is handled by the callers. */
static const char *const wh_event_types[] = {
	"customer.created", "customer.updated", "customer.deleted",
	"plan.created", "plan.updated",
	"subscription.created", "subscription.updated",
	"subscription.trial_will_end", "subscription.paused",
	"subscription.resumed", "subscription.canceled",
	"invoice.created", "invoice.finalized", "invoice.paid",
	"invoice.payment_failed", "invoice.voided",
	"invoice.marked_uncollectible", "invoice.script_failed",
	"payment.succeeded", "payment.failed", "payment.refunded",
	"test_clock.advanced",
};

int
wh_event_type_known(const char *type)
{
	size_t	i;

	for (i = 0; i < sizeof(wh_event_types) / sizeof(wh_event_types[0]);
	    i++)
		if (strcmp(type, wh_event_types[i]) == 0)
			return 1;
	return 0;
}

/*
 * Why an IPv4 address (host order) may not be a webhook target, or NULL.
 * Besides the three kinds API.md names, the unspecified, shared (CGNAT),
 * benchmarking, multicast and reserved ranges reach nothing a tenant may
 * address either.
 */
static const char *
addr4_refusal(uint32_t a, int allow_loopback)
{
	if ((a >> 24) == 127)
		return allow_loopback ? NULL : "a loopback address";
	if ((a >> 24) == 10 || (a >> 20) == (172 << 4 | 1) ||
	    (a >> 16) == (192 << 8 | 168))
		return "a private address";
	if ((a >> 16) == (169 << 8 | 254))
		return "a link-local address";
	if ((a >> 24) == 0 || (a >> 22) == (100 << 2 | 1) ||
	    (a >> 8) == (192u << 16 | 0 << 8 | 0) ||
	    (a >> 17) == (198u << 7 | 9) || (a >> 28) >= 14)
		return "a reserved address";
	return NULL;
}

/* The same for any socket address; refuses families other than IP. */
static const char *
addr_refusal(const struct sockaddr *sa, int allow_loopback)
{
	const struct sockaddr_in6	*s6;
	const uint8_t			*b;
	static const uint8_t		 mapped[12] = { 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0xff, 0xff };
	static const uint8_t		 nat64[12] = { 0x00, 0x64, 0xff,
					    0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t		 zero[16];
	uint32_t			 v4;

	if (sa->sa_family == AF_INET)
		return addr4_refusal(ntohl(((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr.s_addr), allow_loopback);
	if (sa->sa_family != AF_INET6)
		return "not an IP address";
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	b = s6->sin6_addr.s6_addr;
	/* IPv4 inside IPv6 (mapped, NAT64): the IPv4 rules. */
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) {
		v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
		    (uint32_t)b[14] << 8 | b[15];
		return addr4_refusal(v4, allow_loopback);
	}
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return allow_loopback ? NULL : "a loopback address";
	if (memcmp(b, zero, 16) == 0)
		return "a reserved address";
	if ((b[0] & 0xfe) == 0xfc)
		return "a private address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "a link-local address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "a private address";	/* site-local, deprecated */
	if (b[0] == 0xff || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d &&
	    b[3] == 0xb8))
		return "a reserved address";
	return NULL;
}

/* HOST ("1.2.3.4", "[::1]") as an address into SS, or 0 if a name. */
static int
literal_addr(const char *host, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)(void *)ss;
	char			 buf[64];
	size_t			 n;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 1;
	}
	n = strlen(host);
	if (n < 3 || n >= sizeof(buf) + 2 || host[0] != '[' ||
	    host[n - 1] != ']')
		return 0;
	memcpy(buf, host + 1, n - 2);
	buf[n - 2] = '\0';
	/* A zone ("fe80::1%eth0") is link-local anyway: refuse it below. */
	if (strchr(buf, '%') != NULL) {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr.s6_addr[0] = 0xfe;
		s6->sin6_addr.s6_addr[1] = 0x80;
		return 1;
	}
	if (inet_pton(AF_INET6, buf, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 1;
	}
	return 0;
}

int
wh_url_check(const char *url, int livemode, int allow_loopback, char *why,
    size_t whylen)
{
	struct sockaddr_storage	 ss;
	CURLU			*u;
	char			*scheme = NULL, *host = NULL, *user = NULL;
	const char		*p, *refusal;
	int			 rc = BILLOW_ERROR;

	if (strlen(url) > WH_URL_MAX) {
		snprintf(why, whylen, "url must be at most %d characters.",
		    WH_URL_MAX);
		return BILLOW_ERROR;
	}
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			snprintf(why, whylen, "url may not contain spaces, "
			    "control or non-ASCII characters.");
			return BILLOW_ERROR;
		}
	if (strncmp(url, "https://", 8) != 0 &&
	    (livemode || strncmp(url, "http://", 7) != 0)) {
		snprintf(why, whylen, livemode ? "url must be an https:// "
		    "URL in live mode." : "url must be an http:// or https:// "
		    "URL.");
		return BILLOW_ERROR;
	}
	if ((u = curl_url()) == NULL) {
		snprintf(why, whylen, "url could not be checked.");
		return BILLOW_ERROR;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		snprintf(why, whylen, "url must be a valid URL with a host.");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		snprintf(why, whylen, "url may not contain credentials.");
		goto done;
	}
	/*
	 * A literal address is judged now; a name only at send time, on
	 * what it then resolves to (send_opensocket).
	 */
	if (literal_addr(host, &ss) && (refusal = addr_refusal(
	    (struct sockaddr *)&ss, !livemode && allow_loopback)) != NULL) {
		snprintf(why, whylen, "url may not target %s.", refusal);
		goto done;
	}
	rc = BILLOW_OK;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

int
wh_signature(const char *secret, int64_t t, const char *body, char *out,
    size_t len)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0, i;
	char		*msg;
	int		 n, k;

	/* API.md: v1 = hex HMAC-SHA256(secret, "<t>.<raw body>"). */
	if ((n = asprintf(&msg, "%lld.%s", (long long)t, body)) < 0)
		return BILLOW_ERROR;
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)msg, (size_t)n, mac, &maclen) == NULL) {
		free(msg);
		return BILLOW_ERROR;
	}
	free(msg);
	k = snprintf(out, len, "t=%lld,v1=", (long long)t);
	if (k < 0 || (size_t)k + maclen * 2 + 1 > len)
		return BILLOW_ERROR;
	for (i = 0; i < maclen; i++)
		snprintf(out + k + i * 2, 3, "%02x", mac[i]);
	return BILLOW_OK;
}

int
wh_secret_new(char *out)
{
	unsigned char	rnd[32];
	size_t		i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return BILLOW_ERROR;
	memcpy(out, "whsec_", 6);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(out + 6 + i * 2, 3, "%02x", rnd[i]);
	return BILLOW_OK;
}

int64_t
wh_backoff_ms(int64_t base, int attempt, unsigned jitter)
{
	int64_t	d = base;
	int	i;

	for (i = 1; i < attempt && d < WH_RETRY_CAP_MS; i++)
		d *= WH_RETRY_FACTOR;
	if (d > WH_RETRY_CAP_MS)
		d = WH_RETRY_CAP_MS;
	/* ±20 %: receivers that failed together do not retry together. */
	d = d * (800 + (int64_t)(jitter % 401)) / 1000;
	return d < WH_RETRY_CAP_MS ? d : WH_RETRY_CAP_MS;
}

/* What curl's callbacks share with wh_send. */
struct send_ctx {
	int	 allow_loopback;
	char	 refused[160];
	char	*body;
	size_t	 len;
	int	 full;		/* WH_BODY_MAX read: the rest is not */
};

static curl_socket_t
send_opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct send_ctx	*c = arg;
	const char	*refusal;
	char		 ip[INET6_ADDRSTRLEN];

	(void)purpose;
	if ((refusal = addr_refusal(&a->addr, c->allow_loopback)) != NULL) {
		ip[0] = '\0';
		if (a->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
			    &a->addr)->sin_addr, ip, sizeof(ip));
		else if (a->family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)
			    &a->addr)->sin6_addr, ip, sizeof(ip));
		snprintf(c->refused, sizeof(c->refused), "refused: the url "
		    "resolves to %s, %s", ip[0] != '\0' ? ip : "an address",
		    refusal);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t
send_write(char *data, size_t size, size_t n, void *arg)
{
	struct send_ctx	*c = arg;
	size_t		 len = size * n, take;

	take = WH_BODY_MAX - c->len < len ? WH_BODY_MAX - c->len : len;
	memcpy(c->body + c->len, data, take);
	c->len += take;
	if (take < len) {
		/* Read no further: the answer's status is all that counts. */
		c->full = 1;
		return 0;
	}
	return len;
}

/*
 * BUF as text a database and JSON accept: invalid UTF-8, NUL and other
 * control characters but tab and newlines become '?'.
 */
static void
send_text(char *buf, size_t len)
{
	unsigned char	*s = (unsigned char *)buf;
	size_t		 i = 0, k, need;

	while (i < len) {
		if (s[i] < 0x80) {
			if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' &&
			    s[i] != '\r') || s[i] == 0x7f)
				s[i] = '?';
			i++;
			continue;
		}
		need = (s[i] & 0xe0) == 0xc0 && s[i] >= 0xc2 ? 1 :
		    (s[i] & 0xf0) == 0xe0 ? 2 :
		    (s[i] & 0xf8) == 0xf0 && s[i] <= 0xf4 ? 3 : 0;
		for (k = 1; need > 0 && k <= need; k++)
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				need = 0;
		/* Overlong three-byte forms and surrogates. */
		if (need == 2 && ((s[i] == 0xe0 && s[i + 1] < 0xa0) ||
		    (s[i] == 0xed && s[i + 1] >= 0xa0)))
			need = 0;
		if (need == 3 && ((s[i] == 0xf0 && s[i + 1] < 0x90) ||
		    (s[i] == 0xf4 && s[i + 1] >= 0x90)))
			need = 0;
		if (need == 0) {
			s[i++] = '?';
			continue;
		}
		i += need + 1;
	}
	buf[len] = '\0';
}

int
wh_send(const struct wh_send_req *in, struct wh_send_result *out)
{
	struct curl_slist	*hdrs = NULL, *h;
	struct send_ctx		 c;
	CURL			*curl;
	CURLcode		 rc;
	char			 line[256], sig[128], err[CURL_ERROR_SIZE];
	int			 ok = 1;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.allow_loopback = in->allow_loopback;
	if ((c.body = malloc(WH_BODY_MAX + 1)) == NULL ||
	    wh_signature(in->secret, in->now, in->body, sig, sizeof(sig)) !=
	    BILLOW_OK || (curl = curl_easy_init()) == NULL) {
		free(c.body);
		snprintf(out->error, sizeof(out->error), "internal error "
		    "preparing the request");
		return BILLOW_ERROR;
	}
#define HDR(...) do {							\
		snprintf(line, sizeof(line), __VA_ARGS__);		\
		if ((h = curl_slist_append(hdrs, line)) == NULL)	\
			ok = 0;						\
		else							\
			hdrs = h;					\
	} while (0)
	HDR("Content-Type: application/json");
	HDR("Billow-Event-Id: %s", in->event_id);
	HDR("Billow-Event-Type: %s", in->event_type);
	HDR("Billow-Signature: %s", sig);
	HDR("User-Agent: Billow-Webhooks/1.0");
	/* No "Expect: 100-continue" round trip for larger events. */
	HDR("Expect:");
#undef HDR
	err[0] = '\0';
	if (!ok ||
	    curl_easy_setopt(curl, CURLOPT_URL, in->url) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, WH_TIMEOUT_MS) !=
	    CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, in->body) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(in->body)) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION,
	    send_opensocket) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &c) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, send_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &c) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err) != CURLE_OK) {
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(curl);
		free(c.body);
		snprintf(out->error, sizeof(out->error), "internal error "
		    "preparing the request");
		return BILLOW_ERROR;
	}
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && c.full))
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	send_text(c.body, c.len);
	out->body = c.body;
	if (out->status > 0)
		return BILLOW_OK;
	if (c.refused[0] != '\0') {
		out->refused = 1;
		snprintf(out->error, sizeof(out->error), "%s", c.refused);
	}
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(out->error, sizeof(out->error), "timeout: no answer "
		    "within %ld s", WH_TIMEOUT_MS / 1000);
	else
		snprintf(out->error, sizeof(out->error), "%s: %s",
		    curl_easy_strerror(rc), err[0] != '\0' ? err :
		    "no HTTP answer");
	return BILLOW_ERROR;
}

void
wh_send_result_free(struct wh_send_result *res)
{
	free(res->body);
	res->body = NULL;
}
