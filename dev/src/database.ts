/**
 * The database the local API talks to: an embedded PostgreSQL (PGlite, PostgreSQL compiled to WebAssembly, served
 * over the wire protocol) by default, or a server given by URL. Prepared as the deploy-time bootstrap prepares the
 * real one: the users first, then the migrations with the same runner, then the grants.
 */
import * as fs from 'fs';
import { connect, grantStatements, migrate, MigrationReport, readMigrations } from 'serverless-sql-api-runtime';
import { LocalApi, UsageError } from './app';
import { DatabaseEndpoint } from './functions';

/**
 * The password of every user created here. Locally there is no IAM: the users log in with this password (or
 * with none, where the server trusts local connections).
 */
export const LOCAL_PASSWORD = 'local-development';

export interface LocalDatabase {
  readonly endpoint: DatabaseEndpoint;
  /** How it is named in the log. */
  readonly description: string;
  /** Creates the users, applies the migrations and grants the users their access. */
  prepare(api: LocalApi): Promise<MigrationReport>;
  stop(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…` or `mysql://…` as the admin; default: an embedded PostgreSQL. */
  readonly url?: string;
  /** Keep the embedded database's files here (default: in memory, fresh on every start). */
  readonly dataDir?: string;
}

export async function openDatabase(api: LocalApi, options: DatabaseOptions, embedded?: Promise<LocalDatabase>): Promise<LocalDatabase> {
  if (options.url) return openServer(api, options.url);
  if (api.engine !== 'postgres') {
    await (await embedded)?.stop();
    throw new UsageError(`${api.path} uses MySQL, and the embedded database is PostgreSQL: pass --database-url mysql://root@127.0.0.1:3306/ `
      + '(a local MySQL or MariaDB) to run it.');
  }
  return embedded ?? openEmbedded(options.dataDir);
}

/**
 * Starts the embedded PostgreSQL. The command starts it while the app synthesizes (both take seconds), before it
 * knows the engine, and stops it again for a MySQL app.
 */
export async function openEmbedded(dataDir?: string): Promise<LocalDatabase> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  // sessions of several sandboxes at once; PGlite runs one statement at a time and keeps a transaction's statements together
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 100 });
  await server.start();
  const port = (server as unknown as { server: { address(): { port: number } } }).server.address().port;
  // PGlite serves one database, "postgres"
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    endpoint: { engine: 'postgres', host: '127.0.0.1', port, database: 'postgres', password: LOCAL_PASSWORD },
    description: `embedded PostgreSQL (PGlite${dataDir ? `, files in ${dataDir}` : ', in memory'}), database "postgres"`,
    prepare: api => prepare(api, adminUrl, 'postgres', 'postgres'),
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

async function openServer(api: LocalApi, url: string): Promise<LocalDatabase> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--database-url is not a URL: give postgres://user:password@host:port/database or mysql://…`);
  }
  const engine = parsed.protocol === 'postgres:' || parsed.protocol === 'postgresql:' ? 'postgres' : parsed.protocol === 'mysql:' ? 'mysql' : undefined;
  if (!engine) throw new UsageError(`--database-url must start with postgres:// or mysql:// (got ${parsed.protocol}//)`);
  if (engine !== api.engine) {
    throw new UsageError(`${api.path} uses ${api.engine === 'postgres' ? 'PostgreSQL' : 'MySQL'}, but --database-url is a ${engine} URL: `
      + 'give a server of the same engine.');
  }
  const sslMode = parsed.searchParams.get('sslmode') ?? parsed.searchParams.get('ssl-mode') ?? undefined;
  if (sslMode && /^verify[-_](full|identity)$/i.test(sslMode)) {
    throw new UsageError(`--database-url has sslmode=${sslMode}, but the handlers reach the server through a local relay (which counts `
      + 'their connections), so the host name cannot match: use sslmode=verify-ca or require.');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || api.databaseName;
  if (!database) throw new UsageError('--database-url names no database, and the app sets none: add it to the URL (…/mydb).');
  await ensureDatabase(engine, parsed, database);
  const adminUrl = new URL(parsed.href);
  adminUrl.pathname = `/${encodeURIComponent(database)}`;
  return {
    endpoint: { engine, host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || (engine === 'postgres' ? 5432 : 3306)), database, password: LOCAL_PASSWORD, sslMode },
    description: `${engine === 'postgres' ? 'PostgreSQL' : 'MySQL'} at ${parsed.host}, database "${database}"`,
    prepare: localApi => prepare(localApi, adminUrl.href, database, engine),
    stop: async () => {},
  };
}

/** Creates the application database if the server lacks it, as RDS creates it with the instance. */
async function ensureDatabase(engine: 'postgres' | 'mysql', url: URL, database: string): Promise<void> {
  const server = new URL(url.href);
  // a database every server has
  server.pathname = engine === 'postgres' ? '/postgres' : '/mysql';
  const db = connect({ url: server.href });
  try {
    if (engine === 'postgres') {
      const { rows } = await db.query('select 1 from pg_database where datname = $1', [database]);
      if (rows.length === 0) await db.query(`create database "${database.replace(/"/g, '""')}"`);
    } else {
      await db.query(`create database if not exists \`${database.replace(/`/g, '``')}\``);
    }
  } finally {
    await db.close();
  }
}

async function prepare(api: LocalApi, adminUrl: string, database: string, engine: 'postgres' | 'mysql'): Promise<MigrationReport> {
  const db = connect({ url: adminUrl, multipleStatements: true });
  try {
    // as the bootstrap does: users first (migrations may refer to them), grants last (they cover the new tables)
    for (const user of api.users) {
      for (const statement of localUserStatements(engine, user.name)) await db.query(statement);
    }
    const migrations = api.migrationsDirectory && fs.existsSync(api.migrationsDirectory) ? readMigrations(api.migrationsDirectory) : [];
    const report = await migrate(db, migrations, {});
    for (const user of api.users) {
      for (const statement of grantStatements(engine, user.name, database, user.access)) await db.query(statement);
    }
    return report;
  } finally {
    await db.close();
  }
}

/**
 * A user that logs in with LOCAL_PASSWORD, created if missing: the bootstrap's IAM-only user needs RDS (rds_iam on
 * PostgreSQL, AWSAuthenticationPlugin on MySQL), which a local server has not.
 */
export function localUserStatements(engine: 'postgres' | 'mysql', user: string): string[] {
  return engine === 'postgres'
    ? [`do $$ begin if not exists (select from pg_roles where rolname = '${user}') then create role "${user}" login password '${LOCAL_PASSWORD}'; end if; end $$`]
    : [`create user if not exists '${user}'@'%' identified by '${LOCAL_PASSWORD}'`];
}
