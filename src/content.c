/*
 * content.c
 *		aitrack.store_content: what record_ai_call() keeps of prompts and
 *		responses.
 *
 *	aitrack.store_content	full | hash | none (superuser; per database or
 *							role with ALTER ... SET)
 *
 * full keeps them, hash keeps a SHA-256 of each, none keeps nothing; the
 * token counts are read from the real response before the policy applies,
 * so counts and costs are kept in every case.
 *
 * The policy in force is what a superuser stored (read from the catalog, see
 * role_setting.c) with PostgreSQL's precedence (the role's in this
 * database, the role's, the database's, ALTER ROLE ALL's), for the login
 * role and, after SET ROLE, for that role too: the stricter of the two.  The session's own value (postgresql.conf,
 * a superuser's SET, or anything a client sets) can make it stricter, never
 * looser.
 */
#include "aitrack.h"

#include "access/xact.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

typedef enum StoreContent
{
	STORE_CONTENT_FULL,
	STORE_CONTENT_HASH,
	STORE_CONTENT_NONE
} StoreContent;

static const struct config_enum_entry store_content_options[] = {
	{"full", STORE_CONTENT_FULL, false},
	{"hash", STORE_CONTENT_HASH, false},
	{"none", STORE_CONTENT_NONE, false},
	{NULL, 0, false}
};

static int	store_content = STORE_CONTENT_FULL;

static void forget_configured(XactEvent event, void *arg);

void
content_policy_init(void)
{
	DefineCustomEnumVariable("aitrack.store_content",
							 "What record_ai_call keeps of prompts and responses.",
							 "full keeps them, hash keeps a SHA-256 of each, none keeps nothing; "
							 "token counts and costs are kept in every case.",
							 &store_content, STORE_CONTENT_FULL, store_content_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	RegisterXactCallback(forget_configured, NULL);
}

/* A stored value as a policy; a value no one could have meant is an error. */
static int
stored_policy(const char *value)
{
	for (const struct config_enum_entry *e = store_content_options; e->name; e++)
		if (pg_strcasecmp(value, e->name) == 0)
			return e->val;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value \"%s\" stored for aitrack.store_content", value),
			 errdetail("It was stored with ALTER ROLE or ALTER DATABASE while the library was not loaded, so nothing checked it."),
			 errhint("Valid values are full, hash and none; fix it with ALTER DATABASE or ALTER ROLE ... SET.")));
	pg_unreachable();
}

static int
stricter(int a, int b)
{
	/* The enum's order is full < hash < none. */
	return a > b ? a : b;
}

/* What a superuser stored for role (see role_setting.c); -1 when nothing. */
static int
configured_policy(Oid role)
{
	char	   *stored = ai_stored_setting(role, "aitrack.store_content");

	return stored ? stored_policy(stored) : -1;
}

/*
 * What the catalog says for this session, kept for the rest of the
 * transaction (a batch asks once per element): valid while the login and
 * SET ROLE roles are those it was read for.
 */
static bool configured_valid = false;
static Oid	configured_login = InvalidOid;
static Oid	configured_role = InvalidOid;
static int	configured = -1;

static void
forget_configured(XactEvent event, void *arg)
{
	configured_valid = false;
}

/* The policy in force for this session: see the header comment. */
static int
effective_store_content(void)
{
	Oid			login = GetSessionUserId();
	Oid			role = GetOuterUserId();

	if (!configured_valid || configured_login != login || configured_role != role)
	{
		configured = configured_policy(login);
		/* After SET ROLE, that role's configuration counts too. */
		if (role != login)
			configured = stricter(configured, configured_policy(role));
		configured_login = login;
		configured_role = role;
		configured_valid = true;
	}
	return stricter(store_content, configured);
}

/* The policy in force, by name (ai_settings()). */
const char *
ai_store_content_effective(void)
{
	int			policy = effective_store_content();

	for (const struct config_enum_entry *e = store_content_options; e->name; e++)
		if (e->val == policy)
			return e->name;
	return "full";
}

/* The SHA-256 of data as 64 hex digits and a NUL. */
static void
sha256_hex(const uint8 *data, size_t len, char *hex)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	hex_encode((const char *) digest, sizeof(digest), hex);
	hex[PG_SHA256_DIGEST_LENGTH * 2] = '\0';
}

/*
 * Apply aitrack.store_content to a call about to be written.  The token
 * counts have already been read from the response.
 */
void
ai_call_apply_content_policy(AiCall *call)
{
	text	   *prompt;
	char	   *response;
	char		hex[PG_SHA256_DIGEST_LENGTH * 2 + 1];
	int			policy = effective_store_content();

	if (policy == STORE_CONTENT_FULL)
		return;
	if (policy == STORE_CONTENT_NONE)
	{
		call->values[AI_PROMPT] = CStringGetTextDatum("");
		call->values[AI_RESPONSE] = DirectFunctionCall1(jsonb_in, CStringGetDatum("null"));
		return;
	}

	prompt = DatumGetTextPP(call->values[AI_PROMPT]);
	sha256_hex((const uint8 *) VARDATA_ANY(prompt), VARSIZE_ANY_EXHDR(prompt), hex);
	call->values[AI_PROMPT] = CStringGetTextDatum(psprintf("sha256:%s", hex));

	/*
	 * The response's jsonb text: key order and spacing do not matter, but
	 * numbers hash as written (1 and 1.0 differ).
	 */
	response = JsonbToCString(NULL, &DatumGetJsonbP(call->values[AI_RESPONSE])->root, -1);
	sha256_hex((const uint8 *) response, strlen(response), hex);
	call->values[AI_RESPONSE] = DirectFunctionCall1(jsonb_in,
													CStringGetDatum(psprintf("{\"sha256\": \"%s\"}", hex)));
}
