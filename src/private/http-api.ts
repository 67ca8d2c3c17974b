import { Annotations, Duration } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The HTTP API's maximum integration timeout. */
const HTTP_API_MAX_TIMEOUT = Duration.seconds(30);

/**
 * An HTTP API stops waiting for its integration after 30 seconds, whatever the function's timeout.
 *
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
 */
export function warnAboutIntegrationTimeout(scope: IConstruct, timeout: Duration): void {
  if (!timeout.isUnresolved() && timeout.toSeconds() > HTTP_API_MAX_TIMEOUT.toSeconds()) {
    Annotations.of(scope).addWarningV2('serverless-sql-api:httpApiTimeout',
      `timeout is ${timeout.toHumanString()} but an HTTP API answers 503 after ${HTTP_API_MAX_TIMEOUT.toHumanString()}; ` +
      'lower the timeout or use FrontDoor.functionUrl() for long requests.');
  }
}
