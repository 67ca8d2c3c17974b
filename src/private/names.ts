import { Names, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MYSQL_RESERVED_WORDS, POSTGRES_RESERVED_WORDS } from './reserved-words';
import { checkPattern, ConfigurationError } from './validation';

/** The application user functions connect as unless told otherwise. */
export const DEFAULT_DB_USER = 'app_user';

/** The admin user name of the databases this library creates. */
export const ADMIN_USERNAME = 'sqladmin';

/**
 * Characters left out of generated admin passwords, by the secret and by its rotation alike: those that break
 * connection strings and shells (aws-cdk-lib's own default for database secrets).
 */
export const ADMIN_PASSWORD_EXCLUDED_CHARACTERS = " %+~`#$&*()|[]{}:;<>?!'/@\"\\";

export const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const RESERVED_USERS = [ADMIN_USERNAME, 'postgres', 'rdsadmin', 'rdsproxyadmin', 'rdstopmgr', 'rds_superuser', 'rds_superuser_role', 'root', 'mysql', 'admin', 'rdsrepladmin'];

/** The engine family as the environment contract spells it (`SqlEngineFamily`). */
type Family = 'postgres' | 'mysql';

/**
 * Throws unless `dbUser` is a name the application may connect as on `engine`: a plain SQL identifier that is not
 * an admin or reserved account, and that the engine can hold.
 *
 * @see https://www.postgresql.org/docs/current/sql-createrole.html (role names starting with pg_ are reserved)
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.html (RDS's rds_ roles)
 * @see https://dev.mysql.com/doc/refman/8.4/en/user-names.html (MySQL user names are at most 32 characters)
 */
export function validateDbUser(scope: Construct, prop: string, dbUser: string, engine?: Family) {
  checkPattern(scope, prop, dbUser, IDENTIFIER,
    'Use 1–63 letters, digits or underscores, starting with a letter (for example "app_user").');
  if (Token.isUnresolved(dbUser)) return;
  if (RESERVED_USERS.includes(dbUser.toLowerCase())) {
    throw new ConfigurationError(scope, prop, dbUser,
      `That is an admin or reserved account; functions never connect as one. Use an application user such as "app_user" (reserved: ${RESERVED_USERS.join(', ')}).`);
  }
  if (engine === 'postgres' && /^pg_/i.test(dbUser)) {
    throw new ConfigurationError(scope, prop, dbUser, 'PostgreSQL reserves role names starting with "pg_"; choose another name (for example "app_user").');
  }
  if (engine === 'postgres' && /^rds_/i.test(dbUser)) {
    throw new ConfigurationError(scope, prop, dbUser,
      'RDS for PostgreSQL keeps its own roles under the "rds_" prefix (rds_superuser, rds_iam, rds_password, rds_replication); choose another name.');
  }
  if (engine === 'mysql' && dbUser.length > 32) {
    throw new ConfigurationError(scope, prop, dbUser, `MySQL user names hold at most 32 characters (this one has ${dbUser.length}); shorten it.`);
  }
}

const RESERVED_DATABASE_NAMES = ['postgres', 'template0', 'template1', 'rdsadmin', 'mysql', 'sys', 'information_schema', 'performance_schema'];

/**
 * Throws unless `name` is a database name RDS accepts for `engine`: 1–63 letters, digits or underscores starting
 * with a letter, not a system database, and not a word the engine reserves.
 *
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
 */
export function validateDatabaseName(scope: Construct, prop: string, name: string, engine?: Family) {
  checkPattern(scope, prop, name, IDENTIFIER, 'Use 1–63 letters, digits or underscores, starting with a letter (for example "app").');
  if (Token.isUnresolved(name)) return;
  if (RESERVED_DATABASE_NAMES.includes(name.toLowerCase())) {
    throw new ConfigurationError(scope, prop, name,
      `That name is reserved by the engine or RDS; choose another (reserved: ${RESERVED_DATABASE_NAMES.join(', ')}).`);
  }
  const words = engine === 'mysql' ? MYSQL_RESERVED_WORDS : engine === 'postgres' ? POSTGRES_RESERVED_WORDS : undefined;
  if (words?.has(name.toLowerCase())) {
    throw new ConfigurationError(scope, prop, name,
      `${engine === 'mysql' ? 'MySQL' : 'PostgreSQL'} reserves that word, and RDS refuses a reserved word as the database name; choose another (for example "${name.toLowerCase()}_db").`);
  }
}

/**
 * The name of an RDS Proxy, which CloudFormation requires and which must be unique among the proxies of the account
 * and Region: the stack's name and the construct's path, with a hash of the path (`Names.uniqueResourceName`), in
 * the form RDS accepts: 1–63 letters, digits and single hyphens, starting with a letter and not ending in a hyphen.
 *
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBProxy.html
 */
export function proxyName(scope: Construct): string {
  const name = Names.uniqueResourceName(scope, { maxLength: 63, separator: '-', allowedSpecialCharacters: '-' })
    .replace(/-+/g, '-')
    .replace(/^[^A-Za-z]+/, '')
    .replace(/-$/, '');
  return name.length > 0 ? name : `proxy-${Names.uniqueId(scope).slice(-8)}`;
}
