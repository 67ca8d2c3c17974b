/**
 * The migration runner against real databases: embedded PostgreSQL by default, real PostgreSQL and MariaDB when
 * configured.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as mysql from 'mysql2/promise';
import { ConfigurationError, connect, iamUserStatements, migrate, MigrationError, MIGRATIONS_TABLE, readMigrations, SqlClient } from '../src';
import { configured, postgresServers, TestServer } from './servers';
import { checksum } from '../src/migrations';
import { decodeMigration, migrationProblem, mysqlStatements, SqlDialect } from '../src/sql-statements';

function directory(files: Record<string, string | Uint8Array>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
}

// The construct library checks migrations at synth with an identical copy of sql-statements.ts (its
// test/migrations.test.ts asserts that the copies are the same). [SQL, the statements MySQL runs]
const STATEMENTS: Array<[string, string[]]> = [
  ['select 1; select 2;', ['select 1', 'select 2']],
  ['select \';\'; select "a;b"', ['select \';\'', 'select "a;b"']],
  ['select \'it\'\'s; fine\', \'a\\\';b\', "say ""hi;"""', ['select \'it\'\'s; fine\', \'a\\\';b\', "say ""hi;"""']],
  ['select `a;b` from (select 1 as `a;b`) t', ['select `a;b` from (select 1 as `a;b`) t']],
  ['select 1 -- ; a comment\n; select 2 #; another\n', ['select 1', 'select 2']],
  ['select /* ; */ 1;\n;', ['select /* ; */ 1']],
  ['/*!40101 select 1 */; select 2', ['select 1', 'select 2']],
  ['select 1 /*!, 2 */', ['select 1 /*!, 2']],
  ['select 1 /*M!100100 , 2 */; select 3', ['select 1 /*M!100100 , 2', 'select 3']],
  ['-- only comments\n/* and; more */ ;  ;', []],
  ['select 1 --; no comment without a space after --, but at the end: --', ['select 1 --', 'no comment without a space after --, but at the end:']],
  [
    'create procedure p() begin declare x int default 0; if x = 0 then set x = 1; end if; select case when x = 1 then 1 else 2 end; end; select 2',
    ['create procedure p() begin declare x int default 0; if x = 0 then set x = 1; end if; select case when x = 1 then 1 else 2 end; end', 'select 2'],
  ],
  [
    'create definer = `admin`@`%` trigger t before insert on a for each row begin case when new.id < 0 then set new.id = 0; end case; end; select 2',
    ['create definer = `admin`@`%` trigger t before insert on a for each row begin case when new.id < 0 then set new.id = 0; end case; end', 'select 2'],
  ],
];

// [case, dialect, SQL, the problem when refused]
const PROBLEMS: Array<[string, SqlDialect, string, RegExp | undefined]> = [
  ['an empty file', 'postgres', '', /^holds no SQL, only whitespace and comments: it would be recorded as applied while doing nothing/],
  ['whitespace', 'mysql', ' \n\t\r\n', /^holds no SQL/],
  ['PostgreSQL comments, nested ones too', 'postgres', '-- a\n/* b /* nested; */ still a comment */ ;\n--no space needed', /^holds no SQL/],
  ['MySQL comments', 'mysql', '-- a\n# b\n/* c */ ;', /^holds no SQL/],
  ['a string holding -- (PostgreSQL)', 'postgres', "select '-- not a comment'", undefined],
  ['a string holding -- (MySQL)', 'mysql', "select '-- not a comment'", undefined],
  ['a PostgreSQL dollar-quoted string', 'postgres', "select $$ it's -- not a comment $$", undefined],
  ['MySQL --x, which is code', 'mysql', '--x', undefined],
  ['PostgreSQL # x, which is code', 'postgres', '# x', undefined],
  ['a MySQL comment ends at the first */', 'mysql', '/* a /* b */ select 1', undefined],
  ['a nested PostgreSQL comment never closed', 'postgres', '/* a /* b */ select 1', /^has a \/\* comment that is never closed \(line 1\)$/],
  ['a MySQL string never closed', 'mysql', "select 1;\nselect 'abc", /^has a ' quote that is never closed \(line 2\)$/],
  ['a byte-order mark (PostgreSQL)', 'postgres', '\uFEFFselect 1', /^starts with a byte-order mark.*: save the file as UTF-8 without BOM$/],
  ['a byte-order mark (MySQL)', 'mysql', '\uFEFFselect 1', /^starts with a byte-order mark/],
  ['one DDL statement', 'mysql', 'create table a (id int);', undefined],
  ['two DDL statements', 'mysql', 'create table a (id int);\ncreate table b (id int);',
    /^holds 2 statements, and "create table a \(id int\)" commits implicitly on MySQL: .* Put each DDL statement in a migration file of its own$/],
  ['DML, then DDL', 'mysql', "insert into a values (1); alter table a add column note varchar(10) default 'x;y'", /^holds 2 statements, and "alter table a add/],
  ['DML only', 'mysql', 'insert into a values (1); update a set id = 2; delete from a where id = 3', undefined],
  ['two DDL statements on PostgreSQL', 'postgres', 'create table a (id int); create table b (id int);', undefined],
  ['temporary tables', 'mysql', 'create temporary table t (id int); insert into t values (1); drop temporary table t', undefined],
  ['a GRANT', 'mysql', "insert into a values (1); grant select on a to 'u'@'%'", /"grant select on a to 'u'@'%'" commits implicitly/],
  ['a SET of autocommit', 'mysql', 'set @@session.autocommit = 1; insert into a values (1)', /"set @@session.autocommit = 1" commits implicitly/],
  ['a savepoint', 'mysql', 'savepoint s; insert into a values (1); rollback work to savepoint s', undefined],
  ['a COMMIT', 'mysql', 'insert into a values (1); commit', /"commit" commits implicitly/],
  ['DDL only in comments', 'mysql', 'insert into a values (1); -- drop table a;\n# drop table b;\n', undefined],
  ['an executable comment', 'mysql', '/*!40101 SET NAMES utf8mb4 */; create table a (id int)', /^holds 2 statements, and "create table a \(id int\)"/],
  ['a stored procedure', 'mysql', 'create procedure p() begin select 1; select 2; end;', undefined],
  ['a stored procedure and a table', 'mysql', 'create procedure p() begin select 1; end; create table b (id int)', /^holds 2 statements, and "create procedure p\(\) begin/],
  ['a trigger whose body is a bare IF holding ; (wrap it in BEGIN ... END)', 'mysql',
    'create trigger t before insert on a for each row if new.id < 0 then set new.id = 0; end if', /^holds 2 statements/],
  ['DELIMITER', 'mysql', 'DELIMITER //\ncreate procedure p() begin select 1; end//\nDELIMITER ;', /^uses DELIMITER, a command of the mysql client/],
];

// [case, bytes, offset of the first invalid byte]
const NOT_UTF8: Array<[string, Buffer, number]> = [
  ['a Latin-1 é', Buffer.from([0x73, 0x65, 0x6c, 0xe9, 0x63, 0x74]), 3],
  ['a stray byte after multi-byte characters', Buffer.concat([Buffer.from("select 'é€😀'"), Buffer.from([0xff])]), 18],
  ['a cut sequence after an encoded U+FFFD', Buffer.concat([Buffer.from('-- \uFFFD\n'), Buffer.from([0xc3])]), 7],
];

describe('migration checks', () => {
  test.each(STATEMENTS)('MySQL statements of %j', (sql, statements) => {
    expect(mysqlStatements(sql).map(s => s.text)).toEqual(statements);
  });

  test.each(PROBLEMS)('%s', (_, dialect, sql, problem) => {
    if (problem) expect(migrationProblem(sql, dialect)).toMatch(problem);
    else expect(migrationProblem(sql, dialect)).toBeUndefined();
  });

  test.each(NOT_UTF8)('refuses bytes that are not UTF-8: %s', (_, bytes, offset) => {
    expect(decodeMigration(bytes)).toEqual({ problem: `is not valid UTF-8 (the first invalid byte is at offset ${offset}): save it as UTF-8` });
  });

  test('keeps a byte-order mark, for migrationProblem to refuse', () => {
    expect(decodeMigration(Buffer.from('\uFEFFselect 1'))).toEqual({ sql: '\uFEFFselect 1' });
  });
});

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

  test('refuses a file that is not UTF-8, naming it and the offset', () => {
    const dir = directory({ '001_a.sql': 'select 1', '002_latin1.sql': Buffer.from([0x2d, 0x2d, 0x20, 0xe9]) });
    expect(() => readMigrations(dir)).toThrow(new ConfigurationError(
      `migration ${path.join(dir, '002_latin1.sql')} is not valid UTF-8 (the first invalid byte is at offset 3): save it as UTF-8`));
  });

  test('the checksum of a file is the hash of its bytes, as it was before these checks', () => {
    const sql = "insert into t values ('é€😀\uFFFD'); -- ü\r\n";
    const dir = directory({ '001_a.sql': sql });
    const read = readMigrations(dir)[0].sql;
    expect(checksum(read)).toBe(createHash('sha256').update(fs.readFileSync(path.join(dir, '001_a.sql'))).digest('hex'));
    expect(checksum(read)).toBe(checksum(fs.readFileSync(path.join(dir, '001_a.sql'), 'utf8')));
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

  const recorded = async () => (await db.query<{ name: string }>(`select name from ${MIGRATIONS_TABLE} order by name`)).rows.map(r => r.name);
  const realServer = () => server.kind !== 'embedded'; // PGlite serves every connection from one session: no lock to contend for
  const other = () => connect({ url: server.url, multipleStatements: true });
  const p = (n: number) => (engine === 'postgres' ? `$${n}` : '?');

  test('two runners at once: one applies every migration, the other waits for it and then skips them; nothing runs twice', async () => {
    if (!realServer()) return;
    const log = `runs_${process.pid}_${Date.now()}`;
    await db.query(`create table ${log} (migration varchar(50))`);
    const second = other();
    try {
      const batch = [
        { name: '101_slow.sql', sql: engine === 'postgres' ? `select pg_sleep(0.4); insert into ${log} values ('101')` : `do sleep(0.4); insert into ${log} values ('101')` },
        { name: '102_more.sql', sql: `insert into ${log} values ('102')` },
      ];
      const started = Date.now();
      const reports = await Promise.all([migrate(db, [...first(), ...batch]), migrate(second, [...first(), ...batch])]);
      const ran = reports.flatMap(r => r.applied).sort();
      expect(ran).toEqual(['101_slow.sql', '102_more.sql']);
      expect(reports.some(r => r.applied.length === 0 && r.skipped.includes('101_slow.sql'))).toBe(true);
      const { rows } = await db.query<{ migration: string }>(`select migration from ${log} order by migration`);
      expect(rows.map(r => r.migration)).toEqual(['101', '102']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    } finally {
      await second.close();
      await db.query(`drop table if exists ${log}`);
      await db.query(`delete from ${MIGRATIONS_TABLE} where name in (${p(1)}, ${p(2)})`, ['101_slow.sql', '102_more.sql']);
    }
  });

  test('a runner that cannot get the lock within runnerWaitMs fails naming the holder, and applies nothing', async () => {
    if (!realServer()) return;
    const holder = other();
    try {
      await holder.query(engine === 'postgres' ? 'select pg_advisory_lock(1936485729)' : "select get_lock('serverless_sql_api_migrations', 0)");
      const started = Date.now();
      const error = await migrate(db, [...first(), { name: '103_never.sql', sql: 'select 1' }], { runnerWaitMs: 600 }).catch(e => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect(error.message).toMatch(engine === 'postgres'
        ? /^migrations did not start: another migration runner \(backend pid \d+\) held the migration lock for the \d+ ms this one waited: nothing was applied/
        : /^migrations did not start: another migration runner \(connection id \d+\) held the migration lock/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await recorded()).not.toContain('103_never.sql');
    } finally {
      await holder.close();
    }
    // the lock went with the holder's session: the next run proceeds
    expect((await migrate(db, first())).skipped).toEqual(['001_create.sql', '002_seed.sql']);
  });

  test('a migration stuck behind another session\'s lock fails after lockTimeoutMs, naming itself, and the next run applies it', async () => {
    const blocker = other();
    let release!: () => void;
    const held = new Promise<void>(resolve => { release = resolve; });
    let locked!: () => void;
    const isLocked = new Promise<void>(resolve => { locked = resolve; });
    const transaction = blocker.transaction(async tx => {
      await tx.query(engine === 'postgres' ? `lock table ${table} in access share mode` : `select count(*) from ${table}`);
      locked();
      await held;
    });
    const alter = { name: '104_alter.sql', sql: `alter table ${table} add column note varchar(20)` };
    try {
      await isLocked;
      if (!realServer()) return;
      const started = Date.now();
      const error = await migrate(db, [...first(), alter], { lockTimeoutMs: 1_000 }).catch(e => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect(error.migration).toBe('104_alter.sql');
      expect(error.message).toMatch(/^migration 104_alter.sql failed: .*waited more than lockTimeoutMs \(1000 ms\) for a lock another session holds.*; nothing of it was recorded as applied$/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(3_000);
      if (engine === 'mysql') {
        // the session values were put back
        const { rows } = await db.query<{ same: number }>('select @@session.lock_wait_timeout = @@global.lock_wait_timeout as same');
        expect(Number(rows[0].same)).toBe(1);
      }
    } finally {
      release();
      await transaction;
      await blocker.close();
    }
    if (!realServer()) return;
    expect((await migrate(db, [...first(), alter])).applied).toEqual(['104_alter.sql']);
    await db.query(`delete from ${MIGRATIONS_TABLE} where name = ${p(1)}`, ['104_alter.sql']);
    await db.query(`alter table ${table} drop column note`);
  });

  test('PostgreSQL: a statement of a migration that runs past statementTimeoutMs fails, naming the migration', async () => {
    // PGlite runs in one thread without timers for statement_timeout
    if (engine !== 'postgres' || !realServer()) return;
    const error = await migrate(db, [...first(), { name: '105_slow.sql', sql: 'select pg_sleep(3)' }], { statementTimeoutMs: 300 }).catch(e => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toMatch(/^migration 105_slow.sql failed: .*\(a statement ran longer than statementTimeoutMs \(300 ms\)\)/);
    expect(await recorded()).not.toContain('105_slow.sql');
  });


  const exists = async (name: string) => {
    const { rows } = await db.query<{ n: number }>(
      `select count(*) as n from information_schema.tables where table_name = ${engine === 'postgres' ? '$1' : '?'}`, [name]);
    return Number(rows[0].n) > 0;
  };

  test('a migration that holds no SQL is refused before any migration runs', async () => {
    const before = await recorded();
    const later = [...first(), { name: '003_more.sql', sql: `create table ${table}_more (id int)` }, { name: '004_todo.sql', sql: '-- to do\n' }];
    await expect(migrate(db, later)).rejects.toThrow(new ConfigurationError(
      'migration 004_todo.sql holds no SQL, only whitespace and comments: it would be recorded as applied while doing nothing. Write its statements, or delete the file'));
    expect(await exists(`${table}_more`)).toBe(false);
    expect(await recorded()).toEqual(before);
  });

  test('the engine never ran SQL that starts with a byte-order mark, so refusing it refuses no file applied before', async () => {
    await expect(db.query('\uFEFFselect 1')).rejects.toThrow(/syntax/);
    await expect(migrate(db, [{ name: '009_bom.sql', sql: '\uFEFFselect 1' }])).rejects.toThrow(/^migration 009_bom.sql starts with a byte-order mark/);
  });

  (engine === 'mysql' ? test : test.skip)('MySQL: a migration of two DDL statements is refused before any migration runs', async () => {
    const before = await recorded();
    const later = [...first(),
      { name: '003_more.sql', sql: `create table ${table}_more (id int)` },
      { name: '004_two.sql', sql: `create table ${table}_a (id int);\ncreate table ${table}_b (id int);` }];
    await expect(migrate(db, later)).rejects.toThrow(
      /^migration 004_two.sql holds 2 statements, and "create table \S+_a \(id int\)" commits implicitly on MySQL: .* Put each DDL statement in a migration file of its own$/);
    for (const name of [`${table}_more`, `${table}_a`, `${table}_b`]) expect(await exists(name)).toBe(false);
    expect(await recorded()).toEqual(before);
  });

  test('a migration applied before is not checked again, so an upgrade never blocks a deploy', async () => {
    // recorded as if applied by a version that did not check: today both would be refused
    const old = [
      { name: '006_empty.sql', sql: '-- nothing\n' },
      { name: '007_two.sql', sql: `insert into ${table} (title) values ('x'); create table ${table}_old (id int)` },
    ];
    const placeholder = engine === 'postgres' ? '$1, $2' : '?, ?';
    try {
      for (const m of old) await db.query(`insert into ${MIGRATIONS_TABLE} (name, checksum) values (${placeholder})`, [m.name, checksum(m.sql)]);
      expect(await migrate(db, [...first(), ...old])).toEqual({ applied: [], skipped: ['001_create.sql', '002_seed.sql', '006_empty.sql', '007_two.sql'] });
      const edited = { ...old[0], sql: '-- nothing, edited\n' };
      await expect(migrate(db, [...first(), edited])).rejects.toThrow(/^migration 006_empty.sql failed: it was applied before with other content/);
    } finally {
      await db.query(`delete from ${MIGRATIONS_TABLE} where name in ('006_empty.sql', '007_two.sql')`);
    }
  });

  (engine === 'mysql' ? test : test.skip)('MySQL: a stored procedure whose body holds ; is one statement, and runs', async () => {
    const procedure = `count_${table}`;
    const create = { name: '005_procedure.sql', sql: `create procedure ${procedure}() begin declare n int; select count(*) into n from ${table}; select n; end;` };
    try {
      expect(await migrate(db, [...first(), create])).toEqual({ applied: ['005_procedure.sql'], skipped: ['001_create.sql', '002_seed.sql'] });
      expect(JSON.stringify((await db.query(`call ${procedure}()`)).rows)).toContain('2');
    } finally {
      await db.query(`drop procedure if exists ${procedure}`);
      await db.query(`delete from ${MIGRATIONS_TABLE} where name = '005_procedure.sql'`);
    }
  });

  (engine === 'mysql' ? test : test.skip)('MySQL: the server runs as many statements as the lexer counts', async () => {
    const connection = await mysql.createConnection({ uri: server.url, multipleStatements: true });
    try {
      const runnable = STATEMENTS.filter(([sql]) => /^(select|\/\*!)/.test(sql) && !sql.includes('--;'));
      expect(runnable.length).toBeGreaterThanOrEqual(8);
      for (const [sql, statements] of runnable) {
        const [results] = await connection.query(sql) as unknown as [unknown[]];
        const ran = Array.isArray(results[0]) ? results.filter(result => Array.isArray(result)).length : 1;
        expect([sql, ran]).toEqual([sql, statements.length]);
      }
    } finally {
      await connection.end();
    }
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
      await admin.query('do $$ begin if not exists (select from pg_roles where rolname = \'rds_iam\') then create role rds_iam; end if; end $$');
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
