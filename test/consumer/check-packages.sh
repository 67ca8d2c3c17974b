#!/usr/bin/env bash
# Checks what the three npm tarballs in DIR (default dist/js) hold: the library with its compiled code, API.md, README,
# LICENSE and one bundle per internal handler (lambda-src/) and engine family; the runtime package with its compiled
# code, README, LICENSE and repository field; the dev command with its bin, runner, README and LICENSE.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="${1:-dist/js}"
library=$(ls "$dir"/cdk-serverless-sql-api@*.jsii.tgz)
runtime=$(ls "$dir"/serverless-sql-api-runtime-*.tgz)
dev=$(ls "$dir"/serverless-sql-api-dev-*.tgz)
failures=0

expect() { # tarball listing, path
  if ! grep -qx "package/$2" <<<"$1"; then
    echo "missing from the tarball: $2" >&2
    failures=$((failures + 1))
  fi
}

listing=$(tar tzf "$library")
for file in package.json README.md LICENSE API.md .jsii lib/index.js lib/index.d.ts; do expect "$listing" "$file"; done
for source in lambda-src/*.ts; do
  for engine in postgres mysql; do expect "$listing" "assets/$(basename "$source" .ts)-$engine/index.js"; done
done
stale=$(grep '^package/assets/' <<<"$listing" | grep -v -E '^package/assets/([a-z-]+-(postgres|mysql)/(index\.js)?)?$' || true)
if [ -n "$stale" ]; then
  echo "unexpected files under assets/: $stale" >&2
  failures=$((failures + 1))
fi

listing=$(tar tzf "$runtime")
for file in package.json README.md LICENSE dist/index.js dist/index.d.ts; do expect "$listing" "$file"; done
directory=$(tar xzf "$runtime" -O package/package.json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).repository?.directory ?? "")')
if [ "$directory" != runtime ]; then
  echo "the runtime's package.json has no repository.directory \"runtime\"" >&2
  failures=$((failures + 1))
fi

listing=$(tar tzf "$dev")
for file in package.json README.md LICENSE dist/cli.js dist/runner.js dist/index.js dist/index.d.ts; do expect "$listing" "$file"; done
manifest=$(tar xzf "$dev" -O package/package.json)
if [ "$(node -e 'const m = JSON.parse(process.argv[1]); console.log(m.bin?.["serverless-sql-api"] ?? "", m.repository?.directory ?? "")' "$manifest")" != "dist/cli.js dev" ]; then
  echo "the dev package's package.json lacks bin serverless-sql-api -> dist/cli.js or repository.directory \"dev\"" >&2
  failures=$((failures + 1))
fi
if ! tar xzf "$dev" -O package/dist/cli.js | head -1 | grep -qx '#!/usr/bin/env node'; then
  echo "the dev package's dist/cli.js does not start with #!/usr/bin/env node" >&2
  failures=$((failures + 1))
fi

if [ "$failures" -gt 0 ]; then exit 1; fi
echo "packages checked: $(basename "$library") ($(du -k "$library" | cut -f1) KiB), $(basename "$runtime") ($(du -k "$runtime" | cut -f1) KiB), $(basename "$dev") ($(du -k "$dev" | cut -f1) KiB)"
