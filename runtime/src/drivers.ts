import type * as tls from 'tls';
import { ConfigurationError } from './errors';

/** The result of one statement. */
export interface QueryResult<Row = Record<string, unknown>> {
  /** Rows returned (empty for statements that return none). */
  readonly rows: Row[];
  /** Rows returned or affected. */
  readonly rowCount: number;
  /** The statement's command tag where the driver reports one (PostgreSQL: `SELECT`, `INSERT`, `ROLLBACK`…). */
  readonly command?: string;
}

/** Where and as whom a physical connection is opened. */
export interface ConnectionTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** TLS options; false for plain TCP. */
  readonly ssl: false | tls.ConnectionOptions;
  /** Whether the password is an IAM token (sent in clear text, over TLS only, to MySQL). */
  readonly iam: boolean;
  /** MySQL: several statements per query. */
  readonly multipleStatements: boolean;
  /** Whether TLS checks that the certificate names the host (mysql2 does so only when asked). */
  readonly verifyHostname: boolean;
  /** TCP keepalive: idle time before the first probe. */
  readonly keepAliveInitialDelayMs: number;
}

/** One open database session. */
export interface PhysicalConnection {
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult<any>>;
  /**
   * Closes the session politely, waiting at most `graceMs` for the server's goodbye, then destroys the socket;
   * never throws.
   */
  close(graceMs?: number): Promise<void>;
  /** Destroys the socket at once, without a goodbye (after a timeout: the session may be stuck mid-answer). */
  destroy(): void;
  /** Set once the socket failed or the server closed the session. */
  readonly broken: boolean;
}

export interface Driver {
  readonly beginStatement: string;
  open(target: ConnectionTarget, password: () => Promise<string>, timeoutMs: number): Promise<PhysicalConnection>;
}

function load(moduleName: string, engine: string, loader: () => any): any {
  try {
    // Loaded on first connection only: a handler pays for the driver it uses, never for the other one. The
    // require calls are literal so that bundlers include the driver; a bundler must be told to leave the other
    // engine's driver external (cdk-serverless-sql-api's ApiHandler.nodejs does so for the function's engine).
    return loader();
  } catch {
    throw new ConfigurationError(`SQL engine "${engine}" needs the "${moduleName}" package: npm install ${moduleName}`);
  }
}

abstract class BaseConnection implements PhysicalConnection {
  private failed = false;

  public get broken(): boolean {
    return this.failed;
  }

  /** Error and end listeners call this: a dropped socket marks the session broken, never crashes the process. */
  protected markBroken = () => {
    this.failed = true;
  };

  abstract query(sql: string, params?: readonly unknown[]): Promise<QueryResult<any>>;
  protected abstract end(): Promise<void>;
  protected abstract destroySocket(): void;

  public destroy(): void {
    this.failed = true;
    try {
      this.destroySocket();
    } catch {
      // already gone
    }
  }

  public async close(graceMs = DEFAULT_CLOSE_GRACE_MS): Promise<void> {
    if (this.failed) {
      this.destroy();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const ended = this.end().catch(() => undefined);
    await Promise.race([ended, new Promise(resolve => { timer = setTimeout(resolve, graceMs); })]);
    clearTimeout(timer);
    this.destroy();
  }
}

/** How long close() waits for the server's goodbye before it destroys the socket. */
export const DEFAULT_CLOSE_GRACE_MS = 1_000;

class PostgresConnection extends BaseConnection {
  constructor(private readonly client: any) {
    super();
    client.on('error', this.markBroken);
    client.on('end', this.markBroken);
  }

  public async query(sql: string, params?: readonly unknown[]): Promise<QueryResult<any>> {
    // Always the unnamed statement: named prepared statements pin RDS Proxy sessions.
    const result = await this.client.query({ text: sql, values: params ? [...params] : undefined });
    return { rows: result.rows ?? [], rowCount: result.rowCount ?? 0, command: result.command };
  }

  protected async end(): Promise<void> {
    await this.client.end();
  }

  protected destroySocket(): void {
    // pg has no public destroy: its connection's stream is the socket (or the TLS socket over it)
    this.client.connection?.stream?.destroy();
  }
}

export const postgresDriver: Driver = {
  beginStatement: 'BEGIN',
  async open(target, password, timeoutMs) {
    // pg's Client alone (pg exports lib/* as subpaths): its index also loads the pool and the native binding,
    // which a handler never uses. test/drivers.test.ts fails if an upgrade of pg moves it.
    const Client = load('pg', 'postgres', () => require('pg/lib/client'));
    const client = new Client({
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user,
      password,
      ssl: target.ssl,
      connectionTimeoutMillis: timeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: target.keepAliveInitialDelayMs,
    });
    // Only user and database in the startup message, whatever PG* variables say: other startup parameters pin
    // RDS Proxy sessions and are refused by poolers.
    client.getStartupConf = () => ({ user: target.user, database: target.database });
    const connection = new PostgresConnection(client);
    try {
      await client.connect();
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  },
};

class MysqlConnection extends BaseConnection {
  constructor(private readonly connection: any) {
    super();
    connection.on('error', this.markBroken);
    connection.on('end', this.markBroken);
  }

  public query(sql: string, params?: readonly unknown[]): Promise<QueryResult<any>> {
    // `query` (client-side parameter binding), never `execute`: server-side prepared statements pin RDS Proxy sessions.
    return new Promise((resolve, reject) => {
      this.connection.query(sql, params ? [...params] : undefined, (error: unknown, rows: any) => {
        if (error) {
          if ((error as { fatal?: boolean }).fatal) this.markBroken();
          reject(error);
        } else if (Array.isArray(rows)) {
          resolve({ rows, rowCount: rows.length });
        } else {
          resolve({ rows: [], rowCount: rows?.affectedRows ?? 0 });
        }
      });
    });
  }

  protected end(): Promise<void> {
    return new Promise(resolve => this.connection.end(() => resolve()));
  }

  protected destroySocket(): void {
    // mysql2's destroy() only ends the stream (a FIN that a dead path never delivers): destroy the socket itself
    (this.connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    this.connection.destroy();
  }
}

export const mysqlDriver: Driver = {
  beginStatement: 'START TRANSACTION',
  async open(target, password, timeoutMs) {
    const mysql = load('mysql2', 'mysql', () => require('mysql2'));
    const raw = mysql.createConnection({
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user,
      // an empty password is none at all (mysql2 would otherwise answer the server's challenge with one)
      password: (await password()) || undefined,
      // mysql2 checks the certificate's host name only with verifyIdentity
      ssl: target.ssl === false ? undefined : { ...target.ssl, verifyIdentity: target.verifyHostname },
      // RDS Proxy asks for the token in clear text (mysql_clear_password); only ever allowed over TLS.
      enableCleartextPlugin: target.iam && target.ssl !== false,
      connectTimeout: timeoutMs,
      multipleStatements: target.multipleStatements,
      supportBigNumbers: true,
      enableKeepAlive: true,
      keepAliveInitialDelay: target.keepAliveInitialDelayMs,
    });
    const connection = new MysqlConnection(raw);
    try {
      await new Promise<void>((resolve, reject) => raw.connect((error: unknown) => (error ? reject(error) : resolve())));
    } catch (error) {
      raw.destroy();
      throw error;
    }
    return connection;
  },
};
