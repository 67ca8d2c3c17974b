/**
 * `serverless-sql-api dev`: the API of a CDK app served over HTTP on this machine. Requests become the events the
 * front door sends (an HTTP API's payload 2.0 or a function URL's), routes go to their own functions, workers are
 * fed by `POST /__workers/<id>`, and one line is logged per request.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { LocalApi, UsageError } from './app';
import { LocalDatabase, openDatabase } from './database';
import {
  failedInvocationResponse, httpEvent, HttpRequest, httpResponse, HttpResponse, parseRoute, Route, selectRoute, workerBatch,
} from './events';
import { Invocation, LocalFunctionRunner } from './functions';

export interface DevServerOptions {
  readonly port?: number;
  readonly host?: string;
  readonly databaseUrl?: string;
  readonly dataDir?: string;
  /** An embedded database already starting (see openEmbedded). */
  readonly embedded?: Promise<LocalDatabase>;
  /** Rebuild handlers and re-apply migrations on change. Default true. */
  readonly watch?: boolean;
  readonly log?: (line: string) => void;
}

export interface DevServer {
  readonly url: string;
  readonly database: LocalDatabase;
  readonly functions: LocalFunctionRunner[];
  /** Invokes a worker with a batch (records, or bodies to wrap in records). */
  invokeWorker(workerId: string, input: unknown): Promise<Invocation>;
  stop(): Promise<void>;
}

const WORKER_PREFIX = '/__workers/';
/** Lambda's limit on a synchronous invocation's payload. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

export async function startDevServer(api: LocalApi, options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? (line => console.log(line));
  const watch = options.watch ?? true;
  for (const fn of api.functions) {
    if (fn.deployTimeEnvironment.length > 0) {
      log(`warning: ${fn.path}: ${fn.deployTimeEnvironment.join(', ')} ${fn.deployTimeEnvironment.length === 1 ? 'has' : 'have'} a value only `
        + 'known at deployment; set them in your shell to give them one locally');
    }
  }
  const database = await openDatabase(api, { url: options.databaseUrl, dataDir: options.dataDir }, options.embedded);
  log(`database: ${database.description}`);
  try {
    const report = await database.prepare(api);
    log(`migrations: ${report.applied.length ? `applied ${report.applied.join(', ')}` : 'none to apply'}${report.skipped.length ? ` (${report.skipped.length} already applied)` : ''}; `
      + `users: ${api.users.map(u => `${u.name} (${u.access})`).join(', ') || 'none'}`);
  } catch (error) {
    await database.stop();
    throw error;
  }

  const buildDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'serverless-sql-api-build-'));
  const functions = api.functions.map(fn => new LocalFunctionRunner(fn, database.endpoint, buildDirectory, log));
  await Promise.all(functions.map(fn => fn.build(watch)));
  for (const fn of functions) {
    if (fn.fn.handler.kind !== 'nodejs') log(`warning: ${fn.fn.path} is not run locally: only ApiHandler.nodejs() handlers are`);
  }

  const apiFunction = functions.find(fn => fn.fn.role === 'api');
  const routeFunctions = new Map<string, LocalFunctionRunner>(functions.filter(fn => fn.fn.role === 'route').map(fn => [fn.fn.routeKey!, fn]));
  const routes: Route[] = [...routeFunctions.keys(), '$default'].map(parseRoute);
  const workers = new Map(functions.filter(fn => fn.fn.role === 'worker').map(fn => [fn.fn.workerId!, fn]));

  const invokeWorker = async (workerId: string, input: unknown): Promise<Invocation> => {
    const worker = workers.get(workerId);
    if (!worker) throw new UsageError(`No worker "${workerId}"; the API has ${[...workers.keys()].join(', ') || 'none'}`);
    return worker.invoke(workerBatch(worker.fn.source ?? 'sqs', input, workerId));
  };

  const watcher = watch && api.migrationsDirectory && fs.existsSync(api.migrationsDirectory)
    ? watchMigrations(api, database, log) : undefined;

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      const started = Date.now();
      const body = Buffer.concat(chunks);
      const method = request.method ?? 'GET';
      const url = request.url ?? '/';
      const requestPath = url.split('?')[0];
      const done = (status: number, name: string, invocation?: Invocation) => {
        const opened = invocation ? `, ${invocation.connectionsOpened} connection${invocation.connectionsOpened === 1 ? '' : 's'} opened` : '';
        log(`${method} ${url} ${status} ${Date.now() - started} ms [${name}${invocation?.coldStart ? ', cold start' : ''}${opened}]`);
        if (invocation?.error) log(`${name}: ${invocation.error.stack ?? `${invocation.error.errorType}: ${invocation.error.errorMessage}`}`);
      };
      if (size > MAX_PAYLOAD_BYTES) {
        send(response, { statusCode: 413, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from('{"message":"Request Entity Too Large"}') });
        done(413, '-');
        return;
      }
      void (async () => {
        if (requestPath.startsWith(WORKER_PREFIX) && method === 'POST') {
          const workerId = decodeURIComponent(requestPath.slice(WORKER_PREFIX.length));
          const worker = workers.get(workerId);
          if (!worker) {
            send(response, json(404, { message: `no worker "${workerId}"; the API has ${[...workers.keys()].join(', ') || 'none'}` }));
            done(404, '-');
            return;
          }
          let input: unknown;
          let batch: unknown[];
          try {
            input = JSON.parse(body.toString('utf8') || '[]');
            batch = workerBatch(worker.fn.source ?? 'sqs', input, workerId);
          } catch (error) {
            send(response, json(400, { message: error instanceof Error ? error.message : String(error) }));
            done(400, worker.name);
            return;
          }
          const invocation = await worker.invoke(batch);
          const status = invocation.ok ? 200 : 500;
          send(response, json(status, invocation.ok ? { result: invocation.result ?? null } : { error: invocation.error }));
          done(status, worker.name, invocation);
          return;
        }
        if (api.frontDoor === 'none' || !apiFunction) {
          send(response, json(404, { message: 'this API has no front door (FrontDoor.none()); feed its workers at /__workers/<id>' }));
          done(404, '-');
          return;
        }
        const httpRequest: HttpRequest = {
          method,
          url,
          headers: request.headers,
          body,
          sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
          protocol: `HTTP/${request.httpVersion}`,
        };
        // the host name clients used, without the port (API Gateway's domainName has none)
        const host = (request.headers.host ?? 'localhost').replace(/:\d+$/, '');
        let target = apiFunction;
        let event: Record<string, unknown>;
        if (api.frontDoor === 'httpApi') {
          const { route, pathParameters } = selectRoute(routes, method, requestPath);
          target = route && route.routeKey !== '$default' ? routeFunctions.get(route.routeKey)! : apiFunction;
          event = httpEvent(httpRequest, { routeKey: route?.routeKey ?? '$default', pathParameters, apiId: 'local', domainName: host });
        } else {
          event = httpEvent(httpRequest, { routeKey: '$default', apiId: 'local', domainName: host });
        }
        let streamed = false;
        const invocation = await target.invoke(event, {
          prelude: prelude => {
            streamed = true;
            const headers: Record<string, string | string[]> = { ...prelude.headers };
            if (prelude.cookies?.length) headers['set-cookie'] = prelude.cookies;
            response.writeHead(prelude.statusCode ?? 200, { 'content-type': 'application/octet-stream', ...headers });
            response.flushHeaders();
          },
          chunk: data => response.write(data),
        });
        if (streamed) {
          response.end();
          done(response.statusCode, target.name, invocation);
          return;
        }
        let answer: HttpResponse;
        try {
          answer = invocation.ok ? httpResponse(invocation.result) : failedInvocationResponse();
        } catch (error) {
          log(`${target.name}: ${error instanceof Error ? error.message : String(error)}`);
          answer = failedInvocationResponse();
        }
        send(response, answer);
        done(answer.statusCode, target.name, invocation);
      })().catch(error => {
        log(`internal error: ${error instanceof Error ? error.stack : String(error)}`);
        if (!response.headersSent) send(response, failedInvocationResponse());
        else response.end();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as { port: number; address: string };
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url,
    database,
    functions,
    invokeWorker,
    stop: async () => {
      watcher?.close();
      await new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all(functions.map(fn => fn.stop()));
      await database.stop();
      fs.rmSync(buildDirectory, { recursive: true, force: true });
    },
  };
}

function json(statusCode: number, body: unknown): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(JSON.stringify(body)) };
}

function send(response: http.ServerResponse, answer: HttpResponse): void {
  const headers: Record<string, string | string[]> = { ...answer.headers, 'content-length': String(answer.body.length) };
  if (answer.cookies.length) headers['set-cookie'] = answer.cookies;
  response.writeHead(answer.statusCode, headers);
  response.end(answer.body);
}

/** Applies new migration files as they appear, with the same runner (an edited applied one is refused by it). */
function watchMigrations(api: LocalApi, database: LocalDatabase, log: (line: string) => void): fs.FSWatcher {
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  return fs.watch(api.migrationsDirectory!, () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(async () => {
        try {
          const report = await database.prepare(api);
          if (report.applied.length) log(`migrations: applied ${report.applied.join(', ')}`);
        } catch (error) {
          log(`migrations: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
    }, 200);
  });
}
