/*
 * Credentials: API keys, passwords, JWTs and object ids.
 * Pure functions, safe on any thread (Kore task threads, `billow worker`);
 * they never log a secret and compare secrets in constant time.
 */
#ifndef BW_AUTH_CRYPTO_H
#define BW_AUTH_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Object ids: PREFIX + "_" + 26 lowercase Crockford base32 characters
 * (48-bit millisecond time, then 80 random bits), so ids sort by creation
 * time as strings. OUT must hold BW_ID_MAX bytes.
 */
#define BW_ID_MAX	48
void	bw_id_new(const char *prefix, char *out);
/* 1 when S looks like an id with PREFIX (prefix, '_', 26 base32 chars). */
int	bw_id_valid(const char *s, const char *prefix);

/*
 * API keys: "sk_test_" / "sk_live_" / "pk_test_" / "pk_live_" followed by
 * 32 base62 characters. OUT must hold BW_APIKEY_MAX bytes.
 */
#define BW_APIKEY_MAX	48
enum bw_key_type { BW_KEY_SECRET, BW_KEY_PUBLISHABLE };
void	bw_apikey_new(enum bw_key_type, int livemode, char *out);
/*
 * Parses the prefix of KEY. Returns BW_OK and sets TYPE and LIVEMODE, or
 * BW_ERROR when the key is not of that shape.
 */
int	bw_apikey_parse(const char *key, enum bw_key_type *type,
	    int *livemode);
/* Lowercase hex SHA-256 of S (65 bytes with the NUL). */
void	bw_sha256_hex(const char *s, size_t len, char out[65]);

/* Webhook secrets: "whsec_" + 32 base62 characters. */
void	bw_webhook_secret_new(char *out /* BW_APIKEY_MAX */);

/* Random URL-safe token of N base62 characters into OUT (N + 1 bytes). */
void	bw_token_new(char *out, size_t n);

/*
 * Passwords: argon2id encoded hashes ($argon2id$v=19$m=...,t=...,p=...$..).
 * bw_password_hash returns a malloc'd string the caller frees.
 * bw_password_verify returns BW_OK on a match, BW_ERROR otherwise; it takes
 * the same time whether or not ENCODED is well formed (a dummy hash is
 * verified instead) so that timing does not tell whether a user exists.
 */
char	*bw_password_hash(const char *password);
int	bw_password_verify(const char *encoded, const char *password);
/* Verifies against a fixed dummy hash: used when no user matched. */
void	bw_password_burn(const char *password);

/*
 * JWTs, HS256 via libjwt. Claims: sub, tenant_id (absent for platform
 * admins), role, email, jti, typ ("access" | "refresh" | "admin"), iat, exp.
 */
struct bw_jwt_claims {
	char	sub[BW_ID_MAX];
	char	tenant_id[BW_ID_MAX];
	char	role[16];
	char	email[320];
	char	jti[BW_ID_MAX];
	char	typ[16];
	int64_t	iat;
	int64_t	exp;
};

/*
 * Signs CLAIMS with SECRET; returns a malloc'd token or NULL on failure.
 */
char	*bw_jwt_sign(const struct bw_jwt_claims *claims, const char *secret);
/*
 * Verifies TOKEN's signature (HS256 only; "none" and other algorithms are
 * refused), its expiry against NOW (seconds) and fills CLAIMS.
 * Returns BW_OK or BW_ERROR.
 */
int	bw_jwt_verify(const char *token, const char *secret, int64_t now,
	    struct bw_jwt_claims *claims);

#endif
