import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { IConstruct } from 'constructs';
import { ConfigurationError } from './validation';

/** A route key taken apart: `GET /todos/{id}` is method GET and path /todos/{id}. */
export interface ParsedRouteKey {
  readonly method: apigwv2.HttpMethod;
  readonly path: string;
  /** The key as API Gateway stores it, `METHOD /path`. */
  readonly key: string;
}

const METHODS: ReadonlyArray<string> = Object.values(apigwv2.HttpMethod);
const EXAMPLES = 'for example "GET /todos", "POST /todos", "GET /todos/{id}" or "ANY /files/{proxy+}"';
/** A path variable's name. The guide shows letters (petID, proxy); more than word characters is not documented. */
const VARIABLE = /^\{([A-Za-z0-9_]+)(\+?)\}$/;
/** A literal segment: URL path characters other than braces, '?', '#' and '%'-less escapes of them. */
const LITERAL = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]+$/;

/**
 * Checks a route key the way API Gateway reads one: an HTTP method (or `ANY`), one space, and a path that starts
 * with "/" and does not end with one, whose segments are literals or path variables `{name}`, with a greedy
 * variable `{name+}` only as the last segment.
 *
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
 */
export function parseRouteKey(scope: IConstruct, routeKey: string): ParsedRouteKey {
  const fail = (why: string): never => {
    throw new ConfigurationError(scope, 'routeKey', routeKey, `${why} Give a method and a path, ${EXAMPLES}.`);
  };
  if (routeKey === '$default') {
    fail('$default is the route of the API\'s own handler (every request no other route matches); it cannot be added.');
  }
  const match = /^(\S+) (\S+)$/.exec(routeKey);
  if (!match) fail('A route key is an HTTP method, one space and a path.');
  const [, method, path] = match!;
  if (!METHODS.includes(method)) {
    const upper = method.toUpperCase();
    fail(METHODS.includes(upper)
      ? `Methods are written in capitals: "${upper}".`
      : `The method must be one of ${METHODS.join(', ')} (ANY matches every method not routed otherwise).`);
  }
  if (path !== '/' && (!path.startsWith('/') || path.endsWith('/'))) {
    fail('The path must start with "/" and, unless it is "/" alone, not end with "/".');
  }
  const segments = path === '/' ? [] : path.slice(1).split('/');
  const variables = new Set<string>();
  segments.forEach((segment, index) => {
    if (segment === '') fail('The path has an empty segment ("//").');
    const variable = VARIABLE.exec(segment);
    if (variable) {
      const [, name, greedy] = variable;
      if (greedy && index !== segments.length - 1) {
        fail(`The greedy path variable {${name}+} must be the last segment of the path.`);
      }
      if (variables.has(name)) fail(`The path variable {${name}} appears twice.`);
      variables.add(name);
      return;
    }
    if (segment.includes('{') || segment.includes('}')) {
      fail(`The segment "${segment}" is not a path variable: a variable is a whole segment, {name} or {name+}, with a name of letters, digits or "_".`);
    }
    if (!LITERAL.test(segment)) {
      fail(`The segment "${segment}" has characters a URL path cannot carry unescaped.`);
    }
  });
  return { method: method as apigwv2.HttpMethod, path, key: `${method} ${path}` };
}

/** A construct id for a route: `GET /todos/{id}` becomes `GetTodosId`, `ANY /` becomes `AnyRoot`. */
export function routeId(route: ParsedRouteKey): string {
  const method = route.method[0] + route.method.slice(1).toLowerCase();
  const words = route.path.split('/')
    .map(part => part.replace(/[^A-Za-z0-9]/g, ''))
    .filter(part => part.length > 0)
    .map(part => part[0].toUpperCase() + part.slice(1));
  return method + (words.length > 0 ? words.join('') : 'Root');
}
