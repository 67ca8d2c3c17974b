/**
 * A pooler that pauses: pgbouncer's PAUSE (what a pooler does during a maintenance switch-over) holds every query
 * of its clients without closing anything. Each call must end within its time with a TimeoutError that says whether
 * the statement may have run, nothing may be stored twice, and the client must recover after RESUME. Runs on a
 * pgbouncer of its own (a free port, in front of SQL_TEST_POSTGRES_URL), so that pausing it disturbs no other test.
 */
import { Client } from 'pg';
import { connect, isOutcomeUnknown, SqlClient, TimeoutError } from '../src';
import { configured, OwnPgbouncer, pgbouncerBinary, REQUIRE_SERVERS, startPgbouncer } from './servers';
import { context, timed } from './timing';

const postgresUrl = configured('SQL_TEST_POSTGRES_URL');
const binary = pgbouncerBinary();
if (REQUIRE_SERVERS && !binary) throw new Error('pgbouncer is not installed but SQL_TEST_REQUIRE_SERVERS=1 makes the pooler tests mandatory');
const run = postgresUrl && binary ? describe : describe.skip;

run('a paused pooler (pgbouncer PAUSE)', () => {
  let pooler: OwnPgbouncer;
  let admin: SqlClient;
  let console_: Client;
  let database: string;
  const table = `pause_${process.pid}`;
  const count = async () => Number((await admin.query<{ n: number }>(`select count(*) as n from ${table}`)).rows[0].n);

  beforeAll(async () => {
    pooler = await startPgbouncer(binary!, postgresUrl!);
    database = new URL(postgresUrl!).pathname.slice(1);
    admin = connect({ url: postgresUrl! });
    await admin.query(`create table if not exists ${table} (id int primary key)`);
    console_ = new Client({ connectionString: pooler.adminUrl });
    await console_.connect();
  });
  afterAll(async () => {
    await console_?.query(`RESUME ${database}`).catch(() => undefined);
    await console_?.end().catch(() => undefined);
    await admin?.query(`drop table if exists ${table}`);
    await admin?.close();
    await pooler?.stop();
  });
  beforeEach(async () => admin.query(`delete from ${table}`));
  afterEach(async () => {
    await console_.query(`RESUME ${database}`).catch(() => undefined);
  });

  test('a read on a warm connection ends before the invocation does, and the client recovers after RESUME', async () => {
    const db = connect({ url: pooler.url });
    await db.query('select 1');
    await console_.query(`PAUSE ${database}`);
    const { ms, error } = await timed(db.query('select 1', [], { context: context(2_000) }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: 'statement', mayHaveRun: true, mayHaveWritten: false });
    expect(ms).toBeGreaterThanOrEqual(1_400);
    expect(ms).toBeLessThan(1_800);
    await console_.query(`RESUME ${database}`);
    await expect(db.query('select 2 as n', [], { context: context(2_000) })).resolves.toMatchObject({ rows: [{ n: 2 }] });
    expect(db.stats()).toMatchObject({ opened: 2, timeouts: 1 });
    await db.close();
  });

  test('a write held by the pause: TimeoutError with an unknown outcome; after RESUME it is stored at most once', async () => {
    const db = connect({ url: pooler.url, queryTimeoutMs: 800 });
    await db.query('select 1');
    await console_.query(`PAUSE ${database}`);
    const { ms, error } = await timed(db.query(`insert into ${table} values ($1)`, [1]));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(error.message).toMatch(/got no answer within 800 ms \(queryTimeoutMs is 800\): it may or may not have been applied/);
    expect(ms).toBeLessThan(1_200);
    await console_.query(`RESUME ${database}`);
    // the caller checks before writing again, as the error tells it to
    const stored = await count();
    expect(stored).toBeLessThanOrEqual(1);
    if (stored === 0) await db.query(`insert into ${table} values ($1)`, [1]);
    expect(await count()).toBe(1);
    await db.close();
  });

  test('a transaction and a stream held by the pause end in time; nothing of the transaction stays', async () => {
    const db = connect({ url: pooler.url, maxConnections: 2 });
    await db.query('select 1');
    await console_.query(`PAUSE ${database}`);
    const [tx, stream] = await Promise.all([
      timed(db.transaction(async t => t.query(`insert into ${table} values ($1)`, [2]), { context: context(1_500) })),
      timed((async () => {
        for await (const _row of db.stream('select generate_series(1, 10)', [], { context: context(1_500) })) { /* none comes */ }
      })()),
    ]);
    expect(tx.error).toBeInstanceOf(TimeoutError);
    // the transaction never got past BEGIN: nothing of it can have been committed
    expect(tx.error).toMatchObject({ mayHaveWritten: false });
    expect(tx.ms).toBeLessThan(1_300);
    expect(stream.error).toBeInstanceOf(TimeoutError);
    expect(stream.ms).toBeLessThan(1_300);
    await console_.query(`RESUME ${database}`);
    expect(await count()).toBe(0);
    await expect(db.query('select 3 as n')).resolves.toMatchObject({ rows: [{ n: 3 }] });
    await db.close();
  });

  test('a first connection while paused: logging in works, the query ends in time', async () => {
    await console_.query(`PAUSE ${database}`);
    const db = connect({ url: pooler.url });
    const { ms, error } = await timed(db.query('select 1', [], { context: context(1_500) }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(ms).toBeLessThan(1_300);
    await console_.query(`RESUME ${database}`);
    await expect(db.query('select 4 as n')).resolves.toMatchObject({ rows: [{ n: 4 }] });
    await db.close();
  });
});
