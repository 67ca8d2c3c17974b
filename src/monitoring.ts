import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** Alarms and dashboard of a `ServerlessSqlApi`. */
export interface MonitoringOptions {
  /**
   * Create the default alarms: failed events in any dead-letter queue, error rate, throttles, duration near the
   * timeout, sustained session pinning, proxy borrow latency and connections near the budget, database CPU,
   * memory, storage or capacity, and each worker's failures and backlog. The README lists each threshold and why.
   *
   * @default true
   */
  readonly alarms?: boolean;

  /**
   * Default alarms to leave out, by the name the README's alarm table gives them: for example `['ApiThrottles']`, or
   * `['OrdersBacklog']` for the backlog alarm of the worker `Orders`. A name that is not an alarm of this API fails
   * synth with the list of names. A gradual deployment's rollback alarms cannot be left out: CodeDeploy needs them.
   *
   * @default - none: every default alarm
   */
  readonly omitAlarms?: string[];

  /**
   * Create a CloudWatch dashboard that follows the request path: front door, function (by alias and by version),
   * proxy, database, then workers and dead-letter queues.
   *
   * @default true
   */
  readonly dashboard?: boolean;

  /**
   * What to do when an alarm goes off (for example `new cloudwatch_actions.SnsAction(topic)`): added to every alarm
   * this library creates, the default alarms and a gradual deployment's rollback alarms.
   *
   * @default - no action: the alarms show on the dashboard and in the CloudWatch console only
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}
