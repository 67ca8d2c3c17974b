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

/** How many rows a buffered query may collect, and what happens at the limit. */
export interface RowLimit {
  readonly maxRows: number;
  /**
   * At the limit: true destroys the connection at once (for a statement that only reads, nothing is lost); false
   * reads the answer to its end, discarding the rows, so that the statement completes and the connection stays usable.
   */
  readonly stopAtLimit: boolean;
}

/** A buffered query's answer held more rows than its limit. */
export class RowLimitExceeded extends Error {
  /** `completed`: the statement ran to its end (its rows were discarded); false: the connection was destroyed mid-answer. */
  constructor(readonly maxRows: number, readonly completed: boolean) {
    super(`the answer held more than ${maxRows} rows`);
    this.name = 'RowLimitExceeded';
  }
}

/** Where a streamed statement's rows go, one at a time, as they arrive. */
export interface RowSink {
  row(row: any): void;
  /** The statement completed: `rowCount` rows returned or affected. */
  end(rowCount: number, command?: string): void;
  /** The statement or the connection failed; nothing else is called after this. */
  fail(error: unknown): void;
}

/** Backpressure on a streamed statement: pause stops reading from the socket, so the server waits on TCP. */
export interface RowStream {
  pause(): void;
  resume(): void;
}

/** One open database session. */
export interface PhysicalConnection {
  query(sql: string, params?: readonly unknown[], limit?: RowLimit): Promise<QueryResult<any>>;
  /**
   * Runs one statement and hands each row to `sink` as it is parsed, keeping none: memory stays flat however many
   * rows come. Nothing but the statement is sent (no cursor, no named portal, no SET).
   */
  stream(sql: string, params: readonly unknown[] | undefined, sink: RowSink): RowStream;
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

  abstract query(sql: string, params?: readonly unknown[], limit?: RowLimit): Promise<QueryResult<any>>;
  abstract stream(sql: string, params: readonly unknown[] | undefined, sink: RowSink): RowStream;
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
  constructor(private readonly client: any, private readonly Query: any) {
    super();
    client.on('error', this.markBroken);
    client.on('end', this.markBroken);
  }

  public query(sql: string, params?: readonly unknown[], limit?: RowLimit): Promise<QueryResult<any>> {
    return new Promise((resolve, reject) => {
      // With a 'row' listener and no callback, pg keeps no rows itself: they are collected here, up to the limit.
      const rows = new Map<unknown, unknown[]>();
      let count = 0;
      let over = false;
      const query = this.submit(sql, params);
      query.on('row', (row: unknown, result: unknown) => {
        if (over) return;
        if (limit && ++count > limit.maxRows) {
          over = true;
          rows.clear();
          if (limit.stopAtLimit) {
            this.destroy();
            reject(new RowLimitExceeded(limit.maxRows, false));
          }
          return;
        }
        let set = rows.get(result);
        if (!set) rows.set(result, set = []);
        set.push(row);
      });
      query.on('error', (error: unknown) => reject(error));
      query.on('end', (results: any) => {
        if (over) {
          reject(new RowLimitExceeded(limit!.maxRows, true));
          return;
        }
        // several statements in one query (no parameters): the last one's answer, as a single statement's
        const last = Array.isArray(results) ? results[results.length - 1] : results;
        resolve({ rows: rows.get(last) ?? [], rowCount: last?.rowCount ?? 0, command: last?.command });
      });
    });
  }

  public stream(sql: string, params: readonly unknown[] | undefined, sink: RowSink): RowStream {
    const query = this.submit(sql, params);
    query.on('row', (row: unknown) => sink.row(row));
    query.on('error', (error: unknown) => sink.fail(error));
    query.on('end', (results: any) => {
      const last = Array.isArray(results) ? results[results.length - 1] : results;
      sink.end(last?.rowCount ?? 0, last?.command);
    });
    // pg parses whatever the socket delivers: pausing the socket stops the rows, and TCP stops the server
    const socket = () => this.client.connection?.stream;
    return { pause: () => socket()?.pause(), resume: () => socket()?.resume() };
  }

  /**
   * Sends the statement, always as the unnamed statement and portal: named prepared statements pin RDS Proxy
   * sessions. The query has no callback, so pg emits each row and keeps none.
   */
  private submit(sql: string, params: readonly unknown[] | undefined): any {
    const query = new this.Query({ text: sql, values: params ? [...params] : undefined });
    this.client.query(query);
    return query;
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
    // the Query class Client itself uses (already loaded with it)
    const Query = load('pg', 'postgres', () => require('pg/lib/query'));
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
    const connection = new PostgresConnection(client, Query);
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
  /** The running statement's failure handler: mysql2 reports a lost connection to the connection, not to a query without callback. */
  private onLost?: (error: unknown) => void;

  constructor(private readonly connection: any) {
    super();
    const lost = (error?: unknown) => {
      this.markBroken();
      const notify = this.onLost;
      this.onLost = undefined;
      notify?.(error ?? Object.assign(new Error('Connection lost: the server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }));
    };
    connection.on('error', lost);
    connection.on('end', () => lost());
    // destroy() closes the socket without an 'end' from mysql2
    connection.stream?.on?.('close', () => lost());
  }

  public query(sql: string, params?: readonly unknown[], limit?: RowLimit): Promise<QueryResult<any>> {
    return new Promise((resolve, reject) => {
      // one entry per result: an array of rows, or the OK packet of a statement that returns none
      const results: unknown[] = [];
      let count = 0;
      let over = false;
      this.run(sql, params, {
        fields: fields => {
          if (!over) results.push(fields === undefined ? undefined : []);
        },
        result: (row, isRow) => {
          if (over) return;
          if (!isRow) {
            results[results.length - 1] = row;
          } else if (limit && ++count > limit.maxRows) {
            over = true;
            results.length = 0;
            if (limit.stopAtLimit) {
              this.destroy();
              reject(new RowLimitExceeded(limit.maxRows, false));
            }
          } else {
            (results[results.length - 1] as unknown[]).push(row);
          }
        },
        end: () => {
          if (over) {
            reject(new RowLimitExceeded(limit!.maxRows, true));
            return;
          }
          // several statements (multipleStatements): every result, as mysql2's own callback gives them
          const rows: any = results.length === 1 ? results[0] : results;
          if (Array.isArray(rows)) resolve({ rows, rowCount: rows.length });
          else resolve({ rows: [], rowCount: rows?.affectedRows ?? 0 });
        },
        fail: reject,
      });
    });
  }

  public stream(sql: string, params: readonly unknown[] | undefined, sink: RowSink): RowStream {
    let rowCount = 0;
    let affected: number | undefined;
    this.run(sql, params, {
      fields: () => undefined,
      result: (row, isRow) => {
        if (isRow) {
          rowCount++;
          sink.row(row);
        } else {
          affected = (row as { affectedRows?: number })?.affectedRows ?? 0;
        }
      },
      end: () => sink.end(affected ?? rowCount),
      fail: error => sink.fail(error),
    });
    // mysql2 queues what was already read while paused, and pauses the socket
    return { pause: () => this.connection.pause(), resume: () => this.connection.resume() };
  }

  /**
   * Sends the statement with `query` (client-side parameter binding), never `execute`: server-side prepared
   * statements pin RDS Proxy sessions. Without a callback mysql2 emits each row and keeps none.
   */
  private run(sql: string, params: readonly unknown[] | undefined, handlers: {
    fields(fields: unknown[] | undefined): void;
    result(row: unknown, isRow: boolean): void;
    end(): void;
    fail(error: unknown): void;
  }) {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      this.onLost = undefined;
      if ((error as { fatal?: boolean }).fatal) this.markBroken();
      handlers.fail(error);
    };
    if (this.broken) {
      process.nextTick(() => fail(Object.assign(new Error('Connection lost: the connection is closed.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true })));
      return;
    }
    this.onLost = fail;
    const query = this.connection.query(sql, params ? [...params] : undefined);
    query.on('fields', (fields: unknown[] | undefined) => handlers.fields(fields));
    // a row comes with the index of its result set; the OK packet of a statement without rows comes without one
    query.on('result', (row: unknown, index?: number) => handlers.result(row, index !== undefined));
    query.on('error', fail);
    query.on('end', () => {
      if (settled) return;
      settled = true;
      this.onLost = undefined;
      handlers.end();
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
