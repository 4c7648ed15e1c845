/**
 * The crash index's tables. Bump `SCHEMA_VERSION` whenever anything here changes: on open, an
 * index with another version is emptied and rebuilt from the stored crashes.
 *
 * `crashes` holds one row per processed crash (its flat fields). The `*_daily` tables are
 * counts per UTC day kept up to date by triggers on `crashes`, so top crashers, the apps page
 * and the signature page read a few thousand small rows instead of scanning a million crashes.
 * Unknown values are stored as '' (not NULL) so they can be part of primary keys and facets.
 *
 * A crash's error type and message are in `texts`, each distinct pair once: the same bug words
 * its crashes alike, so a text search reads far fewer rows there than crashes (see search()).
 *
 * The daily tables carry the crash's environment as the last key column: a page that looks
 * at one environment filters on it, one that looks at all sums over it (an app has a few).
 */

export const SCHEMA_VERSION = 8;

/** Every facet the signature page and top crashers break crashes down by. */
export const FACETS = ['version', 'browser', 'browser_version', 'os', 'url_path', 'mechanism'] as const;
export type Facet = (typeof FACETS)[number];

export const TABLES_SQL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE signatures (signature_id TEXT PRIMARY KEY, signature TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE crashes (
  id INTEGER PRIMARY KEY,
  crash_id TEXT NOT NULL,
  submitted_at INTEGER NOT NULL,   -- ms since the epoch
  day INTEGER NOT NULL,            -- UTC days since the epoch
  app TEXT NOT NULL,               -- appKey(): WebAppGUID, else 'product:<ProductName>', else '-'
  product TEXT NOT NULL,
  version TEXT NOT NULL,
  environment TEXT NOT NULL,       -- 'production', 'staging', '' when none was declared
  signature_id TEXT NOT NULL,
  text_id INTEGER NOT NULL,        -- texts.id: the error type and message
  mechanism TEXT NOT NULL,
  browser TEXT NOT NULL,           -- 'Firefox'
  browser_version TEXT NOT NULL,   -- 'Firefox 153.0'
  os TEXT NOT NULL,
  url_path TEXT NOT NULL
);
-- Removed with the last crash that has it (crashes_uncounted): a message can hold personal data.
CREATE TABLE texts (id INTEGER PRIMARY KEY, error_type TEXT NOT NULL, error_message TEXT NOT NULL);
CREATE UNIQUE INDEX texts_text ON texts (error_type, error_message);
-- product: the name pages show (see appName), kept up to date by the triggers.
CREATE TABLE apps (app TEXT PRIMARY KEY, product TEXT NOT NULL) WITHOUT ROWID;
-- How many crashes of an app carry each (non-empty) ProductName, and when one was first seen
-- (not moved when that crash is deleted), so an app is named by the name most crashes carry.
CREATE TABLE app_products (
  app TEXT, product TEXT, n INTEGER NOT NULL, first_at INTEGER NOT NULL,
  PRIMARY KEY (app, product)
) WITHOUT ROWID;
CREATE INDEX app_products_rank ON app_products (app, n DESC, first_at, product);
CREATE TABLE app_daily (app TEXT, day INTEGER, environment TEXT, n INTEGER NOT NULL, PRIMARY KEY (app, day, environment)) WITHOUT ROWID;
CREATE TABLE sig_daily (
  app TEXT, day INTEGER, signature_id TEXT, environment TEXT, n INTEGER NOT NULL,
  PRIMARY KEY (app, day, signature_id, environment)
) WITHOUT ROWID;
CREATE INDEX sig_daily_signature ON sig_daily (signature_id, day);
CREATE TABLE sig_version_daily (
  app TEXT, version TEXT, day INTEGER, signature_id TEXT, environment TEXT, n INTEGER NOT NULL,
  PRIMARY KEY (app, version, day, signature_id, environment)
) WITHOUT ROWID;
-- Browsers per release: top crashers of one release shows that release's browsers.
CREATE TABLE sig_version_browser_daily (
  app TEXT, version TEXT, signature_id TEXT, day INTEGER, environment TEXT, browser TEXT, n INTEGER NOT NULL,
  PRIMARY KEY (app, version, signature_id, day, environment, browser)
) WITHOUT ROWID;
CREATE TABLE sig_facet_daily (
  signature_id TEXT, facet TEXT, value TEXT, day INTEGER, app TEXT, environment TEXT, n INTEGER NOT NULL,
  PRIMARY KEY (signature_id, facet, value, day, app, environment)
) WITHOUT ROWID;
`;

/**
 * The name an app is shown by: the ProductName most of its crashes carry, the one seen first
 * on a tie; NULL when none of its crashes has one. Any submitter can send any ProductName with
 * an app's WebAppGUID, so the latest crash must not rename the app. One seek in app_products_rank.
 */
function appName(app: string): string {
  return `(SELECT product FROM app_products WHERE app = ${app} ORDER BY n DESC, first_at, product LIMIT 1)`;
}

/** Names every app from app_products (after a bulk load or recount); an app without one keeps ''. */
export const NAME_APPS_SQL = `UPDATE apps SET product = coalesce(${appName('apps.app')}, '');`;

function facetUpserts(): string {
  return FACETS.map(
    (f) => `  INSERT INTO sig_facet_daily VALUES (new.signature_id, '${f}', new.${f}, new.day, new.app, new.environment, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;`,
  ).join('\n');
}

function facetRemovals(): string {
  return FACETS.map(
    (f) => `  UPDATE sig_facet_daily SET n = n - 1
    WHERE signature_id = old.signature_id AND facet = '${f}' AND value = old.${f} AND day = old.day AND app = old.app
      AND environment = old.environment;`,
  ).join('\n');
}

/** Indexes on `crashes`: dropped during a bulk load and built once after it (much faster). */
export const CRASH_INDEXES_SQL = `
CREATE UNIQUE INDEX IF NOT EXISTS crashes_crash_id ON crashes (crash_id);
-- Search newest first within an app, a signature, or everything; first/last seen per app.
CREATE INDEX IF NOT EXISTS crashes_app_time ON crashes (app, submitted_at);
CREATE INDEX IF NOT EXISTS crashes_signature_time ON crashes (signature_id, submitted_at);
CREATE INDEX IF NOT EXISTS crashes_app_signature_time ON crashes (app, signature_id, submitted_at);
CREATE INDEX IF NOT EXISTS crashes_time ON crashes (submitted_at);
-- The crashes of the texts a search matched; whether a text still has crashes.
CREATE INDEX IF NOT EXISTS crashes_text ON crashes (text_id);
`;

export const DROP_CRASH_INDEXES_SQL = `
DROP INDEX IF EXISTS crashes_crash_id; DROP INDEX IF EXISTS crashes_app_time; DROP INDEX IF EXISTS crashes_signature_time;
DROP INDEX IF EXISTS crashes_app_signature_time; DROP INDEX IF EXISTS crashes_time; DROP INDEX IF EXISTS crashes_text;
`;

/** Keeps the newest row of a crash loaded twice in bulk, so the unique index can be built. */
export const DEDUPE_SQL = `DELETE FROM crashes WHERE id NOT IN (SELECT max(id) FROM crashes GROUP BY crash_id);
DELETE FROM texts WHERE id NOT IN (SELECT text_id FROM crashes);`;

/** Triggers that keep the daily counts equal to the rows of `crashes`. */
export const TRIGGERS_SQL = `
CREATE TRIGGER crashes_counted AFTER INSERT ON crashes BEGIN
  INSERT INTO apps VALUES (new.app, '') ON CONFLICT DO NOTHING;
  INSERT INTO app_products SELECT new.app, new.product, 1, new.submitted_at WHERE new.product != ''
    ON CONFLICT DO UPDATE SET n = n + 1, first_at = min(first_at, excluded.first_at);
  UPDATE apps SET product = ${appName('new.app')} WHERE app = new.app AND new.product != '';
  INSERT INTO app_daily VALUES (new.app, new.day, new.environment, 1) ON CONFLICT DO UPDATE SET n = n + 1;
  INSERT INTO sig_daily VALUES (new.app, new.day, new.signature_id, new.environment, 1) ON CONFLICT DO UPDATE SET n = n + 1;
  INSERT INTO sig_version_daily VALUES (new.app, new.version, new.day, new.signature_id, new.environment, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
  INSERT INTO sig_version_browser_daily VALUES (new.app, new.version, new.signature_id, new.day, new.environment, new.browser, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
${facetUpserts()}
END;

CREATE TRIGGER crashes_uncounted AFTER DELETE ON crashes BEGIN
  UPDATE app_products SET n = n - 1 WHERE app = old.app AND product = old.product;
  DELETE FROM app_products WHERE app = old.app AND product = old.product AND n <= 0;
  -- An app whose last named crash is gone keeps the name it had.
  UPDATE apps SET product = coalesce(${appName('old.app')}, product) WHERE app = old.app AND old.product != '';
  UPDATE app_daily SET n = n - 1 WHERE app = old.app AND day = old.day AND environment = old.environment;
  UPDATE sig_daily SET n = n - 1
    WHERE app = old.app AND day = old.day AND signature_id = old.signature_id AND environment = old.environment;
  UPDATE sig_version_daily SET n = n - 1
    WHERE app = old.app AND version = old.version AND day = old.day AND signature_id = old.signature_id AND environment = old.environment;
  UPDATE sig_version_browser_daily SET n = n - 1
    WHERE app = old.app AND version = old.version AND signature_id = old.signature_id AND day = old.day AND environment = old.environment
      AND browser = old.browser;
${facetRemovals()}
  DELETE FROM app_daily WHERE app = old.app AND day = old.day AND environment = old.environment AND n <= 0;
  DELETE FROM sig_daily
    WHERE app = old.app AND day = old.day AND signature_id = old.signature_id AND environment = old.environment AND n <= 0;
  DELETE FROM sig_version_daily
    WHERE app = old.app AND version = old.version AND day = old.day AND signature_id = old.signature_id
      AND environment = old.environment AND n <= 0;
  DELETE FROM sig_version_browser_daily
    WHERE app = old.app AND version = old.version AND signature_id = old.signature_id AND day = old.day
      AND environment = old.environment AND browser = old.browser AND n <= 0;
  DELETE FROM sig_facet_daily WHERE signature_id = old.signature_id AND day = old.day AND app = old.app AND n <= 0;
  DELETE FROM texts WHERE id = old.text_id AND NOT EXISTS (SELECT 1 FROM crashes WHERE text_id = old.text_id);
END;
`;

export const DROP_TRIGGERS_SQL = `
DROP TRIGGER IF EXISTS crashes_counted;
DROP TRIGGER IF EXISTS crashes_uncounted;
`;

/** Recomputes every daily count from `crashes` (after a bulk load without triggers). */
export const RECOUNT_SQL = `
DELETE FROM apps; DELETE FROM app_products; DELETE FROM app_daily; DELETE FROM sig_daily; DELETE FROM sig_version_daily; DELETE FROM sig_version_browser_daily; DELETE FROM sig_facet_daily;
INSERT INTO app_products SELECT app, product, count(*), min(submitted_at) FROM crashes WHERE product != '' GROUP BY app, product;
INSERT INTO apps SELECT DISTINCT app, '' FROM crashes;
${NAME_APPS_SQL}
INSERT INTO app_daily SELECT app, day, environment, count(*) FROM crashes GROUP BY app, day, environment;
INSERT INTO sig_daily SELECT app, day, signature_id, environment, count(*) FROM crashes GROUP BY app, day, signature_id, environment;
INSERT INTO sig_version_daily SELECT app, version, day, signature_id, environment, count(*) FROM crashes
  GROUP BY app, version, day, signature_id, environment;
INSERT INTO sig_version_browser_daily SELECT app, version, signature_id, day, environment, browser, count(*) FROM crashes
  GROUP BY app, version, signature_id, day, environment, browser;
${FACETS.map(
  (f) =>
    `INSERT INTO sig_facet_daily SELECT signature_id, '${f}', ${f}, day, app, environment, count(*) FROM crashes
      GROUP BY signature_id, ${f}, day, app, environment;`,
).join('\n')}
`;

export const DROP_ALL_SQL = `
${DROP_TRIGGERS_SQL}
DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS signatures; DROP TABLE IF EXISTS crashes; DROP TABLE IF EXISTS texts; DROP TABLE IF EXISTS apps;
DROP TABLE IF EXISTS app_products;
DROP TABLE IF EXISTS app_daily; DROP TABLE IF EXISTS sig_daily; DROP TABLE IF EXISTS sig_version_daily;
DROP TABLE IF EXISTS sig_version_browser_daily;
DROP TABLE IF EXISTS sig_facet_daily;
`;
