/**
 * Runs the command as a user runs it (`node dist/cli.js …` in an app's directory) and talks to it over HTTP.
 */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { connect } from 'serverless-sql-api-runtime';

export const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
export const REPO = path.join(__dirname, '..', '..');
export const EXAMPLE = path.join(REPO, 'examples', 'todo-api');
export const FIXTURE = path.join(__dirname, 'fixtures', 'app');
export const REQUIRE_SERVERS = process.env.SQL_TEST_REQUIRE_SERVERS === '1';

export function configured(variable: string): string | undefined {
  const value = process.env[variable];
  if (!value && REQUIRE_SERVERS) throw new Error(`${variable} is not set but SQL_TEST_REQUIRE_SERVERS=1 makes real-server tests mandatory`);
  return value || undefined;
}

export interface RunningDev {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** Waits until the output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

/** Runs the command; `npm: true` runs it through the app's `npm run dev` script instead. */
export function run(directory: string, args: string[], env: NodeJS.ProcessEnv = {}, npm = false): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const [command, commandArgs] = npm ? ['npm', ['run', '--silent', 'dev', '--', ...args.slice(1)]] : [process.execPath, [CLI, ...args]];
  // npm runs the script in a process group of its own, which stop() signals as a whole
  const child = spawn(command, commandArgs, { cwd: directory, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: npm });
  let output = '';
  child.stdout!.on('data', chunk => { output += chunk; });
  child.stderr!.on('data', chunk => { output += chunk; });
  const exit = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
  return { child, output: () => output, exit };
}

export async function startDev(directory: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, npm = false): Promise<RunningDev> {
  const { child, output, exit } = run(directory, ['dev', '--port', '0', ...args], env, npm);
  const waitFor = async (pattern: RegExp, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(output());
      if (match) return match;
      if (child.exitCode !== null) throw new Error(`the dev command exited with ${child.exitCode}:\n${output()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${output()}`);
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  };
  const stop = async (signal: NodeJS.Signals = 'SIGINT') => {
    if (child.exitCode === null) {
      if (npm) process.kill(-child.pid!, signal);
      else child.kill(signal);
    }
    await exit;
  };
  let url: string;
  try {
    // through npm, the app's predev script compiles the runtime and dev packages first
    [, url] = await waitFor(/ on (http:\/\/127\.0\.0\.1:\d+)\n/, npm ? 90_000 : 15_000);
  } catch (error) {
    // a command that never came up must not outlive the test (it would keep jest from exiting)
    await stop('SIGKILL');
    throw error;
  }
  return { url, child, output, waitFor, stop: () => stop() };
}

export async function request(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

/** A database of its own on a real server (its URL), dropped by the returned function. */
export async function ownDatabase(serverUrl: string, name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const url = new URL(serverUrl);
  const mysql = url.protocol === 'mysql:';
  url.pathname = mysql ? '/mysql' : '/postgres';
  const admin = connect({ url: url.href });
  const drop = async () => {
    await admin.query(mysql ? `drop database if exists \`${name}\`` : `drop database if exists "${name}" with (force)`);
  };
  await drop();
  const own = new URL(serverUrl);
  own.pathname = `/${name}`;
  return {
    url: own.href,
    drop: async () => {
      try {
        await drop();
      } finally {
        await admin.close();
      }
    },
  };
}
