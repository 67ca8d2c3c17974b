import { ConnectOptions, resolveConfig, ResolvedConfig } from './config';
import { ConnectionTarget, Driver, mysqlDriver, PhysicalConnection, postgresDriver, QueryResult } from './drivers';
import {
  AuthenticationError, CommitOutcomeUnknownError, ConnectError, isAuthenticationError, isConnectionError,
  isSerializationFailure, messageOf,
} from './errors';
import { AwsCredentials, credentialsFromEnvironment, signAuthToken } from './token';

/** The part of the Lambda context that bounds retries. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/** Options of one `query()`. */
export interface QueryOptions {
  /**
   * Whether running the statement twice is harmless. Reads (SELECT, SHOW, EXPLAIN, VALUES, TABLE, and WITH
   * without a data-modifying statement) count as idempotent unless this is false; writes only when it is true.
   * Only idempotent statements are retried, once, after a stale reused connection failed.
   */
  readonly idempotent?: boolean;
  /** The Lambda context: connection retries stop before the invocation runs out of time. */
  readonly context?: InvocationContext;
}

/** Options of one `transaction()`. */
export interface TransactionOptions {
  /** Run the whole transaction again (up to `maxAttempts`) when it loses a serialization conflict or a deadlock. */
  readonly retryOnSerializationFailure?: boolean;
  /** Attempts in all, with `retryOnSerializationFailure`. Default 3. */
  readonly maxAttempts?: number;
  /** The Lambda context: connection retries stop before the invocation runs out of time. */
  readonly context?: InvocationContext;
}

/** The statements of one transaction run on one connection. */
export interface Transaction {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
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
}

interface Slot {
  connection: PhysicalConnection;
  createdAt: number;
  lastUsedAt: number;
  busy: boolean;
}

interface Lease {
  readonly slot: Slot;
  /** The connection was open before this lease (so it may have gone stale while idle). */
  readonly reused: boolean;
}

const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 1_000;
/** Time kept back from the invocation's remaining time for the handler to answer. */
const CONTEXT_RESERVE_MS = 500;
const READ_STATEMENT = /^(?:\s|\/\*[\s\S]*?\*\/|--[^\n]*(?:\n|$))*(select|show|explain|values|table|with|describe|desc)\b/i;
const WRITE_WORDS = /\b(insert|update|delete|merge|into|create|drop|alter|truncate|grant|revoke|call|do|copy|lock|analyze|nextval|setval|for\s+update|for\s+share)\b/i;

/** Whether a statement only reads, judged from its text (conservatively: when in doubt, it writes). */
export function isReadStatement(sql: string): boolean {
  return READ_STATEMENT.test(sql) && !WRITE_WORDS.test(sql.replace(/'(?:[^']|'')*'/g, "''"));
}

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

  constructor(options: ConnectOptions = {}) {
    this.config = resolveConfig(options);
    this.driver = this.config.engine === 'postgres' ? postgresDriver : mysqlDriver;
    this.target = { ...this.config, iam: this.config.auth === 'iam' };
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
   * an idempotent statement is run once more on a fresh connection; anything else fails with the driver's error.
   */
  public async query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[], options: QueryOptions = {}): Promise<QueryResult<Row>> {
    // whether the statement may be replayed is judged only when a stale connection actually failed it
    const { slot, result } = await this.runWithStaleRetry(this.deadline(options.context),
      () => options.idempotent ?? isReadStatement(sql), connection => connection.query(sql, params));
    this.release(slot);
    return result;
  }

  /**
   * Runs `work` in a transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. A connection
   * failure during COMMIT raises `CommitOutcomeUnknownError` and is never retried.
   */
  public async transaction<T>(work: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const attempts = options.retryOnSerializationFailure ? Math.max(1, options.maxAttempts ?? 3) : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(work, this.deadline(options.context));
      } catch (error) {
        if (!isSerializationFailure(error) || attempt >= attempts) throw error;
        this.counters.transactionRetries++;
        await sleep(jitter(attempt));
      }
    }
  }

  /** Counters of connection handling, for logs and metrics. */
  public stats(): ClientStats {
    return { ...this.counters };
  }

  /** Closes every connection. The client stays usable: the next query opens a new one. */
  public async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map(slot => slot.connection.close()));
  }

  /** SnapStart: call before the snapshot is taken, so that no socket is frozen into it. */
  public async beforeSnapshot(): Promise<void> {
    await this.close();
  }

  /** SnapStart: call after restore. Drops any connection state and counters taken over from the snapshot. */
  public async afterRestore(): Promise<void> {
    await this.close();
    this.counters = emptyStats();
  }

  private async transactionOnce<T>(work: (tx: Transaction) => Promise<T>, deadline: number): Promise<T> {
    // Nothing is sent before BEGIN: a stale reused connection can be replaced safely, once.
    const { slot } = await this.runWithStaleRetry(deadline, () => true, connection => connection.query(this.driver.beginStatement));
    const { connection } = slot;
    let result: T;
    try {
      result = await work({ query: (sql, params) => connection.query(sql, params) });
    } catch (error) {
      await this.rollback(slot);
      throw error;
    }
    let commit: QueryResult;
    try {
      commit = await connection.query('COMMIT');
    } catch (error) {
      if (isConnectionError(error)) {
        await this.discard(slot);
        throw new CommitOutcomeUnknownError(error);
      }
      await this.rollback(slot);
      throw error;
    }
    this.release(slot);
    if (commit.command === 'ROLLBACK') {
      throw new Error('the transaction was rolled back: a statement in it failed and the error was caught inside the transaction');
    }
    return result;
  }

  /**
   * Runs `work` on an acquired connection. When it fails with a connection error on a connection that was reused
   * (it may have gone stale while idle) and `retryable()` holds, the idle connections are evicted and `work` runs
   * once more on a fresh connection. On success the slot stays busy for the caller to release; on failure it is
   * released (or discarded, when the connection broke) and the error thrown.
   */
  private async runWithStaleRetry<T>(deadline: number, retryable: () => boolean, work: (connection: PhysicalConnection) => Promise<T>): Promise<{ slot: Slot; result: T }> {
    let lease = await this.acquire(deadline);
    for (let attempt = 1; ; attempt++) {
      try {
        return { slot: lease.slot, result: await work(lease.slot.connection) };
      } catch (error) {
        if (!isConnectionError(error)) {
          this.release(lease.slot);
          throw error;
        }
        await this.discard(lease.slot);
        if (attempt > 1 || !lease.reused || !retryable()) throw error;
        // The other idle connections froze with this one: do not try them either.
        await this.evictIdle();
        this.counters.retries++;
        lease = await this.acquire(deadline);
      }
    }
  }

  private async rollback(slot: Slot) {
    if (slot.connection.broken) {
      await this.discard(slot);
      return;
    }
    try {
      await slot.connection.query('ROLLBACK');
      this.release(slot);
    } catch {
      await this.discard(slot);
    }
  }

  private deadline(context?: InvocationContext): number {
    const budget = context ? context.getRemainingTimeInMillis() - CONTEXT_RESERVE_MS : this.config.connectDeadlineMs;
    return this.clock() + Math.max(0, budget);
  }

  private async acquire(deadline: number): Promise<Lease> {
    for (;;) {
      const now = this.clock();
      for (const slot of this.slots) {
        if (slot.busy) continue;
        if (slot.connection.broken || now - slot.lastUsedAt > this.config.maxIdleMs || now - slot.createdAt > this.config.maxLifetimeMs) {
          this.counters.evicted++;
          this.remove(slot);
          void slot.connection.close();
          continue;
        }
        slot.busy = true;
        this.counters.reused++;
        return { slot, reused: true };
      }
      if (this.slots.length < this.config.maxConnections) {
        const slot: Slot = { connection: undefined as unknown as PhysicalConnection, createdAt: now, lastUsedAt: now, busy: true };
        this.slots.push(slot);
        try {
          slot.connection = await this.open(deadline);
        } catch (error) {
          this.remove(slot);
          this.wakeOne();
          throw error;
        }
        slot.createdAt = slot.lastUsedAt = this.clock();
        return { slot, reused: false };
      }
      await new Promise<void>(resolve => this.waiters.push(resolve));
    }
  }

  private release(slot: Slot) {
    slot.busy = false;
    slot.lastUsedAt = this.clock();
    this.wakeOne();
  }

  private async discard(slot: Slot) {
    this.remove(slot);
    this.wakeOne();
    await slot.connection.close();
  }

  private async evictIdle() {
    const idle = this.slots.filter(slot => !slot.busy);
    for (const slot of idle) this.remove(slot);
    this.counters.evicted += idle.length;
    await Promise.all(idle.map(slot => slot.connection.close()));
  }

  private remove(slot: Slot) {
    this.slots = this.slots.filter(s => s !== slot);
  }

  private wakeOne() {
    this.waiters.shift()?.();
  }

  /** Opens a connection: jittered backoff on connection errors until the deadline, one token refresh on auth errors. */
  private async open(deadline: number): Promise<PhysicalConnection> {
    let refreshedAuth = false;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - this.clock();
      try {
        const connection = await this.driver.open(this.target, () => this.password(), Math.max(1, Math.min(this.config.connectTimeoutMs, remaining)));
        this.counters.opened++;
        return connection;
      } catch (error) {
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
        if (!isConnectionError(error) && !isTimeout(error)) throw error;
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
    return signAuthToken({
      hostname: this.config.host,
      port: this.config.port,
      username: this.config.user,
      region: this.config.region!,
      credentials: await this.credentials(),
      signingDate: new Date(this.clock()),
    });
  }
}

function isTimeout(error: unknown): boolean {
  return /timeout|timed out/i.test(messageOf(error));
}

/** Full jitter: a random pause up to an exponentially growing, capped bound. */
function jitter(attempt: number): number {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

function emptyStats(): ClientStats {
  return { opened: 0, reused: 0, evicted: 0, retries: 0, connectRetries: 0, authRefreshes: 0, transactionRetries: 0 };
}
