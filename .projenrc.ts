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

  // Other jsii targets (Python, Java, .NET, Go) stay off until they can be packaged and verified.
  github: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,

  devDeps: [
    'esbuild@^0.28.0',
    'aws-cdk@^2.1148.1',
    'tsconfig-paths@^4.2.0',
    '@types/aws-lambda@^8.10.0',
    'cdk-nag@^3.0.2',
    '@cdklabs/cdk-validator-cfnguard@^0.0.62',
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
  gitignore: ['cdk.out', '*.d.ts.map', '/runtime/dist/'],
});

// The runtime package (handler side) lives in runtime/ as an npm workspace: it depends on database drivers, which
// a jsii module may not.
project.package.addField('workspaces', ['runtime']);
project.testTask.spawn(project.addTask('test:runtime', {
  description: 'Build and test the runtime package (real databases when configured, embedded Postgres otherwise)',
  exec: 'npm test --workspace runtime',
}));

// the tests type-check the example app too, which imports the library by its package name
project.tsconfigDev.file.addOverride('compilerOptions.paths', { 'cdk-serverless-sql-api': ['../src/index.ts'] });

// Internal Lambda handlers (lambda-src/) are bundled with esbuild into assets/, which the npm package ships.
const bundleHandlers = project.addTask('bundle:handlers', {
  description: 'Bundle the internal Lambda handlers into assets/',
});
bundleHandlers.exec('npm run build --workspace runtime');
bundleHandlers.exec('esbuild lambda-src/pre-traffic-hook.ts --bundle --minify --platform=node --target=node24 '
  + '--external:@aws-sdk/* --external:pg-native --outfile=assets/pre-traffic-hook/index.js');
bundleHandlers.exec('esbuild lambda-src/database-bootstrap.ts --bundle --minify --platform=node --target=node24 '
  + '--external:@aws-sdk/* --external:pg-native --outfile=assets/database-bootstrap/index.js');
project.preCompileTask.spawn(bundleHandlers);
project.testTask.prependSpawn(bundleHandlers);
project.gitignore.exclude('/assets/');

project.addTask('bench:runtime', {
  description: 'Benchmark the runtime package against its baselines (prints a table)',
  exec: 'npm run bench --workspace runtime',
});

project.addPackageIgnore('/examples/');
project.addPackageIgnore('/.ci/');
project.addPackageIgnore('/runtime/');
project.addPackageIgnore('/lambda-src/');

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
