import * as path from 'path';

/**
 * Internal Lambda handlers, bundled by the library's build (`lambda-src/` → `assets/`) and shipped in the package:
 * one bundle per engine family, each holding that engine's driver only.
 */
const ASSETS = path.join(__dirname, '..', '..', 'assets');

/** The CodeDeploy pre-traffic hook for an engine family (`postgres` or `mysql`). */
export function preTrafficHookAsset(engine: string): string {
  return path.join(ASSETS, `pre-traffic-hook-${engine}`);
}

/** The deploy-time database bootstrap (users and migrations) for an engine family (`postgres` or `mysql`). */
export function databaseBootstrapAsset(engine: string): string {
  return path.join(ASSETS, `database-bootstrap-${engine}`);
}
