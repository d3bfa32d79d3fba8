/*
 * jwt_auth: a small mosquitto 2.0 auth plugin for the test suites.
 *
 * A client authenticates with an HS256 JSON Web Token (RFC 7519), either
 *   - as the CONNECT password (MOSQ_EVT_BASIC_AUTH; any user name), or
 *   - as MQTT 5 Authentication Data under Authentication Method `method`
 *     (MOSQ_EVT_EXT_AUTH_START, MQTT 5 §4.12 enhanced authentication).
 * A bad signature, an `alg` other than HS256 or a missing/past `exp` is
 * refused: CONNACK 0x87 Not authorized.
 *
 * At its token's `exp` a connection is ended with DISCONNECT 0x87 Not
 * authorized, as EMQX does (checked on every MOSQ_EVT_TICK, which mosquitto
 * runs at least every 100 ms). A client on the Authentication Data path may
 * re-authenticate on the live connection (AUTH 0x19 with a fresh token,
 * §4.12.1): on success the broker answers AUTH 0x00 and the connection's
 * expiry moves to the new `exp`; a bad token ends the connection with
 * DISCONNECT 0x87. mosquitto routes AUTH only for connections whose CONNECT
 * named a method: a password-path client cannot re-authenticate.
 *
 * The public plugin API of mosquitto 2.0.11 cannot send a DISCONNECT with a
 * reason of our choice: mosquitto_kick_client_by_clientid() sends DISCONNECT
 * 0x98 Administrative action (src/plugin_public.c, disconnect_client()).
 * And 2.0.11 answers a refused re-authentication with a CONNACK 0x87 on the
 * live connection (src/handle_auth.c; 2.0.13 fixed it: DISCONNECT 0x87).
 * So this plugin calls the broker's own send__disconnect() and
 * do_disconnect(), which the Debian binary exports (nm -D /usr/sbin/mosquitto),
 * exactly as disconnect_client() does but with 0x87. They are declared weak:
 * on a broker that does not export them the plugin falls back to the public
 * API and logs it (exp: DISCONNECT 0x98; bad re-auth: the broker's answer).
 *
 * Options (plugin_opt_<name> in mosquitto.conf):
 *   secret     the HMAC key (required)
 *   method     the Authentication Method name (default "JWT")
 *   reauth     "allow" (default) or "refuse": refuse every re-authentication
 *              (the token is not even read), for testing a client's fallback
 *   challenge  "true": after a valid token, one more round (§4.12: AUTH 0x18
 *              Continue): the broker sends a nonce as Authentication Data
 *              and the client must send it back in an AUTH 0x18
 *   refusal    how a bad re-authentication is answered: "disconnect"
 *              (default, DISCONNECT 0x87) or "broker" (what mosquitto itself
 *              does: CONNACK 0x87 on 2.0.11)
 *
 * Every decision is logged with the prefix "jwt_auth:" so tests can wait
 * for it. Built by test/support/mosquitto-jwt.ts:
 *   gcc -shared -fPIC -O2 -o jwt_auth.so jwt_auth.c -lcrypto
 * HMAC comes from OpenSSL's libcrypto (mosquitto itself links it; headers
 * from libssl-dev): no hand-written crypto in the test broker.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/* From mosquitto.h (libmosquitto-dev, not needed otherwise): stable values. */
#define MOSQ_ERR_AUTH_CONTINUE -4
#define MOSQ_ERR_SUCCESS 0
#define MOSQ_ERR_NOMEM 1
#define MOSQ_ERR_PROTOCOL 2
#define MOSQ_ERR_INVAL 3
#define MOSQ_ERR_AUTH 11
#define MOSQ_ERR_PLUGIN_DEFER 17
#define MOSQ_LOG_NOTICE (1 << 1)
#define MOSQ_LOG_WARNING (1 << 2)

#define MQTT_RC_NOT_AUTHORIZED 0x87

/* Broker internals (exported by the mosquitto binary), see the header. */
extern int send__disconnect(struct mosquitto *, uint8_t, const mosquitto_property *)
	__attribute__((weak));
extern void do_disconnect(struct mosquitto *, int) __attribute__((weak));

static mosquitto_plugin_id_t *plugin_id;
static char *secret;
static char *method;
static bool refuse_reauth;
static bool challenge;
static bool refusal_by_broker;

/* One authenticated (or authenticating) connection. */
struct conn {
	struct mosquitto *client;
	double exp;           /* current expiry, seconds since the epoch */
	double pending_exp;   /* a validated token's exp, awaiting the nonce */
	bool active;          /* authenticated: re-auths and the expiry apply */
	char nonce[33];       /* the challenge sent, "" when none */
	struct conn *next;
};
static struct conn *conns;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *id_of(struct mosquitto *client)
{
	const char *id = mosquitto_client_id(client);
	return id ? id : "<unknown>";
}

static struct conn *find(struct mosquitto *client)
{
	for (struct conn *c = conns; c; c = c->next)
		if (c->client == client) return c;
	return NULL;
}

static struct conn *find_or_add(struct mosquitto *client)
{
	struct conn *c = find(client);
	if (c) return c;
	c = calloc(1, sizeof(*c));
	if (!c) return NULL;
	c->client = client;
	c->next = conns;
	conns = c;
	return c;
}

static void forget(struct mosquitto *client)
{
	for (struct conn **p = &conns; *p; p = &(*p)->next) {
		if ((*p)->client == client) {
			struct conn *gone = *p;
			*p = gone->next;
			free(gone);
			return;
		}
	}
}

/* base64url (RFC 4648 §5, no padding) → bytes; returns the length or -1. */
static int b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		int v;
		if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
		else if (ch == '-') v = 62;
		else if (ch == '_') v = 63;
		else return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap) return -1;
			out[n++] = (unsigned char)((acc >> bits) & 0xff);
		}
	}
	return (int)n;
}

/* Skips one JSON value starting at *p (strings, numbers, literals, nesting). */
static bool skip_value(const char **p)
{
	const char *s = *p;
	int depth = 0;
	do {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1]) s++;
			if (!*s) return false;
			s++;
		} else if (*s == '{' || *s == '[') {
			depth++;
			s++;
			continue;
		} else if (*s == '}' || *s == ']') {
			depth--;
			s++;
		} else if (*s == ',' || *s == ':') {
			s++;
			continue;
		} else if (*s) {
			while (*s && !strchr(",}] \t\r\n", *s)) s++;
		} else {
			return false;
		}
	} while (depth > 0);
	*p = s;
	return true;
}

/*
 * Finds the top-level member `key` of the JSON object `json`; returns a
 * pointer to its value (after the colon and blanks) or NULL.
 */
static const char *json_member(const char *json, const char *key)
{
	const char *s = json;
	size_t klen = strlen(key);
	while (*s == ' ') s++;
	if (*s++ != '{') return NULL;
	for (;;) {
		while (*s == ' ' || *s == ',' || *s == '\n' || *s == '\t' || *s == '\r') s++;
		if (*s != '"') return NULL;
		const char *name = s + 1;
		const char *end = name;
		while (*end && *end != '"') end += (*end == '\\' && end[1]) ? 2 : 1;
		if (!*end) return NULL;
		bool match = (size_t)(end - name) == klen && !strncmp(name, key, klen);
		s = end + 1;
		while (*s == ' ') s++;
		if (*s++ != ':') return NULL;
		while (*s == ' ') s++;
		if (match) return s;
		if (!skip_value(&s)) return NULL;
	}
}

/*
 * Checks an HS256 JWT: header alg HS256, signature, a numeric exp in the
 * future. On success stores exp and returns true; else logs why.
 */
static bool verify(const char *token, size_t len, const char *who, double *exp_out)
{
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (!dot1 || !dot2 || len > 4096) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: not a JWT", who);
		return false;
	}
	char header[1024], payload[3072];
	unsigned char sig[64], mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	int hl = b64url_decode(token, (size_t)(dot1 - token), (unsigned char *)header, sizeof(header) - 1);
	int pl = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), (unsigned char *)payload, sizeof(payload) - 1);
	int sl = b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), sig, sizeof(sig));
	if (hl < 0 || pl < 0 || sl < 0) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: bad base64url", who);
		return false;
	}
	header[hl] = '\0';
	payload[pl] = '\0';

	const char *alg = json_member(header, "alg");
	if (!alg || strncmp(alg, "\"HS256\"", 7)) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: alg is not HS256", who);
		return false;
	}
	/* The signature covers "<header>.<payload>" exactly as sent. */
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)token,
		(size_t)(dot2 - token), mac, &mac_len);
	if ((unsigned int)sl != mac_len || CRYPTO_memcmp(sig, mac, mac_len) != 0) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: bad signature", who);
		return false;
	}
	const char *exp = json_member(payload, "exp");
	char *end = NULL;
	double value = exp ? strtod(exp, &end) : 0;
	if (!exp || end == exp) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: no numeric exp", who);
		return false;
	}
	if (value <= now_s()) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: expired (exp %.3f)", who, value);
		return false;
	}
	*exp_out = value;
	return true;
}

/* Ends a connection with DISCONNECT 0x87 (or 0x98 through the public API). */
static void disconnect_not_authorized(struct mosquitto *client)
{
	if (send__disconnect && do_disconnect) {
		if (mosquitto_client_protocol_version(client) == 5)
			send__disconnect(client, MQTT_RC_NOT_AUTHORIZED, NULL);
		do_disconnect(client, MOSQ_ERR_AUTH);
	} else {
		mosquitto_log_printf(MOSQ_LOG_WARNING,
			"jwt_auth: broker internals not exported, kicking (DISCONNECT 0x98)");
		mosquitto_kick_client_by_clientid(mosquitto_client_id(client), true);
	}
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = event_data;
	double exp;
	(void)event;
	(void)userdata;
	if (!ed->password || !verify(ed->password, strlen(ed->password), id_of(ed->client), &exp))
		return MOSQ_ERR_AUTH;
	struct conn *c = find_or_add(ed->client);
	if (!c) return MOSQ_ERR_NOMEM;
	c->exp = exp;
	c->active = true;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: password accepted, exp %.3f",
		id_of(ed->client), exp);
	return MOSQ_ERR_SUCCESS;
}

/* Sets the AUTH/CONNACK Authentication Data the broker sends (it frees it). */
static int reply(struct mosquitto_evt_extended_auth *ed, const char *data)
{
	size_t n = strlen(data);
	ed->data_out = malloc(n);
	if (!ed->data_out) return MOSQ_ERR_NOMEM;
	memcpy(ed->data_out, data, n);
	ed->data_out_len = (uint16_t)n;
	return MOSQ_ERR_SUCCESS;
}

/* A refused re-authentication: DISCONNECT 0x87 unless `refusal broker`. */
static int refuse(struct mosquitto_evt_extended_auth *ed, bool reauth)
{
	if (reauth && !refusal_by_broker && send__disconnect) {
		send__disconnect(ed->client, MQTT_RC_NOT_AUTHORIZED, NULL);
		/* Not MOSQ_ERR_AUTH: that would make 2.0.11 add a CONNACK after it. */
		return MOSQ_ERR_PROTOCOL;
	}
	return MOSQ_ERR_AUTH;
}

static int on_ext_auth_start(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_extended_auth *ed = event_data;
	(void)event;
	(void)userdata;
	if (!ed->auth_method || strcmp(ed->auth_method, method)) return MOSQ_ERR_PLUGIN_DEFER;

	/* The v5 event does not say whether this is a re-authentication: a known,
	 * authenticated connection sending AUTH 0x19 is one. */
	struct conn *c = find(ed->client);
	bool reauth = c && c->active;
	const char *who = id_of(ed->client);
	double exp;
	if (reauth && refuse_reauth) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: re-authentication refused (reauth refuse)", who);
		return refuse(ed, true);
	}
	if (!ed->data_in || !verify(ed->data_in, ed->data_in_len, who, &exp)) {
		if (reauth) mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: re-authentication refused", who);
		return refuse(ed, reauth);
	}
	c = find_or_add(ed->client);
	if (!c) return MOSQ_ERR_NOMEM;
	if (challenge) {
		unsigned char raw[16];
		if (RAND_bytes(raw, sizeof(raw)) != 1) return MOSQ_ERR_AUTH;
		for (int i = 0; i < 16; i++) snprintf(c->nonce + 2 * i, 3, "%02x", raw[i]);
		c->pending_exp = exp;
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: token valid, challenge sent", who);
		int rc = reply(ed, c->nonce);
		return rc == MOSQ_ERR_SUCCESS ? MOSQ_ERR_AUTH_CONTINUE : rc;
	}
	c->exp = exp;
	c->active = true;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: %s accepted, exp %.3f", who,
		reauth ? "re-authentication" : "authentication data", exp);
	return MOSQ_ERR_SUCCESS;
}

/* AUTH 0x18 from the client: only the answer to our challenge is expected. */
static int on_ext_auth_continue(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_extended_auth *ed = event_data;
	(void)event;
	(void)userdata;
	/* 2.0.11 leaves auth_method NULL in this event (src/security.c); the broker
	 * has already checked that the AUTH names the CONNECT's method. */
	if (ed->auth_method && strcmp(ed->auth_method, method)) return MOSQ_ERR_PLUGIN_DEFER;
	struct conn *c = find(ed->client);
	const char *who = id_of(ed->client);
	bool reauth = c && c->active;
	if (!c || !c->nonce[0] || ed->data_in_len != strlen(c->nonce)
		|| memcmp(ed->data_in, c->nonce, ed->data_in_len)) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: wrong challenge answer", who);
		if (c) c->nonce[0] = '\0';
		return refuse(ed, reauth);
	}
	c->nonce[0] = '\0';
	c->exp = c->pending_exp;
	c->active = true;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: challenge answered, %s accepted, exp %.3f",
		who, reauth ? "re-authentication" : "authentication data", c->exp);
	return MOSQ_ERR_SUCCESS;
}

/* Ends every connection whose token has expired. */
static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	double now = now_s();
	for (;;) {
		struct conn *c = conns;
		while (c && !(c->active && c->exp <= now)) c = c->next;
		if (!c) return MOSQ_ERR_SUCCESS;
		struct mosquitto *client = c->client;
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jwt_auth: %s: token expired, disconnecting (0x87)",
			id_of(client));
		/* Forget it first: disconnecting fires on_disconnect, which edits the list. */
		forget(client);
		disconnect_not_authorized(client);
	}
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_disconnect *ed = event_data;
	(void)event;
	(void)userdata;
	forget(ed->client);
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for (int i = 0; i < supported_version_count; i++)
		if (supported_versions[i] == 5) return 5;
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
	struct mosquitto_opt *opts, int opt_count)
{
	(void)userdata;
	plugin_id = identifier;
	for (int i = 0; i < opt_count; i++) {
		const char *k = opts[i].key, *v = opts[i].value;
		if (!strcmp(k, "secret")) secret = strdup(v);
		else if (!strcmp(k, "method")) method = strdup(v);
		else if (!strcmp(k, "reauth")) refuse_reauth = !strcmp(v, "refuse");
		else if (!strcmp(k, "challenge")) challenge = !strcmp(v, "true");
		else if (!strcmp(k, "refusal")) refusal_by_broker = !strcmp(v, "broker");
	}
	if (!secret || !*secret) {
		mosquitto_log_printf(MOSQ_LOG_WARNING, "jwt_auth: plugin_opt_secret is required");
		return MOSQ_ERR_INVAL;
	}
	if (!method) method = strdup("JWT");
	mosquitto_log_printf(MOSQ_LOG_NOTICE,
		"jwt_auth: ready (method %s, reauth %s, challenge %s, refusal %s, internals %s)", method,
		refuse_reauth ? "refuse" : "allow", challenge ? "true" : "false",
		refusal_by_broker ? "broker" : "disconnect",
		send__disconnect && do_disconnect ? "found" : "missing");
	int rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL);
	if (!rc) rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_EXT_AUTH_START, on_ext_auth_start, NULL, NULL);
	if (!rc) rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_EXT_AUTH_CONTINUE, on_ext_auth_continue, NULL, NULL);
	if (!rc) rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_TICK, on_tick, NULL, NULL);
	if (!rc) rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, NULL);
	return rc;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
	(void)userdata;
	(void)opts;
	(void)opt_count;
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_EXT_AUTH_START, on_ext_auth_start, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_EXT_AUTH_CONTINUE, on_ext_auth_continue, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
	while (conns) forget(conns->client);
	free(secret);
	free(method);
	secret = method = NULL;
	return MOSQ_ERR_SUCCESS;
}
