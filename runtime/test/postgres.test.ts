/**
 * The client against PostgreSQL-protocol servers: embedded PGlite always (unless a real server is configured), and
 * real PostgreSQL and pgbouncer (transaction pooling, standing in for RDS Proxy) when configured.
 */
import { Client } from 'pg';
import { CommitOutcomeUnknownError, connect, ConnectError, SqlClient } from '../src';
import { postgresServers, TestServer } from './servers';
import { FaultyRelay } from './tcp-proxy';

const local = (url: string, extra: object = {}) => connect({ url, auth: 'password', password: 'local', ...extra });

let tableCounter = 0;
const newTable = () => `t_${process.pid}_${Date.now()}_${tableCounter++}`;

describe.each(postgresServers().map(start => [start]))('PostgreSQL protocol (%#)', start => {
  let server: TestServer;
  let admin: SqlClient;
  let table: string;

  beforeAll(async () => {
    server = await start();
    admin = local(server.url);
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    table = newTable();
    await admin.query(`create table ${table} (id int primary key, note text)`);
  });
  afterEach(async () => {
    await admin.query(`drop table if exists ${table}`);
  });

  test('lazy: no connection until the first query, then one connection reused across calls', async () => {
    const relay = await FaultyRelay.start(hostPort(server.url));
    const db = local(relay.url(server.url));
    expect(relay.accepted).toBe(0);
    for (let i = 0; i < 5; i++) {
      const { rows } = await db.query<{ n: number }>('select $1::int as n', [i]);
      expect(rows).toEqual([{ n: i }]);
    }
    expect(relay.accepted).toBe(1);
    expect(db.stats()).toMatchObject({ opened: 1, reused: 4, evicted: 0, retries: 0 });
    await db.close();
    await relay.stop();
  });

  test('sends no startup parameter but user and database (and the UTF8 encoding pg always sends), and no named prepared statement', async () => {
    const relay = await FaultyRelay.start(hostPort(server.url));
    const db = local(relay.url(server.url));
    process.env.PGAPPNAME = 'should-not-be-sent';
    process.env.PGOPTIONS = '-c statement_timeout=5';
    try {
      await db.query(`insert into ${table} values ($1, $2)`, [1, 'a']);
      await db.query(`select * from ${table} where id = $1`, [1]);
    } finally {
      delete process.env.PGAPPNAME;
      delete process.env.PGOPTIONS;
    }
    expect(relay.startupParameters).toHaveLength(1);
    expect(relay.startupParameters[0]).toEqual({ user: 'postgres', database: new URL(server.url).pathname.slice(1), client_encoding: 'UTF8' });
    if (server.kind === 'postgres') {
      const { rows } = await db.query<{ n: string }>('select count(*)::text as n from pg_prepared_statements');
      expect(rows[0].n).toBe('0');
    }
    await db.close();
    await relay.stop();
  });

  test('a stale reused connection is replaced and a read is retried once', async () => {
    const relay = await FaultyRelay.start(hostPort(server.url));
    const db = local(relay.url(server.url));
    await db.query(`insert into ${table} values (1, 'a')`);
    // WHEN the connection dies while the sandbox is idle
    relay.dropAll();
    await new Promise(resolve => setTimeout(resolve, 50));
    // THEN the next read succeeds on a new connection
    const { rows } = await db.query(`select note from ${table} where id = 1`);
    expect(rows).toEqual([{ note: 'a' }]);
    expect(db.stats().opened).toBe(2);
    await db.close();
    await relay.stop();
  });

  test('a write on a dead connection is not replayed: the caller gets the error and no row is written twice', async () => {
    const relay = await FaultyRelay.start(hostPort(server.url));
    const db = local(relay.url(server.url));
    await db.query('select 1');
    // the socket is destroyed while the client still believes it open
    relay.dropAll();
    await expect(db.query(`insert into ${table} values (2, 'b')`)).rejects.toThrow();
    expect(db.stats().retries).toBe(0);
    // the caller decides; a marked-idempotent upsert may be retried by the client
    await db.query(`insert into ${table} values (2, 'b') on conflict (id) do nothing`, [], { idempotent: true });
    const { rows } = await admin.query<{ n: number }>(`select count(*)::int as n from ${table} where id = 2`);
    expect(rows[0].n).toBe(1);
    await db.close();
    await relay.stop();
  });

  test('a marked-idempotent write on a stale connection is retried once on a fresh one', async () => {
    const relay = await FaultyRelay.start(hostPort(server.url));
    const db = local(relay.url(server.url));
    await db.query('select 1');
    // dropped while the client cannot notice (a frozen sandbox learns of it only when it writes)
    relay.dropAll();
    await db.query(`insert into ${table} values (3, 'c') on conflict (id) do update set note = excluded.note`, [], { idempotent: true });
    expect(db.stats().retries).toBe(1);
    const { rows } = await admin.query(`select note from ${table} where id = 3`);
    expect(rows).toEqual([{ note: 'c' }]);
    await db.close();
    await relay.stop();
  });

  test('a dropped idle socket never crashes the process', async () => {
    const relay = await FaultyRelay.start(hostPort(server.url));
    const db = local(relay.url(server.url));
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      await db.query('select 1');
      relay.dropAll();
      await new Promise(resolve => setTimeout(resolve, 100));
      expect(uncaught).toEqual([]);
      await db.query('select 1');
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    await db.close();
    await relay.stop();
  });

  test('idle and old connections are evicted without a ping (injected clock)', async () => {
    let now = 1_000_000;
    const relay = await FaultyRelay.start(hostPort(server.url));
    const db = local(relay.url(server.url), { clock: () => now, maxIdleMs: 60_000, maxLifetimeMs: 300_000 });
    await db.query('select 1');
    now += 59_000;
    await db.query('select 1');
    expect(db.stats()).toMatchObject({ opened: 1, reused: 1, evicted: 0 });
    now += 61_000; // idle too long
    await db.query('select 1');
    expect(db.stats()).toMatchObject({ opened: 2, evicted: 1 });
    for (let i = 0; i < 7; i++) {
      now += 50_000; // never idle too long, but older than the max lifetime in the end
      await db.query('select 1');
    }
    expect(db.stats()).toMatchObject({ opened: 3, evicted: 2 });
    expect(relay.accepted).toBe(3);
    await db.close();
    await relay.stop();
  });

  test('bad SQL fails with the server error and leaks no connection', async () => {
    const db = local(server.url);
    for (let i = 0; i < 5; i++) {
      await expect(db.query('select * from no_such_table_here')).rejects.toMatchObject({ code: '42P01' });
    }
    await expect(db.query('select 1 as ok')).resolves.toMatchObject({ rows: [{ ok: 1 }] });
    expect(db.stats()).toMatchObject({ opened: 1, retries: 0 });
    await db.close();
  });

  test('transactions commit, roll back on error, and refuse to report a swallowed failure as committed', async () => {
    const db = local(server.url);
    await db.transaction(async tx => {
      await tx.query(`insert into ${table} values (10, 'x')`);
      await tx.query(`insert into ${table} values (11, 'y')`);
    });
    await expect(db.transaction(async tx => {
      await tx.query(`insert into ${table} values (12, 'z')`);
      throw new Error('business rule');
    })).rejects.toThrow('business rule');
    await expect(db.transaction(async tx => {
      await tx.query(`insert into ${table} values (13, 'w')`);
      await tx.query(`insert into ${table} values (10, 'duplicate')`).catch(() => undefined);
    })).rejects.toThrow(/rolled back/);
    const { rows } = await db.query<{ id: number }>(`select id from ${table} order by id`);
    expect(rows.map(r => r.id)).toEqual([10, 11]);
    expect(db.stats().opened).toBe(1);
    await db.close();
  });

  test('a restart while connecting is ridden out with backoff', async () => {
    const relay = await FaultyRelay.start(hostPort(server.url));
    const db = local(relay.url(server.url), { connectDeadlineMs: 5_000 });
    await db.query('select 1');
    relay.restart(400);
    const started = Date.now();
    await expect(db.query('select 2 as n')).resolves.toMatchObject({ rows: [{ n: 2 }] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(db.stats().connectRetries).toBeGreaterThan(0);
    await db.close();
    await relay.stop();
  });

  test('a restart under load loses no acknowledged write and duplicates none', async () => {
    const relay = await FaultyRelay.start(hostPort(server.url));
    const sandboxes = Array.from({ length: 4 }, () => local(relay.url(server.url), { connectDeadlineMs: 5_000 }));
    const acknowledged: number[] = [];
    const failed: number[] = [];
    let next = 1000;
    const worker = async (db: SqlClient) => {
      for (let i = 0; i < 40; i++) {
        const id = next++;
        try {
          await db.query(`insert into ${table} values ($1, 'w')`, [id]);
          acknowledged.push(id);
        } catch {
          failed.push(id);
        }
        await db.query(`select count(*) from ${table}`).catch(() => undefined);
      }
    };
    const load = Promise.all(sandboxes.map(worker));
    setTimeout(() => relay.restart(300), 30);
    setTimeout(() => relay.restart(200), 400);
    await load;
    const { rows } = await admin.query<{ id: number }>(`select id from ${table} order by id`);
    const stored = rows.map(r => r.id);
    expect(new Set(stored).size).toBe(stored.length); // nothing twice
    for (const id of acknowledged) expect(stored).toContain(id); // nothing acknowledged lost
    expect(acknowledged.length + failed.length).toBe(160);
    expect(acknowledged.length).toBeGreaterThan(100);
    expect(relay.accepted).toBeGreaterThan(sandboxes.length); // the restarts did cut connections
    await Promise.all(sandboxes.map(db => db.close()));
    await relay.stop();
  });

  test('connection retries stop at the invocation deadline', async () => {
    const relay = await FaultyRelay.start(hostPort(server.url));
    const db = local(relay.url(server.url));
    relay.restart(10_000);
    const started = Date.now();
    await expect(db.query('select 1', [], { context: { getRemainingTimeInMillis: () => 1_200 } })).rejects.toBeInstanceOf(ConnectError);
    expect(Date.now() - started).toBeLessThan(1_200);
    await db.close();
    await relay.stop();
  });

  test('a connection lost during COMMIT is reported as an unknown outcome, never replayed', async () => {
    const relay = await FaultyRelay.start(hostPort(server.url));
    const db = local(relay.url(server.url));
    await expect(db.transaction(async tx => {
      await tx.query(`insert into ${table} values (20, 'maybe')`);
      relay.dropAll();
    })).rejects.toBeInstanceOf(CommitOutcomeUnknownError);
    expect(db.stats().retries).toBe(0);
    await db.close();
    await relay.stop();
  });

  test('real server: a backend killed mid-statement: a write fails and is not replayed, a read is run again', async () => {
    if (server.kind === 'embedded') return; // PGlite has one backend; pg_terminate_backend needs a real server
    const db = local(server.url);
    const killer = new Client({ connectionString: process.env.SQL_TEST_POSTGRES_URL });
    await killer.connect();
    const killWhenRunning = async (marker: string) => {
      for (let i = 0; i < 50; i++) {
        const { rows } = await killer.query(
          `select pg_terminate_backend(pid) as killed from pg_stat_activity where query like $1 and pid <> pg_backend_pid()`, [`%${marker}%`]);
        if (rows.some(r => r.killed)) return;
        await new Promise(resolve => setTimeout(resolve, 20));
      }
      throw new Error(`no backend ran ${marker}`);
    };
    try {
      await db.query('select 1');
      // a write: the caller sees the termination, nothing is replayed, nothing half-written
      const write = db.query(`insert into ${table} select 40, pg_sleep(3)::text /* kill-write */`);
      await killWhenRunning('kill-write');
      await expect(write).rejects.toThrow(/terminat|connection|server/i);
      expect(db.stats().retries).toBe(0);
      const { rows: written } = await admin.query<{ n: number }>(`select count(*)::int as n from ${table}`);
      expect(written[0].n).toBe(0);
      // a read on a reused connection: run once more on a fresh connection
      await db.query('select 1');
      const read = db.query<{ v: string }>(`select 'answer' as v, pg_sleep(0.5) /* kill-read */`);
      await killWhenRunning('kill-read');
      await expect(read).resolves.toMatchObject({ rows: [{ v: 'answer' }] });
      expect(db.stats().retries).toBe(1);
    } finally {
      await killer.end();
      await db.close();
    }
  });

  test('pgbouncer RECONNECT and serialization conflicts', async () => {
    if (server.kind === 'embedded') {
      // PGlite runs one backend at a time: no concurrent transactions, no pooler console.
      return;
    }
    const db = local(server.url, { maxConnections: 2 });
    await db.query(`insert into ${table} values (30, '0')`);
    if (server.kind === 'pgbouncer') {
      const console_ = new Client({ connectionString: server.url.replace(/\/[^/]*$/, '/pgbouncer') });
      await console_.connect();
      await console_.query('RECONNECT');
      await console_.end();
      await expect(db.query(`select note from ${table} where id = 30`)).resolves.toMatchObject({ rows: [{ note: '0' }] });
    }
    // two serializable transactions incrementing the same row: one loses and is run again
    let runs = 0;
    const increment = () => db.transaction(async tx => {
      runs++;
      await tx.query('set transaction isolation level serializable');
      const { rows } = await tx.query<{ note: string }>(`select note from ${table} where id = 30`);
      await new Promise(resolve => setTimeout(resolve, 100));
      await tx.query(`update ${table} set note = $1 where id = 30`, [String(Number(rows[0].note) + 1)]);
    }, { retryOnSerializationFailure: true });
    await Promise.all([increment(), increment()]);
    const { rows } = await admin.query<{ note: string }>(`select note from ${table} where id = 30`);
    expect(rows[0].note).toBe('2');
    expect(runs).toBe(3);
    expect(db.stats().transactionRetries).toBe(1);
    await db.close();
  });
});

function hostPort(url: string) {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 5432) };
}
