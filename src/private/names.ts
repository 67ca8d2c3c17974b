import { Names, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { checkPattern, ConfigurationError } from './validation';

/** The admin user name of the databases this library creates. */
export const ADMIN_USERNAME = 'sqladmin';

/**
 * Characters left out of generated admin passwords, by the secret and by its rotation alike: those that break
 * connection strings and shells (aws-cdk-lib's own default for database secrets).
 */
export const ADMIN_PASSWORD_EXCLUDED_CHARACTERS = " %+~`#$&*()|[]{}:;<>?!'/@\"\\";

export const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const RESERVED_USERS = [ADMIN_USERNAME, 'postgres', 'rdsadmin', 'rdsproxyadmin', 'rds_superuser', 'root', 'mysql', 'admin', 'rdsrepladmin'];

/**
 * Throws unless `dbUser` is a name the application may connect as: a plain SQL identifier that is not an admin or
 * reserved account.
 */
export function validateDbUser(scope: Construct, prop: string, dbUser: string) {
  checkPattern(scope, prop, dbUser, IDENTIFIER,
    'Use 1–63 letters, digits or underscores, starting with a letter (for example "app_user").');
  if (!Token.isUnresolved(dbUser) && RESERVED_USERS.includes(dbUser.toLowerCase())) {
    throw new ConfigurationError(scope, prop, dbUser,
      `That is an admin or reserved account; functions never connect as one. Use an application user such as "app_user" (reserved: ${RESERVED_USERS.join(', ')}).`);
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
