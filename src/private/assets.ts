import * as path from 'path';

/** Internal Lambda handlers, bundled by the library's build (`lambda-src/` → `assets/`) and shipped in the package. */
const ASSETS = path.join(__dirname, '..', '..', 'assets');

/** The CodeDeploy pre-traffic hook. */
export const PRE_TRAFFIC_HOOK_ASSET = path.join(ASSETS, 'pre-traffic-hook');

/** The deploy-time database bootstrap (users and migrations). */
export const DATABASE_BOOTSTRAP_ASSET = path.join(ASSETS, 'database-bootstrap');
