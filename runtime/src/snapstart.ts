import { ConfigurationError } from './errors';

/** What runs around the snapshot: clients to close and reset, and code of your own. */
export interface SnapStartHooks {
  /** Clients whose `beforeSnapshot()` runs before the snapshot and `afterRestore()` after each restore. */
  readonly clients?: ReadonlyArray<{ beforeSnapshot(): Promise<void>; afterRestore(): Promise<void> }>;
  /** Runs after the clients' `beforeSnapshot()`: close what must not be frozen into the snapshot. */
  readonly beforeSnapshot?: () => unknown;
  /** Runs after the clients' `afterRestore()`: refresh what the snapshot made stale (credentials, random seeds). */
  readonly afterRestore?: () => unknown;
}

/**
 * Whether the process ran the snapshot lifecycle (`'restored'`: it is now running in a restored execution
 * environment) or was not started for a snapshot (`'not-snap-start'`: nothing was done).
 */
export type SnapStartOutcome = 'restored' | 'not-snap-start';

const API_VERSION = '2018-06-01';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';

/**
 * Runs the SnapStart lifecycle of a container image whose runtime does not (Lambda's Node.js base image, your own
 * runtime interface client): the before-snapshot hooks, then the Runtime API's `GET /runtime/restore/next`, which
 * returns in each restored environment, then the after-restore hooks. Await it as the last step of the handler
 * module's initialization (top-level `await` in an ES module), so that the snapshot holds the initialized module
 * and no open socket. Outside a SnapStart initialization (`AWS_LAMBDA_INITIALIZATION_TYPE` other than
 * `snap-start`: on-demand, provisioned concurrency, local runs) it does nothing.
 *
 * A failing before-snapshot hook is reported to `/runtime/init/error` (`Runtime.BeforeSnapshotError`), a failing
 * after-restore hook to `/runtime/restore/error` (`Runtime.AfterRestoreError`), and the error is thrown again, so
 * that the initialization or the restore fails rather than serving from a half-prepared environment.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-custom.html
 */
export async function coordinateSnapStart(hooks: SnapStartHooks = {}, env: NodeJS.ProcessEnv = process.env): Promise<SnapStartOutcome> {
  if (env.AWS_LAMBDA_INITIALIZATION_TYPE !== 'snap-start') return 'not-snap-start';
  const api = env.AWS_LAMBDA_RUNTIME_API;
  if (!api) {
    throw new ConfigurationError('AWS_LAMBDA_INITIALIZATION_TYPE is snap-start but AWS_LAMBDA_RUNTIME_API is not set: '
      + 'coordinateSnapStart() runs inside a Lambda execution environment only');
  }
  const clients = hooks.clients ?? [];
  await phase(api, 'init/error', 'Runtime.BeforeSnapshotError', async () => {
    for (const client of clients) await client.beforeSnapshot();
    await hooks.beforeSnapshot?.();
  });
  // answered once the environment has been restored from the snapshot (the process is frozen in between)
  const status = await call(api, 'GET', 'restore/next');
  if (status !== 200) throw new Error(`the Runtime API answered ${status} to GET /runtime/restore/next (expected 200)`);
  await phase(api, 'restore/error', 'Runtime.AfterRestoreError', async () => {
    for (const client of clients) await client.afterRestore();
    await hooks.afterRestore?.();
  });
  return 'restored';
}

/** Runs one side's hooks; a failure is reported to the Runtime API at `path`, then thrown again. */
async function phase(api: string, path: string, errorType: string, hooks: () => Promise<void>): Promise<void> {
  try {
    await hooks();
  } catch (error) {
    await report(api, path, errorType, error);
    throw error;
  }
}

async function report(api: string, path: string, errorType: string, error: unknown): Promise<void> {
  const body = JSON.stringify({
    errorMessage: error instanceof Error ? error.message : String(error),
    errorType,
    stackTrace: error instanceof Error && error.stack ? error.stack.split('\n').slice(1).map(line => line.trim()) : [],
  });
  // the error is thrown whatever the Runtime API answers: reporting it is the best that can be done
  await call(api, 'POST', path, body, { [ERROR_TYPE_HEADER]: errorType }).catch(() => undefined);
}

function call(api: string, method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}): Promise<number> {
  // loaded here, not at module load: only a SnapStart initialization calls the Runtime API (a literal require, as
  // the drivers are loaded, so that bundlers resolve it)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http = require('http') as typeof import('http');
  return new Promise((resolve, reject) => {
    const request = http.request(`http://${api}/${API_VERSION}/runtime/${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, response => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(body);
  });
}
