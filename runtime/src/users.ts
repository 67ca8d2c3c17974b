import { Engine } from './config';
import { ConfigurationError } from './errors';

/** What an application user may do in the application database. */
export type DatabaseAccess = 'read-write' | 'read-only';

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

/**
 * The statements that create (if missing) a database user who logs in with IAM only and give it `access` to the
 * tables of `database`: `createIamUserStatements` followed by `grantStatements`. Idempotent: running them again
 * changes nothing. Never drops or revokes anything.
 */
export function iamUserStatements(engine: Engine, user: string, database: string, access: DatabaseAccess): string[] {
  return [...createIamUserStatements(engine, user, database), ...grantStatements(engine, user, database, access)];
}

/**
 * Create the user if it is missing, able to log in with IAM only. PostgreSQL: a LOGIN role without a password,
 * granted `rds_iam`. MySQL: identified with `AWSAuthenticationPlugin`, TLS required.
 */
export function createIamUserStatements(engine: Engine, user: string, database: string): string[] {
  checkNames(user, database);
  return engine === 'postgres'
    ? [
      `do $$ begin if not exists (select from pg_roles where rolname = '${user}') then create role "${user}" login; end if; end $$`,
      `grant rds_iam to "${user}"`,
    ]
    : [
      `create user if not exists '${user}'@'%' identified with AWSAuthenticationPlugin as 'RDS'`,
      `alter user '${user}'@'%' require ssl`,
    ];
}

/**
 * Give the user `access` to the tables of `database`: the present ones and, on PostgreSQL, those that the user
 * running the statements creates later. Run them after migrations so that they cover every table.
 */
export function grantStatements(engine: Engine, user: string, database: string, access: DatabaseAccess): string[] {
  checkNames(user, database);
  if (access !== 'read-write' && access !== 'read-only') throw new ConfigurationError(`access must be "read-write" or "read-only" (got ${JSON.stringify(access)})`);
  const tablePrivileges = access === 'read-write' ? 'select, insert, update, delete' : 'select';
  if (engine === 'postgres') {
    const sequencePrivileges = access === 'read-write' ? 'usage, select' : 'select';
    return [
      `grant connect on database "${database}" to "${user}"`,
      `grant usage on schema public to "${user}"`,
      `grant ${tablePrivileges} on all tables in schema public to "${user}"`,
      `grant ${sequencePrivileges} on all sequences in schema public to "${user}"`,
      `alter default privileges in schema public grant ${tablePrivileges} on tables to "${user}"`,
      `alter default privileges in schema public grant ${sequencePrivileges} on sequences to "${user}"`,
    ];
  }
  return [`grant ${tablePrivileges} on \`${database}\`.* to '${user}'@'%'`];
}

function checkNames(user: string, database: string) {
  for (const [what, name] of [['user', user], ['database', database]]) {
    if (!IDENTIFIER.test(name)) throw new ConfigurationError(`${what} name ${JSON.stringify(name)} must be 1–63 letters, digits or underscores, starting with a letter`);
  }
}
