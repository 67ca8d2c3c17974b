/**
 * Referees that read a synthesized template the way CloudFormation executes it.
 *
 * - `deployOrderProblems`: CloudFormation creates a resource as soon as everything it references (Ref, Fn::GetAtt,
 *   Fn::Sub) and everything in its DependsOn exists. A property that names another resource of the same template by
 *   a literal string (an alias name in a `Qualifier`, `function:name:alias` in an ARN or a scalable target, a role,
 *   queue, log group or function name) carries no such edge: unless some other path orders the two, CloudFormation
 *   may create the resource first, and the service refuses a name that does not exist yet.
 * - `physicalNameProblems`: names that must be unique per account and Region must not be shared between two
 *   resources of the same type across the stacks of one account and Region.
 */

type Template = { Resources?: Record<string, { Type: string; Properties?: any; DependsOn?: string | string[] }> };

/** The property that holds the physical name of a resource, by type, for the types whose names are unique per account and Region. */
export const UNIQUE_NAME_PROPERTIES: Record<string, string> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::RDS::DBProxy': 'DBProxyName',
  'AWS::RDS::DBProxyEndpoint': 'DBProxyEndpointName',
  'AWS::RDS::DBInstance': 'DBInstanceIdentifier',
  'AWS::RDS::DBCluster': 'DBClusterIdentifier',
  'AWS::RDS::DBSubnetGroup': 'DBSubnetGroupName',
  'AWS::RDS::DBParameterGroup': 'DBParameterGroupName',
  'AWS::RDS::DBClusterParameterGroup': 'DBClusterParameterGroupName',
  'AWS::RDS::OptionGroup': 'OptionGroupName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::CodeDeploy::Application': 'ApplicationName',
  'AWS::CodeDeploy::DeploymentGroup': 'DeploymentGroupName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::Events::Rule': 'Name',
  'AWS::Pipes::Pipe': 'Name',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Kinesis::Stream': 'Name',
  'AWS::EC2::SecurityGroup': 'GroupName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::S3::Bucket': 'BucketName',
};

/** A placeholder for a value CloudFormation computes, in the rendered text of a property. */
const placeholder = (what: string) => `«${what}»`;
const PSEUDO = /^AWS::/;

/** The logical ids `value` references through Ref, Fn::GetAtt and Fn::Sub. */
export function referencesOf(value: unknown, into = new Set<string>()): Set<string> {
  if (value === null || typeof value !== 'object') return into;
  if (Array.isArray(value)) {
    value.forEach(v => referencesOf(v, into));
    return into;
  }
  const object = value as Record<string, unknown>;
  if (typeof object.Ref === 'string' && !PSEUDO.test(object.Ref)) into.add(object.Ref);
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') into.add(getAtt[0]);
  if (typeof getAtt === 'string') into.add(getAtt.split('.')[0]);
  const sub = object['Fn::Sub'];
  if (sub !== undefined) {
    const [text, variables] = Array.isArray(sub) ? [sub[0] as string, (sub[1] ?? {}) as Record<string, unknown>] : [sub as string, {}];
    for (const match of text.matchAll(/\$\{([^}!]+)\}/g)) {
      const name = match[1].split('.')[0];
      if (!PSEUDO.test(match[1]) && !(name in variables)) into.add(name);
    }
    referencesOf(variables, into);
  }
  for (const [key, v] of Object.entries(object)) {
    if (key !== 'Fn::Sub') referencesOf(v, into);
  }
  return into;
}

/**
 * The text a property value would have once deployed, with every computed part replaced by a placeholder naming
 * what computes it: `«Logical»` for a Ref, `«Logical.Attr»` for a GetAtt, `«AWS::Region»` for a pseudo parameter.
 */
export function render(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return value.map(render).join(',');
  const object = value as Record<string, unknown>;
  if (typeof object.Ref === 'string') return placeholder(object.Ref);
  if (object['Fn::GetAtt'] !== undefined) {
    const getAtt = object['Fn::GetAtt'];
    return placeholder(Array.isArray(getAtt) ? getAtt.join('.') : String(getAtt));
  }
  if (object['Fn::Join'] !== undefined) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return Array.isArray(parts) ? parts.map(render).join(separator) : placeholder('?');
  }
  if (object['Fn::Sub'] !== undefined) {
    const sub = object['Fn::Sub'];
    const [text, variables] = Array.isArray(sub) ? [sub[0] as string, (sub[1] ?? {}) as Record<string, unknown>] : [sub as string, {}];
    return text.replace(/\$\{([^}!]+)\}/g, (_all, name: string) => name in variables ? render(variables[name]) : placeholder(name));
  }
  if (Object.keys(object).length === 1 && Object.keys(object)[0].startsWith('Fn::')) return placeholder('?');
  return Object.entries(object).map(([k, v]) => `${k}=${render(v)}`).join(';');
}

/** Every (property path, rendered text) pair of a resource's properties, down to the leaves and intrinsic functions. */
function renderedProperties(properties: unknown, path = ''): Array<[string, string]> {
  if (properties === null || typeof properties !== 'object') return [[path, render(properties)]];
  if (Array.isArray(properties)) return properties.flatMap((v, i) => renderedProperties(v, `${path}[${i}]`));
  const object = properties as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return [[path, render(object)]];
  return keys.flatMap(key => renderedProperties(object[key], path ? `${path}.${key}` : key));
}

/** A literal physical name: rendered without placeholders other than pseudo parameters. */
function literalName(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = render(value);
  return /«(?!AWS::)[^»]*»/.test(text) ? undefined : text;
}

/** Whether `text` contains `name` as a whole name: bounded by the text's ends or by `:`, `/`, `,` or `=`. */
function containsName(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[:/,=])${escaped}($|[:/,])`).test(text);
}

/** Builds `isOrdered(a, b)`: whether CloudFormation creates `b` before `a` (a depends on b, directly or not). */
function dependencyOrder(resources: NonNullable<Template['Resources']>) {
  const edges = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(resources)) {
    const targets = referencesOf(resource.Properties ?? {});
    for (const dependency of [resource.DependsOn ?? []].flat()) targets.add(dependency);
    edges.set(id, new Set([...targets].filter(t => t in resources)));
  }
  const reach = new Map<string, Set<string>>();
  const reachable = (from: string): Set<string> => {
    const known = reach.get(from);
    if (known) return known;
    const seen = new Set<string>();
    const stack = [...(edges.get(from) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(edges.get(next) ?? []));
    }
    reach.set(from, seen);
    return seen;
  };
  return (a: string, b: string) => reachable(a).has(b);
}

/**
 * One message per property that names another resource of the template by a literal string while no dependency
 * path makes CloudFormation create that resource first: `Resource.Property names Other (Type) by "text" without
 * depending on it`.
 */
export function deployOrderProblems(template: Template): string[] {
  const resources = template.Resources ?? {};
  const dependsOn = dependencyOrder(resources);
  const problems: string[] = [];

  // what can be named: resources with a literal physical name, and aliases by their function and name
  const named: Array<{ id: string; type: string; name: string }> = [];
  const aliases: Array<{ id: string; functionRefs: string[]; name: string }> = [];
  for (const [id, resource] of Object.entries(resources)) {
    const property = UNIQUE_NAME_PROPERTIES[resource.Type];
    const name = property ? literalName(resource.Properties?.[property]) : undefined;
    if (name) named.push({ id, type: resource.Type, name });
    if (resource.Type === 'AWS::Lambda::Alias') {
      const aliasName = literalName(resource.Properties?.Name);
      const fn = [...referencesOf(resource.Properties?.FunctionName)];
      const literalFunction = literalName(resource.Properties?.FunctionName);
      if (aliasName) aliases.push({ id, name: aliasName, functionRefs: [...fn.map(f => placeholder(f)), ...fn.map(f => placeholder(`${f}.Arn`)), ...(literalFunction ? [literalFunction] : [])] });
    }
  }

  for (const [id, resource] of Object.entries(resources)) {
    const rendered = renderedProperties(resource.Properties ?? {});
    const references = referencesOf(resource.Properties ?? {});
    const report = (property: string, target: string, text: string) => {
      if (target === id || dependsOn(id, target) || namesAMetric(resource.Type, property)) return;
      problems.push(`${id} (${resource.Type}) ${property} names ${target} (${resources[target].Type}) by "${text}" without depending on it`);
    };
    for (const alias of aliases) {
      const functionIds = [...referencesOf(resources[alias.id].Properties?.FunctionName)];
      const referencesFunction = functionIds.some(f => references.has(f))
        || rendered.some(([, text]) => alias.functionRefs.some(ref => !ref.startsWith('«') && containsName(text, ref)));
      for (const [property, text] of rendered) {
        // the qualifier of a resource that names the alias's function
        const isQualifier = /(^|\.)Qualifier$/.test(property) && text === alias.name && referencesFunction;
        // FUNCTION:ALIAS inside an ARN, a name or a scalable target's resource id
        const qualifiedName = alias.functionRefs.some(ref => text.includes(`${ref}:${alias.name}`)
          && new RegExp(`${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${alias.name}($|[:/,])`).test(text));
        if (isQualifier || qualifiedName) report(property, alias.id, text);
      }
    }
    for (const target of named) {
      if (target.id === id) continue;
      for (const [property, text] of rendered) {
        if (containsName(text, target.name)) report(property, target.id, text);
      }
    }
  }
  return [...new Set(problems)];
}

/**
 * A metric's dimensions only name what the metric is about: CloudWatch creates an alarm (or a dashboard) on a metric
 * whether or not anything has published it yet, and the alarm stays in INSUFFICIENT_DATA until data arrives.
 */
function namesAMetric(type: string, property: string): boolean {
  return (type === 'AWS::CloudWatch::Alarm' && /(^|\.)Dimensions\[\d+\]\.Value$/.test(property))
    || (type === 'AWS::CloudWatch::Dashboard' && property === 'DashboardBody');
}

/**
 * Physical names that two resources of one type would share in one account and Region, across `templates` (by
 * stack name). A name is compared as deployed: Refs to resources and the stack's own name make it unique.
 */
export function physicalNameProblems(templates: Record<string, Template>): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const [stackName, template] of Object.entries(templates)) {
    for (const [id, resource] of Object.entries(template.Resources ?? {})) {
      const property = UNIQUE_NAME_PROPERTIES[resource.Type];
      const value = property ? resource.Properties?.[property] : undefined;
      if (value === undefined) continue;
      const deployed = render(value).replace(/«([^»]*)»/g, (_all, what: string) =>
        what === 'AWS::StackName' || what === 'AWS::StackId' ? stackName
          : PSEUDO.test(what) ? what : `${stackName}/${what}`);
      const key = `${resource.Type} ${deployed}`;
      const first = seen.get(key);
      if (first) {
        problems.push(`${stackName}/${id} (${resource.Type}) ${property} "${deployed}" is also the name of ${first}`);
      } else {
        seen.set(key, `${stackName}/${id}`);
      }
    }
  }
  return problems;
}
