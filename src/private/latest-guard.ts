import { CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Resource types that may name a function without invoking it (they grant, describe, version, observe or scale it),
 * or that have no property through which a service invokes a function: the network, keys, databases, secrets (but not
 * their rotation schedules), queues, an HTTP API's stages. Every other resource that names one of the functions is an
 * invoker (a permission, an event source mapping, a rule or schedule target, a subscription, a bucket notification,
 * an integration, an HTTP API's quick-create target, a pipe, a secret rotation, a custom resource…). Skipping these
 * spares their resolution, which is most of the guard's cost.
 */
const NOT_INVOKERS = new Set([
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::Route',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::EC2::FlowLog',
  'AWS::EC2::VPCEndpoint',
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBSubnetGroup',
  'AWS::RDS::DBParameterGroup',
  'AWS::RDS::DBClusterParameterGroup',
  'AWS::RDS::DBProxy',
  'AWS::RDS::DBProxyTargetGroup',
  'AWS::SecretsManager::Secret',
  'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::SecretsManager::ResourcePolicy',
  'AWS::SQS::Queue',
  'AWS::SQS::QueuePolicy',
  'AWS::ApiGatewayV2::Stage',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::Role',
  'AWS::Lambda::Version',
  'AWS::Lambda::Alias',
  'AWS::Logs::LogGroup',
  'AWS::Logs::MetricFilter',
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::CompositeAlarm',
  'AWS::CloudWatch::Dashboard',
  'AWS::CodeDeploy::DeploymentGroup',
  'AWS::ApplicationAutoScaling::ScalableTarget',
  'AWS::ApplicationAutoScaling::ScalingPolicy',
  'AWS::SSM::Parameter',
  'AWS::CDK::Metadata',
]);

/** The property that qualifies the function, for the types that keep it apart from the function's name. */
const QUALIFIER_PROPERTIES: Record<string, string> = {
  'AWS::Lambda::EventInvokeConfig': 'Qualifier',
  'AWS::Lambda::Url': 'Qualifier',
};

/**
 * Finds every resource in the stack of `scope` that invokes an unqualified function created under `scope` (served
 * as `$LATEST`) or names `$LATEST` for one. Returns one message per offending resource and property.
 */
export function findLatestInvocations(scope: IConstruct): string[] {
  const stack = Stack.of(scope);
  const ours = new Set(scope.node.findAll().filter(CfnResource.isCfnResource)
    .filter(r => r.cfnResourceType === 'AWS::Lambda::Function' && Stack.of(r) === stack).map(r => stack.getLogicalId(r)));
  const problems: string[] = [];
  for (const resource of stack.node.findAll().filter(CfnResource.isCfnResource)) {
    if (Stack.of(resource) !== stack || NOT_INVOKERS.has(resource.cfnResourceType) || resource.cfnResourceType === 'AWS::Lambda::Function') continue;
    const logicalId = stack.getLogicalId(resource);
    const properties = stack.resolve((resource as unknown as { _toCloudFormation(): any })._toCloudFormation())
      ?.Resources?.[logicalId]?.Properties ?? {};
    const qualifierProperty = QUALIFIER_PROPERTIES[resource.cfnResourceType];
    const qualifier = qualifierProperty ? properties[qualifierProperty] : undefined;
    for (const [property, value] of Object.entries<unknown>(properties)) {
      if (property === qualifierProperty) continue;
      const names = unqualifiedReferences(value, ours);
      if (names.length === 0) continue;
      const reason = qualifier === '$LATEST' ? `names $LATEST as its ${qualifierProperty}`
        : qualifier === undefined ? 'targets the unqualified function (served as $LATEST)' : undefined;
      if (reason) {
        problems.push(`${resource.node.path} (${resource.cfnResourceType}.${property}) ${reason}; `
          + 'invoke the alias (`api.alias`, or `worker.handler.alias` for a worker) instead.');
      }
    }
  }
  return [...new Set(problems)];
}

/**
 * The functions of `functions` that `value` names without a qualifier: a Ref or GetAtt Arn of the function (not of
 * a version or alias), unless an `Fn::Join` appends `:QUALIFIER` right after it.
 */
function unqualifiedReferences(value: unknown, functions: Set<string>): string[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap(v => unqualifiedReferences(v, functions));
  const object = value as Record<string, unknown>;
  const named = functionNamed(object, functions);
  if (named) return [named];
  const join = object['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    const [separator, parts] = join as [string, unknown[]];
    return parts.flatMap((part, i) => {
      const fn = typeof part === 'object' && part !== null ? functionNamed(part as Record<string, unknown>, functions) : undefined;
      if (!fn) return unqualifiedReferences(part, functions);
      const next = `${separator}${typeof parts[i + 1] === 'string' ? parts[i + 1] : ''}`;
      const qualifier = /^:([^:]+)/.exec(next)?.[1];
      return qualifier && qualifier !== '$LATEST' ? [] : [fn];
    });
  }
  const sub = object['Fn::Sub'];
  if (sub !== undefined) {
    const [text, variables] = Array.isArray(sub) ? [String(sub[0]), sub[1]] : [String(sub), undefined];
    const inText = [...text.matchAll(/\$\{([^}.]+)(\.Arn)?\}(:[^:$]+)?/g)]
      .filter(([, name, , qualifier]) => functions.has(name) && (!qualifier || qualifier === ':$LATEST'))
      .map(([, name]) => name);
    return [...inText, ...unqualifiedReferences(variables, functions)];
  }
  return Object.values(object).flatMap(v => unqualifiedReferences(v, functions));
}

/** The function a `{ Ref }` or `{ Fn::GetAtt: [fn, 'Arn'] }` names, when it is one of `functions`. */
function functionNamed(object: Record<string, unknown>, functions: Set<string>): string | undefined {
  if (typeof object.Ref === 'string' && functions.has(object.Ref)) return object.Ref;
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && functions.has(getAtt[0] as string) && getAtt[1] === 'Arn') return getAtt[0] as string;
  return undefined;
}
