import { awscdk, javascript } from 'projen';

const CDK_VERSION = '2.257.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-serverless-sql-api',
  description:
    'A serverless SQL API in one construct: Lambda in a VPC, RDS Proxy with IAM auth and TLS, published versions behind an alias, explicit cold-start choices.',
  author: 'ServerlessSqlApi maintainers',
  authorAddress: 'maintainers@users.noreply.github.com',
  repositoryUrl: 'https://github.com/serverless-sql-api/serverless-sql-api.git',
  license: 'Apache-2.0',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'rds-proxy', 'lambda', 'rds', 'serverless', 'iam-auth'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  cdkVersion: CDK_VERSION,
  cdkVersionPinning: false,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  minNodeVersion: '20.0.0',

  github: false,
  release: true,
  releaseToNpm: false,
  majorVersion: 0,
  depsUpgrade: false,
  pullRequestTemplate: false,

  devDeps: [
    'esbuild@^0.28.0',
    'aws-cdk@^2.1148.1',
    'tsconfig-paths@^4.2.0',
    '@types/aws-lambda@^8.10.0',
    'cdk-nag@^3.0.2',
    '@cdklabs/cdk-validator-cfnguard@^0.0.62',
    // the deploy-time handlers' SDK clients (the Lambda runtime provides them; the end-to-end tests load them)
    '@aws-sdk/client-secrets-manager@^3.1178.0',
    '@aws-sdk/client-codedeploy@^3.1133.0',
  ],

  // ts-jest transpiles test files one by one (isolatedModules) and reports no type errors: check them as a whole
  typecheckTests: true,
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testTimeout: 60_000,
      // the example app imports the library by its package name
      moduleNameMapper: { '^cdk-serverless-sql-api$': '<rootDir>/src' },
    },
  },
  gitignore: ['cdk.out', '*.d.ts.map', '/runtime/dist/', '/dev/dist/', '/dev/test/.work-*/', '.jsii.tabl.json'],
});

// The runtime package (handler side) lives in runtime/ as an npm workspace: it depends on database drivers, which
// a jsii module may not.
// The dev command (serverless-sql-api dev) lives in dev/, a workspace of its own for the same reason.
project.package.addField('workspaces', ['runtime', 'dev']);
project.testTask.spawn(project.addTask('test:runtime', {
  description: 'Build and test the runtime package (real databases when configured, embedded Postgres otherwise)',
  exec: 'npm test --workspace runtime',
}));
project.testTask.spawn(project.addTask('test:dev', {
  description: 'Build and test the dev command: the example app served over HTTP, the deploy-time handlers run end to end',
  exec: 'npm test --workspace dev',
}));

// the tests type-check the example app too, which imports the library by its package name
project.tsconfigDev.file.addOverride('compilerOptions.paths', { 'cdk-serverless-sql-api': ['../src/index.ts'] });

// Internal Lambda handlers (lambda-src/) are bundled with esbuild into assets/, which the npm package ships: one
// bundle per handler and engine family (assets/<handler>-<engine>/index.js), the other engine's driver left out.
const INTERNAL_HANDLERS = ['pre-traffic-hook', 'database-bootstrap'];
const DRIVERS: Record<string, string> = { postgres: 'pg', mysql: 'mysql2' };
const bundleHandlers = project.addTask('bundle:handlers', {
  description: 'Bundle the internal Lambda handlers into assets/, one bundle per engine family',
});
bundleHandlers.exec('npm run build --workspace runtime');
const assetDirectories: string[] = [];
for (const handler of INTERNAL_HANDLERS) {
  for (const [engine, driver] of Object.entries(DRIVERS)) {
    const otherDrivers = Object.values(DRIVERS).filter(other => other !== driver).map(other => `--external:${other}`);
    assetDirectories.push(`${handler}-${engine}`);
    bundleHandlers.exec(`esbuild lambda-src/${handler}.ts --bundle --minify --platform=node --target=node24 `
      + `--external:@aws-sdk/* --external:pg-native ${otherDrivers.join(' ')} --outfile=assets/${handler}-${engine}/index.js`);
  }
}
// bundles of handlers or layouts that no longer exist would otherwise ship in the package
const keep = JSON.stringify(assetDirectories);
bundleHandlers.exec(`node -e 'const fs = require("fs"); for (const d of fs.readdirSync("assets")) if (!${keep}.includes(d)) fs.rmSync("assets/" + d, { recursive: true })'`);
project.preCompileTask.spawn(bundleHandlers);
project.testTask.prependSpawn(bundleHandlers);
project.gitignore.exclude('/assets/');

project.addTask('bench:runtime', {
  description: 'Benchmark the runtime package against its baselines (prints a table)',
  exec: 'npm run bench --workspace runtime',
});

project.addTask('bench:synth', {
  description: 'Benchmark synth time per resource against a hand-wired aws-cdk-lib stack with the same parts (prints a table)',
  exec: 'ts-node --transpile-only -P tsconfig.json bench/synth.ts',
});
project.addPackageIgnore('/bench/');

project.addPackageIgnore('/examples/');
project.addPackageIgnore('/.ci/');
project.addPackageIgnore('/runtime/');
project.addPackageIgnore('/dev/');
project.addPackageIgnore('/lambda-src/');
project.addPackageIgnore('!/assets/');

// `npx projen package-all` packs both npm packages into dist/js/ from a fresh clone: the library (compiled, with
// API.md and every bundled handler) and the runtime package; then checks what each tarball holds.
const packageJs = project.tasks.tryFind('package:js')!;
packageJs.prependSpawn(bundleHandlers); // the tarball holds the handlers' current bundles, whatever ran before
const packageAll = project.tasks.tryFind('package-all')!;
packageAll.prependSpawn(project.tasks.tryFind('docgen')!);
packageAll.prependSpawn(project.compileTask);
packageAll.exec('npm pack --workspace runtime --pack-destination dist/js');
packageAll.exec('npm pack --workspace dev --pack-destination dist/js');
packageAll.exec('bash test/consumer/check-packages.sh dist/js');

// The other jsii languages, in the assembly (Construct Hub lists them) and verified by test/languages/run.sh: code
// generation for each, and a Python wheel built and checked. Publishing them needs the registries' credentials, which
// a release sets up; the package:* tasks build only the JavaScript package.
project.package.file.addOverride('jsii.targets', {
  python: { distName: 'cdk-serverless-sql-api', module: 'cdk_serverless_sql_api' },
  java: { package: 'io.github.serverlesssqlapi.cdk', maven: { groupId: 'io.github.serverless-sql-api', artifactId: 'cdk-serverless-sql-api' } },
  dotnet: { namespace: 'ServerlessSqlApi.Cdk', packageId: 'ServerlessSqlApi.Cdk' },
  go: { moduleName: 'github.com/serverless-sql-api/serverless-sql-api-go' },
});
project.addTask('test:languages', {
  description: 'Generate the Python, Java, .NET and Go bindings, build the Python wheel and check it with twine',
  exec: 'bash test/languages/run.sh',
});

// Releases: `npx projen release` bumps the version from the commits since the last tag, writes dist/changelog.md,
// builds and packs both packages, and publishes nothing (releaseToNpm: false; a release job with npm credentials
// publishes dist/js). The runtime package always carries the library's version.
project.tasks.tryFind('bump')!.exec('node projenrc/sync-runtime-version.js');
project.tasks.tryFind('unbump')!.exec('node projenrc/sync-runtime-version.js');

// npm test lints without changing files (CI must see what was committed); `npx projen eslint:fix` fixes
// (projen's Eslint writes its task's steps at synth time, so they are overridden in the generated file)
const lintArgs = ['--ext', '.ts,.tsx', '--no-error-on-unmatched-pattern', 'src', 'test', 'projenrc', '.projenrc.ts'];
project.tryFindObjectFile('.projen/tasks.json')!.addOverride('tasks.eslint.steps',
  [{ exec: ['eslint', ...lintArgs].join(' '), receiveArgs: true }]);
project.addTask('eslint:fix', {
  description: 'Runs eslint against the codebase and fixes what it can',
  env: { ESLINT_USE_FLAT_CONFIG: 'false', NODE_NO_WARNINGS: '1' },
  exec: ['eslint', '--fix', ...lintArgs].join(' '),
  receiveArgs: true,
});

// the consumer app's files are the README's example as a user pastes it, formatting included
project.eslint?.addIgnorePattern('test/consumer/app/');
project.addTask('test:consumer', {
  description: 'Pack both packages, install them into fresh CDK apps outside the repository and synthesize with the CDK CLI',
  exec: 'bash test/consumer/run.sh',
});

// Every TypeScript snippet of README.md and every @example compile in strict mode and translate to the other jsii
// languages (the fixtures are in rosetta/); npm test runs it.
const rosettaCheck = project.addTask('rosetta:check', {
  description: 'Compile and translate the README\'s TypeScript snippets and the @example tags (jsii-rosetta, strict)',
});
rosettaCheck.exec('jsii --silence-warnings=reserved-word');
rosettaCheck.exec('jsii-rosetta extract --compile --strict --fail');
project.testTask.spawn(rosettaCheck);
project.addPackageIgnore('/rosetta/');
project.addPackageIgnore('.jsii.tabl.json');

project.addTask('compliance:report', {
  description: 'Print the compliance counts of the README\'s security section (--write puts them into README.md)',
  env: { TS_NODE_PROJECT: 'examples/todo-api/tsconfig.json' },
  exec: 'node -r ts-node/register/transpile-only -r tsconfig-paths/register test/compliance/report.ts',
  receiveArgs: true,
});

const exampleSynth = project.addTask('example:synth', {
  description: 'Synthesize the example app through the CDK CLI (no AWS credentials needed)',
  env: { AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: 'true' },
});
exampleSynth.spawn(bundleHandlers);
exampleSynth.exec('tsc -p examples/todo-api');
exampleSynth.exec('cdk synth --quiet --no-notices --output cdk.out', { cwd: 'examples/todo-api' });

project.synth();
