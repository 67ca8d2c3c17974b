import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

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
