import { Duration, Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { acknowledge, rule } from './compliance';
import { ApiDashboard } from './dashboard';
import { MonitoringOptions } from '../monitoring';
import { SqlDatabase } from '../sql-database';
import { SqlFunction } from '../sql-function';
import { SqlWorker } from '../sql-worker';

/** Thresholds of the default alarms, documented in the README with their reasons. */
const THRESHOLDS = {
  /** percent of invocations, over 5 minutes with at least MIN_INVOCATIONS invocations */
  errorRatePercent: 5,
  minInvocations: 10,
  /** p99 duration as a share of the timeout */
  durationShareOfTimeout: 0.8,
  /** microseconds */
  borrowLatencyMicros: 100_000,
  /** share of the connection budget */
  connectionsShareOfBudget: 0.8,
  cpuPercent: 80,
  /** share of the instance class's memory */
  freeableMemoryShare: 0.1,
  /** share of the storage allocated at creation */
  freeStorageShare: 0.05,
  acuPercent: 90,
  /** seconds */
  backlogAgeSeconds: 300,
  /** minutes of pinning without a break */
  pinnedMinutes: 15,
} as const;

interface AlarmSpec {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  /** consecutive periods that must breach */
  readonly periods: number;
  readonly description: string;
}

const GREATER = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
const LESS = cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD;
const WIDTH = 6;

/**
 * The alarms and the dashboard of one API, filled as its parts are created; users reach them through
 * `ServerlessSqlApi.alarms` and `.dashboard`.
 */
export class ApiMonitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard?: cloudwatch.Dashboard;
  private readonly alarmsOn: boolean;
  private readonly actions: cloudwatch.IAlarmAction[];
  private readonly omit: ReadonlySet<string>;
  /** the names of every default alarm of this API, created or not */
  private readonly names: string[] = [];

  constructor(scope: Construct, id: string, options: MonitoringOptions, title: string) {
    super(scope, id);
    this.alarmsOn = options.alarms ?? true;
    this.actions = options.alarmActions ?? [];
    const omit = new Set(options.omitAlarms ?? []);
    this.omit = omit;
    // workers add their alarms after the constructor, so unknown names are only known at synth
    this.node.addValidation({
      validate: () => [...omit].filter(name => !this.names.includes(name)).map(name =>
        `${scope.node.path}: monitoring.omitAlarms names '${name}', which is not an alarm of this API. Its alarms are: `
        + `${this.names.join(', ')}. Use one of these names, or remove '${name}'.`),
    });
    if (options.dashboard ?? true) {
      this.dashboard = new ApiDashboard(this, 'Dashboard', Duration.hours(3));
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({
          markdown: `# ${title}\nThe request path from top to bottom: front door, function, RDS Proxy, database; then the workers. Each part shows its dead-letter queue.`,
          width: 24 - 2 * WIDTH,
          height: 3,
        }),
        // the widget reads the array when the dashboard is rendered, so alarms added later (workers) appear too
        new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 2 * WIDTH, height: 3 }),
      );
    }
  }

  /** The HTTP API's requests, errors and latency. */
  public watchHttpApi(httpApi: apigwv2.HttpApi): void {
    this.section('Front door: HTTP API', [
      graph('Requests', [httpApi.metricCount({ statistic: 'Sum', period: Duration.minutes(1) })]),
      graph('Client and server errors', [httpApi.metricClientError({ period: Duration.minutes(1) }), httpApi.metricServerError({ period: Duration.minutes(1) })]),
      graph('Latency (p50, p99)', [httpApi.metricLatency({ statistic: 'p50', period: Duration.minutes(1) }), httpApi.metricLatency({ statistic: 'p99', period: Duration.minutes(1) })]),
      graph('Integration latency (p99)', [httpApi.metricIntegrationLatency({ statistic: 'p99', period: Duration.minutes(1) })]),
    ]);
  }

  /** The function URL's requests, errors and latency (published for the alias). */
  public watchFunctionUrl(fn: SqlFunction): void {
    const url = (metricName: string, statistic = 'Sum') => fn.metric(metricName, { statistic, period: Duration.minutes(1) });
    this.section('Front door: function URL', [
      graph('Requests', [url('UrlRequestCount')]),
      graph('Client and server errors', [url('Url4xxCount'), url('Url5xxCount')]),
      graph('Latency (p50, p99)', [url('UrlRequestLatency', 'p50'), url('UrlRequestLatency', 'p99')]),
    ]);
  }

  /** Alarms and graphs of a function, by its alias, and of the queue that keeps its failed events. */
  public watchFunction(id: string, fn: SqlFunction, label: string, options: { errorRate: boolean }): void {
    const minute = { period: Duration.minutes(1) };
    const timeout = fn.function.timeout;
    const timeoutMs = timeout && !timeout.isUnresolved() ? timeout.toMilliseconds() : undefined;
    if (options.errorRate) {
      const errorRate = new cloudwatch.MathExpression({
        expression: `IF(invocations >= ${THRESHOLDS.minInvocations}, 100 * errors / invocations, 0)`,
        usingMetrics: { invocations: fn.metricInvocations(), errors: fn.metricErrors() },
        period: Duration.minutes(5),
        label: `${label}: error rate (%)`,
      });
      this.alarm(`${id}ErrorRate`, {
        metric: errorRate,
        threshold: THRESHOLDS.errorRatePercent,
        comparison: GREATER,
        periods: 1,
        description: `${label}: ${THRESHOLDS.errorRatePercent}% or more of the invocations of ${fn.alias.node.path} failed over 5 minutes `
          + `(with at least ${THRESHOLDS.minInvocations} invocations). Read the function's log group for the errors.`,
      });
    }
    this.alarm(`${id}Throttles`, {
      metric: fn.metricThrottles(),
      threshold: 1,
      comparison: GREATER,
      periods: 1,
      description: `${label}: Lambda refused invocations of ${fn.alias.node.path} for lack of concurrency in the last 5 minutes. `
        + 'Raise reservedConcurrentExecutions or the account\'s concurrency quota.',
    });
    if (timeoutMs !== undefined) {
      this.alarm(`${id}DurationNearTimeout`, {
        metric: fn.metricDuration({ statistic: 'p99' }),
        threshold: Math.round(timeoutMs * THRESHOLDS.durationShareOfTimeout),
        comparison: GREATER,
        periods: 2,
        description: `${label}: the p99 duration of ${fn.alias.node.path} stayed at ${THRESHOLDS.durationShareOfTimeout * 100}% or more of its `
          + `${timeout!.toHumanString()} timeout for 10 minutes: invocations are about to be stopped. Look for slow queries or `
          + 'connection waits (proxy borrow latency), or raise the timeout.',
      });
    }
    this.adoptAlarms(fn);

    const widgets: cloudwatch.IWidget[] = [
      graph('Invocations, errors, throttles', [fn.metricInvocations(minute), fn.metricErrors(minute), fn.metricThrottles(minute)]),
      graph('Duration (p50, p99)', [fn.metricDuration({ statistic: 'p50', ...minute }), fn.metricDuration({ statistic: 'p99', ...minute })],
        timeoutMs === undefined ? [] : [{ value: timeoutMs, label: 'timeout' }]),
      graph('Invocations by version (gradual deployments)', [this.byVersion(fn, 'Invocations'), this.byVersion(fn, 'Errors')]),
      graph('Concurrent executions', fn._provisioned
        ? [fn.metricConcurrentExecutions(minute), fn.metricProvisionedConcurrencySpilloverInvocations(minute)]
        : [fn.metricConcurrentExecutions(minute)]),
    ];
    if (fn._provisioned) {
      widgets.push(graph('Provisioned concurrency utilization', [fn.metricProvisionedConcurrencyUtilization(minute)], [{ value: 1, label: 'all busy' }]));
    }
    if (fn.deadLetterQueue) widgets.push(this.watchDeadLetterQueue(`${id}DeadLetterQueue`, fn.deadLetterQueue, 'failed asynchronous events'));
    this.section(label, [...widgets, ...runtimeGraphs(fn)]);
  }

  /** An alarm on any message in a dead-letter queue (a failed event is never silent), and its graph. */
  private watchDeadLetterQueue(id: string, queue: sqs.IQueue, label: string): cloudwatch.IWidget {
    this.alarm(id, {
      metric: queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: 1,
      comparison: GREATER,
      periods: 1,
      description: `${label}: a message is waiting in the dead-letter queue ${queue.node.path}. Inspect it, fix the cause, `
        + 'and redrive it; it is kept 14 days.',
    });
    return graph(`Dead-letter queue: ${label}`, [queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) })]);
  }

  /** Alarms and graphs of the proxy and the database. */
  public watchDatabase(database: SqlDatabase): void {
    const minute = { period: Duration.minutes(1) };
    this.alarm('ProxySessionPinning', {
      metric: database.metricProxyPinnedConnections(),
      threshold: 1,
      comparison: GREATER,
      periods: THRESHOLDS.pinnedMinutes,
      description: `Database connections of the proxy ${database.proxy.node.path} stayed pinned to client sessions for `
        + `${THRESHOLDS.pinnedMinutes} minutes: the proxy stops sharing them. Find the statements that pin (SET, temporary tables, `
        + 'named prepared statements, advisory locks) in the proxy\'s logs.',
    });
    this.alarm('ProxyBorrowLatency', {
      metric: database.metricProxyBorrowLatency({ period: Duration.minutes(5) }),
      threshold: THRESHOLDS.borrowLatencyMicros,
      comparison: GREATER,
      periods: 3,
      description: `Clients of the proxy ${database.proxy.node.path} waited ${THRESHOLDS.borrowLatencyMicros / 1000} ms or more on average `
        + 'for a database connection for 15 minutes: the pool is at its maximum. Size the database up, raise maxConnectionsPercent, '
        + 'or lower the concurrency.',
    });
    const budget = database.connectionBudget;
    if (budget !== undefined && !Token.isUnresolved(budget)) {
      this.alarm('ProxyConnectionsNearBudget', {
        metric: database.metricProxyDatabaseConnections(),
        threshold: Math.ceil(budget * THRESHOLDS.connectionsShareOfBudget),
        comparison: GREATER,
        periods: 5,
        description: `The proxy ${database.proxy.node.path} held ${THRESHOLDS.connectionsShareOfBudget * 100}% or more of its ${budget} `
          + 'database connections for 5 minutes: at the budget, clients wait up to the borrow timeout.',
      });
    }
    this.section('RDS Proxy', [
      graph('Client and database connections', [database.metricProxyClientConnections(minute), database.metricProxyDatabaseConnections(minute)],
        budget === undefined || Token.isUnresolved(budget) ? [] : [{ value: budget, label: 'connection budget' }]),
      graph('Pinned connections', [database.metricProxyPinnedConnections(minute)]),
      graph('Borrow latency (µs)', [database.metricProxyBorrowLatency(minute)]),
    ]);

    const info = database._databaseMonitoring;
    this.alarm('DatabaseCpu', {
      metric: database.metricCpuUtilization(),
      threshold: THRESHOLDS.cpuPercent,
      comparison: GREATER,
      periods: 3,
      description: `The CPU of the database ${database.node.path} stayed at ${THRESHOLDS.cpuPercent}% or more for 15 minutes. Look at `
        + 'Performance Insights for the statements, or size the database up.',
    });
    const widgets: cloudwatch.IWidget[] = [
      graph('CPU (%)', [database.metricCpuUtilization(minute)], [{ value: THRESHOLDS.cpuPercent, label: 'alarm' }]),
      graph('Connections on the database', [database.metricDatabaseConnections(minute)]),
    ];
    if (info.kind === 'instance') {
      if (info.memoryBytes !== undefined) {
        this.alarm('DatabaseFreeableMemory', {
          metric: database.metricFreeableMemory(),
          threshold: Math.round(info.memoryBytes * THRESHOLDS.freeableMemoryShare),
          comparison: LESS,
          periods: 3,
          description: `The freeable memory of the database ${database.node.path} stayed at ${THRESHOLDS.freeableMemoryShare * 100}% of its `
            + 'class\'s memory or less for 15 minutes: it will swap. Size the instance up or lower the connections.',
        });
      }
      widgets.push(graph('Freeable memory', [database.metricFreeableMemory(minute)]));
      if (info.allocatedStorageGiB !== undefined) {
        const threshold = Math.round(info.allocatedStorageGiB * THRESHOLDS.freeStorageShare * 1024 ** 3);
        this.alarm('DatabaseFreeStorage', {
          metric: database.metricFreeStorageSpace(),
          threshold,
          comparison: LESS,
          periods: 3,
          description: `The database ${database.node.path} had ${THRESHOLDS.freeStorageShare * 100}% of its initial ${info.allocatedStorageGiB} GiB `
            + 'of storage or less free for 15 minutes. Storage autoscaling acts at 10% free, so it has reached maxAllocatedStorage or '
            + 'waits between modifications: raise maxAllocatedStorage, or free space.',
        });
      }
      widgets.push(graph('Free storage', [database.metricFreeStorageSpace(minute)]));
    } else {
      if (info.serverless) {
        this.alarm('DatabaseCapacity', {
          metric: database.metricAcuUtilization(),
          threshold: THRESHOLDS.acuPercent,
          comparison: GREATER,
          periods: 3,
          description: `The Aurora Serverless v2 cluster ${database.node.path} used ${THRESHOLDS.acuPercent}% or more of its maximum `
            + 'capacity for 15 minutes: it cannot scale further. Raise maxCapacity.',
        });
        widgets.push(graph('Capacity (ACU, % of maximum)', [database.metricServerlessDatabaseCapacity(minute), database.metricAcuUtilization(minute)]));
      }
      widgets.push(graph('Freeable memory', [database.metricFreeableMemory(minute)]));
    }
    this.section('Database', widgets);
  }

  /** Alarms and graphs of a worker: its function, its pipe, its source's backlog and its dead-letter queue. */
  public watchWorker(id: string, worker: SqlWorker): void {
    const minute = { period: Duration.minutes(1) };
    this.alarm(`${id}PipeFailures`, {
      metric: worker.metricPipeExecutionFailed(),
      threshold: 1,
      comparison: GREATER,
      periods: 1,
      description: `Executions of the pipe of ${worker.node.path} failed in the last 5 minutes. Read the pipe's log group and the worker's.`,
    });
    const backlog = worker.metricSourceBacklogAge();
    if (backlog) {
      const kinesis = backlog.metricName.startsWith('GetRecords');
      this.alarm(`${id}Backlog`, {
        metric: backlog,
        threshold: THRESHOLDS.backlogAgeSeconds * (kinesis ? 1000 : 1),
        comparison: GREATER,
        periods: 3,
        description: `The oldest event of the source of ${worker.node.path} stayed ${THRESHOLDS.backlogAgeSeconds / 60} minutes old or more `
          + 'for 15 minutes: the worker falls behind. Raise the batch size, the parallelization or the worker\'s concurrency.',
      });
    }
    const fn = worker.handler;
    this.adoptAlarms(worker);
    const widgets: cloudwatch.IWidget[] = [
      graph('Pipe events and failures', [worker.metricPipe('EventCount', minute), worker.metricPipeExecutionFailed(minute)]),
      graph('Invocations, errors, throttles', [fn.metricInvocations(minute), fn.metricErrors(minute), fn.metricThrottles(minute)]),
      graph('Duration (p50, p99)', [fn.metricDuration({ statistic: 'p50', ...minute }), fn.metricDuration({ statistic: 'p99', ...minute })]),
    ];
    if (backlog) widgets.push(graph('Source backlog age', [worker.metricSourceBacklogAge(minute)!]));
    if (worker.deadLetterQueue) widgets.push(this.watchDeadLetterQueue(`${id}SourceDeadLetterQueue`, worker.deadLetterQueue, 'records that failed every retry'));
    if (fn.deadLetterQueue) widgets.push(this.watchDeadLetterQueue(`${id}DeadLetterQueue`, fn.deadLetterQueue, 'failed asynchronous events'));
    this.section(`Worker ${id}`, [...widgets, ...runtimeGraphs(fn)]);
  }

  /** Lambda's per-version metric of the alias, found by search: one line per version while a deployment shifts traffic. */
  private byVersion(fn: SqlFunction, metricName: string): cloudwatch.IMetric {
    const name = fn.function.functionName;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{AWS/Lambda,ExecutedVersion,FunctionName,Resource} MetricName="${metricName}" FunctionName="${name}" `
        + `Resource="${name}:${fn.alias.aliasName}"', 'Sum', 60)`,
      label: metricName,
      period: Duration.minutes(1),
    });
  }

  private section(title: string, widgets: cloudwatch.IWidget[]): void {
    if (!this.dashboard) return;
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `## ${title}`, width: 24, height: 1 }));
    for (let i = 0; i < widgets.length; i += 24 / WIDTH) {
      this.dashboard.addWidgets(...widgets.slice(i, i + 24 / WIDTH));
    }
  }

  private alarm(id: string, spec: AlarmSpec): void {
    this.names.push(id);
    if (!this.alarmsOn || this.omit.has(id)) return;
    const alarm = new cloudwatch.Alarm(this, id, {
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparison,
      evaluationPeriods: spec.periods,
      datapointsToAlarm: spec.periods,
      // every metric here is absent while nothing happens (no traffic, no pinning, an empty queue)
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: spec.description,
    });
    this.take(alarm);
  }

  /** Alarms created elsewhere under `scope` (a gradual deployment's rollback alarms) are listed too. */
  private adoptAlarms(scope: IConstruct): void {
    for (const construct of scope.node.findAll()) {
      if (construct instanceof cloudwatch.Alarm && !this.alarms.includes(construct)) this.take(construct, true);
    }
  }

  /** Keeps `alarm`; one this construct created gets the actions (those created elsewhere got them from `alarmActionsFor`). */
  private take(alarm: cloudwatch.Alarm, adopted = false): void {
    this.alarms.push(alarm);
    if (adopted) return;
    if (this.actions.length > 0) {
      alarm.addAlarmAction(...this.actions);
    } else {
      acknowledge(alarm, rule('CloudWatchAlarmAction', 'hipaa', 'nist'),
        'No monitoring.alarmActions were given: the alarm shows on the API\'s dashboard and in the CloudWatch console. Pass '
        + 'monitoring.alarmActions (for example an SNS topic) to be notified.');
    }
  }
}

/** What the runtime's `db.emitMetrics()` reports from inside the function (empty until the handler calls it). */
function runtimeGraphs(fn: SqlFunction): cloudwatch.IWidget[] {
  const sum = (metricName: string) => fn.metricRuntime(metricName, { period: Duration.minutes(1) });
  const p99 = (metricName: string) => fn.metricRuntime(metricName, { statistic: 'p99', period: Duration.minutes(1) });
  return [
    graph('Runtime: cold starts and connections (db.emitMetrics)', [sum('ColdStart'), sum('ConnectionsOpened'), sum('ConnectionsReused'), sum('ConnectionsEvicted')]),
    graph('Runtime: retries and timeouts', [sum('StatementRetries'), sum('ConnectRetries'), sum('AuthRefreshes'), sum('TransactionRetries'), sum('Timeouts')]),
    graph('Runtime: signing, connecting, waiting (p99 ms)', [p99('SigningTime'), p99('ConnectTime'), p99('WaitTime')]),
  ];
}

function graph(title: string, metrics: cloudwatch.IMetric[], lines: cloudwatch.HorizontalAnnotation[] = []): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left: metrics, leftAnnotations: lines, width: WIDTH, height: 6 });
}
