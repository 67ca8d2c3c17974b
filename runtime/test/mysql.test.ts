/**
 * The client against MariaDB / MySQL, when SQL_TEST_MYSQL_URL is configured (CI requires it).
 */
import { CommitOutcomeUnknownError, connect, SqlClient } from '../src';
import { configured } from './servers';
import { FaultyRelay } from './tcp-proxy';

const url = configured('SQL_TEST_MYSQL_URL');
const local = (target: string, extra: object = {}) => connect({ url: target, auth: 'password', password: new URL(target).password || '', ...extra });
const hostPort = (target: string) => ({ host: new URL(target).hostname, port: Number(new URL(target).port || 3306) });

(url ? describe : describe.skip)('MySQL protocol (MariaDB)', () => {
  let admin: SqlClient;
  let table: string;
  let counter = 0;

  beforeAll(() => {
    admin = local(url!);
  });
  afterAll(async () => admin?.close());
  beforeEach(async () => {
    table = `t_${process.pid}_${Date.now()}_${counter++}`;
    await admin.query(`create table ${table} (id int primary key, note varchar(50)) engine=InnoDB`);
  });
  afterEach(async () => {
    await admin.query(`drop table if exists ${table}`);
  });

  test('one connection reused across calls; ? placeholders; affected rows', async () => {
    const relay = await FaultyRelay.start(hostPort(url!));
    const db = local(relay.url(url!));
    expect(relay.accepted).toBe(0);
    const insert = await db.query(`insert into ${table} values (?, ?), (?, ?)`, [1, 'a', 2, 'b']);
    expect(insert.rowCount).toBe(2);
    const { rows } = await db.query(`select id, note from ${table} order by id`);
    expect(rows).toEqual([{ id: 1, note: 'a' }, { id: 2, note: 'b' }]);
    expect(relay.accepted).toBe(1);
    expect(db.stats()).toMatchObject({ opened: 1, reused: 1 });
    await db.close();
    await relay.stop();
  });

  test('a stale connection: a read is retried once, a write is not replayed', async () => {
    const relay = await FaultyRelay.start(hostPort(url!));
    const db = local(relay.url(url!));
    await db.query(`insert into ${table} values (1, 'a')`);
    relay.dropAll();
    await expect(db.query(`select note from ${table} where id = 1`)).resolves.toMatchObject({ rows: [{ note: 'a' }] });
    relay.dropAll();
    await expect(db.query(`insert into ${table} values (2, 'b')`)).rejects.toThrow();
    expect(db.stats().retries).toBe(1);
    const { rows } = await admin.query<{ n: number }>(`select count(*) as n from ${table} where id = 2`);
    expect(Number(rows[0].n)).toBe(0);
    await db.close();
    await relay.stop();
  });

  test('a connection killed mid-statement (KILL): the write fails, is not replayed, and the next query works', async () => {
    const db = local(url!);
    await db.query('select 1');
    const { rows: [{ id }] } = await db.query<{ id: number }>('select connection_id() as id');
    const write = db.query(`insert into ${table} select 5, sleep(3)`);
    await new Promise(resolve => setTimeout(resolve, 300));
    await admin.query(`kill ${Number(id)}`);
    await expect(write).rejects.toThrow();
    expect(db.stats().retries).toBe(0);
    const { rows } = await db.query<{ n: number }>(`select count(*) as n from ${table}`);
    expect(Number(rows[0].n)).toBe(0);
    expect(db.stats().opened).toBe(2);
    await db.close();
  });

  test('bad SQL leaks no connection; transactions commit and roll back', async () => {
    const db = local(url!);
    for (let i = 0; i < 3; i++) await expect(db.query('select * from no_such_table')).rejects.toMatchObject({ code: 'ER_NO_SUCH_TABLE' });
    await db.transaction(async tx => {
      await tx.query(`insert into ${table} values (1, 'x')`);
    });
    await expect(db.transaction(async tx => {
      await tx.query(`insert into ${table} values (2, 'y')`);
      throw new Error('no');
    })).rejects.toThrow('no');
    const { rows } = await db.query<{ id: number }>(`select id from ${table}`);
    expect(rows.map(r => r.id)).toEqual([1]);
    expect(db.stats().opened).toBe(1);
    await db.close();
  });

  test('a deadlock is retried as a whole transaction', async () => {
    const db = local(url!, { maxConnections: 2 });
    await db.query(`insert into ${table} values (1, '0'), (2, '0')`);
    let runs = 0;
    const swap = (first: number, second: number) => db.transaction(async tx => {
      runs++;
      await tx.query(`update ${table} set note = note + 1 where id = ?`, [first]);
      await new Promise(resolve => setTimeout(resolve, 150));
      await tx.query(`update ${table} set note = note + 1 where id = ?`, [second]);
    }, { retryOnSerializationFailure: true });
    await Promise.all([swap(1, 2), swap(2, 1)]);
    const { rows } = await db.query<{ note: string }>(`select note from ${table} order by id`);
    expect(rows.map(r => r.note)).toEqual(['2', '2']);
    expect(runs).toBe(3);
    expect(db.stats().transactionRetries).toBe(1);
    await db.close();
  });

  test('a connection lost during COMMIT is an unknown outcome', async () => {
    const relay = await FaultyRelay.start(hostPort(url!));
    const db = local(relay.url(url!));
    await expect(db.transaction(async tx => {
      await tx.query(`insert into ${table} values (9, 'maybe')`);
      relay.dropAll();
    })).rejects.toBeInstanceOf(CommitOutcomeUnknownError);
    await db.close();
    await relay.stop();
  });

  test('a restart while connecting is ridden out with backoff', async () => {
    const relay = await FaultyRelay.start(hostPort(url!));
    const db = local(relay.url(url!), { connectDeadlineMs: 5_000 });
    await db.query('select 1');
    relay.restart(400);
    await expect(db.query('select 2 as n')).resolves.toMatchObject({ rows: [{ n: 2 }] });
    expect(db.stats().connectRetries).toBeGreaterThan(0);
    await db.close();
    await relay.stop();
  });
});
