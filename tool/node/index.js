'use strict';
// sqlite-upsert: the upsert_into extension, compiled, and two functions
// to load it, in the manner of sqlite-vec:
//
//   const Database = require('better-sqlite3');
//   const sqliteUpsert = require('sqlite-upsert');
//   const db = new Database('data.db');
//   sqliteUpsert.load(db);          // or db.loadExtension(getLoadablePath())
//
// The package carries the extension of the platform it was packed on
// (package.json's os and cpu), in lib/; `make package-node` packs it.
const fs = require('node:fs');
const path = require('node:path');

const SUFFIX = process.platform === 'win32' ? 'dll'
  : process.platform === 'darwin' ? 'dylib' : 'so';

// The path of the compiled extension, with its suffix.  Throws when the
// package has none for this platform.
function getLoadablePath() {
  const file = path.join(__dirname, 'lib', `upsert.${SUFFIX}`);
  if (!fs.existsSync(file)) {
    throw new Error(`sqlite-upsert: no compiled extension for ` +
      `${process.platform}-${process.arch} in this package (${file}): ` +
      `build it from source (make) and load dist/upsert`);
  }
  return file;
}

// Load upsert_into on db, a better-sqlite3 Database (or anything with
// loadExtension(path)).
function load(db) {
  db.loadExtension(getLoadablePath());
}

module.exports = { getLoadablePath, load };
