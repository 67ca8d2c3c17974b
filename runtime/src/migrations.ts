import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { SqlClient } from './client';
import { ConfigurationError, messageOf } from './errors';
import { decodeMigration, migrationProblem } from './sql-statements';

/** One migration: an ordered SQL file. */
export interface Migration {
  /** The file name, for example `001_create_todos.sql`; migrations run in name order. */
  readonly name: string;
  /** The SQL it runs (several statements allowed). */
  readonly sql: string;
}

/** What `migrate()` did. */
export interface MigrationReport {
  /** Migrations applied by this run, in order. */
  readonly applied: string[];
  /** Migrations found already applied with the same content. */
  readonly skipped: string[];
}

/** A migration failed; nothing of it is recorded as applied. */
export class MigrationError extends Error {
  constructor(readonly migration: string, readonly cause: unknown) {
    super(`migration ${migration} failed: ${messageOf(cause)}`);
    this.name = 'MigrationError';
  }
}

/** The table that records applied migrations. */
export const MIGRATIONS_TABLE = 'serverless_sql_api_migrations';

/** Names of migration files: a number, an underscore or dash, a name, `.sql`. */
export const MIGRATION_FILE = /^(\d+)[_-][A-Za-z0-9_.-]+\.sql$/;

/**
 * Reads the migrations of a directory: only `NNN_name.sql` files, numbered without duplicates, in numeric order,
 * each valid UTF-8. Throws a `ConfigurationError` naming the offending file otherwise. What the files hold is
 * checked by `migrate()`, which knows the engine.
 */
export function readMigrations(directory: string): Migration[] {
  if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) {
    throw new ConfigurationError(`migrations directory ${directory} does not exist`);
  }
  const files = fs.readdirSync(directory).filter(name => !name.startsWith('.')).sort();
  const numbers = new Map<number, string>();
  for (const name of files) {
    const match = MIGRATION_FILE.exec(name);
    if (!match) {
      throw new ConfigurationError(`${path.join(directory, name)} is not a migration: name files NNN_description.sql (for example 001_create_todos.sql)`);
    }
    const number = Number(match[1]);
    if (numbers.has(number)) {
      throw new ConfigurationError(`${name} and ${numbers.get(number)} have the same number ${number}: give each migration its own`);
    }
    numbers.set(number, name);
  }
  return [...numbers.entries()].sort(([a], [b]) => a - b).map(([, name]) => {
    const decoded = decodeMigration(fs.readFileSync(path.join(directory, name)));
    if ('problem' in decoded) throw new ConfigurationError(`migration ${path.join(directory, name)} ${decoded.problem}`);
    return { name, sql: decoded.sql };
  });
}

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/**
 * Applies `migrations` in order, each once: every migration runs in a transaction together with the row that
 * records it, so a failing migration leaves nothing recorded (PostgreSQL rolls its DDL back too). A recorded
 * migration whose content changed is refused. Statements run with the client's user (the admin, at deploy time).
 *
 * Before anything runs, every migration not yet applied is checked, and a `ConfigurationError` names the first one
 * refused: SQL that starts with a byte-order mark or holds nothing but whitespace and comments; on MySQL, which
 * commits DDL implicitly (https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html), more than one statement
 * where any statement commits implicitly (keep one DDL statement per migration), and the mysql client's DELIMITER
 * command. A migration applied before is not checked again: it never runs again.
 */
export async function migrate(db: SqlClient, migrations: readonly Migration[]): Promise<MigrationReport> {
  const names = migrations.map(m => m.name);
  if (new Set(names).size !== names.length) throw new ConfigurationError('two migrations have the same name');
  await db.query(db.engine === 'postgres'
    ? `create table if not exists ${MIGRATIONS_TABLE} (name varchar(255) primary key, checksum char(64) not null, applied_at timestamptz not null default now())`
    : `create table if not exists ${MIGRATIONS_TABLE} (name varchar(255) primary key, checksum char(64) not null, applied_at timestamp not null default current_timestamp)`);
  const { rows } = await db.query<{ name: string; checksum: string }>(`select name, checksum from ${MIGRATIONS_TABLE}`);
  const recorded = new Map(rows.map(r => [r.name, r.checksum.trim()]));
  // a recorded migration never runs again (it may have been applied before these checks existed); one whose content
  // changed is refused below
  for (const migration of migrations) {
    if (recorded.has(migration.name)) continue;
    const problem = migrationProblem(migration.sql, db.engine);
    if (problem) throw new ConfigurationError(`migration ${migration.name} ${problem}`);
  }

  const applied: string[] = [];
  const skipped: string[] = [];
  for (const migration of migrations) {
    const sum = checksum(migration.sql);
    const previous = recorded.get(migration.name);
    if (previous !== undefined) {
      if (previous !== sum) {
        throw new MigrationError(migration.name, new Error(
          'it was applied before with other content; applied migrations are never changed: add a new migration instead'));
      }
      skipped.push(migration.name);
      continue;
    }
    const placeholder = db.engine === 'postgres' ? '$1, $2' : '?, ?';
    try {
      await db.transaction(async tx => {
        await tx.query(migration.sql);
        await tx.query(`insert into ${MIGRATIONS_TABLE} (name, checksum) values (${placeholder})`, [migration.name, sum]);
      });
    } catch (error) {
      throw new MigrationError(migration.name, error);
    }
    applied.push(migration.name);
  }
  return { applied, skipped };
}
