import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { ApiHandler } from './api-handler';
import { ApiRoute, ApiRouteOptions } from './api-route';
import { MonitoringOptions } from './monitoring';
import { alarmActionsFor, setAlarmActions } from './private/alarm-actions';
import { ApiMonitoring } from './private/api-monitoring';
import { findLatestInvocations } from './private/latest-guard';
import { ConfigurationError } from './private/validation';
import { ServerlessSqlApi } from './serverless-sql-api';
import { SqlWorker, SqlWorkerOptions } from './sql-worker';

/** Properties of an `ApiExtension`. */
export interface ApiExtensionProps {
  /** The API whose database, HTTP API and users the routes and workers share. */
  readonly api: ServerlessSqlApi;

  /**
   * Alarms and a dashboard for the routes and workers added here. They live in this stack, beside what they watch.
   *
   * @default - the default alarms with the API's `alarmActions`, and a dashboard
   */
  readonly monitoring?: MonitoringOptions;
}

/**
 * Routes and workers of a `ServerlessSqlApi` that live in another stack (or a nested stack) of the same app, for an
 * API whose functions outgrow one template. Every cross-stack reference points from this stack to the API's: the
 * functions' security-group rules, their `rds-db:connect` grants, their alarms and their dependency on the database
 * bootstrap are all made here, so the API's stack never refers to this one and deploys first.
 *
 * @example
 * declare const app: App;
 * const apiStack = new Stack(app, 'Api');
 * const api = new ServerlessSqlApi(apiStack, 'Api', { handler: ApiHandler.nodejs({ entry: 'src/api.ts' }) });
 * const workers = new ApiExtension(new Stack(app, 'Workers'), 'Workers', { api });
 * workers.addWorker('Ingest', { handler: ApiHandler.nodejs({ entry: 'src/ingest.ts' }), source: PipeSource.sqs(queue) });
 */
export class ApiExtension extends Construct {
  /** The API this extends. */
  public readonly api: ServerlessSqlApi;

  /** The dashboard of the routes and workers added here, unless `monitoring.dashboard` is false. */
  public readonly dashboard?: cloudwatch.Dashboard;

  private readonly monitoring: ApiMonitoring;

  constructor(scope: Construct, id: string, props: ApiExtensionProps) {
    super(scope, id);
    this.api = props.api;
    if (Stack.of(this) === Stack.of(props.api)) {
      throw new ConfigurationError(this, 'api', props.api.node.path,
        'The API is in this stack already: call api.addRoute() and api.addWorker() on it, and use an ApiExtension in another stack.');
    }
    setAlarmActions(this, props.monitoring?.alarmActions ?? alarmActionsFor(props.api));
    this.monitoring = new ApiMonitoring(this, 'Monitoring', props.monitoring ?? {}, `Serverless SQL API ${props.api.node.path}: ${this.node.path}`);
    this.dashboard = this.monitoring.dashboard;
    this.node.addValidation({ validate: () => findLatestInvocations(this) });
  }

  /** Every alarm this library created for the routes and workers added here. */
  public get alarms(): cloudwatch.Alarm[] {
    return [...this.monitoring.alarms];
  }

  /**
   * Give a route of the API's HTTP API its own function, in this stack (see `ServerlessSqlApi.addRoute()`). Route
   * keys are unique across the API.
   */
  public addRoute(routeKey: string, handler: ApiHandler, options: ApiRouteOptions = {}): ApiRoute {
    return this.api._addRouteIn(this, this.monitoring, routeKey, handler, options);
  }

  /** Add a worker of the API, in this stack (see `ServerlessSqlApi.addWorker()`). */
  public addWorker(id: string, options: SqlWorkerOptions): SqlWorker {
    return this.api._addWorkerIn(this, this.monitoring, id, options);
  }
}
