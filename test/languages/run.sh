#!/usr/bin/env bash
# The other jsii languages, as far as they can be checked without their registries: jsii-pacmak generates the
# Python, Java, .NET and Go bindings from the compiled assembly, and the Python wheel is built from the generated
# code with Debian's Python build tools and checked with twine (it cannot be imported here: the jsii Python runtime
# and aws-cdk-lib for Python come from PyPI).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
started=$(date +%s)
step() { echo "[languages $(($(date +%s) - started))s] $*"; }

step "compiling the assembly"
npx jsii --silence-warnings=reserved-word >/dev/null
out=$(mktemp -d "${TMPDIR:-/tmp}/sql-api-languages-XXXXXX")
trap 'rm -rf "$out"' EXIT

step "generating the bindings (jsii-pacmak --code-only)"
npx jsii-pacmak --code-only --outdir "$out" --targets python java dotnet go >"$out/pacmak.log" 2>&1 || { cat "$out/pacmak.log" >&2; exit 1; }
for expected in \
  "python/src/cdk_serverless_sql_api/__init__.py" \
  "java/src/main/java/io/github/serverlesssqlapi/cdk/ServerlessSqlApi.java" \
  "dotnet/ServerlessSqlApi.Cdk/ServerlessSqlApi/Cdk/ServerlessSqlApi.cs" \
  "go/cdkserverlesssqlapi/ServerlessSqlApi.go"; do
  if [ ! -f "$out/$expected" ]; then
    echo "FAIL: jsii-pacmak generated no $expected; it generated:" >&2
    (cd "$out" && find . -maxdepth 4 -type d | sort | head -40) >&2
    exit 1
  fi
  echo "  generated $expected"
done

# Debian's interpreter, where its python3-build and friends are installed (another python3 may come first on PATH)
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || echo python3)
if ! "$python" -c 'import build, setuptools, wheel' 2>/dev/null || ! command -v twine >/dev/null; then
  if [ "${SQL_TEST_REQUIRE_SERVERS:-}" = 1 ]; then
    echo "FAIL: the Python build tools are missing (Debian: python3-build python3-setuptools python3-wheel twine)" >&2
    exit 1
  fi
  step "skipped the Python wheel: install python3-build python3-setuptools python3-wheel twine (Debian) to build it"
  exit 0
fi
step "building the Python wheel from the generated code"
(cd "$out/python" && "$python" -m build --no-isolation --skip-dependency-check --wheel --outdir "$out/wheel" >"$out/build.log" 2>&1) \
  || { cat "$out/build.log" >&2; exit 1; }
wheel=$(ls "$out"/wheel/*.whl)
twine check --strict "$wheel"
# listed to a file first: grep -q stops reading at the first match, and under pipefail the writer's broken pipe
# would fail the step once the listing outgrows the pipe's buffer
"$python" -m zipfile -l "$wheel" >"$out/wheel.txt"
grep -q 'cdk_serverless_sql_api/__init__.py' "$out/wheel.txt" || { echo "FAIL: the wheel holds no module" >&2; exit 1; }
step "passed: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
