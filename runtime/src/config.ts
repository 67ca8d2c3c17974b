import type * as tls from 'tls';
import { ConfigurationError } from './errors';
import { AwsCredentials } from './token';

export type Engine = 'postgres' | 'mysql';

/** Options of `connect()`. Every field falls back to the SQL_* environment the construct sets. */
export interface ConnectOptions {
  /** `postgres` or `mysql`. Env: SQL_ENGINE. */
  readonly engine?: Engine;
  /** The proxy endpoint. Env: SQL_HOST. */
  readonly host?: string;
  /** Env: SQL_PORT; defaults to the engine's port. */
  readonly port?: number;
  /** Env: SQL_DATABASE. */
  readonly database?: string;
  /** Env: SQL_USER. */
  readonly user?: string;
  /**
   * `iam` (a token signed per connection, TLS required) or `password` (local mode). Env: SQL_AUTH; defaults to
   * `password` when a password or URL is given, else `iam`.
   */
  readonly auth?: 'iam' | 'password';
  /** Local mode: a static password. */
  readonly password?: string;
  /** Local mode: `postgres://user:password@host:port/database` or `mysql://…`. Env: SQL_URL. */
  readonly url?: string;
  /** IAM mode: the Region to sign for. Env: AWS_REGION. */
  readonly region?: string;
  /** IAM mode: where credentials come from; called for every token. Defaults to the Lambda environment. */
  readonly credentials?: () => AwsCredentials | Promise<AwsCredentials>;
  /**
   * TLS. Defaults to on, verified against the system's roots with host name checking, in IAM mode; off in
   * password mode unless given.
   */
  readonly ssl?: boolean | tls.ConnectionOptions;
  /** Physical connections kept per sandbox. One is right for Lambda (one request at a time). Default 1. */
  readonly maxConnections?: number;
  /**
   * A connection idle longer than this is closed instead of reused, without a ping. Default: 80% of
   * SQL_PROXY_IDLE_TIMEOUT (the proxy's idle client timeout), or 24 minutes.
   */
  readonly maxIdleMs?: number;
  /** A connection older than this is closed instead of reused. Default 1 hour. */
  readonly maxLifetimeMs?: number;
  /** Time allowed for one connection attempt. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** Time allowed for all connection attempts when no Lambda context bounds them. Default 10 s. */
  readonly connectDeadlineMs?: number;
  /** The clock, in milliseconds (tests inject one). Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * MySQL: allow several statements in one query (migrations need it). Off by default, as it widens what an
   * injected string can do. PostgreSQL runs several statements in a query without parameters anyway.
   */
  readonly multipleStatements?: boolean;
}

export interface ResolvedConfig {
  readonly engine: Engine;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly auth: 'iam' | 'password';
  readonly password?: string;
  readonly region?: string;
  readonly ssl: false | tls.ConnectionOptions;
  readonly maxConnections: number;
  readonly maxIdleMs: number;
  readonly maxLifetimeMs: number;
  readonly connectTimeoutMs: number;
  readonly connectDeadlineMs: number;
  readonly multipleStatements: boolean;
}

const DEFAULT_PROXY_IDLE_SECONDS = 1800;

export function resolveConfig(options: ConnectOptions, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const url = options.url ?? env.SQL_URL;
  const parsed = url ? parseUrl(url) : undefined;
  const engine = options.engine ?? parsed?.engine ?? (env.SQL_ENGINE as Engine | undefined);
  if (engine !== 'postgres' && engine !== 'mysql') {
    throw new ConfigurationError(`engine must be "postgres" or "mysql" (got ${JSON.stringify(engine)}): pass { engine } or set SQL_ENGINE`);
  }
  const password = options.password ?? parsed?.password;
  const auth = options.auth ?? (env.SQL_AUTH as 'iam' | 'password' | undefined) ?? (password !== undefined ? 'password' : 'iam');
  if (auth !== 'iam' && auth !== 'password') {
    throw new ConfigurationError(`auth must be "iam" or "password" (got ${JSON.stringify(auth)}): pass { auth } or set SQL_AUTH`);
  }
  const host = options.host ?? parsed?.host ?? env.SQL_HOST;
  const database = options.database ?? parsed?.database ?? env.SQL_DATABASE;
  const user = options.user ?? parsed?.user ?? env.SQL_USER;
  for (const [name, value, variable] of [['host', host, 'SQL_HOST'], ['database', database, 'SQL_DATABASE'], ['user', user, 'SQL_USER']]) {
    if (!value) throw new ConfigurationError(`${name} is not set: pass { ${name} } or set ${variable}`);
  }
  const port = options.port ?? parsed?.port ?? (env.SQL_PORT ? Number(env.SQL_PORT) : engine === 'postgres' ? 5432 : 3306);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigurationError(`port must be a whole number from 1 to 65535 (got ${JSON.stringify(env.SQL_PORT ?? port)})`);
  }
  if (auth === 'password' && password === undefined) {
    throw new ConfigurationError('auth "password" needs { password } or a URL with one (SQL_URL)');
  }
  if (auth === 'iam' && options.ssl === false) {
    throw new ConfigurationError('IAM authentication sends a token and needs TLS: remove { ssl: false }');
  }
  const sslOption = options.ssl ?? auth === 'iam';
  const ssl = sslOption === false ? false : sslOption === true ? { rejectUnauthorized: true, servername: host } : sslOption;

  const proxyIdleSeconds = Number(env.SQL_PROXY_IDLE_TIMEOUT ?? DEFAULT_PROXY_IDLE_SECONDS);
  const maxIdleMs = options.maxIdleMs
    ?? Math.floor((Number.isFinite(proxyIdleSeconds) && proxyIdleSeconds > 0 ? proxyIdleSeconds : DEFAULT_PROXY_IDLE_SECONDS) * 800);
  const maxConnections = options.maxConnections ?? 1;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new ConfigurationError(`maxConnections must be a whole number of at least 1 (got ${maxConnections})`);
  }
  return {
    engine,
    host: host!,
    port,
    database: database!,
    user: user!,
    auth,
    password,
    region: options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    ssl,
    maxConnections,
    maxIdleMs,
    maxLifetimeMs: options.maxLifetimeMs ?? 60 * 60_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    connectDeadlineMs: options.connectDeadlineMs ?? 10_000,
    multipleStatements: options.multipleStatements ?? false,
  };
}

function parseUrl(url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError('the connection URL is not a URL (expected postgres://user:password@host:port/database)');
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  const engine: Engine | undefined = scheme === 'postgres' || scheme === 'postgresql' ? 'postgres' : scheme === 'mysql' ? 'mysql' : undefined;
  if (!engine) throw new ConfigurationError(`the connection URL's scheme must be postgres:// or mysql:// (got ${scheme}://)`);
  return {
    engine,
    host: decodeURIComponent(parsed.hostname) || undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    user: decodeURIComponent(parsed.username) || undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined,
  };
}
