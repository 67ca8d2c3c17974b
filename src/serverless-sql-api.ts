import { Annotations, ArnFormat, CfnOutput, Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ApiHandler } from './api-handler';
import { ApiRoute, ApiRouteOptions } from './api-route';
import { FrontDoor } from './front-door';
import { MonitoringOptions } from './monitoring';
import { setAlarmActions } from './private/alarm-actions';
import { ApiMonitoring } from './private/api-monitoring';
import { acknowledgeInlinePolicies } from './private/compliance';
import { findLatestInvocations } from './private/latest-guard';
import { recordLocalApi, recordLocalFunction } from './private/local-development';
import { encryptedLogGroup } from './private/log-group';
import { DEFAULT_DB_USER, validateDbUser } from './private/names';
import { parseRouteKey, routeId } from './private/route-key';
import { confinedServicePrincipal } from './private/service-principal';
import { ConfigurationError } from './private/validation';
import { DatabaseAccess, DatabaseUserOptions, SqlDatabase, SqlDatabaseOptions } from './sql-database';
import { SqlFunction, SqlFunctionOptions } from './sql-function';
import { SqlWorker, SqlWorkerOptions } from './sql-worker';

/** Properties of a `ServerlessSqlApi`. */
export interface ServerlessSqlApiProps extends SqlFunctionOptions, SqlDatabaseOptions {
  /**
   * The VPC for the functions, the proxy and the database.
   *
   * @default - a new VPC over 2 Availability Zones with isolated subnets only and no NAT gateway
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Record the traffic of the VPC this construct creates in VPC flow logs: all traffic, to a CloudWatch log group
   * kept one year and encrypted with the database's `encryptionKey`. An imported `vpc` is left as it is.
   *
   * @default true
   */
  readonly vpcFlowLogs?: boolean;

  /**
   * How clients reach the API.
   *
   * @default FrontDoor.httpApi()
   */
  readonly frontDoor?: FrontDoor;

  /**
   * Alarms and a dashboard over the whole path: front door, function, proxy, database, workers and dead-letter
   * queues.
   *
   * @default - the default alarms (without actions) and a dashboard
   */
  readonly monitoring?: MonitoringOptions;
}

/**
 * A serverless SQL API: a Lambda function in a VPC, served only through an alias on its newest published version,
 * that reaches a PostgreSQL or MySQL database (RDS instance or Aurora Serverless v2) through RDS Proxy with IAM
 * authentication and TLS, behind an HTTP API or a function URL.
 *
 * @example
 * new ServerlessSqlApi(this, 'Api', {
 *   handler: ApiHandler.nodejs({ entry: 'src/api.ts' }),
 * });
 */
export class ServerlessSqlApi extends Construct implements ec2.IConnectable, iam.IGrantable {
  /** The VPC of the function, the proxy and the database. */
  public readonly vpc: ec2.IVpc;

  /** The database behind its proxy. */
  public readonly database: SqlDatabase;

  /** The RDS Proxy that functions connect to. */
  public readonly proxy: rds.DatabaseProxy;

  /** The API function. Invoke it only through `alias`. */
  public readonly function: lambda.Function;

  /** The alias every front door, permission and integration targets. */
  public readonly alias: lambda.Alias;

  /** The database user the API function connects as. */
  public readonly dbUser: string;

  /** The API's URL; undefined with `FrontDoor.none()`. */
  public readonly url?: string;

  /** The HTTP API, with `FrontDoor.httpApi()` (the default). */
  public readonly httpApi?: apigwv2.HttpApi;

  /** The function URL, with `FrontDoor.functionUrl()`. */
  public readonly functionUrl?: lambda.FunctionUrl;

  /** The queue that keeps failed asynchronous events, unless `destinations.onFailure` names another target. */
  public readonly deadLetterQueue?: sqs.Queue;

  /** The CodeDeploy deployment group, with `Deployment.canary()` or `Deployment.linear()`. */
  public readonly deploymentGroup?: codedeploy.LambdaDeploymentGroup;

  /** The network access of the API function (its security group). */
  public readonly connections: ec2.Connections;

  /** The principal the API function runs as. */
  public readonly grantPrincipal: iam.IPrincipal;

  /** The API's CloudWatch dashboard, unless `monitoring.dashboard` is false. */
  public readonly dashboard?: cloudwatch.Dashboard;

  private readonly grantInvokeThroughFrontDoor: (grantee: iam.IGrantable) => iam.Grant;
  private readonly frontDoorDescription: string;
  private readonly addedRoutes: ApiRoute[] = [];
  private readonly handler: SqlFunction;
  private readonly monitoring: ApiMonitoring;

  constructor(scope: Construct, id: string, props: ServerlessSqlApiProps) {
    super(scope, id);
    // every alarm created under this construct, here or in a later addWorker, gets these actions
    setAlarmActions(this, props.monitoring?.alarmActions ?? []);

    const createdVpc = props.vpc ? undefined : new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      restrictDefaultSecurityGroup: true,
    });
    this.vpc = props.vpc ?? createdVpc!;

    this.database = new SqlDatabase(this, 'Database', { ...props, vpc: this.vpc });
    this.proxy = this.database.proxy;
    if (createdVpc && (props.vpcFlowLogs ?? true)) {
      // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html: the flow logs service assumes the
      // role for a flow log of this account, arn:…:ec2:REGION:ACCOUNT:vpc-flow-log/ID
      const flowLogRole = new iam.Role(createdVpc, 'FlowLogRole', {
        assumedBy: confinedServicePrincipal(this, 'vpc-flow-logs.amazonaws.com',
          { service: 'ec2', resource: 'vpc-flow-log', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
        description: `VPC flow logs of ${createdVpc.node.path} to CloudWatch Logs`,
      });
      const flowLog = createdVpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(encryptedLogGroup(createdVpc, 'FlowLogs', this.database.encryptionKey), flowLogRole),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
      acknowledgeInlinePolicies(flowLog.iamRole!);
    }

    // the bootstrap creates the user before anything is granted to connect as it
    const dbUser = props.dbUser ?? DEFAULT_DB_USER;
    validateDbUser(this, 'dbUser', dbUser, this.database.engineFamily);
    this.database.addUser(dbUser, { access: DatabaseAccess.READ_WRITE });
    const handler = new SqlFunction(this, 'Handler', { ...props, dbUser, database: this.database });
    this.handler = handler;
    this.function = handler.function;
    this.alias = handler.alias;
    // users and migrations are in place before the alias (and so the front door) moves to a new version
    handler.alias.node.addDependency(this.database.bootstrap);
    this.dbUser = handler.dbUser;
    this.deploymentGroup = handler.deploymentGroup;
    this.deadLetterQueue = handler.deadLetterQueue;
    this.connections = handler.connections;
    this.grantPrincipal = handler.grantPrincipal;

    const frontDoor = (props.frontDoor ?? FrontDoor.httpApi())._bind(this, {
      alias: this.alias,
      runtime: props.handler.runtime,
      timeout: this.function.timeout ?? Duration.seconds(3),
      encryptionKey: this.database.encryptionKey,
    });
    this.url = frontDoor.url;
    this.httpApi = frontDoor.httpApi;
    this.functionUrl = frontDoor.functionUrl;
    this.grantInvokeThroughFrontDoor = frontDoor.grantInvoke;
    this.frontDoorDescription = frontDoor.description;
    recordLocalApi(this, {
      engine: this.database.engineFamily,
      databaseName: this.database.databaseName,
      database: this.database.node.path,
      users: () => this.database._users(),
      migrationsDirectory: this.database._migrations?.directory,
      frontDoor: this.httpApi ? 'httpApi' : this.functionUrl ? 'functionUrl' : 'none',
      streaming: frontDoor.streaming,
      httpApi: this.httpApi?.node.path,
    });
    recordLocalFunction(this, { role: 'api', api: this.node.path }, handler._local);
    if (props.destinations && this.url) {
      Annotations.of(this).addWarningV2('serverless-sql-api:syncOnlyDestinations',
        'destinations are set, but they apply to asynchronous invocations only, and the front door invokes the alias '
        + 'synchronously: they take effect only for events you send asynchronously (S3, SNS, EventBridge, InvokeType Event).');
    }
    if (this.url) {
      new CfnOutput(this, 'Url', { value: this.url, description: 'The URL of the API' });
    }

    this.monitoring = new ApiMonitoring(this, 'Monitoring', props.monitoring ?? {}, `Serverless SQL API ${this.node.path}`);
    this.dashboard = this.monitoring.dashboard;
    if (this.httpApi) this.monitoring.watchHttpApi(this.httpApi);
    if (this.functionUrl) this.monitoring.watchFunctionUrl(handler);
    this.monitoring.watchFunction('Api', handler, 'API function', { errorRate: true });
    this.monitoring.watchDatabase(this.database);

    // Nothing in the stack may invoke one of this construct's functions as $LATEST, whatever is added later (rules,
    // subscriptions, notifications, routes, escape hatches).
    this.node.addValidation({ validate: () => findLatestInvocations(this) });
  }

  /**
   * Every alarm this library created for the API: the default alarms (unless `monitoring.alarms` is false), those
   * of the workers added so far, and a gradual deployment's rollback alarms.
   */
  public get alarms(): cloudwatch.Alarm[] {
    return [...this.monitoring.alarms];
  }

  /** A metric the runtime package's `db.emitMetrics()` writes from the API function (see `SqlFunction.metricRuntime`). */
  public metricRuntime(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricRuntime(metricName, props);
  }

  /** A Lambda metric of the API function's alias. */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metric(metricName, props);
  }

  /** Invocations of the API function's alias. @default - Sum over 5 minutes */
  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricInvocations(props);
  }

  /** Invocations of the API function's alias that ended in an error. @default - Sum over 5 minutes */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricErrors(props);
  }

  /** Invocations of the API function's alias refused for lack of concurrency. @default - Sum over 5 minutes */
  public metricThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricThrottles(props);
  }

  /** How long invocations of the API function's alias run, in milliseconds. @default - Average over 5 minutes */
  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricDuration(props);
  }

  /** Concurrent executions of the API function's alias. @default - Maximum over 5 minutes */
  public metricConcurrentExecutions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricConcurrentExecutions(props);
  }

  /** The share of provisioned concurrency in use, 0 to 1 (with `ColdStart.provisioned()`). @default - Maximum over 5 minutes */
  public metricProvisionedConcurrencyUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricProvisionedConcurrencyUtilization(props);
  }

  /** Invocations that found every provisioned environment busy (with `ColdStart.provisioned()`). @default - Sum over 5 minutes */
  public metricProvisionedConcurrencySpilloverInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricProvisionedConcurrencySpilloverInvocations(props);
  }

  /**
   * Allow `grantee` to call the API through its front door: `execute-api:Invoke` on every method and path of the HTTP
   * API's `$default` stage, routes added with `addRoute()` included (checked by the default IAM authorization), `lambda:InvokeFunctionUrl` on a function URL, or
   * `lambda:InvokeFunction` on the alias with `FrontDoor.none()`.
   *
   * @param grantee who may call the API
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.grantInvokeThroughFrontDoor(grantee);
  }

  /**
   * Allow `grantee` to connect through the proxy as `dbUser` with an IAM token. The grantee also needs a network
   * path: `api.database.connections.allowDefaultPortFrom(grantee)`.
   *
   * @param grantee who may connect
   * @param dbUser the database user; defaults to the API's `dbUser`
   */
  public grantConnect(grantee: iam.IGrantable, dbUser?: string): iam.Grant {
    return this.database.grantConnect(grantee, dbUser ?? this.dbUser);
  }

  /** The routes added with `addRoute()`, here or on an `ApiExtension` of this API, each with its own function. */
  public get routes(): ApiRoute[] {
    return [...this.addedRoutes];
  }

  /**
   * Give a route of the HTTP API its own function (for example a heavy route that needs more memory, another
   * cold-start choice or its own deployment): another `SqlFunction` in the same VPC with the same database path,
   * its own versions, alias and alarms, going live after the database bootstrap like the API. Requests no route
   * matches still reach the API's own handler (`$default`). `grantInvoke` covers every route.
   *
   * @param routeKey an HTTP method (or `ANY`), one space and a path: `POST /todos`, `GET /todos/{id}`, `ANY /files/{proxy+}`
   * @param handler the code that answers the route
   * @param options the route function's settings (each defaults as for the API's function; `dbUser` defaults to the
   *   API's) and the route's authorizer
   */
  public addRoute(routeKey: string, handler: ApiHandler, options: ApiRouteOptions = {}): ApiRoute {
    return this._addRouteIn(this, this.monitoring, routeKey, handler, options);
  }

  /**
   * Creates a route under `scope` (this API, or an `ApiExtension` in another stack) and watches it with `monitoring`.
   * Route keys are unique across the HTTP API, wherever their functions are.
   *
   * @internal
   */
  public _addRouteIn(scope: Construct, monitoring: ApiMonitoring, routeKey: string, handler: ApiHandler, options: ApiRouteOptions): ApiRoute {
    if (!this.httpApi) {
      throw new ConfigurationError(scope, 'frontDoor', this.frontDoorDescription,
        `Only an HTTP API routes requests by method and path; ${this.frontDoorDescription} sends every request to the `
        + `API's own handler, so '${routeKey}' cannot have a function of its own. Use FrontDoor.httpApi() (the default), `
        + 'or route inside the handler.');
    }
    const parsed = parseRouteKey(scope, routeKey);
    const id = `Route${routeId(parsed)}`;
    const taken = this.addedRoutes.find(route => route.routeKey === parsed.key || (route.node.scope === scope && route.node.id === id));
    if (taken) {
      throw new ConfigurationError(scope, 'routeKey', routeKey, taken.routeKey === parsed.key
        ? `The route ${parsed.key} was added already (at ${taken.node.path}); one route key has one function.`
        : `It would share the construct id '${id}' with the route ${taken.routeKey} (ids keep letters and digits of the `
          + 'path); spell one of the paths differently.');
    }
    if (scope.node.tryFindChild(id)) {
      throw new ConfigurationError(scope, 'routeKey', routeKey, `The id '${id}' is taken by another child of ${scope.node.path} (a worker?); rename it.`);
    }
    const dbUser = this.userFor(scope, `${parsed.key}.dbUser`, options.dbUser);
    const route = new ApiRoute(scope, id, { ...options, dbUser, routeKey: parsed.key, handler, httpApi: this.httpApi, database: this.database });
    route.alias.node.addDependency(this.database.bootstrap);
    this.addedRoutes.push(route);
    monitoring.watchFunction(id, route.handler, `Route ${parsed.key}`, { errorRate: true });
    return route;
  }

  /**
   * Add a worker: another function (its own versions and alias, in the same VPC with the same database path) fed
   * by an EventBridge Pipe from an SQS queue, a Kinesis stream or a DynamoDB stream, whose target is the worker's
   * alias. It goes live after the database bootstrap, like the API.
   */
  public addWorker(id: string, options: SqlWorkerOptions): SqlWorker {
    return this._addWorkerIn(this, this.monitoring, id, options);
  }

  /**
   * Creates a worker under `scope` (this API, or an `ApiExtension` in another stack) and watches it with `monitoring`.
   *
   * @internal
   */
  public _addWorkerIn(scope: Construct, monitoring: ApiMonitoring, id: string, options: SqlWorkerOptions): SqlWorker {
    const dbUser = this.userFor(scope, `${id}.dbUser`, options.dbUser);
    const worker = new SqlWorker(scope, id, { ...options, dbUser, database: this.database });
    worker.alias.node.addDependency(this.database.bootstrap);
    monitoring.watchWorker(id, worker);
    return worker;
  }

  /**
   * A function connects as the API's user unless it names its own, which the bootstrap then creates (read-write),
   * unless `addUser()` added it already, with the access given there.
   */
  private userFor(scope: Construct, prop: string, dbUser: string | undefined): string {
    const user = dbUser ?? this.dbUser;
    validateDbUser(scope, prop, user, this.database.engineFamily);
    if (user !== this.dbUser && !this.database._users().some(existing => existing.name === user)) this.database.addUser(user);
    return user;
  }

  /**
   * Have the deploy-time bootstrap create another IAM-only database user (for example a read-only reporting user).
   * The API's own `dbUser` is added with read-write access.
   */
  public addUser(name: string, options: DatabaseUserOptions = {}): void {
    this.database.addUser(name, options);
  }
}
