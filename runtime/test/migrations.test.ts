/**
 * The migration runner against real databases: embedded PostgreSQL by default, real PostgreSQL and MariaDB when
 * configured.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connect, iamUserStatements, migrate, MigrationError, MIGRATIONS_TABLE, readMigrations, SqlClient } from '../src';
import { configured, postgresServers, TestServer } from './servers';

function directory(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
}

describe('readMigrations', () => {
  test('numeric order, not text order', () => {
    const dir = directory({ '10_c.sql': 'select 3', '2_b.sql': 'select 2', '001_a.sql': 'select 1' });
    expect(readMigrations(dir).map(m => m.name)).toEqual(['001_a.sql', '2_b.sql', '10_c.sql']);
  });

  test.each([
    [{ 'notes.txt': 'x' }, /notes.txt is not a migration: name files NNN_description.sql/],
    [{ 'create.sql': 'x' }, /create.sql is not a migration/],
    [{ '001_a.sql': 'x', '1_b.sql': 'y' }, /have the same number 1/],
  ])('refuses bad directories (%#)', (files, message) => {
    expect(() => readMigrations(directory(files))).toThrow(message);
  });

  test('refuses a missing directory', () => {
    expect(() => readMigrations('/no/such/dir')).toThrow(/does not exist/);
  });
});

const servers: Array<[string, () => Promise<TestServer>]> = postgresServers()
  .filter((_, i, all) => i === 0 || all.length === 1)
  .map(start => ['postgres', start]);
const mysqlUrl = configured('SQL_TEST_MYSQL_URL');
if (mysqlUrl) servers.push(['mysql', async () => ({ name: 'MariaDB', url: mysqlUrl, kind: 'mysql', stop: async () => {} })]);

describe.each(servers)('migrate (%s)', (engine, start) => {
  let server: TestServer;
  let db: SqlClient;
  const table = `todos_${process.pid}_${Date.now()}`;
  const serial = engine === 'postgres' ? 'bigint generated always as identity primary key' : 'bigint auto_increment primary key';

  beforeAll(async () => {
    server = await start();
    db = connect({ url: server.url, auth: 'password', password: new URL(server.url).password, multipleStatements: true });
    await db.query(`drop table if exists ${MIGRATIONS_TABLE}`);
  });
  afterAll(async () => {
    await db.query(`drop table if exists ${table}`).catch(() => undefined);
    await db.query(`drop table if exists ${MIGRATIONS_TABLE}`).catch(() => undefined);
    await db.close();
    await server.stop();
  });

  const first = () => [
    { name: '001_create.sql', sql: `create table ${table} (id ${serial}, title varchar(100) not null);` },
    { name: '002_seed.sql', sql: `insert into ${table} (title) values ('one'); insert into ${table} (title) values ('two');` },
  ];

  test('applies each migration once, in order, and records it', async () => {
    expect(await migrate(db, first())).toEqual({ applied: ['001_create.sql', '002_seed.sql'], skipped: [] });
    expect(await migrate(db, first())).toEqual({ applied: [], skipped: ['001_create.sql', '002_seed.sql'] });
    const { rows } = await db.query<{ n: number }>(`select count(*) as n from ${table}`);
    expect(Number(rows[0].n)).toBe(2);
  });

  test('a failing migration fails with its name and the database error, and records nothing of itself', async () => {
    const broken = [...first(), { name: '003_broken.sql', sql: `insert into ${table} (title) values ('three'); insert into no_such_table values (1);` }];
    const error = await migrate(db, broken).catch(e => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toMatch(/^migration 003_broken.sql failed: .*no_such_table/);
    const { rows } = await db.query<{ name: string }>(`select name from ${MIGRATIONS_TABLE} order by name`);
    expect(rows.map(r => r.name)).toEqual(['001_create.sql', '002_seed.sql']);
    const { rows: titles } = await db.query<{ n: number }>(`select count(*) as n from ${table} where title = 'three'`);
    expect(Number(titles[0].n)).toBe(0); // the statement before the failure was rolled back with it
  });

  test('a changed applied migration is refused', async () => {
    const changed = first();
    changed[1] = { ...changed[1], sql: `${changed[1].sql} -- edited` };
    await expect(migrate(db, changed)).rejects.toThrow(/migration 002_seed.sql failed: it was applied before with other content/);
  });
});

describe('IAM user statements', () => {
  test('MySQL: an AWSAuthenticationPlugin user with TLS required and table privileges only', () => {
    expect(iamUserStatements('mysql', 'report_reader', 'app', 'read-only')).toEqual([
      "create user if not exists 'report_reader'@'%' identified with AWSAuthenticationPlugin as 'RDS'",
      "alter user 'report_reader'@'%' require ssl",
      "grant select on `app`.* to 'report_reader'@'%'",
    ]);
  });

  test.each([['app-user'], ["x'; drop table t; --"], ['1user']])('refuses the user name %s', name => {
    expect(() => iamUserStatements('postgres', name, 'app', 'read-write')).toThrow(/user name .* must be 1–63 letters/);
  });

  test('PostgreSQL: runs twice without error; the user may read and write tables created later, nothing more', async () => {
    const server = await postgresServers()[0]();
    const admin = connect({ url: server.url, auth: 'password', password: '' });
    const database = new URL(server.url).pathname.slice(1);
    const user = `app_user_${process.pid}`;
    const table = `later_${process.pid}`;
    try {
      // RDS provides the rds_iam role; a plain PostgreSQL needs one to stand in
      await admin.query(`do $$ begin if not exists (select from pg_roles where rolname = 'rds_iam') then create role rds_iam; end if; end $$`);
      for (let run = 0; run < 2; run++) {
        for (const statement of iamUserStatements('postgres', user, database, 'read-write')) await admin.query(statement);
      }
      await admin.query(`create table ${table} (id int)`);
      const { rows } = await admin.query<Record<string, boolean>>(
        `select has_table_privilege($1, $2, 'insert') as can_insert, has_table_privilege($1, $2, 'truncate') as can_truncate,
                pg_has_role($1, 'rds_iam', 'member') as iam, (select rolpassword is null from pg_authid where rolname = $1) as no_password`,
        [user, table]);
      expect(rows[0]).toEqual({ can_insert: true, can_truncate: false, iam: true, no_password: true });
    } finally {
      await admin.query(`drop table if exists ${table}`).catch(() => undefined);
      await admin.query(`drop owned by "${user}"`).catch(() => undefined);
      await admin.query(`drop role if exists "${user}"`).catch(() => undefined);
      await admin.close();
      await server.stop();
    }
  });
});
