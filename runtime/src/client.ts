import { AsyncLocalStorage } from 'async_hooks';
import { ConnectOptions, resolveConfig, ResolvedConfig, whole } from './config';
import {
  ConnectionTarget, DEFAULT_CLOSE_GRACE_MS, Driver, mysqlDriver, PhysicalConnection, postgresDriver, QueryResult, RowLimit,
  RowLimitExceeded, RowSink, RowStream,
} from './drivers';
import {
  AuthenticationError, CommitOutcomeUnknownError, ConnectError, isAuthenticationError, isConnectionError, isRestartFailure,
  isSerializationFailure, isTlsFailure, messageOf, OutcomeUnknownError, StreamInterruptedError, TimeoutError, TlsError,
  TooManyRowsError,
} from './errors';
import { isReadStatement } from './replay';
import { AwsCredentials, credentialsFromEnvironment, signAuthToken } from './token';

/** The part of the Lambda context that bounds a call. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
  /** Lambda's id of the invocation: with it, `stats()` counts invocations and tells the sandbox's first. */
  readonly awsRequestId?: string;
}

/** Options of one `query()`. */
export interface QueryOptions {
  /**
   * Whether running the statement twice is harmless. Unless this is false, a statement whose text proves that it
   * only reads counts as idempotent (see `isReadStatement`); anything else only when this is true. Only idempotent
   * statements are run again, once, after a stale reused connection failed them. A statement that is not a read by
   * its text (or is marked `false`) and loses its answer raises `OutcomeUnknownError`.
   */
  readonly idempotent?: boolean;
  /**
   * The Lambda context: connecting, waiting for a connection and the statement all end before the invocation's
   * remaining time, less half a second, runs out. Without it, `queryTimeoutMs` bounds the wait and the statement,
   * and `connectDeadlineMs` connecting.
   */
  readonly context?: InvocationContext;
  /** The most rows this query may return (more raise `TooManyRowsError`). Default: the client's `maxRows`. */
  readonly maxRows?: number;
}

/** Options of one `stream()`. */
export interface StreamOptions {
  /**
   * The Lambda context: every wait for rows (and for a connection) ends before the invocation's remaining time,
   * less half a second, runs out. Without it, each wait for the next rows is bounded by `queryTimeoutMs`, so a
   * stream may run longer than that as long as rows keep coming.
   */
  readonly context?: InvocationContext;
  /**
   * Rows read ahead of the consumer: at this many the socket is paused (the server then waits on TCP), and it is
   * resumed when half of them are consumed. Memory stays within about this many rows. Default 1000.
   */
  readonly highWaterMark?: number;
  /** As for `query()`: whether the statement may be run again after a stale reused connection failed it before any row came. */
  readonly idempotent?: boolean;
}

/** Options of one `transaction()`. */
export interface TransactionOptions {
  /** Run the whole transaction again (up to `maxAttempts`) when it loses a serialization conflict or a deadlock. */
  readonly retryOnSerializationFailure?: boolean;
  /** Attempts in all, with `retryOnSerializationFailure`. Default 3. */
  readonly maxAttempts?: number;
  /**
   * The Lambda context: the whole transaction, COMMIT included, ends before the invocation's remaining time, less
   * half a second, runs out. Without it, `queryTimeoutMs` bounds each statement and `connectDeadlineMs` connecting.
   */
  readonly context?: InvocationContext;
}

/** The statements of one transaction run on one connection. */
export interface Transaction {
  /** Runs one statement of the transaction. `maxRows` as for `query()`. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: { readonly maxRows?: number }): Promise<QueryResult<Row>>;
}

/** Counters since the client was created (or since `afterRestore()`). */
export interface ClientStats {
  /** Physical connections opened. */
  opened: number;
  /** Times an open connection was reused. */
  reused: number;
  /** Connections closed before reuse because they were idle or old, or broken. */
  evicted: number;
  /** Statements run again on a fresh connection after a stale one failed. */
  retries: number;
  /** Connection attempts that failed and were tried again after a backoff. */
  connectRetries: number;
  /** IAM tokens signed again after the server refused one. */
  authRefreshes: number;
  /** Transactions run again after a serialization failure or deadlock. */
  transactionRetries: number;
  /** Calls that ran out of time (`TimeoutError`, or a COMMIT whose outcome is unknown). */
  timeouts: number;
  /** Invocations seen: distinct `awsRequestId`s of the contexts passed to calls. */
  invocations: number;
  /** Milliseconds spent signing IAM tokens. */
  signingMs: number;
  /** Milliseconds spent opening connections: TCP, TLS and login, with the backoff between attempts. */
  connectingMs: number;
  /** Milliseconds calls waited for a connection of this client to become free (at `maxConnections`). */
  waitingMs: number;
}

/** `stats()`: the counters, and how the sandbox started. */
export interface RuntimeStats extends ClientStats {
  /**
   * How Lambda started this sandbox, from `AWS_LAMBDA_INITIALIZATION_TYPE`: `on-demand`, `provisioned-concurrency`
   * or `snap-start`; undefined outside Lambda.
   */
  initType?: string;
  /**
   * Whether the current invocation is the sandbox's first since it started (or since `afterRestore()`): its cold
   * start. Undefined until a call was given a context with `awsRequestId`.
   */
  firstInvocation?: boolean;
}

interface Slot {
  /** Undefined while the connection is being opened. */
  connection?: PhysicalConnection;
  createdAt: number;
  lastUsedAt: number;
  busy: boolean;
  /** close() ran while the slot was busy: the connection is closed when its call ends, never reused. */
  retired: boolean;
}

interface Lease {
  readonly slot: Slot;
  readonly connection: PhysicalConnection;
  /** The connection was open before this lease (so it may have gone stale while idle). */
  readonly reused: boolean;
}

/** When each part of one call must end, in the client's clock. */
interface Deadlines {
  /** From the Lambda context: bounds everything. */
  readonly invocation?: number;
  /** The context's budget or queryTimeoutMs, for messages. */
  readonly statementMs: number;
}

const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 400;
/** Time kept back from the invocation's remaining time for the handler to answer. */
const CONTEXT_RESERVE_MS = 500;

export { isReadStatement };

/** Marks the calls made inside `transaction()`'s work, to refuse one that would wait for the transaction's own connection. */
interface TransactionScope {
  readonly client: SqlClient;
  active: boolean;
}
const transactionScope = new AsyncLocalStorage<TransactionScope>();

/**
 * A database client for Lambda handlers. Create it once, outside the handler: it opens nothing until the first
 * query, then keeps the connection for the next invocations of the same sandbox.
 */
export class SqlClient {
  private readonly config: ResolvedConfig;
  private readonly driver: Driver;
  private readonly target: ConnectionTarget;
  private readonly clock: () => number;
  private readonly credentials: () => AwsCredentials | Promise<AwsCredentials>;
  private slots: Slot[] = [];
  private waiters: Array<() => void> = [];
  private counters: ClientStats = emptyStats();
  private emitted: ClientStats = emptyStats();
  private lastRequestId?: string;

  constructor(options: ConnectOptions = {}) {
    this.config = resolveConfig(options);
    this.driver = this.config.engine === 'postgres' ? postgresDriver : mysqlDriver;
    this.target = {
      host: this.config.host,
      port: this.config.port,
      database: this.config.database,
      user: this.config.user,
      ssl: this.config.ssl,
      iam: this.config.auth === 'iam',
      multipleStatements: this.config.multipleStatements,
      verifyHostname: this.config.verifyHostname,
      keepAliveInitialDelayMs: this.config.keepAliveInitialDelayMs,
    };
    this.clock = options.clock ?? Date.now;
    this.credentials = options.credentials ?? (() => credentialsFromEnvironment());
    if (this.config.auth === 'iam' && !this.config.region) {
      throw new AuthenticationError('IAM authentication needs a Region: set AWS_REGION or pass { region }');
    }
  }

  /** The engine this client talks to. */
  public get engine() {
    return this.config.engine;
  }

  /**
   * Runs one statement. Parameters use the driver's placeholders (`$1` for PostgreSQL, `?` for MySQL).
   *
   * When a reused connection turns out to be dead (the proxy or database closed it while the sandbox was frozen),
   * an idempotent statement is run once more on a fresh connection. A statement that may write and loses its
   * answer raises `OutcomeUnknownError`. A call that runs out of time raises `TimeoutError`, and its connection is
   * destroyed.
   */
  public async query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[], options: QueryOptions = {}): Promise<QueryResult<Row>> {
    const deadlines = this.deadlines(options.context);
    // judged only when needed: after a failure, or when the statement runs out of time
    let read: boolean | undefined;
    const isRead = () => read ??= options.idempotent !== false && isReadStatement(sql, this.config.engine);
    const lost = (error: unknown) => isConnectionError(error) && !isRead()
      ? new OutcomeUnknownError(`the connection failed before the answer to "${excerpt(sql)}" came: it may or may not have been applied `
        + `(${messageOf(error)}). It was not run again; check the database before writing again`, error, excerpt(sql))
      : error;
    // a statement that only reads is stopped at the limit; any other runs to its end, its rows discarded
    const limit = this.rowLimit(options.maxRows, isRead);
    const { lease, result } = await this.runWithStaleRetry(deadlines, () => options.idempotent ?? isRead(), lost,
      lease => this.statement<Row>(lease, sql, params, deadlines, () => !isRead(), limit));
    this.release(lease.slot);
    return result;
  }

  /**
   * Runs one statement and yields its rows as they arrive, holding at most about `highWaterMark` of them: for
   * results too large to buffer. Iterate it with `for await`; leaving the loop early (break, return, throw) closes
   * the connection, which stops the statement (a statement that writes may then have run in part or in full).
   *
   * Nothing but the statement is sent — no cursor, no named portal, no SET — and the rows come as the answer to it,
   * read only as fast as the consumer takes them (TCP holds the rest on the server). So it works through poolers in
   * transaction mode and does not pin an RDS Proxy connection; the connection is held until the stream ends.
   * `maxRows` does not apply. A stale reused connection that fails before the first row is replaced once (for a
   * statement that reads, or one marked idempotent); a connection lost later raises `StreamInterruptedError`
   * with the count of rows delivered (`OutcomeUnknownError` if no row came and the statement may write).
   */
  public async *stream<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[], options: StreamOptions = {}): AsyncGenerator<Row, void, undefined> {
    const highWaterMark = whole('highWaterMark', options.highWaterMark ?? 1000, 1, undefined, 'a number of rows to read ahead');
    const deadlines = this.deadlines(options.context);
    let read: boolean | undefined;
    const isRead = () => read ??= options.idempotent !== false && isReadStatement(sql, this.config.engine);
    let lease = await this.acquire(deadlines);
    let delivered = 0;
    for (let attempt = 1; ; attempt++) {
      if (this.statementBudget(deadlines) <= 0) {
        this.release(lease.slot);
        this.counters.timeouts++;
        throw new TimeoutError(`no time was left to run "${excerpt(sql)}" (${this.budgetSource(deadlines)}); it was not sent`,
          'statement', deadlines.statementMs, false, false);
      }
      const feed = new RowFeed(highWaterMark);
      feed.control = lease.connection.stream(sql, params, feed);
      /** running: rows may still come; else the slot was handed back (done) or must be closed (abandoned). */
      let state: 'running' | 'settled' = 'running';
      try {
        for (;;) {
          const connection = lease.connection;
          const item = await feed.take(this.streamWaitMs(deadlines), ms => {
            connection.destroy();
            this.counters.timeouts++;
            const writes = !isRead();
            return new TimeoutError(`"${excerpt(sql)}" sent no row within ${ms} ms after ${delivered} row(s) (${this.budgetSource(deadlines)}): `
              + (writes ? 'it may or may not have been applied; check the database before writing again. ' : 'it wrote nothing that stays. ')
              + 'The connection was closed', 'statement', ms, true, writes);
          });
          if (item === END) break;
          delivered++;
          yield item as Row;
        }
        state = 'settled';
        this.release(lease.slot);
        return;
      } catch (error) {
        state = 'settled';
        if (error instanceof TimeoutError || !isConnectionError(error)) {
          // a timeout (the connection was destroyed) or a statement error (the connection stays usable)
          this.release(lease.slot);
          throw error;
        }
        this.discard(lease.slot);
        if (delivered > 0) {
          throw new StreamInterruptedError(`the connection failed after ${delivered} row(s) of "${excerpt(sql)}" (${messageOf(error)}): `
            + 'the rows delivered are not the whole result, and nothing was run again', delivered, error);
        }
        if (!isRead()) {
          throw new OutcomeUnknownError(`the connection failed before the answer to "${excerpt(sql)}" came: it may or may not have been applied `
            + `(${messageOf(error)}). It was not run again; check the database before writing again`, error, excerpt(sql));
        }
        if (attempt > 1 || !lease.reused || options.idempotent === false) throw error;
        await this.evictIdle();
        this.counters.retries++;
        lease = await this.acquire(deadlines);
      } finally {
        if (state === 'running') {
          // the consumer left the loop before the end: stop the statement by closing its connection
          lease.connection.destroy();
          this.discard(lease.slot);
        }
      }
    }
  }

  /**
   * Runs `work` in a transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. A connection
   * failure or timeout during COMMIT raises `CommitOutcomeUnknownError` and is never retried. Inside `work`, use
   * `tx.query`: a `query()` of this client that would have to wait for the transaction's own connection fails at
   * once.
   */
  public async transaction<T>(work: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const attempts = options.retryOnSerializationFailure ? Math.max(1, options.maxAttempts ?? 3) : 1;
    const deadlines = this.deadlines(options.context);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(work, deadlines);
      } catch (error) {
        if (!isSerializationFailure(error) || attempt >= attempts) throw error;
        this.counters.transactionRetries++;
        await sleep(jitter(attempt));
      }
    }
  }

  /**
   * Runs `work` on one connection of the client, held for the whole call and not in a transaction: for session
   * state such as an advisory lock (migrations take one). Each statement of `s.query` is bounded like a query's
   * (by the context, or `queryTimeoutMs`) and never replayed; a statement that may write and loses its answer raises
   * `OutcomeUnknownError`. Session state outlives the call on the connection, so undo what you set. Through RDS Proxy
   * such state pins the session: use it on the database's own endpoint.
   */
  public async session<T>(work: (s: Transaction) => Promise<T>, options: { readonly context?: InvocationContext } = {}): Promise<T> {
    const deadlines = this.deadlines(options.context);
    // a stale reused connection is replaced before anything of the work runs
    const { lease } = await this.runWithStaleRetry(deadlines, () => true, error => error,
      l => this.statement(l, 'SELECT 1', undefined, deadlines, () => false));
    const scope: TransactionScope = { client: this, active: true };
    try {
      return await transactionScope.run(scope, () => work({
        query: async (sql, params, queryOptions) => {
          try {
            return await this.statement(lease, sql, params, deadlines, () => !isReadStatement(sql, this.config.engine),
              this.rowLimit(queryOptions?.maxRows, () => false));
          } catch (error) {
            if (isConnectionError(error) && !isReadStatement(sql, this.config.engine)) {
              throw new OutcomeUnknownError(`the connection failed before the answer to "${excerpt(sql)}" came: it may or may not have been applied `
                + `(${messageOf(error)})`, error, excerpt(sql));
            }
            throw error;
          }
        },
      }));
    } finally {
      scope.active = false;
      this.release(lease.slot);
    }
  }

  /** Counters of connection handling and how the sandbox started, for logs and metrics. */
  public stats(): RuntimeStats {
    return {
      ...this.counters,
      initType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE || undefined,
      firstInvocation: this.counters.invocations === 0 ? undefined : this.counters.invocations === 1,
    };
  }

  /**
   * Writes the counters since the last call (or since the client was created) as one CloudWatch embedded metric
   * format line to standard output, where Lambda's logs turn it into metrics: no SDK, no network call. Call it at the
   * end of an invocation. Metrics: `ColdStart`, `ConnectionsOpened`, `ConnectionsReused`, `ConnectionsEvicted`,
   * `StatementRetries`, `ConnectRetries`, `AuthRefreshes`, `TransactionRetries`, `Timeouts` (counts) and
   * `SigningTime`, `ConnectTime`, `WaitTime` (milliseconds), under `FunctionName`.
   *
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
   */
  public emitMetrics(options: EmitMetricsOptions = {}): void {
    const now = this.stats();
    const line = JSON.stringify(metricsDocument(now, this.emitted, options));
    this.emitted = now;
    (options.write ?? (text => process.stdout.write(text)))(`${line}\n`);
  }

  /**
   * Closes every idle connection, waiting at most a second (or `queryTimeoutMs`, if shorter) for each server's
   * goodbye. A connection in use (or being opened) is closed when its call ends. Safe at any moment; never
   * throws. The client stays usable: the next query opens a new connection.
   */
  public async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    for (const slot of slots) slot.retired = true;
    // waiters may open connections of their own now
    for (const wake of this.waiters.splice(0)) wake();
    await Promise.all(slots.filter(slot => !slot.busy && slot.connection).map(slot => slot.connection!.close(this.closeGraceMs())));
  }

  /** SnapStart: call before the snapshot is taken, so that no socket is frozen into it. */
  public async beforeSnapshot(): Promise<void> {
    await this.close();
  }

  /** SnapStart: call after restore. Drops any connection state and counters taken over from the snapshot. */
  public async afterRestore(): Promise<void> {
    await this.close();
    this.counters = emptyStats();
    this.emitted = emptyStats();
    this.lastRequestId = undefined;
  }

  private async transactionOnce<T>(work: (tx: Transaction) => Promise<T>, deadlines: Deadlines): Promise<T> {
    // Nothing is sent before BEGIN: a stale reused connection can be replaced safely, once.
    const { lease } = await this.runWithStaleRetry(deadlines, () => true, error => error,
      l => this.statement(l, this.driver.beginStatement, undefined, deadlines, () => false));
    const scope: TransactionScope = { client: this, active: true };
    let result: T;
    try {
      result = await transactionScope.run(scope, () => work({
        // at the limit the statement runs to its end (rows discarded), so that the transaction stays usable and rolls back
        query: (sql, params, queryOptions) => this.statement(lease, sql, params, deadlines, () => false,
          this.rowLimit(queryOptions?.maxRows, () => false)),
      }));
    } catch (error) {
      scope.active = false;
      await this.rollback(lease, deadlines);
      throw error;
    }
    scope.active = false;
    let commit: QueryResult;
    try {
      commit = await this.statement(lease, 'COMMIT', undefined, deadlines, () => true);
    } catch (error) {
      if (isConnectionError(error) || error instanceof TimeoutError) {
        this.discard(lease.slot);
        throw new CommitOutcomeUnknownError(error);
      }
      await this.rollback(lease, deadlines);
      throw error;
    }
    this.release(lease.slot);
    if (commit.command === 'ROLLBACK') {
      throw new Error('the transaction was rolled back: a statement in it failed and the error was caught inside the transaction');
    }
    return result;
  }

  /**
   * Runs one statement on a leased connection within its deadline. When the time runs out, the connection is
   * destroyed (the statement may be stuck on a dead socket or a paused pooler) and a `TimeoutError` thrown; the
   * lease's slot is then broken, and released as such by the caller.
   */
  private async statement<Row>(lease: Lease, sql: string, params: readonly unknown[] | undefined, deadlines: Deadlines,
    mayWrite: () => boolean, limit?: RowLimit): Promise<QueryResult<Row>> {
    const budget = this.statementBudget(deadlines);
    if (budget <= 0) {
      this.counters.timeouts++;
      throw new TimeoutError(`no time was left to run "${excerpt(sql)}" (${this.budgetSource(deadlines)}); it was not sent`,
        'statement', deadlines.statementMs, false, false);
    }
    const { connection } = lease;
    return within(connection.query(sql, params, limit), budget, () => {
      connection.destroy();
      this.counters.timeouts++;
      const writes = mayWrite();
      return new TimeoutError(`"${excerpt(sql)}" got no answer within ${budget} ms (${this.budgetSource(deadlines)}): `
        + (writes ? 'it may or may not have been applied; check the database before writing again. ' : 'it wrote nothing that stays. ')
        + 'The connection was closed', 'statement', budget, true, writes);
    }, error => {
      if (!(error instanceof RowLimitExceeded)) return error;
      return new TooManyRowsError(`"${excerpt(sql)}" returned more than ${error.maxRows} rows (maxRows): `
        + (error.completed
          ? `it ran to its end and its rows were discarded${mayWrite() ? '; what it wrote stays unless its transaction rolls back' : ''}. `
          : 'it was stopped and its connection closed; it wrote nothing. ')
        + 'Read large results with stream(), page them (LIMIT, or WHERE on the last key seen), or raise maxRows', error.maxRows, error.completed, excerpt(sql));
    });
  }

  /**
   * Runs `work` on an acquired connection. When it fails with a connection error on a connection that was reused
   * (it may have gone stale while idle) and `retryable()` holds, the idle connections are evicted and `work` runs
   * once more on a fresh connection. On success the slot stays busy for the caller to release; on failure it is
   * released (or discarded, when the connection broke) and `lost(error)` thrown for a connection error.
   */
  private async runWithStaleRetry<T>(deadlines: Deadlines, retryable: () => boolean, lost: (error: unknown) => unknown,
    work: (lease: Lease) => Promise<T>): Promise<{ lease: Lease; result: T }> {
    let lease = this.takeIdle() ?? await this.acquire(deadlines);
    for (let attempt = 1; ; attempt++) {
      try {
        return { lease, result: await work(lease) };
      } catch (error) {
        if (!isConnectionError(error)) {
          this.release(lease.slot);
          throw error;
        }
        this.discard(lease.slot);
        if (attempt > 1 || !lease.reused || !retryable()) throw lost(error);
        // The other idle connections froze with this one: do not try them either.
        await this.evictIdle();
        this.counters.retries++;
        try {
          lease = await this.acquire(deadlines);
        } catch (reopen) {
          // what ran on the stale connection stays unknown
          const unknown = lost(error);
          throw unknown === error ? reopen : unknown;
        }
      }
    }
  }

  private async rollback(lease: Lease, deadlines: Deadlines) {
    if (lease.connection.broken) {
      this.discard(lease.slot);
      return;
    }
    try {
      // a rollback needs little time; give it some even when the invocation's budget is spent
      await within(lease.connection.query('ROLLBACK'), Math.max(this.statementBudget(deadlines), this.closeGraceMs()), () => {
        lease.connection.destroy();
        return new Error('ROLLBACK got no answer');
      });
      this.release(lease.slot);
    } catch {
      this.discard(lease.slot);
    }
  }

  /** The row limit of one buffered statement: the query's or the client's; `stop()` decides whether to stop at it. */
  private rowLimit(maxRows: number | undefined, stop: () => boolean): RowLimit {
    const limit = maxRows === undefined ? this.config.maxRows : whole('maxRows', maxRows, 1, undefined, 'read larger results with stream()');
    return new StatementRowLimit(limit, stop);
  }

  /** How long a stream may wait for its next rows: what is left of the invocation, or queryTimeoutMs. */
  private streamWaitMs(deadlines: Deadlines): number {
    return Math.max(0, this.statementBudget(deadlines));
  }

  private deadlines(context?: InvocationContext): Deadlines {
    if (!context) return { statementMs: this.config.queryTimeoutMs };
    if (context.awsRequestId && context.awsRequestId !== this.lastRequestId) {
      this.lastRequestId = context.awsRequestId;
      this.counters.invocations++;
    }
    const budget = Math.max(0, context.getRemainingTimeInMillis() - CONTEXT_RESERVE_MS);
    return { invocation: this.clock() + budget, statementMs: budget };
  }

  private statementBudget(deadlines: Deadlines): number {
    return deadlines.invocation === undefined ? this.config.queryTimeoutMs : deadlines.invocation - this.clock();
  }

  private budgetSource(deadlines: Deadlines): string {
    return deadlines.invocation === undefined
      ? `queryTimeoutMs is ${this.config.queryTimeoutMs}`
      : `the invocation's remaining time less ${CONTEXT_RESERVE_MS} ms was ${deadlines.statementMs} ms`;
  }

  private closeGraceMs(): number {
    return Math.min(DEFAULT_CLOSE_GRACE_MS, this.config.queryTimeoutMs);
  }

  /** An idle connection fit for reuse, taken at once (the common case: no promise to wait for), or undefined. */
  private takeIdle(): Lease | undefined {
    const now = this.clock();
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const connection = slot.connection!;
      // a stale one is left for acquire() to evict
      if (!this.fitForReuse(slot, now)) return undefined;
      slot.busy = true;
      this.counters.reused++;
      return { slot, connection, reused: true };
    }
    return undefined;
  }

  /** Not broken, not idle past maxIdleMs, not older than maxLifetimeMs. */
  private fitForReuse(slot: Slot, now: number): boolean {
    return !slot.connection!.broken && now - slot.lastUsedAt <= this.config.maxIdleMs && now - slot.createdAt <= this.config.maxLifetimeMs;
  }

  private async acquire(deadlines: Deadlines): Promise<Lease> {
    const waitUntil = deadlines.invocation ?? this.clock() + this.config.queryTimeoutMs;
    for (;;) {
      const now = this.clock();
      for (const slot of this.slots) {
        if (slot.busy) continue;
        const connection = slot.connection!;
        if (!this.fitForReuse(slot, now)) {
          this.counters.evicted++;
          this.remove(slot);
          void connection.close(this.closeGraceMs());
          continue;
        }
        slot.busy = true;
        this.counters.reused++;
        return { slot, connection, reused: true };
      }
      if (this.slots.length < this.config.maxConnections) {
        const slot: Slot = { createdAt: now, lastUsedAt: now, busy: true, retired: false };
        this.slots.push(slot);
        const started = performance.now();
        try {
          slot.connection = await this.open(deadlines.invocation ?? now + this.config.connectDeadlineMs);
        } catch (error) {
          this.remove(slot);
          this.wakeOne();
          throw error;
        } finally {
          this.counters.connectingMs += performance.now() - started;
        }
        slot.createdAt = slot.lastUsedAt = this.clock();
        return { slot, connection: slot.connection, reused: false };
      }
      const scope = transactionScope.getStore();
      if (scope?.active && scope.client === this) {
        throw new Error(`query() was called inside transaction() while the transaction holds ${this.config.maxConnections === 1 ? 'the only connection' : 'a connection and no other is free'}: `
          + 'it would wait for itself. Run the statement with the transaction\'s tx.query(), or run it after the transaction');
      }
      const started = performance.now();
      try {
        await this.waitForConnection(waitUntil, deadlines);
      } finally {
        this.counters.waitingMs += performance.now() - started;
      }
    }
  }

  private waitForConnection(until: number, deadlines: Deadlines): Promise<void> {
    const ms = until - this.clock();
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter(w => w !== wake);
        this.counters.timeouts++;
        reject(new TimeoutError(`no connection of this client became free in time (${this.budgetSource(deadlines)}; `
          + `maxConnections is ${this.config.maxConnections}); nothing was sent`, 'wait', Math.max(0, ms), false, false));
      }, Math.max(0, ms));
      this.waiters.push(wake);
    });
  }

  /** Returns a connection to the pool, or closes it when it broke, or close() retired it meanwhile. */
  private release(slot: Slot) {
    if (slot.retired || slot.connection?.broken) {
      this.discard(slot);
      return;
    }
    slot.busy = false;
    slot.lastUsedAt = this.clock();
    this.wakeOne();
  }

  /** Forgets a connection and closes it in the background (close is bounded and never throws). */
  private discard(slot: Slot) {
    this.remove(slot);
    this.wakeOne();
    void slot.connection?.close(this.closeGraceMs());
  }

  private async evictIdle() {
    const idle = this.slots.filter(slot => !slot.busy);
    for (const slot of idle) this.remove(slot);
    this.counters.evicted += idle.length;
    await Promise.all(idle.map(slot => slot.connection!.close(this.closeGraceMs())));
  }

  private remove(slot: Slot) {
    this.slots = this.slots.filter(s => s !== slot);
  }

  private wakeOne() {
    this.waiters.shift()?.();
  }

  /**
   * Opens a connection: jittered backoff on connection errors and restarts until the deadline, one token refresh
   * on auth errors, none on TLS failures.
   */
  private async open(deadline: number): Promise<PhysicalConnection> {
    let refreshedAuth = false;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - this.clock();
      try {
        const connection = await this.driver.open(this.target, () => this.password(), Math.max(1, Math.min(this.config.connectTimeoutMs, remaining)));
        this.counters.opened++;
        return connection;
      } catch (error) {
        if (isTlsFailure(error)) {
          throw new TlsError(`TLS with ${this.config.host}:${this.config.port} failed (${messageOf(error)}): it is not retried. `
            + 'Check that the server has TLS on, that its certificate is valid and names this host, and that its authority is trusted '
            + '(RDS Proxy: the Amazon root CAs, which Node.js trusts; a private CA: pass its certificate as { ssl: { ca } })', error);
        }
        if (isAuthenticationError(error)) {
          if (this.config.auth === 'iam' && !refreshedAuth) {
            refreshedAuth = true;
            this.counters.authRefreshes++;
            continue;
          }
          throw new AuthenticationError(
            `${this.config.host}:${this.config.port} refused ${this.config.auth === 'iam' ? 'the IAM token' : 'the password'} of user "${this.config.user}" `
            + `(${messageOf(error)}). ${this.config.auth === 'iam' ? 'Check that the function is granted rds-db:connect for this user on the proxy and that the user exists with IAM authentication enabled.' : ''}`.trim(),
            error);
        }
        if (!isConnectionError(error) && !isRestartFailure(error) && !isTimeout(error)) throw error;
        const pause = jitter(attempt);
        if (this.clock() + pause >= deadline) {
          throw new ConnectError(`could not connect to ${this.config.host}:${this.config.port} within the time allowed after ${attempt} attempt(s): ${messageOf(error)}`, attempt, error);
        }
        this.counters.connectRetries++;
        await sleep(pause);
      }
    }
  }

  private async password(): Promise<string> {
    if (this.config.auth === 'password') return this.config.password!;
    const credentials = await this.credentials();
    const started = performance.now();
    try {
      return await signAuthToken({
        hostname: this.config.host,
        port: this.config.port,
        username: this.config.user,
        region: this.config.region!,
        credentials,
        signingDate: new Date(this.clock()),
      });
    } finally {
      this.counters.signingMs += performance.now() - started;
    }
  }
}

/**
 * A statement's row limit, whose `stop()` is asked only at the limit. A class, not an object literal with a getter:
 * made for every statement, the literal cost about 2 µs to create and had V8 allocate the statement's objects in
 * the old generation (11.6 MB promoted per 20,000 queries instead of 0.06 MB, and one or two full collections).
 */
class StatementRowLimit implements RowLimit {
  constructor(public readonly maxRows: number, private readonly stop: () => boolean) {}

  public get stopAtLimit(): boolean {
    return this.stop();
  }
}

/** The end of a stream's rows. */
const END: unique symbol = Symbol('end');

/**
 * The rows of one streamed statement between the socket and the consumer: pauses the socket at the high-water mark,
 * resumes it at half, hands over a failure after the rows that came before it.
 */
class RowFeed implements RowSink {
  public control?: RowStream;
  private rows: unknown[] = [];
  private head = 0;
  private paused = false;
  private ended = false;
  private failure?: { error: unknown };
  private wake?: () => void;

  constructor(private readonly highWaterMark: number) {}

  public row(row: unknown) {
    this.rows.push(row);
    if (!this.paused && this.size >= this.highWaterMark) {
      this.paused = true;
      this.control?.pause();
    }
    this.notify();
  }

  public end() {
    this.ended = true;
    this.notify();
  }

  public fail(error: unknown) {
    this.failure ??= { error };
    this.notify();
  }

  /** The next row, or END; rejects with the statement's failure, or with `expire(ms)` when nothing came within `ms`. */
  public async take(ms: number, expire: (ms: number) => Error): Promise<unknown> {
    for (;;) {
      if (this.size > 0) {
        const row = this.rows[this.head];
        this.rows[this.head++] = undefined;
        if (this.head > 1024 && this.head * 2 > this.rows.length) {
          this.rows = this.rows.slice(this.head);
          this.head = 0;
        }
        if (this.paused && this.size <= this.highWaterMark / 2) {
          this.paused = false;
          this.control?.resume();
        }
        return row;
      }
      if (this.failure) throw this.failure.error;
      if (this.ended) return END;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.wake = undefined;
          reject(expire(ms));
        }, ms);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  private get size() {
    return this.rows.length - this.head;
  }

  private notify() {
    this.wake?.();
  }
}

/**
 * `work`, or `expire()`'s error when it has not settled within `ms`. A late outcome of `work` is ignored (expire
 * destroys the connection, so it settles soon, with an error).
 */
function within<T>(work: Promise<T>, ms: number, expire: () => Error, translate: (error: unknown) => unknown = error => error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      work.catch(() => undefined);
      reject(expire());
    }, ms);
    work.then(value => {
      clearTimeout(timer);
      resolve(value);
    }, error => {
      clearTimeout(timer);
      reject(translate(error));
    });
  });
}

function isTimeout(error: unknown): boolean {
  return /timeout|timed out/i.test(messageOf(error));
}

function excerpt(sql: string): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** Full jitter: a random pause up to an exponentially growing, capped bound. */
function jitter(attempt: number): number {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

function emptyStats(): ClientStats {
  return {
    opened: 0, reused: 0, evicted: 0, retries: 0, connectRetries: 0, authRefreshes: 0, transactionRetries: 0, timeouts: 0,
    invocations: 0, signingMs: 0, connectingMs: 0, waitingMs: 0,
  };
}

/** Options of `emitMetrics()`. */
export interface EmitMetricsOptions {
  /** The CloudWatch namespace. Default `ServerlessSqlApi` (the namespace the construct's dashboard reads). */
  readonly namespace?: string;
  /**
   * The dimensions, names to values (at most 30). Default `{ FunctionName: AWS_LAMBDA_FUNCTION_NAME }`, which the
   * construct's dashboard reads.
   */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** Where the line goes. Default: standard output, which Lambda sends to the function's log group. */
  readonly write?: (line: string) => void;
}

const COUNTS: ReadonlyArray<readonly [string, keyof ClientStats]> = [
  ['ConnectionsOpened', 'opened'], ['ConnectionsReused', 'reused'], ['ConnectionsEvicted', 'evicted'],
  ['StatementRetries', 'retries'], ['ConnectRetries', 'connectRetries'], ['AuthRefreshes', 'authRefreshes'],
  ['TransactionRetries', 'transactionRetries'], ['Timeouts', 'timeouts'],
];
const TIMES: ReadonlyArray<readonly [string, keyof ClientStats]> = [['SigningTime', 'signingMs'], ['ConnectTime', 'connectingMs'], ['WaitTime', 'waitingMs']];

/** One embedded metric format document: the change of the counters from `since` to `now`. */
export function metricsDocument(now: RuntimeStats, since: ClientStats, options: EmitMetricsOptions = {}): Record<string, unknown> {
  const dimensions = options.dimensions ?? { FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local' };
  const names = Object.keys(dimensions);
  if (names.length > 30) throw new RangeError(`emitMetrics: ${names.length} dimensions; the embedded metric format allows at most 30`);
  const values: Record<string, number> = { ColdStart: now.firstInvocation ? 1 : 0 };
  for (const [name, key] of COUNTS) values[name] = now[key] - since[key];
  for (const [name, key] of TIMES) values[name] = Math.round((now[key] - since[key]) * 1000) / 1000;
  return {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{
        Namespace: options.namespace ?? 'ServerlessSqlApi',
        Dimensions: [names],
        Metrics: [
          { Name: 'ColdStart', Unit: 'Count' },
          ...COUNTS.map(([name]) => ({ Name: name, Unit: 'Count' })),
          ...TIMES.map(([name]) => ({ Name: name, Unit: 'Milliseconds' })),
        ],
      }],
    },
    ...dimensions,
    ...values,
    ...(now.initType ? { InitType: now.initType } : {}),
  };
}
