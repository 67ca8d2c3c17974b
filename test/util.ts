import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Template } from 'aws-cdk-lib/assertions';
import { ApiHandler, ServerlessSqlApi, ServerlessSqlApiProps } from '../src';

export const HANDLER_ENTRY = path.join(__dirname, 'fixtures', 'handler.ts');

export function nodeHandler() {
  return ApiHandler.nodejs({ entry: HANDLER_ENTRY });
}

export function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
}

export interface Synthesized {
  readonly stack: Stack;
  readonly api: ServerlessSqlApi;
  readonly template: Template;
  readonly annotations: Annotations;
}

/** Builds a ServerlessSqlApi in a fresh stack; `setup` may create what the props need inside that stack. */
export function synth(props: Partial<ServerlessSqlApiProps> = {}, setup?: (stack: Stack) => Partial<ServerlessSqlApiProps>): Synthesized {
  const stack = newStack();
  const extra = setup ? setup(stack) : {};
  const api = new ServerlessSqlApi(stack, 'Api', { handler: nodeHandler(), ...props, ...extra });
  let template: Template | undefined;
  return {
    stack,
    api,
    // synthesized on first use, so that a test may still add to the stack before reading the template
    get template() {
      return template ??= Template.fromStack(stack);
    },
    get annotations() {
      this.template;
      return Annotations.fromStack(stack);
    },
  };
}

/** Resources of one type, as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string): Array<[string, any]> {
  return Object.entries(template.findResources(type));
}

export function logicalIdOf(template: Template, type: string, match: (r: any) => boolean = () => true): string {
  const found = resourcesOf(template, type).filter(([, r]) => match(r));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0][0];
}
