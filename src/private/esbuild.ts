import { spawnSync } from 'child_process';
import * as path from 'path';

/**
 * Whether aws-cdk-lib's `NodejsFunction` will bundle with a local esbuild, tested as aws-cdk-lib itself tests it
 * (`aws-lambda-nodejs` `PackageInstallation.detect('esbuild')`): `esbuild/package.json` resolvable from where
 * aws-cdk-lib is installed, or an `esbuild` binary on the PATH that answers `--version`. When neither holds,
 * `NodejsFunction` bundles in a Docker container instead.
 *
 * @param resolveFrom the directory module resolution starts from
 * @param env the environment whose PATH is searched for a binary
 */
export function findLocalEsbuild(resolveFrom: string, env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    require.resolve('esbuild/package.json', { paths: [resolveFrom] });
    return true;
  } catch {
    const version = spawnSync('esbuild', ['--version'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    return version.status === 0 && !version.error;
  }
}

let detected: boolean | undefined;

/** `findLocalEsbuild` from aws-cdk-lib's installation, tested once per process (as aws-cdk-lib caches it). */
export function localEsbuildAvailable(): boolean {
  detected ??= findLocalEsbuild(path.dirname(require.resolve('aws-cdk-lib/package.json')));
  return detected;
}
