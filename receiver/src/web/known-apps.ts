import { isAppGuid } from '../../../shared/src/protocol.ts';
import type { AppRegistry } from '../forwarder/registry.ts';
import { type AppSummary, appKind, type CrashIndex } from '../index/crash-index.ts';
import type { SourceMapStore } from '../symbols/store.ts';
import type { AppUploadTokens } from './app-tokens.ts';

/** An app as the pages and the API name it. */
export interface AppRef {
  guid: string;
  product: string;
  kind: AppSummary['kind'];
}

/**
 * What an app key is, for every page and API address about one app:
 *
 * - `crashes`: a processed crash names it;
 * - `set-up`: none does yet, but the operator set it up (`setUp` says how), so it is an app with
 *   no crashes, not a typo;
 * - `rebuilding`: the index being rebuilt from storage does not hold it yet (try again);
 * - `unknown`: nothing names it (a mistyped key); `spelled` is the key of an app with crashes
 *   that it names but for case, if there is one (keys are matched as written).
 */
export type AppLookup =
  | { found: 'crashes'; app: AppRef }
  | { found: 'set-up'; app: AppRef; setUp: string[] }
  | { found: 'rebuilding' }
  | { found: 'unknown'; spelled: string | null };

/** The places where an operator sets an app up before it ever crashes; each is optional. */
export interface AppSetup {
  /** Registered for forwarding (`socorrito apps add`, forward-apps.json). */
  registry?: Pick<AppRegistry, 'lookup' | 'list'>;
  /** Given upload tokens (upload-tokens.json). */
  tokens?: Pick<AppUploadTokens, 'apps' | 'list'>;
  /** Source maps uploaded (data/sourcemaps/). */
  sourcemaps?: Pick<SourceMapStore, 'list' | 'apps'>;
}

/**
 * The one answer to "is this an app?" for the API and the pages: an app with crashes, or one the
 * operator registered for forwarding, gave upload tokens or uploaded source maps for.
 */
export class KnownApps {
  constructor(
    private readonly index: CrashIndex,
    private readonly setup: AppSetup = {},
    private readonly rebuilding: () => boolean = () => false,
  ) {}

  async lookup(key: string): Promise<AppLookup> {
    const app = this.index.app(key);
    if (app) return { found: 'crashes', app };
    // While the index is rebuilt a set-up app may well have crashes not indexed yet: "no crashes
    // yet" would be untrue, so it waits as any other key.
    if (this.rebuilding()) return { found: 'rebuilding' };
    const setUp = await this.setUpAs(key);
    return setUp.length ? { found: 'set-up', app: { guid: key, product: '', kind: appKind(key) }, setUp } : { found: 'unknown', spelled: this.index.appKeyIgnoringCase(key) };
  }

  /** How the operator set up `key`, in words for a page ("registered for forwarding", …); [] when not at all. */
  async setUpAs(key: string): Promise<string[]> {
    // Every one of them takes a WebAppGUID only: product:<name> and - are never set up.
    if (!isAppGuid(key)) return [];
    const { registry, tokens, sourcemaps } = this.setup;
    const how: string[] = [];
    // The registry matches a GUID whatever its case; the index takes it as the crashes spell it.
    // Registered as {0B6C…} while its pages declare 0b6c…, the app is the one with those crashes.
    const registered = await registry?.lookup(key).catch(() => null);
    if (registered && this.index.appKeyIgnoringCase(key) === null) {
      // Without a copy kept, this receiver never lists its crashes: where they are is what to say.
      how.push(`registered for forwarding to ${registered.submit_url}${registered.keep_copy ? '' : ', keeping no copy: its crashes are listed on that receiver'}`);
    }
    if (tokens && tokens.list(key).length) how.push('given upload tokens');
    if (sourcemaps && (await sourcemaps.list(key)).length) how.push('source maps uploaded');
    return how;
  }

  /** Keys of set-up apps no processed crash names yet, for the apps list (where they show with 0 crashes). */
  async withoutCrashes(): Promise<string[]> {
    const { registry, tokens, sourcemaps } = this.setup;
    const keys = new Set<string>();
    // A registry file broken by a hand edit costs the list its forwarded apps, not the page: the
    // log already says what is wrong with it.
    for (const app of (await registry?.list().catch(() => [])) ?? []) if (this.index.appKeyIgnoringCase(app.guid) === null) keys.add(app.guid);
    for (const app of tokens?.apps() ?? []) keys.add(app);
    // The Apps page asks on every view: only the folders of apps with no crash are read further,
    // not every release of every app.
    for (const app of (await sourcemaps?.apps()) ?? []) {
      if (!keys.has(app) && !this.index.app(app) && isAppGuid(app) && (await sourcemaps!.list(app)).length) keys.add(app);
    }
    return [...keys].filter((key) => !this.index.app(key));
  }
}
