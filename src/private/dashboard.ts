import { Duration, Fn, IResolvable, IResolveContext, Stack, Token, TokenizedStringFragments, Tokenization } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

/** Marks where a token stood in the literal JSON text (private-use code points: JSON.stringify keeps them as they are). */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const MARK = /\uE000(\d+)\uE001/g;

/** Set `literal` to false to render every dashboard as `cloudwatch.Dashboard` does (the tests compare the two). */
export const dashboardRendering = { literal: true };

/**
 * The API's dashboard: a `cloudwatch.Dashboard` (users add widgets to it as to any other) whose body is rendered as
 * one literal JSON text inside an `Fn::Sub`, with one variable per distinct token (a function's name, an alarm's
 * ARN). `cloudwatch.Dashboard` renders the same JSON through `Stack.toJsonString`, which resolves every token
 * occurrence one by one into an `Fn::Join` of thousands of parts: for a row of graphs per function that was about a
 * third of the synth time of an API with twenty functions. CloudFormation produces the same dashboard body from
 * either; a test evaluates both and compares them.
 */
export class ApiDashboard extends cloudwatch.Dashboard {
  private readonly widgetRows: cloudwatch.IWidget[] = [];
  private readonly variableList: cloudwatch.IVariable[] = [];
  /** The rendering, kept for as long as the app has the same constructs (synth resolves the body three times). */
  private rendered?: { readonly constructs: number; readonly body: string };

  constructor(scope: Construct, id: string, private readonly defaultInterval: Duration) {
    super(scope, id, { defaultInterval });
    // an IResolvable rather than a Lazy, whose producer is not given the resolve context
    (this.node.defaultChild as cloudwatch.CfnDashboard).dashboardBody = Token.asString({
      creationStack: [],
      resolve: (context: IResolveContext) => this.render(context),
    });
  }

  public addWidgets(...widgets: cloudwatch.IWidget[]): void {
    super.addWidgets(...widgets);
    if (widgets.length > 0) this.widgetRows.push(widgets.length > 1 ? new cloudwatch.Row(...widgets) : widgets[0]);
  }

  public addVariable(variable: cloudwatch.IVariable): void {
    super.addVariable(variable);
    this.variableList.push(variable);
  }

  private body(): unknown {
    // the object cloudwatch.Dashboard renders (aws-cdk-lib/aws-cloudwatch/lib/dashboard.ts), for the props used here
    const column = new cloudwatch.Column(...this.widgetRows);
    column.position(0, 0);
    return {
      start: `-${this.defaultInterval.toIsoString()}`,
      widgets: column.toJson(),
      variables: this.variableList.length > 0 ? this.variableList.map(variable => variable.toJson()) : undefined,
    };
  }

  private render(context: IResolveContext): string {
    const constructs = this.node.root.node.findAll().length;
    if (this.rendered?.constructs !== constructs) {
      const body = this.body();
      this.rendered = {
        constructs,
        body: (dashboardRendering.literal ? literalJson(body, context) : undefined) ?? Stack.of(this).toJsonString(body),
      };
    }
    return this.rendered.body;
  }
}

/**
 * A metric's array in a graph: aws-cdk-lib wraps it in a token that drops a trailing options object left empty once
 * its undefined members are gone (aws-cdk-lib/aws-cloudwatch/lib/private/drop-empty-object-at-the-end-of-an-array-token.ts).
 * Returns the array as that token resolves it, or undefined for any other resolvable.
 */
function metricArray(resolvable: IResolvable): unknown[] | undefined {
  if (resolvable.constructor.name !== 'DropEmptyObjectAtTheEndOfAnArray') return undefined;
  const array = (resolvable as unknown as { value?: unknown }).value;
  if (!Array.isArray(array)) return undefined;
  const last: unknown = array[array.length - 1];
  if (last === null || typeof last !== 'object' || Array.isArray(last) || Tokenization.isResolvable(last)) return array;
  return Object.values(last).every(member => member === undefined) ? array.slice(0, -1) : array;
}

/**
 * A metric's account or region: aws-cdk-lib writes them as tokens that resolve to nothing where they equal the
 * stack's (aws-cdk-lib/aws-cloudwatch/lib/private/env-tokens.ts), so the key disappears from the body.
 */
function isStackDependent(token: IResolvable): boolean {
  return token.constructor.name === 'StackDependentToken';
}

/**
 * `value` as JSON text where every string token becomes an `Fn::Sub` variable, or undefined where the value holds
 * something this does not render (a number or list token, another resolvable object, a token inside an array where it
 * may resolve to nothing): the caller then falls back to `Stack.toJsonString`.
 */
function literalJson(value: unknown, context: IResolveContext): string | undefined {
  const tokens = new Map<IResolvable, number>();
  let unsupported = false;
  const mark = (token: IResolvable) => {
    if (isStackDependent(token)) unsupported = true;
    let n = tokens.get(token);
    if (n === undefined) {
      n = tokens.size;
      tokens.set(token, n);
    }
    return `${OPEN}${n}${CLOSE}`;
  };
  const fragmentsOf = (text: string) => (Token.isUnresolved(text) ? Tokenization.reverseString(text) : undefined);
  const marked = (text: string, fragments: TokenizedStringFragments | undefined): string => {
    if (text.includes(OPEN) || text.includes(CLOSE)) unsupported = true;
    if (!fragments) return text;
    const joined = fragments.mapTokens({ mapToken: mark }).join({
      join: (left: unknown, right: unknown) => {
        if ((left !== undefined && typeof left !== 'string') || (right !== undefined && typeof right !== 'string')) unsupported = true;
        return `${left ?? ''}${right ?? ''}`;
      },
    });
    if (typeof joined !== 'string' || Token.isUnresolved(joined)) unsupported = true;
    return joined;
  };
  const text = JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    if (typeof v === 'string') {
      const fragments = fragmentsOf(v);
      if (fragments?.length === 1 && fragments.firstToken && isStackDependent(fragments.firstToken)) {
        const resolved: unknown = fragments.firstToken.resolve(context);
        if (resolved === undefined && !Array.isArray(this)) return undefined;
        if (typeof resolved !== 'string') {
          unsupported = true;
          return v;
        }
        return marked(resolved, fragmentsOf(resolved));
      }
      return marked(v, fragments);
    }
    if (typeof v === 'number' && Token.isUnresolved(v)) unsupported = true;
    if (Array.isArray(v)) return v.filter(item => item !== undefined); // as Stack.resolve drops them
    if (v !== null && typeof v === 'object' && Tokenization.isResolvable(v)) {
      const metric = metricArray(v);
      if (metric) return metric;
      unsupported = true;
    }
    return v;
  });
  // a token left in the text stood where the replacer does not look (an object's key)
  if (unsupported || Token.isUnresolved(text)) return undefined;
  if (tokens.size === 0) return text;
  const variables: Record<string, string> = {};
  for (const [token, n] of tokens) variables[`T${n}`] = Token.asString(token);
  // a literal "${" is written "${!" in Fn::Sub
  return Fn.sub(text.replace(/\$\{/g, '${!').replace(MARK, (_m, n) => `\${T${n}}`), variables);
}
