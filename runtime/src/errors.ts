/** Errors this package raises, and how driver errors are classified. */

/** The database could not be reached within the time allowed. */
export class ConnectError extends Error {
  constructor(message: string, readonly attempts: number, readonly cause?: unknown) {
    super(message);
    this.name = 'ConnectError';
  }
}

/** The proxy or database refused the credentials (after one refresh of the IAM token). */
export class AuthenticationError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/**
 * The connection failed after a statement that may write was sent, before its answer came: it may or may not have
 * been applied. It is never retried automatically; check the database (for example by an idempotency key) before
 * writing again. `statement` is the start of the SQL.
 */
export class OutcomeUnknownError extends Error {
  constructor(message: string, readonly cause: unknown, readonly statement?: string) {
    super(message);
    this.name = 'OutcomeUnknownError';
  }
}

/**
 * The connection failed while COMMIT was in flight: the transaction may or may not have been committed. It is
 * never retried automatically; check the database (for example by an idempotency key) before writing again.
 */
export class CommitOutcomeUnknownError extends OutcomeUnknownError {
  constructor(cause: unknown) {
    super(`the connection failed during COMMIT; the transaction may or may not be committed (${messageOf(cause)})`, cause, 'COMMIT');
    this.name = 'CommitOutcomeUnknownError';
  }
}

/** What ran out of time: the wait for a connection of the client, or a statement (a step of a transaction too). Connecting that runs out of time raises ConnectError. */
export type TimeoutPhase = 'wait' | 'statement';

/**
 * A call ran out of its time: the invocation's remaining time (less a margin) when a Lambda context was given, else
 * `queryTimeoutMs`. The connection it used is destroyed; the next call opens a new one.
 *
 * `mayHaveRun`: the statement was sent, so the server may have run it. `mayHaveWritten`: it was sent and may write
 * outside a transaction (or it was the COMMIT), so its effect is unknown, as with `OutcomeUnknownError`; a statement
 * of a transaction that was not committed has written nothing.
 */
export class TimeoutError extends Error {
  constructor(message: string, readonly phase: TimeoutPhase, readonly timeoutMs: number,
    readonly mayHaveRun: boolean, readonly mayHaveWritten: boolean) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/**
 * The database could not be used and trying again will not help: TLS failed (an untrusted or expired certificate,
 * a host name the certificate does not name, a server without TLS). Raised at once, never retried.
 */
export class TlsError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = 'TlsError';
  }
}

/**
 * A buffered `query()` returned more rows than `maxRows` allows (the client's option, or the query's). Read large
 * results with `stream()`, page them, or raise the limit. `completed` says what happened to the statement: false,
 * it was stopped and its connection closed (only a statement that provably reads is stopped, so nothing was
 * written); true, it ran to its end with its rows discarded, so whatever it wrote stays (unless its transaction
 * rolls back).
 */
export class TooManyRowsError extends Error {
  constructor(message: string, readonly maxRows: number, readonly completed: boolean, readonly statement: string) {
    super(message);
    this.name = 'TooManyRowsError';
  }
}

/**
 * A `stream()` lost its connection after it had delivered rows: the rows delivered so far are not the whole
 * result. Nothing is replayed (a consumer may have acted on the rows); start the stream again if that is safe.
 */
export class StreamInterruptedError extends Error {
  constructor(message: string, readonly rowsDelivered: number, readonly cause: unknown) {
    super(message);
    this.name = 'StreamInterruptedError';
  }
}

/** True when a write's effect is unknown: `OutcomeUnknownError` (and so `CommitOutcomeUnknownError`), or a `TimeoutError` with `mayHaveWritten`. */
export function isOutcomeUnknown(error: unknown): boolean {
  return error instanceof OutcomeUnknownError || error instanceof TimeoutError && error.mayHaveWritten;
}

/** The configuration (options or SQL_* environment) is incomplete or invalid. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

const CONNECTION_CODES = new Set([
  // sockets
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  // PostgreSQL: connection exception class, admin/crash shutdown, cannot connect now, too many connections
  '08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300',
  // MySQL / MariaDB
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED', 'ER_CLIENT_INTERACTION_TIMEOUT', 'ER_NET_READ_INTERRUPTED',
]);

const CONNECTION_MESSAGES = /connection terminated|encountered a connection error|not queryable|connection lost|socket hang up|server closed the connection|closed state|this socket has been ended|connection is closed|server conn crashed|client_login_timeout|query_wait_timeout|database removed|server shutting down/i;

const AUTH_CODES = new Set(['28P01', '28000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR']);
const AUTH_MESSAGES = /password authentication failed|authentication failed|access denied for user|PAM authentication/i;

const SERIALIZATION_CODES = new Set(['40001', '40P01', 'ER_LOCK_DEADLOCK']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when the error means the connection is unusable (dropped, reset, killed, server going away). */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof ConnectError) return true;
  const code = codeOf(error);
  if (code && CONNECTION_CODES.has(code)) return true;
  if ((error as { fatal?: unknown })?.fatal === true && !isAuthenticationError(error)) return true;
  return CONNECTION_MESSAGES.test(messageOf(error)) && !isAuthenticationError(error);
}

/** Codes and messages of TLS failures that no retry can cure (Node.js's X509 and TLS codes, the drivers' own). */
const TLS_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'HOSTNAME_MISMATCH', 'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'HANDSHAKE_NO_SSL_SUPPORT', 'ER_SECURE_TRANSPORT_REQUIRED',
]);
const TLS_MESSAGES = /does not support SSL|not support secure connection|certificate|self[- ]signed|hostname\/IP does not match|SSL routines|ssl_choose_client_version/i;

/**
 * True when opening a connection failed because the server behind a pooler is restarting or the pooler cannot take
 * the client yet: pgbouncer reports its own failures (its login to the server failing, no server connection, too
 * many clients) as a protocol violation, 08P01. Only meaningful while connecting: PostgreSQL's own 08P01 (a bind
 * message with the wrong number of parameters) is a bug, not a restart.
 */
export function isRestartFailure(error: unknown): boolean {
  return codeOf(error) === '08P01';
}

/** True when TLS failed in a way no retry cures. */
export function isTlsFailure(error: unknown): boolean {
  const code = codeOf(error);
  if (code && TLS_CODES.has(code)) return true;
  if (code && /^ERR_SSL_|^ERR_TLS_/.test(code)) return true;
  return TLS_MESSAGES.test(messageOf(error));
}

/** True when the server refused the credentials. */
export function isAuthenticationError(error: unknown): boolean {
  const code = codeOf(error);
  if (code && AUTH_CODES.has(code)) return true;
  return AUTH_MESSAGES.test(messageOf(error));
}

/** True when the transaction lost a serialization conflict or a deadlock and may be run again as a whole. */
export function isSerializationFailure(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && SERIALIZATION_CODES.has(code);
}
