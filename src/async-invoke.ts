import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { checkDurationSeconds, checkInteger, checkRange, ConfigurationError } from './private/validation';

/**
 * What happens to asynchronous invocations of the alias (S3, SNS, EventBridge, `InvokeType: Event`). Configured on
 * the alias: a configuration on the function would apply to `$LATEST` only and never fire for the alias.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
export interface AsyncInvokeOptions {
  /**
   * Where the records of successful asynchronous invocations go (SQS, SNS, EventBridge bus, Lambda).
   *
   * @default - none
   */
  readonly onSuccess?: lambda.IDestination;

  /**
   * Where the records of failed asynchronous invocations go (SQS, SNS, EventBridge bus, Lambda, S3).
   *
   * @default - a new SQS queue (SQS-managed encryption, TLS only, 14 days retention), exposed as `deadLetterQueue`
   */
  readonly onFailure?: lambda.IDestination;

  /**
   * Retries after a failed asynchronous invocation, from 0 to 2.
   *
   * @default 2
   */
  readonly retryAttempts?: number;

  /**
   * How long an event may wait to be processed, from 60 seconds to 6 hours.
   *
   * @default Duration.hours(6)
   */
  readonly maxEventAge?: Duration;
}

/** @internal */
export function configureAsyncInvoke(scope: Construct, alias: lambda.Alias, options: AsyncInvokeOptions): sqs.Queue | undefined {
  checkInteger(scope, 'destinations.retryAttempts', options.retryAttempts);
  checkRange(scope, 'destinations.retryAttempts', options.retryAttempts, 0, 2);
  checkDurationSeconds(scope, 'destinations.maxEventAge', options.maxEventAge, 60, 21600);
  for (const [prop, destination] of [['destinations.onSuccess', options.onSuccess], ['destinations.onFailure', options.onFailure]] as const) {
    refuseFifo(scope, prop, destination);
  }

  let deadLetterQueue: sqs.Queue | undefined;
  let onFailure = options.onFailure;
  if (!onFailure) {
    deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    onFailure = new destinations.SqsDestination(deadLetterQueue);
  }
  new lambda.EventInvokeConfig(scope, 'AsyncInvokeConfig', {
    function: alias.version.lambda,
    qualifier: alias.aliasName,
    onSuccess: options.onSuccess,
    onFailure,
    retryAttempts: options.retryAttempts ?? 2,
    maxEventAge: options.maxEventAge ?? Duration.hours(6),
  });
  return deadLetterQueue;
}

function refuseFifo(scope: Construct, prop: string, destination: lambda.IDestination | undefined) {
  // aws-cdk-lib keeps the target private; FIFO queues and topics are not valid Lambda destinations
  const target = (destination as { queue?: sqs.IQueue; topic?: sns.ITopic } | undefined);
  const fifo = destination instanceof destinations.SqsDestination ? target?.queue?.fifo
    : destination instanceof destinations.SnsDestination ? target?.topic?.fifo : false;
  if (fifo === true || (fifo !== undefined && fifo !== false && !Token.isUnresolved(fifo))) {
    throw new ConfigurationError(scope, prop, 'a FIFO queue or topic',
      'Lambda destinations do not support FIFO queues or topics; use a standard queue or topic.');
  }
}
