import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Construct } from 'constructs';
import { decodeMigration, migrationProblem } from './private/sql-statements';
import { ConfigurationError } from './private/validation';
import { SqlEngineFamily } from './sql-engine';

/** @internal */
export interface BoundMigrations {
  readonly directory: string;
  readonly files: string[];
  /** A hash of every file's name and content: a change re-runs the bootstrap. */
  readonly hash: string;
}

const MIGRATION_FILE = /^(\d+)[_-][A-Za-z0-9_.-]+\.sql$/;

/**
 * SQL migrations applied at deploy time, as the admin user, before a new function version receives traffic.
 * Each file runs once, in a transaction together with the row that records it in `serverless_sql_api_migrations`;
 * a failing file fails the deployment with its name and the database error, and a changed applied file is refused.
 */
export abstract class Migrations {
  /**
   * Every `NNN_description.sql` file of a directory, in numeric order. Fails synth on any other file, two files with
   * the same number, and a file that is not UTF-8, starts with a byte-order mark, or holds no SQL (only whitespace
   * and comments). On MySQL, which commits DDL implicitly, also on a file of more than one statement where any
   * statement is DDL or another statement that commits implicitly (one such statement per file), and on a file
   * that uses the mysql client's DELIMITER command.
   *
   * @see https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html
   */
  public static fromDirectory(directory: string): Migrations {
    return new DirectoryMigrations(directory);
  }

  /** @internal */
  public abstract _bind(scope: Construct & { readonly engineFamily: SqlEngineFamily }): BoundMigrations;
}

class DirectoryMigrations extends Migrations {
  constructor(private readonly directory: string) {
    super();
  }

  public _bind(scope: Construct & { readonly engineFamily: SqlEngineFamily }): BoundMigrations {
    const directory = path.resolve(this.directory);
    if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) {
      throw new ConfigurationError(scope, 'migrations', this.directory, `No such directory (resolved to ${directory}); give the folder of your .sql migrations.`);
    }
    const numbers = new Map<number, string>();
    for (const name of fs.readdirSync(directory).filter(file => !file.startsWith('.')).sort()) {
      const match = MIGRATION_FILE.exec(name);
      if (!match || !fs.statSync(path.join(directory, name)).isFile()) {
        throw new ConfigurationError(scope, 'migrations', path.join(this.directory, name),
          'A migrations directory holds only NNN_description.sql files (for example 001_create_todos.sql); move other files out.');
      }
      const number = Number(match[1]);
      const clash = numbers.get(number);
      if (clash) {
        throw new ConfigurationError(scope, 'migrations', `${clash} and ${name}`, `Both are number ${number}; give each migration its own number.`);
      }
      numbers.set(number, name);
    }
    const files = [...numbers.entries()].sort(([a], [b]) => a - b).map(([, name]) => name);
    const hash = createHash('sha256');
    for (const file of files) {
      const bytes = fs.readFileSync(path.join(directory, file));
      const decoded = decodeMigration(bytes);
      const problem = 'problem' in decoded ? decoded.problem : migrationProblem(decoded.sql, scope.engineFamily);
      if (problem) throw new ConfigurationError(scope, 'migrations', path.join(this.directory, file), `The file ${problem}.`);
      hash.update(file).update('\0').update(bytes).update('\0');
    }
    return { directory, files, hash: hash.digest('hex') };
  }
}
