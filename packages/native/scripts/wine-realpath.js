// Preloaded (NODE_OPTIONS=--require) into every Windows Node process of the Windows suite. Wine
// does not report Unix symlinks as symbolic links, so Node's JavaScript realpath leaves pnpm's
// node_modules links unresolved and a package cannot find its own dependencies (they sit next to
// its real directory in node_modules/.pnpm). The native realpath (GetFinalPathNameByHandleW) does
// follow them: the module loader and jest use it instead.
'use strict';
const fs = require('node:fs');

const native = fs.realpathSync.native;
function realpathSync(target, options) {
  return native(target, typeof options === 'string' ? options : undefined);
}
realpathSync.native = native;
fs.realpathSync = realpathSync;
