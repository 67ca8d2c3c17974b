// Gives the runtime and dev packages the library's version (package.json): the packages are released together, so a
// bump (or unbump) of one is a bump of the others.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const workspace of ['runtime', 'dev']) {
  const file = path.join(root, workspace, 'package.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  manifest.version = version;
  // the dev command runs migrations with the runtime of the same release
  if (manifest.dependencies && manifest.dependencies['serverless-sql-api-runtime']) manifest.dependencies['serverless-sql-api-runtime'] = version;
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`${workspace}/package.json: version ${version}`);
}
