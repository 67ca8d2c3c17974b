import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { InvocationContext, SqlClient, Transaction } from './client';
import { CommitOutcomeUnknownError, ConfigurationError, isConnectionError, messageOf, OutcomeUnknownError, TimeoutError } from './errors';
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

/**
 * A migration failed, and nothing of it is recorded as applied; or its COMMIT lost its answer (`cause` is then a
 * `CommitOutcomeUnknownError`: the next run finds out); or, with `migration` empty, the run could not start.
 */
export class MigrationError extends Error {
  constructor(readonly migration: string, readonly cause: unknown, hint?: string) {
    super(migration === ''
      ? `migrations did not start: ${messageOf(cause)}`
      : `migration ${migration} failed: ${messageOf(cause)}${hint ? ` (${hint})` : ''}; `
        + (cause instanceof OutcomeUnknownError ? 'it may or may not be applied and recorded: the next run finds out' : 'nothing of it was recorded as applied'));
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

/** Options of `migrate()`. */
export interface MigrateOptions {
  /**
   * The Lambda context: the whole run (waiting for another runner included) ends before its remaining time, less
   * half a second. Without it, the client's `queryTimeoutMs` bounds each statement: create the client for
   * migrations with one long enough for the longest.
   */
  readonly context?: InvocationContext;
  /** How long to wait for another runner to finish. Default 5 minutes (never past the context's deadline). */
  readonly runnerWaitMs?: number;
  /**
   * How long one statement of a migration may wait for a lock another session holds: PostgreSQL's `lock_timeout`,
   * MySQL's `lock_wait_timeout` (metadata locks) and `innodb_lock_wait_timeout` (row locks), in whole seconds on
   * MySQL. A migration that waits longer fails instead of stalling every query queued behind its lock. Default 10 s.
   */
  readonly lockTimeoutMs?: number;
  /**
   * PostgreSQL: the `statement_timeout` of each statement of a migration. MySQL has no server-side timeout for DDL
   * and DML (`max_execution_time` covers SELECT only): there the client's deadline bounds a statement, and the
   * server may finish one the client gave up on. Default 10 minutes.
   */
  readonly statementTimeoutMs?: number;
}

/** The advisory lock every runner takes (PostgreSQL: a bigint key below 2^32; MySQL: a named lock). */
const LOCK_KEY = 1_936_485_729;
const LOCK_NAME = 'serverless_sql_api_migrations';
const LOCK_POLL_MS = 200;

/**
 * Applies `migrations` in order, each once: every migration runs in a transaction together with the row that
 * records it, so a failing migration leaves nothing recorded (PostgreSQL rolls its DDL back too). A recorded
 * migration whose content changed is refused. Statements run with the client's user (the admin, at deploy time).
 *
 * Runners serialize on a database lock (PostgreSQL `pg_try_advisory_lock`, MySQL `GET_LOCK`) held on one
 * connection for the whole run: a second runner waits (`runnerWaitMs`), then finds the first one's migrations
 * recorded and skips them. Each migration runs with lock and statement timeouts (`lockTimeoutMs`,
 * `statementTimeoutMs`), set for its transaction only (PostgreSQL `SET LOCAL`; MySQL session values, put back to
 * their defaults afterwards). Run it on the database's own endpoint: through RDS Proxy the lock and the settings
 * would pin the session.
 *
 * Before anything runs, every migration not yet applied is checked, and a `ConfigurationError` names the first one
 * refused: SQL that starts with a byte-order mark or holds nothing but whitespace and comments; on MySQL, which
 * commits DDL implicitly (https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html), more than one statement
 * where any statement commits implicitly (keep one DDL statement per migration), and the mysql client's DELIMITER
 * command. A migration applied before is not checked again: it never runs again.
 */
export async function migrate(db: SqlClient, migrations: readonly Migration[], options: MigrateOptions = {}): Promise<MigrationReport> {
  const names = migrations.map(m => m.name);
  if (new Set(names).size !== names.length) throw new ConfigurationError('two migrations have the same name');
  const lockTimeoutMs = milliseconds('lockTimeoutMs', options.lockTimeoutMs ?? 10_000);
  const statementTimeoutMs = milliseconds('statementTimeoutMs', options.statementTimeoutMs ?? 10 * 60_000);
  const runnerWaitMs = milliseconds('runnerWaitMs', options.runnerWaitMs ?? 5 * 60_000, 0);
  const postgres = db.engine === 'postgres';
  return db.session(async s => {
    await takeLock(s, postgres, runnerWaitMs, options.context);
    try {
      return await applyAll(s, postgres, migrations, lockTimeoutMs, statementTimeoutMs);
    } finally {
      // a broken connection has released the lock already; the client then discards it
      await s.query(postgres ? `select pg_advisory_unlock(${LOCK_KEY})` : `select release_lock('${LOCK_NAME}')`).catch(() => undefined);
    }
  }, { context: options.context });
}

async function takeLock(s: Transaction, postgres: boolean, waitMs: number, context?: InvocationContext) {
  const started = Date.now();
  for (;;) {
    const { rows } = await s.query<{ locked: unknown }>(postgres
      ? `select pg_try_advisory_lock(${LOCK_KEY}) as locked`
      : `select get_lock('${LOCK_NAME}', 0) as locked`);
    if (rows[0].locked === true || Number(rows[0].locked) === 1) return;
    const left = Math.min(waitMs - (Date.now() - started), context ? context.getRemainingTimeInMillis() - 1_000 : Infinity);
    if (left <= 0) {
      const holder = await s.query<{ holder: unknown }>(postgres
        ? `select pid as holder from pg_locks where locktype = 'advisory' and classid = 0 and objid = ${LOCK_KEY} and objsubid = 1 and granted`
        : `select is_used_lock('${LOCK_NAME}') as holder`).then(r => r.rows[0]?.holder, () => undefined);
      throw new MigrationError('', new Error(`another migration runner ${holder ? `(${postgres ? 'backend pid' : 'connection id'} ${holder}) ` : ''}`
        + `held the migration lock for the ${Date.now() - started} ms this one waited: nothing was applied. Run again when it has finished`));
    }
    await new Promise(resolve => setTimeout(resolve, Math.min(LOCK_POLL_MS, left)));
  }
}

async function applyAll(s: Transaction, postgres: boolean, migrations: readonly Migration[], lockTimeoutMs: number,
  statementTimeoutMs: number): Promise<MigrationReport> {
  await s.query(postgres
    ? `create table if not exists ${MIGRATIONS_TABLE} (name varchar(255) primary key, checksum char(64) not null, applied_at timestamptz not null default now())`
    : `create table if not exists ${MIGRATIONS_TABLE} (name varchar(255) primary key, checksum char(64) not null, applied_at timestamp not null default current_timestamp)`);
  const { rows } = await s.query<{ name: string; checksum: string }>(`select name, checksum from ${MIGRATIONS_TABLE}`);
  const recorded = new Map(rows.map(r => [r.name, r.checksum.trim()]));
  // a recorded migration never runs again (it may have been applied before these checks existed); one whose content
  // changed is refused below
  for (const migration of migrations) {
    if (recorded.has(migration.name)) continue;
    const problem = migrationProblem(migration.sql, postgres ? 'postgres' : 'mysql');
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
    await applyOne(s, postgres, migration, sum, lockTimeoutMs, statementTimeoutMs);
    applied.push(migration.name);
  }
  return { applied, skipped };
}

async function applyOne(s: Transaction, postgres: boolean, migration: Migration, sum: string, lockTimeoutMs: number, statementTimeoutMs: number) {
  const seconds = Math.max(1, Math.ceil(lockTimeoutMs / 1000));
  let began = false;
  try {
    if (postgres) {
      await s.query('BEGIN');
      began = true;
      await s.query(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
      await s.query(`SET LOCAL statement_timeout = ${statementTimeoutMs}`);
    } else {
      await s.query(`SET SESSION lock_wait_timeout = ${seconds}, innodb_lock_wait_timeout = ${seconds}`);
      await s.query('START TRANSACTION');
      began = true;
    }
    await s.query(migration.sql);
    await s.query(`insert into ${MIGRATIONS_TABLE} (name, checksum) values (${postgres ? '$1, $2' : '?, ?'})`, [migration.name, sum]);
    began = false;
    try {
      await s.query('COMMIT');
    } catch (error) {
      throw isConnectionError(error) || error instanceof OutcomeUnknownError || error instanceof TimeoutError ? new CommitOutcomeUnknownError(error) : error;
    }
  } catch (error) {
    if (began) await s.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError(migration.name, error, explain(error, lockTimeoutMs, statementTimeoutMs, postgres));
  } finally {
    if (!postgres) await s.query('SET SESSION lock_wait_timeout = DEFAULT, innodb_lock_wait_timeout = DEFAULT').catch(() => undefined);
  }
}

/** What a timeout inside a migration means, for the error's message. */
function explain(error: unknown, lockTimeoutMs: number, statementTimeoutMs: number, postgres: boolean): string | undefined {
  const code = (error as { code?: string; errno?: number }).code;
  if (code === '55P03' || code === 'ER_LOCK_WAIT_TIMEOUT' || (error as { errno?: number }).errno === 1205) {
    return `a statement waited more than lockTimeoutMs (${lockTimeoutMs} ms) for a lock another session holds (a long transaction on the same table?)`;
  }
  if (postgres && code === '57014') return `a statement ran longer than statementTimeoutMs (${statementTimeoutMs} ms)`;
  return undefined;
}

function milliseconds(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigurationError(`${name} must be a whole number of milliseconds of at least ${min} (got ${JSON.stringify(value)})`);
  }
  return value;
}
