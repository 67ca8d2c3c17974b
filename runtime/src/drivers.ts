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

/** pg's protocol connection: the socket, TLS negotiation and the protocol messages, as events (pg/lib/connection). */
interface PgConnectionParts {
  readonly Connection: any;
}

/** pg's parts statements use: its row parsing and its value mapping. */
interface PgStatementParts {
  /** pg/lib/result: the row parsers (pg-types) for a row description, and the command tag. */
  readonly Result: any;
  /** pg/lib/utils.prepareValue: parameters as pg sends them (dates, buffers, arrays, JSON). */
  readonly prepareValue: (value: unknown) => unknown;
}

/**
 * pg/lib/crypto/sasl and utils: SCRAM-SHA-256 and MD5 passwords. Loaded when a server asks for one of them (a local
 * server, a pooler): RDS Proxy asks for the IAM token in clear text, so a Lambda function's first connection does
 * not run their modules (SASLprep's tables, Node's Web Crypto).
 */
interface PgPasswordExchanges {
  readonly sasl: any;
  readonly md5: (user: string, password: string, salt: Buffer) => Promise<string>;
}

/** The statement running on a session: what its protocol messages feed. */
interface Running {
  fields(fields: unknown): void;
  row(values: unknown[]): void;
  complete(message: unknown): void;
  /** ReadyForQuery: the statement is over (an error already reported, or the answer complete). */
  ready(): void;
  fail(error: unknown): void;
}

/**
 * One PostgreSQL session on pg's protocol connection (pg/lib/connection), without pg's Client: the client's pool,
 * connection-string, environment and .pgpass handling, and its query queue, are not needed by a session that opens
 * with a given target and an IAM token and runs one statement at a time. Messages and errors are pg's own: a server
 * error is pg-protocol's DatabaseError, a lost socket "Connection terminated unexpectedly".
 */
class PostgresConnection extends BaseConnection {
  private running?: Running;
  /** Between a statement's end as seen by its caller (an error) and the server's ReadyForQuery, nothing is sent. */
  private waitingForReady = false;
  /** Statements submitted while the previous one waits for ReadyForQuery. */
  private readonly queue: Array<{ send(): void; fail(error: unknown): void }> = [];
  private ending = false;

  constructor(private readonly con: any, private readonly pg: PgStatementParts) {
    super();
    con.on('rowDescription', (message: any) => this.running?.fields(message.fields));
    con.on('dataRow', (message: any) => this.running?.row(message.fields));
    con.on('commandComplete', (message: unknown) => this.running?.complete(message));
    con.on('errorMessage', (error: unknown) => {
      const running = this.running;
      if (!running) {
        // a server error outside a statement (the session terminated by the server): the session is gone
        this.markBroken();
        return;
      }
      this.running = undefined;
      this.waitingForReady = true;
      running.fail(error);
    });
    con.on('readyForQuery', () => {
      const running = this.running;
      this.running = undefined;
      this.waitingForReady = false;
      running?.ready();
      this.queue.shift()?.send();
    });
    // COPY FROM STDIN has no data to send here: refuse it, as pg does
    con.on('copyInResponse', () => con.sendCopyFail('No source stream defined'));
    con.on('error', (error: unknown) => {
      this.markBroken();
      this.failAll(error);
    });
    con.on('end', () => {
      this.markBroken();
      this.failAll(new Error(this.ending ? 'Connection terminated' : 'Connection terminated unexpectedly'));
    });
  }

  private failAll(error: unknown): void {
    const running = this.running;
    this.running = undefined;
    running?.fail(error);
    for (const waiting of this.queue.splice(0)) waiting.fail(error);
  }

  public query(sql: string, params?: readonly unknown[], limit?: RowLimit): Promise<QueryResult<any>> {
    return new Promise((resolve, reject) => {
      // rows of the statement's last result only (several statements without parameters: the last one's answer)
      let rows: unknown[] = [];
      let count = 0;
      let over = false;
      this.submit(sql, params, {
        startResult: () => {
          rows = [];
        },
        row: row => {
          if (over) return;
          if (limit && ++count > limit.maxRows) {
            over = true;
            rows = [];
            if (limit.stopAtLimit) {
              this.destroy();
              reject(new RowLimitExceeded(limit.maxRows, false));
            }
            return;
          }
          rows.push(row);
        },
        end: (rowCount, command) => {
          if (over) reject(new RowLimitExceeded(limit!.maxRows, true));
          else resolve({ rows, rowCount, command });
        },
        fail: reject,
      });
    });
  }

  public stream(sql: string, params: readonly unknown[] | undefined, sink: RowSink): RowStream {
    this.submit(sql, params, {
      startResult: () => undefined,
      row: row => sink.row(row),
      end: (rowCount, command) => sink.end(rowCount, command),
      fail: error => sink.fail(error),
    });
    // the parser reads whatever the socket delivers: pausing the socket stops the rows, and TCP stops the server
    return { pause: () => this.con.stream?.pause(), resume: () => this.con.stream?.resume() };
  }

  /**
   * Sends the statement: without parameters as a simple query (several statements allowed), with parameters through
   * the unnamed statement and portal (named prepared statements pin RDS Proxy sessions). Rows are parsed with
   * pg-types as pg parses them and handed over one at a time, none kept here.
   */
  private submit(sql: string, params: readonly unknown[] | undefined, out: {
    startResult(): void;
    row(row: unknown): void;
    end(rowCount: number, command: string | undefined): void;
    fail(error: unknown): void;
  }): void {
    let result: any = new this.pg.Result();
    /** a row the type parsers refused: reported when the server is done, as pg does */
    let parseError: unknown;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      out.fail(error);
    };
    const running: Running = {
      fields: fields => {
        if (result.command) result = new this.pg.Result();
        result.addFields(fields);
        out.startResult();
      },
      row: values => {
        if (parseError !== undefined) return;
        let row: unknown;
        try {
          row = result.parseRow(values);
        } catch (error) {
          parseError = error;
          return;
        }
        out.row(row);
      },
      complete: message => {
        if (result.command) {
          // a statement that returned no rows after one that did
          result = new this.pg.Result();
          out.startResult();
        }
        result.addCommandComplete(message);
      },
      ready: () => {
        if (failed) return;
        if (parseError !== undefined) fail(parseError);
        else out.end(result.rowCount ?? 0, result.command ?? undefined);
      },
      fail,
    };
    const send = () => {
      if (this.broken) {
        // pg's own words for a session it can no longer use
        fail(new Error(this.ending ? 'Client was closed and is not queryable' : 'Client has encountered a connection error and is not queryable'));
        return;
      }
      this.running = running;
      if (params === undefined || params.length === 0) {
        this.con.query(sql);
        return;
      }
      const stream = this.con.stream;
      stream.cork?.();
      try {
        this.con.parse({ text: sql, name: '', types: [] });
        try {
          this.con.bind({ portal: '', statement: '', values: [...params], valueMapper: this.pg.prepareValue });
        } catch (error) {
          // a value pg cannot send (a circular object): close the statement, wait for ReadyForQuery
          this.con.close({ type: 'S', name: '' });
          this.con.sync();
          this.running = undefined;
          this.waitingForReady = true;
          fail(error);
          return;
        }
        this.con.describe({ type: 'P', name: '' });
        this.con.execute({ portal: '', rows: 0 });
        this.con.sync();
      } finally {
        stream.uncork?.();
      }
    };
    // a broken session gets no ReadyForQuery any more: fail at once rather than wait in the queue
    if (!this.broken && (this.running || this.waitingForReady)) this.queue.push({ send, fail });
    else send();
  }

  protected end(): Promise<void> {
    // close() calls this only on a session that is not broken, so its socket is still open
    return new Promise(resolve => {
      this.ending = true;
      this.con.once('end', () => resolve());
      this.con.end();
    });
  }

  protected destroySocket(): void {
    this.con.stream?.destroy();
  }
}

let pgConnection: PgConnectionParts | undefined;
let pgStatements: PgStatementParts | undefined;
let pgPasswordExchanges: PgPasswordExchanges | undefined;

// pg exports lib/* as subpaths; test/drivers.test.ts fails if an upgrade of pg moves or reshapes them
function loadPgConnection(): PgConnectionParts {
  return pgConnection ??= load('pg', 'postgres', () => ({ Connection: require('pg/lib/connection') }));
}

/** Loaded while the server checks the password (the first connection's longest wait), or else once it is in. */
function loadPgStatements(): PgStatementParts {
  return pgStatements ??= load('pg', 'postgres', () => ({
    Result: require('pg/lib/result'),
    prepareValue: require('pg/lib/utils').prepareValue,
  }));
}

function loadPgPasswordExchanges(): PgPasswordExchanges {
  return pgPasswordExchanges ??= load('pg', 'postgres', () => ({
    sasl: require('pg/lib/crypto/sasl'),
    md5: require('pg/lib/crypto/utils').postgresMd5PasswordHash,
  }));
}

export const postgresDriver: Driver = {
  beginStatement: 'BEGIN',
  open(target, password, timeoutMs) {
    const con = new (loadPgConnection().Connection)({
      ssl: target.ssl,
      keepAlive: true,
      keepAliveInitialDelayMillis: target.keepAliveInitialDelayMs,
    });
    return new Promise<PhysicalConnection>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      /** The session, once the server is ready (with pg's statement parts), or the error that ended the opening. */
      const settle = (error: unknown, statements?: PgStatementParts) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        con.removeListener('error', settle);
        con.removeListener('errorMessage', settle);
        con.removeListener('end', terminated);
        con.removeListener('readyForQuery', connected);
        if (statements) {
          resolve(new PostgresConnection(con, statements));
        } else {
          con._ending = true;
          con.stream?.destroy();
          reject(error);
        }
      };
      const connected = () => {
        let statements: PgStatementParts;
        try {
          statements = loadPgStatements();
        } catch (error) {
          settle(error);
          return;
        }
        settle(undefined, statements);
      };
      const terminated = () => settle(new Error('Connection terminated unexpectedly'));
      if (timeoutMs > 0) {
        // pg's own words for it, where a Client would have given up
        timer = setTimeout(() => settle(new Error('timeout expired')), timeoutMs);
      }
      const secret = (use: (value: string) => void | Promise<void>) => {
        Promise.resolve().then(password).then(value => {
          if (typeof value !== 'string') throw new TypeError('Password must be a string');
          return use(value);
        }).catch(settle);
      };
      /** A password (or its proof) is on its way: the statements' parts load while the server checks it. */
      const sent = () => void loadPgStatements();
      let session: any;
      let secretValue = '';
      con.on('error', settle);
      con.on('errorMessage', settle);
      con.on('end', terminated);
      con.once('readyForQuery', connected);
      // only user and database in the startup message: other startup parameters pin RDS Proxy sessions and are
      // refused by poolers
      const startup = () => con.startup({ user: target.user, database: target.database });
      con.once('connect', () => (target.ssl ? con.requestSsl() : startup()));
      con.once('sslconnect', startup);
      con.on('authenticationCleartextPassword', () => secret(value => {
        con.password(value);
        sent();
      }));
      con.on('authenticationMD5Password', (message: any) => secret(async value => {
        con.password(await loadPgPasswordExchanges().md5(target.user, value, message.salt));
        sent();
      }));
      con.on('authenticationSASL', (message: any) => secret(value => {
        secretValue = value;
        session = loadPgPasswordExchanges().sasl.startSession(message.mechanisms, false);
        con.sendSASLInitialResponseMessage(session.mechanism, session.response);
      }));
      con.on('authenticationSASLContinue', (message: any) => {
        Promise.resolve()
          .then(() => loadPgPasswordExchanges().sasl.continueSession(session, secretValue, message.data, false))
          .then(() => {
            con.sendSCRAMClientFinalMessage(session.response);
            sent();
          })
          .catch(settle);
      });
      con.on('authenticationSASLFinal', (message: any) => {
        try {
          loadPgPasswordExchanges().sasl.finalizeSession(session, message.data);
        } catch (error) {
          settle(error);
        }
      });
      if (target.host.startsWith('/')) con.connect(`${target.host}/.s.PGSQL.${target.port}`);
      else con.connect(target.port, target.host);
    });
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
