/**
 * Prints the README's table of compliance counts (`npx projen compliance:report`); with `--write`, puts it into
 * README.md between its markers.
 */
import * as fs from 'fs';
import * as path from 'path';
import { check, README_TABLE_END, README_TABLE_START, renderTable, STACKS } from './checks';

const table = renderTable(STACKS.map(([, make]) => check(make())));
console.log(table);
if (process.argv.includes('--write')) {
  const readme = path.join(__dirname, '..', '..', 'README.md');
  const text = fs.readFileSync(readme, 'utf8');
  const start = text.indexOf(README_TABLE_START);
  const end = text.indexOf(README_TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${README_TABLE_START} … ${README_TABLE_END} section`);
  fs.writeFileSync(readme, `${text.slice(0, start + README_TABLE_START.length)}\n${table}\n${text.slice(end)}`);
  console.log(`written to ${readme}`);
}
