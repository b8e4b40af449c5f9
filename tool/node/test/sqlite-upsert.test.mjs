// Tests of the installed package sqlite-upsert with better-sqlite3 12
// (make test-node runs them in a fresh project beside the packed tarball).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import * as esm from 'sqlite-upsert';
import esmDefault from 'sqlite-upsert';

const require = createRequire(import.meta.url);
const cjs = require('sqlite-upsert');
const pkg = require('sqlite-upsert/package.json');

test('the installed package, not the source tree', () => {
  const p = cjs.getLoadablePath();
  assert.ok(path.isAbsolute(p));
  assert.ok(p.includes(path.join('node_modules', 'sqlite-upsert')), p);
  assert.match(path.basename(p), /^upsert\.(so|dylib|dll)$/);
  assert.ok(fs.existsSync(p));
});

test('the ES module and CommonJS exports are the same', () => {
  assert.equal(esm.getLoadablePath, cjs.getLoadablePath);
  assert.equal(esm.load, cjs.load);
  assert.equal(esmDefault, cjs);
});

test('load() and upsert_into_version() is the package version', () => {
  const db = new Database(':memory:');
  esm.load(db);
  const v = db.prepare('SELECT upsert_into_version() AS v').get().v;
  assert.equal(v, pkg.version);
  assert.match(v, /^\d+\.\d+\.\d+$/);
  db.close();
});

test('an upsert through the virtual table', () => {
  const db = new Database(':memory:');
  cjs.load(db);
  db.exec(`CREATE TABLE posts(id INTEGER PRIMARY KEY, title TEXT NOT NULL,
                              body TEXT);
           INSERT INTO posts VALUES(1, 'old', 'old');
           CREATE VIRTUAL TABLE temp.up USING upsert_into(posts);`);
  const ins = db.prepare('INSERT INTO up VALUES(?, ?, ?)');
  db.transaction((rows) => { for (const r of rows) ins.run(r); })(
    [[1, 'a', 'x'], [2, 'b', 'y'], [2, 'B', 'y']]);
  assert.deepEqual(db.prepare('SELECT * FROM posts ORDER BY id').raw().all(),
                   [[1, 'a', 'x'], [2, 'B', 'y']]);
  assert.equal(db.prepare("SELECT upsert_into_stats('up') AS s").get().s,
               '{"inserted":1,"updated":2,"skipped":0}');
  db.close();
});

test('loading twice registers nothing more', () => {
  const db = new Database(':memory:');
  cjs.load(db);
  cjs.load(db);
  const n = db.prepare(`SELECT count(*) AS n FROM pragma_module_list
                         WHERE name = 'upsert_into'`).get().n;
  assert.equal(n, 1);
  db.close();
});
