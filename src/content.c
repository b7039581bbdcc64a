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
 */
#include "aitrack.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
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

void
content_policy_init(void)
{
	DefineCustomEnumVariable("aitrack.store_content",
							 "What record_ai_call keeps of prompts and responses.",
							 "full keeps them, hash keeps a SHA-256 of each, none keeps nothing; "
							 "token counts and costs are kept in every case.",
							 &store_content, STORE_CONTENT_FULL, store_content_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
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

	if (store_content == STORE_CONTENT_FULL)
		return;
	if (store_content == STORE_CONTENT_NONE)
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
