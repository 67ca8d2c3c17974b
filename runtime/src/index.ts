import { ConnectOptions } from './config';
import { SqlClient } from './client';

export { SqlClient, isReadStatement, metricsDocument } from './client';
export type { ClientStats, EmitMetricsOptions, InvocationContext, QueryOptions, RuntimeStats, StreamOptions, Transaction, TransactionOptions } from './client';
export type { ConnectOptions, Engine } from './config';
export type { QueryResult } from './drivers';
export {
  AuthenticationError, CommitOutcomeUnknownError, ConfigurationError, ConnectError, isAuthenticationError, isConnectionError, isOutcomeUnknown,
  isSerializationFailure, isTlsFailure, OutcomeUnknownError, StreamInterruptedError, TimeoutError, TlsError, TooManyRowsError,
} from './errors';
export type { TimeoutPhase } from './errors';
export { createIamUserStatements, grantStatements, iamUserStatements } from './users';
export type { DatabaseAccess } from './users';
export { migrate, readMigrations, MigrationError, MIGRATIONS_TABLE } from './migrations';
export type { Migration, MigrationReport, MigrateOptions } from './migrations';
export { signAuthToken, credentialsFromEnvironment, TOKEN_LIFETIME_SECONDS } from './token';
export { coordinateSnapStart } from './snapstart';
export type { SnapStartHooks, SnapStartOutcome } from './snapstart';
export type { AuthTokenRequest, AwsCredentials } from './token';

/**
 * Creates a client from `options`, falling back to the SQL_* environment the construct sets. Lazy: no socket, no
 * token and no driver load until the first query. Call it once at module scope and reuse it across invocations.
 */
export function connect(options: ConnectOptions = {}): SqlClient {
  return new SqlClient(options);
}
