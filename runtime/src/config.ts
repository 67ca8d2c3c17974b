import { isIPv4 } from 'net';
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
   * `iam` (a token signed per connection, TLS verified) or `password` (local mode). Env: SQL_AUTH. Defaults to
   * `password` when `url` or `password` is passed, else to SQL_AUTH, else to `password` when SQL_URL is set, else
   * `iam`. A URL without a password is password mode with an empty password (trust authentication).
   */
  readonly auth?: 'iam' | 'password';
  /** Local mode: a static password. */
  readonly password?: string;
  /**
   * Local mode: `postgres://user:password@host:port/database` or `mysql://…`. Env: SQL_URL. One query parameter
   * is read, `sslmode` (or MySQL's `ssl-mode`): `disable`, `require` (encrypted, the certificate not checked),
   * `verify-ca` (the authority checked, not the host name) or `verify-full` (both); without it, TLS is off.
   * `prefer` and `allow` are refused: they fall back to plain text without telling.
   */
  readonly url?: string;
  /** IAM mode: the Region to sign for. Env: AWS_REGION. */
  readonly region?: string;
  /** IAM mode: where credentials come from; called for every token. Defaults to the Lambda environment. */
  readonly credentials?: () => AwsCredentials | Promise<AwsCredentials>;
  /**
   * TLS. Defaults to on, verified against Node.js's roots with host name checking, in IAM mode; off in password mode
   * unless given (or asked for by `sslmode`). An object is passed to `tls.connect` with `rejectUnauthorized: true`
   * and the host as `servername` unless it says otherwise. IAM mode refuses `rejectUnauthorized: false` and a
   * `checkServerIdentity` of its own: the token must reach only the proxy. In password mode a `checkServerIdentity`
   * replaces the host name check on PostgreSQL; on MySQL (whose driver checks the name itself or not at all) it
   * turns the host name check off.
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
  /**
   * Without a Lambda context: the time allowed for each statement (and for waiting for a free connection). With a
   * context, its remaining time less half a second bounds them instead. On expiry the connection is destroyed and
   * a `TimeoutError` says whether the statement may have run. Enforced by the client alone, with no `SET` and no
   * startup parameter (they would pin RDS Proxy's connections). Default 30 s.
   */
  readonly queryTimeoutMs?: number;
  /**
   * Idle time after which TCP keepalive probes start, for both drivers. A connection through a NAT gateway that is
   * idle for 350 seconds times out, and AWS advises keepalive at intervals below that
   * (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html#nat-gateway-troubleshooting-timeout).
   * From 1000 up to (not including) 350000. Default 60 s.
   */
  readonly keepAliveInitialDelayMs?: number;
  /**
   * The most rows a buffered `query()` (or a transaction's `tx.query()`) may return; more raise `TooManyRowsError`
   * instead of filling the function's memory. A query can set its own with `{ maxRows }`. Read larger results with
   * `stream()`. Default 100,000.
   */
  readonly maxRows?: number;
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
  /** Whether the server's certificate must name the host (TLS on). */
  readonly verifyHostname: boolean;
  readonly maxConnections: number;
  readonly maxIdleMs: number;
  readonly maxLifetimeMs: number;
  readonly connectTimeoutMs: number;
  readonly connectDeadlineMs: number;
  readonly queryTimeoutMs: number;
  readonly keepAliveInitialDelayMs: number;
  readonly maxRows: number;
  readonly multipleStatements: boolean;
}

/** The default of `maxRows`. */
export const DEFAULT_MAX_ROWS = 100_000;

const DEFAULT_PROXY_IDLE_SECONDS = 1800;
/** The idle timeout of a NAT gateway (see keepAliveInitialDelayMs). */
const SILENT_IDLE_TIMEOUT_MS = 350_000;

/** libpq's `sslmode` and MySQL's `ssl-mode` values, and what they mean here. */
const SSL_MODES: Record<string, 'disable' | 'require' | 'verify-ca' | 'verify-full' | 'fallback'> = {
  'disable': 'disable', 'disabled': 'disable',
  'require': 'require', 'required': 'require',
  'verify-ca': 'verify-ca', 'verify_ca': 'verify-ca',
  'verify-full': 'verify-full', 'verify_identity': 'verify-full', 'verify-identity': 'verify-full',
  'prefer': 'fallback', 'preferred': 'fallback', 'allow': 'fallback',
};

/**
 * Resolves the options and the SQL_* environment into one configuration, or throws a `ConfigurationError` that
 * names the option (or variable), the value and the fix. Nothing is opened.
 */
export function resolveConfig(options: ConnectOptions, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const urlFromOptions = options.url !== undefined;
  const url = options.url ?? (env.SQL_URL || undefined);
  const urlSource = urlFromOptions ? 'url' : 'SQL_URL';
  const parsed = url !== undefined ? parseUrl(url, urlSource) : undefined;
  const engine = options.engine ?? parsed?.engine ?? (env.SQL_ENGINE as Engine | undefined);
  if (engine !== 'postgres' && engine !== 'mysql') {
    throw new ConfigurationError(`engine must be "postgres" or "mysql" (got ${JSON.stringify(engine)}): pass { engine } or set SQL_ENGINE`);
  }
  if (parsed && parsed.engine !== engine) {
    throw new ConfigurationError(`engine is "${engine}" but ${urlSource} is a ${parsed.engine} URL: make them agree`);
  }
  const auth = options.auth
    ?? (urlFromOptions || options.password !== undefined ? 'password' : undefined)
    ?? (env.SQL_AUTH as 'iam' | 'password' | undefined)
    ?? (parsed ? 'password' : 'iam');
  if (auth !== 'iam' && auth !== 'password') {
    throw new ConfigurationError(`auth must be "iam" or "password" (got ${JSON.stringify(auth)}): pass { auth } or set SQL_AUTH`);
  }
  const host = options.host ?? parsed?.host ?? env.SQL_HOST;
  const database = options.database ?? parsed?.database ?? env.SQL_DATABASE;
  const user = options.user ?? parsed?.user ?? env.SQL_USER;
  for (const [name, value, variable] of [['host', host, 'SQL_HOST'], ['database', database, 'SQL_DATABASE'], ['user', user, 'SQL_USER']]) {
    if (!value) throw new ConfigurationError(`${name} is not set: pass { ${name} } or set ${variable}`);
  }
  const port = options.port ?? parsed?.port
    ?? (env.SQL_PORT !== undefined ? wholeFromEnv('SQL_PORT', env.SQL_PORT) : engine === 'postgres' ? 5432 : 3306);
  whole('port', port, 1, 65535, 'the port the proxy or database listens on');

  const ssl = resolveSsl(options.ssl, parsed?.sslMode, auth, host!, urlSource);
  const verifyHostname = ssl !== false && (auth === 'iam' || ssl.checkServerIdentity === undefined) && parsed?.sslMode !== 'require' && parsed?.sslMode !== 'verify-ca';

  const proxyIdleSeconds = env.SQL_PROXY_IDLE_TIMEOUT !== undefined
    ? wholeFromEnv('SQL_PROXY_IDLE_TIMEOUT', env.SQL_PROXY_IDLE_TIMEOUT, 1) : DEFAULT_PROXY_IDLE_SECONDS;
  const maxIdleMs = options.maxIdleMs ?? proxyIdleSeconds * 800;
  whole('maxIdleMs', maxIdleMs, 0, undefined, 'an idle time in milliseconds; keep it below the proxy\'s idle client timeout');
  const maxConnections = whole('maxConnections', options.maxConnections ?? 1, 1, undefined, 'one is right for Lambda');
  const maxLifetimeMs = whole('maxLifetimeMs', options.maxLifetimeMs ?? 60 * 60_000, 1, undefined, 'a lifetime in milliseconds');
  const connectTimeoutMs = whole('connectTimeoutMs', options.connectTimeoutMs ?? 5_000, 1, undefined, 'a time in milliseconds');
  const connectDeadlineMs = whole('connectDeadlineMs', options.connectDeadlineMs ?? 10_000, 1, undefined, 'a time in milliseconds');
  const queryTimeoutMs = whole('queryTimeoutMs', options.queryTimeoutMs ?? 30_000, 1, undefined, 'a time in milliseconds');
  const keepAliveInitialDelayMs = whole('keepAliveInitialDelayMs', options.keepAliveInitialDelayMs ?? 60_000, 1000, SILENT_IDLE_TIMEOUT_MS - 1,
    'keepalive must start before the 350 s after which AWS network paths drop an idle flow without a reset');
  const maxRows = whole('maxRows', options.maxRows ?? DEFAULT_MAX_ROWS, 1, undefined, 'read larger results with stream()');
  if (options.multipleStatements !== undefined && typeof options.multipleStatements !== 'boolean') {
    throw new ConfigurationError(`multipleStatements must be true or false (got ${JSON.stringify(options.multipleStatements)})`);
  }
  return {
    engine,
    host: host!,
    port,
    database: database!,
    user: user!,
    auth,
    password: auth === 'password' ? options.password ?? parsed?.password ?? '' : undefined,
    region: options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    ssl,
    verifyHostname,
    maxConnections,
    maxIdleMs,
    maxLifetimeMs,
    connectTimeoutMs,
    connectDeadlineMs,
    queryTimeoutMs,
    keepAliveInitialDelayMs,
    maxRows,
    multipleStatements: options.multipleStatements ?? false,
  };
}

function resolveSsl(option: ConnectOptions['ssl'], sslMode: string | undefined, auth: 'iam' | 'password', host: string,
  urlSource: string): false | tls.ConnectionOptions {
  const servername = isIpLiteral(host) ? undefined : host;
  if (auth === 'iam') {
    if (option === false || sslMode === 'disable') {
      throw new ConfigurationError('IAM authentication sends a token and needs TLS: remove { ssl: false } (or sslmode=disable)');
    }
    if (sslMode === 'require' || sslMode === 'verify-ca') {
      throw new ConfigurationError(`IAM authentication needs the server's certificate and host name verified (got sslmode=${sslMode} in ${urlSource}): `
        + 'use sslmode=verify-full or leave it out');
    }
    if (typeof option === 'object') {
      if (option.rejectUnauthorized === false) {
        throw new ConfigurationError('IAM authentication must verify the server\'s certificate, or the token could go to anyone: '
          + 'remove rejectUnauthorized: false from { ssl } (a private authority is trusted with { ssl: { ca } })');
      }
      if (option.checkServerIdentity !== undefined) {
        throw new ConfigurationError('IAM authentication checks the server\'s host name itself: remove checkServerIdentity from { ssl }');
      }
      return { servername, ...option, rejectUnauthorized: true };
    }
    return { rejectUnauthorized: true, servername };
  }
  if (option === false) return false;
  if (typeof option === 'object') return { rejectUnauthorized: true, servername, ...option };
  if (option === true || sslMode === 'verify-full') return { rejectUnauthorized: true, servername };
  if (sslMode === 'verify-ca') return { rejectUnauthorized: true, servername, checkServerIdentity: () => undefined };
  if (sslMode === 'require') return { rejectUnauthorized: false, servername };
  return false;
}

/**
 * Whether a host is an IP address, which TLS must not send as the server name (RFC 6066, section 3). An IPv6 address
 * is told by its colon, which no host name has: `net.isIP` would compile Node's IPv6 pattern here, at module load,
 * a cost of several milliseconds that Node's TLS pays anyway in the first connection to a host name.
 */
export function isIpLiteral(host: string): boolean {
  return host.includes(':') || isIPv4(host);
}

/** A whole number within bounds, or a ConfigurationError naming the option. */
export function whole(name: string, value: unknown, min: number, max: number | undefined, fix: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || (max !== undefined && value > max)) {
    const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new ConfigurationError(`${name} must be a whole number ${range} (got ${typeof value === 'number' ? value : JSON.stringify(value)}): ${fix}`);
  }
  return value;
}

function wholeFromEnv(variable: string, text: string, min = 0): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) {
    throw new ConfigurationError(`${variable} must be a whole number${min > 0 ? ` of at least ${min}` : ''} (got ${JSON.stringify(text)}): `
      + 'the construct sets it; check the function\'s environment');
  }
  return Number(text);
}

function parseUrl(url: string, source: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError(`${source} is not a URL (expected postgres://user:password@host:port/database or mysql://…)`);
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  const engine: Engine | undefined = scheme === 'postgres' || scheme === 'postgresql' ? 'postgres' : scheme === 'mysql' ? 'mysql' : undefined;
  if (!engine) throw new ConfigurationError(`the connection URL's scheme must be postgres:// or mysql:// (got ${scheme}://)`);
  let sslMode: string | undefined;
  for (const [key, value] of parsed.searchParams) {
    if (key !== 'sslmode' && key !== 'ssl-mode') {
      throw new ConfigurationError(`${source} has the parameter "${key}", which is not read: remove it (the only one read is sslmode)`);
    }
    const mode = SSL_MODES[value.toLowerCase()];
    if (!mode) {
      throw new ConfigurationError(`${source} has ${key}=${value}: use disable, require, verify-ca or verify-full`);
    }
    if (mode === 'fallback') {
      throw new ConfigurationError(`${source} has ${key}=${value}, which falls back to plain text without telling: `
        + 'use disable, require, verify-ca or verify-full');
    }
    sslMode = mode;
  }
  return {
    engine,
    host: decodeURIComponent(parsed.hostname.replace(/^\[(.*)\]$/, '$1')) || undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    user: decodeURIComponent(parsed.username) || undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined,
    sslMode,
  };
}
