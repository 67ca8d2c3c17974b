import { CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Where a resource names the function it invokes, by CloudFormation type: the property holding the function, and
 * the property holding its qualifier when the qualifier is separate.
 */
const INVOKE_TARGETS: Record<string, Array<{ readonly functionProperty: string; readonly qualifierProperty?: string }>> = {
  'AWS::Lambda::Permission': [{ functionProperty: 'FunctionName' }],
  'AWS::Lambda::EventSourceMapping': [{ functionProperty: 'FunctionName' }],
  'AWS::Lambda::EventInvokeConfig': [{ functionProperty: 'FunctionName', qualifierProperty: 'Qualifier' }],
  'AWS::Lambda::Url': [{ functionProperty: 'TargetFunctionArn', qualifierProperty: 'Qualifier' }],
  'AWS::ApiGatewayV2::Integration': [{ functionProperty: 'IntegrationUri' }],
  'AWS::Pipes::Pipe': [{ functionProperty: 'Target' }, { functionProperty: 'Enrichment' }],
};

/**
 * Finds every invoke target under `scope` that points at an unqualified function of `scope` (served as `$LATEST`)
 * or at `$LATEST` by name. Returns one message per offending resource.
 */
export function findLatestInvocations(scope: IConstruct): string[] {
  const stack = Stack.of(scope);
  const cfn = scope.node.findAll().filter(CfnResource.isCfnResource);
  const functions = new Set(cfn.filter(r => r.cfnResourceType === 'AWS::Lambda::Function').map(r => stack.getLogicalId(r)));
  const problems: string[] = [];
  for (const resource of cfn) {
    const targets = INVOKE_TARGETS[resource.cfnResourceType] ?? [];
    if (targets.length === 0) continue;
    const properties = stack.resolve((resource as unknown as { _toCloudFormation(): any })._toCloudFormation())
      ?.Resources?.[stack.getLogicalId(resource)]?.Properties ?? {};
    for (const target of targets) {
      const value = properties[target.functionProperty];
      const qualifier = target.qualifierProperty ? properties[target.qualifierProperty] : undefined;
      const reason = qualifier === '$LATEST' || JSON.stringify(value ?? null).includes('$LATEST')
        ? 'names $LATEST'
        : !qualifier && refersToUnqualified(value, functions)
          ? 'targets the unqualified function (served as $LATEST)'
          : undefined;
      if (reason) {
        problems.push(`${resource.node.path} (${resource.cfnResourceType}.${target.functionProperty}) ${reason}; `
          + 'invoke the alias (for example `api.alias`) instead.');
      }
    }
  }
  return problems;
}

/** True when `value` is, or embeds, a Ref or GetAtt Arn of one of `functions` (not of a version or alias). */
function refersToUnqualified(value: unknown, functions: Set<string>): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(v => refersToUnqualified(v, functions));
  const object = value as Record<string, unknown>;
  const ref = object.Ref;
  if (typeof ref === 'string' && functions.has(ref)) return true;
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && functions.has(getAtt[0] as string) && getAtt[1] === 'Arn') return true;
  return Object.values(object).some(v => refersToUnqualified(v, functions));
}
