import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { ApiHandler, Deployment, ServerlessSqlApi, SqlEngine } from '../src';
import { databaseBootstrapAsset, preTrafficHookAsset } from '../src/private/assets';
import * as esbuild from '../src/private/esbuild';

// A handler that talks to the database through the runtime package; this repository has both drivers installed.
const DB_HANDLER_ENTRY = path.join(__dirname, 'fixtures', 'db-handler.ts');
// Strings found only in each driver's code: their absence from a bundle means the driver was left out.
const DRIVER_MARKERS = { pg: 'SCRAM-SHA-256', mysql2: 'caching_sha2_password' };

function build(engine: SqlEngine, options: Partial<Parameters<typeof ApiHandler.nodejs>[0]> = {}, stackProps: { bundle?: boolean } = {}) {
  const app = new App(stackProps.bundle === false ? { context: { 'aws:cdk:bundling-stacks': [] } } : {});
  const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  const api = new ServerlessSqlApi(stack, 'Api', {
    handler: ApiHandler.nodejs({ entry: DB_HANDLER_ENTRY, ...options }),
    engine,
    deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }),
  });
  return { app, stack, api };
}

/** The code of a function, as staged into the cloud assembly. */
function bundleOf(app: App, fn: lambda.IFunction): string {
  const asset = fn.node.findChild('Code') as s3assets.Asset;
  return fs.readFileSync(path.join(app.outdir, asset.assetPath, 'index.js'), 'utf8');
}

function functionAt(stack: Stack, pathPart: string): lambda.Function {
  const found = stack.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function && c.node.path.includes(pathPart));
  if (found.length !== 1) throw new Error(`expected one function under ${pathPart}, found ${found.length}`);
  return found[0];
}

describe('the handler bundle holds the driver of its engine only', () => {
  test('PostgreSQL: pg bundled, mysql2 left out although installed', () => {
    const { app, api } = build(SqlEngine.postgres());
    const bundle = bundleOf(app, api.function);
    expect(bundle).toContain(DRIVER_MARKERS.pg);
    expect(bundle).not.toContain(DRIVER_MARKERS.mysql2);
  });

  test('MySQL: mysql2 bundled, pg left out although installed', () => {
    const { app, api } = build(SqlEngine.auroraMysql());
    const bundle = bundleOf(app, api.function);
    expect(bundle).toContain(DRIVER_MARKERS.mysql2);
    expect(bundle).not.toContain(DRIVER_MARKERS.pg);
  });

  test('externalModules of the user are added to the defaults, not replacing them', () => {
    // GIVEN a PostgreSQL handler whose user marks pg external too (for example because a layer provides it)
    const { app, api } = build(SqlEngine.postgres(), { bundling: { externalModules: ['pg'] } });
    // THEN neither driver is bundled: the user's external and the default one both apply
    const bundle = bundleOf(app, api.function);
    expect(bundle).not.toContain(DRIVER_MARKERS.pg);
    expect(bundle).not.toContain(DRIVER_MARKERS.mysql2);
    // esbuild treats a subpath of an external package as external too (pg/lib/connection is what the runtime loads)
    expect(bundle).toContain('require("pg/lib/connection")');
  });
});

describe('the deploy-time functions use the bundle of their engine', () => {
  test.each([
    ['postgres', SqlEngine.postgres(), DRIVER_MARKERS.pg, DRIVER_MARKERS.mysql2],
    ['mysql', SqlEngine.mysql(), DRIVER_MARKERS.mysql2, DRIVER_MARKERS.pg],
  ])('%s', (engine, sqlEngine, own, other) => {
    const { app, stack } = build(sqlEngine);
    const bootstrap = bundleOf(app, functionAt(stack, 'Bootstrap/Function'));
    const hook = bundleOf(app, functionAt(stack, 'PreTrafficHook/Function'));
    expect(bootstrap).toBe(fs.readFileSync(path.join(databaseBootstrapAsset(engine), 'index.js'), 'utf8'));
    expect(hook).toBe(fs.readFileSync(path.join(preTrafficHookAsset(engine), 'index.js'), 'utf8'));
    for (const bundle of [bootstrap, hook]) {
      expect(bundle).toContain(own);
      expect(bundle).not.toContain(other);
    }
  });
});

describe('no silent Docker bundling', () => {
  afterEach(() => jest.restoreAllMocks());

  test('fails when esbuild is not installed', () => {
    jest.spyOn(esbuild, 'localEsbuildAvailable').mockReturnValue(false);
    expect(() => build(SqlEngine.postgres())).toThrow(
      /^Stack\/Api\/Handler: invalid handler \("ApiHandler.nodejs\(\) without esbuild"\)\. esbuild is not installed .*npm install --save-dev esbuild .*forceDockerBundling: true/);
  });

  test('bundles in Docker when asked to explicitly', () => {
    jest.spyOn(esbuild, 'localEsbuildAvailable').mockReturnValue(false);
    // no Docker on this machine: the failure, if any, is Docker's own, past this library's check
    let failure: unknown;
    try {
      build(SqlEngine.postgres(), { bundling: { forceDockerBundling: true } });
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).not.toMatch(/without esbuild/);
  });

  test('does not care about esbuild when the stack is not bundled', () => {
    jest.spyOn(esbuild, 'localEsbuildAvailable').mockReturnValue(false);
    expect(() => build(SqlEngine.postgres(), {}, { bundle: false })).not.toThrow();
  });

  describe('finds esbuild as aws-cdk-lib does', () => {
    const emptyPath = { PATH: '' };
    let project: string;
    beforeEach(() => {
      project = fs.mkdtempSync(path.join(os.tmpdir(), 'sql-api-esbuild-'));
    });
    afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

    test('not in a project without it, and no binary on the PATH', () => {
      expect(esbuild.findLocalEsbuild(project, emptyPath)).toBe(false);
    });

    test('in a project that installed it', () => {
      fs.mkdirSync(path.join(project, 'node_modules', 'esbuild'), { recursive: true });
      fs.writeFileSync(path.join(project, 'node_modules', 'esbuild', 'package.json'), '{"name":"esbuild","version":"0.28.0"}');
      expect(esbuild.findLocalEsbuild(path.join(project, 'node_modules', 'aws-cdk-lib'), emptyPath)).toBe(true);
    });

    test('as a binary on the PATH', () => {
      const bin = path.join(project, 'bin');
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'esbuild'), '#!/bin/sh\necho 0.28.0\n', { mode: 0o755 });
      expect(esbuild.findLocalEsbuild(project, { PATH: bin })).toBe(true);
    });

    test('in this repository', () => {
      expect(esbuild.localEsbuildAvailable()).toBe(true);
    });
  });
});
