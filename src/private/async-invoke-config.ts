import { Duration, Fn, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeDeadLetterQueue } from './compliance';
import { checkConcrete, checkDurationSeconds, checkInteger, checkRange, ConfigurationError } from './validation';
import { AsyncInvokeOptions } from '../async-invoke';

/** Configures asynchronous invocations on the alias; returns the default dead-letter queue when it created one. */
export function configureAsyncInvoke(scope: Construct, alias: lambda.Alias, options: AsyncInvokeOptions): sqs.Queue | undefined {
  const why = 'aws-cdk-lib checks it when it synthesizes the invoke configuration';
  checkConcrete(scope, 'destinations.retryAttempts', options.retryAttempts, why);
  checkConcrete(scope, 'destinations.maxEventAge', options.maxEventAge, why);
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
    acknowledgeDeadLetterQueue(deadLetterQueue, 'the asynchronous invocations of the alias that failed every attempt or expired');
    onFailure = new destinations.SqsDestination(deadLetterQueue);
  }
  new lambda.EventInvokeConfig(scope, 'AsyncInvokeConfig', {
    function: alias.version.lambda,
    // read from the alias's ARN (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME:ALIAS), as aws-cdk-lib's Alias does:
    // the literal name carries no dependency, and Lambda refuses a qualifier that does not exist yet
    qualifier: Fn.select(7, Fn.split(':', alias.functionArn)),
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
