import * as fs from 'fs';
import { Annotations, Duration, Size, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ApiHandler } from './api-handler';
import { AsyncInvokeOptions } from './async-invoke';
import { ColdStart } from './cold-start';
import { Deployment } from './deployment';
import { preTrafficHookAsset } from './private/assets';
import { configureAsyncInvoke } from './private/async-invoke-config';
import { acknowledge, rule } from './private/compliance';
import { vpcExecutionRole } from './private/execution-role';
import { isOncePerDeployment, isSynchronousOnly, markOncePerDeployment } from './private/invocation-mode';
import { LocalFunctionSettings } from './private/local-development';
import { encryptedLogGroup } from './private/log-group';
import { DEFAULT_DB_USER, validateDbUser } from './private/names';
import { checkDurationSeconds, checkInteger, checkPattern, checkRange, ConfigurationError } from './private/validation';
import { ISqlDatabase, SqlDatabase } from './sql-database';

/** The namespace the runtime package's `emitMetrics()` writes to by default. */
const RUNTIME_METRICS_NAMESPACE = 'ServerlessSqlApi';

/** Settings of a function that talks to the database, apart from its code (see `SqlFunctionOptions`). */
export interface SqlFunctionSettings {
  /**
   * The database user the function connects as, with an IAM token. Never the admin user.
   *
   * @default 'app_user'
   */
  readonly dbUser?: string;

  /**
   * The name of the alias every invoker targets. It always points at the newest published version.
   *
   * @default 'live'
   */
  readonly aliasName?: string;

  /**
   * Memory in MiB, from 128 to 10,240. CPU scales with it.
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * The maximum run time of one invocation, from 1 second to 15 minutes.
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;

  /**
   * The instruction set.
   *
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;

  /**
   * Extra environment variables. Names starting with `SQL_` are reserved for the connection contract, and no
   * secret belongs here: the function authenticates with IAM.
   *
   * @default - only the SQL_* contract
   */
  readonly environment?: { [key: string]: string };

  /**
   * How long the function's logs are kept. They are encrypted with the database's `encryptionKey`.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * X-Ray tracing.
   *
   * @default lambda.Tracing.ACTIVE
   */
  readonly tracing?: lambda.Tracing;

  /**
   * The most concurrent executions this function may use (reserved from the account's pool).
   *
   * @default - no reservation: the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * A description of the function.
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * The size of the function's /tmp directory, from 512 MiB to 10,240 MiB (at most 512 MiB with SnapStart).
   *
   * @default Size.mebibytes(512)
   */
  readonly ephemeralStorageSize?: Size;

  /**
   * How the function meets cold starts.
   *
   * @default ColdStart.onDemand()
   */
  readonly coldStart?: ColdStart;

  /**
   * How a new version receives traffic.
   *
   * @default Deployment.allAtOnce()
   */
  readonly deployment?: Deployment;

  /**
   * Destinations, retries and event age of asynchronous invocations, on the alias.
   *
   * @default - failed asynchronous events go to a new encrypted SQS queue kept 14 days; 2 retries; 6 hours
   */
  readonly destinations?: AsyncInvokeOptions;
}

/** Settings of a function that talks to the database (see `SqlFunction`). */
export interface SqlFunctionOptions extends SqlFunctionSettings {
  /** The code that answers requests. */
  readonly handler: ApiHandler;
}

/** Properties of a `SqlFunction`. */
export interface SqlFunctionProps extends SqlFunctionOptions {
  /** The database to connect to through its proxy. */
  readonly database: ISqlDatabase;
}

/** Names of the environment variables of the connection contract with the runtime package. */
const SQL_ENVIRONMENT_PREFIX = 'SQL_';

const ALIAS_NAME = /^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$/;

/**
 * A Lambda function in the database's VPC that reaches the database through RDS Proxy with an IAM token as one
 * named database user, and is invoked only through an alias on its newest published version.
 *
 * It sets `SQL_ENGINE`, `SQL_HOST`, `SQL_PORT`, `SQL_DATABASE`, `SQL_USER`, `SQL_AUTH` (always `iam`) and
 * `SQL_PROXY_IDLE_TIMEOUT` (seconds) for the runtime package, and no secret.
 */
export class SqlFunction extends Construct implements ec2.IConnectable, iam.IGrantable {
  /** The function. Invoke it only through `alias`. */
  public readonly function: lambda.Function;

  /** The alias that every invoker targets. */
  public readonly alias: lambda.Alias;

  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;

  /** The database user the function connects as. */
  public readonly dbUser: string;

  /** The function's network access (its security group). */
  public readonly connections: ec2.Connections;

  /** The principal the function runs as. */
  public readonly grantPrincipal: iam.IPrincipal;

  /**
   * The queue that keeps failed asynchronous events, unless `destinations.onFailure` names another target; none for a
   * worker without `destinations` (its pipe invokes it synchronously).
   */
  public readonly deadLetterQueue?: sqs.Queue;

  /** The CodeDeploy deployment group of a canary or linear deployment. */
  public readonly deploymentGroup?: codedeploy.LambdaDeploymentGroup;

  /** Whether the alias has provisioned concurrency. @internal */
  public readonly _provisioned: boolean;

  /** What `serverless-sql-api dev` needs to run this function. @internal */
  public readonly _local: LocalFunctionSettings;

  constructor(scope: Construct, id: string, props: SqlFunctionProps) {
    super(scope, id);

    const aliasName = props.aliasName ?? 'live';
    checkPattern(this, 'aliasName', aliasName, ALIAS_NAME,
      'Use 1–128 letters, digits, "-" or "_", not only digits (for example "live"); "$LATEST" is never served.');
    this.dbUser = props.dbUser ?? DEFAULT_DB_USER;
    validateDbUser(this, 'dbUser', this.dbUser, props.database.engineFamily);
    checkInteger(this, 'memorySize', props.memorySize);
    checkRange(this, 'memorySize', props.memorySize, 128, 10240, ' MiB');
    checkDurationSeconds(this, 'timeout', props.timeout, 1, 900);
    checkInteger(this, 'reservedConcurrentExecutions', props.reservedConcurrentExecutions);
    checkRange(this, 'reservedConcurrentExecutions', props.reservedConcurrentExecutions, 0, 1_000_000);
    if (props.reservedConcurrentExecutions === 0) {
      // https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html: zero throttles every invocation
      throw new ConfigurationError(this, 'reservedConcurrentExecutions', 0,
        'Zero reserved concurrency throttles every invocation, so this function would serve nothing; give at least 1, or leave it unset.');
    }
    const contractNames = Object.keys(props.environment ?? {}).filter(key => key.toUpperCase().startsWith(SQL_ENVIRONMENT_PREFIX));
    if (contractNames.length > 0) {
      throw new ConfigurationError(this, 'environment', contractNames.join(', '),
        'Names starting with SQL_ carry the connection contract and are set by this construct; rename these variables.');
    }

    const coldStart = props.coldStart ?? ColdStart.onDemand();
    coldStart._validate(this, {
      runtime: props.handler.runtime,
      snapStartSupported: props.handler._snapStartSupported,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      ephemeralStorageSize: props.ephemeralStorageSize,
    });
    if (props.ephemeralStorageSize && !Token.isUnresolved(props.ephemeralStorageSize.toMebibytes())) {
      checkRange(this, 'ephemeralStorageSize', props.ephemeralStorageSize.toMebibytes(), 512, 10240, ' MiB');
    }

    const { database } = props;
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: database.vpc,
      description: 'Function: egress only to the RDS Proxy on the engine port',
      allowAllOutbound: false,
    });
    this.logGroup = encryptedLogGroup(this, 'LogGroup', database.encryptionKey, props.logRetention);

    const executionRole = vpcExecutionRole(this, this.logGroup, props.tracing ?? lambda.Tracing.ACTIVE);

    const timeout = props.timeout ?? Duration.seconds(10);
    this._local = {
      handler: props.handler._localHandler(database.engineFamily),
      timeoutSeconds: timeout.toSeconds(),
      memoryMb: props.memorySize ?? 512,
      dbUser: this.dbUser,
      environment: props.environment,
      database: Construct.isConstruct(database) ? database.node.path : '',
    };
    if (database instanceof SqlDatabase) database._addFunctionTimeout(timeout);
    const idleSeconds = database.idleClientTimeout.toSeconds();
    this.function = props.handler._createFunction(this, 'Function', {
      role: executionRole.role,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      engine: database.engineFamily,
      memorySize: props.memorySize ?? 512,
      timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      description: props.description,
      ephemeralStorageSize: props.ephemeralStorageSize,
      snapStart: coldStart._snapStart(),
      logGroup: this.logGroup,
      vpc: database.vpc,
      vpcSubnets: database.vpcSubnets,
      securityGroups: [securityGroup],
      environment: {
        ...props.environment,
        SQL_ENGINE: database.engineFamily,
        SQL_HOST: database.proxyEndpoint,
        SQL_PORT: String(database.port),
        SQL_DATABASE: database.databaseName,
        SQL_USER: this.dbUser,
        SQL_AUTH: 'iam',
        SQL_PROXY_IDLE_TIMEOUT: Token.isUnresolved(idleSeconds) ? Token.asString(idleSeconds) : String(idleSeconds),
      },
    });
    executionRole.configureTracing(this.function);
    if (coldStart._snapStart()) {
      // aws-cdk-lib warns on every SnapStart function in case no version is published; this one is served only through
      // the alias on its current version, which publishes one for every change
      Annotations.of(this.function).acknowledgeWarning('@aws-cdk/aws-lambda:snapStartRequirePublish',
        'The alias serves the function\'s current version, published for every change of code or configuration.');
    }
    acknowledge(this.function, rule('LambdaDLQ', 'serverless', 'hipaa', 'nist'),
      'Failed asynchronous invocations go to the on-failure destination configured on the alias (by default an '
      + 'encrypted SQS queue kept 14 days), which keeps each event with its error; a DeadLetterConfig on the function '
      + 'would deliver every failed event a second time.');
    if (props.reservedConcurrentExecutions === undefined) {
      acknowledge(this.function, rule('LambdaConcurrency', 'hipaa', 'nist'),
        'Reserved concurrency is taken from the account\'s pool, and Lambda refuses it where less than 100 would stay '
        + 'unreserved; set reservedConcurrentExecutions to cap this function. The proxy bounds the load on the database '
        + 'either way (maxConnectionsPercent, borrowTimeout).');
    }
    this.alias = new lambda.Alias(this, 'Alias', {
      aliasName,
      version: this.function.currentVersion,
      provisionedConcurrentExecutions: coldStart._provisionedConcurrency(),
    });
    coldStart._bindAlias(this, this.alias);
    this._provisioned = coldStart._provisionedConcurrency() !== undefined;
    // a worker's pipe invokes it synchronously: asynchronous settings would never apply, so they are made only on request
    if (props.destinations || !isSynchronousOnly(scope)) {
      this.deadLetterQueue = configureAsyncInvoke(this, this.alias, props.destinations ?? {});
    }
    this.connections = this.function.connections;
    this.grantPrincipal = this.function.grantPrincipal;

    // from the function's side: both rules land in the function's stack, which may be another stack than the proxy's
    this.function.connections.allowToDefaultPort(database, 'Function to RDS Proxy');
    database.grantConnect(this.function, this.dbUser);

    this.countConnections(database, scope, props.reservedConcurrentExecutions, coldStart.maxProvisioned);
    this.deploymentGroup = (props.deployment ?? Deployment.allAtOnce())._bind(this, {
      alias: this.alias,
      version: this.function.currentVersion,
      provisioned: coldStart._provisionedConcurrency() !== undefined,
      vpc: database.vpc,
      vpcSubnets: database.vpcSubnets,
      createHook: hookScope => {
        markOncePerDeployment(hookScope);
        const hookAsset = preTrafficHookAsset(database.engineFamily);
        if (!fs.existsSync(hookAsset)) {
          throw new ConfigurationError(hookScope, 'deployment.preTrafficCheck', 'hook code missing',
            `The pre-traffic hook's bundle is not at ${hookAsset}; run \`npx projen bundle:handlers\` (a packaged release ships it).`);
        }
        const hook = new SqlFunction(hookScope, 'PreTrafficHook', {
          handler: ApiHandler.fromCode({
            runtime: lambda.Runtime.NODEJS_24_X,
            code: lambda.Code.fromAsset(hookAsset),
            handler: 'index.handler',
          }),
          database,
          dbUser: this.dbUser,
          memorySize: 256,
          timeout: Duration.seconds(60),
          logRetention: props.logRetention,
          description: `Pre-traffic check of ${this.node.path}: connects through RDS Proxy as ${this.dbUser}`,
        });
        return { alias: hook.alias, connections: hook.connections };
      },
    });

    // aws-cdk-lib cannot tell that SnapStart and provisioned concurrency exclude each other; escape hatches could
    // still combine them.
    this.node.addValidation({
      validate: () => {
        const fn = this.function.node.defaultChild as lambda.CfnFunction;
        const alias = this.alias.node.defaultChild as lambda.CfnAlias;
        const snapStart = (fn.snapStart as lambda.CfnFunction.SnapStartProperty | undefined)?.applyOn === 'PublishedVersions';
        return snapStart && alias.provisionedConcurrencyConfig
          ? ['SnapStart and provisioned concurrency cannot be combined on one function: choose ColdStart.snapStart() or ColdStart.provisioned()']
          : [];
      },
    });
  }

  /**
   * A Lambda metric of the alias (dimensions `FunctionName` and `Resource` `name:alias`): what the invokers of the
   * alias see, across the versions it points at.
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metric(metricName, props);
  }

  /** Invocations of the alias. @default - Sum over 5 minutes */
  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricInvocations(props);
  }

  /** Invocations of the alias that ended in an error. @default - Sum over 5 minutes */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricErrors(props);
  }

  /** Invocations of the alias refused for lack of concurrency. @default - Sum over 5 minutes */
  public metricThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricThrottles(props);
  }

  /** How long invocations of the alias run, in milliseconds. @default - Average over 5 minutes */
  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricDuration(props);
  }

  /** Concurrent executions of the alias. @default - Maximum over 5 minutes */
  public metricConcurrentExecutions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ConcurrentExecutions', { statistic: 'Maximum', ...props });
  }

  /**
   * The share of the alias's provisioned concurrency in use, from 0 to 1 (with `ColdStart.provisioned()`).
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-concurrency.html#provisioned-concurrency-metrics
   * @default - Maximum over 5 minutes
   */
  public metricProvisionedConcurrencyUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ProvisionedConcurrencyUtilization', { statistic: 'Maximum', ...props });
  }

  /**
   * Invocations of the alias that found every provisioned environment busy and ran on demand, with a cold start
   * (with `ColdStart.provisioned()`).
   *
   * @default - Sum over 5 minutes
   */
  public metricProvisionedConcurrencySpilloverInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ProvisionedConcurrencySpilloverInvocations', { statistic: 'Sum', ...props });
  }

  /**
   * A metric the runtime package's `db.emitMetrics()` writes from this function's invocations, in the namespace
   * `ServerlessSqlApi` under the dimension `FunctionName` (the function's name): `ColdStart`, `ConnectionsOpened`,
   * `ConnectionsReused`, `ConnectionsEvicted`, `StatementRetries`, `ConnectRetries`, `AuthRefreshes`,
   * `TransactionRetries`, `Timeouts` (counts), `SigningTime`, `ConnectTime`, `WaitTime` (milliseconds). It has data
   * only if the handler calls `emitMetrics()` with the default namespace and dimensions.
   *
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
   * @default - Sum over 5 minutes
   */
  public metricRuntime(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: RUNTIME_METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { FunctionName: this.function.functionName },
      statistic: 'Sum',
      ...props,
    });
  }

  /**
   * Tells the database how many connections this function can hold at once: one per concurrent execution, up to its
   * reserved concurrency, its provisioned maximum, or one for a pre-traffic hook. The database sums them.
   */
  private countConnections(database: ISqlDatabase, scope: Construct, reserved: number | undefined, provisioned: number | undefined) {
    const [concurrency, basis] = reserved !== undefined ? [reserved, 'reserved']
      : provisioned !== undefined ? [provisioned, 'provisioned']
        : isOncePerDeployment(scope) ? [1, 'once per deployment'] : [undefined, 'no cap'];
    if (concurrency !== undefined && Token.isUnresolved(concurrency)) return;
    if (database instanceof SqlDatabase) {
      database._countConnections({ path: this.node.path, concurrency, basis });
      return;
    }
    const budget = database.connectionBudget;
    if (budget === undefined || concurrency === undefined || concurrency <= budget) return;
    Annotations.of(this).addWarningV2('serverless-sql-api:connectionBudget',
      `up to ${concurrency} concurrent executions (${basis}) can each hold a proxy client connection, but the proxy `
      + `may open at most ${budget} database connections. Concurrent transactions beyond ${budget} wait up to the `
      + 'borrow timeout: size the database up, raise maxConnectionsPercent, or lower the concurrency.');
  }

}
