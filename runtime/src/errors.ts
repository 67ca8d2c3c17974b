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
 * The connection failed while COMMIT was in flight: the transaction may or may not have been committed. It is
 * never retried automatically; check the database (for example by an idempotency key) before writing again.
 */
export class CommitOutcomeUnknownError extends Error {
  constructor(readonly cause: unknown) {
    super(`the connection failed during COMMIT; the transaction may or may not be committed (${messageOf(cause)})`);
    this.name = 'CommitOutcomeUnknownError';
  }
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
