import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ApiHandler, ColdStart, ServerlessSqlApi, ServerlessSqlApiProps } from '../src';

const ENV = { account: '111111111111', region: 'eu-west-1' };
const imageDirectory = (dockerfile: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-handler-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  fs.writeFileSync(path.join(dir, 'index.mjs'), 'export const handler = async () => ({ statusCode: 200 });\n');
  return dir;
};
const NODE_IMAGE = 'FROM public.ecr.aws/lambda/nodejs:24\nCOPY index.mjs ${LAMBDA_TASK_ROOT}/\nCMD ["index.handler"]\n';

function build(props: Partial<ServerlessSqlApiProps> & Pick<ServerlessSqlApiProps, 'handler'>) {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: ENV });
  new ServerlessSqlApi(stack, 'Api', props);
  const assembly = app.synth();
  const artifact = assembly.getStackByName('Stack');
  const assets = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'Stack.assets.json'), 'utf8'));
  return { stack, template: Template.fromJSON(artifact.template), annotations: Annotations.fromStack(stack), assets };
}
const imagePlatforms = (assets: any) => Object.values<any>(assets.dockerImages ?? {}).map(image => image.source.platform);
const apiFunction = (template: Template) => Object.entries<any>(template.findResources('AWS::Lambda::Function'))
  .find(([id]) => id.startsWith('ApiHandlerFunction'))![1].Properties;

describe('container-image handlers', () => {
  test('an image asset is built for the function\'s architecture: arm64 by default, amd64 for x86_64', () => {
    const arm = build({ handler: ApiHandler.fromImageAsset(imageDirectory(NODE_IMAGE)) });
    expect(apiFunction(arm.template)).toMatchObject({ PackageType: 'Image', Architectures: ['arm64'], Code: { ImageUri: expect.anything() } });
    expect(imagePlatforms(arm.assets)).toEqual(['linux/arm64']);
    const x86 = build({ handler: ApiHandler.fromImageAsset(imageDirectory(NODE_IMAGE)), architecture: lambda.Architecture.X86_64 });
    expect(imagePlatforms(x86.assets)).toEqual(['linux/amd64']);
    // the connection contract reaches an image function as it reaches a zip one
    expect(apiFunction(arm.template).Environment.Variables).toMatchObject({ SQL_AUTH: 'iam', SQL_ENGINE: 'postgres' });
  });

  test('a platform other than the function\'s architecture is refused, as is a directory without a Dockerfile', () => {
    expect(() => build({ handler: ApiHandler.fromImageAsset(imageDirectory(NODE_IMAGE), { platform: ecrAssets.Platform.LINUX_AMD64 }) }))
      .toThrow(/Stack\/Api\/Handler: invalid handler.platform \("linux\/amd64"\)\. The function runs on arm64, so its image is built for linux\/arm64/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-dockerfile-'));
    expect(() => build({ handler: ApiHandler.fromImageAsset(empty) })).toThrow(/invalid handler.directory .* There is no Dockerfile in it/);
  });

  test('SnapStart is allowed for an image and set on the function, which aws-cdk-lib would refuse', () => {
    const labelled = build({
      handler: ApiHandler.fromImageAsset(imageDirectory(`${NODE_IMAGE}LABEL com.amazonaws.lambda.feature.snapstart="Allow"\n`)),
      coldStart: ColdStart.snapStart(),
    });
    expect(apiFunction(labelled.template).SnapStart).toEqual({ ApplyOn: 'PublishedVersions' });
    labelled.annotations.hasNoWarning('*', Match.stringLikeRegexp('snapshot lifecycle'));
    // the version the alias serves is published with SnapStart
    labelled.template.hasResourceProperties('AWS::Lambda::Alias', { FunctionVersion: Match.anyValue() });
    expect(() => new lambda.Function(new Stack(), 'F', {
      runtime: lambda.Runtime.FROM_IMAGE,
      handler: lambda.Handler.FROM_IMAGE,
      code: lambda.Code.fromEcrImage(ecr.Repository.fromRepositoryName(new Stack(), 'R', 'r')),
      snapStart: lambda.SnapStartConf.ON_PUBLISHED_VERSIONS,
    })).toThrow(/SnapStart currently not supported by runtime FROM_IMAGE/);
  });

  test('SnapStart on an image that neither declares nor runs the snapshot lifecycle gets a warning; a coordinating base image does not', () => {
    const bare = build({ handler: ApiHandler.fromImageAsset(imageDirectory(NODE_IMAGE)), coldStart: ColdStart.snapStart() });
    bare.annotations.hasWarning('/Stack/Api/Handler', Match.stringLikeRegexp(
      'ColdStart.snapStart\\(\\) is set, but .*Dockerfile neither starts from a Lambda base image that runs the snapshot lifecycle .* '
      + 'nor carries LABEL com.amazonaws.lambda.feature.snapstart="Allow"'));
    const python = build({
      handler: ApiHandler.fromImageAsset(imageDirectory('FROM public.ecr.aws/lambda/python:3.13\nCMD ["app.handler"]\n')),
      coldStart: ColdStart.snapStart(),
    });
    python.annotations.hasNoWarning('*', Match.stringLikeRegexp('snapshot lifecycle'));
  });

  test('an image from ECR takes SnapStart too; a Node.js zip function still cannot', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: ENV });
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'api');
    new ServerlessSqlApi(stack, 'Api', { handler: ApiHandler.fromImage(lambda.DockerImageCode.fromEcr(repository, { tagOrDigest: 'v1' })), coldStart: ColdStart.snapStart() });
    expect(apiFunction(Template.fromStack(stack))).toMatchObject({ PackageType: 'Image', SnapStart: { ApplyOn: 'PublishedVersions' } });
    const zip = new Stack(new App(), 'Zip', { env: ENV });
    expect(() => new ServerlessSqlApi(zip, 'Api', {
      handler: ApiHandler.fromCode({ runtime: lambda.Runtime.NODEJS_24_X, code: lambda.Code.fromInline('x'), handler: 'index.handler' }),
      coldStart: ColdStart.snapStart(),
    })).toThrow(/SnapStart supports Java 11\+, Python 3\.12\+ and \.NET 8\+ zip functions and container images, not nodejs24\.x from a zip/);
  });
});
