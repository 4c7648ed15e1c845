import { existsSync } from 'node:fs';
import { AppRegistry, InvalidApp, REGISTRY_FILE, RegistryUnreadable } from '../forwarder/registry.ts';
import { FsCrashStorage } from '../storage/fs-storage.ts';
import { type CliIo, dataDirSetting, refuseNewerDataDir, UsageError, parseCommandArgs, requireDataDir } from './usage.ts';

export const APPS_HELP = `socorrito apps add --guid GUID [--submit-url URL] [--trust-dumps | --no-trust-dumps]
    [--keep-copy | --no-keep-copy] [--data-dir ./data]
socorrito apps list [--json] [--data-dir ./data]
socorrito apps remove --guid GUID [--data-dir ./data]
  The apps a master forwards crashes for: a crash whose WebAppGUID is registered goes to the
  app's private receiver. --trust-dumps also forwards minidumps and other files; --no-keep-copy
  deletes the master's copy once forwarded. --submit-url is needed for a new app; adding an app
  already registered updates it and keeps the settings not given again (its submit URL too):
  --no-trust-dumps and --keep-copy undo the two above.
  Works whether or not the server runs.`;

/** `socorrito apps add|list|remove`: edits `<data-dir>/forward-apps.json`, which a running server re-reads. */
export async function appsCommand(argv: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseCommandArgs(
    'apps',
    rest,
    {
      'data-dir': { type: 'string' },
      guid: { type: 'string' },
      'submit-url': { type: 'string' },
      'trust-dumps': { type: 'boolean' },
      'no-trust-dumps': { type: 'boolean' },
      'no-keep-copy': { type: 'boolean' },
      'keep-copy': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (positionals.length) throw new UsageError(`apps: unexpected ${JSON.stringify(positionals[0])}. Run 'socorrito help' for usage.`);
  const dataDir = dataDirSetting('apps', values['data-dir'], io.env);
  const layout = new FsCrashStorage(dataDir);
  const registry = new AppRegistry(dataDir, layout.tmpDir);
  if (action === 'add' || action === 'remove') await refuseNewerDataDir(`apps ${action}`, dataDir);

  try {
    switch (action) {
      case 'add': {
        // The GUID rule (shared with the extension and the collector) is checked by the registry,
        // with the URL, so both problems are reported together.
        if (!values.guid) throw new UsageError('apps add: --guid is required');
        // An app already registered keeps its submit URL when none is given.
        const submitUrl = values['submit-url'] ?? (await registry.lookup(values.guid).catch(() => null))?.submit_url;
        if (!submitUrl) throw new UsageError('apps add: --submit-url is required for a new app, e.g. https://crashes.example.com/submit');
        const flag = (yes?: boolean, no?: boolean): boolean | undefined => (yes ? true : no ? false : undefined);
        // A mistyped --data-dir would make a new folder no receiver reads: say when one was made.
        const newDataDir = !existsSync(dataDir);
        const trustFiles = flag(values['trust-dumps'], values['no-trust-dumps']);
        const keepCopy = flag(values['keep-copy'], values['no-keep-copy']);
        try {
          const { app, created } = await registry.upsert({
            guid: values.guid,
            submitUrl,
            trustFiles,
            keepCopy,
          });
          // An update keeps what it was not told: say so, or an old --no-keep-copy goes unnoticed.
          const kept = [
            !created && values['submit-url'] === undefined && 'submit URL',
            !created && trustFiles === undefined &&
              (app.trust_files ? 'files forwarded (--no-trust-dumps withholds them)' : 'files withheld (--trust-dumps forwards them)'),
            !created && keepCopy === undefined &&
              (app.keep_copy ? 'master copy kept (--no-keep-copy deletes it once forwarded)' : 'master copy deleted after forwarding (--keep-copy keeps it)'),
          ].filter(Boolean);
          io.out(`${created ? 'added' : 'updated'} ${describe(app)}${kept.length ? `; kept from before: ${kept.join(', ')}` : ''}`);
          if (newDataDir) {
            io.out(`made ${dataDir}, which did not exist: a receiver reads ${REGISTRY_FILE} from its own --data-dir, so check it is this one`);
          }
          return 0;
        } catch (err) {
          if (err instanceof InvalidApp) throw new UsageError(`apps add: ${err.problems.join('; ')}`);
          throw err;
        }
      }
      case 'list': {
        requireDataDir('apps list', dataDir);
        const apps = await registry.list();
        if (values.json) io.out(JSON.stringify({ apps }, null, 2));
        else if (!apps.length) io.out(`no apps registered in ${dataDir}/${REGISTRY_FILE}`);
        else for (const app of apps) io.out(describe(app));
        return 0;
      }
      case 'remove': {
        if (!values.guid) throw new UsageError('apps remove: --guid is required');
        requireDataDir('apps remove', dataDir);
        if (await registry.remove(values.guid)) {
          io.out(`removed ${values.guid}`);
          return 0;
        }
        io.err(`socorrito apps remove: no app ${JSON.stringify(values.guid)} in ${dataDir}/${REGISTRY_FILE}`);
        return 1;
      }
      default:
        throw new UsageError(`apps: expected add, list or remove${action ? `, got ${JSON.stringify(action)}` : ''}\n\n${APPS_HELP}`);
    }
  } catch (err) {
    // A hand edit broke the file: say which and what to do, not a stack trace.
    if (!(err instanceof RegistryUnreadable)) throw err;
    io.err(`socorrito apps ${action}: ${err.message}`);
    return 1;
  }
}

function describe(app: { guid: string; submit_url: string; trust_files: boolean; keep_copy: boolean }): string {
  return `${app.guid} -> ${app.submit_url} (files: ${app.trust_files ? 'forwarded' : 'withheld'}; master copy: ${app.keep_copy ? 'kept' : 'deleted after forwarding'})`;
}
