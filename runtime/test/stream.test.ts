/**
 * Large results: stream() against every configured server (embedded PostgreSQL when none is), with memory held to a
 * bound in a child process whose heap is too small for the buffered answer, backpressure seen from the server,
 * faults mid-stream, and the maxRows guard of buffered queries.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ConfigurationError, connect, OutcomeUnknownError, SqlClient, StreamInterruptedError, TimeoutError, TooManyRowsError,
} from '../src';
import { configured, postgresServers, TestServer } from './servers';
import { FaultyRelay } from './tcp-proxy';
import { context } from './timing';

interface Flavour {
  readonly engine: 'postgres' | 'mysql';
  readonly placeholder: (n: number) => string;
  /** `n` rows (n from 1 to `rows`) with a `pad` of `padding` characters. */
  readonly series: (rows: number, padding?: number) => string;
  /** The server's id of the session running `sql` (to kill it from another session). */
  readonly sessionId: string;
  readonly kill: (id: number) => string;
}

const POSTGRES: Flavour = {
  engine: 'postgres',
  placeholder: n => `$${n}`,
  series: (rows, padding = 10) => `select n, repeat('x', ${padding}) as pad from generate_series(1, ${rows}) as n`,
  sessionId: 'select pg_backend_pid() as id',
  kill: id => `select pg_terminate_backend(${id})`,
};
const MYSQL: Flavour = {
  engine: 'mysql',
  placeholder: () => '?',
  // MariaDB's sequence engine
  series: (rows, padding = 10) => `select seq as n, repeat('x', ${padding}) as pad from seq_1_to_${rows}`,
  sessionId: 'select connection_id() as id',
  kill: id => `kill ${id}`,
};

const mysqlUrl = configured('SQL_TEST_MYSQL_URL');
const servers: Array<[string, () => Promise<TestServer>, Flavour]> = [
  ...postgresServers().map((start, i): [string, () => Promise<TestServer>, Flavour] => [`postgres #${i}`, start, POSTGRES]),
  ...(mysqlUrl ? [['mysql', async () => ({ name: 'MariaDB', url: mysqlUrl, kind: 'mysql', stop: async () => {} }), MYSQL] as [string, () => Promise<TestServer>, Flavour]] : []),
];

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** The runtime bundled once for child processes (plain node, no TypeScript compiler in their heap). */
let bundled: string | undefined;
function runtimeBundle(): string {
  if (bundled) return bundled;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqlapi-stream-')), 'runtime.js');
  esbuild.buildSync({
    entryPoints: [path.join(__dirname, '..', 'src', 'index.ts')],
    bundle: true, platform: 'node', target: 'node20', outfile: out, external: ['pg-native'], logLevel: 'silent',
  });
  return bundled = out;
}

/** Runs `body` (JavaScript, with `db` connected to `url`) in a node whose old space is `heapMb`; its last stdout line is JSON. */
function inChild(url: string, heapMb: number, body: string) {
  const script = `
    const { connect } = require(${JSON.stringify(runtimeBundle())});
    const db = connect({ url: ${JSON.stringify(url)} });
    let peak = 0;
    const sample = () => { peak = Math.max(peak, process.memoryUsage().heapUsed); };
    (async () => { ${body} })().then(result => db.close().then(() => {
      process.stdout.write(JSON.stringify({ ...result, peakHeapMb: Math.round(peak / 2 ** 20) }) + '\\n');
    }), error => { console.error(error); process.exit(3); });`;
  const child = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, '-e', script], { encoding: 'utf8', timeout: 120_000 });
  const last = child.stdout.trim().split('\n').pop();
  return { status: child.status, stderr: child.stderr, result: child.status === 0 && last ? JSON.parse(last) : undefined };
}

let counter = 0;

describe.each(servers)('stream (%s)', (_, start, flavour) => {
  let server: TestServer;
  let admin: SqlClient;
  let table: string;
  const p = flavour.placeholder;
  const real = () => server.kind !== 'embedded';

  beforeAll(async () => {
    server = await start();
    admin = connect({ url: server.url });
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    table = `s_${process.pid}_${counter++}`;
    await admin.query(`create table ${table} (id int primary key, note varchar(20))`);
  });
  afterEach(async () => {
    await admin.query(`drop table if exists ${table}`);
  });

  async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
    const all: T[] = [];
    for await (const row of rows) all.push(row);
    return all;
  }

  test('yields every row in order, with parameters, and hands the connection back for reuse', async () => {
    const db = connect({ url: server.url });
    const rows = await collect(db.stream<{ n: number }>(`select * from (${flavour.series(2_500)}) s where n > ${p(1)} order by n`, [500]));
    expect(rows.map(row => Number(row.n))).toEqual(Array.from({ length: 2_000 }, (_x, i) => i + 501));
    await expect(db.query('select 1 as one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    expect(db.stats()).toMatchObject({ opened: 1, reused: 1 });
    await db.close();
  });

  test('an empty result ends at once; a statement error is thrown and the connection stays usable', async () => {
    const db = connect({ url: server.url });
    expect(await collect(db.stream(`select id from ${table}`))).toEqual([]);
    await expect(collect(db.stream('select * from no_such_table_here'))).rejects.toThrow(/no_such_table_here/);
    await expect(db.query('select 2 as two')).resolves.toMatchObject({ rows: [{ two: 2 }] });
    expect(db.stats().opened).toBe(1);
    await db.close();
  });

  test('memory stays flat: 300,000 rows of 300 bytes stream in a 48 MB heap in which the buffered answer does not fit', () => {
    const rows = 300_000;
    const sql = flavour.series(rows, 300);
    const streamed = inChild(server.url, 48, `
      let count = 0, sum = 0;
      for await (const row of db.stream(${JSON.stringify(sql)})) {
        count++; sum += Number(row.n);
        if (count % 5000 === 0) sample();
      }
      return { count, sum };`);
    expect(streamed.stderr).toBe('');
    expect(streamed.result).toMatchObject({ count: rows, sum: rows * (rows + 1) / 2 });
    expect(streamed.result.peakHeapMb).toBeLessThan(40);
    // the same rows buffered (the limit raised past them) exhaust the same heap: the bound above is real
    const buffered = inChild(server.url, 48, `
      const result = await db.query(${JSON.stringify(sql)}, [], { maxRows: ${rows} });
      return { count: result.rows.length };`);
    expect(buffered.status).not.toBe(0);
    expect(buffered.stderr).toMatch(/heap out of memory|Allocation failed/i);
  });

  test('leaving the loop early closes the connection, which stops the statement, and the client opens a new one', async () => {
    const db = connect({ url: server.url });
    let seen = 0;
    for await (const _row of db.stream(flavour.series(1_000_000), [], { highWaterMark: 100 })) {
      if (++seen === 10) break;
    }
    expect(seen).toBe(10);
    await expect(db.query('select 3 as three')).resolves.toMatchObject({ rows: [{ three: 3 }] });
    expect(db.stats().opened).toBe(2);
    if (real() && server.kind !== 'pgbouncer') {
      // the statement does not run on in the background
      const running = async () => flavour.engine === 'postgres'
        ? Number((await admin.query<{ n: number }>("select count(*) as n from pg_stat_activity where query like '%generate_series(1, 1000000)%' and pid <> pg_backend_pid()")).rows[0].n)
        : Number((await admin.query<{ n: number }>("select count(*) as n from information_schema.processlist where info like '%seq_1_to_1000000%' and id <> connection_id()")).rows[0].n);
      for (let i = 0; i < 50 && await running() > 0; i++) await sleep(20);
      expect(await running()).toBe(0);
    }
    await db.close();
  });

  describe('through a relay', () => {
    let relay: FaultyRelay;
    beforeEach(async () => {
      const target = new URL(server.url);
      relay = await FaultyRelay.start({ host: target.hostname, port: Number(target.port) });
    });
    afterEach(async () => relay.stop());

    test('reading stops at the high-water mark while the consumer waits, and goes on when it takes rows', async () => {
      const db = connect({ url: relay.url(server.url) });
      const rows = db.stream<{ n: number }>(flavour.series(3_000_000, 200), [], { highWaterMark: 200 });
      expect(Number((await rows.next()).value!.n)).toBe(1);
      await sleep(300);
      const paused = relay.answerBytes;
      await sleep(300);
      // while paused only what the sockets' buffers held moved; unpaused, rows flow at tens of MB per 300 ms
      expect(relay.answerBytes - paused).toBeLessThan(64 * 1024);
      for (let i = 2; i <= 50_000; i++) if (Number((await rows.next()).value!.n) !== i) throw new Error(`row ${i} out of order`);
      expect(relay.answerBytes).toBeGreaterThan(paused);
      await rows.return(undefined);
      await db.close();
    });

    test('a stale reused connection that fails the stream before its first row is replaced, once', async () => {
      const db = connect({ url: relay.url(server.url) });
      await db.query('select 1');
      relay.cutAnswers(1);
      const rows = await collect(db.stream<{ n: number }>(flavour.series(3)));
      expect(rows.map(row => Number(row.n))).toEqual([1, 2, 3]);
      expect(db.stats()).toMatchObject({ retries: 1, opened: 2 });
      await db.close();
    });

    test('a connection lost after rows were delivered raises StreamInterruptedError with their count; nothing is replayed', async () => {
      const db = connect({ url: relay.url(server.url) });
      let seen = 0;
      const error = await (async () => {
        for await (const _row of db.stream(flavour.series(1_000_000), [], { highWaterMark: 100 })) {
          if (++seen === 50) relay.dropAll();
        }
      })().catch(e => e);
      expect(error).toBeInstanceOf(StreamInterruptedError);
      expect(error.rowsDelivered).toBe(seen);
      expect(error.message).toMatch(new RegExp(`^the connection failed after ${seen} row\\(s\\) of "select .*" \\(.+\\): the rows delivered are not the whole result, and nothing was run again$`));
      expect(db.stats().retries).toBe(0);
      await expect(db.query('select 1 as one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
      await db.close();
    });

    test('a black-holed stream ends before the invocation does, with TimeoutError, after the rows that came', async () => {
      const db = connect({ url: relay.url(server.url) });
      let seen = 0;
      const started = Date.now();
      const error = await (async () => {
        for await (const _row of db.stream(flavour.series(2_000_000, 100), [], { highWaterMark: 100, context: context(2_000) })) {
          if (++seen === 20) relay.blackhole();
        }
      })().catch(e => e);
      const ms = Date.now() - started;
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toMatchObject({ phase: 'statement', mayHaveRun: true, mayHaveWritten: false });
      expect(error.message).toMatch(/sent no row within \d+ ms after \d+ row\(s\)/);
      expect(seen).toBeGreaterThanOrEqual(20);
      expect(ms).toBeGreaterThanOrEqual(1_300);
      expect(ms).toBeLessThan(1_900);
      relay.heal();
      await expect(db.query('select 1 as one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
      await db.close();
    });

    test('a write whose stream lost its connection before any row raises OutcomeUnknownError and is not run again', async () => {
      if (flavour.engine === 'mysql') return; // MariaDB returns no rows from an INSERT (no RETURNING before 10.5 everywhere)
      const db = connect({ url: relay.url(server.url) });
      await db.query('select 1');
      relay.cutAnswers(1);
      const error = await collect(db.stream(`insert into ${table} values (${p(1)}, 'w') returning id`, [7])).catch(e => e);
      expect(error).toBeInstanceOf(OutcomeUnknownError);
      expect(Number((await admin.query<{ n: number }>(`select count(*) as n from ${table} where id = 7`)).rows[0].n)).toBe(1);
      expect(db.stats().retries).toBe(0);
      await db.close();
    });
  });

  describe('maxRows on buffered queries', () => {
    test('by default a read of more than 100,000 rows raises TooManyRowsError at once, closing its connection', async () => {
      const db = connect({ url: server.url });
      const error = await db.query(flavour.series(150_000)).catch(e => e);
      expect(error).toBeInstanceOf(TooManyRowsError);
      expect(error).toMatchObject({ maxRows: 100_000, completed: false });
      expect(error.message).toMatch(/^"select .*" returned more than 100000 rows \(maxRows\): it was stopped and its connection closed; it wrote nothing\. Read large results with stream\(\)/);
      await expect(db.query(flavour.series(100_000))).resolves.toMatchObject({ rowCount: 100_000 });
      expect(db.stats().opened).toBe(2);
      await db.close();
    });

    test('a query sets its own limit, and the client one for all', async () => {
      const db = connect({ url: server.url, maxRows: 5 });
      await expect(db.query(flavour.series(5))).resolves.toMatchObject({ rowCount: 5 });
      await expect(db.query(flavour.series(6))).rejects.toBeInstanceOf(TooManyRowsError);
      await expect(db.query(flavour.series(6), [], { maxRows: 6 })).resolves.toMatchObject({ rowCount: 6 });
      await expect(db.query(flavour.series(3), [], { maxRows: 0 })).rejects.toThrow(ConfigurationError);
      expect(() => connect({ url: server.url, maxRows: 1.5 })).toThrow(/^maxRows must be a whole number of at least 1 \(got 1.5\)/);
      await db.close();
    });

    test('a write over the limit runs to its end, once: its rows are discarded and the error says it was applied', async () => {
      if (flavour.engine === 'mysql') return; // no INSERT ... RETURNING on every MySQL
      const db = connect({ url: server.url, maxRows: 3 });
      const error = await db.query(`insert into ${table} select n, 'r' from generate_series(1, 10) as n returning id`).catch(e => e);
      expect(error).toBeInstanceOf(TooManyRowsError);
      expect(error).toMatchObject({ completed: true });
      expect(error.message).toMatch(/it ran to its end and its rows were discarded; what it wrote stays unless its transaction rolls back/);
      expect(Number((await admin.query<{ n: number }>(`select count(*) as n from ${table}`)).rows[0].n)).toBe(10);
      // the connection stayed usable
      expect(db.stats().opened).toBe(1);
      await db.query('select 1');
      expect(db.stats().opened).toBe(1);
      await db.close();
    });

    test('in a transaction: the statement runs to its end, the error rolls the transaction back, nothing stays', async () => {
      const db = connect({ url: server.url });
      const error = await db.transaction(async tx => {
        await tx.query(`insert into ${table} values (${p(1)}, 't')`, [1]);
        await tx.query(flavour.series(20), [], { maxRows: 10 });
      }).catch(e => e);
      expect(error).toBeInstanceOf(TooManyRowsError);
      expect(error.completed).toBe(true);
      expect(Number((await admin.query<{ n: number }>(`select count(*) as n from ${table}`)).rows[0].n)).toBe(0);
      expect(db.stats().opened).toBe(1);
      await db.close();
    });
  });
});
