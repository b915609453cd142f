/*
 * Credentials: object ids, API keys, webhook secrets, argon2id passwords and
 * HS256 JWTs. Runs in the Kore workers (event loop and task threads) and in
 * `billow worker`; every function is thread-safe and never logs a secret.
 */
#include <argon2.h>
#include <jansson.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "auth/crypto.h"

/* Lowercase Crockford base32: no i, l, o, u, so ids read back unambiguously. */
static const char id_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
#define ID_CHARS	26
#define ID_TIME_BYTES	6
#define ID_RAND_BYTES	10

static const char b62_alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
#define APIKEY_RANDOM	32

/*
 * argon2id at OWASP's minimum (t=2, m=19 MiB, p=1): about 20-40 ms per hash,
 * cheap enough for login and registration, costly for an offline attacker.
 */
#define PW_T_COST	2
#define PW_M_COST	19456
#define PW_PARALLELISM	1
#define PW_SALT_LEN	16
#define PW_HASH_LEN	32

/* An HS256 signature is 32 bytes: 43 base64url characters, no padding. */
#define JWT_SIG_LEN	43
/* Bounds the work an unauthenticated caller can make us do per token. */
#define JWT_MAX_LEN	8192

/*
 * The last id handed out by this process. Ids minted within one millisecond
 * increment the random part (ULID's monotonic mode) so that they still sort
 * in creation order. PID notices a fork: a child must not continue its
 * parent's sequence or two workers could mint the same id.
 */
static struct {
	pthread_mutex_t	lock;
	pid_t		pid;
	uint64_t	ms;
	uint8_t		rnd[ID_RAND_BYTES];
} id_state = { PTHREAD_MUTEX_INITIALIZER, 0, 0, { 0 } };

static pthread_once_t	 pw_dummy_once = PTHREAD_ONCE_INIT;
static char		*pw_dummy;

static void	id_encode(const uint8_t *, char *);
static int	id_char_valid(char);
static void	b62_fill(char *, size_t);
static int	b62_valid(const char *, size_t);
static void	pw_dummy_init(void);
static void	jwt_b64url(const uint8_t *, size_t, char *);
static int	jwt_hmac_check(const char *, const char *);
static int	jwt_claim_str(json_t *, const char *, int, char *, size_t);

/*
 * Writes the 128-bit big-endian value in B as 26 base32 characters. 26 * 5
 * is 130 bits, so the value is read as if two zero bits preceded it.
 */
static void
id_encode(const uint8_t *b, char *out)
{
	int	i, j, bit, pos, v;

	for (i = 0; i < ID_CHARS; i++) {
		v = 0;
		for (j = 0; j < 5; j++) {
			pos = i * 5 + j - 2;
			bit = pos < 0 ? 0 : (b[pos / 8] >> (7 - pos % 8)) & 1;
			v = (v << 1) | bit;
		}
		out[i] = id_alphabet[v];
	}
	out[ID_CHARS] = '\0';
}

void
bw_id_new(const char *prefix, char *out)
{
	uint8_t		 raw[ID_TIME_BYTES + ID_RAND_BYTES];
	uint64_t	 now;
	size_t		 plen;
	pid_t		 pid;
	int		 i, carry;

	plen = strlen(prefix);
	/* Prefixes are compile-time constants: a long one is a programming bug. */
	if (plen + 1 + ID_CHARS + 1 > BW_ID_MAX) {
		bw_log(BW_LOG_ERROR, "bw_id_new: prefix \"%s\" too long", prefix);
		abort();
	}

	now = (uint64_t)(bw_time_us() / 1000);
	pid = getpid();

	pthread_mutex_lock(&id_state.lock);
	if (id_state.pid != pid || now > id_state.ms) {
		id_state.pid = pid;
		id_state.ms = now;
		bw_random_bytes(id_state.rnd, sizeof(id_state.rnd));
	} else {
		/*
		 * Same millisecond, or the clock stepped back: keep the last
		 * time and add one to the random part so the id still sorts
		 * after the previous one.
		 */
		carry = 1;
		for (i = ID_RAND_BYTES - 1; i >= 0 && carry; i--) {
			id_state.rnd[i]++;
			carry = id_state.rnd[i] == 0;
		}
		if (carry) {
			/* 2^80 ids in one ms: borrow the next millisecond. */
			id_state.ms++;
			bw_random_bytes(id_state.rnd, sizeof(id_state.rnd));
		}
	}
	for (i = 0; i < ID_TIME_BYTES; i++)
		raw[i] = (uint8_t)(id_state.ms >> (8 * (ID_TIME_BYTES - 1 - i)));
	memcpy(raw + ID_TIME_BYTES, id_state.rnd, ID_RAND_BYTES);
	pthread_mutex_unlock(&id_state.lock);

	memcpy(out, prefix, plen);
	out[plen] = '_';
	id_encode(raw, out + plen + 1);
}

static int
id_char_valid(char c)
{
	return c != '\0' && strchr(id_alphabet, c) != NULL;
}

int
bw_id_valid(const char *s, const char *prefix)
{
	size_t	plen, i;

	if (s == NULL || prefix == NULL)
		return 0;
	plen = strlen(prefix);
	if (strncmp(s, prefix, plen) != 0 || s[plen] != '_')
		return 0;
	s += plen + 1;
	if (strlen(s) != ID_CHARS)
		return 0;
	for (i = 0; i < ID_CHARS; i++)
		if (!id_char_valid(s[i]))
			return 0;
	return 1;
}

/*
 * N base62 characters from the CSPRNG. Bytes >= 248 (4 * 62) are thrown
 * away so that every character is equally likely: a plain modulo would
 * favour the first eight.
 */
static void
b62_fill(char *out, size_t n)
{
	uint8_t	buf[64];
	size_t	i, used;

	used = sizeof(buf);
	for (i = 0; i < n;) {
		if (used == sizeof(buf)) {
			bw_random_bytes(buf, sizeof(buf));
			used = 0;
		}
		if (buf[used] < 248)
			out[i++] = b62_alphabet[buf[used] % 62];
		used++;
	}
	out[n] = '\0';
	explicit_bzero(buf, sizeof(buf));
}

static int
b62_valid(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(b62_alphabet, s[i]) == NULL)
			return 0;
	return s[n] == '\0';
}

void
bw_apikey_new(enum bw_key_type type, int livemode, char *out)
{
	const char	*prefix;

	if (type == BW_KEY_SECRET)
		prefix = livemode ? "sk_live_" : "sk_test_";
	else
		prefix = livemode ? "pk_live_" : "pk_test_";
	memcpy(out, prefix, 8);
	b62_fill(out + 8, APIKEY_RANDOM);
}

int
bw_apikey_parse(const char *key, enum bw_key_type *type, int *livemode)
{
	enum bw_key_type	t;
	int			live;

	if (key == NULL)
		return BW_ERROR;
	if (key[0] == 's' && key[1] == 'k')
		t = BW_KEY_SECRET;
	else if (key[0] == 'p' && key[1] == 'k')
		t = BW_KEY_PUBLISHABLE;
	else
		return BW_ERROR;
	if (strncmp(key + 2, "_live_", 6) == 0)
		live = 1;
	else if (strncmp(key + 2, "_test_", 6) == 0)
		live = 0;
	else
		return BW_ERROR;
	if (!b62_valid(key + 8, APIKEY_RANDOM))
		return BW_ERROR;
	if (type != NULL)
		*type = t;
	if (livemode != NULL)
		*livemode = live;
	return BW_OK;
}

void
bw_sha256_hex(const char *s, size_t len, char out[65])
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		md[EVP_MAX_MD_SIZE];
	unsigned int		mdlen, i;

	if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		/* Only a broken libcrypto gets here; a wrong hash is worse. */
		bw_log(BW_LOG_ERROR, "bw_sha256_hex: EVP_Digest failed");
		abort();
	}
	for (i = 0; i < mdlen; i++) {
		out[i * 2] = hex[md[i] >> 4];
		out[i * 2 + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
}

void
bw_webhook_secret_new(char *out)
{
	memcpy(out, "whsec_", 6);
	b62_fill(out + 6, APIKEY_RANDOM);
}

void
bw_token_new(char *out, size_t n)
{
	b62_fill(out, n);
}

/*
 * argon2 fails only when it cannot allocate its 19 MiB or on absurd input
 * lengths; like bw_malloc we treat that as out of memory and abort, so the
 * function never returns NULL.
 */
char *
bw_password_hash(const char *password)
{
	uint8_t	 salt[PW_SALT_LEN];
	size_t	 len;
	char	*encoded;
	int	 rc;

	if (password == NULL)
		password = "";
	bw_random_bytes(salt, sizeof(salt));
	len = argon2_encodedlen(PW_T_COST, PW_M_COST, PW_PARALLELISM,
	    PW_SALT_LEN, PW_HASH_LEN, Argon2_id);
	encoded = bw_malloc(len);
	rc = argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_PARALLELISM,
	    password, strlen(password), salt, sizeof(salt), PW_HASH_LEN,
	    encoded, len);
	if (rc != ARGON2_OK) {
		bw_log(BW_LOG_ERROR, "argon2id_hash_encoded: %s",
		    argon2_error_message(rc));
		abort();
	}
	return encoded;
}

/* A hash of a random password nobody knows, so burning never matches. */
static void
pw_dummy_init(void)
{
	char	pw[33];

	bw_token_new(pw, 32);
	pw_dummy = bw_password_hash(pw);
	explicit_bzero(pw, sizeof(pw));
}

int
bw_password_verify(const char *encoded, const char *password)
{
	int	rc;

	if (password == NULL)
		password = "";
	if (encoded == NULL) {
		bw_password_burn(password);
		return BW_ERROR;
	}
	rc = argon2id_verify(encoded, password, strlen(password));
	if (rc == ARGON2_OK)
		return BW_OK;
	/*
	 * A mismatch has already paid for a full hash. Any other error means
	 * ENCODED did not decode and argon2 returned at once: spend the same
	 * time on the dummy so a bad row looks like a wrong password.
	 */
	if (rc != ARGON2_VERIFY_MISMATCH)
		bw_password_burn(password);
	return BW_ERROR;
}

void
bw_password_burn(const char *password)
{
	if (password == NULL)
		password = "";
	pthread_once(&pw_dummy_once, pw_dummy_init);
	(void)argon2id_verify(pw_dummy, password, strlen(password));
}

/* Unpadded base64url (RFC 7515) of N bytes; OUT holds 4 * N / 3 + 2. */
static void
jwt_b64url(const uint8_t *in, size_t n, char *out)
{
	static const char	b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t		v;
	size_t			i, rem;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = b64[(v >> 6) & 63];
		*out++ = b64[v & 63];
	}
	rem = n - i;
	if (rem > 0) {
		v = (uint32_t)in[i] << 16;
		if (rem == 2)
			v |= (uint32_t)in[i + 1] << 8;
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		if (rem == 2)
			*out++ = b64[(v >> 6) & 63];
	}
	*out = '\0';
}

/*
 * Checks TOKEN's HS256 signature ourselves, in constant time, before libjwt
 * sees it: libjwt 1.x releases compared HMACs with strcmp(), which leaks how
 * many leading characters of a forgery were right, and we do not want to
 * depend on the packaged build carrying a fix.
 */
static int
jwt_hmac_check(const char *token, const char *secret)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen;
	char		 want[JWT_SIG_LEN + 2];
	const char	*dot1, *dot2;
	int		 ok;

	if ((dot1 = strchr(token, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL ||
	    strchr(dot2 + 1, '.') != NULL)
		return BW_ERROR;
	if (strlen(dot2 + 1) != JWT_SIG_LEN)
		return BW_ERROR;
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)token, (size_t)(dot2 - token), mac,
	    &maclen) == NULL || maclen != 32)
		return BW_ERROR;
	jwt_b64url(mac, maclen, want);
	ok = bw_ct_equal(want, dot2 + 1, JWT_SIG_LEN);
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(want, sizeof(want));
	return ok ? BW_OK : BW_ERROR;
}

char *
bw_jwt_sign(const struct bw_jwt_claims *c, const char *secret)
{
	jwt_t	*jwt = NULL;
	char	*token = NULL;
	size_t	 slen;

	if (c == NULL || secret == NULL)
		return NULL;
	slen = strlen(secret);
	/* bw_jwt_verify would refuse what we cannot verify ourselves. */
	if (slen == 0 || slen > INT32_MAX || c->sub[0] == '\0' ||
	    c->jti[0] == '\0' || c->typ[0] == '\0')
		return NULL;
	if (jwt_new(&jwt) != 0)
		return NULL;
	if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret,
	    (int)slen) != 0)
		goto out;
	if (jwt_add_grant(jwt, "sub", c->sub) != 0 ||
	    jwt_add_grant(jwt, "jti", c->jti) != 0 ||
	    jwt_add_grant(jwt, "typ", c->typ) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)c->iat) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)c->exp) != 0)
		goto out;
	/* Platform admins have no tenant: leave the claim out (API.md). */
	if (c->tenant_id[0] != '\0' &&
	    jwt_add_grant(jwt, "tenant_id", c->tenant_id) != 0)
		goto out;
	if (c->role[0] != '\0' && jwt_add_grant(jwt, "role", c->role) != 0)
		goto out;
	if (c->email[0] != '\0' && jwt_add_grant(jwt, "email", c->email) != 0)
		goto out;
	token = jwt_encode_str(jwt);
out:
	jwt_free(jwt);
	return token;
}

/*
 * Copies string claim NAME into OUT. A missing optional claim is "", a
 * missing required one, a non-string or one too long for OUT is an error.
 */
static int
jwt_claim_str(json_t *grants, const char *name, int required, char *out,
    size_t outlen)
{
	json_t		*v;
	const char	*s;
	size_t		 len;

	out[0] = '\0';
	if ((v = json_object_get(grants, name)) == NULL)
		return required ? BW_ERROR : BW_OK;
	if (!json_is_string(v))
		return BW_ERROR;
	s = json_string_value(v);
	len = json_string_length(v);
	/* An embedded NUL would make the claim mean two different things. */
	if (len >= outlen || strlen(s) != len || (required && len == 0))
		return BW_ERROR;
	memcpy(out, s, len + 1);
	return BW_OK;
}

int
bw_jwt_verify(const char *token, const char *secret, int64_t now,
    struct bw_jwt_claims *claims)
{
	struct bw_jwt_claims	 c;
	jwt_t			*jwt = NULL;
	json_t			*grants = NULL, *v;
	char			*js = NULL;
	size_t			 slen;
	int			 rc = BW_ERROR;

	if (token == NULL || secret == NULL || claims == NULL)
		return BW_ERROR;
	slen = strlen(secret);
	if (slen == 0 || slen > INT32_MAX || strlen(token) > JWT_MAX_LEN)
		return BW_ERROR;
	if (jwt_hmac_check(token, secret) != BW_OK)
		return BW_ERROR;
	if (jwt_decode(&jwt, token, (const unsigned char *)secret,
	    (int)slen) != 0 || jwt == NULL)
		return BW_ERROR;
	/*
	 * The header picks the algorithm; only HS256 is ours. libjwt would
	 * accept HS384/HS512 signed with the same secret.
	 */
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;

	/* Read the claims as JSON so that a wrongly typed one is refused. */
	if ((js = jwt_get_grants_json(jwt, NULL)) == NULL ||
	    (grants = json_loads(js, 0, NULL)) == NULL ||
	    !json_is_object(grants))
		goto out;

	memset(&c, 0, sizeof(c));
	if (jwt_claim_str(grants, "sub", 1, c.sub, sizeof(c.sub)) != BW_OK ||
	    jwt_claim_str(grants, "jti", 1, c.jti, sizeof(c.jti)) != BW_OK ||
	    jwt_claim_str(grants, "typ", 1, c.typ, sizeof(c.typ)) != BW_OK ||
	    jwt_claim_str(grants, "tenant_id", 0, c.tenant_id,
	    sizeof(c.tenant_id)) != BW_OK ||
	    jwt_claim_str(grants, "role", 0, c.role, sizeof(c.role)) != BW_OK ||
	    jwt_claim_str(grants, "email", 0, c.email,
	    sizeof(c.email)) != BW_OK)
		goto out;

	/* RFC 7519: the token is no longer good at or after exp. */
	if ((v = json_object_get(grants, "exp")) == NULL ||
	    !json_is_integer(v))
		goto out;
	c.exp = (int64_t)json_integer_value(v);
	if (c.exp <= now)
		goto out;
	if ((v = json_object_get(grants, "iat")) != NULL) {
		if (!json_is_integer(v))
			goto out;
		c.iat = (int64_t)json_integer_value(v);
	}

	*claims = c;
	rc = BW_OK;
out:
	json_decref(grants);
	free(js);
	jwt_free(jwt);
	return rc;
}
