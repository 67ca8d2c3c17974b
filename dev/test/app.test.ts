import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chooseApi, LocalApi, readAssembly } from '../src/app';

/** A cloud assembly as aws-cdk-lib writes it: a stack at the top, and a stage's nested assembly with another. */
function assembly(): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'assembly-'));
  const api = (apiPath: string) => ({ type: 'serverless-sql-api:local-api', data: { version: 1, path: apiPath, engine: 'postgres', database: `${apiPath}/Database`, httpApi: `${apiPath}/HttpApi`, users: [], frontDoor: 'httpApi', streaming: false } });
  const fn = (data: object) => ({ type: 'serverless-sql-api:local-function', data: { version: 1, ...data } });
  fs.writeFileSync(path.join(outdir, 'manifest.json'), JSON.stringify({
    artifacts: {
      Main: { type: 'aws:cloudformation:stack', additionalMetadataFile: 'Main.metadata.json' },
      Workers: { type: 'aws:cloudformation:stack', metadata: { '/Workers/W': [fn({ path: 'Workers/W', role: 'worker', workerId: 'W', database: 'Main/Api/Database' })] } },
      Stage: { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-Stage' } },
    },
  }));
  fs.writeFileSync(path.join(outdir, 'Main.metadata.json'), JSON.stringify({
    '/Main/Api': [api('Main/Api'), fn({ path: 'Main/Api', role: 'api', api: 'Main/Api' }), { type: 'aws:cdk:warning', data: 'unrelated' }],
    '/Main/Api/Route': [fn({ path: 'Main/Api/Route', role: 'route', routeKey: 'GET /x', httpApi: 'Main/Api/HttpApi' })],
  }));
  fs.mkdirSync(path.join(outdir, 'assembly-Stage'));
  fs.writeFileSync(path.join(outdir, 'assembly-Stage', 'manifest.json'), JSON.stringify({
    artifacts: { 'StageStack': { type: 'aws:cloudformation:stack', metadata: { '/Stage/StageStack/Api': [api('Stage/StageStack/Api'), fn({ path: 'Stage/StageStack/Api', role: 'api', api: 'Stage/StageStack/Api' })] } } },
  }));
  return outdir;
}

test('every API of the assembly, stages included, with its functions from every stack', () => {
  const apis = readAssembly(assembly());
  expect(apis.map(a => [a.path, a.stack, a.functions.map(f => f.path)])).toEqual([
    ['Main/Api', 'Main', ['Main/Api', 'Main/Api/Route', 'Workers/W']],
    ['Stage/StageStack/Api', 'StageStack', ['Stage/StageStack/Api']],
  ]);
});

test('--stack and --api choose one; otherwise the choices are listed', () => {
  const apis = readAssembly(assembly());
  expect(chooseApi(apis, 'StageStack').path).toBe('Stage/StageStack/Api');
  expect(chooseApi(apis, undefined, 'Main/Api').path).toBe('Main/Api');
  expect(() => chooseApi(apis)).toThrow(/The app has 2 APIs; choose one with --stack <stack> or --api <path>:\n {2}Main\/Api \(stack Main\)\n {2}Stage\/StageStack\/Api \(stack StageStack\)/);
  expect(() => chooseApi(apis, 'Nope')).toThrow(/No API matches --stack Nope; the app has:/);
  expect(() => chooseApi([] as LocalApi[])).toThrow(/The app has no ServerlessSqlApi/);
});

test('metadata of another version is refused, naming the fix', () => {
  const outdir = assembly();
  const file = path.join(outdir, 'Main.metadata.json');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/"version":1/g, '"version":2'));
  expect(() => readAssembly(outdir)).toThrow(/records local-development metadata version 2, and this command reads version 1: install the same version of both packages/);
});
