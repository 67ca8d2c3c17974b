import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ApiRouteOptions, ColdStart, DatabaseAccess, Deployment, FrontDoor, ServerlessSqlApiProps } from '../src';
import { nodeHandler, refereed, resourcesOf, synth } from './util';

/** The API with routes added; the template is read (and refereed) after they are. */
const withRoutes = (routes: Array<[string, ApiRouteOptions?]>, props: Partial<ServerlessSqlApiProps> = {}) => {
  const result = synth(props);
  const added = routes.map(([key, options]) => result.api.addRoute(key, nodeHandler(), options));
  return { ...result, routes: added, template: refereed(Template.fromStack(result.stack)) };
};
const logicalId = (template: Template, type: string, prefix: string) => {
  const ids = Object.keys(template.findResources(type)).filter(id => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} under ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0];
};

describe('routes', () => {
  test('a route has its own function, and its integration and permission target that function\'s alias', () => {
    const { template } = withRoutes([['POST /todos'], ['GET /todos/{id}']]);
    const postAlias = logicalId(template, 'AWS::Lambda::Alias', 'ApiRoutePostTodosHandlerAlias');
    const getAlias = logicalId(template, 'AWS::Lambda::Alias', 'ApiRouteGetTodosIdHandlerAlias');
    const apiAlias = logicalId(template, 'AWS::Lambda::Alias', 'ApiHandlerAlias');
    // the API's function and the two route functions connect as the API's user
    expect(Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { SQL_USER: 'app_user' } } } })))
      .toHaveLength(3);

    const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes.map(r => r.RouteKey).sort()).toEqual(['$default', 'GET /todos/{id}', 'POST /todos']);
    // every route is IAM-authorized, as the default route is
    expect(routes.map(r => r.AuthorizationType)).toEqual(['AWS_IAM', 'AWS_IAM', 'AWS_IAM']);
    const integrationOf = (key: string) => {
      const target = routes.find(r => r.RouteKey === key)!.Target['Fn::Join'][1][1].Ref;
      return template.toJSON().Resources[target].Properties;
    };
    expect(integrationOf('POST /todos')).toMatchObject({ IntegrationUri: { Ref: postAlias }, PayloadFormatVersion: '2.0', IntegrationType: 'AWS_PROXY' });
    expect(integrationOf('GET /todos/{id}')).toMatchObject({ IntegrationUri: { Ref: getAlias } });
    expect(integrationOf('$default')).toMatchObject({ IntegrationUri: { Ref: apiAlias } });

    // API Gateway may invoke the route's alias, for that route's path only
    const permissions = resourcesOf(template, 'AWS::Lambda::Permission').map(([, p]) => p.Properties)
      .filter(p => p.Principal === 'apigateway.amazonaws.com');
    const postPermission = permissions.find(p => p.FunctionName.Ref === postAlias);
    expect(JSON.stringify(postPermission.SourceArn)).toContain('/*/*/todos"');
    expect(permissions.some(p => p.FunctionName.Ref === getAlias)).toBe(true);
    expect(permissions.every(p => p.FunctionName.Ref)).toBe(true);
  });

  test('each route function takes its own settings: memory, cold start, deployment, user', () => {
    const { template, routes, api } = withRoutes([['POST /reports', {
      memorySize: 2048,
      timeout: Duration.seconds(20),
      coldStart: ColdStart.provisioned({ min: 2 }),
      deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }),
      dbUser: 'reporter',
    }]]);
    const [route] = routes;
    expect(route.routeKey).toBe('POST /reports');
    expect(api.routes).toEqual([route]);
    const fn = template.toJSON().Resources[logicalId(template, 'AWS::Lambda::Function', 'ApiRoutePostReportsHandlerFunction')];
    expect(fn.Properties).toMatchObject({ MemorySize: 2048, Timeout: 20, Environment: { Variables: { SQL_USER: 'reporter' } } });
    template.hasResourceProperties('AWS::Lambda::Alias', {
      FunctionName: { Ref: Match.stringLikeRegexp('^ApiRoutePostReportsHandlerFunction') },
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
    });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: Match.anyValue(),
      AlarmConfiguration: Match.anyValue(),
    });
    expect(resourcesOf(template, 'AWS::CodeDeploy::DeploymentGroup').map(([id]) => id)).toEqual([expect.stringMatching(/^ApiRoutePostReports/)]);
    // the bootstrap creates the route's own user, and the route may connect as it only
    const bootstrap = resourcesOf(template, 'Custom::DatabaseBootstrap')[0][1];
    expect(JSON.stringify(bootstrap.Properties)).toContain('reporter');
    const connect = resourcesOf(template, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('ApiRoutePostReports'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement).filter((s: any) => s.Action === 'rds-db:connect');
    expect(JSON.stringify(connect)).toContain(':dbuser:');
    expect(JSON.stringify(connect)).toContain('/reporter');
    expect(JSON.stringify(connect)).not.toContain('/app_user');
  });

  test('a route or worker may connect as a user added read-only with addUser, which keeps its access', () => {
    const { api, stack } = synth();
    api.addUser('reader', { access: DatabaseAccess.READ_ONLY });
    api.addRoute('GET /reports', nodeHandler(), { dbUser: 'reader' });
    const template = refereed(Template.fromStack(stack));
    const bootstrap = resourcesOf(template, 'Custom::DatabaseBootstrap')[0][1];
    expect(bootstrap.Properties.Users).toEqual(expect.arrayContaining([{ name: 'reader', access: 'read-only' }]));
  });

  test('a route goes live after the database bootstrap, like the API', () => {
    const { template } = withRoutes([['POST /todos']]);
    const alias = template.toJSON().Resources[logicalId(template, 'AWS::Lambda::Alias', 'ApiRoutePostTodosHandlerAlias')];
    const bootstrap = resourcesOf(template, 'Custom::DatabaseBootstrap')[0][0];
    expect(alias.DependsOn).toContain(bootstrap);
  });

  test('lean: the route invokes synchronously, so no asynchronous-invocation config or queue unless destinations are set', () => {
    const lean = withRoutes([['POST /todos']]);
    const under = (template: Template, type: string) => Object.keys(template.findResources(type)).filter(id => id.startsWith('ApiRoute'));
    expect(under(lean.template, 'AWS::Lambda::EventInvokeConfig')).toEqual([]);
    expect(under(lean.template, 'AWS::SQS::Queue')).toEqual([]);

    const result = synth();
    const target = new sqs.Queue(result.stack, 'Failures');
    result.api.addRoute('POST /todos', nodeHandler(), { destinations: { onFailure: new destinations.SqsDestination(target) } });
    const full = Template.fromStack(result.stack);
    expect(under(full, 'AWS::Lambda::EventInvokeConfig')).toHaveLength(1);
    Annotations.fromStack(result.stack).hasWarning('/Stack/Api/RoutePostTodos',
      Match.stringLikeRegexp('destinations are set, but the route POST /todos invokes its alias synchronously'));
  });

  test('a route has its alarms and dashboard row, which omitAlarms and alarmActions reach', () => {
    const { api, template } = withRoutes([['GET /todos/{id}']], { monitoring: { omitAlarms: ['RouteGetTodosIdThrottles'] } });
    const names = api.alarms.map(alarm => alarm.node.id);
    expect(names).toEqual(expect.arrayContaining(['RouteGetTodosIdErrorRate', 'RouteGetTodosIdDurationNearTimeout']));
    expect(names).not.toContain('RouteGetTodosIdThrottles');
    const body = JSON.stringify(resourcesOf(template, 'AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);
    expect(body).toContain('## Route GET /todos/{id}');
  });

  test('grantInvoke covers every route: one execute-api:Invoke on every method and path of the stage', () => {
    const result = synth();
    result.api.addRoute('POST /todos', nodeHandler());
    const caller = new iam.Role(result.stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    result.api.grantInvoke(caller);
    const template = Template.fromStack(result.stack);
    const statements = resourcesOf(template, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('CallerDefaultPolicy'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    const resource = JSON.stringify(statements[0].Resource);
    // arn:…:execute-api:region:account:api-id/$default/*/* — the stage, any method, any path (POST /todos included)
    expect(resource).toMatch(/\/\$default\/\*\/\*"\]\]\}$/);
  });

  test('a route can have its own authorizer; a public one is acknowledged to cdk-nag as an explicit choice', () => {
    const { template, routes: [publicRoute, privateRoute] } = withRoutes([['GET /health', { authorizer: new apigwv2.HttpNoneAuthorizer() }], ['GET /todos']]);
    const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route');
    const health = routes.find(([, r]) => r.Properties.RouteKey === 'GET /health')!;
    expect(health[1].Properties.AuthorizationType).toBe('NONE');
    const acknowledged = (route: typeof publicRoute) => JSON.stringify(route.httpRoute.node.metadata.map(entry => entry.data));
    expect(acknowledged(publicRoute)).toContain('AwsSolutions-APIG4');
    expect(acknowledged(privateRoute)).not.toContain('APIG4');
    expect(routes.find(([, r]) => r.Properties.RouteKey === 'GET /todos')![1].Properties.AuthorizationType).toBe('AWS_IAM');
  });

  test('a route over the HTTP API\'s 30 s integration timeout gets a warning', () => {
    const result = synth();
    result.api.addRoute('POST /export', nodeHandler(), { timeout: Duration.seconds(60) });
    Annotations.fromStack(result.stack).hasWarning('/Stack/Api/RoutePostExport',
      Match.stringLikeRegexp('timeout is 1 minute but an HTTP API answers 503 after 30 seconds'));
  });

  test('route keys the guide allows are accepted: ANY, the root, a greedy variable', () => {
    const { template } = withRoutes([['ANY /'], ['ANY /files/{proxy+}'], ['DELETE /todos/{todoId}'], ['GET /v1/users/{userId}/orders']]);
    const keys = resourcesOf(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey).sort();
    expect(keys).toEqual(['$default', 'ANY /', 'ANY /files/{proxy+}', 'DELETE /todos/{todoId}', 'GET /v1/users/{userId}/orders']);
    const ids = Object.keys(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(ids).toEqual(expect.arrayContaining([expect.stringMatching(/^ApiRouteAnyRoot/), expect.stringMatching(/^ApiRouteAnyFilesProxy/),
      expect.stringMatching(/^ApiRouteDeleteTodosTodoId/), expect.stringMatching(/^ApiRouteGetV1UsersUserIdOrders/)]));
  });

  test('with a function URL front door, the API is unchanged by a refused route', () => {
    const { api } = synth({ frontDoor: FrontDoor.functionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM }) });
    expect(() => api.addRoute('GET /x', nodeHandler())).toThrow(/invalid frontDoor \("a function URL"\)/);
    expect(api.routes).toEqual([]);
    expect(api.node.tryFindChild('RouteGetX')).toBeUndefined();
  });
});
