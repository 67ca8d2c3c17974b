/**
 * The handler code the READMEs show compiles in a default strict TypeScript project. The construct snippets of
 * README.md and the `@example` tags are compiled (and translated to the other jsii languages) by jsii-rosetta in
 * `npx projen rosetta:check`; handler code is Node.js-only, so README.md fences it as `mts`, which rosetta leaves
 * alone, and runtime/README.md (not a jsii package) as `ts`. This test compiles both kinds against the runtime
 * package's types.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..');

/** The code blocks of `file` whose fence info starts with one of `languages`, with the line they start on. */
export function codeBlocks(file: string, languages: string[]): Array<{ line: number; code: string; language: string }> {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const blocks: Array<{ line: number; code: string; language: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)/.exec(lines[i]);
    if (!fence) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${i + 1}: a code block that is never closed`);
    if (languages.includes(fence[1])) blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n'), language: fence[1] });
    i = end;
  }
  return blocks;
}

/** Type errors of `sources` (file name → code), compiled together as modules in strict mode. */
function typeErrors(sources: Record<string, string>): string[] {
  const directory = fs.mkdtempSync(path.join(ROOT, 'test', '.snippets-'));
  try {
    const files = Object.entries(sources).map(([name, code]) => {
      const file = path.join(directory, name);
      fs.writeFileSync(file, code);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      esModuleInterop: true,
      skipLibCheck: true,
      types: [],
    });
    return ts.getPreEmitDiagnostics(program).map(d => {
      const where = d.file ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

describe('handler snippets compile under strict TypeScript', () => {
  const snippets = [
    ...codeBlocks('README.md', ['mts']).map(block => ({ name: `README.md:${block.line}`, ...block })),
    // an `mts` block of the runtime's README is an ES module (top-level await), compiled as one
    ...codeBlocks('runtime/README.md', ['ts', 'typescript', 'mts']).map(block => ({ name: `runtime/README.md:${block.line}`, ...block })),
  ];

  test('there are some: the minimal example\'s handler and the runtime README\'s', () => {
    expect(snippets.filter(s => s.name.startsWith('README.md')).length).toBeGreaterThanOrEqual(1);
    expect(snippets.filter(s => s.name.startsWith('runtime/')).length).toBeGreaterThanOrEqual(1);
  });

  test.each(snippets.map(s => [s.name, s] as const))('%s', (_name, snippet) => {
    const esModule = snippet.name.startsWith('runtime/') && snippet.language === 'mts';
    expect(typeErrors({ [esModule ? 'snippet.mts' : 'snippet.ts']: snippet.code })).toEqual([]);
  });

  test('a snippet with a type error is caught', () => {
    expect(typeErrors({ 'bad.ts': "import { connect } from 'serverless-sql-api-runtime';\nexport const h = async (e) => connect().query(e);\n" }))
      .toEqual([expect.stringContaining("Parameter 'e' implicitly has an 'any' type")]);
  });
});

describe('the consumer test installs the README\'s minimal example as written', () => {
  const [construct] = codeBlocks('README.md', ['ts']);
  const [handler] = codeBlocks('README.md', ['mts']);

  test('its stack holds the construct snippet', () => {
    const app = fs.readFileSync(path.join(ROOT, 'test', 'consumer', 'app', 'bin', 'app.ts'), 'utf8');
    const mirrored = app.slice(app.indexOf('// --- README.md "Minimal example" ---\n'), app.indexOf('    // --- end of README.md ---'))
      .split('\n').slice(1).map(line => line.replace(/^ {4}/, '')).join('\n').trim();
    const snippet = construct.code.split('\n').filter(line => !line.startsWith('import ')).join('\n').trim();
    expect(mirrored).toEqual(snippet);
  });

  test('its handler is the handler snippet', () => {
    const api = fs.readFileSync(path.join(ROOT, 'test', 'consumer', 'app', 'src', 'api.ts'), 'utf8');
    expect(api.split('\n').slice(1).join('\n').trim()).toEqual(handler.code.split('\n').slice(1).join('\n').trim());
  });
});
