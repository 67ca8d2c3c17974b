/**
 * Learns the APIs of a CDK app from the app itself: synthesizes it the way the CDK CLI does (the `app` command of
 * cdk.json, its context, an output directory), with asset bundling off and the library's local-development
 * metadata on, then reads that metadata from the cloud assembly.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The metadata types and version the construct library writes (src/private/local-development.ts). */
const API_METADATA = 'serverless-sql-api:local-api';
const FUNCTION_METADATA = 'serverless-sql-api:local-function';
const CONTEXT_KEY = 'serverless-sql-api:local-development';
const METADATA_VERSION = 1;
/** aws-cdk-lib's context key naming the stacks whose assets are bundled; none here. */
const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';

export type LocalHandler =
  | {
    readonly kind: 'nodejs';
    readonly entry: string;
    readonly handler: string;
    readonly nodeMajor?: number;
    readonly bundling: {
      readonly externalModules: string[];
      readonly define?: Record<string, string>;
      readonly loader?: Record<string, string>;
      readonly tsconfig?: string;
      readonly format?: string;
      readonly banner?: string;
      readonly footer?: string;
      readonly mainFields?: string[];
    };
  }
  | { readonly kind: 'code' | 'image'; readonly runtime: string };

export interface LocalFunction {
  readonly path: string;
  readonly role: 'api' | 'route' | 'worker';
  readonly api?: string;
  readonly routeKey?: string;
  readonly httpApi?: string;
  readonly workerId?: string;
  readonly source?: 'sqs' | 'kinesis' | 'dynamodb';
  readonly batchSize?: number;
  readonly handler: LocalHandler;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly dbUser: string;
  readonly database: string;
  readonly environment: Record<string, string>;
  readonly deployTimeEnvironment: string[];
  /** The stack (artifact id) the function is in. */
  readonly stack: string;
}

export interface LocalApi {
  readonly path: string;
  readonly stack: string;
  readonly engine: 'postgres' | 'mysql';
  readonly databaseName?: string;
  readonly database: string;
  readonly users: Array<{ name: string; access: 'read-write' | 'read-only' }>;
  readonly migrationsDirectory?: string;
  readonly frontDoor: 'httpApi' | 'functionUrl' | 'none';
  readonly streaming: boolean;
  readonly httpApi?: string;
  /** The API's own function, its routes and its workers (those of its extensions included). */
  readonly functions: LocalFunction[];
}

export class UsageError extends Error {}

export interface SynthOptions {
  /** The CDK app's directory (holding cdk.json). */
  readonly directory: string;
  /** Replaces cdk.json's `app` command. */
  readonly app?: string;
  /** Extra context, as `--context key=value` gives it. */
  readonly context?: Record<string, string>;
  /** Where the synth's output goes (default: a fresh temporary directory). */
  readonly outdir?: string;
}

/** Synthesizes the app and returns every API it holds. */
export async function loadApis(options: SynthOptions): Promise<LocalApi[]> {
  const outdir = options.outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'serverless-sql-api-dev-'));
  await synthesize(options, outdir);
  return readAssembly(outdir);
}

async function synthesize(options: SynthOptions, outdir: string): Promise<void> {
  const cdkJsonPath = path.join(options.directory, 'cdk.json');
  const cdkJson = fs.existsSync(cdkJsonPath) ? JSON.parse(fs.readFileSync(cdkJsonPath, 'utf8')) as { app?: string; context?: object } : {};
  const app = options.app ?? cdkJson.app;
  if (!app) {
    throw new UsageError(`No CDK app in ${options.directory}: run this in the directory of your cdk.json (with its "app" command), or pass --app "<command>".`);
  }
  // the CDK CLI hands the app cdk.json's and cdk.context.json's context the same way
  const contextFile = path.join(options.directory, 'cdk.context.json');
  const context = {
    ...cdkJson.context,
    ...fs.existsSync(contextFile) ? JSON.parse(fs.readFileSync(contextFile, 'utf8')) as object : {},
    ...options.context,
    [BUNDLING_STACKS]: [],
    [CONTEXT_KEY]: true,
  };
  await new Promise<void>((resolve, reject) => {
    const child = spawn(app, {
      cwd: options.directory,
      shell: true,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', chunk => { stderr += chunk; });
    child.on('error', reject);
    child.on('exit', code => {
      if (code === 0) resolve();
      else reject(new UsageError(`The app failed to synthesize (${app} exited with ${code}):\n${stderr.trim()}`));
    });
  });
}

interface Manifest {
  readonly artifacts?: Record<string, {
    readonly type: string;
    readonly properties?: { readonly directoryName?: string };
    readonly metadata?: Record<string, Array<{ type: string; data: unknown }>>;
    readonly additionalMetadataFile?: string;
  }>;
}

/** Reads the APIs from a cloud assembly (and the nested assemblies of its stages). */
export function readAssembly(outdir: string): LocalApi[] {
  const apis: Array<Omit<LocalApi, 'functions'>> = [];
  const functions: LocalFunction[] = [];
  const visit = (directory: string) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(directory, 'manifest.json'), 'utf8')) as Manifest;
    for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
      if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
        visit(path.join(directory, artifact.properties.directoryName));
        continue;
      }
      if (artifact.type !== 'aws:cloudformation:stack') continue;
      const metadata = { ...artifact.metadata };
      if (artifact.additionalMetadataFile) {
        Object.assign(metadata, JSON.parse(fs.readFileSync(path.join(directory, artifact.additionalMetadataFile), 'utf8')));
      }
      for (const entries of Object.values(metadata)) {
        for (const entry of entries) {
          if (entry.type !== API_METADATA && entry.type !== FUNCTION_METADATA) continue;
          const data = entry.data as { version: number };
          if (data.version !== METADATA_VERSION) {
            throw new UsageError(`The app was synthesized by a version of cdk-serverless-sql-api that records local-development metadata `
              + `version ${data.version}, and this command reads version ${METADATA_VERSION}: install the same version of both packages.`);
          }
          if (entry.type === API_METADATA) apis.push({ ...(data as unknown as LocalApi), stack: id });
          else functions.push({ ...(data as unknown as LocalFunction), stack: id });
        }
      }
    }
  };
  visit(outdir);
  return apis.map(api => ({
    ...api,
    functions: functions.filter(fn => fn.api === api.path || (fn.role === 'route' && fn.httpApi !== undefined && fn.httpApi === api.httpApi)
      || (fn.role === 'worker' && fn.database === api.database)),
  }));
}

/** The API `--stack` / `--api` choose, or the only one. */
export function chooseApi(apis: LocalApi[], stack?: string, api?: string): LocalApi {
  const describe = (list: LocalApi[]) => list.map(a => `  ${a.path} (stack ${a.stack})`).join('\n');
  if (apis.length === 0) {
    throw new UsageError('The app has no ServerlessSqlApi (or was synthesized by a version of cdk-serverless-sql-api that records no local-development metadata).');
  }
  const matching = apis.filter(a => (!stack || a.stack === stack) && (!api || a.path === api || a.path.endsWith(`/${api}`)));
  if (matching.length === 1) return matching[0];
  if (matching.length === 0) {
    throw new UsageError(`No API matches${stack ? ` --stack ${stack}` : ''}${api ? ` --api ${api}` : ''}; the app has:\n${describe(apis)}`);
  }
  throw new UsageError(`The app has ${matching.length} APIs; choose one with --stack <stack> or --api <path>:\n${describe(matching)}`);
}
