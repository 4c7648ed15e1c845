/**
 * Firefox sends `Origin: moz-extension://<uuid>` with the extension's requests, and that UUID is
 * random per installation: every receiver (and every master it forwards to) could link the
 * reports of one person across apps by it, and so could every site whose web app manifest it
 * reads. A session rule of declarativeNetRequest removes the header from the extension's own
 * requests (submissions, manifest reads) before they leave, and `Accept-Language` with it: the
 * person's list of languages (`eu-ES,fr-BE;q=0.7`) links their reports as well, and no receiver
 * needs it. Nothing else is touched.
 */
import type { DeclarativeNetRequest } from 'webextension-polyfill';

export const HIDE_ORIGIN_RULE_ID = 1;

export interface SessionRulesApi {
  updateSessionRules(options: DeclarativeNetRequest.UpdateSessionRulesOptionsType): Promise<void>;
}

/** The rule: requests this extension initiates (report POSTs, web app manifest GETs, a local receiver's OPTIONS check) lose their Origin and Accept-Language headers. */
export function hideOriginRule(extensionHost: string): DeclarativeNetRequest.Rule {
  return {
    id: HIDE_ORIGIN_RULE_ID,
    priority: 1,
    action: {
      type: 'modifyHeaders',
      requestHeaders: [
        { header: 'origin', operation: 'remove' },
        { header: 'accept-language', operation: 'remove' },
      ],
    },
    condition: { initiatorDomains: [extensionHost], resourceTypes: ['xmlhttprequest'], requestMethods: ['post', 'get', 'options'] },
  };
}

/**
 * Installs the rule; says whether it is in place (a browser without the API needs none: only
 * Firefox names the installation in Origin, and it has the API).
 */
export async function hideExtensionOrigin(api: SessionRulesApi | undefined, extensionHost: string): Promise<boolean> {
  try {
    await api?.updateSessionRules({ removeRuleIds: [HIDE_ORIGIN_RULE_ID], addRules: [hideOriginRule(extensionHost)] });
    return true;
  } catch (err) {
    console.warn('socorrito: could not remove the Origin header from reports; none is sent:', err);
    return false;
  }
}
