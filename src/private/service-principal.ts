import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/**
 * A service principal that may assume a role only on behalf of this account's resources of one kind: the
 * `aws:SourceAccount` and `aws:SourceArn` conditions against the cross-service confused deputy problem
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). `resource` and `resourceName` (wildcards
 * allowed) complete `arn:PARTITION:SERVICE:REGION:ACCOUNT:…` in the stack's account and Region. Use it only where the
 * service's documentation gives these keys for the role's trust policy, in that ARN format: a condition that the
 * service's request does not satisfy makes every AssumeRole fail.
 */
export function confinedServicePrincipal(scope: IConstruct, principal: string, source: {
  readonly service: string;
  readonly resource: string;
  readonly resourceName: string;
  readonly arnFormat: ArnFormat;
}): iam.IPrincipal {
  const stack = Stack.of(scope);
  return new iam.ServicePrincipal(principal).withConditions({
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': stack.formatArn(source) },
  });
}
