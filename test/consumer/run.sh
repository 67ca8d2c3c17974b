#!/usr/bin/env bash
# The library as a user gets it: packs the three packages, installs them from their tarballs into fresh CDK apps outside
# the repository (with only what the README tells users to install, from the registry), pastes in the README's
# example (test/consumer/app/) and synthesizes it with the real CDK CLI, once per engine family.
#
# Asserts that synth passes, at the aws-cdk-lib floor the package declares and with the newest aws-cdk-lib; that the
# API function's bundle holds its engine's driver and no code of the other one, also when the project has both
# drivers installed; that synth without esbuild fails naming the fix; and what the tarballs hold (check-packages.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
here="$repo/test/consumer"
started=$(date +%s)
step() { echo "[consumer $(($(date +%s) - started))s] $*"; }

export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=true
# the apps see none of this repository's tools (npx projen puts its node_modules/.bin on the PATH)
consumer_path=$(tr ':' '\n' <<<"$PATH" | grep -v "^$repo/" | paste -sd: -)
npm_install() { npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@"; }

step "packing the three packages (npx projen package-all)"
mkdir -p "$repo/dist"
(cd "$repo" && npx projen package-all) >"$repo/dist/package-all.log" 2>&1 || { cat "$repo/dist/package-all.log" >&2; exit 1; }
bash "$here/check-packages.sh" "$repo/dist/js"
library=$(ls "$repo"/dist/js/cdk-serverless-sql-api@*.jsii.tgz)
runtime=$(ls "$repo"/dist/js/serverless-sql-api-runtime-*.tgz)
dev=$(ls "$repo"/dist/js/serverless-sql-api-dev-*.tgz)

# version floors: the peer dependency ranges the packages declare (^x.y.z installs x.y.z for aws-cdk-lib and
# constructs; a driver installs as the user's `npm install pg` would, within the runtime's peer range)
peer() { tar xzf "$1" -O package/package.json | node -e "const r = JSON.parse(require('fs').readFileSync(0)).peerDependencies['$2']; console.log(process.argv[1] === 'floor' ? r.replace(/^[\^~]/, '') : r)" "${3:-range}"; }
cdk_lib=$(peer "$library" aws-cdk-lib floor)
constructs=$(peer "$library" constructs floor)

work=$(mktemp -d "${TMPDIR:-/tmp}/sql-api-consumer-XXXXXX")
trap 'status=$?; if [ $status -eq 0 ]; then rm -rf "$work"; else echo "consumer apps kept in $work" >&2; fi' EXIT

# create_app DIR DRIVER: a CDK app as a user sets one up by hand (no `cdk init`), with the README's example
create_app() {
  local dir=$1 driver=$2
  mkdir -p "$dir"
  cp -R "$here/app/." "$dir/"
  cat >"$dir/package.json" <<JSON
{ "name": "consumer-app", "version": "0.0.0", "private": true }
JSON
  cat >"$dir/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "commonjs", "lib": ["es2022"], "strict": true, "esModuleInterop": true,
    "skipLibCheck": true, "noEmit": true, "rootDir": "."
  },
  "include": ["bin/**/*.ts", "src/**/*.ts"]
}
JSON
  cat >"$dir/cdk.json" <<'JSON'
{ "app": "node -r ts-node/register/transpile-only bin/app.ts" }
JSON
  if [ "$driver" = mysql2 ]; then
    sed -i 's/SqlEngine\.postgres()/SqlEngine.mysql()/' "$dir/bin/app.ts"
    grep -q 'SqlEngine.mysql()' "$dir/bin/app.ts" || { echo "the example names no SqlEngine.postgres() to swap" >&2; return 1; }
  fi
  (cd "$dir" \
    && npm_install "aws-cdk-lib@$cdk_lib" "constructs@$constructs" "$library" "$runtime" "$driver@$(peer "$runtime" "$driver")" \
    && npm_install --save-dev 'aws-cdk@^2.1148.1' esbuild 'typescript@^6' ts-node)
}

# synth DIR OWN_MARKER OTHER_MARKER: synthesizes, then checks the API function's bundle
synth() {
  local dir=$1 own=$2 other=$3
  (cd "$dir" && rm -rf cdk.out && PATH=$consumer_path npx tsc -p tsconfig.json && PATH=$consumer_path npx cdk synth --quiet --no-notices) \
    >"$dir/synth.log" 2>&1 || { cat "$dir/synth.log" >&2; return 1; }
  local bundle
  bundle=$(node -e '
    const fs = require("fs");
    const template = JSON.parse(fs.readFileSync(process.argv[1] + "/cdk.out/ConsumerApp.template.json", "utf8"));
    // the function bundled from the user entry: ApiHandler.nodejs sets NODE_OPTIONS, the construct SQL_ENGINE
    const fns = Object.values(template.Resources).filter(r => r.Type === "AWS::Lambda::Function"
      && r.Properties.Environment?.Variables?.SQL_ENGINE && r.Properties.Environment.Variables.NODE_OPTIONS);
    if (fns.length !== 1) throw new Error(`expected one API function, found ${fns.length}`);
    console.log(`${process.argv[1]}/cdk.out/${fns[0].Metadata["aws:asset:path"]}/index.js`);' "$dir")
  if ! grep -q -- "$own" "$bundle"; then
    echo "FAIL: the bundle $bundle lacks its own driver (no \"$own\")" >&2
    return 1
  fi
  if grep -q -- "$other" "$bundle"; then
    echo "FAIL: the bundle $bundle holds code of the other engine's driver (\"$other\")" >&2
    return 1
  fi
  echo "  $(basename "$dir"): synth passed; API bundle $(stat -c %s "$bundle") bytes, with \"$own\", without \"$other\""
}

# strings found only in each driver's code
pg_marker='SCRAM-SHA-256'
mysql_marker='caching_sha2_password'

step "installing two apps in $work (aws-cdk-lib@$cdk_lib, constructs@$constructs, pg / mysql2)"
create_app "$work/postgres" pg >"$work/postgres.log" 2>&1 &
postgres_install=$!
create_app "$work/mysql" mysql2 >"$work/mysql.log" 2>&1 &
mysql_install=$!
wait $postgres_install || { cat "$work/postgres.log" >&2; exit 1; }
wait $mysql_install || { cat "$work/mysql.log" >&2; exit 1; }

step "synthesizing: PostgreSQL with pg only"
synth "$work/postgres" "$pg_marker" "$mysql_marker"
step "synthesizing: MySQL with mysql2 only"
synth "$work/mysql" "$mysql_marker" "$pg_marker"
step "synthesizing: PostgreSQL with both drivers installed"
mysql2_range=$(peer "$runtime" mysql2)
(cd "$work/postgres" && npm_install --no-save "mysql2@$mysql2_range" >/dev/null && node -e 'require.resolve("mysql2")')
synth "$work/postgres" "$pg_marker" "$mysql_marker"

# the README's "Develop locally": the dev command installed as a dev dependency serves the minimal example's handler
# over HTTP on the embedded PostgreSQL, with nothing else installed or running
step "serving the PostgreSQL app locally: npx serverless-sql-api dev"
(cd "$work/postgres" && npm_install --save-dev "$dev" >/dev/null)
# in a process group of its own: npx does not pass a signal on to the command it runs, so the group gets it
(cd "$work/postgres" && PATH=$consumer_path exec setsid npx serverless-sql-api dev --port 0 >"$work/dev.log" 2>&1) &
dev_pid=$!
url=""
for _ in $(seq 1 120); do
  url=$(grep -o 'on http://127\.0\.0\.1:[0-9]*' "$work/dev.log" | head -1 | cut -c4- || true)
  [ -n "$url" ] && break
  kill -0 $dev_pid 2>/dev/null || break
  sleep 0.5
done
[ -n "$url" ] || { cat "$work/dev.log" >&2; echo "FAIL: the dev command did not start" >&2; exit 1; }
answer=$(curl -s -w ' %{http_code}' "$url/")
kill -INT -- -"$dev_pid" 2>/dev/null || true
wait $dev_pid || true
if pgrep -f "$work/postgres/node_modules/.bin/serverless-sql-api" >/dev/null; then
  echo "FAIL: the dev command kept running after SIGINT" >&2
  pkill -KILL -f "$work/postgres/node_modules/.bin/serverless-sql-api" || true
  exit 1
fi
if ! grep -qE '^\[\{"now":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[^"]+"\}\] 200$' <<<"$answer"; then
  cat "$work/dev.log" >&2
  echo "FAIL: GET / answered \"$answer\"" >&2
  exit 1
fi
echo "  GET / -> $answer"
grep -E '^GET / 200 ' "$work/dev.log" | sed 's/^/  /'
# the dev package depends on esbuild: out again, so that the app below is one without esbuild
(cd "$work/postgres" && npm uninstall --no-audit --no-fund --loglevel=error serverless-sql-api-dev >/dev/null)

# the top of the peer range: the newest aws-cdk-lib on the registry (the CLI of the app's range must read it too)
step "synthesizing: MySQL with the newest aws-cdk-lib"
(cd "$work/mysql" && npm_install aws-cdk-lib@latest >/dev/null)
newest=$(cd "$work/mysql" && node -p 'require("aws-cdk-lib/package.json").version')
[ "$newest" != "$cdk_lib" ] || { echo "FAIL: the newest aws-cdk-lib is the floor ($cdk_lib): nothing newer to test" >&2; exit 1; }
echo "  aws-cdk-lib $newest (floor $cdk_lib)"
synth "$work/mysql" "$mysql_marker" "$pg_marker"

step "synthesizing: PostgreSQL without esbuild installed (must fail, naming the fix)"
(cd "$work/postgres" && npm uninstall --no-audit --no-fund --loglevel=error esbuild >/dev/null)
if (cd "$work/postgres" && PATH=$consumer_path npx cdk synth --quiet --no-notices) >"$work/no-esbuild.log" 2>&1; then
  echo "FAIL: synth passed without esbuild" >&2
  exit 1
fi
if ! grep -q 'ConsumerApp/Api/Handler: invalid handler.*npm install --save-dev esbuild' "$work/no-esbuild.log"; then
  cat "$work/no-esbuild.log" >&2
  echo "FAIL: synth without esbuild did not fail with the library's message" >&2
  exit 1
fi
echo "  postgres: synth failed as it should: $(grep -o 'invalid handler.*esbuild (' "$work/no-esbuild.log" | head -1)…"
step "passed"
