import * as fs from 'fs';
import * as path from 'path';
import { Annotations, Stack } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { localEsbuildAvailable } from './private/esbuild';
import { LocalHandler } from './private/local-development';
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

  /**
   * A container image built from `directory` (its `Dockerfile`) for the function's architecture: linux/arm64 for
   * the default arm64 function, linux/amd64 for x86_64. SnapStart is allowed (`ColdStart.snapStart()`): the image
   * must then run the snapshot lifecycle itself or declare that it needs none (see the README).
   *
   * @param directory the build context, holding the Dockerfile
   * @param options the image asset's build options; a `platform` other than the function's architecture is refused
   */
  public static fromImageAsset(directory: string, options: lambda.AssetImageCodeProps = {}): ApiHandler {
    return new ImageAssetApiHandler(directory, options);
  }

  /**
   * A container image from elsewhere, for example `lambda.DockerImageCode.fromEcr(repository, { tagOrDigest })`. It
   * must be built for the function's `architecture` (arm64 by default); SnapStart is allowed as for
   * `fromImageAsset()`.
   */
  public static fromImage(code: lambda.DockerImageCode): ApiHandler {
    return new ImageApiHandler(code);
  }

  /** The Lambda runtime of the handler (`FROM_IMAGE` for a container image). */
  public abstract readonly runtime: lambda.Runtime;

  /** Whether the handler can use SnapStart. @internal */
  public get _snapStartSupported(): boolean {
    return this.runtime.supportsSnapStart;
  }

  /** @internal */
  public abstract _createFunction(scope: Construct, id: string, props: HandlerFunctionProps): lambda.Function;

  /** How `serverless-sql-api dev` runs this handler. @internal */
  public _localHandler(_engine: SqlEngineFamily): LocalHandler {
    return { kind: 'code', runtime: this.runtime.name };
  }
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
        externalModules: this.externalModules(engine),
      },
    });
  }

  public _localHandler(engine: SqlEngineFamily): LocalHandler {
    const { bundling = {} } = this.options;
    return {
      kind: 'nodejs',
      entry: path.resolve(this.options.entry),
      handler: this.options.handler ?? 'handler',
      nodeMajor: nodeMajor(this.runtime),
      bundling: {
        externalModules: this.externalModules(engine),
        define: bundling.define,
        loader: bundling.loader,
        tsconfig: bundling.tsconfig ? path.resolve(bundling.tsconfig) : undefined,
        format: bundling.format,
        banner: bundling.banner,
        footer: bundling.footer,
        mainFields: bundling.mainFields ?? ['module', 'main'],
      },
    };
  }

  private externalModules(engine: SqlEngineFamily): string[] {
    const otherDrivers = Object.entries(DRIVER_PACKAGES).filter(([family]) => family !== engine).map(([, driver]) => driver);
    return [...new Set(['pg-native', ...otherDrivers, ...this.options.bundling?.externalModules ?? []])];
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

/**
 * A container image function. aws-cdk-lib refuses `snapStart` for `Runtime.FROM_IMAGE` (its runtime table predates
 * SnapStart for images), so the setting goes on the function resource itself, where CloudFormation takes it.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-custom.html
 */
function imageFunction(scope: Construct, id: string, code: lambda.DockerImageCode, props: HandlerFunctionProps): lambda.Function {
  const { engine: _engine, snapStart, ...functionProps } = props;
  const fn = new lambda.DockerImageFunction(scope, id, { ...functionProps, code });
  if (snapStart) {
    (fn.node.defaultChild as lambda.CfnFunction).snapStart = { applyOn: 'PublishedVersions' };
  }
  return fn;
}

/** A container image handler: runtime `FROM_IMAGE`, which Lambda's SnapStart supports. */
abstract class ImageHandler extends ApiHandler {
  public readonly runtime = lambda.Runtime.FROM_IMAGE;

  public get _snapStartSupported(): boolean {
    return true;
  }

  public _localHandler(): LocalHandler {
    return { kind: 'image', runtime: this.runtime.name };
  }
}

class ImageApiHandler extends ImageHandler {
  constructor(private readonly code: lambda.DockerImageCode) {
    super();
  }

  public _createFunction(scope: Construct, id: string, props: HandlerFunctionProps): lambda.Function {
    return imageFunction(scope, id, this.code, props);
  }
}

/** Lambda's base images that run the snapshot lifecycle themselves (Java 11+, Python 3.12+, .NET 8+). */
const COORDINATING_BASE_IMAGE = /^FROM\s+(--platform=\S+\s+)?public\.ecr\.aws\/lambda\/(java:(1[1-9]|[2-9]\d)|python:3\.(1[2-9]|[2-9]\d)|dotnet:([89]|\d\d))\b/im;
const SNAPSTART_LABEL = 'com.amazonaws.lambda.feature.snapstart';

class ImageAssetApiHandler extends ImageHandler {
  constructor(private readonly directory: string, private readonly options: lambda.AssetImageCodeProps) {
    super();
  }

  public _createFunction(scope: Construct, id: string, props: HandlerFunctionProps): lambda.Function {
    const platform = props.architecture === lambda.Architecture.X86_64 ? ecrAssets.Platform.LINUX_AMD64 : ecrAssets.Platform.LINUX_ARM64;
    if (this.options.platform && this.options.platform.platform !== platform.platform) {
      throw new ConfigurationError(scope, 'handler.platform', this.options.platform.platform,
        `The function runs on ${props.architecture.name}, so its image is built for ${platform.platform}; leave platform unset, `
        + 'or set architecture to match it.');
    }
    const dockerfile = path.join(this.directory, this.options.file ?? 'Dockerfile');
    if (!fs.existsSync(dockerfile)) {
      throw new ConfigurationError(scope, 'handler.directory', this.directory,
        `There is no ${path.basename(dockerfile)} in it; give the directory that holds the image's Dockerfile.`);
    }
    if (props.snapStart) {
      const text = fs.readFileSync(dockerfile, 'utf8');
      if (!text.includes(SNAPSTART_LABEL) && !COORDINATING_BASE_IMAGE.test(text)) {
        Annotations.of(scope).addWarningV2('serverless-sql-api:imageSnapStart',
          `ColdStart.snapStart() is set, but ${dockerfile} neither starts from a Lambda base image that runs the snapshot `
          + `lifecycle (Java 11+, Python 3.12+, .NET 8+) nor carries LABEL ${SNAPSTART_LABEL}="Allow": Lambda fails to `
          + 'publish a version of an image that does not implement the Runtime API\'s /runtime/restore/next either. Add the label '
          + 'when no hook is needed, or run the lifecycle in the handler module with the runtime package\'s '
          + 'coordinateSnapStart() and acknowledge this warning.');
      }
    }
    return imageFunction(scope, id, lambda.DockerImageCode.fromImageAsset(this.directory, { ...this.options, platform }), props);
  }
}
