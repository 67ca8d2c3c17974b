// Gives the runtime package the library's version (package.json): both packages are released together, so a
// bump (or unbump) of one is a bump of the other.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const file = path.join(root, 'runtime', 'package.json');
const runtime = JSON.parse(fs.readFileSync(file, 'utf8'));
runtime.version = version;
fs.writeFileSync(file, `${JSON.stringify(runtime, null, 2)}\n`);
console.log(`runtime/package.json: version ${version}`);
