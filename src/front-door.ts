import { Annotations, Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, rule } from './private/compliance';
import { warnAboutIntegrationTimeout } from './private/http-api';
import { encryptedLogGroup } from './private/log-group';
import { checkRange } from './private/validation';

/** Options for `FrontDoor.httpApi()`. */
export interface HttpApiFrontDoorOptions {
  /**
   * The API's name.
   *
   * @default - the construct's path
   */
  readonly apiName?: string;

  /**
   * CORS preflight settings.
   *
   * @default - no CORS
   */
  readonly corsPreflight?: apigwv2.CorsPreflightOptions;

  /**
   * The authorizer of every route: IAM, JWT (for example a Cognito user pool) or a Lambda authorizer. For a public
   * API, pass `new apigwv2.HttpNoneAuthorizer()`: the choice is then explicit (and acknowledged as such to
   * compliance checks, which otherwise require an authorization type on every route).
   *
   * @default - IAM authorization (`HttpIamAuthorizer`): callers sign their requests with SigV4 and need
   *   `execute-api:Invoke`, which `api.grantInvoke(grantee)` gives
   */
  readonly defaultAuthorizer?: apigwv2.IHttpRouteAuthorizer;

  /**
   * Steady-state request rate limit (requests per second) of the stage. Bounds the load that can reach the
   * function and, through it, the database.
   *
   * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html
   * @default 1000
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst limit (requests) of the stage.
   *
   * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html
   * @default 500
   */
  readonly throttlingBurstLimit?: number;

  /**
   * How long access logs are kept. They are encrypted with the database's `encryptionKey`.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly accessLogRetention?: logs.RetentionDays;
}

/** Options for `FrontDoor.functionUrl()`. */
export interface FunctionUrlFrontDoorOptions {
  /**
   * Who may call the URL: `AWS_IAM` (SigV4-signed callers granted with `grantInvokeUrl`) or `NONE` (public; both
   * `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction` are granted to everyone, scoped to URL invocations).
   */
  readonly authType: lambda.FunctionUrlAuthType;

  /**
   * Stream the response (`RESPONSE_STREAM` invoke mode) instead of buffering it.
   *
   * @default false
   */
  readonly streaming?: boolean;

  /**
   * CORS settings.
   *
   * @default - no CORS
   */
  readonly cors?: lambda.FunctionUrlCorsOptions;
}

/** @internal */
export interface FrontDoorTarget {
  readonly alias: lambda.Alias;
  readonly runtime: lambda.Runtime;
  readonly timeout: Duration;
  /** Encrypts the access logs. */
  readonly encryptionKey: kms.IKey;
}

/** @internal */
export interface BoundFrontDoor {
  readonly url?: string;
  readonly httpApi?: apigwv2.HttpApi;
  readonly functionUrl?: lambda.FunctionUrl;
  /** Lets `grantee` call the API through this front door. */
  readonly grantInvoke: (grantee: iam.IGrantable) => iam.Grant;
  /** How the front door is named in messages. */
  readonly description: string;
  /** Whether responses are streamed. */
  readonly streaming?: boolean;
}

/**
 * How clients reach the API. Every front door invokes the alias, never `$LATEST`.
 */
export abstract class FrontDoor {
  /**
   * An API Gateway HTTP API (payload format 2.0) sending every route to the alias, IAM-authorized unless
   * `defaultAuthorizer` says otherwise. Default.
   */
  public static httpApi(options: HttpApiFrontDoorOptions = {}): FrontDoor {
    return new HttpApiFrontDoor(options);
  }

  /** A Lambda function URL on the alias. */
  public static functionUrl(options: FunctionUrlFrontDoorOptions): FrontDoor {
    return new FunctionUrlFrontDoor(options);
  }

  /** No front door: invoke the alias yourself (for example from another service). */
  public static none(): FrontDoor {
    return new NoFrontDoor();
  }

  /** @internal */
  public abstract _bind(scope: Construct, target: FrontDoorTarget): BoundFrontDoor;
}

class HttpApiFrontDoor extends FrontDoor {
  constructor(private readonly options: HttpApiFrontDoorOptions) {
    super();
  }

  public _bind(scope: Construct, { alias, timeout, encryptionKey }: FrontDoorTarget): BoundFrontDoor {
    const rateLimit = this.options.throttlingRateLimit ?? 1000;
    const burstLimit = this.options.throttlingBurstLimit ?? 500;
    checkRange(scope, 'frontDoor.throttlingRateLimit', rateLimit, 1, 100_000, ' requests/s');
    checkRange(scope, 'frontDoor.throttlingBurstLimit', burstLimit, 1, 50_000, ' requests');
    warnAboutIntegrationTimeout(scope, timeout);

    const defaultAuthorizer = this.options.defaultAuthorizer ?? new authorizers.HttpIamAuthorizer();
    const httpApi = new apigwv2.HttpApi(scope, 'HttpApi', {
      apiName: this.options.apiName,
      corsPreflight: this.options.corsPreflight,
      defaultAuthorizer,
      createDefaultStage: false,
      defaultIntegration: new integrations.HttpLambdaIntegration('Integration', alias, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    const accessLogs = encryptedLogGroup(scope, 'HttpApiAccessLogs', encryptionKey, this.options.accessLogRetention);
    const stage = httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit, burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigateway.AccessLogFormat.jsonWithStandardFields(),
      },
    });
    if (defaultAuthorizer instanceof apigwv2.HttpNoneAuthorizer) {
      acknowledge(httpApi.node.findChild('DefaultRoute'), rule('APIG4', 'awsSolutions'),
        'The API is public by the explicit choice of frontDoor.defaultAuthorizer: HttpNoneAuthorizer; its stage is throttled.');
    }
    return {
      description: 'an HTTP API',
      url: stage.url,
      httpApi,
      grantInvoke: grantee => iam.Grant.addToPrincipal({
        grantee,
        actions: ['execute-api:Invoke'],
        resourceArns: [httpApi.arnForExecuteApi('*', '/*', stage.stageName)],
      }),
    };
  }
}

class FunctionUrlFrontDoor extends FrontDoor {
  constructor(private readonly options: FunctionUrlFrontDoorOptions) {
    super();
  }

  public _bind(scope: Construct, { alias, runtime }: FrontDoorTarget): BoundFrontDoor {
    if (this.options.streaming && runtime.family !== lambda.RuntimeFamily.NODEJS) {
      Annotations.of(scope).addWarningV2('serverless-sql-api:streamingRuntime',
        `frontDoor.streaming is set but ${runtime.name} has no native response streaming; ` +
        'use a Node.js runtime or a custom runtime that implements it.');
    }
    const functionUrl = alias.addFunctionUrl({
      authType: this.options.authType,
      invokeMode: this.options.streaming ? lambda.InvokeMode.RESPONSE_STREAM : lambda.InvokeMode.BUFFERED,
      cors: this.options.cors,
    });
    if (this.options.authType === lambda.FunctionUrlAuthType.NONE) {
      // the two public permissions are the point of authType NONE
      const urlPermissions = alias.node.children.filter((child): child is lambda.CfnPermission => child instanceof lambda.CfnPermission
        && (child.functionUrlAuthType === 'NONE' || child.invokedViaFunctionUrl === true));
      for (const permission of urlPermissions) {
        acknowledge(permission, rule('LambdaFunctionPublicAccessProhibited', 'hipaa', 'nist'),
          'The function URL is public by the explicit choice of frontDoor authType: NONE; Lambda requires both of its '
          + 'permissions (InvokeFunctionUrl and InvokeFunction, limited to calls through the URL).');
      }
    }
    return { description: 'a function URL', url: functionUrl.url, functionUrl, streaming: this.options.streaming ?? false, grantInvoke: grantee => alias.grantInvokeUrl(grantee) };
  }
}

class NoFrontDoor extends FrontDoor {
  public _bind(_scope: Construct, { alias }: FrontDoorTarget): BoundFrontDoor {
    return { description: 'no front door (FrontDoor.none())', grantInvoke: grantee => alias.grantInvoke(grantee) };
  }
}
