/* placeholder until the parser lands (helper branch parser15) */
#include "aitrack.h"
PG_FUNCTION_INFO_V1(ai_price_from_litellm_1_5);
Datum
ai_price_from_litellm_1_5(PG_FUNCTION_ARGS)
{
	elog(ERROR, "not yet");
}
