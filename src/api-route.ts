import { Annotations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ApiHandler } from './api-handler';
import { acknowledge, rule } from './private/compliance';
import { warnAboutIntegrationTimeout } from './private/http-api';
import { markSynchronousOnly } from './private/invocation-mode';
import { recordLocalFunction } from './private/local-development';
import { parseRouteKey } from './private/route-key';
import { ISqlDatabase } from './sql-database';
import { SqlFunction, SqlFunctionSettings } from './sql-function';

/** Options of `ServerlessSqlApi.addRoute()`: the route's function settings, and how the route is authorized. */
export interface ApiRouteOptions extends SqlFunctionSettings {
  /**
   * The route's authorizer.
   *
   * @default - the HTTP API's default authorizer (with `FrontDoor.httpApi()`, IAM unless `defaultAuthorizer` says otherwise)
   */
  readonly authorizer?: apigwv2.IHttpRouteAuthorizer;

  /**
   * The OAuth scopes a JWT authorizer requires for this route.
   *
   * @default - the HTTP API's default scopes (none)
   */
  readonly authorizationScopes?: string[];
}

/** Properties of an `ApiRoute`. */
export interface ApiRouteProps extends ApiRouteOptions {
  /**
   * The route key: an HTTP method (or `ANY`), one space and a path, for example `POST /todos`, `GET /todos/{id}` or
   * `ANY /files/{proxy+}`.
   *
   * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
   */
  readonly routeKey: string;

  /** The code that answers the route. */
  readonly handler: ApiHandler;

  /** The HTTP API the route belongs to. */
  readonly httpApi: apigwv2.IHttpApi;

  /** The database to connect to through its proxy. */
  readonly database: ISqlDatabase;
}

/**
 * A route of an HTTP API with its own `SqlFunction`: its own versions, alias, cold-start choice, deployment and
 * database user. The route's integration (payload format 2.0) targets the alias; since only the route invokes it,
 * synchronously, the function gets no asynchronous-invocation settings unless `destinations` are set.
 * `ServerlessSqlApi.addRoute()` creates one with the API's database, users, monitoring and deploy order.
 */
export class ApiRoute extends Construct {
  /** The route key, `METHOD /path`. */
  public readonly routeKey: string;

  /** The route's function with its alias. */
  public readonly handler: SqlFunction;

  /** The function. Invoke it only through `alias`. */
  public readonly function: lambda.Function;

  /** The alias the route's integration targets. */
  public readonly alias: lambda.Alias;

  /** The HTTP API route. */
  public readonly httpRoute: apigwv2.HttpRoute;

  constructor(scope: Construct, id: string, props: ApiRouteProps) {
    super(scope, id);
    const { method, path, key } = parseRouteKey(this, props.routeKey);
    this.routeKey = key;
    markSynchronousOnly(this);
    this.handler = new SqlFunction(this, 'Handler', props);
    recordLocalFunction(this, { role: 'route', routeKey: key, httpApi: props.httpApi.node.path }, this.handler._local);
    this.function = this.handler.function;
    this.alias = this.handler.alias;
    // the function's own timeout, with SqlFunction's default applied
    if (this.function.timeout) warnAboutIntegrationTimeout(this, this.function.timeout);
    if (props.destinations) {
      Annotations.of(this).addWarningV2('serverless-sql-api:syncOnlyDestinations',
        `destinations are set, but the route ${key} invokes its alias synchronously: they take effect only for events `
        + 'you send to the alias asynchronously yourself.');
    }
    this.httpRoute = new apigwv2.HttpRoute(this, 'Route', {
      httpApi: props.httpApi,
      routeKey: apigwv2.HttpRouteKey.with(path, method),
      integration: new integrations.HttpLambdaIntegration('Integration', this.alias, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
      authorizer: props.authorizer,
      authorizationScopes: props.authorizationScopes,
    });
    const authorizer = props.authorizer ?? props.httpApi.defaultAuthorizer;
    if (authorizer instanceof apigwv2.HttpNoneAuthorizer) {
      acknowledge(this.httpRoute, rule('APIG4', 'awsSolutions'),
        `The route ${key} is public by the explicit choice of an HttpNoneAuthorizer; the stage is throttled.`);
    }
  }
}
