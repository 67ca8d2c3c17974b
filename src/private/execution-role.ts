import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeInlinePolicies, rule } from './compliance';

/** What `vpcExecutionRole` returns. */
export interface VpcExecutionRole {
  /** The role, to pass as the function's `role`. */
  readonly role: iam.Role;
  /**
   * Gives the function created with `role` its tracing configuration. The function is created without `tracing`,
   * which would add the X-Ray statement to the role's default policy.
   */
  readonly configureTracing: (fn: lambda.Function) => void;
}

/**
 * The execution role of a function in a VPC, without AWS managed policies: it may write to its own log group only.
 * The actions that have no resource-level permissions — the network interfaces Lambda manages in the VPC, and X-Ray
 * traces — are in a policy of their own under the role, the one place where their wildcard is acknowledged. The
 * function depends on the role and so on that policy, which must exist before Lambda attaches the function to the VPC.
 */
export function vpcExecutionRole(scope: Construct, logGroup: logs.ILogGroup, tracing: lambda.Tracing | undefined): VpcExecutionRole {
  const role = new iam.Role(scope, 'ServiceRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of ${scope.node.path}`,
  });
  logGroup.grantWrite(role);

  const traced = tracing !== undefined && tracing !== lambda.Tracing.DISABLED;
  const statements = [new iam.PolicyStatement({
    actions: [
      'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
    ],
    resources: ['*'],
  })];
  if (traced) {
    statements.push(new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }));
  }
  const policy = new iam.Policy(role, 'VpcAndTracing', { roles: [role], statements });
  acknowledgeInlinePolicies(role);
  acknowledge(policy, rule('IAM5[Resource::*]', 'awsSolutions'),
    'Lambda manages the function\'s network interfaces in the VPC (EC2 checks these actions against "*" when the '
    + 'function is created) and X-Ray accepts traces only on "*": neither has resource-level permissions. Every other '
    + 'permission of this role names its resource.');
  return {
    role,
    configureTracing: fn => {
      (fn.node.defaultChild as lambda.CfnFunction).tracingConfig = traced ? { mode: tracing } : undefined;
    },
  };
}
