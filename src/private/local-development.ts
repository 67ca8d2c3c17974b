import { Lazy, Token } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

/**
 * What the `serverless-sql-api dev` command reads from a synthesized app, so that it serves the same handlers,
 * migrations and users as the infrastructure code without a second description of them. Recorded as construct
 * metadata, which the cloud assembly keeps in each stack's `<stack>.metadata.json`; no template changes.
 */
export const LOCAL_API_METADATA = 'serverless-sql-api:local-api';
export const LOCAL_FUNCTION_METADATA = 'serverless-sql-api:local-function';
/**
 * The context key the dev command sets when it synthesizes the app. Without it nothing is recorded: a deployment's
 * cloud assembly holds no paths of the developer's machine, and synth does no extra work.
 */
export const LOCAL_CONTEXT_KEY = 'serverless-sql-api:local-development';
/** The version of the shape below; the dev command refuses one it does not know. */
export const LOCAL_METADATA_VERSION = 1;

/** How a handler can run on a developer's machine. */
export type LocalHandler =
  | {
    readonly kind: 'nodejs';
    /** Absolute path of the entry file. */
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

/** What a SqlFunction knows of itself, for the dev command. */
export interface LocalFunctionSettings {
  readonly handler: LocalHandler;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly dbUser: string;
  readonly environment?: { [key: string]: string };
  /** The node path of the database the function talks to. */
  readonly database: string;
}

export type LocalFunctionRole =
  | { readonly role: 'api'; readonly api: string }
  | { readonly role: 'route'; readonly routeKey: string; readonly httpApi: string }
  | { readonly role: 'worker'; readonly workerId: string; readonly source: string; readonly batchSize?: number };

/** Records one function (the API's, a route's or a worker's) on `scope`. */
export function recordLocalFunction(scope: IConstruct, role: LocalFunctionRole, settings: LocalFunctionSettings): void {
  if (!requested(scope)) return;
  scope.node.addMetadata(LOCAL_FUNCTION_METADATA, Lazy.any({
    produce: () => {
      const environment: Record<string, string> = {};
      const deployTimeEnvironment: string[] = [];
      for (const [name, value] of Object.entries(settings.environment ?? {})) {
        // a token (a queue URL, a table name) has no value before deployment: named, not resolved, so that no
        // reference to another stack is made from here
        if (Token.isUnresolved(value)) deployTimeEnvironment.push(name);
        else environment[name] = value;
      }
      return {
        version: LOCAL_METADATA_VERSION,
        path: scope.node.path,
        ...role,
        handler: settings.handler,
        timeoutSeconds: settings.timeoutSeconds,
        memoryMb: settings.memoryMb,
        dbUser: settings.dbUser,
        database: settings.database,
        environment,
        deployTimeEnvironment,
      };
    },
  }));
}

export interface LocalApiSettings {
  readonly engine: string;
  readonly databaseName: string;
  readonly database: string;
  readonly users: () => Array<{ name: string; access: string }>;
  readonly migrationsDirectory?: string;
  readonly frontDoor: 'httpApi' | 'functionUrl' | 'none';
  readonly streaming?: boolean;
  readonly httpApi?: string;
}

/** Records an API: its database, users, migrations and front door. */
export function recordLocalApi(api: Construct, settings: LocalApiSettings): void {
  if (!requested(api)) return;
  api.node.addMetadata(LOCAL_API_METADATA, Lazy.any({
    produce: () => ({
      version: LOCAL_METADATA_VERSION,
      path: api.node.path,
      engine: settings.engine,
      databaseName: Token.isUnresolved(settings.databaseName) ? undefined : settings.databaseName,
      database: settings.database,
      users: settings.users(),
      migrationsDirectory: settings.migrationsDirectory,
      frontDoor: settings.frontDoor,
      streaming: settings.streaming ?? false,
      httpApi: settings.httpApi,
    }),
  }));
}

function requested(scope: IConstruct): boolean {
  const value: unknown = scope.node.tryGetContext(LOCAL_CONTEXT_KEY);
  return value === true || value === 'true';
}
