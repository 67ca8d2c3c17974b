/**
 * Faults the network and servers produce without telling anyone: a path that black-holes traffic without closing
 * sockets, an answer lost after the statement ran, a close() of a connection still being opened. Each test asserts
 * what the caller sees, how long it took, and that nothing was stored twice or lost. Run against every configured
 * server (embedded PostgreSQL when none is).
 */
import { connect, isOutcomeUnknown, OutcomeUnknownError, SqlClient, TimeoutError } from '../src';
import { configured, postgresServers, TestServer } from './servers';
import { FaultyRelay } from './tcp-proxy';
import { context, timed } from './timing';

interface Flavour {
  readonly placeholder: (n: number) => string;
  /** A function that inserts a row into `table` and returns its id. */
  readonly writingFunction: (name: string, table: string) => string;
}

const POSTGRES: Flavour = {
  placeholder: n => `$${n}`,
  writingFunction: (name, table) => `create function ${name}(v int) returns int language sql as $$ insert into ${table} values (v, 'f') returning id $$`,
};
const MYSQL: Flavour = {
  placeholder: () => '?',
  writingFunction: (name, table) => `create function ${name}(v int) returns int modifies sql data begin insert into ${table} values (v, 'f'); return v; end`,
};

const mysqlUrl = configured('SQL_TEST_MYSQL_URL');
const servers: Array<[string, () => Promise<TestServer>, Flavour]> = [
  ...postgresServers().map((start, i): [string, () => Promise<TestServer>, Flavour] => [`postgres #${i}`, start, POSTGRES]),
  ...(mysqlUrl ? [['mysql', async () => ({ name: 'MariaDB', url: mysqlUrl, kind: 'mysql', stop: async () => {} }), MYSQL] as [string, () => Promise<TestServer>, Flavour]] : []),
];

/** Waits until `done()` holds, at most `ms`. */
async function settled(done: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 10));
}

let counter = 0;

describe.each(servers)('faults (%s)', (_, start, flavour) => {
  let server: TestServer;
  let admin: SqlClient;
  let relay: FaultyRelay;
  let table: string;
  const local = (extra: object = {}) => connect({ url: relay.url(server.url), ...extra });
  const count = async (id: number) => Number((await admin.query<{ n: number }>(`select count(*) as n from ${table} where id = ${id}`)).rows[0].n);

  beforeAll(async () => {
    server = await start();
    admin = connect({ url: server.url });
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    table = `f_${process.pid}_${counter++}`;
    await admin.query(`create table ${table} (id int primary key, note varchar(20))`);
    const target = new URL(server.url);
    relay = await FaultyRelay.start({ host: target.hostname, port: Number(target.port) });
  });
  afterEach(async () => {
    await relay.stop();
    await admin.query(`drop table if exists ${table}`);
  });

  test('a black-holed reused connection: a read ends before the invocation does, with TimeoutError, and the next call recovers', async () => {
    const db = local();
    await db.query('select 1');
    relay.blackhole();
    const { ms, error } = await timed(db.query('select 2', [], { context: context(2_000) }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: 'statement', mayHaveRun: true, mayHaveWritten: false });
    expect(error.message).toMatch(/got no answer within \d+ ms \(the invocation's remaining time less 500 ms was \d+ ms\)/);
    expect(ms).toBeGreaterThanOrEqual(1_400);
    expect(ms).toBeLessThan(1_900);
    relay.heal();
    await expect(db.query('select 3 as n')).resolves.toMatchObject({ rows: [{ n: 3 }] });
    expect(db.stats()).toMatchObject({ opened: 2, timeouts: 1 });
    await db.close();
  });

  test('without a context, queryTimeoutMs bounds a write, and its TimeoutError says it may have been applied', async () => {
    const db = local({ queryTimeoutMs: 700 });
    await db.query('select 1');
    relay.blackhole();
    const { ms, error } = await timed(db.query(`insert into ${table} values (${flavour.placeholder(1)}, 'a')`, [1]));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ phase: 'statement', mayHaveRun: true, mayHaveWritten: true });
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(error.message).toMatch(/may or may not have been applied/);
    expect(ms).toBeGreaterThanOrEqual(650);
    expect(ms).toBeLessThan(1_200);
    await db.close();
  });

  test('calls queued behind a dead connection, and a transaction\'s BEGIN, end in time too', async () => {
    const db = local({ queryTimeoutMs: 600, connectTimeoutMs: 400, connectDeadlineMs: 900 });
    await db.query('select 1');
    relay.blackhole();
    const first = timed(db.query('select 1'));
    const queued = timed(db.transaction(async tx => tx.query('select 2'), { context: context(1_800) }));
    const [a, b] = await Promise.all([first, queued]);
    expect(a.error).toBeInstanceOf(TimeoutError);
    // the transaction waited for the connection, then tried a new one through the black hole: bounded by its context
    expect(b.error).toBeDefined();
    expect(b.ms).toBeLessThan(1_800);
    await db.close();
  });

  test('close() of a black-holed connection returns within a second', async () => {
    const db = local();
    await db.query('select 1');
    relay.blackhole();
    const { ms, error } = await timed(db.close());
    expect(error).toBeUndefined();
    expect(ms).toBeLessThan(1_300);
    // the relay sees the socket close one network round later
    await settled(() => relay.open === 0, 500);
    expect(relay.open).toBe(0);
  });

  test('a write whose answer was lost raises OutcomeUnknownError; it was stored once and not run again', async () => {
    const db = local();
    await db.query('select 1');
    relay.cutAnswers(1);
    const { error } = await timed(db.query(`insert into ${table} values (${flavour.placeholder(1)}, 'b')`, [2]));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.message).toMatch(/it may or may not have been applied .* It was not run again/);
    expect(relay.lostAnswerBytes).toBeGreaterThan(0);
    expect(await count(2)).toBe(1);
    expect(db.stats().retries).toBe(0);
    await db.close();
  });

  test('select of a function that inserts, answer lost on a reused connection: not replayed, stored once', async () => {
    const fn = `add_row_${process.pid}_${counter}`;
    await admin.query(flavour.writingFunction(fn, table));
    try {
      const db = local();
      await db.query('select 1');
      relay.cutAnswers(1);
      const { error } = await timed(db.query(`select ${fn}(${flavour.placeholder(1)}) as id`, [3]));
      expect(error).toBeInstanceOf(OutcomeUnknownError);
      expect(await count(3)).toBe(1);
      expect(db.stats().retries).toBe(0);
      await db.close();
    } finally {
      await admin.query(`drop function if exists ${fn}`);
    }
  });

  test('a read whose answer was lost on a reused connection is run again, once', async () => {
    await admin.query(`insert into ${table} values (4, 'd')`);
    const db = local();
    await db.query('select 1');
    relay.cutAnswers(1);
    await expect(db.query(`select note from ${table} where id = 4 -- it's a read`)).resolves.toMatchObject({ rows: [{ note: 'd' }] });
    expect(db.stats().retries).toBe(1);
    await db.close();
  });

  test('query() inside transaction() with the only connection fails at once instead of waiting for itself', async () => {
    const db = local();
    const { ms, error } = await timed(db.transaction(async () => db.query('select 1')));
    expect(error.message).toMatch(/^query\(\) was called inside transaction\(\) while the transaction holds the only connection: it would wait for itself/);
    expect(ms).toBeLessThan(1_000);
    // the transaction was rolled back and its connection is usable
    await expect(db.query('select 1 as n')).resolves.toMatchObject({ rows: [{ n: 1 }] });
    expect(db.stats().opened).toBe(1);
    await db.close();
  });

  test('close() while the connection is being opened: no error, and the connection is closed when its call ends', async () => {
    const db = local();
    const held = relay.hold();
    const query = db.query('select 1 as n');
    for (let i = 0; i < 100 && relay.accepted === 0; i++) await new Promise(resolve => setTimeout(resolve, 10));
    expect(relay.accepted).toBe(1);
    await expect(db.close()).resolves.toBeUndefined();
    held.release();
    await expect(query).resolves.toMatchObject({ rows: [{ n: 1 }] });
    for (let i = 0; i < 100 && relay.open > 0; i++) await new Promise(resolve => setTimeout(resolve, 10));
    expect(relay.open).toBe(0);
    // and the client stays usable
    await expect(db.query('select 2 as n')).resolves.toMatchObject({ rows: [{ n: 2 }] });
    await db.close();
  });
});
