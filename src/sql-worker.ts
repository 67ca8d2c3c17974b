import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PipeFilter, PipeSource } from './pipe-source';
import { acknowledgeInlinePolicies } from './private/compliance';
import { markSynchronousOnly } from './private/invocation-mode';
import { recordLocalFunction } from './private/local-development';
import { encryptedLogGroup } from './private/log-group';
import { ConfigurationError } from './private/validation';
import { ISqlDatabase } from './sql-database';
import { SqlFunction, SqlFunctionOptions } from './sql-function';

/** Settings of a worker (see `ServerlessSqlApi.addWorker()`). */
export interface SqlWorkerOptions extends SqlFunctionOptions {
  /** Where the events come from. */
  readonly source: PipeSource;

  /**
   * Only events matching one of these patterns reach the worker; at most 5.
   *
   * @default - every event
   */
  readonly filters?: PipeFilter[];

  /**
   * A function that enriches each batch before the worker sees it; give an alias or a version (never `$LATEST`).
   *
   * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/pipes-enrichment.html
   * @default - no enrichment
   */
  readonly enrichment?: lambda.IFunction;

  /**
   * How long the pipe's error logs are kept. They are encrypted with the database's `encryptionKey`.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly pipeLogRetention?: logs.RetentionDays;
}

/** Properties of a `SqlWorker`. */
export interface SqlWorkerProps extends SqlWorkerOptions {
  /** The database to connect to through its proxy. */
  readonly database: ISqlDatabase;
}

const MAX_FILTERS = 5;
const MAX_FILTER_LENGTH = 4096;

/**
 * A worker: a `SqlFunction` (versioned, behind its own alias, in the VPC with the same database path) fed by an
 * EventBridge Pipe whose target is the alias. The pipe's role may read that source and invoke that alias, nothing
 * else.
 */
export class SqlWorker extends Construct {
  /** The worker function with its alias. */
  public readonly handler: SqlFunction;

  /** The pipe. */
  public readonly pipe: pipes.CfnPipe;

  /** The pipe's role. */
  public readonly role: iam.Role;

  /** Where stream records that exhausted their retries go (stream sources only). */
  public readonly deadLetterQueue?: sqs.IQueue;

  private readonly backlogAge?: (props?: cloudwatch.MetricOptions) => cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: SqlWorkerProps) {
    super(scope, id);
    const filters = props.filters ?? [];
    if (filters.length > MAX_FILTERS) {
      throw new ConfigurationError(this, 'filters', `${filters.length} filters`, `A pipe takes at most ${MAX_FILTERS} filters; combine patterns.`);
    }
    for (const [index, filter] of filters.entries()) {
      if (filter.rendered.length > MAX_FILTER_LENGTH) {
        throw new ConfigurationError(this, `filters[${index}]`, `${filter.rendered.length} characters`,
          `A filter pattern may have at most ${MAX_FILTER_LENGTH} characters rendered; simplify it.`);
      }
    }

    const enrichment = props.enrichment;
    if (enrichment && !('aliasName' in enrichment) && !('version' in enrichment && 'lambda' in enrichment)) {
      throw new ConfigurationError(this, 'enrichment', enrichment.node.path,
        'Give the enrichment function\'s alias or version: an unqualified function is invoked as $LATEST.');
    }

    markSynchronousOnly(this);
    this.handler = new SqlFunction(this, 'Handler', props);
    if (props.destinations) {
      Annotations.of(this).addWarningV2('serverless-sql-api:syncOnlyDestinations',
        'destinations are set, but the pipe invokes the worker synchronously, so they never apply to its events; '
        + 'failed batches are kept by the source\'s redrive policy or dead-letter queue instead.');
    }
    this.role = new iam.Role(this, 'PipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com'),
      description: `Pipe of ${this.node.path}: reads its source and invokes the worker's alias, nothing else`,
    });
    acknowledgeInlinePolicies(this.role);
    const source = props.source._bind(this, this.role);
    recordLocalFunction(this, { role: 'worker', workerId: id, source: source.kind, batchSize: source.batchSize }, this.handler._local);
    this.deadLetterQueue = source.deadLetterQueue;
    this.backlogAge = source.backlogAge;
    this.handler.alias.grantInvoke(this.role);
    enrichment?.grantInvoke(this.role);

    const logGroup = encryptedLogGroup(this, 'PipeLogs', props.database.encryptionKey, props.pipeLogRetention);
    logGroup.grantWrite(this.role);

    this.pipe = new pipes.CfnPipe(this, 'Pipe', {
      roleArn: this.role.roleArn,
      source: source.sourceArn,
      sourceParameters: {
        ...source.sourceParameters,
        filterCriteria: filters.length ? { filters: filters.map(f => ({ pattern: f.rendered })) } : undefined,
      },
      enrichment: enrichment?.functionArn,
      target: this.handler.alias.functionArn,
      targetParameters: { lambdaFunctionParameters: { invocationType: 'REQUEST_RESPONSE' } },
      logConfiguration: { level: 'ERROR', cloudwatchLogsLogDestination: { logGroupArn: logGroup.logGroupArn } },
      description: `Feeds ${this.node.path}`,
    });
    this.pipe.node.addDependency(this.role);
  }

  /** The worker's alias (the pipe's target). */
  public get alias(): lambda.Alias {
    return this.handler.alias;
  }

  /**
   * A metric of the pipe, in the `AWS/EventBridge/Pipes` namespace with the `PipeName` dimension.
   *
   * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-monitoring.html
   * @param metricName for example `ExecutionFailed`, `ExecutionTimeout`, `EventCount`
   * @default - Sum over 5 minutes
   */
  public metricPipe(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/EventBridge/Pipes',
      metricName,
      dimensionsMap: { PipeName: this.pipe.ref },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Executions of the pipe that failed (`ExecutionFailed`). @default - Sum over 5 minutes */
  public metricPipeExecutionFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricPipe('ExecutionFailed', props);
  }

  /**
   * How far the worker is behind its source: the age of the oldest message of an SQS queue
   * (`ApproximateAgeOfOldestMessage`, seconds) or of the last record read from a Kinesis stream
   * (`GetRecords.IteratorAgeMilliseconds`). Undefined for a DynamoDB stream, which publishes no such metric for a
   * pipe's reads.
   *
   * @default - Maximum over 5 minutes
   */
  public metricSourceBacklogAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return this.backlogAge?.(props);
  }
}
