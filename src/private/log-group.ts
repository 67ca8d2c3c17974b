import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** How long the logs of this library's log groups are kept unless a prop says otherwise. */
const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

/** A log group encrypted with `key`, kept `retention` (one year by default). */
export function encryptedLogGroup(scope: Construct, id: string, key: kms.IKey, retention?: logs.RetentionDays): logs.LogGroup {
  return new logs.LogGroup(scope, id, { retention: retention ?? DEFAULT_LOG_RETENTION, encryptionKey: key });
}

/**
 * Lets CloudWatch Logs of this account and region encrypt log groups with `key`. A key imported into the app cannot
 * get the statement: then its policy must already allow it, which the warning says.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
 */
export function allowLogsToUse(scope: Construct, key: kms.IKey): void {
  const stack = Stack.of(scope);
  const { statementAdded } = key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    },
  }));
  if (!statementAdded) {
    Annotations.of(scope).addWarningV2('serverless-sql-api:importedKeyPolicy',
      `encryptionKey ${key.keyArn} is imported, so its key policy cannot be extended here: it must allow logs.${stack.region}.amazonaws.com `
      + 'to use it (kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*, Describe* with an aws:logs:arn encryption context), '
      + 'or creating the log groups fails.');
  }
}
