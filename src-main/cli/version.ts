// The package version for `--version` (package.json is inlined by the bundle; read by tsx from the sources).
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
