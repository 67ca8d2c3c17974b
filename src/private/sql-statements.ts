/**
 * The checks every migration file passes before anything is applied: at synth in the construct library, and before
 * the first migration runs in the runtime package. Each package holds a copy of this file (neither may depend on
 * the other); the two copies are kept identical, and a test compares them.
 */

/** The SQL dialect a migration is written in. */
export type SqlDialect = 'postgres' | 'mysql';

/** One statement of a MySQL migration. */
export interface SqlStatement {
  /** The statement's source, from its first token to its last (comments inside it included). */
  readonly text: string;
  /** Its words outside strings, quoted identifiers and comments, in upper case. */
  readonly words: readonly string[];
}

/**
 * The text of a migration file, or why it is refused: it must be UTF-8. A byte-order mark stays in the text (and
 * `migrationProblem` refuses it), so the text of every file accepted is exactly its bytes and its checksum is the
 * same as it always was.
 */
export function decodeMigration(bytes: Uint8Array): { readonly sql: string } | { readonly problem: string } {
  try {
    return { sql: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) };
  } catch {
    return { problem: `is not valid UTF-8 (the first invalid byte is at offset ${invalidUtf8Offset(bytes)}): save it as UTF-8` };
  }
}

/**
 * Why a migration is refused, as a phrase that follows the file's name, or `undefined` when it may run.
 *
 * Refused: a byte-order mark (both engines read it as part of the first statement, a syntax error, so no such file
 * was ever applied); SQL with nothing but whitespace, comments and empty statements (it would be recorded as
 * applied while doing nothing); on MySQL, the client command DELIMITER, and more than one statement where any
 * statement commits implicitly (see `commitsImplicitly`). PostgreSQL runs a whole file in one transaction, DDL
 * included, so its files are not split into statements.
 */
export function migrationProblem(sql: string, dialect: SqlDialect): string | undefined {
  if (sql.startsWith('\uFEFF')) {
    return 'starts with a byte-order mark, which the database reads as part of the first statement: save the file as UTF-8 without BOM';
  }
  try {
    if (dialect === 'postgres') return isBlankPostgres(sql) ? EMPTY : undefined;
    const statements = mysqlStatements(sql);
    if (statements.length === 0) return EMPTY;
    if (statements.some(statement => statement.words[0] === 'DELIMITER')) {
      return 'uses DELIMITER, a command of the mysql client that the database does not know: remove the DELIMITER lines and end each '
        + 'statement with ; (the body of a stored program may hold ; inside its BEGIN ... END)';
    }
    const committing = statements.length > 1 ? statements.find(commitsImplicitly) : undefined;
    if (committing) {
      return `holds ${statements.length} statements, and "${excerpt(committing.text)}" commits implicitly on MySQL: if a later `
        + 'statement fails, what ran before it stays while the migration is not recorded, and it cannot run again as it is. '
        + 'Put each DDL statement in a migration file of its own';
    }
    return undefined;
  } catch (error) {
    if (error instanceof Unreadable) return error.message;
    throw error;
  }
}

/**
 * The statements of MySQL SQL, as the server splits them: at `;` outside `'` and `"` strings (backslash escapes and
 * doubled quotes, as in the default SQL mode), backtick identifiers, `#` and `-- ` comments (`--` followed by a
 * space or control character) and `/* *\/` comments. MySQL runs the content of executable comments (`/*! ... *\/`,
 * MariaDB's `/*M! ... *\/`), so it counts as code here too. The body of a stored program (CREATE PROCEDURE,
 * FUNCTION, TRIGGER or EVENT) belongs to its statement when it is a BEGIN ... END block. Empty statements are left
 * out. Throws on a string or comment that is never closed.
 */
export function mysqlStatements(sql: string): SqlStatement[] {
  const tokens = mysqlTokens(sql);
  const statements: SqlStatement[] = [];
  let first = 0;
  let depth = 0;
  for (let k = 0; k <= tokens.length; k++) {
    const token = tokens[k];
    if (token === undefined || token.kind === 'symbol' && token.text === ';' && depth <= 0) {
      const own = tokens.slice(first, k);
      if (own.length > 0) {
        statements.push({
          text: sql.slice(own[0].start, own[own.length - 1].end),
          words: own.filter(t => t.kind === 'word').map(t => t.text.toUpperCase()),
        });
      }
      first = k + 1;
      depth = 0;
    } else if (token.kind === 'word' && /^(BEGIN|CASE|END)$/i.test(token.text) && STORED_PROGRAM.test(canonical(tokens.slice(first, k)))) {
      // BEGIN ... END and CASE ... END [CASE] nest; END IF, END LOOP, END WHILE and END REPEAT close blocks not counted
      const closes = tokens[k + 1]?.kind === 'word' ? tokens[k + 1].text.toUpperCase() : '';
      if (token.text.toUpperCase() !== 'END') {
        depth++;
      } else {
        if (/^(IF|LOOP|WHILE|REPEAT|CASE)$/.test(closes)) k++;
        if (!/^(IF|LOOP|WHILE|REPEAT)$/.test(closes)) depth--;
      }
    }
  }
  return statements;
}

/** A string or comment is never closed; the message follows the file's name. */
class Unreadable extends Error {}

const EMPTY = 'holds no SQL, only whitespace and comments: it would be recorded as applied while doing nothing. '
  + 'Write its statements, or delete the file';

/**
 * Statements that commit the transaction they run in, from the MySQL manual's "Statements That Cause an Implicit
 * Commit" (https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html): DDL, statements that change the grant
 * tables, transaction control and locking, administration and replication statements; and COMMIT and ROLLBACK,
 * which end it explicitly. CREATE and DROP of a TEMPORARY table are the manual's exceptions. A SET of autocommit
 * counts whatever the value: the runner owns the transaction.
 */
const IMPLICIT_COMMIT_WORDS = new Set(['ALTER', 'CREATE', 'DROP', 'RENAME', 'TRUNCATE', 'GRANT', 'REVOKE', 'INSTALL', 'UNINSTALL',
  'BEGIN', 'START', 'COMMIT', 'LOCK', 'UNLOCK', 'ANALYZE', 'CACHE', 'CHECK', 'FLUSH', 'OPTIMIZE', 'REPAIR', 'CHANGE', 'STOP']);
const IMPLICIT_COMMIT_PHRASES = /^(?:LOAD INDEX|RESET(?! PERSIST)|SET PASSWORD|SET\b.*\bAUTOCOMMIT|ROLLBACK(?!(?: WORK)? TO))\b/;
const TEMPORARY_TABLE = /^(?:CREATE|DROP) TEMPORARY TABLE\b/;

function commitsImplicitly(statement: SqlStatement): boolean {
  const words = statement.words.join(' ');
  return (IMPLICIT_COMMIT_WORDS.has(statement.words[0]) || IMPLICIT_COMMIT_PHRASES.test(words)) && !TEMPORARY_TABLE.test(words);
}

/** The head of a stored program's definition, over `canonical` tokens: CREATE [OR REPLACE] [DEFINER = user] ... */
const STORED_PROGRAM = /^(?:CREATE|ALTER)(?: OR REPLACE)?(?: DEFINER = (?:CURRENT_USER(?: \( \))?|\S+(?: @ \S+(?: \. \S+)*)?))?(?: AGGREGATE)? (?:PROCEDURE|FUNCTION|TRIGGER|EVENT)\b/;

/** A token of SQL: a word (keyword, identifier, number or `$1` placeholder), a string or quoted identifier, a symbol. */
export interface SqlToken {
  readonly kind: 'word' | 'quoted' | 'symbol';
  readonly text: string;
  readonly start: number;
  readonly end: number;
}
type Token = SqlToken;

/** Tokens joined by spaces: words in upper case, strings and quoted identifiers as Q, symbols as they are. */
function canonical(tokens: readonly Token[]): string {
  return tokens.map(t => t.kind === 'word' ? t.text.toUpperCase() : t.kind === 'quoted' ? 'Q' : t.text).join(' ');
}

const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;
const EXECUTABLE_COMMENT = /^\/\*M?!\d*/;

function mysqlTokens(sql: string): Token[] {
  return tokensOf(sql, 'mysql');
}

/**
 * The tokens of SQL outside whitespace and comments, as the server reads them. MySQL: `'` and `"` strings
 * (backslash escapes and doubled quotes), backtick identifiers, `#`, `-- ` and `/* *\/` comments, and the content
 * of executable comments as code. PostgreSQL: `'` strings (doubled quotes; backslash escapes only in `E'...'`
 * strings), `"` identifiers, dollar-quoted strings (`$$...$$`, `$tag$...$tag$`), `--` and nested `/* *\/` comments.
 * Throws an Error on a string or comment that is never closed.
 */
export function sqlTokens(sql: string, dialect: SqlDialect): SqlToken[] {
  return tokensOf(sql, dialect);
}

const DOLLAR_QUOTE = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

function tokensOf(sql: string, dialect: SqlDialect): Token[] {
  const tokens: Token[] = [];
  let executable = false;
  let i = skipBlank(sql, 0, dialect);
  while (i < sql.length) {
    const start = i;
    const marker = dialect === 'mysql' ? EXECUTABLE_COMMENT.exec(sql.slice(i, i + 12)) : null;
    const dollar = dialect === 'postgres' && sql[i] === '$' ? DOLLAR_QUOTE.exec(sql.slice(i, i + 64)) : null;
    if (marker) {
      i += marker[0].length;
      executable = true;
    } else if (executable && sql.startsWith('*/', i)) {
      i += 2;
      executable = false;
    } else if (dollar) {
      const close = sql.indexOf(dollar[0], i + dollar[0].length);
      if (close < 0) throw new Unreadable(`has a ${dollar[0]} quote that is never closed (line ${lineOf(sql, start)})`);
      i = close + dollar[0].length;
      tokens.push({ kind: 'quoted', text: sql.slice(start, i), start, end: i });
    } else if (dialect === 'postgres' && /^[Ee]'/.test(sql.slice(i, i + 2)) && !WORD.test(sql[i - 1] ?? ' ')) {
      i = quoteEnd(sql, i + 1, true);
      tokens.push({ kind: 'quoted', text: sql.slice(start, i), start, end: i });
    } else if (sql[i] === '\'' || sql[i] === '"' || sql[i] === '`' && dialect === 'mysql') {
      i = quoteEnd(sql, i, dialect === 'mysql' && sql[i] !== '`');
      tokens.push({ kind: 'quoted', text: sql.slice(start, i), start, end: i });
    } else if (WORD.test(sql[i])) {
      while (i < sql.length && WORD.test(sql[i])) i++;
      tokens.push({ kind: 'word', text: sql.slice(start, i), start, end: i });
    } else {
      i++;
      tokens.push({ kind: 'symbol', text: sql[start], start, end: i });
    }
    i = skipBlank(sql, i, dialect);
  }
  if (executable) throw new Unreadable(`has a /*! comment that is never closed (line ${lineOf(sql, sql.lastIndexOf('/*'))})`);
  return tokens;
}

/** The index after the string or quoted identifier that starts at `start`; `backslash`: backslash escapes. */
function quoteEnd(sql: string, start: number, backslash: boolean): number {
  const quote = sql[start];
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === '\\' && backslash) {
      i++;
    } else if (sql[i] === quote) {
      if (sql[i + 1] !== quote) return i + 1;
      i++;
    }
  }
  throw new Unreadable(`has a ${quote} quote that is never closed (line ${lineOf(sql, start)})`);
}

/** The index of the first character at or after `start` that is neither whitespace nor in a comment. */
function skipBlank(sql: string, start: number, dialect: SqlDialect): number {
  let i = start;
  while (i < sql.length) {
    if (/[ \t\n\r\f\v]/.test(sql[i])) {
      i++;
    } else if (dialect === 'mysql' && sql[i] === '#' || sql.startsWith('--', i) && (dialect === 'postgres' || isSpaceOrControl(sql[i + 2]))) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
    } else if (sql.startsWith('/*', i) && !(dialect === 'mysql' && EXECUTABLE_COMMENT.test(sql.slice(i, i + 4)))) {
      i = commentEnd(sql, i, dialect);
    } else {
      break;
    }
  }
  return i;
}

/** The index after the `/*` comment that starts at `start`: PostgreSQL nests them, MySQL does not. */
function commentEnd(sql: string, start: number, dialect: SqlDialect): number {
  let depth = 0;
  for (let i = start; i < sql.length - 1; i++) {
    if (sql.startsWith('/*', i) && (depth === 0 || dialect === 'postgres')) {
      depth++;
      i++;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  throw new Unreadable(`has a /* comment that is never closed (line ${lineOf(sql, start)})`);
}

/** MySQL ends a `--` comment's marker with a space or control character, or the end of the text. */
function isSpaceOrControl(char: string | undefined): boolean {
  return char === undefined || char <= ' ' || char === '\x7f';
}

function isBlankPostgres(sql: string): boolean {
  let i = skipBlank(sql, 0, 'postgres');
  while (sql[i] === ';') i = skipBlank(sql, i + 1, 'postgres');
  return i >= sql.length;
}

function lineOf(sql: string, offset: number): number {
  return sql.slice(0, offset).split('\n').length;
}

function excerpt(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** Where the first invalid byte is: the lenient decoder writes U+FFFD there, where the bytes hold no encoded U+FFFD. */
function invalidUtf8Offset(bytes: Uint8Array): number {
  let offset = 0;
  for (const char of new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)) {
    const code = char.codePointAt(0) ?? 0;
    if (code === 0xfffd && !(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) return offset;
    offset += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return offset;
}
