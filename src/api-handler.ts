import * as fs from 'fs';
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { localEsbuildAvailable } from './private/esbuild';
import { ConfigurationError } from './private/validation';
import { SqlEngineFamily } from './sql-engine';

/** Options for `ApiHandler.nodejs()`. */
export interface NodejsApiHandlerOptions {
  /** Path to the TypeScript or JavaScript entry file of the handler. */
  readonly entry: string;

  /**
   * The exported handler function's name.
   *
   * @default 'handler'
   */
  readonly handler?: string;

  /**
   * The Node.js runtime.
   *
   * @default lambda.Runtime.NODEJS_24_X
   */
  readonly runtime?: lambda.Runtime;

  /**
   * esbuild options, applied over this library's defaults: minified, tree-shaken, source maps on, targeting the
   * runtime's Node.js version. External by default are only `pg-native` (the optional native binding of `pg`) and
   * the database driver of the other engine (`mysql2` for PostgreSQL, `pg` for MySQL), so a handler bundles with
   * just its own driver installed and never carries the other one. The AWS SDK is bundled only when the handler
   * imports it, at the version the project pins. `externalModules` given here are added to these.
   *
   * Bundling runs locally with the project's esbuild (`npm install --save-dev esbuild`); synth fails when esbuild
   * is missing, unless `forceDockerBundling` is set to bundle in a Docker container on purpose.
   *
   * @default - the defaults above
   */
  readonly bundling?: nodejs.BundlingOptions;

  /**
   * The lock file that marks the project root for bundling.
   *
   * @default - the nearest package-lock.json, yarn.lock, pnpm-lock.yaml or bun.lockb above the entry
   */
  readonly depsLockFilePath?: string;
}

/** Options for `ApiHandler.fromCode()`. */
export interface CodeApiHandlerOptions {
  /** Any Lambda runtime (for example Python 3.13, Java 21 or .NET 8). */
  readonly runtime: lambda.Runtime;

  /** The function's code. */
  readonly code: lambda.Code;

  /** The handler, in the runtime's own notation (for example `app.handler` or `com.example.Handler::handleRequest`). */
  readonly handler: string;
}

/** @internal */
export interface HandlerFunctionProps extends lambda.FunctionOptions {
  readonly architecture: lambda.Architecture;
  /** The engine family of the database the function talks to: decides which driver it bundles. */
  readonly engine: SqlEngineFamily;
}

/** The npm package of each engine's driver, as the runtime package loads it. */
const DRIVER_PACKAGES: Record<SqlEngineFamily, string> = {
  [SqlEngineFamily.POSTGRES]: 'pg',
  [SqlEngineFamily.MYSQL]: 'mysql2',
};

/**
 * The code that answers requests.
 */
export abstract class ApiHandler {
  /**
   * A Node.js handler bundled locally with esbuild (no Docker): add `esbuild` to the project's dev dependencies.
   * The bundle holds the driver of the database's engine only.
   */
  public static nodejs(options: NodejsApiHandlerOptions): ApiHandler {
    return new NodejsApiHandler(options);
  }

  /** A handler in any runtime from prepared code (use this for Python, Java or .NET, for example with SnapStart). */
  public static fromCode(options: CodeApiHandlerOptions): ApiHandler {
    return new CodeApiHandler(options);
  }

  /** The Lambda runtime of the handler. */
  public abstract readonly runtime: lambda.Runtime;

  /** @internal */
  public abstract _createFunction(scope: Construct, id: string, props: HandlerFunctionProps): lambda.Function;
}

const MINIMUM_NODE_MAJOR = 20;

class NodejsApiHandler extends ApiHandler {
  public readonly runtime: lambda.Runtime;

  constructor(private readonly options: NodejsApiHandlerOptions) {
    super();
    this.runtime = options.runtime ?? lambda.Runtime.NODEJS_24_X;
  }

  public _createFunction(scope: Construct, id: string, props: HandlerFunctionProps): lambda.Function {
    const { entry, bundling = {} } = this.options;
    const { engine, ...functionProps } = props;
    if (this.runtime.family !== lambda.RuntimeFamily.NODEJS) {
      throw new ConfigurationError(scope, 'handler.runtime', this.runtime.name,
        'ApiHandler.nodejs() takes a Node.js runtime; use ApiHandler.fromCode() for other runtimes.');
    }
    const major = nodeMajor(this.runtime);
    if (major !== undefined && major < MINIMUM_NODE_MAJOR) {
      throw new ConfigurationError(scope, 'handler.runtime', this.runtime.name,
        'Lambda no longer creates functions on this runtime; use lambda.Runtime.NODEJS_24_X or newer.');
    }
    if (!fs.existsSync(entry)) {
      throw new ConfigurationError(scope, 'handler.entry', entry,
        `No such file (resolved from ${process.cwd()}); give the path of the handler's .ts or .js file.`);
    }
    // Without a local esbuild, aws-cdk-lib would quietly bundle in Docker, and fail only where no daemon runs.
    if (!bundling.forceDockerBundling && Stack.of(scope).bundlingRequired && !localEsbuildAvailable()) {
      throw new ConfigurationError(scope, 'handler', 'ApiHandler.nodejs() without esbuild',
        'esbuild is not installed in this project, so aws-cdk-lib would bundle in a Docker container: '
        + 'npm install --save-dev esbuild (or set bundling: { forceDockerBundling: true } to bundle in Docker on purpose).');
    }
    const otherDrivers = Object.entries(DRIVER_PACKAGES).filter(([family]) => family !== engine).map(([, driver]) => driver);
    return new nodejs.NodejsFunction(scope, id, {
      ...functionProps,
      entry,
      handler: this.options.handler ?? 'handler',
      runtime: this.runtime,
      depsLockFilePath: this.options.depsLockFilePath,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        minify: true,
        sourceMap: true,
        target: major ? `node${major}` : undefined,
        mainFields: ['module', 'main'],
        ...bundling,
        externalModules: [...new Set(['pg-native', ...otherDrivers, ...bundling.externalModules ?? []])],
      },
    });
  }
}

class CodeApiHandler extends ApiHandler {
  public readonly runtime: lambda.Runtime;

  constructor(private readonly options: CodeApiHandlerOptions) {
    super();
    this.runtime = options.runtime;
  }

  public _createFunction(scope: Construct, id: string, props: HandlerFunctionProps): lambda.Function {
    if (!this.options.handler.trim()) {
      throw new ConfigurationError(scope, 'handler.handler', this.options.handler,
        'Name the handler in the runtime\'s notation, for example "app.handler".');
    }
    const { engine: _engine, ...functionProps } = props;
    return new lambda.Function(scope, id, {
      ...functionProps,
      runtime: this.runtime,
      code: this.options.code,
      handler: this.options.handler,
    });
  }
}

function nodeMajor(runtime: lambda.Runtime): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(runtime.name);
  return match ? Number(match[1]) : undefined;
}
