/**
 * A function of the app, run locally: bundled with esbuild as `ApiHandler.nodejs` bundles it (rebuilt on change),
 * and invoked in sandboxes, child processes that each load the bundle once and run one invocation at a time. A
 * sandbox is reused while it is warm, a second one starts when the first is busy, and all of them are replaced
 * after a rebuild. Each sandbox reaches the database through a relay of its own, which counts its connections.
 */
import { ChildProcess, fork } from 'child_process';
import { randomUUID } from 'crypto';
import * as net from 'net';
import * as path from 'path';
import type * as esbuild from 'esbuild';
import { LocalFunction } from './app';

/** Where sandboxes reach the database, and as whom. */
export interface DatabaseEndpoint {
  readonly engine: 'postgres' | 'mysql';
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** The password every local user has (see database.ts). */
  readonly password: string;
  /** `sslmode` to pass on, if the database was given with one. */
  readonly sslMode?: string;
}

export interface Invocation {
  readonly ok: boolean;
  /** The handler's result, or undefined for an error. */
  readonly result?: unknown;
  readonly error?: { errorType: string; errorMessage: string; stack?: string };
  /** Connections the sandbox opened during the invocation. */
  readonly connectionsOpened: number;
  readonly durationMs: number;
  /** Whether the invocation started a sandbox (a cold start). */
  readonly coldStart: boolean;
}

export interface StreamSink {
  prelude(prelude: { statusCode?: number; headers?: Record<string, string>; cookies?: string[] }): void;
  chunk(data: Buffer): void;
}

const MAX_SANDBOXES = 10;
const RUNNER = path.join(__dirname, 'runner.js');

interface Sandbox {
  readonly child: ChildProcess;
  readonly generation: number;
  readonly relay: Relay;
  readonly ready: Promise<void>;
  busy: boolean;
}

export class LocalFunctionRunner {
  public readonly name: string;
  private generation = 0;
  private bundle?: string;
  private buildError?: string;
  private readonly sandboxes: Sandbox[] = [];
  private readonly waiting: Array<() => void> = [];
  private context?: esbuild.BuildContext;
  private firstBuild?: () => void;
  private starting = 0;
  private nextId = 1;

  constructor(
    public readonly fn: LocalFunction,
    private readonly database: DatabaseEndpoint,
    private readonly buildDirectory: string,
    private readonly log: (line: string) => void,
    private readonly extraEnvironment: Record<string, string> = {},
  ) {
    this.name = fn.role === 'api' ? 'Api' : fn.role === 'worker' ? fn.workerId! : fn.routeKey!;
  }

  /** Bundles the handler; with `watch`, rebuilds on every change of its sources. */
  public async build(watch: boolean): Promise<void> {
    const handler = this.fn.handler;
    if (handler.kind !== 'nodejs') {
      this.buildError = `${this.fn.path} runs ${handler.kind === 'image' ? 'a container image' : `${handler.runtime} code`}, `
        + 'which this command does not run; only ApiHandler.nodejs() handlers run locally';
      return;
    }
    const { build, context } = await import('esbuild');
    const esm = handler.bundling.format === 'esm';
    const outfile = path.join(this.buildDirectory, this.fn.path.replace(/[^A-Za-z0-9_-]+/g, '_'), esm ? 'index.mjs' : 'index.js');
    const options: esbuild.BuildOptions = {
      entryPoints: [handler.entry],
      outfile,
      bundle: true,
      platform: 'node',
      target: handler.nodeMajor ? `node${handler.nodeMajor}` : undefined,
      format: esm ? 'esm' : 'cjs',
      mainFields: handler.bundling.mainFields,
      external: handler.bundling.externalModules,
      define: handler.bundling.define,
      loader: handler.bundling.loader as Record<string, esbuild.Loader> | undefined,
      tsconfig: handler.bundling.tsconfig,
      banner: handler.bundling.banner ? { js: handler.bundling.banner } : undefined,
      footer: handler.bundling.footer ? { js: handler.bundling.footer } : undefined,
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [{
        name: 'serverless-sql-api-reload',
        setup: pluginBuild => {
          pluginBuild.onEnd(result => {
            this.firstBuild?.();
            this.firstBuild = undefined;
            if (result.errors.length > 0) {
              this.buildError = result.errors.map(e => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('\n');
              this.log(`${this.name}: build failed\n${this.buildError}`);
              return;
            }
            const rebuilt = this.bundle !== undefined;
            this.buildError = undefined;
            this.bundle = outfile;
            this.generation++;
            this.retireIdle();
            if (rebuilt) this.log(`${this.name}: rebuilt ${path.relative(process.cwd(), handler.entry)}`);
          });
        },
      }],
    };
    if (watch) {
      // watch() builds once, then again on every change of the sources; the first build ends here
      const first = new Promise<void>(resolve => { this.firstBuild = resolve; });
      this.context = await context(options);
      await this.context.watch();
      await first;
    } else {
      await build(options).catch(() => undefined);
    }
  }

  /** Runs one invocation; `stream` receives a streamed response. Never throws for the handler's own failures. */
  public async invoke(event: unknown, stream?: StreamSink): Promise<Invocation> {
    const started = Date.now();
    if (!this.bundle || this.buildError) {
      return { ok: false, error: { errorType: 'BuildError', errorMessage: this.buildError ?? 'not built' }, connectionsOpened: 0, durationMs: 0, coldStart: false };
    }
    const { sandbox, cold } = await this.acquire();
    const connectionsBefore = sandbox.relay.accepted;
    try {
      await sandbox.ready;
    } catch (error) {
      this.discard(sandbox);
      return { ok: false, error: describe(error, 'Runtime.InitError'), connectionsOpened: sandbox.relay.accepted - connectionsBefore, durationMs: Date.now() - started, coldStart: cold };
    }
    const id = this.nextId++;
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs;
    type Outcome = { ok: boolean; result?: unknown; error?: Invocation['error']; broken?: boolean };
    const outcome = await new Promise<Outcome>(resolve => {
      let settled = false;
      const finish = (value: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sandbox.child.off('message', onMessage);
        sandbox.child.off('exit', onExit);
        resolve(value);
      };
      const timer = setTimeout(() => {
        finish({ ok: false, broken: true, error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.fn.timeoutSeconds.toFixed(2)} seconds` } });
      }, timeoutMs);
      const onExit = (code: number | null, signal: string | null) => {
        finish({ ok: false, broken: true, error: { errorType: 'Runtime.ExitError', errorMessage: `the sandbox exited (${signal ?? `code ${code}`}) during the invocation` } });
      };
      const onMessage = (message: { type: string; id?: number; result?: unknown; error?: Invocation['error']; prelude?: object; data?: string }) => {
        if (message.id !== id) return;
        if (message.type === 'prelude') stream?.prelude(message.prelude as never);
        else if (message.type === 'chunk') stream?.chunk(Buffer.from(message.data!, 'base64'));
        else if (message.type === 'end') finish({ ok: true });
        else if (message.type === 'result') finish({ ok: true, result: message.result });
        else if (message.type === 'error') finish({ ok: false, error: message.error });
      };
      sandbox.child.on('message', onMessage);
      sandbox.child.once('exit', onExit);
      sandbox.child.send({ type: 'invoke', id, event, deadline, requestId: randomUUID() });
    });
    const connectionsOpened = sandbox.relay.accepted - connectionsBefore;
    if (outcome.broken) this.discard(sandbox);
    else this.release(sandbox);
    return { ...outcome, connectionsOpened, durationMs: Date.now() - started, coldStart: cold };
  }

  public async stop(): Promise<void> {
    await this.context?.dispose();
    for (const sandbox of [...this.sandboxes]) this.discard(sandbox);
  }

  private async acquire(): Promise<{ sandbox: Sandbox; cold: boolean }> {
    for (;;) {
      const idle = this.sandboxes.find(s => !s.busy && s.generation === this.generation);
      if (idle) {
        idle.busy = true;
        return { sandbox: idle, cold: false };
      }
      // sandboxes still starting count too: concurrent requests must not start more than the cap between them
      if (this.sandboxes.length + this.starting < MAX_SANDBOXES) {
        this.starting++;
        let sandbox: Sandbox;
        try {
          sandbox = await this.start();
        } catch (error) {
          this.starting--;
          throw error;
        }
        sandbox.busy = true;
        return { sandbox, cold: true };
      }
      await new Promise<void>(resolve => this.waiting.push(resolve));
    }
  }

  private release(sandbox: Sandbox) {
    sandbox.busy = false;
    if (sandbox.generation !== this.generation) this.discard(sandbox);
    this.waiting.shift()?.();
  }

  private discard(sandbox: Sandbox) {
    const index = this.sandboxes.indexOf(sandbox);
    if (index >= 0) this.sandboxes.splice(index, 1);
    if (sandbox.child.exitCode === null) sandbox.child.kill('SIGKILL');
    sandbox.relay.close();
    this.waiting.shift()?.();
  }

  private retireIdle() {
    for (const sandbox of this.sandboxes.filter(s => !s.busy && s.generation !== this.generation)) this.discard(sandbox);
  }

  private async start(): Promise<Sandbox> {
    const relay = await Relay.start(this.database.host, this.database.port);
    const db = this.database;
    const user = encodeURIComponent(this.fn.dbUser);
    const scheme = db.engine === 'postgres' ? 'postgres' : 'mysql';
    const url = `${scheme}://${user}:${encodeURIComponent(db.password)}@127.0.0.1:${relay.port}/${encodeURIComponent(db.database)}`
      + (db.sslMode ? `?sslmode=${db.sslMode}` : '');
    const child = fork(RUNNER, [], {
      cwd: process.cwd(),
      execArgv: ['--enable-source-maps'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        ...process.env,
        ...this.fn.environment,
        ...this.extraEnvironment,
        SQL_ENGINE: db.engine,
        SQL_URL: url,
        SQL_AUTH: 'password',
        SQL_HOST: '127.0.0.1',
        SQL_PORT: String(relay.port),
        SQL_DATABASE: db.database,
        SQL_USER: this.fn.dbUser,
        SQL_PROXY_IDLE_TIMEOUT: '1800',
        AWS_LAMBDA_FUNCTION_NAME: this.fn.path.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 64),
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.fn.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
        SERVERLESS_SQL_API_BUNDLE: this.bundle!,
        SERVERLESS_SQL_API_HANDLER: this.fn.handler.kind === 'nodejs' ? this.fn.handler.handler : 'handler',
      },
    });
    for (const output of [child.stdout!, child.stderr!]) {
      let pending = '';
      output.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) this.log(`${this.name} | ${line}`);
      });
    }
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message: { type: string; error?: { errorMessage: string; stack?: string } }) => {
        if (message.type === 'ready') resolve();
        if (message.type === 'init-error') reject(Object.assign(new Error(message.error!.errorMessage), { stack: message.error!.stack }));
      });
      child.once('exit', code => reject(new Error(`the sandbox exited with ${code} during init`)));
    });
    ready.catch(() => undefined);
    const sandbox: Sandbox = { child, generation: this.generation, relay, ready, busy: false };
    // from starting to started in one step, so that acquire() counts it exactly once
    this.starting--;
    this.sandboxes.push(sandbox);
    return sandbox;
  }
}

function describe(error: unknown, errorType: string): Invocation['error'] {
  return error instanceof Error ? { errorType, errorMessage: error.message, stack: error.stack } : { errorType, errorMessage: String(error) };
}

/** A TCP relay to the database that counts the connections made through it. */
export class Relay {
  public static async start(host: string, port: number): Promise<Relay> {
    const relay = new Relay(host, port);
    await new Promise<void>((resolve, reject) => {
      relay.server.once('error', reject);
      relay.server.listen(0, '127.0.0.1', () => resolve());
    });
    return relay;
  }

  public accepted = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(host: string, port: number) {
    this.server = net.createServer(client => {
      this.accepted++;
      const upstream = net.connect(port, host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  public get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  public close(): void {
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
  }
}
