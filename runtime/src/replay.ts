/**
 * Which statements the client may run a second time on its own: those whose text proves that they cannot write.
 */
import type { Engine } from './config';
import { sqlTokens, SqlToken } from './sql-statements';

/** The statements that can only read, by their first word. */
const READ_HEADS = new Set(['SELECT', 'SHOW', 'EXPLAIN', 'VALUES', 'TABLE', 'WITH', 'DESCRIBE', 'DESC']);

/**
 * Words that write, lock or hand control to something else wherever they stand: data-modifying statements in a
 * WITH, SELECT ... INTO (a new table on PostgreSQL, variables or a file on MySQL), locking reads (FOR UPDATE,
 * FOR SHARE, LOCK IN SHARE MODE) and EXPLAIN ANALYZE, which runs its statement.
 */
const WRITE_WORDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'UPSERT', 'INTO', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'GRANT',
  'REVOKE', 'CALL', 'DO', 'COPY', 'LOCK', 'SHARE', 'ANALYZE', 'ANALYSE', 'SET', 'LOAD', 'HANDLER', 'NOTIFY', 'LISTEN']);

/** Words that a `(` follows in SQL's own grammar (not calls), and type names with a length or precision. */
const NOT_CALLS = new Set([
  'SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'IN', 'EXISTS', 'ANY', 'SOME', 'ALL', 'VALUES', 'AS', 'ON', 'JOIN', 'LATERAL',
  'OVER', 'FILTER', 'WITHIN', 'CASE', 'WHEN', 'THEN', 'ELSE', 'BY', 'HAVING', 'UNION', 'INTERSECT', 'EXCEPT', 'IS', 'LIKE',
  'ILIKE', 'BETWEEN', 'USING', 'LIMIT', 'OFFSET', 'WITH', 'RECURSIVE', 'ROW', 'ARRAY', 'DISTINCT', 'EXPLAIN', 'TABLE',
  'SIMILAR', 'ESCAPE', 'PARTITION', 'ROWS', 'RANGE', 'GROUPS', 'WINDOW', 'MATERIALIZED', 'INNER', 'LEFT', 'RIGHT', 'FULL',
  'CROSS', 'OUTER', 'NATURAL', 'ORDER', 'GROUP', 'ASC', 'DESC', 'NULLS', 'FIRST', 'LAST', 'FETCH', 'NEXT', 'ONLY', 'TO',
  'NUMERIC', 'DECIMAL', 'DEC', 'VARCHAR', 'CHAR', 'CHARACTER', 'VARYING', 'TIME', 'TIMESTAMP', 'INTERVAL', 'BIT', 'FLOAT',
  'BINARY', 'VARBINARY', 'DATETIME', 'INT', 'INTEGER', 'BIGINT', 'SMALLINT', 'TINYINT', 'ZONE',
]);

/**
 * Built-in functions that only compute a value: aggregates, window functions, string, number, date, JSON and array
 * functions of PostgreSQL and MySQL. Any other call could reach user code (a function that inserts), so it is not
 * replayed. Functions with side effects of their own (nextval, setval, pg_advisory_lock, GET_LOCK,
 * LAST_INSERT_ID, set_config…) are deliberately absent.
 */
const PURE_FUNCTIONS = new Set([
  'COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'BOOL_AND', 'BOOL_OR', 'EVERY', 'STDDEV', 'STDDEV_POP', 'STDDEV_SAMP', 'VARIANCE',
  'VAR_POP', 'VAR_SAMP', 'ARRAY_AGG', 'STRING_AGG', 'GROUP_CONCAT', 'JSON_AGG', 'JSONB_AGG', 'JSON_OBJECT_AGG',
  'JSONB_OBJECT_AGG', 'JSON_ARRAYAGG', 'JSON_OBJECTAGG', 'ROW_NUMBER', 'RANK', 'DENSE_RANK', 'PERCENT_RANK', 'CUME_DIST',
  'NTILE', 'LAG', 'LEAD', 'FIRST_VALUE', 'LAST_VALUE', 'NTH_VALUE', 'COALESCE', 'NULLIF', 'GREATEST', 'LEAST', 'IF',
  'IFNULL', 'CAST', 'CONVERT', 'EXTRACT', 'LOWER', 'UPPER', 'LENGTH', 'CHAR_LENGTH', 'CHARACTER_LENGTH', 'OCTET_LENGTH',
  'SUBSTRING', 'SUBSTR', 'TRIM', 'LTRIM', 'RTRIM', 'BTRIM', 'CONCAT', 'CONCAT_WS', 'REPLACE', 'LEFT', 'RIGHT', 'LPAD',
  'RPAD', 'POSITION', 'STRPOS', 'LOCATE', 'INSTR', 'SPLIT_PART', 'REVERSE', 'REPEAT', 'INITCAP', 'FORMAT', 'ABS', 'ROUND',
  'FLOOR', 'CEIL', 'CEILING', 'TRUNC', 'MOD', 'POWER', 'POW', 'SQRT', 'EXP', 'LN', 'LOG', 'SIGN', 'NOW',
  'CURRENT_DATE', 'CURRENT_TIME', 'CURRENT_TIMESTAMP', 'LOCALTIME', 'LOCALTIMESTAMP', 'DATE_TRUNC', 'DATE_PART', 'AGE',
  'TO_CHAR', 'TO_DATE', 'TO_TIMESTAMP', 'TO_NUMBER', 'MAKE_DATE', 'MAKE_INTERVAL', 'DATE_FORMAT', 'DATE_ADD', 'DATE_SUB',
  'DATEDIFF', 'TIMESTAMPDIFF', 'UNIX_TIMESTAMP', 'FROM_UNIXTIME', 'STR_TO_DATE', 'CURDATE', 'CURTIME', 'UTC_TIMESTAMP',
  'DATE', 'YEAR', 'MONTH', 'DAY', 'HOUR', 'MINUTE', 'SECOND', 'JSON_BUILD_OBJECT', 'JSONB_BUILD_OBJECT', 'JSON_BUILD_ARRAY',
  'JSONB_BUILD_ARRAY', 'TO_JSON', 'TO_JSONB', 'ROW_TO_JSON', 'ARRAY_TO_JSON', 'JSON_EXTRACT', 'JSON_UNQUOTE', 'JSON_OBJECT',
  'JSON_ARRAY', 'JSON_LENGTH', 'JSON_CONTAINS', 'JSONB_SET', 'JSONB_ARRAY_ELEMENTS', 'JSON_ARRAY_ELEMENTS', 'JSONB_EACH',
  'JSON_EACH', 'JSONB_TYPEOF', 'JSONB_ARRAY_LENGTH', 'JSONB_EXTRACT_PATH', 'JSONB_EXTRACT_PATH_TEXT', 'ARRAY_LENGTH',
  'UNNEST', 'GENERATE_SERIES', 'CARDINALITY', 'ARRAY_POSITION', 'MD5', 'SHA1', 'SHA2', 'ENCODE', 'DECODE', 'HEX', 'UNHEX',
  'GEN_RANDOM_UUID', 'UUID', 'RANDOM', 'RAND', 'PG_SLEEP', 'SLEEP',
]);

/**
 * Whether the client may run `sql` again on its own after a lost answer: its text proves that it cannot write.
 * That holds for exactly one statement (a trailing `;` allowed) that starts with SELECT, SHOW, EXPLAIN (not
 * EXPLAIN ANALYZE), VALUES, TABLE, WITH or DESCRIBE, holds none of the words that write or lock (INSERT, UPDATE,
 * DELETE, MERGE, INTO, FOR UPDATE/SHARE, LOCK, CALL, DO, COPY, SET …) and calls no function but the built-in
 * ones that only compute a value (count, coalesce, now, json_build_object … — a call of any other function could
 * reach code that writes, as `select add_row($1)` does). Words are read as the engine reads them: strings, quoted
 * identifiers, dollar quotes, escape strings and comments are not words. SQL the lexer cannot read counts as a write.
 *
 * Beyond what the text shows: a view, an operator or a type whose functions write. Run reads of such objects with
 * `{ idempotent: false }`.
 */
export function isReadStatement(sql: string, engine: Engine): boolean {
  let tokens: SqlToken[];
  try {
    tokens = sqlTokens(sql, engine);
  } catch {
    return false;
  }
  while (tokens.length > 0 && tokens[tokens.length - 1].text === ';') tokens.pop();
  if (tokens.length === 0 || tokens[0].kind !== 'word' || !READ_HEADS.has(tokens[0].text.toUpperCase())) return false;
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k];
    if (token.kind === 'symbol' && token.text === ';') return false;
    const word = token.kind === 'word' ? token.text.toUpperCase() : undefined;
    if (word && WRITE_WORDS.has(word)) return false;
    if (tokens[k + 1]?.text === '(' && tokens[k + 1].kind === 'symbol') {
      if (token.kind === 'quoted') return false;
      if (word && !NOT_CALLS.has(word) && !PURE_FUNCTIONS.has(word)) return false;
    }
  }
  return true;
}
