// test/drivers/node_drivers.js: record_ai_call and record_ai_calls from
// node-postgres (the `pg` package) as applications call them, and what each
// call stored (read back from ai_call by the returned id).
//
// node-postgres sends every parameter as text with no type (oid 0, unknown):
// a JS number 12.5 arrives as the string '12.5', an object as its
// JSON.stringify, null as NULL, a JS array as a PostgreSQL array literal.
// PostgreSQL then picks the function from the unknown arguments alone.
//
// `pg` is installed outside the checkout by scripts/install-deps.sh
// (/var/cache/aitrack/npm); run.sh sets NODE_PATH.  The cluster comes from
// PGHOST, PGPORT, PGUSER, PGDATABASE.  Output as in common.py.
'use strict';

const { Client } = require('pg');

const V14 = [1, 4];
const USER = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
const RESPONSE = { text: 'bonjour' };
const METRICS = { input_tokens: 12, output_tokens: 3, cost_usd: 0.000075,
                  duration_ms: 412.7, status: 'success' };
const STORED = { input_tokens: 12, output_tokens: 3, cost_usd: '0.000075',
                 duration_ms: 413, status: 'success', cost_source: 'provided' };
const VER = 'drivers-node-pg';

const READ_BACK = `
SELECT json_build_object(
    'input_tokens', c.input_tokens, 'reasoning_tokens', c.reasoning_tokens,
    'output_tokens', c.output_tokens,
    'cost_usd', trim_scale(c.cost_usd)::text, 'cost_source', c.cost_source,
    'duration_ms', c.duration_ms, 'status', c.status, 'user_id', c.user_id,
    'call_type', c.call_type,
    'time_to_first_token_ms', c.time_to_first_token_ms,
    'prompt', c.prompt) AS row
  FROM ai_call c WHERE c.id = $1`;

let passed = 0, failed = 0, todo = 0;
let version = [0, 0];

class Failure extends Error {}

function describe(e) {
  return `${e.code || e.name} ${String(e.message).split('\n')[0]}`;
}

async function check(name, fn, needs) {
  const isTodo = needs && (version[0] < needs[0] ||
                           (version[0] === needs[0] && version[1] < needs[1]));
  try {
    await fn();
  } catch (e) {
    const why = e instanceof Failure ? e.message : describe(e);
    if (isTodo) {
      todo++;
      console.log(`not ok - ${name}: ${why} # TODO needs ${needs.join('.')}`);
    } else {
      failed++;
      console.log(`not ok - ${name}: ${why}`);
    }
    return;
  }
  passed++;
  console.log(`ok - ${name}`);
}

async function main() {
  const db = new Client();     // PGHOST, PGPORT, PGUSER, PGDATABASE
  const verify = new Client();
  await db.connect();
  await verify.connect();
  const v = (await verify.query(
    "SELECT extversion FROM pg_extension WHERE extname = 'aitrack'")).rows[0].extversion;
  version = v.split('.').map(Number);
  console.log(`# aitrack ${v}; node ${process.version}; pg ${require('pg/package.json').version}`);

  async function scalar(sql, params) {
    const r = await db.query(sql, params);
    return r.rows[0][Object.keys(r.rows[0])[0]];
  }

  async function expectRow(id, want) {
    // bigint comes back as a string from node-postgres
    if (typeof id !== 'string' || !/^\d+$/.test(id)) throw new Failure(`returned ${id}, not an id`);
    const r = await verify.query(READ_BACK, [id]);
    if (r.rows.length !== 1) throw new Failure(`no ai_call row with id ${id}`);
    const got = r.rows[0].row;
    const diffs = [];
    for (const [k, val] of Object.entries(want)) {
      const have = got[k];
      if (have !== val) diffs.push(`${k} ${JSON.stringify(have)}, expected ${JSON.stringify(val)}`);
    }
    if (diffs.length) throw new Failure('stored ' + diffs.join('; '));
  }

  async function expectError(fn, code) {
    try {
      await fn();
    } catch (e) {
      if (e.code !== code) throw new Failure(`expected ${code}, got ${describe(e)}`);
      return String(e.message).split('\n')[0];
    }
    throw new Failure(`expected ${code}, but the call succeeded`);
  }

  const ph = (n) => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');
  const call = (n) => `SELECT record_ai_call(${ph(n)}) AS id`;

  await check('node-pg: explicit form, positional $1..$9, JS numbers, duration_ms 12.5 -> 13',
    async () => {
      const id = await scalar(call(9), ['gpt-4o', VER, 'positional', RESPONSE, 12, null, 3,
                                        0.000075, 12.5]);
      await expectRow(id, { ...STORED, duration_ms: 13, reasoning_tokens: null });
    }, V14);

  await check('node-pg: explicit form, positional $1..$12, whole duration_ms, user_id string',
    async () => {
      const id = await scalar(call(12), ['gpt-4o', VER, 'positional whole', RESPONSE, 12, null,
                                         3, 0.000075, 412, 'translation', 'success', USER]);
      await expectRow(id, { ...STORED, duration_ms: 412, call_type: 'translation',
                            user_id: USER });
    });

  await check('node-pg: explicit form, named notation in SQL text, duration_ms 12.5 and ' +
              'time_to_first_token_ms 4.4',
    async () => {
      const id = await scalar(
        'SELECT record_ai_call(modelname => $1, version => $2, prompt => $3, response => $4,' +
        ' input_tokens => $5, output_tokens => $6, cost_usd => $7, duration_ms => $8,' +
        ' time_to_first_token_ms => $9, user_id => $10, call_type => $11) AS id',
        ['gpt-4o', VER, 'named', RESPONSE, 12, 3, 0.000075, 12.5, 4.4, USER, 'chat']);
      await expectRow(id, { ...STORED, duration_ms: 13, time_to_first_token_ms: 4,
                            user_id: USER, call_type: 'chat' });
    }, V14);

  await check('node-pg: explicit form, null for every metric', async () => {
    const id = await scalar(call(12), ['gpt-4o', VER, 'nulls', RESPONSE, null, null, null, null,
                                       null, null, 'success', null]);
    await expectRow(id, { input_tokens: null, output_tokens: null, cost_usd: null,
                          cost_source: 'unknown', duration_ms: null, user_id: null,
                          status: 'success' });
  });

  await check('node-pg: input_tokens 3000000000 is 22003 out of range', async () => {
    const msg = await expectError(() => scalar(call(9), ['gpt-4o', VER, 'big', RESPONSE,
                                                         3000000000, null, 3, null, null]),
                                  '22003');
    console.log(`# node-pg: input_tokens 3000000000: ${msg}`);
  });

  await check('node-pg: metrics form, JSON.stringify(metrics) as $5 of 5', async () => {
    const id = await scalar(call(5), ['gpt-4o', VER, 'metrics', RESPONSE,
                                      JSON.stringify(METRICS)]);
    await expectRow(id, { ...STORED, user_id: null });
  }, V14);

  await check('node-pg: metrics form, metrics object as $5, call_type and user_id $6, $7',
    async () => {
      const id = await scalar(call(7), ['gpt-4o', VER, 'metrics object', RESPONSE, METRICS,
                                        'translation', USER]);
      await expectRow(id, { ...STORED, call_type: 'translation', user_id: USER });
    }, V14);

  await check('node-pg: metrics form, $5::jsonb', async () => {
    const id = await scalar('SELECT record_ai_call($1, $2, $3, $4, $5::jsonb, $6, $7) AS id',
                            ['gpt-4o', VER, 'metrics cast', RESPONSE, JSON.stringify(METRICS),
                             null, USER]);
    await expectRow(id, { ...STORED, user_id: USER });
  });

  await check('node-pg: metrics form, named metrics => $5', async () => {
    const id = await scalar('SELECT record_ai_call(modelname => $1, version => $2, prompt => $3,' +
                            ' response => $4, metrics => $5) AS id',
                            ['gpt-4o', VER, 'metrics named', RESPONSE, METRICS]);
    await expectRow(id, { ...STORED });
  });

  await check('node-pg: record_ai_calls(JSON.stringify(array))', async () => {
    const calls = [
      { modelname: 'gpt-4o', version: VER, prompt: 'b1', response: RESPONSE, input_tokens: 12,
        output_tokens: 3, cost_usd: 0.000075, duration_ms: 412, user_id: USER },
      { modelname: 'gpt-4o', version: VER, prompt: 'b2', response: {}, status: 'timeout' },
    ];
    const r = await db.query('SELECT * FROM record_ai_calls($1) AS id', [JSON.stringify(calls)]);
    if (r.rows.length !== 2) throw new Failure(`returned ${r.rows.length} rows, expected 2`);
    await expectRow(r.rows[0].id, { input_tokens: 12, cost_usd: '0.000075', duration_ms: 412,
                                    user_id: USER, prompt: 'b1' });
    await expectRow(r.rows[1].id, { status: 'timeout', prompt: 'b2' });
  });

  // A JS array (not stringified) becomes a PostgreSQL array literal: a note.
  try {
    await db.query('SELECT * FROM record_ai_calls($1)', [[{ modelname: 'x' }]]);
    console.log('# node-pg: record_ai_calls([array]) without JSON.stringify: accepted');
  } catch (e) {
    console.log(`# node-pg: record_ai_calls([array]) without JSON.stringify: ${describe(e)}`);
  }

  await db.end();
  await verify.end();
  console.log(`# node-pg: ${passed} passed, ${failed} failed, ${todo} todo`);
  return failed ? 1 : 0;
}

main().then((rc) => { process.exitCode = rc; }, (e) => {
  console.log(`not ok - node-pg: harness error: ${describe(e)}`);
  process.exitCode = 1;
});
