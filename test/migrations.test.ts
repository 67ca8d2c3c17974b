import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Migrations, SqlEngine } from '../src';
import { existingCluster, synth } from './util';

function migrationsDir(files: Record<string, string | Uint8Array>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'construct-migrations-'));
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
}

// The checks are one module, src/private/sql-statements.ts, copied into the runtime package (runtime/src), which
// cannot depend on the construct library: runtime/test/migrations.test.ts tests it case by case.
test('the runtime package holds the same copy of the migration checks', () => {
  const copy = (file: string) => fs.readFileSync(path.join(__dirname, '..', file), 'utf8');
  expect(copy('runtime/src/sql-statements.ts')).toBe(copy('src/private/sql-statements.ts'));
});

describe('Migrations.fromDirectory', () => {
  const good = { '001_create.sql': 'create table a (id int);', '002_seed.sql': 'insert into a values (1); -- é\n' };

  test('a valid directory: every file, its hash over the names and bytes as before the content checks', () => {
    const dir = migrationsDir(good);
    const { template } = synth({ migrations: Migrations.fromDirectory(dir) });
    const hash = createHash('sha256');
    for (const [name, sql] of Object.entries(good)) hash.update(name).update('\0').update(Buffer.from(sql)).update('\0');
    expect(Object.values(template.findResources('Custom::DatabaseBootstrap'))[0].Properties.MigrationsHash).toBe(hash.digest('hex'));
  });

  test.each([
    ['holds only comments', '-- to do\n/* later */', /The file holds no SQL, only whitespace and comments: .* Write its statements, or delete the file\.$/],
    ['is empty', '', /The file holds no SQL/],
    ['is not UTF-8', Buffer.from([0x2d, 0x2d, 0x20, 0xe9]), /The file is not valid UTF-8 \(the first invalid byte is at offset 3\): save it as UTF-8\.$/],
    ['starts with a byte-order mark', Buffer.from('\uFEFFcreate table b (id int);'), /The file starts with a byte-order mark, .*: save the file as UTF-8 without BOM\.$/],
  ])('fails when a migration %s', (_, content, fix) => {
    const dir = migrationsDir({ ...good, '003_bad.sql': content });
    const build = () => synth({ migrations: Migrations.fromDirectory(dir) });
    expect(build).toThrow(/^Stack\/Api\/Database: invalid migrations \(".*\/003_bad.sql"\)\. /);
    expect(build).toThrow(fix);
  });

  test.each([
    ['MySQL', SqlEngine.mysql()],
    ['Aurora MySQL', SqlEngine.auroraMysql()],
  ])('fails on %s when a migration holds two DDL statements, which PostgreSQL runs in one transaction', (_, engine) => {
    const dir = migrationsDir({ ...good, '003_two.sql': 'create table b (id int);\n-- and\ncreate table c (id int);' });
    expect(() => synth({ engine, migrations: Migrations.fromDirectory(dir) })).toThrow(new RegExp(
      '^Stack/Api/Database: invalid migrations \\(".*/003_two.sql"\\)\\. The file holds 2 statements, and "create table b \\(id int\\)" '
      + 'commits implicitly on MySQL: .* Put each DDL statement in a migration file of its own\\.$'));
    expect(() => synth({ engine: SqlEngine.auroraPostgres(), migrations: Migrations.fromDirectory(dir) })).not.toThrow();
  });

  test('fails on MySQL when a migration uses DELIMITER', () => {
    const dir = migrationsDir({ '001_procedure.sql': 'DELIMITER //\ncreate procedure p() begin select 1; end//\nDELIMITER ;\n' });
    expect(() => synth({ engine: SqlEngine.mysql(), migrations: Migrations.fromDirectory(dir) })).toThrow(/The file uses DELIMITER, a command of the mysql client/);
  });

  test('checks the engine of an existing database too', () => {
    const dir = migrationsDir({ '001_two.sql': 'create table b (id int); create table c (id int);' });
    expect(() => synth({ migrations: Migrations.fromDirectory(dir) }, stack => ({ existingDatabase: existingCluster(stack) })))
      .toThrow(/The file holds 2 statements/);
  });
});
