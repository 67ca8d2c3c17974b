import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeDeadLetterQueue, rule } from './private/compliance';
import { checkDurationSeconds, checkInteger, checkRange, ConfigurationError } from './private/validation';

/** Options of `PipeSource.sqs()`. */
export interface SqsPipeSourceOptions {
  /**
   * Messages per invocation, from 1 to 10,000 (more than 10 needs a batching window of at least 1 second).
   *
   * @see https://docs.aws.amazon.com/eventbridge/latest/pipes-reference/API_PipeSourceSqsQueueParameters.html
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * How long to gather messages before invoking, up to 300 seconds.
   *
   * @default - no batching window
   */
  readonly maxBatchingWindow?: Duration;
}

/** Where a stream pipe starts reading. */
export enum StreamStartingPosition {
  /** The oldest record still in the stream. */
  TRIM_HORIZON = 'TRIM_HORIZON',
  /** Records written from now on. */
  LATEST = 'LATEST',
}

/** Options of the stream sources (`PipeSource.kinesis()`, `PipeSource.dynamoDbStream()`). */
export interface StreamPipeSourceOptions {
  /** Where to start reading. */
  readonly startingPosition: StreamStartingPosition;

  /**
   * Records per invocation, from 1 to 10,000.
   *
   * @see https://docs.aws.amazon.com/eventbridge/latest/pipes-reference/API_PipeSourceKinesisStreamParameters.html
   * @default 100
   */
  readonly batchSize?: number;

  /**
   * How long to gather records before invoking, up to 300 seconds.
   *
   * @default - no batching window
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Retries of a failed batch before it goes to the dead-letter queue, from 0 to 10,000.
   *
   * @default 3
   */
  readonly maxRetryAttempts?: number;

  /**
   * Split a failing batch in two and retry the halves, to isolate the bad record.
   *
   * @default true
   */
  readonly bisectBatchOnError?: boolean;

  /**
   * Concurrent batches per shard, from 1 to 10.
   *
   * @default 1
   */
  readonly parallelizationFactor?: number;

  /**
   * Where records that exhausted their retries go (their metadata; the records stay in the stream until expiry).
   *
   * @default - a new encrypted SQS queue kept 14 days
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/** @internal */
export interface BoundPipeSource {
  /** The kind of source, for `serverless-sql-api dev`. */
  readonly kind: 'sqs' | 'kinesis' | 'dynamodb';
  readonly batchSize: number;
  readonly sourceArn: string;
  readonly sourceParameters: pipes.CfnPipe.PipeSourceParametersProperty;
  readonly deadLetterQueue?: sqs.IQueue;
  /** The age of the oldest event not yet read, where the source publishes one. */
  readonly backlogAge?: (props?: cloudwatch.MetricOptions) => cloudwatch.Metric;
}

/**
 * Where a worker's events come from, through an EventBridge Pipe.
 */
export abstract class PipeSource {
  /**
   * An SQS queue. The queue must have a redrive policy (a dead-letter queue): the pipe deletes a message only
   * after the worker succeeded, and the queue's redrive keeps messages that keep failing.
   */
  public static sqs(queue: sqs.IQueue, options: SqsPipeSourceOptions = {}): PipeSource {
    return new SqsSource(queue, options);
  }

  /** A Kinesis data stream. */
  public static kinesis(stream: kinesis.IStream, options: StreamPipeSourceOptions): PipeSource {
    // https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html: GetRecords.IteratorAgeMilliseconds
    const backlogAge = (props?: cloudwatch.MetricOptions) => stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: 'Maximum', ...props });
    return new StreamSource('kinesis', stream.streamArn, options, backlogAge, role => {
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'],
        resources: [stream.streamArn],
      }));
      stream.encryptionKey?.grantDecrypt(role);
    });
  }

  /** The stream of a DynamoDB table (the table must have a stream). */
  public static dynamoDbStream(table: dynamodb.ITable, options: StreamPipeSourceOptions): PipeSource {
    // DynamoDB Streams publish no iterator age for a pipe's reads (only Lambda event source mappings report one)
    return new StreamSource('dynamodb', table.tableStreamArn, options, undefined, role => {
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        resources: [table.tableStreamArn!],
      }));
      // ListStreams has no resource-level permission: in a policy of its own, the one place its wildcard is acknowledged
      const listStreams = new iam.Policy(role, 'ListStreams', {
        roles: [role],
        statements: [new iam.PolicyStatement({ actions: ['dynamodb:ListStreams'], resources: ['*'] })],
      });
      acknowledge(listStreams, rule('IAM5[Resource::*]', 'awsSolutions'),
        'dynamodb:ListStreams has no resource-level permissions; every other permission of the pipe names its stream.');
      table.encryptionKey?.grantDecrypt(role);
    });
  }

  /** @internal */
  public abstract _bind(scope: Construct, role: iam.Role): BoundPipeSource;
}

class SqsSource extends PipeSource {
  constructor(private readonly queue: sqs.IQueue, private readonly options: SqsPipeSourceOptions) {
    super();
  }

  public _bind(scope: Construct, role: iam.Role): BoundPipeSource {
    const batchSize = this.options.batchSize ?? 10;
    checkInteger(scope, 'source.batchSize', batchSize);
    checkRange(scope, 'source.batchSize', batchSize, 1, 10000);
    checkDurationSeconds(scope, 'source.maxBatchingWindow', this.options.maxBatchingWindow, 0, 300);
    const window = this.options.maxBatchingWindow?.toSeconds();
    if (!Token.isUnresolved(batchSize) && batchSize > 10 && (window === undefined || (!Token.isUnresolved(window) && window < 1))) {
      throw new ConfigurationError(scope, 'source.batchSize', batchSize,
        'An SQS batch larger than 10 needs maxBatchingWindow of at least 1 second; set one or use 10 or fewer.');
    }
    if (this.queue.fifo === true) {
      Annotations.of(scope).addInfo('FIFO source: the pipe keeps order within each message group.');
    }
    if (this.queue instanceof sqs.Queue) {
      if (!this.queue.deadLetterQueue) {
        throw new ConfigurationError(scope, 'source', `queue ${this.queue.node.path} without a dead-letter queue`,
          'Create the queue with `deadLetterQueue: { queue, maxReceiveCount }` so that messages that keep failing are kept, not retried forever.');
      }
    } else {
      Annotations.of(scope).addWarningV2('serverless-sql-api:importedQueueRedrive',
        `source queue ${this.queue.queueName} is imported: make sure it has a redrive policy (dead-letter queue), or failing messages are retried until they expire.`);
    }
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      resources: [this.queue.queueArn],
    }));
    this.queue.encryptionMasterKey?.grantDecrypt(role);
    return {
      kind: 'sqs',
      batchSize,
      sourceArn: this.queue.queueArn,
      sourceParameters: {
        sqsQueueParameters: { batchSize, maximumBatchingWindowInSeconds: window },
      },
      backlogAge: props => this.queue.metricApproximateAgeOfOldestMessage(props),
    };
  }
}

class StreamSource extends PipeSource {
  constructor(
    private readonly kind: 'kinesis' | 'dynamodb',
    private readonly sourceArn: string | undefined,
    private readonly options: StreamPipeSourceOptions,
    private readonly backlogAge: ((props?: cloudwatch.MetricOptions) => cloudwatch.Metric) | undefined,
    private readonly grantRead: (role: iam.Role) => void,
  ) {
    super();
  }

  public _bind(scope: Construct, role: iam.Role): BoundPipeSource {
    if (!this.sourceArn) {
      throw new ConfigurationError(scope, 'source', 'a table without a stream',
        'Create the table with `stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES` (or import it with its tableStreamArn).');
    }
    const batchSize = this.options.batchSize ?? 100;
    checkInteger(scope, 'source.batchSize', batchSize);
    checkRange(scope, 'source.batchSize', batchSize, 1, 10000);
    checkDurationSeconds(scope, 'source.maxBatchingWindow', this.options.maxBatchingWindow, 0, 300);
    const maxRetryAttempts = this.options.maxRetryAttempts ?? 3;
    checkInteger(scope, 'source.maxRetryAttempts', maxRetryAttempts);
    checkRange(scope, 'source.maxRetryAttempts', maxRetryAttempts, 0, 10000);
    checkInteger(scope, 'source.parallelizationFactor', this.options.parallelizationFactor);
    checkRange(scope, 'source.parallelizationFactor', this.options.parallelizationFactor, 1, 10);

    const deadLetterQueue = this.options.deadLetterQueue ?? new sqs.Queue(scope, 'SourceDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    if (!this.options.deadLetterQueue) {
      acknowledgeDeadLetterQueue(deadLetterQueue, 'the records of the pipe\'s stream source that failed every retry');
    }
    deadLetterQueue.grantSendMessages(role);
    this.grantRead(role);
    const parameters = {
      startingPosition: this.options.startingPosition,
      batchSize,
      maximumBatchingWindowInSeconds: this.options.maxBatchingWindow?.toSeconds(),
      maximumRetryAttempts: maxRetryAttempts,
      onPartialBatchItemFailure: (this.options.bisectBatchOnError ?? true) ? 'AUTOMATIC_BISECT' : undefined,
      parallelizationFactor: this.options.parallelizationFactor,
      deadLetterConfig: { arn: deadLetterQueue.queueArn },
    };
    return {
      kind: this.kind,
      batchSize,
      sourceArn: this.sourceArn,
      sourceParameters: this.kind === 'kinesis'
        ? { kinesisStreamParameters: parameters }
        : { dynamoDbStreamParameters: parameters },
      deadLetterQueue,
      backlogAge: this.backlogAge,
    };
  }
}

/**
 * An event filter of a pipe: only events matching the EventBridge pattern reach the worker.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-event-filtering.html
 */
export class PipeFilter {
  /** A pattern, for example `{ body: { type: ['order'] } }`. */
  public static pattern(pattern: { [key: string]: any }): PipeFilter {
    return new PipeFilter(JSON.stringify(pattern));
  }

  private constructor(
    /** The rendered pattern. */
    public readonly rendered: string,
  ) {}
}
